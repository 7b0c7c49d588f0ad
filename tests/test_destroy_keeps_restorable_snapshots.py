"""Issue 14 item 5's must-show: a destroy with production's settings (final snapshot kept, 30-day key window)
leaves a final snapshot whose key is not pending deletion, says where it is, and RDS restores it."""

from __future__ import annotations

from typing import Any

from orchestrator.model import Plan
from orchestrator.runs import Options, Workspace, run_changes
from plans.genai_demo.profiles import profile
from resources.kms import Key
from resources.rds import DBInstance
from tests.fakes import install_plan


def _data_plan(env: str) -> Plan:
    """The data tier's key and database as production declares them (the settings that matter here)."""
    p = profile("production")
    plan = Plan(project="genai-demo", env=env, region=p["region"])
    stack = plan.stack("main")
    key = stack.add(Key("kms_key", Description="data", PendingWindowInDays=p["security"]["kms_deletion_window_days"]))
    stack.add(DBInstance("db", DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20,
                         MasterUsername="app", ManageMasterUserPassword=True, StorageEncrypted=True,
                         KmsKeyId=key["Arn"], BackupRetentionPeriod=7,
                         SkipFinalSnapshot=p["rds"]["skip_final_snapshot"]))
    return plan


DATA = install_plan("production_data_tier", _data_plan)


def _run(aws: Any, operation: str, **kw: Any) -> Any:
    ws = Workspace(Options(env="production", plan_name=DATA, region=aws.region, poll_delay=0.01), clients=aws.clients)
    _, report = run_changes(ws, operation, **kw)
    assert report is not None and report.ok, report.summary()
    return report


def test_a_production_destroy_leaves_restorable_snapshots(aws):
    assert profile("production")["rds"]["skip_final_snapshot"] is False
    aws.rules.off("iam-propagation")  # nothing here waits on a role
    said: dict[str, Any] = {}
    _run(aws, "apply")
    ws = Workspace(Options(env="production", plan_name=DATA, region=aws.region, poll_delay=0.01),
                   clients=aws.clients)
    _, report = run_changes(ws, "destroy", destroy=True, allow_protected=True,
                            on_event=lambda addr, kind, info: said.__setitem__(addr, info) if kind == "done" else None)
    assert report is not None and report.ok, report.summary()
    assert report.summary()["deleted"] == ["main.db", "main.kms_key"]

    rds, kms = aws.client("rds"), aws.client("kms")
    snaps = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert len(snaps) == 1 and snaps[0]["DBSnapshotIdentifier"].startswith("genai-demo-production-db-final-")
    snap = snaps[0]
    key = kms.describe_key(KeyId=snap["KmsKeyId"])["KeyMetadata"]
    assert key["KeyState"] == "Enabled" and "DeletionDate" not in key
    # The destroy said where the snapshot is and why the key stayed.
    _, db_said, _ = said["main.db"]
    assert snap["DBSnapshotIdentifier"] in db_said and snap["KmsKeyId"] in db_said
    _, key_said, _ = said["main.kms_key"]
    assert "kept enabled, not scheduled for deletion" in key_said and snap["DBSnapshotIdentifier"] in key_said

    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="restored",
                                             DBSnapshotIdentifier=snap["DBSnapshotIdentifier"])
    restored = rds.describe_db_instances(DBInstanceIdentifier="restored")["DBInstances"][0]
    assert restored["StorageEncrypted"] and restored["KmsKeyId"] == snap["KmsKeyId"]
