"""EKS types: the cluster, its managed node groups and Fargate profiles.

EKS is slow (a cluster takes ~10 minutes, an upgrade longer) and serial (one
update at a time per cluster), and every change is an asynchronous "update"
with its own id. So each mutating call here is followed by a wait: on the
update (our UpdateSuccessful waiter over describe_update, resources/waiters/
eks.json) and then on the resource being ACTIVE again (botocore's waiters).

Props use CloudFormation-style PascalCase names (Name, RoleArn,
ResourcesVpcConfig.SubnetIds...); the API wants camelCase, and the mapping
lives in each type's `_api()` and `read()`. EKS resources are invisible to
the tagging API, so find() looks for the `infra:address` tag by listing
clusters (few per account) and their node groups / Fargate profiles.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

import botocore.session
from botocore import xform_name

from core.errors import PlanError, Retry, on_create
from resources.base import (
    EXTRA_DURATIONS,
    Ctx,
    Durations,
    P,
    Resource,
    ResourceError,
    one_of,
    owned_by,
    tag_changes,
    walk_refs,
)

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

# Kubernetes 1.28 (the architecture document's) left standard support in Nov 2024;
# 1.33 is in standard support until mid-2026 and extended support after.
DEFAULT_VERSION = "1.33"
# A cluster's configuration or logging update (UpdateClusterConfig), shorter than a version upgrade;
# the sandbox plays it as the kind "eks.update".
EXTRA_DURATIONS["eks.update"] = Durations(update=600)


def _enum(shape: str) -> tuple[str, ...]:
    """Allowed values straight from botocore's EKS model, so validation tracks the API."""
    model = botocore.session.get_session().get_service_model("eks")
    return tuple(model.shape_for(shape).enum)


AMI_TYPES = _enum("AMITypes")
CAPACITY_TYPES = _enum("CapacityTypes")


def _version(value: Any) -> str | None:
    return None if re.fullmatch(r"1\.\d{1,2}", value) else "must look like 1.33 (major.minor)"


def _log_types(value: Any) -> str | None:
    bad = [t for t in value if t not in LOG_TYPES]
    return f"has unknown log types {bad}; EKS has {', '.join(LOG_TYPES)}" if bad else None


def _int_or_none(value: Any) -> int | None:
    """EKS answers diskSize as a number (moto as a string)."""
    return None if value in (None, "") else int(value)


def _plain(value: Any) -> bool:
    """True when the value holds no Ref/Join, i.e. it can be checked at definition time."""
    return not any(True for _ in walk_refs(value))


def is_graviton(instance_type: str) -> bool:
    """Graviton families carry a `g` after the generation digit: m6g, c7gn, r6gd, im4gn (not g5, t3)."""
    m = re.match(r"^[a-z]+\d+([a-z\-]*)\.", instance_type)
    return bool(m and "g" in m.group(1))


def token(ctx: Ctx, step: str) -> dict[str, str]:
    """clientRequestToken for one call: ctx.token made distinct per step.

    EKS returns the earlier update for a repeated token, so two different
    updates in one run must not share it; retrying the same step does.
    """
    if not ctx.token:
        return {}
    return {"clientRequestToken": hashlib.sha1(f"{ctx.token}:{step}".encode()).hexdigest()[:32]}


_TF_CLUSTER = "terraform-provider-aws internal/service/eks/cluster.go, around CreateCluster (propagationTimeout: 2 min)"
# What EKS answers while the cluster role, its trust policy or its managed policies have not reached EKS.
# InvalidParameterException is also EKS's answer to a wrong version or subnet: only these messages retry.
CLUSTER_RETRIES: tuple[Retry, ...] = tuple(
    on_create("InvalidParameterException", message, 120, _TF_CLUSTER) for message in (
        r"role.*does not exist",  # "Role with arn: ... could not be assumed because it does not exist or ..."
        "Error in role params",
        "Role could not be assumed because the trusted entity is not correct",
        "The provided role doesn't have the Amazon EKS Managed Policies associated with it",
        "IAM role's policy must include",
    ))
# The node role's trust policy not yet visible to EKS. terraform-provider-aws eks/node_group.go does not
# retry CreateNodegroup (its role is usually older than the cluster, which takes 10 minutes); here the
# node role is created alongside the cluster's children, so the answer EKS gives is retried as the
# cluster's is (message as AWS gives it, e.g. in aws/aws-k8s-tester's eks/mng).
NODEGROUP_RETRIES: tuple[Retry, ...] = (
    on_create("InvalidParameterException", r"Following required service principals \[.*\] were not found in the "
              "trust relationships of nodeRole", 120, "AWS EKS CreateNodegroup; budget as eks/cluster.go's"),
)
FARGATE_RETRIES: tuple[Retry, ...] = (
    on_create("InvalidParameterException", "Misconfigured PodExecutionRole Trust Policy", 120,
              "terraform-provider-aws internal/service/eks/fargate_profile.go, around CreateFargateProfile "
              "(propagationTimeout: 2 min)"),
)


class EksResource(Resource):
    """Shared by EKS types: not-found code, tag sync by ARN, waiting on an update."""

    service = "eks"
    not_found = ("ResourceNotFoundException",)
    arn_output: ClassVar[str] = "Arn"

    def _sync_tags(self, ctx: Ctx, arn: str, have: Mapping[str, str]) -> None:
        """Make the resource's tags ctx.tags; `have` comes from the describe call (it carries tags)."""
        eks = ctx.client("eks")
        stale, changed = tag_changes(have, ctx.tags)
        if stale:
            eks.untag_resource(resourceArn=arn, tagKeys=stale)
        if changed:
            eks.tag_resource(resourceArn=arn, tags=dict(ctx.tags))

    def _await_update(self, ctx: Ctx, resp: Mapping[str, Any], cluster: str, nodegroup: str | None = None) -> None:
        """Wait until the update AWS started has succeeded (describe_update)."""
        upd = resp.get("update") or {}
        if not upd.get("id"):
            return  # nothing started (moto's update_cluster_config answers without one)
        extra = {"nodegroupName": nodegroup} if nodegroup else {}
        ctx.wait("eks", "UpdateSuccessful", timeout_key="update", name=cluster, updateId=upd["id"], **extra)

    def state(self, ctx: Ctx, physical_id: str) -> tuple[str, str] | None:
        """The status, and the health issues AWS lists for a failed cluster or node group."""
        item = self._describe(ctx, physical_id)  # type: ignore[attr-defined] - each type's own describe
        if item is None:
            return None
        issues = "; ".join(f"{i.get('code')}: {i.get('message')}" + (
            f" ({', '.join(i['resourceIds'])})" if i.get("resourceIds") else "")
            for i in (item.get("health") or {}).get("issues") or [])
        return item.get("status", ""), issues

    def _clusters(self, ctx: Ctx) -> Iterator[str]:
        """Clusters of this project and env (tags say so), for find()."""
        eks = ctx.client("eks")
        for page in eks.get_paginator("list_clusters").paginate():
            for name in page["clusters"]:
                c = self.ignore_gone(eks.describe_cluster, name=name)
                tags = (c or {}).get("cluster", {}).get("tags", {})
                if tags.get("infra:project") == ctx.project and tags.get("infra:env") == ctx.env:
                    yield name


# ------------------------------------------------------------------------- cluster


VPC_KEYS = {"SubnetIds": "subnetIds", "SecurityGroupIds": "securityGroupIds",
            "EndpointPublicAccess": "endpointPublicAccess", "EndpointPrivateAccess": "endpointPrivateAccess",
            "PublicAccessCidrs": "publicAccessCidrs"}


class Cluster(EksResource):
    """An EKS control plane: version, networking, control-plane logs, envelope encryption of secrets."""

    type_name = "eks.Cluster"
    stateful = True  # a replacement destroys its data (issue 13): apply refuses it unless named
    created_wait = ("ClusterActive", "name")
    retries = CLUSTER_RETRIES
    label = "EKS cluster"
    arn_kind = ("eks", "cluster")
    durations = Durations(create=600, update=1800, delete=300)  # update = version upgrade
    props = {
        "Name": P(str, doc="default: genai-demo-<env>-<name>"),
        "Version": P(str, default=DEFAULT_VERSION, validator=_version),
        "RoleArn": P(str, required=True),
        "ResourcesVpcConfig": P(dict, required=True,
                                doc="SubnetIds, SecurityGroupIds, EndpointPublicAccess (default True), "
                                    "EndpointPrivateAccess (default True), PublicAccessCidrs"),
        "Logging": P(list, default=list(LOG_TYPES), validator=_log_types, doc="enabled control-plane log types"),
        "EncryptionConfig": P(list, default=[], doc='[{"Resources": ["secrets"], "Provider": {"KeyArn": ...}}]'),
    }
    # A new role means a new cluster (EKS has no call that changes it).
    replace_on = frozenset({"Name", "RoleArn"})
    # Envelope encryption is added in place (AssociateEncryptionConfig), but EKS can neither remove it nor
    # change its key; replacing the cluster for that would take every node group and workload down with it.
    refuse_on = {"EncryptionConfig": "EKS cannot change or remove a cluster's envelope encryption (it can only "
                                     "be added to a cluster without it, with AssociateEncryptionConfig); keep "
                                     "the current key, or replace the cluster on purpose with --replace ADDR"}
    change_notes = {
        "EncryptionConfig": "CloudFormation replaces the cluster; here adding encryption to a cluster without "
                            "it is made in place with AssociateEncryptionConfig (Terraform eks/cluster.go does "
                            "the same), and a change or removal, which EKS cannot make, is refused rather than "
                            "destroying the cluster and every node group",
        "ResourcesVpcConfig": "in place, one update type per UpdateClusterConfig call: endpoint access, then "
                              "subnets, then security groups (Terraform eks/cluster.go: \"API only allows one "
                              "type of update at at time\")",
        "Logging": "in place (UpdateClusterConfig logging)",
        "Version": "in place, one minor version per UpdateClusterVersion; a downgrade fails",
    }
    outputs = ("Name", "Arn", "Endpoint", "OidcIssuer", "ClusterSecurityGroupId", "CertificateAuthority")
    timeouts = {"create": 1800, "update": 3600, "delete": 1200}
    failed_states = frozenset({"FAILED"})
    creating_states = frozenset({"CREATING"})

    @classmethod
    def list_tagged(cls, clients: Any) -> Iterator[tuple[str, dict[str, str]]]:
        """Clusters with their node groups and Fargate profiles (listed per cluster)."""
        eks = clients.client("eks")
        for page in eks.get_paginator("list_clusters").paginate():
            for name in page["clusters"]:
                c = eks.describe_cluster(name=name)["cluster"]
                yield c["arn"], dict(c.get("tags") or {})
                for ng_page in eks.get_paginator("list_nodegroups").paginate(clusterName=name):
                    for ng in ng_page["nodegroups"]:
                        n = eks.describe_nodegroup(clusterName=name, nodegroupName=ng)["nodegroup"]
                        yield n["nodegroupArn"], dict(n.get("tags") or {})
                for fp_page in eks.get_paginator("list_fargate_profiles").paginate(clusterName=name):
                    for fp in fp_page["fargateProfileNames"]:
                        f = eks.describe_fargate_profile(clusterName=name, fargateProfileName=fp)["fargateProfile"]
                        yield f["fargateProfileArn"], dict(f.get("tags") or {})

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        vpc = props["ResourcesVpcConfig"]
        unknown = set(vpc) - set(VPC_KEYS)
        if unknown:
            raise PlanError(f"{where}: ResourcesVpcConfig has unknown keys {sorted(unknown)}; "
                            f"it accepts {', '.join(VPC_KEYS)}")
        if not vpc.get("SubnetIds"):
            raise PlanError(f"{where}: ResourcesVpcConfig.SubnetIds is required (subnets in two AZs at least)")
        props["ResourcesVpcConfig"] = {"SubnetIds": vpc["SubnetIds"], "SecurityGroupIds": vpc.get("SecurityGroupIds", []),
                                       "EndpointPublicAccess": vpc.get("EndpointPublicAccess", True),
                                       "EndpointPrivateAccess": vpc.get("EndpointPrivateAccess", True),
                                       "PublicAccessCidrs": vpc.get("PublicAccessCidrs", ["0.0.0.0/0"])}
        if not (props["ResourcesVpcConfig"]["EndpointPublicAccess"]
                or props["ResourcesVpcConfig"]["EndpointPrivateAccess"]):
            raise PlanError(f"{where}: the API endpoint must be public, private or both")
        if isinstance(props.get("Logging"), list):
            props["Logging"] = [t for t in LOG_TYPES if t in props["Logging"]]
        for enc in props.get("EncryptionConfig") or []:
            if not isinstance(enc, Mapping) or set(enc) != {"Resources", "Provider"} \
                    or not isinstance(enc["Provider"], Mapping) or "KeyArn" not in enc["Provider"]:
                raise PlanError(f'{where}: EncryptionConfig entries are {{"Resources": ["secrets"], '
                                f'"Provider": {{"KeyArn": ...}}}}, got {enc!r}')

    def cluster_name(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        name = (props or self.properties).get("Name")
        return name if isinstance(name, str) else ctx.physical_name(max_len=100)

    @staticmethod
    def _vpc_api(vpc: Mapping[str, Any]) -> dict[str, Any]:
        return {VPC_KEYS[k]: (list(v) if isinstance(v, list | tuple) else v) for k, v in vpc.items()}

    @staticmethod
    def _logging_api(enabled: list[str]) -> dict[str, Any]:
        off = [t for t in LOG_TYPES if t not in enabled]
        entries = [{"types": list(enabled), "enabled": True}] if enabled else []
        entries += [{"types": off, "enabled": False}] if off else []
        return {"clusterLogging": entries}

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.cluster_name(ctx, props)
        enc = [{"resources": list(e["Resources"]), "provider": {"keyArn": e["Provider"]["KeyArn"]}}
               for e in props.get("EncryptionConfig") or []]
        ctx.client("eks").create_cluster(
            name=name, version=props["Version"], roleArn=props["RoleArn"],
            resourcesVpcConfig=self._vpc_api(props["ResourcesVpcConfig"]),
            logging=self._logging_api(props["Logging"]), tags=dict(ctx.tags),
            **({"encryptionConfig": enc} if enc else {}), **token(ctx, "create"))
        self.wait_created(ctx, name)
        return name, self.outputs_of(ctx, name)

    def _describe(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("eks").describe_cluster, name=name)
        c = resp["cluster"] if resp else None
        return None if c is None or c.get("status") == "DELETING" else c

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        c = self._describe(ctx, physical_id) or {}
        return {
            "Name": physical_id,
            "Arn": c.get("arn"),
            "Endpoint": c.get("endpoint"),
            "OidcIssuer": c.get("identity", {}).get("oidc", {}).get("issuer"),
            "ClusterSecurityGroupId": c.get("resourcesVpcConfig", {}).get("clusterSecurityGroupId"),
            "CertificateAuthority": c.get("certificateAuthority", {}).get("data"),
        }

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        c = self._describe(ctx, physical_id)
        if c is None:
            return None
        vpc = c.get("resourcesVpcConfig", {})
        enabled = {t for e in c.get("logging", {}).get("clusterLogging", []) if e.get("enabled")
                   for t in e.get("types", [])}
        named = {"Name": c["name"]} if "Name" in self.properties else {}
        return {
            **named,
            "Version": c.get("version"),
            "RoleArn": c.get("roleArn"),
            "ResourcesVpcConfig": {k: vpc.get(api, [] if k.endswith("s") else None) for k, api in VPC_KEYS.items()},
            "Logging": [t for t in LOG_TYPES if t in enabled],
            "EncryptionConfig": [{"Resources": list(e.get("resources", [])),
                                  "Provider": {"KeyArn": e.get("provider", {}).get("keyArn")}}
                                 for e in c.get("encryptionConfig") or []],
        }

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        """Adding encryption to a cluster that has none is an update; any other change of it is refused."""
        changed = list(changed)
        if "EncryptionConfig" in changed and not old.get("EncryptionConfig") and new.get("EncryptionConfig"):
            changed.remove("EncryptionConfig")
        return super().refusal(old, new, changed)

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """One update at a time (EKS refuses concurrent ones), each waited to success.

        Each step compares with what the cluster has now, not with `old`: an update re-run after a
        failed step (a retry, an interrupted run) goes on from where AWS is instead of asking again for
        a version or setting already reached (EKS refuses those: "already at the desired ...")."""
        eks = ctx.client("eks")
        why = self.refusal(old, new, [k for k in new if old.get(k) != new.get(k)])
        if why:
            raise ResourceError(f"{self.type_name} {self.address}: {why}")
        live = self.read(ctx, physical_id) or old
        for version in self._upgrade_path(live["Version"], new["Version"]):
            resp = eks.update_cluster_version(name=physical_id, version=version, **token(ctx, f"version-{version}"))
            self._settle(ctx, physical_id, resp)
        if not live.get("EncryptionConfig") and new.get("EncryptionConfig"):
            enc = [{"resources": list(e["Resources"]), "provider": {"keyArn": e["Provider"]["KeyArn"]}}
                   for e in new["EncryptionConfig"]]
            resp = eks.associate_encryption_config(clusterName=physical_id, encryptionConfig=enc,
                                                   **token(ctx, "encryption"))
            self._settle(ctx, physical_id, resp)
        if list(live.get("Logging") or []) != list(new["Logging"]):
            resp = eks.update_cluster_config(name=physical_id, logging=self._logging_api(new["Logging"]),
                                             **token(ctx, "logging"))
            self._settle(ctx, physical_id, resp)
        for step, part in self._vpc_steps(live.get("ResourcesVpcConfig") or {}, new["ResourcesVpcConfig"]):
            resp = eks.update_cluster_config(name=physical_id, resourcesVpcConfig=part, **token(ctx, step))
            self._settle(ctx, physical_id, resp)
        c = self._describe(ctx, physical_id) or {}
        self._sync_tags(ctx, c["arn"], c.get("tags", {}))
        return self.outputs_of(ctx, physical_id)

    @classmethod
    def _vpc_steps(cls, have: Mapping[str, Any], want: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The VPC config change as the separate UpdateClusterConfig calls EKS takes (one update type each):
        endpoint access (both flags and the CIDRs together, EndpointAccessUpdate), then subnets, then
        security groups (VpcConfigUpdate), as terraform-provider-aws eks/cluster.go sends them."""
        steps: list[tuple[str, dict[str, Any]]] = []
        access = ("EndpointPublicAccess", "EndpointPrivateAccess", "PublicAccessCidrs")
        if any(have.get(k) != want.get(k) for k in access):
            steps.append(("vpc-access", cls._vpc_api({k: want[k] for k in access if want.get(k) is not None})))
        for key in ("SubnetIds", "SecurityGroupIds"):
            if sorted(have.get(key) or []) != sorted(want.get(key) or []):
                steps.append((f"vpc-{key}", cls._vpc_api({key: want[key]})))
        return steps

    def _settle(self, ctx: Ctx, name: str, resp: Mapping[str, Any]) -> None:
        self._await_update(ctx, resp, name)
        ctx.wait("eks", "ClusterActive", timeout_key="update", name=name)

    def _upgrade_path(self, old: str, new: str) -> list[str]:
        """EKS upgrades one minor version per update; a downgrade is impossible."""
        (omaj, omin), (nmaj, nmin) = (tuple(int(x) for x in v.split(".")) for v in (old, new))
        if (nmaj, nmin) < (omaj, omin):
            raise ResourceError(f"{self.type_name} {self.address}: cannot downgrade Kubernetes {old} -> {new}; "
                                "EKS only upgrades (replace the cluster to go back)")
        return [f"{nmaj}.{m}" for m in range(omin + 1, nmin + 1)] if nmaj == omaj else [new]

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        if self.ignore_gone(ctx.client("eks").delete_cluster, name=physical_id) is None:
            return
        ctx.wait("eks", "ClusterDeleted", timeout_key="delete", name=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.cluster_name(ctx)
        c = self._describe(ctx, name)
        if c is None or not owned_by(c.get("tags", {}), ctx):
            return None
        return name, self.outputs_of(ctx, name)


# ------------------------------------------------------------------------- node group

class ClusterChild(EksResource):
    """Node groups and Fargate profiles: named within a cluster, physical id "<cluster>/<name>",
    and the same describe/delete/list calls but for the noun (`kind`, e.g. describe_nodegroup with
    nodegroupName answering {"nodegroup": ...}, or describe_fargate_profile with fargateProfileName)."""

    kind: ClassVar[str] = ""  # "Nodegroup" / "FargateProfile": also the name property's prefix
    list_key: ClassVar[str] = ""  # where List<kind>s puts the names
    failed_states = frozenset({"CREATE_FAILED"})
    creating_states = frozenset({"CREATING"})

    @property
    def _noun(self) -> str:
        return self.kind[0].lower() + self.kind[1:]

    def child_name(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        name = (props or self.properties).get(f"{self.kind}Name")
        return name if isinstance(name, str) else ctx.physical_name(max_len=63)

    @staticmethod
    def split(physical_id: str) -> tuple[str, str]:
        cluster, _, name = physical_id.partition("/")
        return cluster, name

    def _ids(self, physical_id: str) -> dict[str, str]:
        cluster, name = self.split(physical_id)
        return {"clusterName": cluster, f"{self._noun}Name": name}

    def _describe(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        op = getattr(ctx.client("eks"), xform_name(f"Describe{self.kind}"))
        resp = self.ignore_gone(op, **self._ids(physical_id))
        item = resp[self._noun] if resp else None
        return None if item is None or item.get("status") == "DELETING" else item

    def wait_created(self, ctx: Ctx, physical_id: str) -> None:
        ctx.wait("eks", f"{self.kind}Active", timeout_key="create", **self._ids(physical_id))

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        op = getattr(ctx.client("eks"), xform_name(f"Delete{self.kind}"))
        if self.ignore_gone(op, **self._ids(physical_id)) is None:
            return
        ctx.wait("eks", f"{self.kind}Deleted", timeout_key="delete", **self._ids(physical_id))

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        paginator = ctx.client("eks").get_paginator(xform_name(f"List{self.kind}s"))
        for cluster in self._clusters(ctx):
            for page in paginator.paginate(clusterName=cluster):
                for name in page[self.list_key]:
                    pid = f"{cluster}/{name}"
                    item = self._describe(ctx, pid)
                    if item is not None and owned_by(item.get("tags", {}), ctx):
                        return pid, self.outputs_of(ctx, pid)
        return None


SCALING_KEYS = {"MinSize": "minSize", "DesiredSize": "desiredSize", "MaxSize": "maxSize"}


class Nodegroup(ClusterChild):
    """A managed node group. Physical id: "<cluster>/<nodegroup>".

    Sizes and labels change in place (update_nodegroup_config); instance
    types, AMI type, capacity type, subnets and role need a new group.
    """

    type_name = "eks.Nodegroup"
    retries = NODEGROUP_RETRIES
    label = "node group"
    arn_kind = ("eks", "nodegroup")
    durations = Durations(create=300, update=600, delete=300)
    kind, list_key = "Nodegroup", "nodegroups"
    props = {
        "ClusterName": P(str, required=True),
        "NodegroupName": P(str, doc="default: genai-demo-<env>-<name>"),
        "NodeRole": P(str, required=True),
        "Subnets": P(list, required=True),
        "InstanceTypes": P(list, default=["t3.medium"]),
        "AmiType": P(str, default="AL2023_x86_64_STANDARD", validator=one_of(*AMI_TYPES)),
        "CapacityType": P(str, default="ON_DEMAND", validator=one_of(*CAPACITY_TYPES)),
        "DiskSize": P(int, doc="GiB; EKS's default 20. Not with LaunchTemplate: its BlockDeviceMappings say it"),
        "ScalingConfig": P(dict, required=True, doc="MinSize, DesiredSize, MaxSize"),
        "Labels": P(dict, default={}),
        "LaunchTemplate": P(dict, doc='{"Id": ec2.LaunchTemplate id, "Version": "1"}: the nodes carry its '
                            "security groups instead of the cluster security group"),
    }
    replace_on = frozenset({"ClusterName", "NodegroupName", "NodeRole", "Subnets", "InstanceTypes", "AmiType",
                            "CapacityType", "DiskSize", "LaunchTemplate"})
    change_notes = {"LaunchTemplate": "replace: a node group cannot gain, lose or swap its launch template "
                                      "(UpdateNodegroupVersion moves only its version; Terraform launch_template "
                                      "id/name ForceNew), and the template's own changes make a new template"}
    outputs = ("NodegroupName", "Arn", "AutoScalingGroupName")
    timeouts = {"create": 1800, "update": 1800, "delete": 1800}

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        sc = props["ScalingConfig"]
        if set(sc) != set(SCALING_KEYS):
            raise PlanError(f"{where}: ScalingConfig needs exactly {', '.join(SCALING_KEYS)}, got {sorted(sc)}")
        if _plain(sc) and not (0 <= sc["MinSize"] <= sc["DesiredSize"] <= sc["MaxSize"] and sc["MaxSize"] >= 1):
            raise PlanError(f"{where}: ScalingConfig must satisfy 0 <= MinSize <= DesiredSize <= MaxSize, "
                            f"MaxSize >= 1; got {sc}")
        template = props.get("LaunchTemplate")
        if template is not None:
            if not isinstance(template, Mapping) or set(template) != {"Id", "Version"}:
                raise PlanError(f'{where}: LaunchTemplate is {{"Id": ..., "Version": ...}}, got {template!r}')
            if "DiskSize" in props:
                raise PlanError(f"{where}: DiskSize cannot be given with a LaunchTemplate (EKS refuses both); "
                                "set the disk in the template's BlockDeviceMappings")
        types, ami = props.get("InstanceTypes") or [], props.get("AmiType")
        if _plain(types) and isinstance(ami, str) and ami not in ("CUSTOM",):
            arm = "ARM_64" in ami
            wrong = [t for t in types if is_graviton(t) != arm]
            if wrong:
                raise PlanError(f"{where}: AmiType {ami} is {'ARM64' if arm else 'x86_64'} but instance types "
                                f"{wrong} are {'x86_64' if arm else 'Graviton ARM64'}")

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        cluster, ng = props["ClusterName"], self.child_name(ctx, props)
        template = props.get("LaunchTemplate")
        disk_or_template: dict[str, Any] = (
            {"launchTemplate": {"id": template["Id"], "version": str(template["Version"])}} if template
            else {"diskSize": props["DiskSize"]} if props.get("DiskSize") is not None else {})
        ctx.client("eks").create_nodegroup(
            clusterName=cluster, nodegroupName=ng, nodeRole=props["NodeRole"], subnets=list(props["Subnets"]),
            instanceTypes=list(props["InstanceTypes"]), amiType=props["AmiType"],
            capacityType=props["CapacityType"], **disk_or_template,
            scalingConfig={api: props["ScalingConfig"][k] for k, api in SCALING_KEYS.items()},
            labels=dict(props["Labels"]), tags=dict(ctx.tags), **token(ctx, "create"))
        pid = f"{cluster}/{ng}"
        self.wait_created(ctx, pid)
        return pid, self.outputs_of(ctx, pid)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        n = self._describe(ctx, physical_id) or {}
        asgs = n.get("resources", {}).get("autoScalingGroups") or [{}]
        return {"NodegroupName": self.split(physical_id)[1], "Arn": n.get("nodegroupArn"),
                "AutoScalingGroupName": asgs[0].get("name")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        n = self._describe(ctx, physical_id)
        if n is None:
            return None
        named = {"NodegroupName": n["nodegroupName"]} if "NodegroupName" in self.properties else {}
        lt = n.get("launchTemplate") or {}
        # With a launch template the disk is the template's; without one, EKS's default unless the plan set it.
        disk = {"DiskSize": _int_or_none(n.get("diskSize"))} if "DiskSize" in self.properties or (
            not lt and _int_or_none(n.get("diskSize")) not in (None, 20)) else {}
        return {
            "ClusterName": n["clusterName"], **named, "NodeRole": n.get("nodeRole"),
            "Subnets": list(n.get("subnets", [])), "InstanceTypes": list(n.get("instanceTypes") or []),
            "AmiType": n.get("amiType"), "CapacityType": n.get("capacityType"), **disk,
            **({"LaunchTemplate": {"Id": lt.get("id"), "Version": str(lt.get("version"))}} if lt else {}),
            "ScalingConfig": {k: n.get("scalingConfig", {}).get(api) for k, api in SCALING_KEYS.items()},
            "Labels": dict(n.get("labels") or {}),
        }

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        cluster, ng = self.split(physical_id)
        change: dict[str, Any] = {}
        if old.get("ScalingConfig") != new["ScalingConfig"]:
            change["scalingConfig"] = {api: new["ScalingConfig"][k] for k, api in SCALING_KEYS.items()}
        have, want = old.get("Labels") or {}, new.get("Labels") or {}
        if have != want:
            labels: dict[str, Any] = {}
            upsert = {k: v for k, v in want.items() if have.get(k) != v}
            gone = [k for k in have if k not in want]
            if upsert:
                labels["addOrUpdateLabels"] = upsert
            if gone:
                labels["removeLabels"] = gone
            change["labels"] = labels
        if change:
            step = "config-" + hashlib.sha1(repr(sorted(change.items())).encode()).hexdigest()[:8]
            resp = ctx.client("eks").update_nodegroup_config(clusterName=cluster, nodegroupName=ng, **change,
                                                             **token(ctx, step))
            self._await_update(ctx, resp, cluster, ng)
            ctx.wait("eks", "NodegroupActive", timeout_key="update", clusterName=cluster, nodegroupName=ng)
        n = self._describe(ctx, physical_id) or {}
        self._sync_tags(ctx, n["nodegroupArn"], n.get("tags", {}))
        return self.outputs_of(ctx, physical_id)



# ------------------------------------------------------------------------- Fargate profile


class FargateProfile(ClusterChild):
    """Pods in the selected namespaces run on Fargate. Physical id: "<cluster>/<profile>".

    AWS cannot change a Fargate profile: every property replaces it; only tags
    change in place.
    """

    type_name = "eks.FargateProfile"
    retries = FARGATE_RETRIES
    label = "Fargate profile"
    arn_kind = ("eks", "fargateprofile")
    kind, list_key = "FargateProfile", "fargateProfileNames"
    props = {
        "ClusterName": P(str, required=True),
        "FargateProfileName": P(str, doc="default: genai-demo-<env>-<name>"),
        "PodExecutionRoleArn": P(str, required=True),
        "Subnets": P(list, required=True, doc="private subnets only: Fargate pods get no public IP"),
        "Selectors": P(list, required=True, doc='[{"Namespace": "batch", "Labels": {...}}], at most 5'),
    }
    replace_on = frozenset(props)
    outputs = ("FargateProfileName", "Arn")
    timeouts = {"create": 900, "update": 300, "delete": 900}

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        sels = props["Selectors"]
        if not 1 <= len(sels) <= 5:
            raise PlanError(f"{where}: Selectors must hold 1 to 5 selectors")
        for s in sels:
            if not isinstance(s, Mapping) or "Namespace" not in s or set(s) - {"Namespace", "Labels"}:
                raise PlanError(f'{where}: a selector is {{"Namespace": str, "Labels": dict}}, got {s!r}')
        props["Selectors"] = [{"Namespace": s["Namespace"], "Labels": dict(s.get("Labels") or {})} for s in sels]

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        cluster, fp = props["ClusterName"], self.child_name(ctx, props)
        ctx.client("eks").create_fargate_profile(
            clusterName=cluster, fargateProfileName=fp, podExecutionRoleArn=props["PodExecutionRoleArn"],
            subnets=list(props["Subnets"]), tags=dict(ctx.tags),
            selectors=[{"namespace": s["Namespace"], **({"labels": s["Labels"]} if s["Labels"] else {})}
                       for s in props["Selectors"]], **token(ctx, "create"))
        pid = f"{cluster}/{fp}"
        self.wait_created(ctx, pid)
        return pid, self.outputs_of(ctx, pid)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        f = self._describe(ctx, physical_id) or {}
        return {"FargateProfileName": self.split(physical_id)[1], "Arn": f.get("fargateProfileArn")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        f = self._describe(ctx, physical_id)
        if f is None:
            return None
        named = {"FargateProfileName": f["fargateProfileName"]} if "FargateProfileName" in self.properties else {}
        return {"ClusterName": f["clusterName"], **named, "PodExecutionRoleArn": f.get("podExecutionRoleArn"),
                "Subnets": list(f.get("subnets", [])),
                "Selectors": [{"Namespace": s.get("namespace"), "Labels": dict(s.get("labels") or {})}
                              for s in f.get("selectors", [])]}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        f = self._describe(ctx, physical_id) or {}
        self._sync_tags(ctx, f["fargateProfileArn"], f.get("tags", {}))
        return self.outputs_of(ctx, physical_id)
