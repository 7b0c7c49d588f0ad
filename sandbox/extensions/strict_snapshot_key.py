"""Snapshots outlive their instance, not their key (rule `kms-snapshot-key`).

A final snapshot is the safety net of a destroy; it is encrypted with the instance's
KMS key, and RDS needs that key to restore it. A destroy that also schedules the
key for deletion leaves a snapshot nobody can restore (and, 7 to 30 days later, never
will). moto restored it whatever the key's state.
"""

from __future__ import annotations

from typing import Any

from moto.kms.models import kms_backends
from moto.rds.exceptions import KMSKeyNotAccessibleFault
from moto.rds.models import RDSBackend

from sandbox import strict
from sandbox.extensions._base import add_methods

SNAPSHOT_KEY = strict.rule(
    "kms-snapshot-key",
    aws="An encrypted DB snapshot is restored with its KMS key: while the key is disabled or pending deletion "
        "(and for ever once deleted) RestoreDBInstanceFromDBSnapshot fails with KMSKeyNotAccessibleFault.",
    source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html (\"If you "
           "disable or schedule for deletion the KMS key ... you can't restore\"); "
           "https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html",
    moto="Restored the snapshot whatever state its key was in.",
)
def restore_db_instance_from_db_snapshot(self: RDSBackend, from_snapshot_id: str, overrides: dict[str, Any]) -> Any:
    if strict.on(SNAPSHOT_KEY.id):
        name = from_snapshot_id.rsplit(":", 1)[-1] if from_snapshot_id.startswith("arn:") else from_snapshot_id
        snapshot = self.database_snapshots.get(name)
        key_id = getattr(snapshot, "kms_key_id", None) if snapshot is not None else None
        if key_id:
            kms = kms_backends[self.account_id][self.region_name]
            try:
                state = kms.describe_key(key_id).key_state
            except Exception:  # noqa: BLE001 - a key KMS does not know (deleted) is as unusable
                state = "Deleted"
            if state != "Enabled":
                strict.trip(SNAPSHOT_KEY.id)
                raise KMSKeyNotAccessibleFault(key_id)
    return self._moto_restore_db_instance_from_db_snapshot(from_snapshot_id, overrides)


def install() -> None:
    add_methods(RDSBackend, restore_db_instance_from_db_snapshot, override=True)
