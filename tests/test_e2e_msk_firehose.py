"""Issue 14 item 3: Kafka reaches the data lake. Firehose's MSK source is ACTIVE on the strict sandbox, dev and production.

The real GenAI Demo plan, applied with `--target analytics.domain_events_firehose`:
the stream and what it needs (network, key, data lake bucket, MSK cluster and
configuration, the cluster policy, the topic it reads, the Firehose role),
nothing else, so the test stays short. The strict sandbox refuses a PRIVATE MSK source unless the
cluster has IAM client auth, multi-VPC private connectivity on for IAM and a
cluster policy letting Firehose create its VPC connection (rule
firehose-msk-private), and refuses multi-VPC connectivity on kafka.t3.small
brokers (msk-multi-vpc): what AWS ends up with is read through boto3.
"""

from __future__ import annotations

import base64
import json

import pytest

from plans.genai_demo.profiles import PROFILES
from tests.helpers import infra

pytestmark = pytest.mark.slow

TARGET = "analytics.domain_events_firehose"


@pytest.mark.parametrize("env", ["dev", "production"])
def test_firehose_msk_source_active(aws, env):
    aws.rules.configure("async-modify", seconds=0.1)
    aws.rules.configure("ec2-consistency", seconds=0.2)
    infra("apply", "--env", env, "--target", TARGET, "--auto-approve", "--parallelism", "10")
    prefix = f"genai-demo-{env}-"
    kafka, fh = aws.client("kafka"), aws.client("firehose")

    clusters = kafka.list_clusters_v2()["ClusterInfoList"]
    assert [c["ClusterName"] for c in clusters] == [prefix + "kafka"]
    arn = clusters[0]["ClusterArn"]
    info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["State"] == "ACTIVE"
    assert info["BrokerNodeGroupInfo"]["InstanceType"] != "kafka.t3.small"
    assert info["ClientAuthentication"]["Sasl"]["Iam"]["Enabled"] is True
    vpc = info["BrokerNodeGroupInfo"]["ConnectivityInfo"]["VpcConnectivity"]
    assert vpc["ClientAuthentication"]["Sasl"]["Iam"]["Enabled"] is True
    assert kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerStringVpcConnectivitySaslIam"]

    policy = json.loads(kafka.get_cluster_policy(ClusterArn=arn)["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert "kafka:CreateVpcConnection" in statement["Action"] and statement["Resource"] == arn

    d = fh.describe_delivery_stream(DeliveryStreamName=prefix + "domain-events-firehose")["DeliveryStreamDescription"]
    assert d["DeliveryStreamStatus"] == "ACTIVE" and d["DeliveryStreamType"] == "MSKAsSource"
    source = d["Source"]["MSKSourceDescription"]
    assert source["MSKClusterARN"] == arn and source["TopicName"] == "domain-events"
    assert source["AuthenticationConfiguration"]["Connectivity"] == "PRIVATE"
    role = aws.client("iam").get_role(RoleName=prefix + "firehose-role")["Role"]
    assert source["AuthenticationConfiguration"]["RoleARN"] == role["Arn"]

    # The topic the stream reads exists on the cluster (the brokers do not create topics on first use).
    assert [t["TopicName"] for t in kafka.list_topics(ClusterArn=arn)["Topics"]] == [source["TopicName"]]
    topic = kafka.describe_topic(ClusterArn=arn, TopicName=source["TopicName"])
    assert topic["Status"] == "ACTIVE"
    assert topic["TopicArn"].endswith(f":topic/{prefix}kafka/{arn.rsplit('/', 1)[-1]}/domain-events")
    assert topic["ReplicationFactor"] == PROFILES[env]["msk"]["replication_factor"]
    assert topic["PartitionCount"] == PROFILES[env]["analytics"]["kafka_topic_partitions"]
    settings = json.loads(base64.b64decode(topic["Configs"]))  # the brokers' defaults: the cluster's configuration
    assert settings["min.insync.replicas"] == str(PROFILES[env]["msk"]["min_insync_replicas"])

    # A second plan of the same target changes nothing: what was applied reads back as declared.
    out = infra("plan", "--env", env, "--target", TARGET, "--detailed-exitcode", ok=None)
    assert out.exit_code == 0, out.output

    # Destroying the topic takes the stream that reads it first (its dependent); the cluster stays.
    infra("destroy", "--env", env, "--target", "analytics.domain_events_topic", "--auto-approve")
    assert kafka.list_topics(ClusterArn=arn)["Topics"] == []
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == []
    assert kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"
