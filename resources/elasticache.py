"""ElastiCache (Redis OSS) types: subnet group, parameter group, replication group.

Like RDS, ElastiCache identifies these by name, so the physical id is the
deterministic `genai-demo-<env>-<name>` (lower case: ElastiCache folds names)
and find() is one describe by that name confirmed by the `infra:address` tag.
Tags go in at create time and are kept in step by ARN.

The Redis AUTH token is never a property: the plan names a Secrets Manager
secret (`AuthTokenSecretArn`) and create() reads the value itself, so state
holds only the ARN (inventory defect 6: the original code had a literal).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import PlanError, on_delete
from resources.base import (
    EXTRA_DURATIONS,
    Ctx,
    Durations,
    NamedSubnetGroup,
    NamedTagListResource,
    P,
    ResourceError,
    chunks,
    int_range,
    one_of,
    parameter_values,
    tag_list,
)

# Single-node cache clusters (CreateCacheCluster), which the sandbox emulates beside replication groups.
EXTRA_DURATIONS["elasticache.cachecluster"] = Durations(create=600, update=600, delete=300)


class CacheResource(NamedTagListResource):
    """ElastiCache types share naming (id = deterministic name), tags by ARN and find-by-name."""

    service = "elasticache"

    def arn_of(self, item: dict[str, Any]) -> str:
        return item["ARN"]


# --------------------------------------------------------------------------- subnet group


class SubnetGroup(CacheResource, NamedSubnetGroup):
    """The subnets cache nodes may live in (one per AZ so Multi-AZ can place replicas apart)."""

    type_name = "elasticache.SubnetGroup"
    label = "cache subnet group"
    arn_kind = ("elasticache", "subnetgroup")
    kind = "CacheSubnetGroup"
    arn_key = "ARN"
    props = {
        "CacheSubnetGroupDescription": P(str, default="Cache subnets managed by genai-infra"),
        "SubnetIds": P(list, required=True, validator=lambda v: None if v else "needs at least one subnet"),
    }
    outputs = ("CacheSubnetGroupName", "Arn", "VpcId")
    not_found = ("CacheSubnetGroupNotFoundFault",)


# --------------------------------------------------------------------------- parameter group


class ParameterGroup(CacheResource):
    """A cache parameter group ({name: value}); removing a parameter resets it to the engine default.

    A cluster-mode-enabled replication group needs `cluster-enabled: "yes"` in
    its (custom) parameter group.
    """

    type_name = "elasticache.ParameterGroup"
    label = "cache parameter group"
    arn_kind = ("elasticache", "parametergroup")
    props = {
        "CacheParameterGroupFamily": P(str, required=True, doc="e.g. redis7"),
        "Description": P(str, default="Cache parameters managed by genai-infra"),
        "Parameters": P(dict, default={}),
    }
    replace_on = frozenset({"CacheParameterGroupFamily", "Description"})  # neither is modifiable
    outputs = ("CacheParameterGroupName", "Arn")
    not_found = ("CacheParameterGroupNotFound", "CacheParameterGroupNotFoundFault")
    # A deleted replication group's clusters hold it until ElastiCache has removed them (TF
    # elasticache/parameter_group.go retries the delete on InvalidCacheParameterGroupState, 3 min).
    retries = (on_delete("InvalidCacheParameterGroupState", r"in use", seconds=180.0,
                         why="TF elasticache/parameter_group.go: delete retried while the group is in use"),)

    def validate(self, props: dict[str, Any]) -> None:
        if isinstance(props.get("Parameters"), dict):
            props["Parameters"] = parameter_values(f"{self.type_name} {self.name!r}", props["Parameters"])

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        return self.describe_first(ctx, "describe_cache_parameter_groups", "CacheParameterGroups",
                              CacheParameterGroupName=physical_id)

    def _apply(self, ctx: Ctx, physical_id: str, values: dict[str, str]) -> None:
        plist = [{"ParameterName": k, "ParameterValue": v} for k, v in sorted(values.items())]
        for chunk in chunks(plist, 20):  # AWS accepts at most 20 per call
            ctx.client("elasticache").modify_cache_parameter_group(CacheParameterGroupName=physical_id,
                                                                   ParameterNameValues=chunk)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.ident(ctx)
        ctx.client("elasticache").create_cache_parameter_group(
            CacheParameterGroupName=name, CacheParameterGroupFamily=props["CacheParameterGroupFamily"],
            Description=props["Description"], Tags=tag_list(ctx.tags))
        self._apply(ctx, name, props.get("Parameters") or {})
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        g = self.describe_one(ctx, physical_id) or {}
        return {"CacheParameterGroupName": physical_id, "Arn": g.get("ARN")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        g = self.describe_one(ctx, physical_id)
        if g is None:
            return None
        pages = ctx.client("elasticache").get_paginator("describe_cache_parameters").paginate(
            CacheParameterGroupName=physical_id, Source="user")
        params = {p["ParameterName"]: p.get("ParameterValue") for page in pages for p in page.get("Parameters", [])
                  if p.get("Source", "user") == "user"}
        return {"CacheParameterGroupFamily": g["CacheParameterGroupFamily"], "Description": g.get("Description"),
                "Parameters": params}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        before, after = old.get("Parameters") or {}, new.get("Parameters") or {}
        self._apply(ctx, physical_id, {k: v for k, v in after.items() if before.get(k) != v})
        removed = sorted(k for k in before if k not in after)
        for chunk in chunks([{"ParameterName": k} for k in removed], 20):
            ctx.client("elasticache").reset_cache_parameter_group(CacheParameterGroupName=physical_id,
                                                                  ParameterNameValues=chunk)
        return self.synced_outputs(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("elasticache").delete_cache_parameter_group, CacheParameterGroupName=physical_id)


# --------------------------------------------------------------------------- replication group

# Property -> ModifyReplicationGroup parameter, for what changes in place with one call.
_MODIFY = {
    "ReplicationGroupDescription": "ReplicationGroupDescription",
    "CacheNodeType": "CacheNodeType",
    "EngineVersion": "EngineVersion",
    "AutomaticFailoverEnabled": "AutomaticFailoverEnabled",
    "MultiAZEnabled": "MultiAZEnabled",
    "SecurityGroupIds": "SecurityGroupIds",
    "CacheParameterGroupName": "CacheParameterGroupName",
    "SnapshotRetentionLimit": "SnapshotRetentionLimit",
    "SnapshotWindow": "SnapshotWindow",
    "PreferredMaintenanceWindow": "PreferredMaintenanceWindow",
    "AutoMinorVersionUpgrade": "AutoMinorVersionUpgrade",
}
_CREATE_SKIP = frozenset({"AuthTokenSecretArn", "SkipFinalSnapshot"})


def _version(text: Any) -> tuple[int, ...]:
    """ "7.1" -> (7, 1): engine versions compared as numbers."""
    return tuple(int(p) for p in str(text or "0").split(".") if p.isdigit())


def auth_token_from(secret_string: str) -> str:
    """The token in a secret: the whole string, or one of the usual keys of a JSON object."""
    try:
        doc = json.loads(secret_string)
    except ValueError:
        return secret_string
    if isinstance(doc, dict):
        for key in ("authToken", "AuthToken", "auth_token", "token", "password"):
            if isinstance(doc.get(key), str):
                return doc[key]
        raise ResourceError("the Redis auth secret is a JSON object without an authToken/token/password key")
    return secret_string


class ReplicationGroup(CacheResource):
    """A Redis OSS replication group: one primary with replicas (cluster mode disabled) or
    NumNodeGroups shards of ReplicasPerNodeGroup replicas each (cluster mode enabled).

    In place: node type, engine version, failover/Multi-AZ, security groups,
    parameter group, snapshot and maintenance settings (one
    ModifyReplicationGroup), shard count (ModifyReplicationGroupShardConfiguration),
    replica count (Increase/DecreaseReplicaCount) and the AUTH token (rotated
    from the secret). Encryption, engine, port, subnet group and cluster mode
    need a new group.
    """

    type_name = "elasticache.ReplicationGroup"
    stateful = True  # a replacement destroys its data (issue 13): apply refuses it unless named
    created_wait = ("ReplicationGroupCreated", "ReplicationGroupId")
    label = "Redis replication group"
    arn_kind = ("elasticache", "replicationgroup")
    durations = Durations(create=600, update=900, delete=420)
    name_max = 40  # ReplicationGroupId limit
    props = {
        "ReplicationGroupDescription": P(str, default="Redis managed by genai-infra"),
        "Engine": P(str, default="redis", validator=one_of("redis", "valkey")),
        "EngineVersion": P(str),
        "CacheNodeType": P(str, required=True),
        "ClusterMode": P(str, default="disabled", validator=one_of("enabled", "compatible", "disabled"),
                         doc="disabled -> compatible -> enabled in place (ModifyReplicationGroup); never back"),
        "NumCacheClusters": P(int, validator=int_range(1, 6)),
        "NumNodeGroups": P(int, validator=int_range(1, 500)),
        "ReplicasPerNodeGroup": P(int, validator=int_range(0, 5)),
        "AutomaticFailoverEnabled": P(bool, default=False),
        "MultiAZEnabled": P(bool, default=False),
        "CacheSubnetGroupName": P(str),
        "SecurityGroupIds": P(list),
        "CacheParameterGroupName": P(str),
        "Port": P(int, default=6379),
        "AtRestEncryptionEnabled": P(bool, default=True),
        "KmsKeyId": P(str),
        "TransitEncryptionEnabled": P(bool, default=True),
        "AuthTokenSecretArn": P(str, doc="Secrets Manager secret holding the AUTH token; read at create/update"),
        "SnapshotRetentionLimit": P(int, validator=int_range(0, 35)),
        "SnapshotWindow": P(str),
        "PreferredMaintenanceWindow": P(str),
        "AutoMinorVersionUpgrade": P(bool, default=True),
        "SkipFinalSnapshot": P(bool, default=True, doc="delete-time choice; False keeps a final snapshot"),
    }
    # What ModifyReplicationGroup cannot change (= Terraform's ForceNew, replication_group.go). Engine
    # (redis -> valkey), ClusterMode and TransitEncryptionEnabled change in place; their one-way and
    # version-bound limits are refused at plan time (refusal()).
    replace_on = frozenset({"CacheSubnetGroupName", "Port", "AtRestEncryptionEnabled", "KmsKeyId"})
    stateful = True
    change_notes = {
        "Engine": "redis -> valkey in place (ModifyReplicationGroup Engine); valkey -> redis refused "
                  "(Terraform forces new only on a downgrade)",
        "ClusterMode": "disabled -> compatible -> enabled in place, one step per call; back: refused",
        "TransitEncryptionEnabled": "in place from Redis OSS 7.0.5 (TransitEncryptionMode preferred, then "
                                    "required); older engines: refused (Terraform ForceNewIf < 7.0.5)",
        "AuthTokenSecretArn": "a new secret value (rotation) is drift: the token is rotated (ROTATE, then SET)",
    }
    write_only = frozenset({"SkipFinalSnapshot"})
    outputs = ("ReplicationGroupId", "Arn", "Endpoint", "Address", "Port", "PrimaryEndpointAddress",
               "ReaderEndpointAddress", "ConfigurationEndpointAddress")
    not_found = ("ReplicationGroupNotFoundFault",)
    timeouts = {"create": 3600, "update": 3600, "delete": 3600}
    failed_states = frozenset({"create-failed"})
    creating_states = frozenset({"creating"})

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        cluster = props.get("ClusterMode") == "enabled"
        if cluster:
            if props.get("NumCacheClusters") is not None:
                raise PlanError(f"{where}: cluster mode enabled takes NumNodeGroups/ReplicasPerNodeGroup, "
                                "not NumCacheClusters")
            if props.get("NumNodeGroups") is None:
                raise PlanError(f"{where}: cluster mode enabled needs NumNodeGroups")
            if props.get("AutomaticFailoverEnabled") is not True:
                raise PlanError(f"{where}: cluster mode enabled requires AutomaticFailoverEnabled=True")
            replicas = props.get("ReplicasPerNodeGroup") or 0
        else:
            if props.get("NumNodeGroups") not in (None, 1) or props.get("ReplicasPerNodeGroup") is not None:
                raise PlanError(f"{where}: NumNodeGroups/ReplicasPerNodeGroup need ClusterMode='enabled'; "
                                "use NumCacheClusters (primary + replicas)")
            props.setdefault("NumCacheClusters", 1)
            replicas = props["NumCacheClusters"] - 1 if isinstance(props["NumCacheClusters"], int) else 1
        if props.get("AutomaticFailoverEnabled") is True and replicas < 1:
            raise PlanError(f"{where}: automatic failover needs at least one replica")
        if props.get("MultiAZEnabled") is True and props.get("AutomaticFailoverEnabled") is not True:
            raise PlanError(f"{where}: Multi-AZ requires AutomaticFailoverEnabled=True")
        if props.get("AuthTokenSecretArn") is not None and props.get("TransitEncryptionEnabled") is not True:
            raise PlanError(f"{where}: an AUTH token requires TransitEncryptionEnabled=True")
        if props.get("KmsKeyId") is not None and props.get("AtRestEncryptionEnabled") is not True:
            raise PlanError(f"{where}: KmsKeyId requires AtRestEncryptionEnabled=True")

    # -- helpers ---------------------------------------------------------------

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        return self.describe_first(ctx, "describe_replication_groups", "ReplicationGroups",
                              ReplicationGroupId=physical_id)

    def _auth_token(self, ctx: Ctx, secret_arn: str) -> str:
        value = ctx.client("secretsmanager").get_secret_value(SecretId=secret_arn)
        if "SecretString" not in value:
            raise ResourceError(f"{ctx.address}: secret {secret_arn} has no string value for the Redis AUTH token")
        return auth_token_from(value["SecretString"])

    def _member(self, ctx: Ctx, rg: dict[str, Any]) -> dict[str, Any]:
        members = rg.get("MemberClusters") or []
        if not members:
            return {}
        return self.describe_first(ctx, "describe_cache_clusters", "CacheClusters", CacheClusterId=members[0]) or {}

    @staticmethod
    def _cluster_mode(rg: dict[str, Any]) -> str:
        mode = (rg.get("ClusterMode") or "").lower()
        if mode in ("enabled", "compatible", "disabled"):
            return mode
        return "enabled" if rg.get("ClusterEnabled") else "disabled"

    def _wait(self, ctx: Ctx, pid: str, key: str) -> None:
        ctx.wait("elasticache", "ReplicationGroupAvailable", timeout_key=key, ReplicationGroupId=pid)

    def _modify(self, ctx: Ctx, pid: str, call: str, **params: Any) -> None:
        """One modification: after any earlier one, then until it has shown (`modifying`) and cleared.

        ElastiCache refuses a modification while another runs, and the status
        may read `available` for a moment right after the call."""
        self._wait(ctx, pid, "update")
        getattr(ctx.client("elasticache"), call)(ReplicationGroupId=pid, ApplyImmediately=True, **params)
        ctx.wait_change("elasticache", "ReplicationGroupModifying", "ReplicationGroupAvailable",
                        ReplicationGroupId=pid)

    # -- contract --------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.ident(ctx)
        params = {k: v for k, v in props.items() if k not in _CREATE_SKIP and v is not None}
        if props.get("ClusterMode") == "disabled":
            params.pop("ClusterMode", None)  # "disabled" is the default; older engines refuse the key
        if props.get("AuthTokenSecretArn"):
            params["AuthToken"] = self._auth_token(ctx, props["AuthTokenSecretArn"])
        ctx.client("elasticache").create_replication_group(ReplicationGroupId=name, Tags=tag_list(ctx.tags),
                                                           **params)
        self.wait_created(ctx, name)
        return name, self.outputs_of(ctx, name)

    def state(self, ctx: Ctx, physical_id: str) -> tuple[str, str] | None:
        rg = self.describe_one(ctx, physical_id)
        if rg is None:
            return None
        return rg.get("Status", ""), "ElastiCache gives no reason here: see `aws elasticache describe-events`"

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        rg = self.describe_one(ctx, physical_id) or {}
        groups = rg.get("NodeGroups") or [{}]
        primary = groups[0].get("PrimaryEndpoint") or {}
        reader = groups[0].get("ReaderEndpoint") or {}
        config = rg.get("ConfigurationEndpoint") or {}
        main = config if self._cluster_mode(rg) == "enabled" and config else primary
        return {
            "ReplicationGroupId": physical_id,
            "Arn": rg.get("ARN"),
            "Endpoint": f"{main['Address']}:{main.get('Port')}" if main.get("Address") else None,
            "Address": main.get("Address"),
            "Port": main.get("Port"),
            "PrimaryEndpointAddress": primary.get("Address"),
            "ReaderEndpointAddress": reader.get("Address"),
            "ConfigurationEndpointAddress": config.get("Address"),
        }

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        rg = self.describe_one(ctx, physical_id)
        if rg is None or rg.get("Status") in ("deleting", "deleted"):
            return None
        member = self._member(ctx, rg)
        mode = self._cluster_mode(rg)
        groups = rg.get("NodeGroups") or []
        version = member.get("EngineVersion")
        declared = self.properties.get("EngineVersion")
        if isinstance(declared, str) and isinstance(version, str) and version.startswith(declared + "."):
            version = declared  # "7.1" declared, "7.1.0" running: the same choice
        endpoint = (rg.get("ConfigurationEndpoint") or (groups[0].get("PrimaryEndpoint") if groups else None)) or {}
        out: dict[str, Any] = {
            "ReplicationGroupDescription": rg.get("Description"),
            "Engine": rg.get("Engine") or member.get("Engine"),
            "EngineVersion": version,
            "CacheNodeType": rg.get("CacheNodeType"),
            "ClusterMode": mode,
            "AutomaticFailoverEnabled": rg.get("AutomaticFailover") in ("enabled", "enabling"),
            "MultiAZEnabled": rg.get("MultiAZ") == "enabled",
            "CacheSubnetGroupName": member.get("CacheSubnetGroupName"),
            "SecurityGroupIds": [g["SecurityGroupId"] for g in member.get("SecurityGroups") or []] or None,
            "CacheParameterGroupName": (member.get("CacheParameterGroup") or {}).get("CacheParameterGroupName"),
            "Port": endpoint.get("Port"),
            "AtRestEncryptionEnabled": rg.get("AtRestEncryptionEnabled"),
            "KmsKeyId": rg.get("KmsKeyId"),
            "TransitEncryptionEnabled": rg.get("TransitEncryptionEnabled"),
            "SnapshotRetentionLimit": rg.get("SnapshotRetentionLimit"),
            "SnapshotWindow": rg.get("SnapshotWindow"),
            "PreferredMaintenanceWindow": member.get("PreferredMaintenanceWindow"),
            "AutoMinorVersionUpgrade": rg.get("AutoMinorVersionUpgrade", member.get("AutoMinorVersionUpgrade")),
        }
        # The secret as recorded (ctx.props, resolved: the plan passes a Ref to the secret's Arn), else as declared.
        declared_secret = ctx.props.get("AuthTokenSecretArn") or self.properties.get("AuthTokenSecretArn")
        if isinstance(declared_secret, str):
            out["AuthTokenSecretArn"] = self._token_follows(ctx, rg, declared_secret)
        if mode == "enabled":
            out["NumNodeGroups"] = len(groups)
            out["ReplicasPerNodeGroup"] = max(len(groups[0].get("NodeGroupMembers") or []) - 1, 0) if groups else 0
        else:
            out["NumCacheClusters"] = len(rg.get("MemberClusters") or [])
        return {k: v for k, v in out.items() if v is not None}

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        """The one-way and version-bound limits of ModifyReplicationGroup, refused rather than replaced (a
        new group starts empty: the sessions and cache would go)."""
        changed = set(changed)
        where = f"{self.type_name} {self.name!r}"
        fix = "; name it with --replace to rebuild it empty, or keep the current setting"
        if "Engine" in changed and old.get("Engine") == "valkey" and new.get("Engine") == "redis":
            return f"{where}: ElastiCache cannot change a valkey group back to redis{fix}"
        order = ("disabled", "compatible", "enabled")
        before, after = old.get("ClusterMode") or "disabled", new.get("ClusterMode") or "disabled"
        if "ClusterMode" in changed and before in order and after in order \
                and order.index(after) < order.index(before):
            return f"{where}: ElastiCache cannot turn cluster mode from {before} back to {after}{fix}"
        if "TransitEncryptionEnabled" in changed and (new.get("Engine") or "redis") == "redis" \
                and _version(new.get("EngineVersion") or old.get("EngineVersion")) < (7, 0, 5):
            return (f"{where}: in-transit encryption changes in place from Redis OSS 7.0.5 only (EngineVersion "
                    f"{new.get('EngineVersion') or old.get('EngineVersion')}): upgrade first{fix}")
        return super().refusal(old, new, changed)

    def _token_follows(self, ctx: Ctx, rg: Mapping[str, Any], secret_arn: str) -> str:
        """The declared secret ARN while the group's AUTH token is its current value; otherwise the ARN
        with a note, so a rotated secret shows as drift and the update rotates the token.

        The token itself cannot be read back: a secret version newer than the group's last token change
        is what says the two differ."""
        changed = rg.get("AuthTokenLastModifiedDate")
        try:
            versions = ctx.client("secretsmanager").list_secret_version_ids(SecretId=secret_arn)["Versions"]
        except Exception as exc:  # noqa: BLE001 - a secret gone is the plan's to fix, not drift
            if "ResourceNotFound" in str(exc):
                return secret_arn
            raise
        current = [v.get("CreatedDate") for v in versions if "AWSCURRENT" in (v.get("VersionStages") or [])]
        # With a second's slack: the two services round their dates differently.
        if changed is None or not current or current[0] is None or current[0] <= changed + timedelta(seconds=1):
            return secret_arn
        return f"{secret_arn} (rotated {current[0]:%Y-%m-%d %H:%M:%S}: the group still has the previous token)"

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        changes = {param: new[prop] for prop, param in _MODIFY.items()
                   if new.get(prop) is not None and new.get(prop) != old.get(prop)}
        if new.get("Engine") != old.get("Engine") and new.get("Engine"):
            changes["Engine"] = new["Engine"]  # redis -> valkey, with its EngineVersion when declared
            if new.get("EngineVersion"):
                changes["EngineVersion"] = new["EngineVersion"]
        # Failover must be on before Multi-AZ and stays on until Multi-AZ is off: one call carries both.
        if changes:
            self._modify(ctx, physical_id, "modify_replication_group", **changes)
        self._transit(ctx, physical_id, old, new)
        replicas_before = self._cluster_mode_path(ctx, physical_id, old, new)
        if new.get("ClusterMode") == "enabled":
            if new.get("NumNodeGroups") != old.get("NumNodeGroups"):
                self._reshard(ctx, physical_id, new["NumNodeGroups"])
            before = old.get("ReplicasPerNodeGroup") if replicas_before is None else replicas_before
            if new.get("ReplicasPerNodeGroup") != before:
                self._replicas(ctx, physical_id, before or 0, new.get("ReplicasPerNodeGroup") or 0)
        elif new.get("NumCacheClusters") != old.get("NumCacheClusters") and old.get("NumCacheClusters"):
            self._replicas(ctx, physical_id, old["NumCacheClusters"] - 1, new["NumCacheClusters"] - 1)
        if new.get("AuthTokenSecretArn") and new.get("AuthTokenSecretArn") != old.get("AuthTokenSecretArn"):
            self._rotate_token(ctx, physical_id, new["AuthTokenSecretArn"])
        return self.synced_outputs(ctx, physical_id)

    def _transit(self, ctx: Ctx, pid: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """In-transit encryption in the two steps AWS takes: `preferred` (clients may still connect in the
        clear while they move), then `required` on; the reverse to turn it off."""
        want, have = new.get("TransitEncryptionEnabled"), old.get("TransitEncryptionEnabled")
        if want is None or bool(want) == bool(have):
            return
        if want:
            self._modify(ctx, pid, "modify_replication_group", TransitEncryptionEnabled=True,
                         TransitEncryptionMode="preferred")
            self._modify(ctx, pid, "modify_replication_group", TransitEncryptionMode="required")
        else:
            self._modify(ctx, pid, "modify_replication_group", TransitEncryptionMode="preferred")
            self._modify(ctx, pid, "modify_replication_group", TransitEncryptionEnabled=False)

    def _cluster_mode_path(self, ctx: Ctx, pid: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> int | None:
        """Cluster mode one step per call (disabled -> compatible -> enabled); returns the replicas per
        shard the group had before it became a cluster (its NumCacheClusters - 1), else None."""
        order = ("disabled", "compatible", "enabled")
        before, after = old.get("ClusterMode") or "disabled", new.get("ClusterMode") or "disabled"
        if before == after or before not in order or after not in order or order.index(after) < order.index(before):
            return None
        for step in order[order.index(before) + 1: order.index(after) + 1]:
            self._modify(ctx, pid, "modify_replication_group", ClusterMode=step)
        if after == "enabled" and old.get("NumCacheClusters"):
            return int(old["NumCacheClusters"]) - 1
        return None

    def _rotate_token(self, ctx: Ctx, pid: str, secret_arn: str) -> None:
        """The secret's current value becomes the group's AUTH token: ROTATE (old and new both accepted,
        so clients that still hold the old one keep working during the call), then SET (only the new
        one: the old token, perhaps the reason for the rotation, stops working). Each is its own call,
        as Terraform sends it."""
        token = self._auth_token(ctx, secret_arn)
        for strategy in ("ROTATE", "SET"):
            self._modify(ctx, pid, "modify_replication_group", AuthToken=token, AuthTokenUpdateStrategy=strategy)

    def _reshard(self, ctx: Ctx, pid: str, count: int) -> None:
        rg = self.describe_one(ctx, pid) or {}
        ids = [g["NodeGroupId"] for g in rg.get("NodeGroups") or []]
        if count == len(ids):
            return  # already that many shards (a group just turned into a cluster has one)
        extra: dict[str, Any] = {}
        if count < len(ids):
            extra["NodeGroupsToRemove"] = ids[count:]  # scale in drops the last shards; slots move to the rest
        self._modify(ctx, pid, "modify_replication_group_shard_configuration", NodeGroupCount=count, **extra)

    def _replicas(self, ctx: Ctx, pid: str, before: int, after: int) -> None:
        if after == before:
            return
        self._modify(ctx, pid, "increase_replica_count" if after > before else "decrease_replica_count",
                     NewReplicaCount=after)

    def delete(self, ctx: Ctx, physical_id: str) -> str | None:
        rg = self.describe_one(ctx, physical_id)
        if rg is None:
            return None
        kept = None
        if rg.get("Status") != "deleting":
            final: dict[str, Any] = {}
            if self.properties.get("SkipFinalSnapshot") is False:
                stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
                final["FinalSnapshotIdentifier"] = f"{physical_id}-final-{stamp}"
                kept = (f"final snapshot {final['FinalSnapshotIdentifier']} kept in {ctx.region} (account "
                        f"{ctx.account_id}), encrypted with {rg.get('KmsKeyId') or 'no key'}")
            self.ignore_gone(ctx.client("elasticache").delete_replication_group, ReplicationGroupId=physical_id,
                             **final)
        ctx.wait("elasticache", "ReplicationGroupDeleted", timeout_key="delete", ReplicationGroupId=physical_id)
        return kept

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        rg = self.describe_one(ctx, self.ident(ctx))
        if rg is not None and rg.get("Status") == "deleting":
            return None
        return super().find(ctx)
