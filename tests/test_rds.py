"""Round trips of the RDS types on moto: subnet group, parameter groups, DB instance and read replica."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import PlanError
from resources.rds import DBClusterParameterGroup, DBInstance, DBParameterGroup, DBSubnetGroup
from tests.helpers import declare, vpc_scaffold


@pytest.fixture
def net(aws: Any) -> dict[str, Any]:
    """A VPC with database subnets in three AZs, a security group and a KMS key."""
    return vpc_scaffold(aws, 9, "db", "rds")


def _modify_subnet_group_keeps_it(aws: Any, subnets: list[str]) -> bool:
    """Capability check: moto 5.2.5 drops a DB subnet group on ModifyDBSubnetGroup (a sandbox fix may land)."""
    rds = aws.client("rds")
    rds.create_db_subnet_group(DBSubnetGroupName="probe", DBSubnetGroupDescription="probe", SubnetIds=subnets)
    rds.modify_db_subnet_group(DBSubnetGroupName="probe", DBSubnetGroupDescription="probe2", SubnetIds=subnets)
    try:
        rds.describe_db_subnet_groups(DBSubnetGroupName="probe")
    except rds.exceptions.DBSubnetGroupNotFoundFault:
        return False
    rds.delete_db_subnet_group(DBSubnetGroupName="probe")
    return True


def test_db_subnet_group_round_trip(aws, net):
    sg = declare(DBSubnetGroup("db_subnets", SubnetIds=net["subnets"][:2]))
    ctx = aws.ctx("db_subnets")
    pid, out = sg.create(ctx, dict(sg.properties))
    assert pid == "genai-demo-test-db-subnets"
    rds = aws.client("rds")
    seen = rds.describe_db_subnet_groups(DBSubnetGroupName=pid)["DBSubnetGroups"][0]
    assert seen["VpcId"] == net["vpc"] == out["VpcId"]
    assert sorted(s["SubnetIdentifier"] for s in seen["Subnets"]) == sorted(net["subnets"][:2])
    tags = {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=out["Arn"])["TagList"]}
    assert tags["infra:address"] == "main.db_subnets"

    assert sg.read(ctx, pid) == {"DBSubnetGroupDescription": "Database subnets managed by genai-infra",
                                 "SubnetIds": net["subnets"][:2]}
    assert sg.find(ctx)[0] == pid
    sg.delete(ctx, pid)
    sg.delete(ctx, pid)
    assert sg.read(ctx, pid) is None
    assert sg.find(ctx) is None


def test_db_subnet_group_update_in_place(aws, net):
    if not _modify_subnet_group_keeps_it(aws, net["subnets"][:2]):
        pytest.skip("moto drops the DB subnet group on ModifyDBSubnetGroup and no sandbox fix is loaded")
    sg = declare(DBSubnetGroup("db_subnets", SubnetIds=net["subnets"][:2]))
    ctx = aws.ctx("db_subnets")
    pid, _ = sg.create(ctx, dict(sg.properties))
    new = dict(sg.properties, SubnetIds=net["subnets"])
    sg.update(ctx, pid, dict(sg.properties), new)
    seen = aws.client("rds").describe_db_subnet_groups(DBSubnetGroupName=pid)["DBSubnetGroups"][0]
    assert sorted(s["SubnetIdentifier"] for s in seen["Subnets"]) == sorted(net["subnets"])


@pytest.mark.parametrize("cls,family,describe", [
    (DBParameterGroup, "postgres16", "describe_db_parameters"),
    (DBClusterParameterGroup, "aurora-postgresql16", "describe_db_cluster_parameters"),
])
def test_parameter_group_round_trip(aws, cls, family, describe):
    pg = declare(cls("db_params", Family=family, Parameters={"rds.force_ssl": 1, "log_min_duration_statement": "1000"}))
    assert pg.properties["Parameters"]["rds.force_ssl"] == "1"  # normalised to the wire's strings
    ctx = aws.ctx("db_params")
    pid, out = pg.create(ctx, dict(pg.properties))
    rds = aws.client("rds")
    kind = cls.kind
    params = getattr(rds, describe)(**{f"{kind}Name": pid})["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in params} == \
        {"rds.force_ssl": "1", "log_min_duration_statement": "1000"}
    assert out["Arn"].startswith("arn:aws:rds:")

    assert pg.read(ctx, pid)["Parameters"] == {"rds.force_ssl": "1", "log_min_duration_statement": "1000"}
    assert pg.read(ctx, pid)["Family"] == family
    new = dict(pg.properties, Parameters={"rds.force_ssl": "1", "log_min_duration_statement": "500"})
    pg.update(ctx, pid, dict(pg.properties), new)
    params = getattr(rds, describe)(**{f"{kind}Name": pid})["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in params}["log_min_duration_statement"] == "500"

    assert pg.find(ctx)[0] == pid
    pg.delete(ctx, pid)
    pg.delete(ctx, pid)
    assert pg.read(ctx, pid) is None
    assert pg.find(ctx) is None


def test_db_instance_and_replica_round_trip(aws, net):
    rds = aws.client("rds")
    ctx_sg = aws.ctx("db_subnets")
    subnet_group = declare(DBSubnetGroup("db_subnets", SubnetIds=net["subnets"]))
    sg_name, _ = subnet_group.create(ctx_sg, dict(subnet_group.properties))

    db = declare(DBInstance(
        "db", DBInstanceClass="db.t3.micro", EngineVersion="16.3", AllocatedStorage=20, KmsKeyId=net["key"],
        MasterUsername="genaidemo_admin", MasterUserSecretKmsKeyId=net["key"], DBName="genaidemo",
        DBSubnetGroupName=sg_name, VpcSecurityGroupIds=[net["sg"]], BackupRetentionPeriod=1,
        DeletionProtection=True, SkipFinalSnapshot=False))
    ctx = aws.ctx("db")
    pid, out = db.create(ctx, dict(db.properties))
    assert pid == "genai-demo-test-db"
    seen = rds.describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0]
    assert seen["Engine"] == "postgres" and seen["DBInstanceClass"] == "db.t3.micro"
    assert seen["StorageEncrypted"] is True and seen["KmsKeyId"] == net["key"]
    assert seen["DeletionProtection"] is True and seen["PubliclyAccessible"] is False
    assert seen["DBSubnetGroup"]["DBSubnetGroupName"] == sg_name
    assert [g["VpcSecurityGroupId"] for g in seen["VpcSecurityGroups"]] == [net["sg"]]
    assert seen["MasterUserSecret"]["KmsKeyId"] == net["key"]
    assert out["MasterUserSecretArn"] == seen["MasterUserSecret"]["SecretArn"]
    assert out["Endpoint"] == f"{seen['Endpoint']['Address']}:{seen['Endpoint']['Port']}"
    assert {t["Key"]: t["Value"] for t in seen["TagList"]}["infra:address"] == "main.db"
    assert "MasterUserPassword" not in db.properties and "password" not in repr(out).lower()

    state = db.read(ctx, pid)
    assert state["ManageMasterUserPassword"] is True and state["EngineVersion"] == "16.3"
    assert state["DBInstanceClass"] == "db.t3.micro" and state["VpcSecurityGroupIds"] == [net["sg"]]

    replica = declare(DBInstance("db_replica_1", DBInstanceClass="db.t3.micro", SourceDBInstanceIdentifier=pid,
                                  DBSubnetGroupName=sg_name, VpcSecurityGroupIds=[net["sg"]]))
    rctx = aws.ctx("db_replica_1")
    rpid, _ = replica.create(rctx, dict(replica.properties))
    assert rds.describe_db_instances(DBInstanceIdentifier=rpid)["DBInstances"][0][
        "ReadReplicaSourceDBInstanceIdentifier"] == pid
    assert rpid in rds.describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0][
        "ReadReplicaDBInstanceIdentifiers"]
    assert replica.read(rctx, rpid)["SourceDBInstanceIdentifier"] == pid
    assert "MasterUsername" not in replica.read(rctx, rpid)

    new = dict(db.properties, DBInstanceClass="db.t3.small", BackupRetentionPeriod=7)
    db.update(ctx, pid, dict(db.properties), new)
    seen = rds.describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0]
    assert seen["DBInstanceClass"] == "db.t3.small" and seen["BackupRetentionPeriod"] == 7

    assert db.find(ctx)[0] == pid
    assert replica.find(rctx)[0] == rpid
    assert replica.find(aws.ctx("db_replica_1", env="other")) is None

    replica.delete(rctx, rpid)
    replica.delete(rctx, rpid)
    db.delete(ctx, pid)  # deletion protection lifted, final snapshot kept (SkipFinalSnapshot=False)
    db.delete(ctx, pid)
    snaps = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert any(s["DBSnapshotIdentifier"].startswith(f"{pid}-final-") for s in snaps)
    for r, c, p in ((db, ctx, pid), (replica, rctx, rpid)):
        assert r.read(c, p) is None
        assert r.find(c) is None
    subnet_group.delete(ctx_sg, sg_name)


def test_bad_inputs_fail_at_definition():
    with pytest.raises(PlanError, match="unknown property"):
        DBInstance("db", DBInstanceClass="db.t3.micro", MasterUsername="u", AllocatedStorage=20, Password="x")
    with pytest.raises(PlanError, match="must be int"):
        DBInstance("db", DBInstanceClass="db.t3.micro", MasterUsername="u", AllocatedStorage="20")
    with pytest.raises(PlanError, match="ManageMasterUserPassword"):
        DBInstance("db", DBInstanceClass="db.t3.micro", MasterUsername="u", AllocatedStorage=20,
                   ManageMasterUserPassword=False)
    with pytest.raises(PlanError, match="inherits"):
        DBInstance("r", DBInstanceClass="db.t3.micro", SourceDBInstanceIdentifier="db", MasterUsername="u")
    with pytest.raises(PlanError, match="at least two"):
        DBSubnetGroup("s", SubnetIds=["subnet-1"])
    with pytest.raises(PlanError, match="strings or numbers"):
        DBParameterGroup("p", Family="postgres16", Parameters={"x": [1]})


def test_update_waits_out_the_modification_and_the_next_one_follows(aws):
    """async-modify: the status reads "available" for a moment after ModifyDBInstance; the update returns only
    once the new class is applied, and a second update straight after is not refused."""
    from sandbox import strict

    db = declare(DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="u",
                            BackupRetentionPeriod=1))
    ctx = aws.ctx("db")
    pid, _ = db.create(ctx, dict(db.properties))
    rds = aws.client("rds")
    trips = strict.trips().get("async-modify", 0)
    bigger = dict(db.properties, DBInstanceClass="db.t3.small")
    db.update(ctx, pid, dict(db.properties), bigger)
    seen = rds.describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0]
    assert seen["DBInstanceStatus"] == "available" and seen["DBInstanceClass"] == "db.t3.small"
    assert not seen.get("PendingModifiedValues")
    db.update(ctx, pid, bigger, dict(bigger, BackupRetentionPeriod=7))  # only a window change: no pending value
    seen = rds.describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0]
    assert seen["DBInstanceStatus"] == "available" and seen["BackupRetentionPeriod"] == 7
    rds.modify_db_instance(DBInstanceIdentifier=pid, CopyTagsToSnapshot=False, ApplyImmediately=True)  # not busy
    assert strict.trips().get("async-modify", 0) == trips
