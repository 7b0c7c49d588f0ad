"""ElastiCache fidelity: parameter groups, modify calls, cluster mode, scaling, deletes that finish.

moto 5.2.5 has no parameter groups, no modify_cache_cluster, no subnet group
modify/delete; its deletes leave resources `deleting` forever; and a
replication group created with several shards (cluster mode, as AWS infers
from NumNodeGroups > 1 or a `.cluster.on` parameter group) reports
ClusterEnabled=False; it has no shard or replica scaling
(ModifyReplicationGroupShardConfiguration, Increase/DecreaseReplicaCount:
`modifying`, then the new NodeGroups/MemberClusters and `available`) and it
ignores NumCacheClusters. Shapes and error codes follow botocore's model.

Rule `elasticache-member-clusters`: a replication group's member clusters
are cache clusters of their own in AWS (DescribeCacheClusters by member id,
or in the full list), with the group's security groups, subnet group,
parameter group and status; moto answered CacheClusterNotFound.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult, EmptyResult, PaginatedResult
from moto.elasticache.exceptions import (
    CacheClusterNotFound,
    CacheSubnetGroupNotFound,
    ElastiCacheException,
    InvalidParameterCombinationException,
    InvalidParameterValueException,
    ReplicationGroupNotFound,
)
from moto.elasticache.models import CacheCluster, CacheSubnetGroup, ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse

from sandbox import lifecycle, strict
from sandbox.extensions import strict_modify
from sandbox.extensions._base import add_methods, store

MEMBERS_RULE = strict.rule(
    "elasticache-member-clusters",
    aws="Each member of a replication group is a cache cluster: DescribeCacheClusters answers for its id (and "
        "lists it with the others), with ReplicationGroupId, the group's SecurityGroups, CacheSubnetGroupName, "
        "CacheParameterGroup, engine, node type and a CacheClusterStatus that follows the group's.",
    source="https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DescribeCacheClusters.html "
           "(\"information about all provisioned clusters if no cluster identifier is specified\"; "
           "ReplicationGroupId: \"the replication group to which this cluster belongs\"); "
           "hashicorp/terraform-provider-aws internal/service/elasticache/replication_group.go (reads "
           "security_group_ids, subnet_group_name and parameter_group_name from the first member cluster)",
    moto="DescribeCacheClusters knew only standalone clusters: CacheClusterNotFound for a member id.",
)

CLUSTER = "elasticache.cachecluster"
GROUP = "elasticache.replicationgroup"


class CacheParameterGroupNotFound(ElastiCacheException):
    code = "CacheParameterGroupNotFound"

    def __init__(self, name: str) -> None:
        super().__init__(f"CacheParameterGroup {name} not found.")


class CacheParameterGroupAlreadyExists(ElastiCacheException):
    code = "CacheParameterGroupAlreadyExists"

    def __init__(self, name: str) -> None:
        super().__init__(f"Parameter group {name} already exists.")


class InvalidCacheParameterGroupState(ElastiCacheException):
    code = "InvalidCacheParameterGroupState"


class CacheSubnetGroupInUse(ElastiCacheException):
    code = "CacheSubnetGroupInUse"


class InvalidCacheClusterState(ElastiCacheException):
    code = "InvalidCacheClusterState"


class InvalidReplicationGroupState(ElastiCacheException):
    code = "InvalidReplicationGroupState"


class NoOperationFault(ElastiCacheException):
    code = "NoOperationFault"


class NodeGroupsPerReplicationGroupQuotaExceeded(ElastiCacheException):
    code = "NodeGroupsPerReplicationGroupQuotaExceeded"

    def __init__(self, count: int) -> None:
        super().__init__(f"NodeGroupCount {count} exceeds the quota of {MAX_SHARDS} node groups per replication group.")


# -- parameters ---------------------------------------------------------------------

_POLICIES = ("volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random", "allkeys-random",
             "volatile-ttl", "noeviction")

# name -> (default, data type, allowed values, modifiable, change type, description)
_REDIS: dict[str, tuple[str, str, str, bool, str, str]] = {
    "maxmemory-policy": ("volatile-lru", "string", ",".join(_POLICIES), True, "immediate",
                         "Max memory policy."),
    "maxmemory-samples": ("3", "integer", "1-", True, "immediate", "Max memory samples."),
    "reserved-memory-percent": ("25", "integer", "0-100", True, "immediate",
                                "The percent of memory reserved for non-cache memory usage."),
    "notify-keyspace-events": ("", "string", "", True, "immediate", "The keyspace events for Redis to notify."),
    "timeout": ("0", "integer", "0,20-", True, "immediate", "Close connection if client is idle for N seconds."),
    "tcp-keepalive": ("300", "integer", "0-", True, "immediate", "TCP keepalive."),
    "databases": ("16", "integer", "1-1200000", True, "requires-reboot", "Set the number of databases."),
    "slowlog-log-slower-than": ("10000", "integer", "0-", True, "immediate", "Slow log threshold (us)."),
    "slowlog-max-len": ("128", "integer", "0-", True, "immediate", "Length of the slow log."),
    "lua-time-limit": ("5000", "integer", "5000", False, "immediate", "Max execution time of a Lua script."),
    "activedefrag": ("no", "string", "yes,no", True, "immediate", "Enabled active memory defragmentation."),
    # Modifiable in a custom group: that is how a cluster-mode group is made without default.*.cluster.on.
    "cluster-enabled": ("no", "string", "yes,no", True, "requires-reboot", "Enable cluster mode."),
}
_MEMCACHED: dict[str, tuple[str, str, str, bool, str, str]] = {
    "max_item_size": ("1048576", "integer", "1048576-134217728", True, "requires-reboot",
                      "The size of the largest item storable in the cache, in bytes."),
    "chunk_size": ("48", "integer", "1-", True, "requires-reboot", "The minimum amount of key + value + flags."),
    "chunk_size_growth_factor": ("1.25", "numeric", "1-2", True, "requires-reboot", "The growth factor."),
    "max_simultaneous_connections_per_server": ("65000", "integer", "", False, "immediate", "Connections."),
    "idle_timeout": ("0", "integer", "0-", True, "immediate", "Seconds before an idle connection is closed."),
}
FAMILIES = ("redis5.0", "redis6.x", "redis7", "valkey7", "valkey8", "memcached1.6")


def _catalog(family: str, cluster_on: bool = False) -> dict[str, tuple[str, str, str, bool, str, str]]:
    if family.startswith("memcached"):
        return dict(_MEMCACHED)
    cat = dict(_REDIS)
    if cluster_on:
        d = cat["cluster-enabled"]
        cat["cluster-enabled"] = ("yes", *d[1:])
    return cat


def _group(backend: ElastiCacheBackend, name: str, family: str, description: str, default: bool) -> dict[str, Any]:
    return {"CacheParameterGroupName": name, "CacheParameterGroupFamily": family, "Description": description,
            "IsGlobal": False, "default": default,
            "ARN": f"arn:aws:elasticache:{backend.region_name}:{backend.account_id}:parametergroup:{name}",
            "values": {}, "cluster_on": name.endswith(".cluster.on")}


def _groups(backend: ElastiCacheBackend) -> dict[str, dict[str, Any]]:
    groups = store(backend, "elasticache_parameter_groups")
    if not groups:
        for fam in FAMILIES:
            desc = f"Default parameter group for {fam}"
            groups[f"default.{fam}"] = _group(backend, f"default.{fam}", fam, desc, True)
            if not fam.startswith("memcached"):
                name = f"default.{fam}.cluster.on"
                groups[name] = _group(backend, name, fam, f"Customized default parameter group for {fam} "
                                      "with cluster mode on", True)
    return groups


def _get_group(backend: ElastiCacheBackend, name: str) -> dict[str, Any]:
    group = _groups(backend).get(name)
    if group is None:
        raise CacheParameterGroupNotFound(name)
    return group


def _group_out(g: dict[str, Any]) -> dict[str, Any]:
    return {k: g[k] for k in ("CacheParameterGroupName", "CacheParameterGroupFamily", "Description", "IsGlobal",
                              "ARN")}


def _check_value(name: str, value: str, spec: tuple[str, str, str, bool, str, str]) -> None:
    default, dtype, allowed, modifiable, _, _ = spec
    if not modifiable:
        raise InvalidParameterValueException(f"Parameter {name} is not modifiable.")
    if dtype == "string" and allowed and value not in allowed.split(","):
        raise InvalidParameterValueException(f"Invalid value {value!r} for parameter {name}: allowed {allowed}.")
    if dtype in ("integer", "numeric"):
        try:
            float(value)
        except ValueError:
            raise InvalidParameterValueException(f"Invalid value {value!r} for {dtype} parameter {name}.") from None


def _in_use(backend: ElastiCacheBackend, attr: str, value: str) -> list[str]:
    users = [c.cache_cluster_id for c in backend.cache_clusters.values()
             if getattr(c, attr, None) == value and c.cache_cluster_status != "deleting"]
    users += [g.replication_group_id for g in backend.replication_groups.values()
              if getattr(g, attr, None) == value and g.status != "deleting"]
    return users


class _Responses:
    """Methods added to moto's ElastiCacheResponse (query protocol, parsed by botocore's model)."""

    def create_cache_parameter_group(self: Any) -> ActionResult:
        backend = self.elasticache_backend
        name = self._get_param("CacheParameterGroupName")
        family = self._get_param("CacheParameterGroupFamily")
        groups = _groups(backend)
        if name in groups:
            raise CacheParameterGroupAlreadyExists(name)
        if family not in FAMILIES:
            raise InvalidParameterValueException(f"The parameter CacheParameterGroupFamily {family} is not valid.")
        group = _group(backend, name, family, self._get_param("Description") or "", False)
        groups[name] = group
        tags = self._get_param("Tags", [])
        if tags:
            backend.tagging_service.tag_resource(group["ARN"], tags)
        return ActionResult({"CacheParameterGroup": _group_out(group)})

    def describe_cache_parameter_groups(self: Any) -> ActionResult:
        backend = self.elasticache_backend
        name = self._get_param("CacheParameterGroupName")
        groups = [_get_group(backend, name)] if name else list(_groups(backend).values())
        return PaginatedResult({"CacheParameterGroups": [_group_out(g) for g in groups]})

    def modify_cache_parameter_group(self: Any) -> ActionResult:
        group = _get_group(self.elasticache_backend, self._get_param("CacheParameterGroupName"))
        if group["default"]:
            raise InvalidCacheParameterGroupState(
                f"Default parameter group {group['CacheParameterGroupName']} cannot be modified.")
        changes = self._get_param("ParameterNameValues", [])
        if not changes:
            raise InvalidParameterValueException("ParameterNameValues must not be empty.")
        cat = _catalog(group["CacheParameterGroupFamily"], group["cluster_on"])
        for change in changes:
            pname, value = change.get("ParameterName"), change.get("ParameterValue")
            if pname not in cat:
                raise InvalidParameterValueException(f"Unknown parameter {pname} for family "
                                                     f"{group['CacheParameterGroupFamily']}.")
            _check_value(pname, value, cat[pname])
        for change in changes:
            group["values"][change["ParameterName"]] = change["ParameterValue"]
        return ActionResult({"CacheParameterGroupName": group["CacheParameterGroupName"]})

    def reset_cache_parameter_group(self: Any) -> ActionResult:
        group = _get_group(self.elasticache_backend, self._get_param("CacheParameterGroupName"))
        if group["default"]:
            raise InvalidCacheParameterGroupState("Default parameter groups cannot be reset.")
        if self._get_bool_param("ResetAllParameters"):
            group["values"].clear()
        else:
            names = [p.get("ParameterName") for p in self._get_param("ParameterNameValues", [])]
            if not names:
                raise InvalidParameterCombinationException(
                    "Either ResetAllParameters or ParameterNameValues must be given.")
            for pname in names:
                group["values"].pop(pname, None)
        return ActionResult({"CacheParameterGroupName": group["CacheParameterGroupName"]})

    def delete_cache_parameter_group(self: Any) -> ActionResult:
        backend = self.elasticache_backend
        name = self._get_param("CacheParameterGroupName")
        group = _get_group(backend, name)
        if group["default"]:
            raise InvalidCacheParameterGroupState(f"Default parameter group {name} cannot be deleted.")
        users = _in_use(backend, "cache_parameter_group_name", name)
        if users:
            raise InvalidCacheParameterGroupState(f"Parameter group {name} is in use by {', '.join(users)}.")
        del _groups(backend)[name]
        return EmptyResult()

    def describe_cache_parameters(self: Any) -> ActionResult:
        group = _get_group(self.elasticache_backend, self._get_param("CacheParameterGroupName"))
        source = self._get_param("Source")
        params = []
        for pname, (default, dtype, allowed, modifiable, change, desc) in sorted(
                _catalog(group["CacheParameterGroupFamily"], group["cluster_on"]).items()):
            psource = "user" if pname in group["values"] else "system"
            if source and source != psource and not (source == "engine-default" and psource == "system"):
                continue
            params.append({"ParameterName": pname, "ParameterValue": group["values"].get(pname, default),
                           "Description": desc, "Source": psource, "DataType": dtype,
                           "AllowedValues": allowed or None, "IsModifiable": modifiable,
                           "MinimumEngineVersion": "2.8.6" if not group["CacheParameterGroupFamily"].startswith(
                               "memcached") else "1.4.5", "ChangeType": change})
        return PaginatedResult({"Parameters": params, "CacheNodeTypeSpecificParameters": []})

    def modify_cache_cluster(self: Any) -> ActionResult:
        backend = self.elasticache_backend
        cid = self._get_param("CacheClusterId")
        cluster = backend.cache_clusters.get(cid)
        if cluster is None:
            raise CacheClusterNotFound(cid)
        strict_modify.refuse_if_busy(cluster, lambda: InvalidCacheClusterState(
            f"Cache cluster {cid} is not in available state."))
        if cluster.cache_cluster_status != "available":
            raise InvalidCacheClusterState(f"Cache cluster {cid} is not in available state "
                                           f"({cluster.cache_cluster_status}).")
        pg = self._get_param("CacheParameterGroupName")
        if pg:
            _get_group(backend, pg)
        immediate = {"PreferredMaintenanceWindow": "preferred_maintenance_window",
                     "NotificationTopicArn": "notification_topic_arn",
                     "AutoMinorVersionUpgrade": "auto_minor_version_upgrade",
                     "SnapshotRetentionLimit": "snapshot_retention_limit", "SnapshotWindow": "snapshot_window",
                     "SecurityGroupIds": "security_group_ids", "CacheParameterGroupName": "cache_parameter_group_name"}
        for param, attr in immediate.items():
            value = self._get_param(param)
            if value is not None:
                setattr(cluster, attr, value)
        _decorate_cluster(backend, cluster)
        pending = {k: v for k, v in (("CacheNodeType", self._get_param("CacheNodeType")),
                                     ("EngineVersion", self._get_param("EngineVersion")),
                                     ("NumCacheNodes", self._get_int_param("NumCacheNodes"))) if v is not None}
        if pending:
            cluster.pending_modified_values = pending
            if self._get_bool_param("ApplyImmediately"):
                _apply_later(cluster, CLUSTER, "cache_cluster_status", pending,
                             {"CacheNodeType": "cache_node_type", "EngineVersion": "engine_version",
                              "NumCacheNodes": "num_cache_nodes"})
        return ActionResult({"CacheCluster": cluster})

    def modify_replication_group(self: Any) -> ActionResult:
        backend = self.elasticache_backend
        rid = self._get_param("ReplicationGroupId")
        group = backend.replication_groups.get(rid)
        if group is None:
            raise ReplicationGroupNotFound(rid)
        _refuse_busy(group)
        if group.status != "available":
            raise InvalidReplicationGroupState(f"Replication group {rid} is not in available state ({group.status}).")
        failover = self._get_bool_param("AutomaticFailoverEnabled")
        multi_az = self._get_bool_param("MultiAZEnabled")
        if multi_az and (failover is False or (failover is None and group.automatic_failover != "enabled")):
            raise InvalidParameterCombinationException("Multi-AZ requires automatic failover to be enabled.")
        pg = self._get_param("CacheParameterGroupName")
        if pg:
            _get_group(backend, pg)
        if failover is not None:
            group.automatic_failover = "enabled" if failover else "disabled"
        if multi_az is not None:
            group.multi_az = "enabled" if multi_az else "disabled"
        immediate = {"ReplicationGroupDescription": "description",
                     "PreferredMaintenanceWindow": "preferred_maintenance_window",
                     "NotificationTopicArn": "notification_topic_arn",
                     "AutoMinorVersionUpgrade": "auto_minor_version_upgrade",
                     "SnapshotRetentionLimit": "snapshot_retention_limit", "SnapshotWindow": "snapshot_window",
                     "SecurityGroupIds": "security_group_ids", "CacheParameterGroupName": "cache_parameter_group_name",
                     "SnapshottingClusterId": "snapshotting_cluster_id",
                     "TransitEncryptionEnabled": "transit_encryption_enabled",
                     "TransitEncryptionMode": "transit_encryption_mode"}
        for param, attr in immediate.items():
            value = self._get_param(param)
            if value is not None:
                setattr(group, attr, value)
        add = self._get_param("UserGroupIdsToAdd") or []
        remove = set(self._get_param("UserGroupIdsToRemove") or [])
        if add or remove:
            group.user_group_ids = [u for u in group.user_group_ids if u not in remove] + \
                [u for u in add if u not in group.user_group_ids]
        logs = self._get_param("LogDeliveryConfigurations")
        if logs is not None:
            group.log_delivery_configurations = group._get_log_delivery_configurations(logs)
        pending = {k: v for k, v in (("CacheNodeType", self._get_param("CacheNodeType")),
                                     ("EngineVersion", self._get_param("EngineVersion"))) if v is not None}
        if self._get_bool_param("ApplyImmediately"):
            # Every change applied now takes the group through `modifying` (the node type and engine at its end).
            _apply_later(group, GROUP, "status", pending,
                         {"CacheNodeType": "cache_node_type", "EngineVersion": "engine_version"})
        elif pending:
            group.pending_modified_values = pending
        return ActionResult({"ReplicationGroup": group})

    def modify_cache_subnet_group(self: Any) -> ActionResult:
        backend = self.elasticache_backend
        name = self._get_param("CacheSubnetGroupName")
        old = backend.cache_subnet_groups.get(name)
        if old is None:
            raise CacheSubnetGroupNotFound(name)
        subnets = self._get_param("SubnetIds") or old.subnet_ids
        description = self._get_param("CacheSubnetGroupDescription")
        new = CacheSubnetGroup(account_id=backend.account_id, region_name=backend.region_name,
                               cache_subnet_group_name=name,
                               cache_subnet_group_description=old.cache_subnet_group_description
                               if description is None else description,
                               subnet_ids=subnets, tags=old.tags)
        backend.cache_subnet_groups[name] = new
        return ActionResult({"CacheSubnetGroup": new})

    def delete_cache_subnet_group(self: Any) -> ActionResult:
        backend = self.elasticache_backend
        name = self._get_param("CacheSubnetGroupName")
        if name not in backend.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(name)
        users = _in_use(backend, "cache_subnet_group_name", name)
        if users:
            raise CacheSubnetGroupInUse(f"Cache subnet group {name} is currently in use by {', '.join(users)}.")
        del backend.cache_subnet_groups[name]
        return EmptyResult()

    def modify_replication_group_shard_configuration(self: Any) -> ActionResult:
        group = _scalable(self.elasticache_backend, self._get_param("ReplicationGroupId"),
                          self._get_bool_param("ApplyImmediately"))
        if group.cluster_mode != "enabled":
            raise InvalidParameterValueException(
                f"Replication group {group.replication_group_id} is not in cluster mode: shards cannot be changed.")
        count = self._get_int_param("NodeGroupCount")
        ids = [ng["node_group_id"] for ng in group.node_groups]
        if count is None or count < 1:
            raise InvalidParameterValueException("NodeGroupCount must be at least 1.")
        if count > MAX_SHARDS:
            raise NodeGroupsPerReplicationGroupQuotaExceeded(count)
        if count == len(ids):
            raise InvalidParameterValueException(
                f"Replication group {group.replication_group_id} already has {count} node groups.")
        remove = self._get_param("NodeGroupsToRemove") or []
        retain = self._get_param("NodeGroupsToRetain") or []
        resharding = self._get_param("ReshardingConfiguration") or []
        if remove and retain:
            raise InvalidParameterCombinationException("Specify NodeGroupsToRemove or NodeGroupsToRetain, not both.")
        if resharding and len(resharding) != count:
            raise InvalidParameterValueException(
                f"ReshardingConfiguration needs one entry per node group ({count}), got {len(resharding)}.")
        if count < len(ids):
            if not (remove or retain):
                raise InvalidParameterValueException(
                    "NodeGroupsToRemove or NodeGroupsToRetain is required when NodeGroupCount is lower than the "
                    "current number of node groups.")
            unknown = sorted(set(remove or retain) - set(ids))
            if unknown:
                raise InvalidParameterValueException(f"Node groups {', '.join(unknown)} are not part of replication "
                                                     f"group {group.replication_group_id}.")
            keep = [i for i in ids if i not in remove] if remove else [i for i in ids if i in retain]
            if len(keep) != count or len(set(remove or retain)) != len(remove or retain):
                raise InvalidParameterValueException(
                    f"Removing {', '.join(remove) or 'all but ' + ', '.join(retain)} from {len(ids)} node groups "
                    f"does not leave NodeGroupCount={count}.")
        else:
            if remove or retain:
                raise InvalidParameterCombinationException(
                    "NodeGroupsToRemove/NodeGroupsToRetain apply only when NodeGroupCount decreases.")
            keep = ids
        backend = self.elasticache_backend
        # The slots move while the group is `modifying`; the new layout is visible once it is `available`.
        group.pending_modified_values = {"Resharding": {"SlotMigration": {"ProgressPercentage": 0.0}}}
        _scale_later(group, lambda: _reshard(backend, group, keep, count, resharding))
        return ActionResult({"ReplicationGroup": group})

    def increase_replica_count(self: Any) -> ActionResult:
        return _replica_change(self, increase=True)

    def decrease_replica_count(self: Any) -> ActionResult:
        return _replica_change(self, increase=False)

    def describe_engine_default_parameters(self: Any) -> ActionResult:
        family = self._get_param("CacheParameterGroupFamily")
        if family not in FAMILIES:
            raise InvalidParameterValueException(f"The parameter CacheParameterGroupFamily {family} is not valid.")
        params = [{"ParameterName": n, "ParameterValue": d, "Description": desc, "Source": "system",
                   "DataType": t, "AllowedValues": a or None, "IsModifiable": m, "ChangeType": c}
                  for n, (d, t, a, m, c, desc) in sorted(_catalog(family).items())]
        return ActionResult({"EngineDefaults": {"CacheParameterGroupFamily": family, "Parameters": params,
                                                "CacheNodeTypeSpecificParameters": []}})


# -- shard and replica scaling ----------------------------------------------------

MAX_SHARDS = 500  # node groups per replication group (the service quota's upper bound)
MAX_REPLICAS = 5  # read replicas per node group
SLOTS = 16384


def _scalable(backend: ElastiCacheBackend, rid: str, apply_immediately: bool | None) -> Any:
    """The replication group a scaling call may change now (the checks AWS makes first)."""
    group = backend.replication_groups.get(rid)
    if group is None:
        raise ReplicationGroupNotFound(rid)
    _refuse_busy(group)
    if group.status != "available":
        raise InvalidReplicationGroupState(f"Replication group {rid} is not in available state ({group.status}).")
    if apply_immediately is not True:
        raise InvalidParameterValueException("ApplyImmediately=false is not supported: scaling applies immediately.")
    return group


def _scale_later(group: Any, change: Callable[[], None]) -> None:
    """`modifying` for the table's update time, then the new shard/replica layout and `available`."""
    def set_status(state: str) -> None:
        group.status = state
        if state == "available":
            change()
            group.pending_modified_values = {}

    strict_modify.start(group, GROUP, ["modifying"], "available", set_status)


def _refuse_busy(group: Any) -> None:
    """A second modification while one runs (even while the status still reads `available`)."""
    strict_modify.refuse_if_busy(group, lambda: InvalidReplicationGroupState(
        f"Replication group {group.replication_group_id} is not in available state."))


def _domain(group: Any) -> str:
    cfg = getattr(group, "configuration_endpoint", None) or {}
    address = cfg.get("Address") or cfg.get("address")
    if address:
        return address.split(".", 1)[1]
    ng = group.node_groups[0] if group.node_groups else {}
    address = ng.get("primary_endpoint_address") or f"master.{group.replication_group_id}.xxxxxx.cache.amazonaws.com"
    return address.split(".", 1)[1]


def _az(backend: ElastiCacheBackend, i: int, preferred: list[str] | None = None) -> str:
    if preferred:
        return preferred[i % len(preferred)]
    return f"{backend.region_name}{'abc'[i % 3]}"


def _suffix(member: dict[str, Any]) -> int:
    tail = member["cache_cluster_id"].rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _member(backend: ElastiCacheBackend, group: Any, ng: dict[str, Any], number: int, primary: bool,
            az: str) -> dict[str, Any]:
    """One NodeGroupMember as moto stores it: <group>-<shard>-<nnn> in cluster mode, <group>-<nnn> otherwise."""
    rid = group.replication_group_id
    if group.cluster_mode == "enabled":
        return {"cache_cluster_id": f"{rid}-{ng['node_group_id']}-{number:03d}", "cache_node_id": "0001",
                "preferred_availability_zone": az}
    cid = f"{rid}-{number:03d}"
    return {"cache_cluster_id": cid, "cache_node_id": "0001", "preferred_availability_zone": az,
            "read_endpoint": {"address": f"{cid}.{_domain(group)}", "port": group.port},
            "current_role": "primary" if primary else "replica"}


def _resize(backend: ElastiCacheBackend, group: Any, ng: dict[str, Any], replicas: int,
            remove: list[str] | None = None, azs: list[str] | None = None) -> None:
    """Make `ng` hold its primary and `replicas` replicas (dropping `remove` first, then the newest)."""
    members = ng["node_group_members"]
    if remove:
        members[:] = [m for m in members if m["cache_cluster_id"] not in remove]
    while len(members) > replicas + 1:
        members.pop()
    while len(members) < replicas + 1:
        number = max((_suffix(m) for m in members), default=0) + 1
        members.append(_member(backend, group, ng, number, not members, _az(backend, len(members), azs)))
    _sync_members(group)


def _sync_members(group: Any) -> None:
    group.member_clusters[:] = [m["cache_cluster_id"] for ng in group.node_groups for m in ng["node_group_members"]]
    if group.snapshotting_cluster_id and group.snapshotting_cluster_id not in group.member_clusters:
        group.snapshotting_cluster_id = group.member_clusters[-1]


def _reshard(backend: ElastiCacheBackend, group: Any, keep: list[str], count: int,
             resharding: list[dict[str, Any]]) -> None:
    """The shards after resharding: `keep` plus new ones (as many replicas as the first), slots spread evenly."""
    replicas = max(len(group.node_groups[0]["node_group_members"]) - 1, 0) if group.node_groups else 0
    shards = [ng for ng in group.node_groups if ng["node_group_id"] in keep]
    next_id = max(int(ng["node_group_id"]) for ng in group.node_groups) + 1
    zones = {c.get("NodeGroupId"): c.get("PreferredAvailabilityZones") for c in resharding if c.get("NodeGroupId")}
    positional = [c.get("PreferredAvailabilityZones") for c in resharding]
    while len(shards) < count:
        ng_id = f"{next_id:04d}"
        next_id += 1
        ng: dict[str, Any] = {"node_group_id": ng_id, "status": "available", "node_group_members": []}
        azs = zones.get(ng_id) or (positional[len(shards)] if len(positional) > len(shards) else None)
        shards.append(ng)
        group.node_groups = shards
        _resize(backend, group, ng, replicas, azs=azs)
    group.node_groups = shards
    for i, ng in enumerate(shards):
        ng["slots"] = f"{i * SLOTS // count}-{(i + 1) * SLOTS // count - 1}"
    _sync_members(group)


def _replica_change(resp: Any, increase: bool) -> ActionResult:
    """IncreaseReplicaCount / DecreaseReplicaCount: NewReplicaCount for every shard, or per shard."""
    backend = resp.elasticache_backend
    group = _scalable(backend, resp._get_param("ReplicationGroupId"), resp._get_bool_param("ApplyImmediately"))
    count = resp._get_int_param("NewReplicaCount")
    config = resp._get_param("ReplicaConfiguration") or []
    remove = (resp._get_param("ReplicasToRemove") or []) if not increase else []
    given = [name for name, v in (("NewReplicaCount", count), ("ReplicaConfiguration", config),
                                  ("ReplicasToRemove", remove)) if v not in (None, [])]
    if not given:
        options = "NewReplicaCount or ReplicaConfiguration" + ("" if increase else " or ReplicasToRemove")
        raise InvalidParameterValueException(f"{options} is required.")
    if len(given) > 1:
        raise InvalidParameterCombinationException(f"Specify only one of {', '.join(given)}.")
    shards = {ng["node_group_id"]: ng for ng in group.node_groups}
    current = {i: len(ng["node_group_members"]) - 1 for i, ng in shards.items()}
    targets: dict[str, int] = {}
    azs: dict[str, list[str] | None] = {}
    if count is not None:
        targets = dict.fromkeys(shards, count)
    elif config:
        for c in config:
            if c.get("NodeGroupId") not in shards:
                raise InvalidParameterValueException(f"Node group {c.get('NodeGroupId')} is not part of replication "
                                                     f"group {group.replication_group_id}.")
            targets[c["NodeGroupId"]] = int(c["NewReplicaCount"])
            azs[c["NodeGroupId"]] = c.get("PreferredAvailabilityZones")
    else:
        where = {m["cache_cluster_id"]: (i, m) for i, ng in shards.items() for m in ng["node_group_members"]}
        for cid in remove:
            if cid not in where:
                raise InvalidParameterValueException(f"Cache cluster {cid} is not a member of replication group "
                                                     f"{group.replication_group_id}.")
            i, m = where[cid]
            if m is shards[i]["node_group_members"][0]:
                raise InvalidParameterValueException(f"Cache cluster {cid} is a primary; only replicas can be removed.")
            targets[i] = targets.get(i, current[i]) - 1
    floor = 1 if group.multi_az == "enabled" or (group.cluster_mode != "enabled"
                                                  and group.automatic_failover == "enabled") else 0
    for i, n in targets.items():
        if n > MAX_REPLICAS or n < 0:
            raise InvalidParameterValueException(f"NewReplicaCount must be between 0 and {MAX_REPLICAS}, got {n}.")
        if increase and n < current[i] or not increase and n > current[i]:
            word = "greater" if increase else "less"
            raise InvalidParameterValueException(f"The new replica count for node group {i} must be {word} than the "
                                                 f"current count ({current[i]}), got {n}.")
        if not increase and n < floor:
            raise InvalidParameterValueException(
                f"Node group {i} needs at least {floor} replica with automatic failover or Multi-AZ enabled.")
    if all(n == current[i] for i, n in targets.items()):
        raise NoOperationFault("The replica count is already as requested: nothing to do.")

    def change() -> None:
        for i, n in targets.items():
            _resize(backend, group, shards[i], n, remove=remove, azs=azs.get(i))

    _scale_later(group, change)
    return ActionResult({"ReplicationGroup": group})


def _apply_later(obj: Any, kind: str, status_attr: str, pending: dict[str, Any], attrs: dict[str, str]) -> None:
    """`modifying` for the table's update time, then apply the pending values."""
    obj.pending_modified_values = pending

    def set_status(state: str) -> None:
        setattr(obj, status_attr, state)
        if state == "available":
            for k, v in pending.items():
                setattr(obj, attrs[k], v)
            obj.pending_modified_values = {}

    strict_modify.start(obj, kind, ["modifying"], "available", set_status)


def _decorate_cluster(backend: ElastiCacheBackend, cluster: Any) -> None:
    """What describe_cache_clusters must report and moto leaves out."""
    cluster.cache_parameter_group = {
        "CacheParameterGroupName": cluster.cache_parameter_group_name or _default_group(cluster.engine,
                                                                                       cluster.engine_version),
        "ParameterApplyStatus": "in-sync", "CacheNodeIdsToReboot": []}
    cluster.security_groups = [{"SecurityGroupId": sg, "Status": "active"} for sg in cluster.security_group_ids]
    host = f"{cluster.cache_cluster_id}.xxxxxx.0001.{backend.region_name}.cache.amazonaws.com"
    if cluster.engine == "memcached":
        cluster.configuration_endpoint = {"Address": host.replace(".0001.", ".cfg."), "Port": cluster.port or 11211}
    cluster.cache_nodes = [{"CacheNodeId": f"{i:04d}", "CacheNodeStatus": "available",
                            "CacheNodeCreateTime": cluster.cache_cluster_create_time,
                            "Endpoint": {"Address": host.replace(".0001.", f".{i:04d}."), "Port": cluster.port},
                            "ParameterGroupStatus": "in-sync",
                            "CustomerAvailabilityZone": cluster.preferred_availability_zone
                            or f"{backend.region_name}a"}
                           for i in range(1, (cluster.num_cache_nodes or 1) + 1)]


_MEMBER_STATUS = {"creating": "creating", "available": "available", "modifying": "modifying",
                  "deleting": "deleting", "snapshotting": "snapshotting"}


def _member_cluster(backend: ElastiCacheBackend, group: Any, member: dict[str, Any]) -> CacheCluster:
    """A member of `group` as DescribeCacheClusters shows it: its own node, the group's settings."""
    cluster = CacheCluster(
        account_id=backend.account_id, region_name=backend.region_name, cache_cluster_id=member["cache_cluster_id"],
        cache_node_type=group.cache_node_type, replication_group_id=group.replication_group_id, az_mode=None,
        preferred_availability_zone=member.get("preferred_availability_zone"), num_cache_nodes=1,
        engine=group.engine, engine_version=group.engine_version,
        cache_parameter_group_name=group.cache_parameter_group_name,
        cache_subnet_group_name=group.cache_subnet_group_name,
        transit_encryption_enabled=group.transit_encryption_enabled, network_type=group.network_type,
        ip_discovery=group.ip_discovery, snapshot_name=None,
        preferred_maintenance_window=group.preferred_maintenance_window, port=group.port,
        notification_topic_arn=group.notification_topic_arn,
        auto_minor_version_upgrade=group.auto_minor_version_upgrade,
        snapshot_retention_limit=group.snapshot_retention_limit, snapshot_window=group.snapshot_window,
        auth_token=None, outpost_mode=None, preferred_outpost_arn=None, preferred_availability_zones=None,
        cache_security_group_names=None, security_group_ids=list(group.security_group_ids or []), tags=[],
        snapshot_arns=None, preferred_outpost_arns=None, log_delivery_configurations=[],
        cache_node_ids_to_remove=None, cache_node_ids_to_reboot=None)
    cluster.auth_token_enabled = group.auth_token_enabled
    cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
    cluster.cache_cluster_create_time = group.replication_group_create_time
    cluster.cache_cluster_status = _MEMBER_STATUS.get(group.status, "modifying")
    cluster.pending_modified_values = {}
    _decorate_cluster(backend, cluster)
    return cluster


def _members(backend: ElastiCacheBackend) -> dict[str, CacheCluster]:
    return {m["cache_cluster_id"]: _member_cluster(backend, g, m)
            for g in backend.replication_groups.values() for ng in g.node_groups for m in ng["node_group_members"]}


def describe_cache_clusters(self: ElastiCacheBackend, original: Callable[..., Any],
                            cache_cluster_id: str | None = None) -> list[Any]:
    if not strict.on(MEMBERS_RULE.id):
        return original(self, cache_cluster_id)
    if cache_cluster_id and cache_cluster_id not in self.cache_clusters:
        member = _members(self).get(cache_cluster_id)
        if member is None:
            raise CacheClusterNotFound(cache_cluster_id)
        strict.trip(MEMBERS_RULE.id)
        return [member]
    found = original(self, cache_cluster_id)
    return found if cache_cluster_id else found + list(_members(self).values())


def _default_group(engine: str | None, version: str | None) -> str:
    if engine == "memcached":
        return "default.memcached1.6"
    major = (version or "7").split(".")[0]
    return f"default.{engine or 'redis'}{major if major in ('7', '8') else '6.x'}"


# -- lifecycle wrappers on moto's backend -----------------------------------------------


def create_cache_cluster(self: ElastiCacheBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    if kw.get("cache_parameter_group_name"):
        _get_group(self, kw["cache_parameter_group_name"])
    if kw.get("cache_subnet_group_name") and kw["cache_subnet_group_name"] not in self.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(kw["cache_subnet_group_name"])
    cluster = original(self, *args, **kw)
    cluster.pending_modified_values = {}
    _decorate_cluster(self, cluster)
    lifecycle.run(cluster, CLUSTER, "create", ["creating"], "available", attr="cache_cluster_status")
    return cluster


def delete_cache_cluster(self: ElastiCacheBackend, original: Callable[..., Any], cache_cluster_id: str) -> Any:
    cluster = self.cache_clusters.get(cache_cluster_id)
    if cluster is not None and cluster.cache_cluster_status not in ("available", "deleting"):
        raise InvalidCacheClusterState(f"Cache cluster {cache_cluster_id} is not in available state.")
    cluster = original(self, cache_cluster_id)
    lifecycle.remove_later(self.cache_clusters, cache_cluster_id, cluster, CLUSTER, ["deleting"],
                           attr="cache_cluster_status")
    return cluster


def create_replication_group(self: ElastiCacheBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    pg = kw.get("cache_parameter_group_name")
    if pg:
        _get_group(self, pg)
    if kw.get("cache_subnet_group_name") and kw["cache_subnet_group_name"] not in self.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(kw["cache_subnet_group_name"])
    mode = (kw.get("cluster_mode") or "").lower() or None
    shards = kw.get("num_node_groups") or len(kw.get("node_group_configuration") or []) or 1
    if mode is None and (shards > 1 or (pg or "").endswith(".cluster.on")
                         or (pg and _groups(self)[pg]["values"].get("cluster-enabled") == "yes")):
        mode = "enabled"
    if mode == "enabled" and kw.get("num_cache_clusters"):
        raise InvalidParameterCombinationException(
            "NumCacheClusters cannot be used with cluster mode enabled; use NumNodeGroups and ReplicasPerNodeGroup.")
    kw["cluster_mode"] = mode
    group = original(self, *args, **kw)
    group.cluster_mode = mode or "disabled"
    group.pending_modified_values = {}
    clusters = kw.get("num_cache_clusters")
    if group.cluster_mode == "disabled" and clusters and not kw.get("replicas_per_node_group"):
        # moto sizes the group from ReplicasPerNodeGroup only: NumCacheClusters=2 gave one member
        _resize(self, group, group.node_groups[0], clusters - 1, azs=kw.get("preferred_cache_cluster_azs"))
    for ng in group.node_groups:
        if ng.get("reader_endpoint_address"):  # moto keeps the address but never reports ReaderEndpoint
            ng["reader_endpoint"] = {"address": ng["reader_endpoint_address"], "port": group.port}
    if mode == "enabled":
        group.configuration_endpoint = {"Address": group.configuration_endpoint["address"],
                                        "Port": group.configuration_endpoint["port"]}
    lifecycle.run(group, GROUP, "create", ["creating"], "available", attr="status")
    return group


def delete_replication_group(self: ElastiCacheBackend, original: Callable[..., Any], replication_group_id: str,
                             retain_primary_cluster: bool | None) -> Any:
    group = self.replication_groups.get(replication_group_id)
    if group is not None and group.status not in ("available", "deleting"):
        raise InvalidReplicationGroupState(f"Replication group {replication_group_id} is not in available state.")
    group = original(self, replication_group_id, retain_primary_cluster)
    lifecycle.remove_later(self.replication_groups, replication_group_id, group, GROUP, ["deleting"], attr="status")
    return group


def list_tags_for_resource(self: ElastiCacheBackend, original: Callable[..., Any], arn: str) -> Any:
    if ":parametergroup:" in arn:
        return self.tagging_service.list_tags_for_resource(arn)
    return original(self, arn)


def install() -> None:
    add_methods(ElastiCacheResponse, *(fn for name, fn in vars(_Responses).items()
                                       if callable(fn) and not name.startswith("_")), override=True)
    lifecycle.wrap(ElastiCacheBackend, "create_cache_cluster")(create_cache_cluster)
    lifecycle.wrap(ElastiCacheBackend, "delete_cache_cluster")(delete_cache_cluster)
    lifecycle.wrap(ElastiCacheBackend, "create_replication_group")(create_replication_group)
    lifecycle.wrap(ElastiCacheBackend, "delete_replication_group")(delete_replication_group)
    lifecycle.wrap(ElastiCacheBackend, "list_tags_for_resource")(list_tags_for_resource)
    lifecycle.wrap(ElastiCacheBackend, "describe_cache_clusters")(describe_cache_clusters)
