"""Round trip of ec2.FlowLog on moto: VPC flow logs into a CloudWatch log group."""

import pytest

from core.errors import PlanError
from resources.ec2 import FlowLog


def _vpc_and_group(aws):
    vpc_id = aws.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    aws.client("logs").create_log_group(logGroupName="/aws/vpc/flow-logs/test")
    role = f"arn:aws:iam::{aws.clients.account_id}:role/genai-demo-test-flow-logs"
    return vpc_id, role


def test_flow_log_round_trip(aws):
    vpc_id, role = _vpc_and_group(aws)
    fl = FlowLog("vpc_flow_log", ResourceId=vpc_id, LogGroupName="/aws/vpc/flow-logs/test",
                 DeliverLogsPermissionArn=role, MaxAggregationInterval=60)
    fl.stack = "observability"
    ctx = aws.ctx("vpc_flow_log", stack="observability", token="tok-1")
    fl_id, out = fl.create(ctx, dict(fl.properties))
    assert out == {"FlowLogId": fl_id}

    ec2 = aws.client("ec2")
    seen = ec2.describe_flow_logs(FlowLogIds=[fl_id])["FlowLogs"][0]
    assert seen["ResourceId"] == vpc_id and seen["TrafficType"] == "ALL"
    assert seen["LogGroupName"] == "/aws/vpc/flow-logs/test" and seen["DeliverLogsPermissionArn"] == role
    assert seen["MaxAggregationInterval"] == 60 and seen["LogDestinationType"] == "cloud-watch-logs"
    tags = {t["Key"]: t["Value"] for t in seen["Tags"]}
    assert tags["infra:address"] == "observability.vpc_flow_log"

    assert fl.read(ctx, fl_id) == fl.properties

    # Nothing of a flow log changes in place but its tags.
    ctx2 = aws.ctx("vpc_flow_log", stack="observability", plan_tags={"Team": "sre"})
    fl.update(ctx2, fl_id, dict(fl.properties), dict(fl.properties))
    tags = {t["Key"]: t["Value"] for t in ec2.describe_flow_logs(FlowLogIds=[fl_id])["FlowLogs"][0]["Tags"]}
    assert tags["Team"] == "sre"

    assert fl.find(ctx)[0] == fl_id
    fl.delete(ctx, fl_id)
    fl.delete(ctx, fl_id)  # idempotent
    assert ec2.describe_flow_logs(FlowLogIds=[fl_id])["FlowLogs"] == []
    assert fl.read(ctx, fl_id) is None
    assert fl.find(ctx) is None


def test_flow_log_bad_inputs():
    with pytest.raises(PlanError, match="DeliverLogsPermissionArn"):
        FlowLog("f", ResourceId="vpc-1", LogGroupName="/g")
    with pytest.raises(PlanError, match="LogDestination"):
        FlowLog("f", ResourceId="vpc-1", LogDestinationType="s3")
    with pytest.raises(PlanError, match="TrafficType"):
        FlowLog("f", ResourceId="vpc-1", TrafficType="SOME", LogDestinationType="s3", LogDestination="arn:aws:s3:::b")
    with pytest.raises(PlanError, match="unknown property"):
        FlowLog("f", ResourceId="vpc-1", LogDestinationType="s3", LogDestination="arn:aws:s3:::b", Bogus=1)
