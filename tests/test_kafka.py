"""Round trips of kafka.Configuration and kafka.Cluster on moto plus the sandbox's MSK extension."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import PlanError
from resources.kafka import Cluster, Configuration
from tests.helpers import declare, vpc_scaffold


def _msk_sandbox() -> bool:
    """Capability check: moto 5.2.5 has no MSK configurations, updates or bootstrap brokers; the sandbox adds them."""
    try:
        from moto.kafka.responses import KafkaResponse

        from sandbox.extensions import install
        install()
    except ImportError:
        return False
    return all(hasattr(KafkaResponse, m) for m in ("create_configuration", "update_broker_count",
                                                   "update_broker_storage", "update_cluster_configuration",
                                                   "get_bootstrap_brokers"))


needs_msk = pytest.mark.skipif(not _msk_sandbox(), reason="sandbox MSK extension (sandbox/extensions/kafka.py) "
                               "not loaded: moto alone keeps clusters CREATING and lacks configurations")

PROPS = """
auto.create.topics.enable=false
default.replication.factor=2
min.insync.replicas=1
"""


@needs_msk
def test_configuration_round_trip(aws):
    cfg = declare(Configuration("kafka_config", KafkaVersions=["3.7.x"], ServerProperties=PROPS))
    ctx = aws.ctx("kafka_config")
    arn, out = cfg.create(ctx, dict(cfg.properties))
    kafka = aws.client("kafka")
    seen = kafka.describe_configuration(Arn=arn)
    assert seen["Name"] == "genai-demo-test-kafka-config" == out["Name"]
    assert seen["KafkaVersions"] == ["3.7.x"] and out["LatestRevision"] == 1
    text = kafka.describe_configuration_revision(Arn=arn, Revision=1)["ServerProperties"].decode()
    assert "min.insync.replicas=1" in text

    assert cfg.read(ctx, arn)["ServerProperties"] == cfg.properties["ServerProperties"]
    new = dict(cfg.properties, ServerProperties=PROPS.replace("min.insync.replicas=1", "min.insync.replicas=2"))
    new = declare(Configuration("kafka_config", **new)).properties
    out = cfg.update(ctx, arn, dict(cfg.properties), new)
    assert out["LatestRevision"] == 2
    assert "min.insync.replicas=2" in kafka.describe_configuration_revision(
        Arn=arn, Revision=2)["ServerProperties"].decode()
    assert cfg.read(ctx, arn)["ServerProperties"] == new["ServerProperties"]

    assert cfg.find(ctx)[0] == arn
    cfg.delete(ctx, arn)
    cfg.delete(ctx, arn)
    assert cfg.read(ctx, arn) is None
    assert cfg.find(ctx) is None


@pytest.fixture
def net(aws: Any) -> dict[str, Any]:
    return vpc_scaffold(aws, 8, "msk", "msk", azs=2)


@needs_msk
def test_cluster_round_trip(aws, net):
    cfg = declare(Configuration("kafka_config", KafkaVersions=["3.7.x"], ServerProperties=PROPS))
    cfg_arn, cfg_out = cfg.create(aws.ctx("kafka_config"), dict(cfg.properties))

    cluster = declare(Cluster(
        "kafka", KafkaVersion="3.7.x", NumberOfBrokerNodes=2,
        BrokerNodeGroupInfo={"InstanceType": "kafka.t3.small", "ClientSubnets": net["subnets"],
                             "SecurityGroups": [net["sg"]], "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 20}}},
        EncryptionInfo={"EncryptionAtRest": {"DataVolumeKMSKeyId": net["key"]},
                        "EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
        ClientAuthentication={"Sasl": {"Iam": {"Enabled": True}}},
        ConfigurationInfo={"Arn": cfg_arn, "Revision": 1}, EnhancedMonitoring="PER_BROKER"))
    ctx = aws.ctx("kafka")
    arn, out = cluster.create(ctx, dict(cluster.properties))
    kafka = aws.client("kafka")
    info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["State"] == "ACTIVE" and info["ClusterName"] == "genai-demo-test-kafka"
    assert info["NumberOfBrokerNodes"] == 2
    assert info["BrokerNodeGroupInfo"]["InstanceType"] == "kafka.t3.small"
    assert info["EncryptionInfo"]["EncryptionAtRest"]["DataVolumeKMSKeyId"] == net["key"]
    assert info["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] == "TLS"
    assert info["ClientAuthentication"]["Sasl"]["Iam"]["Enabled"] is True
    assert info["Tags"]["infra:address"] == "main.kafka"
    brokers = kafka.get_bootstrap_brokers(ClusterArn=arn)
    # IAM is the only client auth: brokers answer on 9098 (SASL/IAM over TLS), no unauthenticated TLS listener.
    assert out["BootstrapBrokerStringSaslIam"] == brokers["BootstrapBrokerStringSaslIam"]
    assert out["BootstrapBrokers"] == out["BootstrapBrokerStringSaslIam"] and ":9098" in out["BootstrapBrokers"]
    assert out["BootstrapBrokerStringTls"] == brokers.get("BootstrapBrokerStringTls")
    assert out["ZookeeperConnectString"]

    state = cluster.read(ctx, arn)
    for key in ("KafkaVersion", "NumberOfBrokerNodes", "BrokerNodeGroupInfo", "EncryptionInfo",
                "ClientAuthentication", "ConfigurationInfo", "EnhancedMonitoring"):
        assert state[key] == cluster.properties[key], key

    cfg_out = cfg.update(aws.ctx("kafka_config"), cfg_arn, dict(cfg.properties),
                         dict(cfg.properties, ServerProperties="auto.create.topics.enable=true"))
    info_before = dict(cluster.properties["BrokerNodeGroupInfo"])
    new = dict(cluster.properties, NumberOfBrokerNodes=4,
               BrokerNodeGroupInfo=dict(info_before, StorageInfo={"EbsStorageInfo": {"VolumeSize": 40}}),
               ConfigurationInfo={"Arn": cfg_arn, "Revision": cfg_out["LatestRevision"]})
    version = info["CurrentVersion"]
    cluster.update(ctx, arn, dict(cluster.properties), new)
    info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["State"] == "ACTIVE" and info["CurrentVersion"] != version
    assert info["NumberOfBrokerNodes"] == 4
    assert info["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]["VolumeSize"] == 40
    assert info["CurrentBrokerSoftwareInfo"]["ConfigurationRevision"] == 2

    with pytest.raises(Exception, match="cannot remove"):
        cluster.update(ctx, arn, new, dict(new, NumberOfBrokerNodes=2))

    assert cluster.find(ctx)[0] == arn
    cluster.delete(ctx, arn)
    cluster.delete(ctx, arn)
    assert cluster.read(ctx, arn) is None
    assert cluster.find(ctx) is None
    cfg.delete(aws.ctx("kafka_config"), cfg_arn)


def test_bad_inputs_fail_at_definition():
    info = {"InstanceType": "kafka.t3.small", "ClientSubnets": ["subnet-a", "subnet-b", "subnet-c"]}
    with pytest.raises(PlanError, match="multiple"):
        Cluster("k", KafkaVersion="3.7.x", NumberOfBrokerNodes=2, BrokerNodeGroupInfo=info)
    with pytest.raises(PlanError, match="must be int"):
        Cluster("k", KafkaVersion="3.7.x", NumberOfBrokerNodes="3", BrokerNodeGroupInfo=info)
    with pytest.raises(PlanError, match="unknown property"):
        Cluster("k", KafkaVersion="3.7.x", NumberOfBrokerNodes=3, BrokerNodeGroupInfo=info, Brokers=3)
    with pytest.raises(PlanError, match="EnhancedMonitoring"):
        Cluster("k", KafkaVersion="3.7.x", NumberOfBrokerNodes=3, BrokerNodeGroupInfo=info, EnhancedMonitoring="ALL")
    with pytest.raises(PlanError, match="key=value"):
        Configuration("c", KafkaVersions=["3.7.x"], ServerProperties="just words")


@needs_msk
def test_operations_wait_for_their_cluster_operation(aws, net):
    """async-modify: the cluster reads ACTIVE while an operation is still PENDING; each operation of an update
    is waited on by its ClusterOperationArn, so the next one is not refused and the result is there."""
    from sandbox import strict

    cluster = declare(Cluster(
        "kafka", KafkaVersion="3.7.x", NumberOfBrokerNodes=2,
        BrokerNodeGroupInfo={"InstanceType": "kafka.t3.small", "ClientSubnets": net["subnets"],
                             "SecurityGroups": [net["sg"]], "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 20}}}))
    ctx = aws.ctx("kafka")
    arn, _ = cluster.create(ctx, dict(cluster.properties))
    kafka = aws.client("kafka")
    trips = strict.trips().get("async-modify", 0)
    info = dict(cluster.properties["BrokerNodeGroupInfo"], StorageInfo={"EbsStorageInfo": {"VolumeSize": 40}})
    new = dict(cluster.properties, NumberOfBrokerNodes=4, BrokerNodeGroupInfo=info, EnhancedMonitoring="PER_BROKER")
    cluster.update(ctx, arn, dict(cluster.properties), new)  # three operations in a row
    got = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert got["State"] == "ACTIVE" and got["NumberOfBrokerNodes"] == 4 and got["EnhancedMonitoring"] == "PER_BROKER"
    assert got["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]["VolumeSize"] == 40
    ops = kafka.list_cluster_operations(ClusterArn=arn)["ClusterOperationInfoList"]
    assert [o["OperationState"] for o in ops] == ["UPDATE_COMPLETE"] * 3
    kafka.update_monitoring(ClusterArn=arn, CurrentVersion=got["CurrentVersion"], EnhancedMonitoring="DEFAULT")
    assert strict.trips().get("async-modify", 0) == trips
