"""Round trips of events.Rule and events.Target on moto."""

import json

import pytest

from core.errors import PlanError
from resources.events import Rule, Target

ALARMS = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
          "detail": {"state": {"value": ["ALARM"]}}}


def _rule(aws, name="alarm_changes", **props):
    props = props or {"EventPattern": ALARMS}
    r = Rule(name, **props)
    r.stack = "observability"
    pid, out = r.create(aws.ctx(name, stack="observability"), dict(r.properties))
    return pid, out


def test_schedule_rule_round_trip(aws):
    r = Rule("metrics_schedule", ScheduleExpression="rate(5 minutes)", Description="custom metrics")
    r.stack = "observability"
    ctx = aws.ctx("metrics_schedule", stack="observability")
    pid, out = r.create(ctx, dict(r.properties))
    assert pid == "genai-demo-test-metrics-schedule" and out["Arn"].endswith(":rule/" + pid)

    ev = aws.client("events")
    seen = ev.describe_rule(Name=pid)
    assert seen["ScheduleExpression"] == "rate(5 minutes)" and seen["State"] == "ENABLED"
    tags = {t["Key"]: t["Value"] for t in ev.list_tags_for_resource(ResourceARN=out["Arn"])["Tags"]}
    assert tags["infra:address"] == "observability.metrics_schedule"

    assert r.read(ctx, pid) == {"Name": pid, "State": "ENABLED", "EventBusName": "default",
                                "ScheduleExpression": "rate(5 minutes)", "Description": "custom metrics"}
    r.update(ctx, pid, dict(r.properties), dict(r.properties, ScheduleExpression="rate(1 minute)",
                                                 State="DISABLED"))
    seen = ev.describe_rule(Name=pid)
    assert seen["ScheduleExpression"] == "rate(1 minute)" and seen["State"] == "DISABLED"

    assert r.find(ctx)[0] == pid
    r.delete(ctx, pid)
    r.delete(ctx, pid)
    assert pid not in [x["Name"] for x in ev.list_rules()["Rules"]]
    assert r.read(ctx, pid) is None and r.find(ctx) is None


def test_pattern_rule_on_custom_bus_and_delete_with_leftover_targets(aws):
    ev = aws.client("events")
    ev.create_event_bus(Name="genai-demo-test")
    r = Rule("alarm_changes", EventPattern=ALARMS, EventBusName="genai-demo-test")
    r.stack = "observability"
    ctx = aws.ctx("alarm_changes", stack="observability")
    pid, out = r.create(ctx, dict(r.properties))
    assert pid == "genai-demo-test|genai-demo-test-alarm-changes" and out["EventBusName"] == "genai-demo-test"
    seen = ev.describe_rule(Name="genai-demo-test-alarm-changes", EventBusName="genai-demo-test")
    assert json.loads(seen["EventPattern"]) == ALARMS
    assert r.read(ctx, pid)["EventPattern"] == ALARMS
    assert r.find(ctx)[0] == pid

    ev.put_targets(Rule="genai-demo-test-alarm-changes", EventBusName="genai-demo-test",
                   Targets=[{"Id": "stray", "Arn": "arn:aws:sns:ap-east-2:123456789012:stray"}])
    r.delete(ctx, pid)  # AWS refuses to delete a rule with targets: the type removes them first
    assert ev.list_rules(EventBusName="genai-demo-test")["Rules"] == []
    assert r.read(ctx, pid) is None


def test_rule_rejects_bad_input():
    with pytest.raises(PlanError, match="ScheduleExpression or an EventPattern"):
        Rule("r")
    with pytest.raises(PlanError, match="rate"):
        Rule("r", ScheduleExpression="every 5 minutes")
    with pytest.raises(PlanError, match="default event bus"):
        Rule("r", ScheduleExpression="rate(5 minutes)", EventBusName="custom")
    with pytest.raises(PlanError, match="must be dict"):
        Rule("r", EventPattern=json.dumps(ALARMS))


def test_target_round_trip(aws):
    rule, _ = _rule(aws)
    sns = aws.client("sns")
    critical = sns.create_topic(Name="critical")["TopicArn"]
    warning = sns.create_topic(Name="warning")["TopicArn"]
    t = Target("to_sns", Rule=rule, Id="critical-topic", Arn=critical,
               InputTransformer={"InputPathsMap": {"alarm": "$.detail.alarmName"},
                                 "InputTemplate": '"Alarm <alarm> is firing"'})
    t.stack = "observability"
    ctx = aws.ctx("to_sns", stack="observability")
    pid, out = t.create(ctx, dict(t.properties))
    assert pid == f"{rule}|critical-topic" and out == {"Rule": rule, "Id": "critical-topic"}

    ev = aws.client("events")
    seen = ev.list_targets_by_rule(Rule=rule)["Targets"]
    assert [(x["Id"], x["Arn"]) for x in seen] == [("critical-topic", critical)]
    assert seen[0]["InputTransformer"]["InputPathsMap"] == {"alarm": "$.detail.alarmName"}
    assert t.read(ctx, pid)["Arn"] == critical

    new = dict(t.properties, Arn=warning, InputTransformer=None, Input={"severity": "warning"})
    t.update(ctx, pid, dict(t.properties), new)
    seen = ev.list_targets_by_rule(Rule=rule)["Targets"]
    assert [(x["Id"], x["Arn"], json.loads(x["Input"])) for x in seen] == \
        [("critical-topic", warning, {"severity": "warning"})]
    got = t.read(ctx, pid)
    assert got["Input"] == {"severity": "warning"}

    assert t.find(ctx)[0] == pid
    t.delete(ctx, pid)
    t.delete(ctx, pid)
    assert ev.list_targets_by_rule(Rule=rule)["Targets"] == []
    assert t.read(ctx, pid) is None and t.find(ctx) is None
    ev.delete_rule(Name=rule)
    assert t.read(ctx, pid) is None  # the rule went too
    t.delete(ctx, pid)


def test_target_rejects_bad_input():
    with pytest.raises(PlanError, match="exclude each other"):
        Target("t", Rule="r", Id="x", Arn="arn:aws:sns:x", Input="{}", InputPath="$.detail")
    with pytest.raises(PlanError, match="missing required property Arn"):
        Target("t", Rule="r", Id="x")
