"""Strict rule async-modify, in raw boto3: each service's modification takes time, reads as before for a
moment, and refuses a second modification meanwhile (sandbox/extensions/strict_modify.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

RULE = "async-modify"
ROLE = "arn:aws:iam::123456789012:role/eks"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def until(read: Callable[[], Any], want: Callable[[Any], bool], limit: float = 5.0) -> Any:
    """Poll `read` (each call also runs the sandbox's due events) until `want` holds."""
    end = time.monotonic() + limit
    while True:
        value = read()
        if want(value):
            return value
        assert time.monotonic() < end, f"still {value!r}"
        time.sleep(0.01)


@pytest.fixture
def short(aws):
    aws.rules.configure(RULE, seconds=2.0, lag=0.5)  # a lag of 1 s: the first read lands in it on a busy machine
    return aws


def test_rule_async_modify_rds(short):
    rds = short.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="u", MasterUserPassword="password123", AllocatedStorage=20)
    rds.modify_db_instance(DBInstanceIdentifier="db", DBInstanceClass="db.t3.small", ApplyImmediately=True)

    def db() -> dict[str, Any]:
        return rds.describe_db_instances(DBInstanceIdentifier="db")["DBInstances"][0]

    first = db()  # the lag: still "available", the change pending
    assert first["DBInstanceStatus"] == "available" and first["DBInstanceClass"] == "db.t3.micro"
    assert first["PendingModifiedValues"] == {"DBInstanceClass": "db.t3.small"}
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="db", BackupRetentionPeriod=3, ApplyImmediately=True)
    assert code(exc) == "InvalidDBInstanceState" and "not in available state" in str(exc.value)
    until(db, lambda d: d["DBInstanceStatus"] == "modifying")
    done = until(db, lambda d: d["DBInstanceStatus"] == "available")
    assert done["DBInstanceClass"] == "db.t3.small" and not done.get("PendingModifiedValues")
    rds.modify_db_instance(DBInstanceIdentifier="db", BackupRetentionPeriod=3, ApplyImmediately=True)


def test_rule_async_modify_elasticache(short):
    ec = short.client("elasticache")
    ec.create_replication_group(ReplicationGroupId="rg", ReplicationGroupDescription="d", Engine="redis",
                                CacheNodeType="cache.t3.micro", NumCacheClusters=2, AutomaticFailoverEnabled=True)
    ec.modify_replication_group(ReplicationGroupId="rg", CacheNodeType="cache.t3.small", ApplyImmediately=True)

    def rg() -> dict[str, Any]:
        return ec.describe_replication_groups(ReplicationGroupId="rg")["ReplicationGroups"][0]

    first = rg()
    assert first["Status"] == "available" and first["CacheNodeType"] == "cache.t3.micro"
    for call in (lambda: ec.modify_replication_group(ReplicationGroupId="rg", SnapshotRetentionLimit=2,
                                                     ApplyImmediately=True),
                 lambda: ec.increase_replica_count(ReplicationGroupId="rg", NewReplicaCount=2, ApplyImmediately=True)):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "InvalidReplicationGroupState"
    until(rg, lambda g: g["Status"] == "modifying")
    done = until(rg, lambda g: g["Status"] == "available")
    assert done["CacheNodeType"] == "cache.t3.small"
    ec.increase_replica_count(ReplicationGroupId="rg", NewReplicaCount=2, ApplyImmediately=True)
    until(rg, lambda g: g["Status"] == "modifying")
    assert len(until(rg, lambda g: g["Status"] == "available")["MemberClusters"]) == 3


def test_rule_async_modify_opensearch(short):
    os_ = short.client("opensearch")
    os_.create_domain(DomainName="logs", EngineVersion="OpenSearch_2.11",
                      ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1})
    resp = os_.update_domain_config(DomainName="logs", ClusterConfig={"InstanceType": "t3.small.search",
                                                                      "InstanceCount": 2})
    change = resp["DomainConfig"]["ChangeProgressDetails"]["ChangeId"]

    def progress() -> str:
        return os_.describe_domain_change_progress(DomainName="logs", ChangeId=change)["ChangeProgressStatus"]["Status"]

    st = os_.describe_domain(DomainName="logs")["DomainStatus"]
    assert st["Processing"] is False and progress() == "PENDING"  # the lag
    with pytest.raises(ClientError) as exc:
        os_.update_domain_config(DomainName="logs", EBSOptions={"EBSEnabled": True, "VolumeSize": 30})
    assert code(exc) == "ValidationException" and "in progress" in str(exc.value)
    until(progress, lambda s: s == "PROCESSING")
    st = os_.describe_domain(DomainName="logs")["DomainStatus"]
    assert st["Processing"] is True and st["DomainProcessingStatus"] == "Modifying"
    assert st["ChangeProgressDetails"]["ChangeId"] == change
    until(progress, lambda s: s == "COMPLETED")
    st = os_.describe_domain(DomainName="logs")["DomainStatus"]
    assert st["Processing"] is False and st["DomainProcessingStatus"] == "Active"
    os_.update_domain_config(DomainName="logs", EBSOptions={"EBSEnabled": True, "VolumeSize": 30})


def test_rule_async_modify_kafka(short):
    k = short.client("kafka")
    subnets = ["subnet-a", "subnet-b", "subnet-c"]
    arn = k.create_cluster(ClusterName="c", KafkaVersion="3.6.0", NumberOfBrokerNodes=3,
                           BrokerNodeGroupInfo={"InstanceType": "kafka.m5.large", "ClientSubnets": subnets,
                                                "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}}})["ClusterArn"]

    def version() -> str:
        return k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]

    op = k.update_broker_count(ClusterArn=arn, CurrentVersion=version(), TargetNumberOfBrokerNodes=6)
    op_arn = op["ClusterOperationArn"]

    def state() -> tuple[str, str]:
        return (k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"],
                k.describe_cluster_operation(ClusterOperationArn=op_arn)["ClusterOperationInfo"]["OperationState"])

    assert state() == ("ACTIVE", "PENDING")  # the lag
    with pytest.raises(ClientError) as exc:
        k.update_monitoring(ClusterArn=arn, CurrentVersion=version(), EnhancedMonitoring="PER_BROKER")
    assert code(exc) == "BadRequestException"
    until(state, lambda s: s == ("UPDATING", "UPDATE_IN_PROGRESS"))
    until(state, lambda s: s == ("ACTIVE", "UPDATE_COMPLETE"))
    assert k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["NumberOfBrokerNodes"] == 6
    k.update_monitoring(ClusterArn=arn, CurrentVersion=version(), EnhancedMonitoring="PER_BROKER")


def test_rule_async_modify_eks(short):
    eks = short.client("eks")
    eks.create_cluster(name="c", version="1.30", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a"]})
    update = eks.update_cluster_version(name="c", version="1.31")["update"]

    def state() -> tuple[str, str]:
        return (eks.describe_cluster(name="c")["cluster"]["status"],
                eks.describe_update(name="c", updateId=update["id"])["update"]["status"])

    assert state() == ("ACTIVE", "InProgress")  # the lag: EKS may still read ACTIVE
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_config(name="c", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    assert code(exc) == "ResourceInUseException" and "in progress" in str(exc.value)
    until(state, lambda s: s == ("UPDATING", "InProgress"))
    until(state, lambda s: s == ("ACTIVE", "Successful"))
    assert eks.describe_cluster(name="c")["cluster"]["version"] == "1.31"
    eks.update_cluster_config(name="c", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})


@pytest.mark.sandbox_rules_off(RULE)
def test_async_modify_off_applies_at_once(aws):
    rds = aws.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="u", MasterUserPassword="password123", AllocatedStorage=20)
    rds.modify_db_instance(DBInstanceIdentifier="db", DBInstanceClass="db.t3.small", ApplyImmediately=True)
    rds.modify_db_instance(DBInstanceIdentifier="db", BackupRetentionPeriod=3, ApplyImmediately=True)
    assert rds.describe_db_instances(DBInstanceIdentifier="db")["DBInstances"][0]["DBInstanceClass"] == "db.t3.small"
