"""SNS subscriptions that wait for their owner's confirmation (rule `sns-pending`).

AWS sends an email or HTTP(S) endpoint a confirmation message and keeps the
subscription "pending confirmation" until its owner follows the link; the
tool never confirms anything, so in a real account every email subscription
of the plan stays pending. Such a subscription has an ARN (Subscribe returns
it only with ReturnSubscriptionArn, else the string "pending confirmation"),
GetSubscriptionAttributes reports PendingConfirmation "true", the lists show
"PendingConfirmation" in place of its ARN, and Unsubscribe refuses it. It
goes with its topic. moto confirmed every subscription at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import SNSBackend, Subscription
from moto.sns.responses import SNSResponse

from sandbox import strict
from sandbox.extensions._base import add_methods

RULE = strict.rule(
    "sns-pending",
    aws="Email, email-json and HTTP(S) subscriptions stay pending confirmation until their owner confirms: "
        "Subscribe returns \"pending confirmation\" as SubscriptionArn unless ReturnSubscriptionArn, "
        "GetSubscriptionAttributes says PendingConfirmation \"true\", ListSubscriptions(ByTopic) shows "
        "\"PendingConfirmation\" for its ARN, Unsubscribe fails with InvalidParameter \"Cannot unsubscribe a "
        "subscription that is pending confirmation\"; DeleteTopic removes them with the topic.",
    source="https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html; hashicorp/terraform-provider-aws "
           "internal/service/sns/topic_subscription.go (resourceTopicSubscriptionDelete treats that "
           "InvalidParameter as deleted)",
    moto="Confirmed every subscription at once; Unsubscribe always succeeded.",
    protocols="email,email-json,http,https",
)

PENDING_MESSAGE = "Cannot unsubscribe a subscription that is pending confirmation"


def _pending(sub: Subscription) -> bool:
    return str(sub.attributes.get("PendingConfirmation")).lower() == "true"


def subscribe(self: SNSBackend, topic_arn: str, endpoint: str, protocol: str) -> Subscription:
    existing = self._find_subscription(topic_arn, endpoint, protocol)
    sub = self._moto_subscribe(topic_arn, endpoint, protocol)
    protocols = {p.strip() for p in str(strict.setting(RULE.id, "protocols")).split(",")}
    if existing is None and strict.on(RULE.id) and protocol in protocols:
        sub.attributes["PendingConfirmation"] = "true"
        sub.attributes["ConfirmationWasAuthenticated"] = "false"
    return sub


def unsubscribe(self: SNSBackend, subscription_arn: str) -> None:
    sub = self.subscriptions.get(subscription_arn)
    if sub is not None and _pending(sub) and strict.on(RULE.id):
        strict.trip(RULE.id)
        raise SNSInvalidParameter(PENDING_MESSAGE)
    self._moto_unsubscribe(subscription_arn)


def _listed(subs: list[Subscription]) -> list[dict[str, Any]]:
    return [{"SubscriptionArn": "PendingConfirmation" if _pending(s) else s.arn, "Owner": s.owner,
             "Protocol": s.protocol, "Endpoint": s.endpoint, "TopicArn": s.topic.arn} for s in subs]


def _wrap_list(name: str) -> Callable[..., Any]:
    def listing(self: SNSResponse) -> Any:
        result = getattr(self, f"_moto_{name}")()
        data = result.result
        if isinstance(data, dict) and data.get("Subscriptions"):
            data["Subscriptions"] = _listed(data["Subscriptions"])
        return result
    listing.__name__ = name
    return listing


def subscribe_response(self: SNSResponse) -> Any:
    result = self._moto_subscribe()
    sub = self.backend.subscriptions.get(result.result["SubscriptionArn"])
    wants_arn = str(self._get_param("ReturnSubscriptionArn")).lower() == "true"
    if sub is not None and _pending(sub) and not wants_arn:
        result.result["SubscriptionArn"] = "pending confirmation"
    return result


subscribe_response.__name__ = "subscribe"


def install() -> None:
    add_methods(SNSBackend, subscribe, unsubscribe, override=True)
    add_methods(SNSResponse, subscribe_response, _wrap_list("list_subscriptions"),
                _wrap_list("list_subscriptions_by_topic"), override=True)
