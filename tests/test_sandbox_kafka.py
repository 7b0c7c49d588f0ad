"""MSK extension: configurations, cluster lifecycle, updates, bootstrap brokers, topics, NotFoundException."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox import latency, lifecycle

BROKERS = {"InstanceType": "kafka.m5.large", "ClientSubnets": ["subnet-a", "subnet-b", "subnet-c"],
           "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}}}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def check_kafka(client: Callable[[str], Any]) -> None:
    """Create, read, update, delete and not-found for configurations and clusters (in-process or server)."""
    k = client("kafka")
    cfg = k.create_configuration(Name="genai-msk", KafkaVersions=["3.6.0"], Description="v1",
                                 ServerProperties=b"auto.create.topics.enable=false\n")
    assert cfg["State"] == "ACTIVE" and cfg["LatestRevision"]["Revision"] == 1
    got = k.describe_configuration(Arn=cfg["Arn"])
    assert got["Name"] == "genai-msk" and got["KafkaVersions"] == ["3.6.0"]
    upd = k.update_configuration(Arn=cfg["Arn"], ServerProperties=b"num.partitions=6\n", Description="v2")
    assert upd["LatestRevision"]["Revision"] == 2
    rev = k.describe_configuration_revision(Arn=cfg["Arn"], Revision=2)
    assert rev["ServerProperties"] == b"num.partitions=6\n" and rev["Description"] == "v2"
    assert [r["Revision"] for r in k.list_configuration_revisions(Arn=cfg["Arn"])["Revisions"]] == [1, 2]
    assert [c["Arn"] for c in k.list_configurations()["Configurations"]] == [cfg["Arn"]]

    arn = k.create_cluster(ClusterName="genai-msk", KafkaVersion="3.6.0", NumberOfBrokerNodes=3,
                           BrokerNodeGroupInfo=BROKERS, ConfigurationInfo={"Arn": cfg["Arn"], "Revision": 1},
                           EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
                           ClientAuthentication={"Sasl": {"Iam": {"Enabled": True}}})["ClusterArn"]
    info = k.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["State"] == "ACTIVE"
    assert info["CurrentBrokerSoftwareInfo"]["ConfigurationArn"] == cfg["Arn"]
    assert k.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"
    brokers = k.get_bootstrap_brokers(ClusterArn=arn)
    assert brokers["BootstrapBrokerStringSaslIam"].count(":9098") == 3
    assert "BootstrapBrokerString" not in brokers  # TLS only: no plaintext listener

    with pytest.raises(ClientError) as exc:
        k.update_broker_count(ClusterArn=arn, CurrentVersion="stale", TargetNumberOfBrokerNodes=6)
    assert code(exc) == "BadRequestException"
    op = k.update_broker_count(ClusterArn=arn, CurrentVersion=info["CurrentVersion"], TargetNumberOfBrokerNodes=6)
    done = k.describe_cluster_operation(ClusterOperationArn=op["ClusterOperationArn"])["ClusterOperationInfo"]
    assert done["OperationType"] == "INCREASE_BROKER_COUNT" and done["OperationState"] == "UPDATE_COMPLETE"
    info = k.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["NumberOfBrokerNodes"] == 6
    k.update_broker_storage(ClusterArn=arn, CurrentVersion=info["CurrentVersion"],
                            TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "All", "VolumeSizeGB": 200}])
    info = k.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]["VolumeSize"] == 200
    k.update_cluster_configuration(ClusterArn=arn, CurrentVersion=info["CurrentVersion"],
                                   ConfigurationInfo={"Arn": cfg["Arn"], "Revision": 2})
    info = k.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["CurrentBrokerSoftwareInfo"]["ConfigurationRevision"] == 2
    assert len(k.list_cluster_operations(ClusterArn=arn)["ClusterOperationInfoList"]) == 3

    # Topics: the cluster ARN (its slashes encoded) and the topic name in the path, through the server too.
    topic = k.create_topic(ClusterArn=arn, TopicName="domain-events.v1", PartitionCount=6, ReplicationFactor=3)
    assert k.describe_topic(ClusterArn=arn, TopicName="domain-events.v1")["TopicArn"] == topic["TopicArn"]
    assert [t["TopicName"] for t in k.list_topics(ClusterArn=arn)["Topics"]] == ["domain-events.v1"]
    k.update_topic(ClusterArn=arn, TopicName="domain-events.v1", PartitionCount=12)
    assert k.describe_topic(ClusterArn=arn, TopicName="domain-events.v1")["PartitionCount"] == 12
    k.delete_topic(ClusterArn=arn, TopicName="domain-events.v1")
    assert k.list_topics(ClusterArn=arn)["Topics"] == []

    with pytest.raises(ClientError) as exc:
        k.delete_configuration(Arn=cfg["Arn"])  # still used by the cluster
    assert code(exc) == "BadRequestException"
    k.delete_cluster(ClusterArn=arn)
    for call in (lambda: k.describe_cluster(ClusterArn=arn), lambda: k.describe_cluster_v2(ClusterArn=arn),
                 lambda: k.get_bootstrap_brokers(ClusterArn=arn), lambda: k.delete_cluster(ClusterArn=arn)):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "NotFoundException"
    assert k.delete_configuration(Arn=cfg["Arn"])["State"] == "DELETING"
    with pytest.raises(ClientError) as exc:
        k.describe_configuration(Arn=cfg["Arn"])
    assert code(exc) == "NotFoundException"


@pytest.mark.sandbox_rules_off("async-modify")  # checks shapes after each change, not its timing (test_strict_modify.py)
def test_kafka_in_process(aws):
    check_kafka(aws.client)


def test_kafka_rejects_bad_updates(aws):
    k = aws.client("kafka")
    arn = k.create_cluster(ClusterName="c", KafkaVersion="3.6.0", NumberOfBrokerNodes=3,
                           BrokerNodeGroupInfo=BROKERS)["ClusterArn"]
    version = k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
    for kwargs in ({"TargetNumberOfBrokerNodes": 4}, {"TargetNumberOfBrokerNodes": 3}):
        with pytest.raises(ClientError) as exc:
            k.update_broker_count(ClusterArn=arn, CurrentVersion=version, **kwargs)
        assert code(exc) == "BadRequestException"
    with pytest.raises(ClientError) as exc:
        k.update_broker_storage(ClusterArn=arn, CurrentVersion=version,
                                TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "All", "VolumeSizeGB": 50}])
    assert code(exc) == "BadRequestException"
    with pytest.raises(ClientError) as exc:
        k.create_configuration(Name="x", ServerProperties=b"a=1") and k.create_configuration(
            Name="x", ServerProperties=b"a=1")
    assert code(exc) == "ConflictException"


# -- topics (MSK topic API, botocore 1.42.46+) ------------------------------------------------------------

def _b64(configs: dict[str, str]) -> str:
    return base64.b64encode(json.dumps(configs).encode()).decode()


def _topic_cluster(k: Any, name: str = "c", version: str = "3.6.0", brokers: int = 3) -> str:
    return k.create_cluster(ClusterName=name, KafkaVersion=version, NumberOfBrokerNodes=brokers,
                            BrokerNodeGroupInfo=BROKERS)["ClusterArn"]


def test_kafka_topics_created_read_listed_updated_and_deleted(aws):
    k = aws.client("kafka")
    arn = _topic_cluster(k)
    cluster_id = arn.rsplit("/", 1)[-1]
    made = k.create_topic(ClusterArn=arn, TopicName="domain-events", PartitionCount=3, ReplicationFactor=3,
                          Configs=_b64({"retention.ms": "3600000"}))
    assert made["Status"] == "ACTIVE"  # the lifecycle simulation is off: CREATING ends at once
    assert made["TopicArn"] == f"arn:aws:kafka:{aws.region}:123456789012:topic/c/{cluster_id}/domain-events"
    got = k.describe_topic(ClusterArn=arn, TopicName="domain-events")
    assert (got["TopicArn"], got["PartitionCount"], got["ReplicationFactor"], got["Status"]) == (
        made["TopicArn"], 3, 3, "ACTIVE")
    configs = json.loads(base64.b64decode(got["Configs"]))
    assert configs["retention.ms"] == "3600000" and configs["cleanup.policy"] == "delete"  # AWS adds defaults
    k.create_topic(ClusterArn=arn, TopicName="audit", PartitionCount=1, ReplicationFactor=2)
    assert [t["TopicName"] for t in k.list_topics(ClusterArn=arn)["Topics"]] == ["audit", "domain-events"]
    listed = k.list_topics(ClusterArn=arn, TopicNameFilter="dom")["Topics"]
    assert [(t["TopicName"], t["PartitionCount"], t["ReplicationFactor"]) for t in listed] == [
        ("domain-events", 3, 3)]
    page = k.list_topics(ClusterArn=arn, MaxResults=1)
    assert len(page["Topics"]) == 1 and page["NextToken"]

    assert k.update_topic(ClusterArn=arn, TopicName="domain-events", PartitionCount=6)["Status"] == "ACTIVE"
    k.update_topic(ClusterArn=arn, TopicName="domain-events", Configs=_b64({"cleanup.policy": "compact"}))
    got = k.describe_topic(ClusterArn=arn, TopicName="domain-events")
    configs = json.loads(base64.b64decode(got["Configs"]))
    assert got["PartitionCount"] == 6 and configs["cleanup.policy"] == "compact"
    assert configs["retention.ms"] == "604800000"  # the configs given replace the topic's own settings

    # A topic's defaults are its brokers': the cluster's configuration sets them.
    cfg = k.create_configuration(Name="brokers", KafkaVersions=["3.6.0"],
                                 ServerProperties=b"min.insync.replicas=2\nlog.retention.hours=24\n")
    configured = k.create_cluster(ClusterName="configured", KafkaVersion="3.6.0", NumberOfBrokerNodes=3,
                                  BrokerNodeGroupInfo=BROKERS, ConfigurationInfo={"Arn": cfg["Arn"], "Revision": 1})
    k.create_topic(ClusterArn=configured["ClusterArn"], TopicName="t", PartitionCount=1, ReplicationFactor=3)
    configs = json.loads(base64.b64decode(k.describe_topic(ClusterArn=configured["ClusterArn"], TopicName="t")[
        "Configs"]))
    assert (configs["min.insync.replicas"], configs["retention.ms"]) == ("2", "86400000")

    assert k.delete_topic(ClusterArn=arn, TopicName="audit")["Status"] == "DELETING"
    with pytest.raises(ClientError) as exc:
        k.describe_topic(ClusterArn=arn, TopicName="audit")
    assert code(exc) == "NotFoundException"
    k.delete_cluster(ClusterArn=arn)  # its topics go with its brokers
    with pytest.raises(ClientError) as exc:
        k.describe_topic(ClusterArn=arn, TopicName="domain-events")
    assert code(exc) == "NotFoundException"


def test_kafka_topic_api_refuses_what_aws_refuses(aws):
    k = aws.client("kafka")
    arn = _topic_cluster(k)
    k.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=3, ReplicationFactor=2)
    refused = [
        ("TopicExistsException", lambda: k.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=3,
                                                        ReplicationFactor=2)),
        ("BadRequestException", lambda: k.create_topic(ClusterArn=arn, TopicName="big", PartitionCount=3,
                                                       ReplicationFactor=4)),  # only 3 brokers
        ("BadRequestException", lambda: k.create_topic(ClusterArn=arn, TopicName="bad/name", PartitionCount=1,
                                                       ReplicationFactor=1)),
        ("BadRequestException", lambda: k.create_topic(ClusterArn=arn, TopicName="cfg", PartitionCount=1,
                                                       ReplicationFactor=1, Configs="not base64 json")),
        ("BadRequestException", lambda: k.update_topic(ClusterArn=arn, TopicName="t", PartitionCount=2)),
        ("BadRequestException", lambda: k.update_topic(ClusterArn=arn, TopicName="t", PartitionCount=3)),
        ("BadRequestException", lambda: k.update_topic(ClusterArn=arn, TopicName="t", PartitionCount=6,
                                                       Configs=_b64({"retention.ms": "1"}))),  # one or the other
        ("NotFoundException", lambda: k.describe_topic(ClusterArn=arn, TopicName="nope")),
        ("NotFoundException", lambda: k.delete_topic(ClusterArn=arn, TopicName="nope")),
        ("NotFoundException", lambda: k.list_topics(ClusterArn=arn + "-gone")),
        ("NotFoundException", lambda: k.create_topic(ClusterArn=arn + "-gone", TopicName="x", PartitionCount=1,
                                                     ReplicationFactor=1)),
    ]
    old = _topic_cluster(k, "old", version="2.8.1")  # the topic API needs Kafka 3.6.0 or later
    refused.append(("BadRequestException", lambda: k.create_topic(ClusterArn=old, TopicName="x", PartitionCount=1,
                                                                  ReplicationFactor=1)))
    for want, call in refused:
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == want, (want, exc.value)
    assert k.describe_topic(ClusterArn=arn, TopicName="t")["PartitionCount"] == 3


def test_kafka_topic_states_follow_the_lifecycle(aws, monkeypatch):
    """CREATING, then ACTIVE; UPDATING with the old count until it ends; DELETING, then gone. Nothing on a
    cluster still CREATING, nor an update of a topic not ACTIVE yet."""
    clock = [0.0]
    monkeypatch.setattr(lifecycle, "now", lambda: clock[0])
    scale = aws.lifecycle(scale=0.01)
    k = aws.client("kafka")
    arn = _topic_cluster(k)
    with pytest.raises(ClientError) as exc:
        k.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=1, ReplicationFactor=1)
    assert code(exc) == "BadRequestException"  # the cluster is CREATING
    clock[0] += latency.seconds("kafka.cluster", "create") * scale
    assert k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"
    step = latency.seconds("kafka.topic", "create") * scale
    assert step > 0

    assert k.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=1, ReplicationFactor=1)["Status"] == \
        "CREATING"
    assert k.describe_topic(ClusterArn=arn, TopicName="t")["Status"] == "CREATING"
    with pytest.raises(ClientError) as exc:
        k.update_topic(ClusterArn=arn, TopicName="t", PartitionCount=2)
    assert code(exc) == "BadRequestException"
    clock[0] += step
    assert k.describe_topic(ClusterArn=arn, TopicName="t")["Status"] == "ACTIVE"

    assert k.update_topic(ClusterArn=arn, TopicName="t", PartitionCount=4)["Status"] == "UPDATING"
    got = k.describe_topic(ClusterArn=arn, TopicName="t")
    assert (got["Status"], got["PartitionCount"]) == ("UPDATING", 1)
    clock[0] += latency.seconds("kafka.topic", "update") * scale
    got = k.describe_topic(ClusterArn=arn, TopicName="t")
    assert (got["Status"], got["PartitionCount"]) == ("ACTIVE", 4)

    assert k.delete_topic(ClusterArn=arn, TopicName="t")["Status"] == "DELETING"
    assert k.describe_topic(ClusterArn=arn, TopicName="t")["Status"] == "DELETING"
    clock[0] += latency.seconds("kafka.topic", "delete") * scale
    with pytest.raises(ClientError) as exc:
        k.describe_topic(ClusterArn=arn, TopicName="t")
    assert code(exc) == "NotFoundException"
