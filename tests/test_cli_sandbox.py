"""`infra sandbox up|status|down` and `--sandbox` as a person uses them."""

from __future__ import annotations

import json
import socket

import boto3
import pytest

from sandbox import settings
from tests.fakes import install_plan
from tests.helpers import infra

pytestmark = pytest.mark.slow


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_sandbox_cli_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("INFRA_SANDBOX_DIR", str(tmp_path))
    for k, v in settings.ENV.items():  # --sandbox sets these; keep them scoped to this test
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    out = infra("plan", "--sandbox", "--env", "dev", ok=False)
    assert out.exit_code == 1 and "the sandbox is not running: start it with `infra sandbox up`" in out.output
    assert infra("sandbox", "status", ok=False).exit_code == 1

    infra("sandbox", "up")
    try:
        st = json.loads(infra("sandbox", "status", "--json").stdout)
        assert st["running"] and st["endpoint_url"] == f"http://127.0.0.1:{st['port']}"
        again = infra("sandbox", "up").stdout
        assert f"pid {st['pid']}" in again  # up twice: the same server
        ec2 = boto3.client("ec2", endpoint_url=st["endpoint_url"], region_name=settings.REGION)
        assert ec2.describe_availability_zones()["AvailabilityZones"]

        from orchestrator.model import Plan
        from resources.ec2 import Vpc

        def tiny(env):
            p = Plan("genai-demo", env)
            p.stack("main").add(Vpc("vpc", CidrBlock="10.9.0.0/16"))
            return p

        plan = install_plan("sandbox_tiny", tiny)
        infra("apply", "--sandbox", "--plan", plan, "--env", "dev", "--auto-approve")
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:infra:address", "Values": ["main.vpc"]}])["Vpcs"]
        assert [v["CidrBlock"] for v in vpcs] == ["10.9.0.0/16"]
        infra("destroy", "--sandbox", "--plan", plan, "--env", "dev", "--auto-approve")
        assert ec2.describe_vpcs(Filters=[{"Name": "tag:infra:address", "Values": ["main.vpc"]}])["Vpcs"] == []
    finally:
        infra("sandbox", "down")
    assert not _listening(st["port"])
    assert "not running" in infra("sandbox", "down").stdout
