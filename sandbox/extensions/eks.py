"""EKS fidelity: version upgrades, update tracking, partial config updates, lifecycle.

moto 5.2.5 has no update_cluster_version, describe_update or list_updates;
its update_cluster_config answers without the `update` object and replaces
the whole resourcesVpcConfig (AWS changes only the fields sent); and clusters
and node groups are ACTIVE the instant they are created. Shapes follow
botocore's eks model: an Update is {id, status, type, params, createdAt, errors}.

Rule `eks-oidc-per-cluster`: moto gave every cluster of a process one OIDC
issuer, so two environments in one account collided on their IAM OIDC
provider; each cluster gets its own, as in AWS.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from typing import Any

import botocore.loaders
import moto.eks.models as eks_models
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import urls as eks_urls
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.eks.models import Cluster, EKSBackend, Nodegroup
from moto.eks.responses import EKSResponse

from sandbox import lifecycle, strict
from sandbox.extensions import strict_modify
from sandbox.extensions._base import add_methods, add_urls, store

OIDC_RULE = strict.rule(
    "eks-oidc-per-cluster",
    aws="Every EKS cluster has its own OIDC issuer, https://oidc.eks.<region>.amazonaws.com/id/<32 hex digits>, "
        "so each cluster needs its own IAM OIDC provider (a re-created cluster gets a new issuer).",
    source="https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html "
           "(\"Your cluster has an OpenID Connect (OIDC) issuer URL associated with it\"; example "
           "oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE)",
    moto="One issuer (10 random characters, drawn at import) for every cluster of the process.",
)

CLUSTER = "eks.cluster"
NODEGROUP = "eks.nodegroup"
UPDATE = "eks.update"

_PLATFORM = {"1.28": "eks.30", "1.29": "eks.25", "1.30": "eks.20", "1.31": "eks.15", "1.32": "eks.10",
             "1.33": "eks.5", "1.34": "eks.2"}


def _not_found(message: str, **names: Any) -> ResourceNotFoundException:
    return ResourceNotFoundException(clusterName=names.get("cluster"), nodegroupName=names.get("nodegroup"),
                                     fargateProfileName=None, addonName=None, message=message)


def _cluster(backend: EKSBackend, name: str) -> Cluster:
    cluster = backend.clusters.get(name)
    if cluster is None:
        raise _not_found(f"No cluster found for name: {name}.", cluster=name)
    return cluster


def _nodegroup(backend: EKSBackend, cluster_name: str, name: str) -> Nodegroup:
    ng = _cluster(backend, cluster_name).nodegroups.get(name)
    if ng is None:
        raise _not_found(f"No node group found for name: {name}.", cluster=cluster_name, nodegroup=name)
    return ng


def _updates(backend: EKSBackend) -> dict[str, dict[str, Any]]:
    """update id -> {"update": Update, "cluster": name, "nodegroup": name | None}."""
    return store(backend, "eks_updates")


def _start_update(backend: EKSBackend, obj: Any, cluster: str, nodegroup: str | None, kind: str, utype: str,
                  params: list[dict[str, str]], apply: Callable[[], None]) -> dict[str, Any]:
    """Record an Update (InProgress), hold `obj` UPDATING for its time, then apply and succeed.

    During the async-modify rule's lag the update is InProgress while `obj` still reads ACTIVE."""
    _refuse_busy(obj, cluster, nodegroup, utype)
    if obj.status != "ACTIVE":
        raise ResourceInUseException(clusterName=cluster, nodegroupName=nodegroup, addonName=None,
                                     message=f"{'Nodegroup' if nodegroup else 'Cluster'} is in {obj.status} "
                                             "status; an update can only start when it is ACTIVE.")
    update = {"id": str(uuid.uuid4()), "status": "InProgress", "type": utype, "params": params,
              "createdAt": utcnow(), "errors": []}
    _updates(backend)[update["id"]] = {"update": update, "cluster": cluster, "nodegroup": nodegroup}

    def set_status(state: str) -> None:
        obj.status = state
        if state == "ACTIVE":
            apply()
            update["status"] = "Successful"

    strict_modify.start(obj, kind, ["UPDATING"], "ACTIVE", set_status)
    obj.__dict__["_sandbox_update_id"] = update["id"]
    return update


def _refuse_busy(obj: Any, cluster: str, nodegroup: str | None, utype: str) -> None:
    """EKS runs one update at a time per cluster or node group, whatever the status reads meanwhile."""
    strict_modify.refuse_if_busy(obj, lambda: ResourceInUseException(
        clusterName=cluster, nodegroupName=nodegroup, addonName=None,
        message=f"Cannot {utype} because {'nodegroup ' + nodegroup if nodegroup else 'cluster ' + cluster} "
                f"currently has update {obj.__dict__.get('_sandbox_update_id')} in progress"))


def update_cluster_version(backend: EKSBackend, name: str, version: str) -> dict[str, Any]:
    cluster = _cluster(backend, name)
    try:
        cur = tuple(int(x) for x in str(cluster.version).split("."))
        new = tuple(int(x) for x in str(version).split("."))
    except ValueError:
        raise InvalidParameterException(message=f"Unsupported Kubernetes version {version}.") from None
    if new == cur:
        raise InvalidParameterException(message=f"Cluster is already at the desired version {version}.")
    if new < cur:
        raise InvalidParameterException(message="Kubernetes version downgrades are not supported.")
    if new[0] != cur[0] or new[1] != cur[1] + 1:
        raise InvalidParameterException(
            message=f"Unsupported Kubernetes minor version update from {cluster.version} to {version}.")
    platform = _PLATFORM.get(version, "eks.1")

    def apply() -> None:
        cluster.version = version
        cluster.platformVersion = platform

    return _start_update(backend, cluster, name, None, CLUSTER, "VersionUpdate",
                         [{"type": "Version", "value": version}, {"type": "PlatformVersion", "value": platform}],
                         apply)


_VPC_FIELDS = {"subnetIds", "securityGroupIds", "endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs"}


def update_cluster_config(backend: EKSBackend, name: str, vpc: dict[str, Any] | None,
                          logging: dict[str, Any] | None, access: dict[str, Any] | None) -> dict[str, Any]:
    cluster = _cluster(backend, name)
    if not any((vpc, logging, access)):  # more than one type: rule eks-one-update-type (strict_updates.py)
        raise InvalidParameterException(message="No changes were requested.")
    if vpc:
        unknown = set(vpc) - _VPC_FIELDS
        if unknown:
            raise InvalidParameterException(message=f"Unknown resourcesVpcConfig fields: {sorted(unknown)}.")
        current = cluster.resources_vpc_config or {}
        if all(current.get(k) == v for k, v in vpc.items()):
            raise InvalidParameterException(message="Cluster is already at the desired configuration with "
                                            "endpointPrivateAccess and endpointPublicAccess.")
        utype = "EndpointAccessUpdate" if set(vpc) <= {"endpointPublicAccess", "endpointPrivateAccess",
                                                       "publicAccessCidrs"} else "VpcConfigUpdate"
        params = [{"type": _param_name(k), "value": _str(v)} for k, v in vpc.items()]

        def apply() -> None:
            cluster.resources_vpc_config = {**current, **vpc}
    elif logging:
        utype = "LoggingUpdate"
        params = [{"type": "ClusterLogging", "value": _str(logging.get("clusterLogging", []))}]

        def apply() -> None:
            enabled: set[str] = set()
            for entry in cluster.logging.get("clusterLogging", []):
                if entry.get("enabled"):
                    enabled.update(entry.get("types", []))
            for entry in logging.get("clusterLogging", []):
                if entry.get("enabled"):
                    enabled.update(entry.get("types", []))
                else:
                    enabled.difference_update(entry.get("types", []))
            all_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
            on = [t for t in all_types if t in enabled]
            off = [t for t in all_types if t not in enabled]
            cluster.logging = {"clusterLogging": [x for x in ({"types": on, "enabled": True},
                                                              {"types": off, "enabled": False}) if x["types"]]}
    else:
        utype = "AccessConfigUpdate"
        params = [{"type": "AuthenticationMode", "value": str(access.get("authenticationMode"))}]

        def apply() -> None:
            cluster.access_config = {**(getattr(cluster, "access_config", None) or {}), **access}

    return _start_update(backend, cluster, name, None, CLUSTER if utype == "VpcConfigUpdate" else UPDATE,
                         utype, params, apply)


def associate_encryption_config(backend: EKSBackend, name: str, config: list[dict[str, Any]]) -> dict[str, Any]:
    """Envelope encryption added to a cluster that has none (AWS: it cannot be changed or removed after)."""
    cluster = _cluster(backend, name)
    if cluster.encryption_config:
        raise InvalidRequestException(message="Encryption is already enabled on the cluster.")
    if not config:
        raise InvalidParameterException(message="encryptionConfig is required.")

    def apply() -> None:
        cluster.encryption_config = list(config)

    return _start_update(backend, cluster, name, None, UPDATE, "AssociateEncryptionConfig",
                         [{"type": "EncryptionConfig", "value": _str(config)}], apply)


def _param_name(key: str) -> str:
    return {"subnetIds": "Subnets", "securityGroupIds": "SecurityGroups",
            "endpointPublicAccess": "EndpointPublicAccess", "endpointPrivateAccess": "EndpointPrivateAccess",
            "publicAccessCidrs": "PublicAccessCidrs"}[key]


def _str(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def update_nodegroup_version(backend: EKSBackend, cluster_name: str, name: str, version: str | None,
                             release_version: str | None, launch_template: dict[str, Any] | None) -> dict[str, Any]:
    cluster = _cluster(backend, cluster_name)
    ng = _nodegroup(backend, cluster_name, name)
    target = version or cluster.version
    if launch_template and not ng.launch_template:
        raise InvalidRequestException(message="A launch template cannot be added to a node group that was "
                                      "created without one.")
    if target != cluster.version and tuple(map(int, target.split("."))) > tuple(map(int, cluster.version.split("."))):
        raise InvalidParameterException(message=f"Requested Kubernetes version {target} is newer than the "
                                        f"cluster's {cluster.version}.")
    params = [{"type": "Version", "value": target}]
    if release_version:
        params.append({"type": "ReleaseVersion", "value": release_version})

    def apply() -> None:
        ng.version = target
        ng.release_version = release_version or f"{target}.0-20250101"
        if launch_template:
            ng.launch_template = {**ng.launch_template, **launch_template}

    return _start_update(backend, ng, cluster_name, name, NODEGROUP, "VersionUpdate", params, apply)


# -- lifecycle wrappers ---------------------------------------------------------------


def create_cluster(self: EKSBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Cluster:
    cluster = original(self, *args, **kw)
    cluster.platformVersion = _PLATFORM.get(str(cluster.version), cluster.platformVersion)
    if strict.on(OIDC_RULE.id):
        cluster.identity = {"oidc": {"issuer": f"https://oidc.eks.{self.region_name}.amazonaws.com/id/"
                                               f"{uuid.uuid4().hex.upper()}"}}
    lifecycle.run(cluster, CLUSTER, "create", ["CREATING"], "ACTIVE")
    return cluster


def delete_cluster(self: EKSBackend, original: Callable[..., Any], name: str) -> Cluster:
    existing = self.clusters.get(name)
    if existing is not None and existing.status == "DELETING":
        return existing
    cluster = original(self, name)

    def gone() -> None:
        self.cluster_count = len(self.clusters)

    if lifecycle.duration(CLUSTER, "delete") > 0:
        self.cluster_count += 1
    lifecycle.remove_later(self.clusters, name, cluster, CLUSTER, ["DELETING"], on_gone=gone)
    return cluster


def create_nodegroup(self: EKSBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Nodegroup:
    ng = original(self, *args, **kw)
    cluster = self.clusters[ng.cluster_name]
    if not kw.get("version"):
        ng.version = cluster.version  # AWS defaults a node group to its cluster's version
        if not kw.get("release_version"):
            ng.release_version = f"{cluster.version}.0-20250101"
    lifecycle.run(ng, NODEGROUP, "create", ["CREATING"], "ACTIVE")
    return ng


def delete_nodegroup(self: EKSBackend, original: Callable[..., Any], cluster_name: str,
                     nodegroup_name: str) -> Nodegroup:
    cluster = self.clusters.get(cluster_name)
    existing = cluster.nodegroups.get(nodegroup_name) if cluster else None
    if existing is not None and existing.status == "DELETING":
        return existing
    ng = original(self, cluster_name, nodegroup_name)

    def gone() -> None:
        cluster.nodegroup_count = len(cluster.nodegroups)

    if lifecycle.duration(NODEGROUP, "delete") > 0:
        cluster.nodegroup_count += 1
    lifecycle.remove_later(cluster.nodegroups, nodegroup_name, ng, NODEGROUP, ["DELETING"], on_gone=gone)
    return ng


def update_nodegroup_config(self: EKSBackend, original: Callable[..., Any], cluster_name: str,
                            nodegroup_name: str, **kw: Any) -> dict[str, Any]:
    ng = _nodegroup(self, cluster_name, nodegroup_name)
    _refuse_busy(ng, cluster_name, nodegroup_name, "ConfigUpdate")
    if ng.status != "ACTIVE":
        raise ResourceInUseException(clusterName=cluster_name, nodegroupName=nodegroup_name, addonName=None,
                                     message=f"Nodegroup is in {ng.status} status.")
    scaling = kw.get("scaling_config") or {}
    merged = {**ng.scaling_config, **scaling}
    if scaling and not (merged.get("minSize", 0) <= merged.get("desiredSize", 0) <= merged.get("maxSize", 0)):
        raise InvalidParameterException(message="Requested scaling configuration is invalid: minSize <= "
                                        "desiredSize <= maxSize must hold.")
    result = original(self, cluster_name, nodegroup_name, **kw)
    update = dict(result, status="InProgress")
    _updates(self)[update["id"]] = {"update": update, "cluster": cluster_name, "nodegroup": nodegroup_name}

    def set_status(state: str) -> None:
        ng.status = state
        if state == "ACTIVE":
            update["status"] = "Successful"

    strict_modify.start(ng, NODEGROUP, ["UPDATING"], "ACTIVE", set_status)
    ng.__dict__["_sandbox_update_id"] = update["id"]
    return update


# -- responses ----------------------------------------------------------------------


class _Responses:
    def update_cluster_version(self: Any) -> ActionResult:
        update = update_cluster_version(self.eks_backend, self._get_param("name"), self._get_param("version"))
        return ActionResult({"update": update})

    def update_cluster_config(self: Any) -> ActionResult:
        update = update_cluster_config(self.eks_backend, self._get_param("name"),
                                       self._get_param("resourcesVpcConfig"), self._get_param("logging"),
                                       self._get_param("accessConfig"))
        return ActionResult({"update": update})

    def associate_encryption_config(self: Any) -> ActionResult:
        update = associate_encryption_config(self.eks_backend, self._get_param("name"),
                                             self._get_param("encryptionConfig"))
        return ActionResult({"update": update})

    def update_nodegroup_version(self: Any) -> ActionResult:
        update = update_nodegroup_version(self.eks_backend, self._get_param("name"),
                                          self._get_param("nodegroupName"), self._get_param("version"),
                                          self._get_param("releaseVersion"), self._get_param("launchTemplate"))
        return ActionResult({"update": update})

    def describe_update(self: Any) -> ActionResult:
        backend = self.eks_backend
        name = self._get_param("name")
        update_id = self._get_param("updateId")
        nodegroup = self._get_param("nodegroupName")
        _cluster(backend, name)
        if nodegroup:
            _nodegroup(backend, name, nodegroup)
        rec = _updates(backend).get(update_id)
        if rec is None or rec["cluster"] != name or (nodegroup and rec["nodegroup"] != nodegroup):
            raise _not_found(f"No update found for ID: {update_id}.", cluster=name, nodegroup=nodegroup)
        return ActionResult({"update": rec["update"]})

    def list_updates(self: Any) -> ActionResult:
        backend = self.eks_backend
        name = self._get_param("name")
        nodegroup = self._get_param("nodegroupName")
        _cluster(backend, name)
        ids = [uid for uid, rec in _updates(backend).items()
               if rec["cluster"] == name and rec["nodegroup"] == (nodegroup or None)]
        return ActionResult({"updateIds": ids})


@functools.cache
def _partitions() -> frozenset[str]:
    """botocore's partitions.json (the same ids get_available_partitions reads from endpoints.json, a file
    a hundred times its size: half a second of the server's CPU on the first cluster of an apply)."""
    return frozenset(p["id"] for p in botocore.loaders.create_loader().load_data("partitions")["partitions"])


def _validate_role_arn(arn: str) -> None:
    """moto's check, with the partition list loaded once: moto builds a boto3 Session (and reads
    botocore's endpoint data) on every CreateCluster/CreateNodegroup, ~50 ms of CPU each."""
    match = re.match(r"arn:(?P<partition>.+):iam::(?P<account_id>[0-9]{12}):role/.+", arn or "")
    if not match or match.group("partition") not in _partitions():
        raise InvalidParameterException(message="Invalid Role Arn: '" + arn + "'")


def install() -> None:
    eks_models.validate_role_arn = _validate_role_arn  # type: ignore[attr-defined]
    add_urls(eks_urls, {
        "{0}/clusters/(?P<name>[^/]+)/updates$": EKSResponse.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/encryption-config/associate$": EKSResponse.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$": EKSResponse.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$": EKSResponse.dispatch,
    })
    add_methods(EKSResponse, *(fn for name, fn in vars(_Responses).items()
                               if callable(fn) and not name.startswith("_")), override=True)
    lifecycle.wrap(EKSBackend, "create_cluster")(create_cluster)
    lifecycle.wrap(EKSBackend, "delete_cluster")(delete_cluster)
    lifecycle.wrap(EKSBackend, "create_nodegroup")(create_nodegroup)
    lifecycle.wrap(EKSBackend, "delete_nodegroup")(delete_nodegroup)
    lifecycle.wrap(EKSBackend, "update_nodegroup_config")(update_nodegroup_config)
