"""Strict MSK rules: multi-VPC private connectivity, security updates, and Firehose's private MSK source.

moto 5.2.5 has no UpdateConnectivity, UpdateSecurity or UpdateBrokerType, and
its GetClusterPolicy answers an empty policy where AWS answers
NotFoundException; this adds them (operations run as the others of
extensions/kafka.py: UPDATING for the async-modify window, then ACTIVE) and
enforces what AWS enforces around them:

- `msk-multi-vpc`: multi-VPC private connectivity (ConnectivityInfo.VpcConnectivity)
  cannot be turned on at CreateCluster, only afterwards with UpdateConnectivity;
  not on kafka.t3.small brokers; only for an auth scheme the cluster has on
  (IAM, SASL/SCRAM or TLS: an unauthenticated-only cluster cannot have it).
- `msk-security-update`: UpdateSecurity changes client authentication and
  client-broker encryption in transit, never encryption at rest or in-cluster
  encryption (both fixed at create).
- `firehose-msk-private`: a Firehose stream reading MSK with Connectivity
  PRIVATE needs an ACTIVE cluster with IAM client authentication, multi-VPC
  private connectivity on for IAM, and a cluster policy letting the Firehose
  service principal call kafka:CreateVpcConnection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from moto.firehose.exceptions import InvalidArgumentException
from moto.firehose.responses import FirehoseResponse
from moto.kafka.models import FakeKafkaCluster, KafkaBackend, kafka_backends
from moto.kafka.responses import KafkaResponse

from sandbox import lifecycle, strict
from sandbox.extensions import firehose_msk
from sandbox.extensions import kafka as msk
from sandbox.extensions._base import add_methods, body

MULTI_VPC = strict.rule(
    "msk-multi-vpc",
    aws="Multi-VPC private connectivity (BrokerNodeGroupInfo.ConnectivityInfo.VpcConnectivity) is refused "
        "at CreateCluster ('When creating a cluster, all vpcConnectivity auth schemes must be disabled') and "
        "turned on afterwards with UpdateConnectivity; it is not supported on kafka.t3.small brokers, and "
        "only for auth schemes (IAM, SASL/SCRAM, TLS) the cluster has enabled: an unauthenticated cluster "
        "cannot have it (BadRequestException).",
    source="https://docs.aws.amazon.com/msk/latest/developerguide/aws-access-mult-vpc.html (requirements and "
           "limitations); hashicorp/terraform-provider-aws internal/service/kafka/cluster.go "
           "(resourceClusterCreate strips VpcConnectivity and calls UpdateConnectivity after the cluster is "
           "ACTIVE)",
    moto="had no UpdateConnectivity, and stored any ConnectivityInfo at create",
)

SECURITY = strict.rule(
    "msk-security-update",
    aws="UpdateSecurity changes client authentication and EncryptionInTransit.ClientBroker in place; "
        "EncryptionAtRest ('Updating encryption-at-rest settings on your cluster is not currently "
        "supported') and EncryptionInTransit.InCluster ('Updating the inter-broker encryption setting on "
        "your cluster is not currently supported') are refused (BadRequestException).",
    source="hashicorp/terraform-provider-aws internal/service/kafka/cluster.go (resourceClusterUpdate nulls "
           "EncryptionAtRest and InCluster before UpdateSecurity, quoting both errors); CloudFormation "
           "AWS::MSK::Cluster createOnlyProperties",
    moto="had no UpdateSecurity",
)

FIREHOSE_PRIVATE = strict.rule(
    "firehose-msk-private",
    aws="CreateDeliveryStream with an MSK source and Connectivity PRIVATE needs the cluster ACTIVE, IAM "
        "among its client authentication methods, multi-VPC private connectivity turned on for IAM, and a "
        "cluster policy that lets the Firehose service principal call kafka:CreateVpcConnection "
        "(InvalidArgumentException otherwise).",
    source="https://docs.aws.amazon.com/firehose/latest/dev/writing-with-msk.html (private bootstrap brokers "
           "requirements); https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html (Grant "
           "Firehose access to your private Amazon MSK cluster)",
    moto="accepted any cluster ARN, even one that does not exist",
)

T3_SMALL = "kafka.t3.small"
SCHEMES = {"iam": ("sasl", "iam"), "scram": ("sasl", "scram"), "tls": ("tls",)}


# -- helpers -----------------------------------------------------------------------------


def _arn(resp: Any, suffix: str) -> str:
    return unquote(resp.parsed_url.path.split("/clusters/", 1)[-1]).removesuffix(suffix)


def _enabled(node: Any, *path: str) -> bool:
    for key in path:
        node = (node or {}).get(key) if isinstance(node, dict) else None
    return bool((node or {}).get("enabled")) if isinstance(node, dict) else False


def _cluster_schemes(cluster: FakeKafkaCluster) -> set[str]:
    """The client auth schemes the cluster has on (TLS counts when a CA list or enabled is given)."""
    auth = cluster.client_authentication or {}
    on = {s for s, path in SCHEMES.items() if s != "tls" and _enabled(auth, *path)}
    tls = auth.get("tls") or {}
    if tls.get("enabled") or tls.get("certificateAuthorityArnList"):
        on.add("tls")
    return on


def vpc_schemes(connectivity: dict[str, Any] | None) -> set[str]:
    """The auth schemes multi-VPC connectivity is turned on for, in a (wire) ConnectivityInfo."""
    auth = ((connectivity or {}).get("vpcConnectivity") or {}).get("clientAuthentication") or {}
    return {s for s, path in SCHEMES.items() if _enabled(auth, *path)}


def _instance_type(cluster: FakeKafkaCluster) -> str:
    return str((cluster.broker_node_group_info or {}).get("instanceType") or "")


def _refuse(rule: strict.Rule, message: str) -> None:
    strict.trip(rule.id)
    raise msk.BadRequest(message)


# -- backend -----------------------------------------------------------------------------


def create_cluster(self: KafkaBackend, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    info = kwargs.get("broker_node_group_info") or (args[0] if args else {}) or {}
    if strict.on(MULTI_VPC.id) and vpc_schemes(info.get("connectivityInfo")):
        _refuse(MULTI_VPC, "When creating a cluster, all vpcConnectivity auth schemes must be disabled "
                           "('enabled' : false). You can enable auth schemes after the cluster is created.")
    return original(self, *args, **kwargs)


def update_connectivity(backend: KafkaBackend, arn: str, current_version: str | None,
                        connectivity: dict[str, Any]) -> str:
    cluster = msk._cluster(backend, arn)
    msk._check_version(cluster, current_version)
    if not connectivity:
        raise msk.BadRequest("connectivityInfo is required.")
    wanted = vpc_schemes(connectivity)
    if strict.on(MULTI_VPC.id) and wanted:
        if _instance_type(cluster) == T3_SMALL:
            _refuse(MULTI_VPC, "Multi-VPC private connectivity is not supported for clusters with "
                               f"{T3_SMALL} broker instances.")
        missing = sorted(wanted - _cluster_schemes(cluster))
        if missing:
            _refuse(MULTI_VPC, f"Multi-VPC private connectivity can be turned on only for auth schemes the "
                               f"cluster has enabled; not enabled: {', '.join(missing)}.")
    info = cluster.broker_node_group_info = cluster.broker_node_group_info or {}
    old = dict(info.get("connectivityInfo") or {})

    def apply() -> None:
        merged = dict(info.get("connectivityInfo") or {})
        merged.update({k: v for k, v in connectivity.items() if k in ("publicAccess", "vpcConnectivity")})
        info["connectivityInfo"] = merged

    return msk._operation(backend, cluster, "UPDATE_CONNECTIVITY", {"connectivityInfo": old},
                          {"connectivityInfo": connectivity}, apply)


def update_security(backend: KafkaBackend, arn: str, current_version: str | None,
                    auth: dict[str, Any] | None, encryption: dict[str, Any] | None) -> str:
    cluster = msk._cluster(backend, arn)
    msk._check_version(cluster, current_version)
    if not auth and not encryption:
        raise msk.BadRequest("Specify clientAuthentication or encryptionInfo.")
    transit = (encryption or {}).get("encryptionInTransit") or {}
    if strict.on(SECURITY.id):
        if (encryption or {}).get("encryptionAtRest") is not None:
            _refuse(SECURITY, "Updating encryption-at-rest settings on your cluster is not currently supported.")
        if transit.get("inCluster") is not None:
            _refuse(SECURITY, "Updating the inter-broker encryption setting on your cluster is not currently "
                              "supported.")
    if auth is not None and strict.on(MULTI_VPC.id):
        probe = FakeKafkaCluster.__new__(FakeKafkaCluster)
        probe.client_authentication = auth
        dropped = vpc_schemes((cluster.broker_node_group_info or {}).get("connectivityInfo")) - \
            _cluster_schemes(probe)
        if dropped:
            _refuse(MULTI_VPC, f"Turn off multi-VPC private connectivity for {', '.join(sorted(dropped))} "
                               "before turning the auth scheme off.")
    old = {"clientAuthentication": cluster.client_authentication, "encryptionInfo": cluster.encryption_info}

    def apply() -> None:
        if auth is not None:
            cluster.client_authentication = auth
        if transit.get("clientBroker"):
            enc = cluster.encryption_info = dict(cluster.encryption_info or {})
            enc["encryptionInTransit"] = {**(enc.get("encryptionInTransit") or {}),
                                          "clientBroker": transit["clientBroker"]}

    target = {k: v for k, v in (("clientAuthentication", auth), ("encryptionInfo", encryption)) if v}
    return msk._operation(backend, cluster, "UPDATE_SECURITY", old, target, apply)


def update_broker_type(backend: KafkaBackend, arn: str, current_version: str | None, target: str) -> str:
    cluster = msk._cluster(backend, arn)
    msk._check_version(cluster, current_version)
    current = _instance_type(cluster)
    if not target or target == current:
        raise msk.BadRequest(f"The cluster already has broker type {current}.")
    if strict.on(MULTI_VPC.id) and target == T3_SMALL and \
            vpc_schemes((cluster.broker_node_group_info or {}).get("connectivityInfo")):
        _refuse(MULTI_VPC, f"Multi-VPC private connectivity is not supported for {T3_SMALL} brokers; turn it "
                           "off first.")

    def apply() -> None:
        cluster.broker_node_group_info = {**(cluster.broker_node_group_info or {}), "instanceType": target}

    return msk._operation(backend, cluster, "UPDATE_BROKER_TYPE", {"instanceType": current},
                          {"instanceType": target}, apply)


def get_cluster_policy(self: KafkaBackend, original: Callable[..., Any], cluster_arn: str) -> tuple[str, str]:
    msk._cluster(self, cluster_arn)
    if cluster_arn not in self.policies:  # moto answered an empty policy
        raise msk.NotFound(f"The cluster {cluster_arn} has no cluster policy.")
    return original(self, cluster_arn)


def put_cluster_policy(self: KafkaBackend, original: Callable[..., Any], cluster_arn: str,
                       current_version: str | None, policy: str) -> str:
    msk._cluster(self, cluster_arn)
    try:
        doc = json.loads(policy or "")
    except ValueError:
        raise msk.BadRequest("The cluster policy is not valid JSON.") from None
    if not isinstance(doc, dict) or not doc.get("Statement"):
        raise msk.BadRequest("The cluster policy needs a Statement.")
    return original(self, cluster_arn, current_version, policy)


def delete_cluster(self: KafkaBackend, original: Callable[..., Any], cluster_arn: str,
                   current_version: str | None = None) -> Any:
    """A cluster's policy goes with it (a new cluster of the same name starts without one)."""
    result = original(self, cluster_arn, current_version)
    self.policies.pop(cluster_arn, None)
    return result


# -- Firehose ------------------------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows_firehose(policy: str, cluster_arn: str) -> bool:
    try:
        doc = json.loads(policy)
    except ValueError:
        return False
    for st in _listed(doc.get("Statement") or []):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        services = _listed(principal.get("Service", [])) if isinstance(principal, dict) else []
        if principal != "*" and "firehose.amazonaws.com" not in services:
            continue
        actions = [str(a).lower() for a in _listed(st.get("Action") or [])]
        if not {"kafka:createvpcconnection", "kafka:*", "*"} & set(actions):
            continue
        resources = [str(r) for r in _listed(st.get("Resource") or [])]
        if "*" in resources or cluster_arn in resources:
            return True
    return False


def check_private_source(account: str, region: str, cluster_arn: str) -> None:
    """Raise InvalidArgumentException unless Firehose can reach `cluster_arn` over private connectivity."""
    if not strict.on(FIREHOSE_PRIVATE.id):
        return
    backend = kafka_backends[account][region]
    cluster = backend.clusters.get(cluster_arn)
    problems: list[str] = []
    if cluster is None:
        problems.append("the cluster does not exist")
    else:
        if cluster.state != "ACTIVE":
            problems.append(f"the cluster is {cluster.state}, not ACTIVE")
        if "iam" not in _cluster_schemes(cluster):
            problems.append("IAM is not one of the cluster's access control methods")
        if "iam" not in vpc_schemes((cluster.broker_node_group_info or {}).get("connectivityInfo")):
            problems.append("multi-VPC private connectivity is not turned on for IAM")
        policy = backend.policies.get(cluster_arn, {}).get("policy")
        if not policy or not _allows_firehose(policy, cluster_arn):
            problems.append("no cluster policy lets firehose.amazonaws.com call kafka:CreateVpcConnection")
    if problems:
        strict.trip(FIREHOSE_PRIVATE.id)
        raise InvalidArgumentException(f"Firehose cannot connect privately to MSK cluster {cluster_arn}: "
                                       f"{'; '.join(problems)}.")


def create_delivery_stream(self: Any, original: Callable[..., Any]) -> Any:
    msk_source = self._get_param("MSKSourceConfiguration") or {}
    auth = msk_source.get("AuthenticationConfiguration") or {}
    kind = self._get_param("DeliveryStreamType")
    # A malformed request is refused for what is wrong with it first, as before this rule.
    firehose_msk.check_request(kind, msk_source or None, self._get_param("DeliveryStreamEncryptionConfigurationInput"))
    if kind == "MSKAsSource" and auth.get("Connectivity") == "PRIVATE" and msk_source.get("MSKClusterARN"):
        check_private_source(self.current_account, self.region, msk_source["MSKClusterARN"])
    return original(self)


# -- responses -------------------------------------------------------------------------------


class _Responses:
    def update_connectivity(self: Any) -> str:
        arn, b = _arn(self, "/connectivity"), body(self)
        backend = kafka_backends[self.current_account][self.region]
        op = update_connectivity(backend, arn, b.get("currentVersion"), b.get("connectivityInfo") or {})
        return json.dumps({"clusterArn": arn, "clusterOperationArn": op})

    def update_security(self: Any) -> str:
        arn, b = _arn(self, "/security"), body(self)
        backend = kafka_backends[self.current_account][self.region]
        op = update_security(backend, arn, b.get("currentVersion"), b.get("clientAuthentication"),
                             b.get("encryptionInfo"))
        return json.dumps({"clusterArn": arn, "clusterOperationArn": op})

    def update_broker_type(self: Any) -> str:
        arn, b = _arn(self, "/nodes/type"), body(self)
        backend = kafka_backends[self.current_account][self.region]
        op = update_broker_type(backend, arn, b.get("currentVersion"), b.get("targetInstanceType") or "")
        return json.dumps({"clusterArn": arn, "clusterOperationArn": op})


def install() -> None:
    add_methods(KafkaResponse, *(fn for name, fn in vars(_Responses).items() if not name.startswith("_")))
    for name, fn in (("create_cluster", create_cluster), ("get_cluster_policy", get_cluster_policy),
                     ("put_cluster_policy", put_cluster_policy), ("delete_cluster", delete_cluster)):
        lifecycle.chain(KafkaBackend, name, fn, owner="strict_msk")
    lifecycle.chain(FirehoseResponse, "create_delivery_stream", create_delivery_stream, owner="strict_msk")
