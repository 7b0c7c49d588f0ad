"""A new DynamoDB table refuses point-in-time recovery for its first moments (rule `dynamodb-pitr-new-table`).

DynamoDB turns on a new table's continuous backups in the background after
the table is ACTIVE; until then UpdateContinuousBackups answers
ContinuousBackupsUnavailableException. The state store enables PITR right
after creating its table, so the first command in a new account met this.
moto enabled PITR at once.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX
from moto.dynamodb.models import DynamoDBBackend

from sandbox import strict
from sandbox.extensions._base import AwsJsonError, add_methods, store

RULE = strict.rule(
    "dynamodb-pitr-new-table",
    aws="UpdateContinuousBackups on a table created moments ago fails with ContinuousBackupsUnavailableException "
        "\"Backups are being enabled for the table: <name>. Please retry later\" until DynamoDB has set up its "
        "backups.",
    source="hashicorp/terraform-provider-aws internal/service/dynamodb/table.go (updatePITR retries "
           "ContinuousBackupsUnavailableException \"Backups are being enabled\" for 20 minutes, then "
           "waitPITRUpdated reads it back)",
    moto="Enabled PITR at once on a table created the same instant.",
    seconds=1.0,
)


def _created(backend: DynamoDBBackend) -> strict.Clock:
    return store(backend, "pitr_created", strict.Clock)


def create_table(self: DynamoDBBackend, name: str, *args: Any, **kwargs: Any) -> Any:
    table = self._moto_create_table(name, *args, **kwargs)
    _created(self).mark(name)
    return table


def update_continuous_backups(self: DynamoDBBackend, table_name: str,
                              point_in_time_spec: dict[str, Any]) -> dict[str, Any]:
    if (strict.on(RULE.id) and point_in_time_spec.get("PointInTimeRecoveryEnabled")
            and table_name in self.tables
            and _created(self).within(table_name, float(strict.setting(RULE.id, "seconds")))):
        strict.trip(RULE.id)
        raise AwsJsonError(ERROR_TYPE_PREFIX + "ContinuousBackupsUnavailableException",
                           f"Backups are being enabled for the table: {table_name}. Please retry later")
    return self._moto_update_continuous_backups(table_name, point_in_time_spec)


def install() -> None:
    add_methods(DynamoDBBackend, create_table, update_continuous_backups, override=True)
