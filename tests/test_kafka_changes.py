"""Issue 13's MSK findings (B7, A5, C4) and issue 14's multi-VPC connectivity, cluster policy and topic, on the strict sandbox.

Each change is planned (plan_apply on the cluster's record: update or
replacement, as AWS allows) and, where it is in place, applied with
update(); DescribeCluster then shows the same ARN with the new setting.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from core.errors import PlanError
from orchestrator.graph import build_graph
from orchestrator.model import Plan
from orchestrator.planner import plan_apply
from resources.base import UNKNOWN
from resources.kafka import Cluster, ClusterPolicy, Topic
from state.dynamodb import Record
from tests.helpers import declare

IAM = {"Sasl": {"Iam": {"Enabled": True}}, "Unauthenticated": {"Enabled": False}}
VPC_IAM = {"VpcConnectivity": {"ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}}}}


@pytest.fixture
def net(aws: Any) -> dict[str, Any]:
    """Ids the cluster is placed with: MSK takes them as given (the network round trips are test_kafka.py's)."""
    aws.rules.configure("async-modify", seconds=0.1)
    return {"subnets": ["subnet-0a1", "subnet-0b2"], "sg": "sg-0c3",
            "key": "arn:aws:kms:ap-east-2:123456789012:key/1a2b3c4d-0000-4000-8000-000000000001"}


def _props(net: dict[str, Any], **over: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "KafkaVersion": "3.7.x", "NumberOfBrokerNodes": 2,
        "BrokerNodeGroupInfo": {"InstanceType": "kafka.m7g.large", "ClientSubnets": net["subnets"],
                                "SecurityGroups": [net["sg"]],
                                "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}}},
        "EncryptionInfo": {"EncryptionAtRest": {"DataVolumeKMSKeyId": net["key"]},
                           "EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
        "ClientAuthentication": IAM,
    }
    props.update(over)
    return props


def _planned(old: dict[str, Any], arn: str, new: dict[str, Any]) -> tuple[str, str]:
    """What the planner does with the cluster recorded with `old` when the code says `new`."""
    plan = Plan("genai-demo", "test")
    plan.stack("main").add(Cluster("kafka", **new))
    g, _ = build_graph(plan)
    rec = Record("main.kafka", "kafka.Cluster", arn, dict(declare(Cluster("kafka", **old)).properties),
                 {"Arn": arn})
    change = plan_apply(g, {"main.kafka": rec}, stacks=["main"], allow_data_loss=True).changes["main.kafka"]
    return change.action, change.reason


def test_b7_client_broker_encryption_changes_in_place(aws, net):
    kafka = aws.client("kafka")
    cluster = declare(Cluster("kafka", **_props(net)))
    ctx = aws.ctx("kafka")
    arn, _ = cluster.create(ctx, dict(cluster.properties))

    transit = {"ClientBroker": "TLS_PLAINTEXT", "InCluster": True}
    new = _props(net, EncryptionInfo=dict(cluster.properties["EncryptionInfo"], EncryptionInTransit=transit))
    assert _planned(cluster.properties, arn, new)[0] == "update"
    cluster.update(ctx, arn, dict(cluster.properties), declare(Cluster("kafka", **new)).properties)
    info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["ClusterArn"] == arn and info["State"] == "ACTIVE"
    assert info["EncryptionInfo"]["EncryptionInTransit"] == transit
    assert info["EncryptionInfo"]["EncryptionAtRest"]["DataVolumeKMSKeyId"] == net["key"]
    ops = kafka.list_cluster_operations(ClusterArn=arn)["ClusterOperationInfoList"]
    assert [op["OperationType"] for op in ops] == ["UPDATE_SECURITY"]
    assert cluster.read(ctx, arn)["EncryptionInfo"] == new["EncryptionInfo"]

    # What UpdateSecurity cannot change is a replacement, named in the plan's reason.
    other_key = {"EncryptionAtRest": {"DataVolumeKMSKeyId": net["key"] + "-other"},
                 "EncryptionInTransit": transit}
    action, reason = _planned(new, arn, _props(net, EncryptionInfo=other_key))
    assert action == "replace" and "EncryptionInfo.EncryptionAtRest" in reason
    no_in_cluster = dict(new["EncryptionInfo"], EncryptionInTransit={"ClientBroker": "TLS", "InCluster": False})
    action, reason = _planned(new, arn, _props(net, EncryptionInfo=no_in_cluster))
    assert action == "replace" and "InCluster" in reason


def test_a5_subnets_and_security_groups_plan_a_replacement(aws, net):
    arn = "arn:aws:kafka:ap-east-2:123456789012:cluster/genai-demo-test-kafka/abc-1"
    old = _props(net)
    info = old["BrokerNodeGroupInfo"]
    for key, value in (("ClientSubnets", [net["subnets"][0], "subnet-0new"]),
                       ("SecurityGroups", ["sg-0new"]), ("BrokerAZDistribution", "DEFAULT")):
        action, reason = _planned(old, arn, _props(net, BrokerNodeGroupInfo=dict(info, **{key: value})))
        assert action == "replace" and f"BrokerNodeGroupInfo.{key}" in reason, (key, reason)
    # A subnet being replaced makes its id unknown at plan time: that too needs a new cluster (cascade).
    unknown = dict(info, ClientSubnets=[net["subnets"][0], UNKNOWN])
    assert Cluster.replacing(old, _props(net, BrokerNodeGroupInfo=unknown), ["BrokerNodeGroupInfo"]) == [
        "BrokerNodeGroupInfo.ClientSubnets"]
    # What MSK changes in place inside the same property stays an update (UpdateBrokerType).
    bigger = dict(info, InstanceType="kafka.m7g.xlarge")
    assert _planned(old, arn, _props(net, BrokerNodeGroupInfo=bigger))[0] == "update"


def test_c4_connectivity_and_throughput_are_applied(aws, net):
    """ConnectivityInfo (UpdateConnectivity) and ProvisionedThroughput (UpdateBrokerStorage) reach AWS."""
    kafka = aws.client("kafka")
    cluster = declare(Cluster("kafka", **_props(net)))
    ctx = aws.ctx("kafka")
    arn, _ = cluster.create(ctx, dict(cluster.properties))

    info = dict(cluster.properties["BrokerNodeGroupInfo"], ConnectivityInfo=VPC_IAM,
                StorageInfo={"EbsStorageInfo": {"VolumeSize": 100, "ProvisionedThroughput": {
                    "Enabled": True, "VolumeThroughput": 250}}})
    changed = declare(Cluster("kafka", **_props(net, BrokerNodeGroupInfo=info)))
    new = changed.properties
    assert _planned(cluster.properties, arn, new)[0] == "update"
    cluster.update(ctx, arn, dict(cluster.properties), new)
    seen = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert seen["ClusterArn"] == arn
    assert seen["BrokerNodeGroupInfo"]["ConnectivityInfo"]["VpcConnectivity"] == VPC_IAM["VpcConnectivity"]
    assert seen["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]["ProvisionedThroughput"] == {
        "Enabled": True, "VolumeThroughput": 250}
    assert "BootstrapBrokerStringVpcConnectivitySaslIam" in kafka.get_bootstrap_brokers(ClusterArn=arn)
    # read() sees what was applied: the next plan is a no-op, not the same diff again.
    assert changed.read(ctx, arn)["BrokerNodeGroupInfo"] == new["BrokerNodeGroupInfo"]


def test_multi_vpc_at_create_and_cluster_policy(aws, net):
    """Create turns multi-VPC on after ACTIVE (AWS refuses it in CreateCluster); the policy round-trips."""
    kafka = aws.client("kafka")
    info = dict(_props(net)["BrokerNodeGroupInfo"], ConnectivityInfo=VPC_IAM)
    cluster = declare(Cluster("kafka", **_props(net, BrokerNodeGroupInfo=info)))
    ctx = aws.ctx("kafka")
    arn, _ = cluster.create(ctx, dict(cluster.properties))
    seen = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert seen["BrokerNodeGroupInfo"]["ConnectivityInfo"]["VpcConnectivity"] == VPC_IAM["VpcConnectivity"]
    assert cluster.read(ctx, arn)["BrokerNodeGroupInfo"] == cluster.properties["BrokerNodeGroupInfo"]

    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"},
        "Action": ["kafka:CreateVpcConnection"], "Resource": arn}]}
    policy = declare(ClusterPolicy("kafka_policy", ClusterArn=arn, Policy=doc))
    pctx = aws.ctx("kafka_policy", props={"ClusterArn": arn})
    pid, out = policy.create(pctx, dict(policy.properties))
    assert pid == arn and json.loads(kafka.get_cluster_policy(ClusterArn=arn)["Policy"]) == doc
    assert policy.read(pctx, pid) == policy.properties and policy.find(pctx)[0] == arn
    doc2 = dict(doc, Statement=[dict(doc["Statement"][0], Action=["kafka:CreateVpcConnection",
                                                                   "kafka:GetBootstrapBrokers"])])
    out2 = policy.update(pctx, pid, dict(policy.properties), dict(policy.properties, Policy=doc2))
    assert out2["CurrentVersion"] != out["CurrentVersion"]
    assert json.loads(kafka.get_cluster_policy(ClusterArn=arn)["Policy"]) == doc2
    policy.delete(pctx, pid)
    policy.delete(pctx, pid)
    assert policy.read(pctx, pid) is None and policy.find(pctx) is None


def test_multi_vpc_bad_input_fails_at_definition():
    net = {"subnets": ["subnet-a", "subnet-b"], "sg": "sg-a", "key": "arn:aws:kms:ap-east-2:1:key/k"}
    small = dict(_props(net)["BrokerNodeGroupInfo"], InstanceType="kafka.t3.small", ConnectivityInfo=VPC_IAM)
    with pytest.raises(PlanError, match="t3.small"):
        Cluster("kafka", **_props(net, BrokerNodeGroupInfo=small))
    info = dict(_props(net)["BrokerNodeGroupInfo"], ConnectivityInfo=VPC_IAM)
    with pytest.raises(PlanError, match="Iam, which ClientAuthentication does not turn on"):
        Cluster("kafka", **_props(net, BrokerNodeGroupInfo=info, ClientAuthentication={"Tls": {"Enabled": True}}))
    with pytest.raises(PlanError, match="Statement"):
        ClusterPolicy("p", ClusterArn="arn:aws:kafka:ap-east-2:1:cluster/x/y", Policy={"Version": "2012-10-17"})


# -- kafka.Topic: the topic Firehose reads (issue 14 item 3) ---------------------------------------------

def _topic_plan(arn: str, old: dict[str, Any], new: dict[str, Any]) -> Any:
    """What the planner does with the topic recorded with `old` when the code says `new`."""
    plan = Plan("genai-demo", "test")
    plan.stack("main").add(Topic("topic", **new))
    g, _ = build_graph(plan)
    rec = Record("main.topic", "kafka.Topic", f"{arn}|{old['TopicName']}",
                 dict(declare(Topic("topic", **old)).properties), {"TopicName": old["TopicName"]})
    return plan_apply(g, {"main.topic": rec}, stacks=["main"], allow_data_loss=True).changes["main.topic"]


def test_topic_round_trip_changes_in_place_and_adoption(aws, net):
    """Created ACTIVE with its settings, read back as declared (AWS's extra defaults are not drift), grown and
    re-configured in place, adopted by name after a crash, deleted; each seen through DescribeTopic."""
    kafka = aws.client("kafka")
    arn, _ = (c := declare(Cluster("kafka", **_props(net)))).create(aws.ctx("kafka"), dict(c.properties))
    props = {"ClusterArn": arn, "TopicName": "domain-events", "PartitionCount": 3, "ReplicationFactor": 2,
             "Configs": {"retention.ms": "86400000"}}
    topic = declare(Topic("topic", **props))
    ctx = aws.ctx("topic", props=props)
    pid, out = topic.create(ctx, dict(topic.properties))
    seen = kafka.describe_topic(ClusterArn=arn, TopicName="domain-events")
    assert pid == f"{arn}|domain-events" and out["TopicArn"] == seen["TopicArn"] and seen["Status"] == "ACTIVE"
    assert (seen["PartitionCount"], seen["ReplicationFactor"]) == (3, 2)
    configs = json.loads(base64.b64decode(seen["Configs"]))
    assert configs["retention.ms"] == "86400000" and len(configs) > 1  # AWS answers its defaults too
    assert topic.read(ctx, pid) == topic.properties  # ... which read() leaves out: no drift
    assert topic.find(ctx) == (pid, out)  # a crash after CreateTopic: the same topic is adopted

    new = dict(props, PartitionCount=6, Configs={"retention.ms": "3600000"})
    topic.update(ctx, pid, dict(topic.properties), new)
    seen = kafka.describe_topic(ClusterArn=arn, TopicName="domain-events")
    assert seen["PartitionCount"] == 6 and json.loads(base64.b64decode(seen["Configs"]))["retention.ms"] == "3600000"

    topic.delete(ctx, pid)
    topic.delete(ctx, pid)
    assert kafka.list_topics(ClusterArn=arn)["Topics"] == []
    assert topic.read(ctx, pid) is None and topic.find(ctx) is None


def test_topic_changes_planned_as_aws_allows():
    """More partitions and other configs: in place. Fewer partitions: refused before any call. Another
    replication factor or name: a replacement (AWS fixes them at create), old topic first (one name per cluster)."""
    arn = "arn:aws:kafka:ap-east-2:123456789012:cluster/genai-demo-test-kafka/0a1b2c3d-0000-4000-8000-000000000001-2"
    old = {"ClusterArn": arn, "TopicName": "domain-events", "PartitionCount": 6, "ReplicationFactor": 3}
    assert _topic_plan(arn, old, dict(old, PartitionCount=12)).action == "update"
    assert _topic_plan(arn, old, dict(old, Configs={"retention.ms": "1"})).action == "update"
    with pytest.raises(PlanError, match=r"PartitionCount can only grow \(6 -> 3\)"):
        _topic_plan(arn, old, dict(old, PartitionCount=3))
    for change in ({"ReplicationFactor": 2}, {"TopicName": "other"}):
        planned = _topic_plan(arn, old, dict(old, **change))
        assert planned.action == "replace" and planned.order == "delete_first", change
    with pytest.raises(PlanError, match="not a legal Kafka topic name"):
        Topic("t", **dict(old, TopicName="a/b"))
    with pytest.raises(PlanError, match="Configs values must be strings"):
        Topic("t", **dict(old, Configs={"retention.ms": 3600000}))
