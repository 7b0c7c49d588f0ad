"""The snapshot-key rule (sandbox/extensions/strict_snapshot_key.py), tripped with plain boto3: a destroy
that schedules the key of its own final snapshot leaves a snapshot RDS refuses to restore."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _code(exc: pytest.ExceptionInfo) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_rule_kms_snapshot_key(aws):
    rds, kms = aws.client("rds"), aws.client("kms")
    meta = kms.create_key(Description="db")["KeyMetadata"]
    key, key_id = meta["Arn"], meta["KeyId"]
    rds.create_db_instance(DBInstanceIdentifier="db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           AllocatedStorage=20, MasterUsername="app", MasterUserPassword="secret-password-1",
                           StorageEncrypted=True, KmsKeyId=key)
    rds.delete_db_instance(DBInstanceIdentifier="db", SkipFinalSnapshot=False, FinalDBSnapshotIdentifier="db-final")
    snap = rds.describe_db_snapshots(DBSnapshotIdentifier="db-final")["DBSnapshots"][0]
    assert snap["Encrypted"] and snap["KmsKeyId"] == key
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=30)  # what a destroy of the key does
    with pytest.raises(ClientError) as exc:
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="restored", DBSnapshotIdentifier="db-final")
    assert _code(exc)[0] == "KMSKeyNotAccessibleFault" and key in _code(exc)[1]
    # Cancelling the deletion leaves the key disabled: still unrestorable until it is enabled again.
    kms.cancel_key_deletion(KeyId=key_id)
    with pytest.raises(ClientError):
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="restored", DBSnapshotIdentifier="db-final")
    kms.enable_key(KeyId=key_id)
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="restored", DBSnapshotIdentifier="db-final")
    assert rds.describe_db_instances(DBInstanceIdentifier="restored")["DBInstances"][0]["KmsKeyId"] == key
