"""kafka.Cluster LoggingInfo (broker logs) on the sandbox: created, read back and changed in place through
UpdateMonitoring, checked through independent boto3 calls; and the rule kafka.broker-logs."""

from __future__ import annotations

from typing import Any

import pytest

from resources.kafka import Cluster
from tests.helpers import declare, vpc_scaffold
from tests.test_kafka import needs_msk


@pytest.fixture
def net(aws: Any) -> dict[str, Any]:
    return vpc_scaffold(aws, 8, "msk", "msk", azs=2)


def logs(group: str) -> dict[str, Any]:
    return {"BrokerLogs": {"CloudWatchLogs": {"Enabled": True, "LogGroup": group}}}


@needs_msk
def test_broker_logs_round_trip(aws, net):
    cluster = declare(Cluster(
        "kafka", KafkaVersion="3.7.x", NumberOfBrokerNodes=2,
        BrokerNodeGroupInfo={"InstanceType": "kafka.t3.small", "ClientSubnets": net["subnets"],
                             "SecurityGroups": [net["sg"]]},
        ClientAuthentication={"Sasl": {"Iam": {"Enabled": True}}}, LoggingInfo=logs("/aws/msk/brokers")))
    ctx = aws.ctx("kafka")
    arn, _ = cluster.create(ctx, dict(cluster.properties))
    kafka = aws.client("kafka")
    seen = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["LoggingInfo"]
    assert seen["BrokerLogs"]["CloudWatchLogs"] == {"Enabled": True, "LogGroup": "/aws/msk/brokers"}
    assert cluster.read(ctx, arn)["LoggingInfo"] == logs("/aws/msk/brokers")

    state = cluster.read(ctx, arn)
    cluster.update(ctx, arn, state, dict(state, LoggingInfo=logs("/aws/msk/other"),
                                         EnhancedMonitoring="PER_BROKER"))
    info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["LoggingInfo"]["BrokerLogs"]["CloudWatchLogs"]["LogGroup"] == "/aws/msk/other"
    assert info["EnhancedMonitoring"] == "PER_BROKER"  # both in one UpdateMonitoring
    cluster.delete(ctx, arn)
