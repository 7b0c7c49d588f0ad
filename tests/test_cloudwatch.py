"""Round trips of cloudwatch.MetricAlarm and cloudwatch.Dashboard on moto."""

import json

import pytest

from core.errors import PlanError
from resources.cloudwatch import Dashboard, MetricAlarm


def _topic(aws, name):
    return aws.client("sns").create_topic(Name=name)["TopicArn"]


def _alarm(**kw):
    props = dict(MetricName="HTTPCode_Target_5XX_Count", Namespace="AWS/ApplicationELB", Statistic="Sum",
                 Dimensions=[{"Name": "LoadBalancer", "Value": "app/genai-demo-test-alb/123"}], Period=60,
                 EvaluationPeriods=3, Threshold=10, ComparisonOperator="GreaterThanThreshold",
                 TreatMissingData="notBreaching")
    props.update(kw)
    a = MetricAlarm("alb_5xx", **props)
    a.stack = "observability"
    return a


def test_metric_alarm_round_trip(aws):
    critical, warning = _topic(aws, "critical"), _topic(aws, "warning")
    a = _alarm(AlarmActions=[critical], OKActions=[critical])
    ctx = aws.ctx("alb_5xx", stack="observability")
    pid, out = a.create(ctx, dict(a.properties))
    assert pid == "genai-demo-test-alb-5xx" and out["Arn"].endswith(":alarm:genai-demo-test-alb-5xx")

    cw = aws.client("cloudwatch")
    seen = cw.describe_alarms(AlarmNames=[pid])["MetricAlarms"][0]
    assert seen["AlarmActions"] == [critical] and seen["Threshold"] == 10.0 and seen["Period"] == 60
    assert seen["Dimensions"] == [{"Name": "LoadBalancer", "Value": "app/genai-demo-test-alb/123"}]
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=out["Arn"])["Tags"]}
    assert tags["infra:address"] == "observability.alb_5xx" and tags["infra:stack"] == "observability"

    got = a.read(ctx, pid)
    assert got["Threshold"] == 10 and got["AlarmActions"] == [critical] and got["AlarmName"] == pid
    assert "InsufficientDataActions" not in got

    new = dict(a.properties, Threshold=25, AlarmActions=[critical, warning])
    a.update(ctx, pid, dict(a.properties), new)
    seen = cw.describe_alarms(AlarmNames=[pid])["MetricAlarms"][0]
    assert seen["Threshold"] == 25.0 and seen["AlarmActions"] == [critical, warning]
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=out["Arn"])["Tags"]}
    assert tags["infra:address"] == "observability.alb_5xx"

    assert a.find(ctx)[0] == pid
    a.delete(ctx, pid)
    a.delete(ctx, pid)
    assert cw.describe_alarms(AlarmNames=[pid])["MetricAlarms"] == []
    assert a.read(ctx, pid) is None and a.find(ctx) is None


def test_metric_alarm_explicit_name_and_metric_math(aws):
    a = MetricAlarm("err_rate", AlarmName="genai-demo-test-high-error-rate", EvaluationPeriods=2,
                    ComparisonOperator="GreaterThanThreshold", Threshold=5, Metrics=[
                        {"Id": "e", "Expression": "100 * errors / requests", "ReturnData": True},
                        {"Id": "errors", "ReturnData": False, "MetricStat": {
                            "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count"},
                            "Period": 60, "Stat": "Sum"}},
                        {"Id": "requests", "ReturnData": False, "MetricStat": {
                            "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount"},
                            "Period": 60, "Stat": "Sum"}}])
    a.stack = "observability"
    ctx = aws.ctx("err_rate", stack="observability")
    pid, _ = a.create(ctx, dict(a.properties))
    assert pid == "genai-demo-test-high-error-rate"
    seen = aws.client("cloudwatch").describe_alarms(AlarmNames=[pid])["MetricAlarms"][0]
    assert [m["Id"] for m in seen["Metrics"]] == ["e", "errors", "requests"]
    assert a.find(ctx)[0] == pid


def test_metric_alarm_rejects_bad_input():
    with pytest.raises(PlanError, match="ComparisonOperator"):
        _alarm(ComparisonOperator="Bigger")
    with pytest.raises(PlanError, match="exactly one of Statistic"):
        _alarm(ExtendedStatistic="p99")
    with pytest.raises(PlanError, match="needs MetricName"):
        MetricAlarm("x", EvaluationPeriods=1, ComparisonOperator="GreaterThanThreshold", Threshold=1,
                    Namespace="N", Period=60, Statistic="Sum")
    with pytest.raises(PlanError, match="Period"):
        _alarm(Period=90)
    with pytest.raises(PlanError, match="must be list"):
        _alarm(AlarmActions="arn:aws:sns:x")
    with pytest.raises(PlanError, match="unknown property"):
        _alarm(Actions=[])


BODY = {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 2,
                     "properties": {"markdown": "# GenAI Demo"}}]}


def test_dashboard_round_trip(aws):
    d = Dashboard("overview", DashboardBody=BODY)
    d.stack = "observability"
    ctx = aws.ctx("overview", stack="observability")
    pid, out = d.create(ctx, dict(d.properties))
    assert pid == "genai-demo-test-overview" and out["DashboardArn"].endswith("dashboard/genai-demo-test-overview")

    cw = aws.client("cloudwatch")
    assert json.loads(cw.get_dashboard(DashboardName=pid)["DashboardBody"]) == BODY
    assert d.read(ctx, pid) == {"DashboardName": pid, "DashboardBody": BODY}

    body2 = {"widgets": BODY["widgets"] + [{"type": "metric", "x": 0, "y": 2, "width": 12, "height": 6,
                                            "properties": {"metrics": [["AWS/EKS", "node_cpu_utilization"]],
                                                           "region": aws.region, "stat": "Average"}}]}
    d.update(ctx, pid, dict(d.properties), dict(d.properties, DashboardBody=body2))
    assert json.loads(cw.get_dashboard(DashboardName=pid)["DashboardBody"]) == body2

    assert d.find(ctx)[0] == pid
    d.delete(ctx, pid)
    d.delete(ctx, pid)
    assert [e["DashboardName"] for e in cw.list_dashboards()["DashboardEntries"]] == []
    assert d.read(ctx, pid) is None and d.find(ctx) is None


def test_dashboard_rejects_bad_input():
    with pytest.raises(PlanError, match="must be dict"):
        Dashboard("d", DashboardBody=json.dumps(BODY))
    with pytest.raises(PlanError, match="characters AWS rejects"):
        Dashboard("d", DashboardName="has space", DashboardBody=BODY)
