"""RDS Performance Insights with the plan's KMS key (CKV_AWS_354): strict rule rds-performance-insights-key with
raw boto3, then rds.DBInstance turning it on with its key in place, read back through independent boto3 calls,
and a later key change refused at plan time (RDS keeps the first key)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from resources.rds import DBInstance
from tests.helpers import declare

DB = {"DBInstanceClass": "db.t3.micro", "Engine": "postgres", "AllocatedStorage": 20, "MasterUsername": "admin"}


@pytest.fixture
def fast(aws: Any) -> Any:
    aws.rules.configure("async-modify", seconds=0.3, lag=0.05)
    return aws


def _pi(aws: Any, pid: str) -> dict[str, Any]:
    db = aws.client("rds").describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0]
    return {k: v for k, v in db.items() if k.startswith("PerformanceInsights")}


def _refused(exc: pytest.ExceptionInfo[ClientError], code: str = "InvalidParameterCombination") -> str:
    assert exc.value.response["Error"]["Code"] == code
    return exc.value.response["Error"]["Message"]


def test_rule_rds_performance_insights_key(fast):
    rds, kms = fast.client("rds"), fast.client("kms")
    key, other = (kms.create_key(Description=d)["KeyMetadata"]["Arn"] for d in ("pi", "other"))
    rds.create_db_instance(DBInstanceIdentifier="pi-db", MasterUserPassword="password-1234", **DB,
                           EnablePerformanceInsights=True, PerformanceInsightsKMSKeyId=key)
    assert _pi(fast, "pi-db") == {"PerformanceInsightsEnabled": True, "PerformanceInsightsKMSKeyId": key,
                                  "PerformanceInsightsRetentionPeriod": 7}
    for kw in ({"PerformanceInsightsKMSKeyId": other}, {}):  # another key; or none, which RDS reads as aws/rds
        with pytest.raises(ClientError) as exc:
            rds.modify_db_instance(DBInstanceIdentifier="pi-db", EnablePerformanceInsights=True, ApplyImmediately=True,
                                   PerformanceInsightsRetentionPeriod=31, **kw)
        assert _refused(exc) == "You can't change your Performance Insights KMS key."
    # Off and on again: the first key stays, and another one is still refused.
    rds.modify_db_instance(DBInstanceIdentifier="pi-db", EnablePerformanceInsights=False, ApplyImmediately=True)
    assert _pi(fast, "pi-db")["PerformanceInsightsKMSKeyId"] == key
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="pi-db", EnablePerformanceInsights=True, ApplyImmediately=True,
                               PerformanceInsightsKMSKeyId=other)
    _refused(exc)
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="pi-db", EnablePerformanceInsights=True, ApplyImmediately=True,
                               PerformanceInsightsKMSKeyId=key, PerformanceInsightsRetentionPeriod=94)
    _refused(exc, "InvalidParameterValue")
    assert _pi(fast, "pi-db") == {"PerformanceInsightsEnabled": False, "PerformanceInsightsKMSKeyId": key,
                                  "PerformanceInsightsRetentionPeriod": 7}
    # Without a key RDS takes the account's aws/rds key, and keeps it too.
    rds.create_db_instance(DBInstanceIdentifier="pi-default", MasterUserPassword="password-1234", **DB,
                           EnablePerformanceInsights=True)
    assert _pi(fast, "pi-default")["PerformanceInsightsKMSKeyId"].endswith(":alias/aws/rds")
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="pi-default", EnablePerformanceInsights=True,
                               PerformanceInsightsKMSKeyId=key, ApplyImmediately=True)
    _refused(exc)


def test_performance_insights_turned_on_with_the_plan_key_in_place(fast):
    key = fast.client("kms").create_key(Description="pi")["KeyMetadata"]["Arn"]
    db = declare(DBInstance("db", **{k: v for k, v in DB.items() if k != "Engine"}))
    ctx = fast.ctx("db")
    pid, out = db.create(ctx, dict(db.properties))
    assert _pi(fast, pid) == {"PerformanceInsightsEnabled": False}
    on = dict(db.properties, EnablePerformanceInsights=True, PerformanceInsightsKMSKeyId=key)
    assert db.refusal(dict(db.properties), on, ["EnablePerformanceInsights", "PerformanceInsightsKMSKeyId"]) is None
    db.update(ctx, pid, dict(db.properties), on)
    assert _pi(fast, pid) == {"PerformanceInsightsEnabled": True, "PerformanceInsightsKMSKeyId": key,
                              "PerformanceInsightsRetentionPeriod": 7}
    seen = db.read(ctx, pid)
    assert {k: seen[k] for k in ("EnablePerformanceInsights", "PerformanceInsightsKMSKeyId")} == \
        {"EnablePerformanceInsights": True, "PerformanceInsightsKMSKeyId": key}
    # A retention change alone carries the key (else RDS would read "the default key" and refuse it).
    longer = dict(on, PerformanceInsightsRetentionPeriod=93)
    db.update(ctx, pid, on, longer)
    after = _pi(fast, pid)
    assert after["PerformanceInsightsRetentionPeriod"] == 93 and after["PerformanceInsightsKMSKeyId"] == key
    assert fast.client("rds").describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0]["DBInstanceArn"] \
        == out["Arn"]
    # Another key later: refused at plan time, with the reason and the way out.
    msg = db.refusal(longer, dict(longer, PerformanceInsightsKMSKeyId="arn:aws:kms:x:1:key/new"),
                     ["PerformanceInsightsKMSKeyId"])
    assert msg and "You can't change your Performance Insights KMS key" in msg and "--replace" in msg
    # ... and so is a key chosen for an instance already running Performance Insights with aws/rds.
    assert db.refusal(dict(db.properties, EnablePerformanceInsights=True), on, ["PerformanceInsightsKMSKeyId"])
