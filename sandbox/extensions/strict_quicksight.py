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
from urllib.parse import unquote

from botocore.exceptions import EndpointConnectionError
from moto.ec2.models import ec2_backends
from moto.iam.models import iam_backends
from moto.opensearch.models import opensearch_backends
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
QS_OPENSEARCH_VPC = strict.rule(
    "quicksight-opensearch-vpc",
    aws="QuickSight reaches an OpenSearch domain in a VPC only through a QuickSight VPC connection "
        "(CreateVPCConnection: ENIs in the VPC's subnets with security groups the domain admits, and a role "
        "allowed to make them); a data source naming a VPC domain without VpcConnectionProperties ends "
        "CREATION_FAILED.",
    source="https://docs.aws.amazon.com/quicksight/latest/user/working-with-aws-vpc.html; "
           "https://docs.aws.amazon.com/quicksight/latest/user/connecting-to-es.html; hashicorp/terraform-provider-aws "
           "internal/service/quicksight/vpc_connection.go",
    moto="Had no VPC connections and made every data source CREATION_SUCCESSFUL.",
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


# --------------------------------------------------------------------------- VPC connections


def _vpc_connections(resp: Any) -> dict[str, dict[str, Any]]:
    return store(resp.quicksight_backend, "vpc_connections")


def _vpc_connection(resp: Any) -> dict[str, Any]:
    ident = unquote(resp.path.rstrip("/").rsplit("/", 1)[-1])
    conn = _vpc_connections(resp).get(ident)
    if conn is None:
        raise AwsJsonError("ResourceNotFoundException", f"VPC connection {ident} does not exist.", 404)
    return conn


class _VpcConnections:
    def create_vpc_connection(self: Any) -> str:
        req = body(self)
        ident = req.get("VPCConnectionId")
        conns = _vpc_connections(self)
        if ident in conns:
            raise AwsJsonError("ResourceExistsException", f"VPC connection {ident} already exists.", 409)
        for key in ("Name", "SubnetIds", "SecurityGroupIds", "RoleArn"):
            if not req.get(key):
                raise AwsJsonError("InvalidParameterValueException", f"{key} is required.")
        ec2 = ec2_backends[self.current_account][self.region]
        subnets = ec2.describe_subnets(subnet_ids=req["SubnetIds"])  # an unknown subnet fails here, as in AWS
        arn = f"arn:aws:quicksight:{self.region}:{self.current_account}:vpcConnection/{ident}"
        conns[ident] = {"VPCConnectionId": ident, "Arn": arn, "Name": req["Name"], "VPCId": subnets[0].vpc_id,
                        "SecurityGroupIds": req["SecurityGroupIds"], "DnsResolvers": req.get("DnsResolvers") or [],
                        "Status": "CREATION_SUCCESSFUL", "AvailabilityStatus": "AVAILABLE", "RoleArn": req["RoleArn"],
                        "NetworkInterfaces": [{"SubnetId": sn.id, "AvailabilityZone": sn.availability_zone,
                                               "Status": "AVAILABLE"} for sn in subnets],
                        "SubnetIds": req["SubnetIds"], "CreatedTime": now().timestamp(),
                        "LastUpdatedTime": now().timestamp(), "Tags": req.get("Tags") or []}
        if req.get("Tags"):
            self.quicksight_backend.tagger.tag_resource(arn, req["Tags"])
        return json.dumps({"Arn": arn, "VPCConnectionId": ident, "CreationStatus": "CREATION_SUCCESSFUL",
                           "AvailabilityStatus": "AVAILABLE", "Status": 202, "RequestId": "sandbox"})

    def describe_vpc_connection(self: Any) -> str:
        conn = {k: v for k, v in _vpc_connection(self).items() if k not in ("Tags", "SubnetIds")}
        return json.dumps({"VPCConnection": conn, "Status": 200, "RequestId": "sandbox"})

    def update_vpc_connection(self: Any) -> str:
        conn = _vpc_connection(self)
        req = body(self)
        conn.update({k: req[k] for k in ("Name", "SecurityGroupIds", "DnsResolvers", "RoleArn", "SubnetIds")
                     if k in req})
        conn.update(Status="UPDATE_SUCCESSFUL", LastUpdatedTime=now().timestamp())
        return json.dumps({"Arn": conn["Arn"], "VPCConnectionId": conn["VPCConnectionId"],
                           "UpdateStatus": "UPDATE_SUCCESSFUL", "AvailabilityStatus": "AVAILABLE", "Status": 200,
                           "RequestId": "sandbox"})

    def delete_vpc_connection(self: Any) -> str:
        conn = _vpc_connection(self)
        del _vpc_connections(self)[conn["VPCConnectionId"]]
        return json.dumps({"Arn": conn["Arn"], "VPCConnectionId": conn["VPCConnectionId"],
                           "DeletionStatus": "DELETED", "AvailabilityStatus": "UNAVAILABLE", "Status": 200,
                           "RequestId": "sandbox"})


def _create_data_source(self: Any) -> Any:
    """A data source over a VPC OpenSearch domain without a VPC connection cannot connect: CREATION_FAILED."""
    result = _MOTO_CREATE_DATA_SOURCE[0](self)
    req = body(self)
    domain = ((req.get("DataSourceParameters") or {}).get("AmazonOpenSearchParameters") or {}).get("Domain")
    if req.get("Type") == "AMAZON_OPENSEARCH" and domain and strict.on(QS_OPENSEARCH_VPC.id):
        found = opensearch_backends[self.current_account][self.region].domains.get(domain)
        connection = (req.get("VpcConnectionProperties") or {}).get("VpcConnectionArn")
        known = {c["Arn"] for c in _vpc_connections(self).values()}
        if found is not None and (found.vpc_options or {}).get("SubnetIds") and connection not in known:
            strict.trip(QS_OPENSEARCH_VPC.id)
            self.quicksight_backend.data_sources[req["DataSourceId"]].status = "CREATION_FAILED"
    return result


_MOTO_CREATE_DATA_SOURCE: list[Callable[[Any], Any]] = []


def install() -> None:
    add_methods(QuickSightResponse, *(getattr(_Subscription, n) for n in vars(_Subscription) if not n.startswith("_")),
                override=True)
    if QuickSightResponse.call_action is not _quicksight_call_action:
        _MOTO_QS_CALL_ACTION[:] = [QuickSightResponse.call_action]
        QuickSightResponse.call_action = _quicksight_call_action  # type: ignore[method-assign]
    add_urls(qs_urls, {r"{0}/account/(?P<account_id>[^/]+)$": QuickSightResponse.dispatch})
    add_methods(QuickSightResponse, *(getattr(_VpcConnections, n) for n in vars(_VpcConnections)
                                      if not n.startswith("_")), override=True)
    if QuickSightResponse.create_data_source is not _create_data_source:
        _MOTO_CREATE_DATA_SOURCE[:] = [QuickSightResponse.create_data_source]
        QuickSightResponse.create_data_source = _create_data_source  # type: ignore[method-assign]
    add_urls(qs_urls, {r"{0}/accounts/(?P<account_id>[^/]+)/vpc-connections$": QuickSightResponse.dispatch,
                       r"{0}/accounts/(?P<account_id>[^/]+)/vpc-connections/(?P<vpc_connection_id>[^/]+)$":
                           QuickSightResponse.dispatch})
