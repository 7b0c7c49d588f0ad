"""QuickSight in a fresh account (rules `quicksight-region`, `quicksight-subscription`).

QuickSight is not in every region (none in ap-east-2, the plan's), and in a region
where it runs nothing works until the account has subscribed (an Enterprise or
Standard edition, an administrator's e-mail: a paid sign-up, not something a
plan's apply should do on its own). moto served it everywhere, subscribed or not,
and had no subscription calls; this module adds Create/Describe/DeleteAccountSubscription.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import EndpointConnectionError
from moto.iam.models import iam_backends
from moto.quicksight import urls as qs_urls
from moto.quicksight.responses import QuickSightResponse
from moto.utilities.utils import get_partition

from sandbox import strict
from sandbox.extensions._base import AwsJsonError, add_methods, add_urls, body, iso, now, store

QS_SUBSCRIPTION = strict.rule(
    "quicksight-subscription",
    aws="Every QuickSight call but the account subscription's own fails until the account has subscribed "
        "(CreateAccountSubscription): UnsupportedUserEditionException 'Account <id> is not subscribed for "
        "QuickSight'; DescribeAccountSubscription answers ResourceNotFoundException.",
    source="https://docs.aws.amazon.com/quicksight/latest/APIReference/API_CreateAccountSubscription.html; "
           "hashicorp/terraform-provider-aws pull 32323 (the sweepers' 'is not subscribed for QuickSight')",
    moto="Served QuickSight in every account; had no account subscription calls.",
)
QS_REGION = strict.rule(
    "quicksight-region",
    aws="QuickSight runs in some regions only: elsewhere (ap-east-2, Asia Pacific Taipei, among them) there is "
        "no endpoint and a call fails to connect.",
    source="https://docs.aws.amazon.com/quicksight/latest/user/regions.html; botocore's endpoint data "
           "(Session.get_available_regions('quicksight'))",
    moto="Answered QuickSight calls in any region.",
)
# botocore 1.44's endpoint data for quicksight (the regions doc lists the same).
QUICKSIGHT_REGIONS = frozenset({
    "af-south-1", "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-5", "ca-central-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
    "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "sa-east-1", "us-east-1",
    "us-east-2", "us-west-2", "us-gov-west-1", "cn-north-1"})
QS_SUBSCRIPTION_ACTIONS = {"CreateAccountSubscription", "DescribeAccountSubscription", "DeleteAccountSubscription"}

# --------------------------------------------------------------------------- QuickSight


def _subscriptions(resp: QuickSightResponse) -> dict[str, dict[str, Any]]:
    """Account id -> its subscription (QuickSight has one identity region; kept per account here)."""
    return store(iam_backends[resp.current_account][get_partition(resp.region)], "quicksight_subscription")


class _Subscription:
    def create_account_subscription(self: Any) -> str:
        req = body(self)
        subs = _subscriptions(self)
        account = self._get_param("AwsAccountId") or self.current_account
        if account in subs:
            raise AwsJsonError("ResourceExistsException", f"Account {account} is already subscribed.", 409)
        for key in ("Edition", "AuthenticationMethod", "AccountName", "NotificationEmail"):
            if not req.get(key):
                raise AwsJsonError("InvalidParameterValueException", f"{key} is required.")
        subs[account] = {"AccountName": req["AccountName"], "Edition": req["Edition"],
                         "NotificationEmail": req["NotificationEmail"],
                         "AuthenticationType": req["AuthenticationMethod"], "AccountSubscriptionStatus": "ACCOUNT_CREATED",
                         "IAMIdentityCenterInstanceArn": req.get("IAMIdentityCenterInstanceArn"), "At": iso(now())}
        return json.dumps({"SignupResponse": {"IAMUser": req["AuthenticationMethod"] == "IAM_AND_QUICKSIGHT",
                                              "accountName": req["AccountName"], "directoryType": "QUICKSIGHT"},
                           "Status": 200, "RequestId": "sandbox"})

    def describe_account_subscription(self: Any) -> str:
        account = self._get_param("AwsAccountId") or self.current_account
        sub = _subscriptions(self).get(account)
        if sub is None:
            raise AwsJsonError("ResourceNotFoundException", f"Account {account} is not signed up with QuickSight.",
                               404)
        info = {k: v for k, v in sub.items() if k != "At" and v is not None}
        return json.dumps({"AccountInfo": info, "Status": 200, "RequestId": "sandbox"})

    def delete_account_subscription(self: Any) -> str:
        account = self._get_param("AwsAccountId") or self.current_account
        if _subscriptions(self).pop(account, None) is None:
            raise AwsJsonError("ResourceNotFoundException", f"Account {account} is not signed up with QuickSight.",
                               404)
        return json.dumps({"Status": 200, "RequestId": "sandbox"})


def _quicksight_call_action(self: QuickSightResponse) -> Any:
    action = self._get_action()
    if strict.on(QS_REGION.id) and self.region not in QUICKSIGHT_REGIONS:
        strict.trip(QS_REGION.id)
        # What a client gets where there is no endpoint: the name does not resolve.
        raise EndpointConnectionError(endpoint_url=f"https://quicksight.{self.region}.amazonaws.com/")
    if strict.on(QS_SUBSCRIPTION.id) and action not in QS_SUBSCRIPTION_ACTIONS \
            and self.current_account not in _subscriptions(self):
        strict.trip(QS_SUBSCRIPTION.id)
        raise AwsJsonError("UnsupportedUserEditionException",
                           f"Account {self.current_account} is not subscribed for QuickSight", 403)
    return _MOTO_QS_CALL_ACTION[0](self)


_MOTO_QS_CALL_ACTION: list[Callable[[QuickSightResponse], Any]] = []


def install() -> None:
    add_methods(QuickSightResponse, *(getattr(_Subscription, n) for n in vars(_Subscription) if not n.startswith("_")),
                override=True)
    if QuickSightResponse.call_action is not _quicksight_call_action:
        _MOTO_QS_CALL_ACTION[:] = [QuickSightResponse.call_action]
        QuickSightResponse.call_action = _quicksight_call_action  # type: ignore[method-assign]
    add_urls(qs_urls, {r"{0}/account/(?P<account_id>[^/]+)$": QuickSightResponse.dispatch})
