"""The GenAI Demo passes its own policy check: production and dev exit 0, every accepted finding is listed
with its reason, production carries none of dev's resilience waivers, and the app security group's open
egress (another change's to fix) is waived nowhere. No AWS call."""

from __future__ import annotations

import json

import pytest

from tests.helpers import infra


def check(env: str) -> dict:
    out = infra("check", "--env", env, "--json")  # asserts exit 0
    return json.loads(out.output)


@pytest.mark.parametrize("env", ["production", "dev"])
def test_genai_demo_passes_the_policy_gate(env):
    data = check(env)
    assert data["ok"] is True
    high = [f for f in data["findings"] if f["severity"] in ("high", "critical") and not f["waived"]]
    assert high == []
    waived = [f for f in data["findings"] if f["waived"]]
    assert all(len(f["waived"]) > 20 for f in waived)  # a reason, not a token
    assert not [f for f in data["findings"] if f["rule"] == "ec2.sg-no-open-egress" and f["waived"]]
    table = infra("check", "--env", env).output
    assert all(f"waived: {f['waived']}" in table for f in waived)


def test_production_carries_no_dev_waiver():
    prod = {f["rule"] for f in check("production")["findings"] if f["waived"]}
    dev = {f["rule"] for f in check("dev")["findings"] if f["waived"]}
    dev_only = {"rds.deletion-protection", "rds.backups", "rds.multi-az", "rds.performance-insights",
                "elasticache.failover", "opensearch.data-nodes", "opensearch.dedicated-masters",
                "elbv2.deletion-protection", "wafv2.known-bad-inputs-enforced", "logs.retention"}
    assert dev_only <= dev and not prod & dev_only
