"""MSK extension: configurations, cluster lifecycle, updates, bootstrap brokers, NotFoundException."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

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
