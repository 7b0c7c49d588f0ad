"""RDS event subscriptions as AWS keeps them (rule `rds-event-subscription`).

moto 5.2.5 had no ModifyEventSubscription, AddSourceIdentifierToSubscription or RemoveSourceIdentifierFromSubscription
(so a subscription could not change in place), and accepted a topic, a source or an event category that
does not exist. Here the three calls change the stored subscription (fidelity, always on); the refusals
are the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.models import EventSubscription, RDSBackend
from moto.rds.responses import RDSResponse
from moto.sns.models import sns_backends

from sandbox import lifecycle, strict

OWNER = "strict_rds_events"

RULE = strict.rule(
    "rds-event-subscription",
    aws="CreateEventSubscription and ModifyEventSubscription refuse an SNS topic that does not exist "
        "(SNSTopicArnNotFound), an event category the source type does not have (SubscriptionCategoryNotFound; "
        "db-instance: availability, backup, configuration change, creation, deletion, failover, failure, low "
        "storage, maintenance, notification, read replica, recovery, restoration, security, security patching; "
        "db-parameter-group: configuration change) and, with AddSourceIdentifierToSubscription, a source that "
        "does not exist (SourceNotFound).",
    source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html (categories per "
           "source type); botocore rds CreateEventSubscription and ModifyEventSubscription errors "
           "SNSTopicArnNotFoundFault, SubscriptionCategoryNotFoundFault, SourceNotFoundFault; "
           "hashicorp/terraform-provider-aws internal/service/rds/event_subscription.go (ModifyEventSubscription, "
           "Add/RemoveSourceIdentifierToSubscription in place) (exact error texts not verified)",
    moto="Had no ModifyEventSubscription nor the source identifier calls, and accepted any topic, source or "
         "category.",
)
CATEGORIES = {
    "db-instance": {"availability", "backup", "configuration change", "creation", "deletion", "failover", "failure",
                    "low storage", "maintenance", "notification", "read replica", "recovery", "restoration",
                    "security", "security patching"},
    "db-parameter-group": {"configuration change"},
    "db-security-group": {"configuration change", "failure"},
    "db-snapshot": {"backup", "creation", "deletion", "notification", "restoration"},
    "db-cluster": {"creation", "deletion", "failover", "failure", "global-failover", "maintenance", "migration",
                   "notification", "serverless"},
}


def _refuse(code: str, message: str) -> None:
    strict.trip(RULE.id)
    raise RDSClientError(code, message)


def _check(backend: RDSBackend, topic: str | None, source_type: str | None, categories: list[str] | None) -> None:
    if not strict.on(RULE.id):
        return
    if topic is not None:
        region = topic.split(":")[3] if topic.count(":") >= 5 else backend.region_name
        if topic not in sns_backends[backend.account_id][region].topics:
            _refuse("SNSTopicArnNotFound", f"SNS topic {topic} does not exist.")
    known = CATEGORIES.get(source_type or "")
    bad = sorted(set(categories or []) - known) if known is not None else []
    if bad:
        _refuse("SubscriptionCategoryNotFound", f"Categories {', '.join(bad)} are not valid for {source_type}.")


def _source_exists(backend: RDSBackend, source_type: str | None, ident: str) -> bool:
    where = {"db-instance": backend.databases, "db-parameter-group": backend.db_parameter_groups,
             "db-cluster": backend.clusters, "db-snapshot": backend.database_snapshots}.get(source_type or "")
    return where is None or ident in where


def create_event_subscription(self: RDSBackend, original: Callable[..., Any], kwargs: Any) -> Any:
    _check(self, kwargs.get("sns_topic_arn"), kwargs.get("source_type"), kwargs.get("event_categories"))
    for ident in kwargs.get("source_ids") or []:
        if strict.on(RULE.id) and not _source_exists(self, kwargs.get("source_type"), ident):
            _refuse("SourceNotFound", f"Source {ident} of type {kwargs.get('source_type')} does not exist.")
    return original(self, kwargs)


def _subscription(backend: RDSBackend, name: str) -> EventSubscription:
    return list(backend.describe_event_subscriptions(name))[0]  # SubscriptionNotFound when absent


def modify_event_subscription(self: RDSResponse) -> ActionResult:
    p = self.params
    sub = _subscription(self.backend, p.get("SubscriptionName"))
    source_type = p.get("SourceType") or sub.source_type
    categories = p.get("EventCategories")
    _check(self.backend, p.get("SnsTopicArn"), source_type,
           categories if categories is not None else sub.event_categories)
    if p.get("SnsTopicArn"):
        sub.sns_topic_arn = p["SnsTopicArn"]
    sub.source_type = source_type
    if categories is not None:
        sub.event_categories = list(categories)
    if p.get("Enabled") is not None:
        sub.enabled = bool(p["Enabled"])
    return ActionResult({"EventSubscription": sub})


def add_source_identifier_to_subscription(self: RDSResponse) -> ActionResult:
    sub = _subscription(self.backend, self.params.get("SubscriptionName"))
    ident = self.params.get("SourceIdentifier")
    if strict.on(RULE.id) and not _source_exists(self.backend, sub.source_type, ident):
        _refuse("SourceNotFound", f"Source {ident} of type {sub.source_type} does not exist.")
    if ident not in sub.source_ids:
        sub.source_ids = [*sub.source_ids, ident]
    return ActionResult({"EventSubscription": sub})


def remove_source_identifier_from_subscription(self: RDSResponse) -> ActionResult:
    sub = _subscription(self.backend, self.params.get("SubscriptionName"))
    ident = self.params.get("SourceIdentifier")
    sub.source_ids = [s for s in sub.source_ids if s != ident]
    return ActionResult({"EventSubscription": sub})


def install() -> None:
    lifecycle.chain(RDSBackend, "create_event_subscription", create_event_subscription, owner=OWNER)
    RDSResponse.modify_event_subscription = modify_event_subscription  # type: ignore[attr-defined]
    RDSResponse.add_source_identifier_to_subscription = add_source_identifier_to_subscription  # type: ignore[attr-defined]
    RDSResponse.remove_source_identifier_from_subscription = \
        remove_source_identifier_from_subscription  # type: ignore[attr-defined]
