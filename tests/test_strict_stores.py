"""The data stores' strict rules, each tripped with raw boto3 (sandbox/extensions/strict_stores.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox import strict
from tests.helpers import vpc_scaffold


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


@pytest.fixture
def rds(aws: Any, short_ec2_window: None) -> Any:
    aws.rules.configure("async-modify", seconds=0.05, lag=0.0)
    return aws.client("rds")


def _settle(rds: Any, name: str) -> dict[str, Any]:
    end = time.monotonic() + 5
    while True:
        db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        if db["DBInstanceStatus"] == "available" and not db.get("PendingModifiedValues"):
            return db
        assert time.monotonic() < end, db["DBInstanceStatus"]
        time.sleep(0.02)


def _db(rds: Any, name: str = "db", **kw: Any) -> dict[str, Any]:
    params = {"DBInstanceClass": "db.t3.micro", "Engine": "postgres", "AllocatedStorage": 20,
              "StorageType": "gp3", "MasterUsername": "admin", "ManageMasterUserPassword": True} | kw
    rds.create_db_instance(DBInstanceIdentifier=name, **params)
    return _settle(rds, name)


def test_rule_rds_storage_shrink(rds):
    _db(rds, AllocatedStorage=30)
    before = strict.trips().get("rds-storage-shrink", 0)
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="db", AllocatedStorage=20, ApplyImmediately=True)
    assert code(exc) == "InvalidParameterCombination" and "can only grow" in str(exc.value)
    assert strict.trips()["rds-storage-shrink"] == before + 1
    assert _settle(rds, "db")["AllocatedStorage"] == 30
    rds.modify_db_instance(DBInstanceIdentifier="db", AllocatedStorage=40, ApplyImmediately=True)
    assert _settle(rds, "db")["AllocatedStorage"] == 40


def test_rule_rds_storage_iops(rds):
    _db(rds, AllocatedStorage=500, Iops=12000)
    with pytest.raises(ClientError) as exc:  # gp3 above the threshold: Iops must come along
        rds.modify_db_instance(DBInstanceIdentifier="db", AllocatedStorage=600, ApplyImmediately=True)
    assert code(exc) == "InvalidParameterCombination" and "Iops" in str(exc.value)
    rds.modify_db_instance(DBInstanceIdentifier="db", AllocatedStorage=600, Iops=12000, ApplyImmediately=True)
    assert _settle(rds, "db")["AllocatedStorage"] == 600

    _db(rds, "small", AllocatedStorage=20)
    with pytest.raises(ClientError) as exc:  # gp3 below it: no Iops allowed
        rds.modify_db_instance(DBInstanceIdentifier="small", AllocatedStorage=30, Iops=3000, ApplyImmediately=True)
    assert "storage size less than 400" in str(exc.value)
    rds.modify_db_instance(DBInstanceIdentifier="small", AllocatedStorage=30, ApplyImmediately=True)
    assert _settle(rds, "small")["AllocatedStorage"] == 30


def test_rule_rds_subnet_group_same_vpc(aws, rds):
    a, b = vpc_scaffold(aws, 31, "a", "a"), vpc_scaffold(aws, 32, "b", "b")
    rds.create_db_subnet_group(DBSubnetGroupName="one", DBSubnetGroupDescription="1", SubnetIds=a["subnets"][:2])
    rds.create_db_subnet_group(DBSubnetGroupName="two", DBSubnetGroupDescription="2", SubnetIds=a["subnets"][1:])
    rds.create_db_subnet_group(DBSubnetGroupName="other", DBSubnetGroupDescription="3", SubnetIds=b["subnets"][:2])
    _db(rds, DBSubnetGroupName="one")
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="db", DBSubnetGroupName="two", ApplyImmediately=True)
    assert code(exc) == "InvalidVPCNetworkStateFault" and "same VPC" in str(exc.value)
    assert _settle(rds, "db")["DBSubnetGroup"]["DBSubnetGroupName"] == "one"
    rds.modify_db_instance(DBInstanceIdentifier="db", DBSubnetGroupName="other", ApplyImmediately=True)
    assert _settle(rds, "db")["DBSubnetGroup"]["VpcId"] == b["vpc"]


def test_rule_rds_managed_secret(aws, rds):
    kms = aws.client("kms")
    one, two = (kms.create_key(Description=d)["KeyMetadata"]["Arn"] for d in ("one", "two"))
    db = _db(rds, MasterUserSecretKmsKeyId=one)
    secret = db["MasterUserSecret"]["SecretArn"]
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="db", MasterUserSecretKmsKeyId=two, ApplyImmediately=True)
    assert code(exc) == "InvalidParameterCombination" and "KMS key" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="db", ManageMasterUserPassword=False, ApplyImmediately=True)
    assert "MasterUserPassword" in str(exc.value)
    rds.modify_db_instance(DBInstanceIdentifier="db", ManageMasterUserPassword=True, ApplyImmediately=True)
    assert _settle(rds, "db")["MasterUserSecret"]["SecretArn"] == secret  # still the same secret
    rds.modify_db_instance(DBInstanceIdentifier="db", ManageMasterUserPassword=False,
                           MasterUserPassword="a-Temporary-1", ApplyImmediately=True)
    assert "MasterUserSecret" not in _settle(rds, "db")
    rds.modify_db_instance(DBInstanceIdentifier="db", ManageMasterUserPassword=True, MasterUserSecretKmsKeyId=two,
                           ApplyImmediately=True)
    assert _settle(rds, "db")["MasterUserSecret"]["KmsKeyId"] == two


def test_rule_rds_promote_read_replica(rds):
    _db(rds)
    rds.create_db_instance_read_replica(DBInstanceIdentifier="replica", SourceDBInstanceIdentifier="db")
    _settle(rds, "replica")
    with pytest.raises(ClientError) as exc:
        rds.promote_read_replica(DBInstanceIdentifier="db")
    assert code(exc) == "InvalidDBInstanceState"
    rds.promote_read_replica(DBInstanceIdentifier="replica")
    seen = _settle(rds, "replica")
    assert "ReadReplicaSourceDBInstanceIdentifier" not in seen
    assert "replica" not in rds.describe_db_instances(DBInstanceIdentifier="db")["DBInstances"][0][
        "ReadReplicaDBInstanceIdentifiers"]


def test_rule_opensearch_update_limits(aws, short_ec2_window):
    aws.rules.configure("async-modify", seconds=0.05, lag=0.0)
    os_ = aws.client("opensearch")
    kms = aws.client("kms")
    one, two = (kms.create_key(Description=d)["KeyMetadata"]["Arn"] for d in ("one", "two"))
    cluster = {"InstanceType": "t3.small.search", "InstanceCount": 1}
    os_.create_domain(DomainName="plain", ClusterConfig=cluster, EncryptionAtRestOptions={"Enabled": False},
                      NodeToNodeEncryptionOptions={"Enabled": True})
    os_.create_domain(DomainName="sealed", ClusterConfig=cluster,
                      EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": one})
    refused = [("sealed", {"EncryptionAtRestOptions": {"Enabled": False}}, "cannot be disabled"),
               ("sealed", {"EncryptionAtRestOptions": {"Enabled": True, "KmsKeyId": two}}, "KMS key"),
               ("plain", {"NodeToNodeEncryptionOptions": {"Enabled": False}}, "Node-to-node"),
               ("plain", {"VPCOptions": {"SubnetIds": ["subnet-1"]}}, "into one")]
    for name, change, text in refused:
        with pytest.raises(ClientError) as exc:
            os_.update_domain_config(DomainName=name, **change)
        assert code(exc) == "ValidationException" and text in str(exc.value)
    os_.update_domain_config(DomainName="plain", EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": two})
    assert os_.describe_domain(DomainName="plain")["DomainStatus"]["EncryptionAtRestOptions"]["Enabled"] is True


def _rg_available(ec: Any, rid: str) -> dict[str, Any]:
    end = time.monotonic() + 5
    while True:
        rg = ec.describe_replication_groups(ReplicationGroupId=rid)["ReplicationGroups"][0]
        if rg["Status"] == "available":
            return rg
        assert time.monotonic() < end, rg["Status"]
        time.sleep(0.02)


def test_rule_elasticache_modify_path(aws):
    aws.rules.configure("async-modify", seconds=0.05, lag=0.0)
    ec = aws.client("elasticache")

    def modify(**kw: Any) -> None:
        ec.modify_replication_group(ReplicationGroupId="rg", ApplyImmediately=True, **kw)
        _rg_available(ec, "rg")

    ec.create_replication_group(ReplicationGroupId="rg", ReplicationGroupDescription="d", Engine="redis",
                                EngineVersion="7.1", CacheNodeType="cache.t4g.micro", NumCacheClusters=2,
                                TransitEncryptionEnabled=False)
    _rg_available(ec, "rg")
    refused = [({"TransitEncryptionEnabled": True}, "preferred"),
               ({"TransitEncryptionMode": "required"}, "first"),
               ({"ClusterMode": "enabled"}, "compatible"),
               ({"AuthToken": "a" * 32, "AuthTokenUpdateStrategy": "ROTATE"}, "in-transit encryption")]
    for change, text in refused:
        with pytest.raises(ClientError) as exc:
            ec.modify_replication_group(ReplicationGroupId="rg", ApplyImmediately=True, **change)
        assert code(exc) in ("InvalidParameterValue", "InvalidParameterCombination") and text in str(exc.value)
    modify(TransitEncryptionEnabled=True, TransitEncryptionMode="preferred")
    modify(TransitEncryptionMode="required")
    modify(ClusterMode="compatible")
    modify(ClusterMode="enabled")
    modify(Engine="valkey", EngineVersion="8.0")
    rg = _rg_available(ec, "rg")
    assert rg["TransitEncryptionEnabled"] is True and rg["TransitEncryptionMode"] == "required"
    assert rg["ClusterMode"] == "enabled" and rg["Engine"] == "valkey"
    with pytest.raises(ClientError):
        ec.modify_replication_group(ReplicationGroupId="rg", ApplyImmediately=True, Engine="redis")

    from moto.backends import get_backend

    from sandbox.extensions.strict_stores import auth_tokens

    group = get_backend("elasticache")[aws.clients.account_id][aws.region].replication_groups["rg"]
    modify(AuthToken="a" * 32, AuthTokenUpdateStrategy="ROTATE")
    modify(AuthToken="b" * 32, AuthTokenUpdateStrategy="ROTATE")
    assert auth_tokens(group) == ["a" * 32, "b" * 32]  # both accepted while clients move
    modify(AuthToken="b" * 32, AuthTokenUpdateStrategy="SET")
    assert auth_tokens(group) == ["b" * 32]


def test_rule_rds_parameter_pending_reboot(rds):
    rds.create_db_parameter_group(DBParameterGroupName="pg", DBParameterGroupFamily="postgres16", Description="d")
    _db(rds, DBParameterGroupName="pg", EngineVersion="16.3")
    rds.modify_db_parameter_group(DBParameterGroupName="pg", Parameters=[{
        "ParameterName": "shared_preload_libraries", "ParameterValue": "pg_stat_statements",
        "ApplyMethod": "pending-reboot"}])
    status = _settle(rds, "db")["DBParameterGroups"][0]["ParameterApplyStatus"]
    assert status == "pending-reboot"
    rds.reboot_db_instance(DBInstanceIdentifier="db")
    assert _settle(rds, "db")["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync"


def test_rule_rds_storage_optimizing_and_the_types_retry_covers_it(aws, rds):
    from core.errors import matching
    from resources.rds import DBInstance

    aws.rules.configure("rds-storage-optimizing", seconds=0.5)
    _db(rds)
    rds.modify_db_instance(DBInstanceIdentifier="db", AllocatedStorage=30, ApplyImmediately=True)
    _settle(rds, "db")
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="db", AllocatedStorage=40, ApplyImmediately=True)
    assert code(exc) == "InvalidParameterCombination" and "being optimized" in str(exc.value)
    assert matching(DBInstance.retries, exc.value, "update") is not None  # the update waits it out
    time.sleep(0.5)
    rds.modify_db_instance(DBInstanceIdentifier="db", AllocatedStorage=40, ApplyImmediately=True)
    assert _settle(rds, "db")["AllocatedStorage"] == 40
