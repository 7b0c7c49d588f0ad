"""Issue 13, rds.DBInstance: each audit finding on the strict sandbox, read back with independent boto3 calls
(same ARN: changed in place; the new setting as AWS reports it)."""

from __future__ import annotations

from typing import Any

import pytest

from resources.rds import DBInstance, DBSubnetGroup
from sandbox import strict
from tests.helpers import declare, vpc_scaffold


@pytest.fixture
def fast(aws: Any, short_ec2_window: None) -> Any:
    aws.rules.configure("async-modify", seconds=1.0, lag=0.05)  # long enough to be seen on a loaded machine
    return aws


def _seen(aws: Any, pid: str) -> dict[str, Any]:
    return aws.client("rds").describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0]


def _primary(aws: Any, name: str = "db", **kw: Any) -> tuple[DBInstance, Any, str, str]:
    props = {"DBInstanceClass": "db.t3.micro", "AllocatedStorage": 20, "MasterUsername": "admin"} | kw
    db = declare(DBInstance(name, **props))
    ctx = aws.ctx(name)
    pid, out = db.create(ctx, dict(db.properties))
    return db, ctx, pid, out["Arn"]


def test_a1_autoscaled_storage_is_no_drift_and_never_shrunk(fast):
    db, ctx, pid, arn = _primary(fast, MaxAllocatedStorage=100)
    rds = fast.client("rds")
    # RDS storage autoscaling grows the volume on its own (what AWS does; moto never would).
    rds.modify_db_instance(DBInstanceIdentifier=pid, AllocatedStorage=30, ApplyImmediately=True)
    ctx.wait_change("rds", "DBInstanceModifying", "DBInstanceModified", DBInstanceIdentifier=pid)
    before = strict.trips().get("rds-storage-shrink", 0)
    seen = db.read(ctx, pid)
    assert seen["AllocatedStorage"] == 20  # what was declared: no diff to "repair"
    # A later change that declares less than the grown size asks for no storage change at all.
    db.update(ctx, pid, seen, dict(db.properties, AllocatedStorage=25, BackupRetentionPeriod=3))
    after = _seen(fast, pid)
    assert after["DBInstanceArn"] == arn and after["AllocatedStorage"] == 30 and after["BackupRetentionPeriod"] == 3
    assert strict.trips().get("rds-storage-shrink", 0) == before
    # A declared shrink of what the state records is refused at plan time, with the reason.
    msg = db.refusal({"AllocatedStorage": 30}, {"AllocatedStorage": 20}, ["AllocatedStorage"])
    assert msg and "cannot shrink storage" in msg and "'db'" in msg


def test_a2_gp3_storage_increase_carries_iops(fast):
    db, ctx, pid, arn = _primary(fast, AllocatedStorage=500, Iops=12000)
    db.update(ctx, pid, dict(db.properties), dict(db.properties, AllocatedStorage=600))
    seen = _seen(fast, pid)
    assert seen["DBInstanceArn"] == arn and seen["AllocatedStorage"] == 600 and seen["Iops"] == 12000
    # Below the gp3 threshold RDS refuses an Iops value: the increase goes out without one.
    small, sctx, spid, _ = _primary(fast, "small")
    small.update(sctx, spid, dict(small.properties), dict(small.properties, AllocatedStorage=30))
    assert _seen(fast, spid)["AllocatedStorage"] == 30


def test_a3_subnet_group_change_is_refused_at_plan_time(fast):
    net = vpc_scaffold(fast, 33, "db", "rds")
    ctx_sg = fast.ctx("db_subnets")
    group = declare(DBSubnetGroup("db_subnets", SubnetIds=net["subnets"][:2]))
    name, _ = group.create(ctx_sg, dict(group.properties))
    db, ctx, pid, arn = _primary(fast, DBSubnetGroupName=name)
    msg = db.refusal(dict(db.properties), dict(db.properties, DBSubnetGroupName="genai-demo-test-other"),
                     ["DBSubnetGroupName"])
    assert msg and "InvalidVPCNetworkStateFault" in msg and "SubnetIds" in msg and "--replace" in msg
    assert "DBSubnetGroupName" not in DBInstance.replace_on  # never a silent replacement of the database
    assert _seen(fast, pid)["DBSubnetGroup"]["DBSubnetGroupName"] == name


def test_b1_managed_password_turned_off_outside_is_turned_back_on_in_place(fast):
    key = fast.client("kms").create_key(Description="secret")["KeyMetadata"]["Arn"]
    db, ctx, pid, arn = _primary(fast, MasterUserSecretKmsKeyId=key)
    rds = fast.client("rds")
    rds.modify_db_instance(DBInstanceIdentifier=pid, ManageMasterUserPassword=False,
                           MasterUserPassword="someone-Typed-1", ApplyImmediately=True)
    ctx.wait_change("rds", "DBInstanceModifying", "DBInstanceModified", DBInstanceIdentifier=pid)
    seen = db.read(ctx, pid)
    assert seen["ManageMasterUserPassword"] is False
    assert "ManageMasterUserPassword" not in DBInstance.replace_on
    out = db.update(ctx, pid, seen, dict(db.properties))
    after = _seen(fast, pid)
    assert after["DBInstanceArn"] == arn and after["MasterUserSecret"]["KmsKeyId"] == key
    assert out["MasterUserSecretArn"] == after["MasterUserSecret"]["SecretArn"]


def test_b2_master_secret_kms_key_changes_in_place(fast):
    kms = fast.client("kms")
    one, two = (kms.create_key(Description=d)["KeyMetadata"]["Arn"] for d in ("one", "two"))
    db, ctx, pid, arn = _primary(fast, MasterUserSecretKmsKeyId=one)
    old_secret = _seen(fast, pid)["MasterUserSecret"]["SecretArn"]
    assert "MasterUserSecretKmsKeyId" not in DBInstance.replace_on
    out = db.update(ctx, pid, dict(db.properties), dict(db.properties, MasterUserSecretKmsKeyId=two))
    after = _seen(fast, pid)
    assert after["DBInstanceArn"] == arn and after["MasterUserSecret"]["KmsKeyId"] == two
    assert out["MasterUserSecretArn"] == after["MasterUserSecret"]["SecretArn"] != old_secret
    sm = fast.client("secretsmanager")
    assert sm.describe_secret(SecretId=after["MasterUserSecret"]["SecretArn"])["KmsKeyId"] in (two, two.split("/")[-1])


def test_b3_replica_is_promoted_not_replaced(fast):
    db, ctx, pid, _ = _primary(fast)
    replica = declare(DBInstance("replica", DBInstanceClass="db.t3.micro", SourceDBInstanceIdentifier=pid))
    rctx = fast.ctx("replica")
    rpid, rout = replica.create(rctx, dict(replica.properties))
    assert "SourceDBInstanceIdentifier" not in DBInstance.replace_on
    promoted = declare(DBInstance("replica", DBInstanceClass="db.t3.micro", PromotedReplica=True,
                                  BackupRetentionPeriod=3))
    promoted.update(rctx, rpid, replica.read(rctx, rpid), dict(promoted.properties))
    seen = _seen(fast, rpid)
    assert seen["DBInstanceArn"] == rout["Arn"] and "ReadReplicaSourceDBInstanceIdentifier" not in seen
    assert seen["BackupRetentionPeriod"] == 3
    assert rpid not in _seen(fast, pid)["ReadReplicaDBInstanceIdentifiers"]
    assert strict.trips().get("rds-promote-read-replica", 0) >= 1
    # A new source cannot be elected: refused at plan time, never a replacement.
    msg = replica.refusal({"SourceDBInstanceIdentifier": pid}, {"SourceDBInstanceIdentifier": "other"},
                          ["SourceDBInstanceIdentifier"])
    assert msg and "cannot change its source" in msg
    with pytest.raises(Exception, match="PromotedReplica"):
        DBInstance("x", DBInstanceClass="db.t3.micro", AllocatedStorage=20)


def test_c2_static_parameters_show_pending_reboot_and_reboot_only_when_asked(fast):
    from resources.rds import PENDING_REBOOT, DBParameterGroup

    pg = declare(DBParameterGroup("params", Family="postgres16", Parameters={"log_min_duration_statement": "500"}))
    pctx = fast.ctx("params")
    pg_name, _ = pg.create(pctx, dict(pg.properties))
    db, ctx, pid, arn = _primary(fast, EngineVersion="16.3", DBParameterGroupName=pg_name)
    new_params = dict(pg.properties, Parameters={"log_min_duration_statement": "500",
                                                 "shared_preload_libraries": "pg_stat_statements"})
    pg.update(pctx, pg_name, dict(pg.properties), new_params)  # static: ApplyMethod pending-reboot
    seen = db.read(ctx, pid)
    assert seen["DBParameterGroupName"] == pg_name + PENDING_REBOOT  # drift the plan shows
    db.update(ctx, pid, seen, dict(db.properties))  # no reboot asked: nothing happens
    assert _seen(fast, pid)["DBParameterGroups"][0]["ParameterApplyStatus"] == "pending-reboot"
    db.update(ctx, pid, seen, dict(db.properties, RebootForParameters=True))
    after = _seen(fast, pid)
    assert after["DBInstanceArn"] == arn and after["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync"
    assert db.read(ctx, pid)["DBParameterGroupName"] == pg_name


def test_c1_removed_properties_go_back_to_aws_defaults(fast):
    db, ctx, pid, arn = _primary(fast, MaxAllocatedStorage=100, EnablePerformanceInsights=True,
                                 EnableIAMDatabaseAuthentication=True)
    before = _seen(fast, pid)
    assert before["MaxAllocatedStorage"] == 100 and before["IAMDatabaseAuthenticationEnabled"] is True
    new = {k: v for k, v in db.properties.items()
           if k not in ("MaxAllocatedStorage", "EnablePerformanceInsights", "EnableIAMDatabaseAuthentication")}
    db.update(ctx, pid, dict(db.properties), new)
    after = _seen(fast, pid)
    assert after["DBInstanceArn"] == arn
    assert after.get("MaxAllocatedStorage") in (None, after["AllocatedStorage"])  # autoscaling off
    assert after["IAMDatabaseAuthenticationEnabled"] is False
    assert after["PerformanceInsightsEnabled"] is False  # (reported by sandbox rule rds-performance-insights-key)


def test_a9_minor_version_upgraded_by_rds_is_no_drift(fast):
    db, ctx, pid, arn = _primary(fast, EngineVersion="16.3")
    rds = fast.client("rds")
    # AutoMinorVersionUpgrade (on by default): RDS moves the instance to 16.4 in a maintenance window.
    rds.modify_db_instance(DBInstanceIdentifier=pid, EngineVersion="16.4", ApplyImmediately=True)
    ctx.wait_change("rds", "DBInstanceModifying", "DBInstanceModified", DBInstanceIdentifier=pid)
    assert _seen(fast, pid)["EngineVersion"] == "16.4"
    assert db.read(ctx, pid)["EngineVersion"] == "16.3"  # no downgrade planned
    rds.modify_db_instance(DBInstanceIdentifier=pid, AutoMinorVersionUpgrade=False, ApplyImmediately=True)
    ctx.wait_change("rds", "DBInstanceModifying", "DBInstanceModified", DBInstanceIdentifier=pid)
    assert db.read(ctx, pid)["EngineVersion"] == "16.4"  # without auto upgrades it is someone's change: drift
