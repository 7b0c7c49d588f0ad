"""The sandbox server: up/down/status/reset/endpoint, and every extension through it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from test_sandbox_analytics import check_analytics
from test_sandbox_eks import check_eks
from test_sandbox_elasticache import check_elasticache, check_elasticache_scaling
from test_sandbox_firehose_msk import check_firehose_msk
from test_sandbox_kafka import check_kafka
from test_sandbox_misc import check_misc
from test_sandbox_xray import check_xray

from core.errors import InfraError
from sandbox import server, settings


def factory(endpoint: str) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name=settings.REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            aws_session_token="testing")
    return client


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.Status]:
    """One server for the module (start-up is seconds), lifecycle off so checks need not wait."""
    old = os.environ.get("INFRA_SANDBOX_DIR")
    os.environ["INFRA_SANDBOX_DIR"] = str(tmp_path_factory.mktemp("sandbox"))
    try:
        # The checks read each change's result at once: async-modify's timing is tested in test_strict_modify.py.
        os.environ["INFRA_SANDBOX_RULES_OFF"] = "async-modify"
        try:
            st = server.up(lifecycle=False)
        finally:
            os.environ.pop("INFRA_SANDBOX_RULES_OFF", None)
        yield st
        server.down()
    finally:
        if old is None:
            os.environ.pop("INFRA_SANDBOX_DIR", None)
        else:
            os.environ["INFRA_SANDBOX_DIR"] = old


@pytest.mark.parametrize("check", [check_kafka, check_elasticache, check_elasticache_scaling, check_eks, check_xray,
                                   check_analytics, check_misc, check_firehose_msk], ids=lambda f: f.__name__)
def test_extension_through_server(sandbox: server.Status, check: Callable[[Callable[[str], Any]], None]) -> None:
    server.reset()  # no test depends on another's AWS state
    check(factory(sandbox.endpoint_url))


def test_up_twice_call_down_nothing_listens(tmp_path, monkeypatch):
    monkeypatch.setenv("INFRA_SANDBOX_DIR", str(tmp_path))
    assert server.status() is None
    with pytest.raises(InfraError, match="the sandbox is not running: start it with `infra sandbox up`"):
        server.endpoint()
    st = server.up()
    try:
        assert st.endpoint_url == f"http://127.0.0.1:{st.port}" and server.endpoint() == st.endpoint_url
        assert server.up() == st  # no second server
        assert server.status() == st and (tmp_path / "server.json").exists()
        # lifecycle simulation is on by default in the server: a waiter really waits
        eks = factory(st.endpoint_url)("eks")
        created = eks.create_cluster(name="c", roleArn="arn:aws:iam::123456789012:role/eks",
                                     resourcesVpcConfig={"subnetIds": ["a"]})["cluster"]
        assert created["status"] == "CREATING"
        eks.get_waiter("cluster_active").wait(name="c", WaiterConfig={"Delay": 0.02, "MaxAttempts": 200})
        server.reset()
        assert eks.list_clusters()["clusters"] == []
    finally:
        assert server.down() is True
    assert not server._listening(st.port)
    assert server.status() is None and not (tmp_path / "server.json").exists()
    assert server.down() is False
    assert not server._alive(st.pid)  # gone, not only deaf: it exits at once after its shutdown
    # No line per request by default (werkzeug's access log): the warm start alone made dozens of requests.
    log = (tmp_path / "server.log").read_text()
    assert "sandbox listening on" in log and "HTTP/1.1\" 200" not in log, log[-2000:]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_request_log_is_opt_in(tmp_path, monkeypatch, how):
    """`infra sandbox up --log-requests` (server.up's log_requests) or INFRA_SANDBOX_LOG_REQUESTS=1."""
    monkeypatch.setenv("INFRA_SANDBOX_DIR", str(tmp_path))
    if how == "env":
        monkeypatch.setenv("INFRA_SANDBOX_LOG_REQUESTS", "1")
    st = server.up(lifecycle=False, warm=False, log_requests=how == "flag")
    try:
        factory(st.endpoint_url)("sts").get_caller_identity()
    finally:
        server.down()
    assert '"POST / HTTP/1.1" 200' in (tmp_path / "server.log").read_text()


def test_stale_state_file_is_not_running(tmp_path, monkeypatch):
    monkeypatch.setenv("INFRA_SANDBOX_DIR", str(tmp_path))
    (tmp_path / "server.json").write_text('{"pid": 999999999, "port": 1, "endpoint_url": "http://127.0.0.1:1"}')
    assert server.status() is None
    with pytest.raises(InfraError):
        server.endpoint()
