"""RDS Performance Insights as AWS keeps it (rule `rds-performance-insights-key`).

moto 5.2.5 ignored EnablePerformanceInsights, PerformanceInsightsKMSKeyId and
PerformanceInsightsRetentionPeriod on CreateDBInstance, CreateDBInstanceReadReplica and
ModifyDBInstance, and DescribeDBInstances reported none of them, so a tool could neither
show that Performance Insights runs with the plan's key nor meet RDS's refusal to change
that key. Here they are stored and reported: Performance Insights on takes the given key or
the account's aws/rds key, and RDS keeps that key for good, even when Performance Insights is
turned off and on again. Storing them is fidelity (always on); the refusals are the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBInstance, RDSBackend

from sandbox import lifecycle, strict

OWNER = "strict_rds_insights"

RULE = strict.rule(
    "rds-performance-insights-key",
    aws="Performance Insights keeps the KMS key it was first turned on with (the given PerformanceInsightsKMSKeyId, "
        "else the account's aws/rds key), also while it is off: a ModifyDBInstance naming another key, or turning "
        "it on without naming the instance's own customer-managed key (RDS reads that as the default key), is "
        "refused with InvalidParameterCombination \"You can't change your Performance Insights KMS key.\" A "
        "retention other than 7, 731 or a multiple of 31 up to 713 days is refused (InvalidParameterValue).",
    source="hashicorp/terraform-provider-aws#9746 (acceptance test DefaultKeyToCustomKey: \"InvalidParameterCombination: "
           "You cannot change your Performance Insights KMS key\"), #44046 and #42981 (\"You can't change your "
           "Performance Insights KMS key.\" when the key is not sent with the change), pull 6453 (\"once PI is "
           "enabled, the KMS Key cannot ever be changed. Even if you disable it\"); botocore rds ModifyDBInstance."
           "PerformanceInsightsKMSKeyId and .PerformanceInsightsRetentionPeriod",
    moto="Ignored the three Performance Insights parameters: DescribeDBInstances never reported "
         "PerformanceInsightsEnabled, a key or a retention, and any key change passed.",
)
RETENTION = frozenset({7, 731, *(31 * m for m in range(1, 24))})


def _default_key(backend: RDSBackend) -> str:
    """The AWS-managed aws/rds key, as DescribeDBInstances names it (by its alias: the sandbox makes no key)."""
    return f"arn:aws:kms:{backend.region_name}:{backend.account_id}:alias/aws/rds"


def _refuse(code: str, message: str) -> None:
    strict.trip(RULE.id)
    raise RDSClientError(code, message)


def _check(backend: RDSBackend, db: DBInstance | None, kw: dict[str, Any]) -> None:
    if not strict.on(RULE.id):
        return
    retention = kw.get("performance_insights_retention_period")
    if retention is not None and int(retention) not in RETENTION:
        _refuse("InvalidParameterValue", f"Invalid Performance Insights retention period: {retention}. Valid "
                "values are 7, month * 31 (where month is from 1-23), and 731.")
    current = getattr(db, "performance_insights_kms_key_id", None) if db is not None else None
    if current is None:
        return
    asked = kw.get("performance_insights_kms_key_id")
    if asked is not None and asked != current:
        _refuse("InvalidParameterCombination", "You can't change your Performance Insights KMS key.")
    if asked is None and kw.get("enable_performance_insights") and current != _default_key(backend):
        _refuse("InvalidParameterCombination", "You can't change your Performance Insights KMS key.")


def _apply(backend: RDSBackend, db: DBInstance, kw: dict[str, Any], creating: bool) -> None:
    enabled = kw.get("enable_performance_insights")
    if enabled is None and creating:
        enabled = False
    if enabled is not None:
        db.performance_insights_enabled = bool(enabled)
    if db.__dict__.get("performance_insights_enabled"):
        if db.__dict__.get("performance_insights_kms_key_id") is None:
            db.performance_insights_kms_key_id = kw.get("performance_insights_kms_key_id") or _default_key(backend)
        retention = kw.get("performance_insights_retention_period")
        if retention is not None or db.__dict__.get("performance_insights_retention_period") is None:
            db.performance_insights_retention_period = int(retention or 7)


def create_db_instance(self: RDSBackend, original: Callable[..., Any], db_kwargs: dict[str, Any]) -> Any:
    _check(self, None, db_kwargs)
    db = original(self, db_kwargs)
    _apply(self, db, db_kwargs, creating=True)
    return db


def create_db_instance_read_replica(self: RDSBackend, original: Callable[..., Any], db_kwargs: dict[str, Any]) -> Any:
    _check(self, None, db_kwargs)
    db = original(self, db_kwargs)
    _apply(self, db, db_kwargs, creating=True)
    return db


def modify_db_instance(self: RDSBackend, original: Callable[..., Any], db_instance_identifier: str,
                       db_kwargs: dict[str, Any]) -> Any:
    db = self.databases.get(db_instance_identifier)
    _check(self, db, db_kwargs)
    pi = {k: db_kwargs[k] for k in ("enable_performance_insights", "performance_insights_kms_key_id",
                                    "performance_insights_retention_period") if k in db_kwargs}
    out = original(self, db_instance_identifier, db_kwargs)
    if db is not None and pi:
        _apply(self, db, pi, creating=False)
    return out


def install() -> None:
    lifecycle.chain(RDSBackend, "create_db_instance", create_db_instance, owner=OWNER)
    lifecycle.chain(RDSBackend, "create_db_instance_read_replica", create_db_instance_read_replica, owner=OWNER)
    lifecycle.chain(RDSBackend, "modify_db_instance", modify_db_instance, owner=OWNER)
