"""Bad input gets one clear paragraph, exit 1, and no AWS call at all."""

from __future__ import annotations

import pytest

from orchestrator.model import Plan
from resources.ec2 import Subnet, Vpc
from tests.fakes import Thing, install_plan
from tests.helpers import count_calls, infra, one_line


def cyclic(env):
    p = Plan("genai-demo", env)
    s = p.stack("main")
    a = Thing("alpha")
    b = Thing("beta", Name=a["Id"])
    a.depends_on.append(b)
    s.add(a, b)
    return p


def dangling(env):
    p = Plan("genai-demo", env)
    ghost = Thing("ghost")
    p.stack("main").add(Thing("user", Parent=ghost["Arn"]))
    return p


def unknown_prop(env):
    p = Plan("genai-demo", env)
    p.stack("main").add(Vpc("vpc", CidrBlock="10.0.0.0/16", Colour="blue"))
    return p


def bad_cidr(env):
    p = Plan("genai-demo", env)
    vpc = p.stack("main").add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    p.stack("main").add(Subnet("subnet_a", VpcId=vpc["VpcId"], CidrBlock="10.0.300.0/24",
                               AvailabilityZone="ap-east-2a"))
    return p


def broken_module(env):
    raise KeyError("tiers")


CASES = {
    "cyclic": (cyclic, r"dependency cycle: main\.(alpha|beta) -> main\.(alpha|beta) -> main\.(alpha|beta)"),
    "dangling": (dangling, "main.user refers to test.Thing 'ghost', which is not added to any stack"),
    "unknown_prop": (unknown_prop, "ec2.Vpc 'vpc': unknown property Colour"),
    "bad_cidr": (bad_cidr, r"subnet_a'?: property CidrBlock='10.0.300.0/24' is not a valid CIDR"),
    "broken_module": (broken_module, "failed to build for env 'dev': KeyError"),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_bad_plan_is_refused_before_any_call(aws, name, command):
    build, pattern = CASES[name]
    plan = install_plan(f"bad_{name}", build)
    args = [command, "--plan", plan, "--env", "dev"] + (["--auto-approve"] if command == "apply" else [])
    with count_calls() as log:
        out = infra(*args, ok=False)
    assert out.exit_code == 1, out.output
    import re

    assert re.search(pattern, one_line(out.output)), out.output
    assert out.output.startswith("Error: ")
    assert log.calls == []


def test_unknown_env_and_stack(aws):
    with count_calls() as log:
        out = infra("plan", "--env", "staging", ok=False)
        assert out.exit_code == 1 and "unknown env 'staging'" in out.output
        out = infra("plan", "--env", "dev", "--stack", "nope", ok=False)
        assert out.exit_code == 1 and "unknown stack nope" in out.output
    assert log.calls == []


def test_missing_credentials_and_unreachable_endpoint(aws, monkeypatch):
    plan = install_plan("ok_small", lambda env: _small(env))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    out = infra("plan", "--plan", plan, "--env", "dev", ok=False)
    assert out.exit_code == 1 and "no AWS credentials found" in out.output
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    out = infra("plan", "--plan", plan, "--env", "dev", "--endpoint-url", "http://127.0.0.1:9", ok=False)
    assert out.exit_code == 1 and "http://127.0.0.1:9 is unreachable" in out.output


def _small(env):
    p = Plan("genai-demo", env)
    p.stack("main").add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    return p


def test_an_unreachable_endpoint_is_reported_after_a_few_tries_not_25(monkeypatch):
    """The run's first call finds out whether the endpoint answers; it must not back off 25 times."""
    from core.errors import AwsError
    from orchestrator.aws import PROBE_RETRIES, Clients

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    clients = Clients(endpoint_url="http://127.0.0.1:9")
    sends: list[str] = []
    clients.add_hook("before-send.sts", lambda **kw: sends.append("sts"))
    with pytest.raises(AwsError, match="http://127.0.0.1:9 is unreachable"):
        clients.check()
    assert len(sends) == PROBE_RETRIES + 1
