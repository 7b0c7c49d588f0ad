"""Round trips of xray.Group and xray.SamplingRule on moto plus the sandbox's X-Ray extension
(moto 5.2.5 has neither groups nor sampling rules)."""

import pytest

from core.errors import PlanError
from resources.xray import Group, SamplingRule


def _tags(aws, arn):
    return {t["Key"]: t["Value"] for t in aws.client("xray").list_tags_for_resource(ResourceARN=arn)["Tags"]}


def test_group_round_trip(aws):
    g = Group("traces", FilterExpression='service("genai-demo-backend")')
    g.stack = "observability"
    ctx = aws.ctx("traces", stack="observability")
    name, out = g.create(ctx, dict(g.properties))
    assert name == "genai-demo-test-traces" and out["GroupARN"].startswith("arn:aws:xray:")

    xray = aws.client("xray")
    seen = xray.get_group(GroupName=name)["Group"]
    assert seen["FilterExpression"] == 'service("genai-demo-backend")'
    assert seen["InsightsConfiguration"]["InsightsEnabled"] is False
    assert _tags(aws, out["GroupARN"])["infra:address"] == "observability.traces"

    assert g.read(ctx, name) == {"GroupName": name, "FilterExpression": 'service("genai-demo-backend")',
                                 "InsightsConfiguration": {"InsightsEnabled": False, "NotificationsEnabled": False}}
    new = dict(g.properties, FilterExpression='service("genai-demo-backend") AND responsetime > 2',
               InsightsConfiguration={"InsightsEnabled": True, "NotificationsEnabled": True})
    g.update(ctx, name, dict(g.properties), new)
    seen = xray.get_group(GroupName=name)["Group"]
    assert seen["FilterExpression"].endswith("responsetime > 2")
    assert seen["InsightsConfiguration"] == {"InsightsEnabled": True, "NotificationsEnabled": True}

    assert g.find(ctx)[0] == name
    g.delete(ctx, name)
    g.delete(ctx, name)
    assert name not in [x["GroupName"] for x in xray.get_groups()["Groups"]]
    assert g.read(ctx, name) is None and g.find(ctx) is None


def test_group_long_env_name_is_shortened_deterministically(aws):
    g = Group("application_traces", FilterExpression='service("x")')
    g.stack = "observability"
    ctx = aws.ctx("application_traces", stack="observability", env="production")
    name, _ = g.create(ctx, dict(g.properties))
    assert len(name) <= 32 and name == ctx.physical_name(max_len=32)
    assert g.find(ctx)[0] == name


def test_group_rejects_bad_input():
    with pytest.raises(PlanError, match="missing required property FilterExpression"):
        Group("g")
    with pytest.raises(PlanError, match="notifications need"):
        Group("g", FilterExpression="x", InsightsConfiguration={"NotificationsEnabled": True})
    with pytest.raises(PlanError, match="1 to 32"):
        Group("g", GroupName="x" * 33, FilterExpression="x")


def test_sampling_rule_round_trip(aws):
    r = SamplingRule("orders", RuleName="genai-demo-test-orders", Priority=100, FixedRate=0.5, ReservoirSize=2,
                     ServiceName="genai-demo-backend", URLPath="/api/orders*")
    r.stack = "observability"
    ctx = aws.ctx("orders", stack="observability")
    name, out = r.create(ctx, dict(r.properties))
    assert name == "genai-demo-test-orders" and out["RuleARN"].endswith("sampling-rule/genai-demo-test-orders")

    xray = aws.client("xray")
    recs = {x["SamplingRule"]["RuleName"]: x["SamplingRule"] for x in xray.get_sampling_rules()["SamplingRuleRecords"]}
    seen = recs[name]
    assert (seen["Priority"], seen["FixedRate"], seen["URLPath"], seen["HTTPMethod"]) == \
        (100, 0.5, "/api/orders*", "*")
    assert _tags(aws, out["RuleARN"])["infra:address"] == "observability.orders"

    got = r.read(ctx, name)
    assert {k: got[k] for k in ("Priority", "FixedRate", "ReservoirSize", "ServiceName", "Version")} == \
        {"Priority": 100, "FixedRate": 0.5, "ReservoirSize": 2, "ServiceName": "genai-demo-backend", "Version": 1}

    r.update(ctx, name, dict(r.properties), dict(r.properties, FixedRate=1, HTTPMethod="POST"))
    recs = {x["SamplingRule"]["RuleName"]: x["SamplingRule"] for x in xray.get_sampling_rules()["SamplingRuleRecords"]}
    assert (recs[name]["FixedRate"], recs[name]["HTTPMethod"]) == (1.0, "POST")

    assert r.find(ctx)[0] == name
    r.delete(ctx, name)
    r.delete(ctx, name)
    assert name not in [x["SamplingRule"]["RuleName"] for x in xray.get_sampling_rules()["SamplingRuleRecords"]]
    assert r.read(ctx, name) is None and r.find(ctx) is None


def test_sampling_rule_rejects_bad_input():
    with pytest.raises(PlanError, match="FixedRate"):
        SamplingRule("s", Priority=1, FixedRate=1.5, ReservoirSize=1)
    with pytest.raises(PlanError, match="Priority"):
        SamplingRule("s", Priority=10000, FixedRate=0.1, ReservoirSize=1)
    with pytest.raises(PlanError, match="Version"):
        SamplingRule("s", Priority=1, FixedRate=0.1, ReservoirSize=1, Version=2)
    with pytest.raises(PlanError, match="missing required property ReservoirSize"):
        SamplingRule("s", Priority=1, FixedRate=0.1)
