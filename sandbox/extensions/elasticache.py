"""ElastiCache fidelity: parameter groups, modify calls, cluster mode, deletes that finish.

moto 5.2.5 has no parameter groups, no modify_cache_cluster, no subnet group
modify/delete; its deletes leave resources `deleting` forever; and a
replication group created with several shards (cluster mode, as AWS infers
from NumNodeGroups > 1 or a `.cluster.on` parameter group) reports
ClusterEnabled=False. Shapes and error codes follow botocore's model.
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
from moto.elasticache.models import CacheSubnetGroup, ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse

from sandbox import lifecycle
from sandbox.extensions._base import add_methods, store

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
        if pending and self._get_bool_param("ApplyImmediately"):
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

    def describe_engine_default_parameters(self: Any) -> ActionResult:
        family = self._get_param("CacheParameterGroupFamily")
        if family not in FAMILIES:
            raise InvalidParameterValueException(f"The parameter CacheParameterGroupFamily {family} is not valid.")
        params = [{"ParameterName": n, "ParameterValue": d, "Description": desc, "Source": "system",
                   "DataType": t, "AllowedValues": a or None, "IsModifiable": m, "ChangeType": c}
                  for n, (d, t, a, m, c, desc) in sorted(_catalog(family).items())]
        return ActionResult({"EngineDefaults": {"CacheParameterGroupFamily": family, "Parameters": params,
                                                "CacheNodeTypeSpecificParameters": []}})


def _apply_later(obj: Any, kind: str, status_attr: str, pending: dict[str, Any], attrs: dict[str, str]) -> None:
    """`modifying` for the table's update time, then apply the pending values."""
    obj.pending_modified_values = pending

    def set_status(state: str) -> None:
        setattr(obj, status_attr, state)
        if state == "available":
            for k, v in pending.items():
                setattr(obj, attrs[k], v)
            obj.pending_modified_values = {}

    lifecycle.run(obj, kind, "update", ["modifying"], "available", apply=set_status)


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
