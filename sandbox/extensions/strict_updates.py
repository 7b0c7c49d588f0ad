"""Strict rules on updates: what an Update*/Modify* call of AWS refuses while moto accepts it (issue 13).

- `eks-one-update-type`: UpdateClusterConfig carries one type of update. Logging, access config and the
  VPC config are separate updates, and inside resourcesVpcConfig the endpoint access settings
  (endpointPublicAccess, endpointPrivateAccess, publicAccessCidrs) are an EndpointAccessUpdate while
  subnets and security groups are a VpcConfigUpdate: one call may not mix them. moto accepted any mix
  and replaced the whole VPC config.
- `firehose-destination-switch`: UpdateDestination cannot switch a stream between an OpenSearch
  (Elasticsearch) destination and another destination type. moto refused the switch to OpenSearch but
  accepted the switch away from it, replacing the destination.
- `opensearch-clear-access-policy`: UpdateDomainConfig with an empty AccessPolicies removes the domain's
  access policy (how a policy taken out of a plan goes away); moto took the empty string for "not sent"
  and kept the old policy, so a tool that never cleared it looked right.

And one fidelity fix the updates need (not a rule: moto lacked the behaviour rather than accepting too
much): ModifyVpcEndpoint Add/RemoveRouteTableIds on a gateway endpoint adds or removes the endpoint's
prefix-list route in those route tables, as AWS does; moto 5.2.5 only changed the endpoint's list, so
an added table had no route and deleting the endpoint then failed on the route it never made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.ec2.models import EC2Backend
from moto.eks.exceptions import InvalidParameterException
from moto.firehose.exceptions import InvalidArgumentException
from moto.firehose.models import FirehoseBackend
from moto.opensearch.models import OpenSearchServiceBackend

from sandbox import lifecycle, strict
from sandbox.extensions import eks as eks_ext

EKS_RULE = strict.rule(
    "eks-one-update-type",
    aws="UpdateClusterConfig starts one update of one type: a call that carries two of resourcesVpcConfig, "
        "logging and accessConfig, or a resourcesVpcConfig that mixes endpoint access settings "
        "(endpointPublicAccess, endpointPrivateAccess, publicAccessCidrs: an EndpointAccessUpdate) with "
        "subnetIds or securityGroupIds (a VpcConfigUpdate), is refused with InvalidParameterException "
        "\"Only one type of update can be allowed.\"",
    source="hashicorp/terraform-provider-aws internal/service/eks/cluster.go resourceClusterUpdate (\"API only "
           "allows one type of update at at time\": endpoint access, subnet_ids and security_group_ids go out "
           "in separate UpdateClusterConfig calls); aws/aws-cdk#30114, aws/aws-cdk#21439",
    moto="accepted any mix in one call and replaced the whole resourcesVpcConfig",
)

FIREHOSE_RULE = strict.rule(
    "firehose-destination-switch",
    aws="UpdateDestination keeps the destination's type where OpenSearch is involved: \"Switching between "
        "Amazon OpenSearch Service and other services is not supported\"; an update naming another "
        "destination type than an OpenSearch destination has (or OpenSearch for another one) is refused "
        "with InvalidArgumentException.",
    source="https://docs.aws.amazon.com/firehose/latest/APIReference/API_UpdateDestination.html; "
           "botocore firehose UpdateDestination documentation",
    moto="refused the switch to an Elasticsearch destination but accepted the switch away from one, "
         "replacing the destination",
)

OPENSEARCH_POLICY_RULE = strict.rule(
    "opensearch-clear-access-policy",
    aws="UpdateDomainConfig with AccessPolicies \"\" (an empty string) removes the domain's access policy: "
        "DescribeDomain then answers AccessPolicies \"\". It is how a policy is taken off a running domain.",
    source="hashicorp/terraform-provider-aws internal/service/opensearch/domain_policy.go "
           "(resourceDomainPolicyDelete: UpdateDomainConfig with AccessPolicies \"\", then waitForDomainUpdate)",
    moto="took the empty AccessPolicies for one not sent and kept the old policy",
)

_ENDPOINT = {"endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs"}
_OPENSEARCH = {"Elasticsearch", "AmazonopensearchserviceDestinationConfiguration", "AmazonOpenSearchServerless"}


def update_cluster_config(name: str, vpc: dict[str, Any] | None, logging: dict[str, Any] | None,
                          access: dict[str, Any] | None, original: Callable[..., Any], backend: Any) -> Any:
    if strict.on(EKS_RULE.id):
        kinds = [k for k, v in (("vpc", vpc), ("logging", logging), ("access", access)) if v]
        mixed = bool(vpc) and bool(set(vpc) & _ENDPOINT) and bool(set(vpc) - _ENDPOINT)
        if len(kinds) > 1 or mixed:
            strict.trip(EKS_RULE.id)
            raise InvalidParameterException(message="Only one type of update can be allowed.")
    return original(backend, name, vpc, logging, access)


def _wrap_eks() -> None:
    original = eks_ext.update_cluster_config
    if getattr(original, "_strict_updates", False):
        return

    def wrapped(backend: Any, name: str, vpc: dict[str, Any] | None, logging: dict[str, Any] | None,
                access: dict[str, Any] | None) -> Any:
        return update_cluster_config(name, vpc, logging, access, original, backend)

    wrapped._strict_updates = True  # type: ignore[attr-defined]
    eks_ext.update_cluster_config = wrapped  # the response method looks the module's function up per call


# UpdateDestination's parameters in the order moto's response passes them (moto/firehose/responses.py).
_UPDATE_ARGS = ("delivery_stream_name", "current_delivery_stream_version_id", "destination_id",
                "s3_destination_update", "extended_s3_destination_update", "s3_backup_mode",
                "redshift_destination_update", "elasticsearch_destination_update", "splunk_destination_update",
                "http_endpoint_destination_update", "snowflake_destination_configuration",
                "iceberg_destination_update")


def update_destination(self: FirehoseBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    if strict.on(FIREHOSE_RULE.id):
        given = {**dict(zip(_UPDATE_ARGS, args, strict=False)), **kw}
        stream = self.delivery_streams.get(given.get("delivery_stream_name"))
        kinds = {k for k, v in given.items() if k.endswith(("_update", "_configuration")) and v}
        if stream is not None and kinds:
            new_kind = "Elasticsearch" if "elasticsearch_destination_update" in kinds else "other"
            current = next((d for d in stream.destinations if d.get("destination_id") == given.get("destination_id")),
                           None)
            old_kind = "Elasticsearch" if current is not None and set(current) & _OPENSEARCH else "other"
            if current is not None and old_kind != new_kind:
                strict.trip(FIREHOSE_RULE.id)
                raise InvalidArgumentException(
                    "Switching between Amazon OpenSearch Service and other services is not supported.")
    return original(self, *args, **kw)


_MODIFY_ARGS = ("vpc_id", "policy_doc", "add_subnets", "remove_subnets", "remove_route_tables", "add_route_tables")


def modify_vpc_endpoint(self: EC2Backend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    given = {**dict(zip(_MODIFY_ARGS, args, strict=False)), **kw}
    endpoint = self.vpc_end_points.get(given.get("vpc_id"))
    prefix = getattr(endpoint, "destination_prefix_list_id", None)
    before = list(endpoint.route_table_ids) if endpoint is not None else []
    result = original(self, *args, **kw)
    if endpoint is not None and prefix and str(endpoint.vpc_endpoint_type).lower() == "gateway":
        for rt in given.get("add_route_tables") or []:
            if rt not in before:
                self.create_route(rt, None, gateway_id=endpoint.id, destination_prefix_list_id=prefix)
        for rt in given.get("remove_route_tables") or []:
            if rt in before:
                self.delete_route(rt, None, destination_prefix_list_id=prefix)
    return result


def update_domain_config(self: OpenSearchServiceBackend, original: Callable[..., Any], *args: Any,
                         **kw: Any) -> Any:
    domain = original(self, *args, **kw)
    if kw.get("access_policies") == "" and strict.on(OPENSEARCH_POLICY_RULE.id) and domain.access_policies:
        strict.trip(OPENSEARCH_POLICY_RULE.id)
        domain.access_policies = ""
    return domain


def install() -> None:
    _wrap_eks()
    lifecycle.chain(OpenSearchServiceBackend, "update_domain_config", update_domain_config, owner="strict_updates")
    lifecycle.chain(EC2Backend, "modify_vpc_endpoint", modify_vpc_endpoint, owner="strict_updates")
    lifecycle.chain(FirehoseBackend, "update_destination", update_destination, owner="strict_updates")
