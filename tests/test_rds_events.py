"""RDS event notification subscriptions (FSBP RDS.20/RDS.21): strict rule rds-event-subscription with raw
boto3, then rds.EventSubscription through the tool, changed in place and read back through independent boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from resources.rds import EventSubscription
from tests.helpers import declare

DB = {"DBInstanceClass": "db.t3.micro", "Engine": "postgres", "AllocatedStorage": 20, "MasterUsername": "admin",
      "MasterUserPassword": "password-1234"}


def _db(aws: Any, name: str) -> str:
    aws.client("rds").create_db_instance(DBInstanceIdentifier=name, **DB)
    return name


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_rule_rds_event_subscription(aws):
    rds, sns = aws.client("rds"), aws.client("sns")
    topic = sns.create_topic(Name="db-alerts")["TopicArn"]
    db = _db(aws, "events-db")
    base = {"SourceType": "db-instance", "SourceIds": [db]}
    with pytest.raises(ClientError) as exc:
        rds.create_event_subscription(SubscriptionName="s0", SnsTopicArn=topic + "-gone", **base)
    assert _code(exc) == "SNSTopicArnNotFound"
    with pytest.raises(ClientError) as exc:
        rds.create_event_subscription(SubscriptionName="s0", SnsTopicArn=topic, EventCategories=["low memory"], **base)
    assert _code(exc) == "SubscriptionCategoryNotFound"
    with pytest.raises(ClientError) as exc:
        rds.create_event_subscription(SubscriptionName="s0", SnsTopicArn=topic, SourceType="db-instance",
                                      SourceIds=["no-such-db"])
    assert _code(exc) == "SourceNotFound"
    rds.create_event_subscription(SubscriptionName="s1", SnsTopicArn=topic, EventCategories=["failure"],
                                  Enabled=True, **base)
    with pytest.raises(ClientError) as exc:  # a parameter group has only configuration changes
        rds.modify_event_subscription(SubscriptionName="s1", SourceType="db-parameter-group")
    assert _code(exc) == "SubscriptionCategoryNotFound"
    with pytest.raises(ClientError) as exc:
        rds.add_source_identifier_to_subscription(SubscriptionName="s1", SourceIdentifier="no-such-db")
    assert _code(exc) == "SourceNotFound"
    [sub] = rds.describe_event_subscriptions(SubscriptionName="s1")["EventSubscriptionsList"]
    assert sub["SourceType"] == "db-instance" and sub["SourceIdsList"] == [db] and sub["EventCategoriesList"] == ["failure"]


def test_event_subscription_round_trip_and_in_place_changes(aws):
    sns = aws.client("sns")
    critical, warning = (sns.create_topic(Name=n)["TopicArn"] for n in ("critical", "warning"))
    primary, replica = _db(aws, "primary-db"), _db(aws, "replica-db")
    sub = declare(EventSubscription("db_events", SnsTopicArn=critical, SourceType="db-instance", SourceIds=[primary],
                                    EventCategories=["failure", "maintenance", "configuration change"]),
                  "observability")
    ctx = aws.ctx("db_events", stack="observability")
    name, out = sub.create(ctx, dict(sub.properties))
    rds = aws.client("rds")
    [seen] = rds.describe_event_subscriptions(SubscriptionName=name)["EventSubscriptionsList"]
    assert seen["SnsTopicArn"] == critical and seen["Enabled"] is True and seen["SourceIdsList"] == [primary]
    assert sorted(seen["EventCategoriesList"]) == ["configuration change", "failure", "maintenance"]
    assert out == {"SubscriptionName": name, "Arn": seen["EventSubscriptionArn"]}
    state = sub.read(ctx, name)
    assert state == dict(sub.properties)
    new = dict(state, SnsTopicArn=warning, SourceIds=[replica], EventCategories=["failover"], Enabled=False)
    sub.update(ctx, name, state, new)
    [seen] = rds.describe_event_subscriptions(SubscriptionName=name)["EventSubscriptionsList"]
    assert (seen["SnsTopicArn"], seen["SourceIdsList"], seen["EventCategoriesList"], seen["Enabled"]) == \
        (warning, [replica], ["failover"], False)
    assert seen["EventSubscriptionArn"] == out["Arn"]  # the same subscription, changed in place
    assert sub.find(ctx) == (name, out)
    sub.delete(ctx, name)
    sub.delete(ctx, name)
    assert sub.read(ctx, name) is None
