"""Strict rules of the data stores (RDS, ElastiCache, OpenSearch): what AWS refuses on update and moto accepts.

Issue 13: a property change of a running database, cache or search domain
must do what AWS allows. moto applies nearly any ModifyDBInstance,
ModifyReplicationGroup or UpdateDomainConfig as asked, so a tool that asks
for a storage shrink, a subnet-group move within one VPC or a key change of
a managed secret passed offline and failed on AWS. Each rule below is one
such refusal, with its source; the tests in tests/test_strict_stores.py trip
each one with raw boto3.

The wrappers are chained over moto's backend methods (and over the
async-modify wrapper of strict_modify.py) under this module's own owner
mark, so they run first and refuse before anything changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.core.utils import utcnow
from moto.elasticache.exceptions import InvalidParameterCombinationException, InvalidParameterValueException
from moto.elasticache.models import CacheCluster, ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse
from moto.opensearch.models import OpenSearchServiceBackend
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBInstance, RDSBackend
from moto.secretsmanager.models import SecretsManagerBackend

from sandbox import lifecycle, strict
from sandbox.extensions._base import AwsJsonError, store

OWNER = "strict_stores"

STORAGE_SHRINK = strict.rule(
    "rds-storage-shrink",
    aws="RDS cannot reduce a DB instance's allocated storage: ModifyDBInstance with an AllocatedStorage below "
        "the current one is refused (InvalidParameterCombination). Storage autoscaling (MaxAllocatedStorage) "
        "grows it on its own, and an increase of less than 10 % is rounded up to 10 %, so the live size is "
        "often above the declared one.",
    source="botocore rds ModifyDBInstance.AllocatedStorage (\"at least 10% greater than the current value\"); "
           "hashicorp/terraform-provider-aws internal/service/rds/instance.go (allocated_storage "
           "DiffSuppressFunc: \"Allocated is higher than the configuration and autoscaling is enabled\"); "
           "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.StorageTypes.html#USER_PIOPS.Autoscaling "
           "(exact error text not verified)",
    moto="set AllocatedStorage to any value asked, smaller included",
)


def _engine_threshold(engine: str) -> int | None:
    """The gp3 size (GiB) from which RDS provisions IOPS apart (below it: the 3000 IOPS baseline)."""
    if engine in ("postgres", "mysql", "mariadb"):
        return 400
    if engine.startswith("oracle"):
        return 200
    return None  # SQL Server, Db2...: IOPS settable at any size


STORAGE_IOPS = strict.rule(
    "rds-storage-iops",
    aws="An AllocatedStorage increase of a DB instance on Provisioned IOPS storage (io1, io2, and gp3 at or above "
        "the engine's threshold: 400 GiB for PostgreSQL/MySQL/MariaDB, 200 GiB for Oracle) must carry Iops (the "
        "current value will do); below the gp3 threshold RDS refuses an Iops value: \"You can't specify IOPS or "
        "storage throughput for engine postgres and a storage size less than 400.\" (InvalidParameterCombination).",
    source="botocore rds ModifyDBInstance.AllocatedStorage (\"you must also specify the Iops parameter. You can use "
           "the current value for Iops\"); hashicorp/terraform-provider-aws internal/service/rds/instance.go "
           "dbInstancePopulateModify (sends Iops with allocated_storage unless gp3 below the threshold, "
           "isStorageTypeGP3BelowAllocatedStorageThreshold)",
    moto="accepted a storage increase without Iops, and Iops on a small gp3 volume",
)

STORAGE_OPTIMIZING = strict.rule(
    "rds-storage-optimizing",
    aws="After a storage change RDS optimizes the volume (storage-optimization, up to hours) and refuses "
        "another storage change meanwhile: InvalidParameterCombination \"You can't currently modify the storage "
        "of this DB instance because the previous storage change is being optimized.\"",
    source="hashicorp/terraform-provider-aws internal/service/rds/instance.go dbInstanceModify (retries "
           "InvalidParameterCombination \"previous storage change is being optimized\"); "
           "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.ModifyingExisting.html",
    moto="accepted storage changes back to back",
    seconds=1.0,
)

SUBNET_GROUP_SAME_VPC = strict.rule(
    "rds-subnet-group-same-vpc",
    aws="ModifyDBInstance DBSubnetGroupName moves an instance to another VPC only; a subnet group in the "
        "instance's own VPC is refused: InvalidVPCNetworkStateFault \"The specified DB subnet group and DB "
        "instance are in the same VPC. Choose a DB subnet group in different VPC than the specified DB instance "
        "and try again.\"",
    source="botocore rds ModifyDBInstance.DBSubnetGroupName (\"move your DB instance to a different VPC\"); "
           "hashicorp/terraform-provider-aws#512; CloudFormation AWS::RDS::DBInstance DBSubnetGroupName is "
           "createOnly",
    moto="moved the instance to any subnet group",
)

MANAGED_SECRET = strict.rule(
    "rds-managed-secret",
    aws="While RDS manages the master password in Secrets Manager, ModifyDBInstance cannot change the secret's "
        "KMS key (MasterUserSecretKmsKeyId is valid only when turning ManageMasterUserPassword on), and turning "
        "management off needs a MasterUserPassword (RDS deletes the secret and uses that password). Both are "
        "refused with InvalidParameterCombination.",
    source="botocore rds ModifyDBInstance.MasterUserSecretKmsKeyId and .ManageMasterUserPassword; "
           "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html",
    moto="made a new secret with the new key while one was managed, and turned management off without a password",
)

PROMOTE = strict.rule(
    "rds-promote-read-replica",
    aws="PromoteReadReplica makes a read replica a standalone instance: it leaves its source's "
        "ReadReplicaDBInstanceIdentifiers, reports no ReadReplicaSourceDBInstanceIdentifier, and is `modifying` "
        "while RDS reboots it. A standalone instance cannot be promoted (InvalidDBInstanceState).",
    source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html; "
           "hashicorp/terraform-provider-aws internal/service/rds/instance.go (resourceInstanceUpdate: "
           "replicate_source_db removed -> PromoteReadReplica, then waitDBInstanceAvailable)",
    moto="kept reporting the source after a promotion, and promoted a standalone instance silently",
)


def _refuse(rule: strict.Rule, code: str, message: str) -> None:
    strict.trip(rule.id)
    raise RDSClientError(code, message)


def _vpc_of(backend: RDSBackend, group: str | None) -> str | None:
    if not group or group not in backend.subnet_groups:
        return None
    return backend.subnet_groups[group].vpc_id


def _check_modify(backend: RDSBackend, db: Any, kw: dict[str, Any]) -> None:
    storage = kw.get("allocated_storage")
    current = int(db.allocated_storage or 0)
    if storage is not None and strict.on(STORAGE_SHRINK.id) and int(storage) < current:
        _refuse(STORAGE_SHRINK, "InvalidParameterCombination",
                f"Invalid storage size: the allocated storage of {db.db_instance_identifier} can only grow "
                f"({current} GiB now, {storage} GiB asked).")
    optimizing = store(backend, "rds_storage_changed", strict.Clock)
    if storage is not None and int(storage) != current and strict.on(STORAGE_OPTIMIZING.id) \
            and optimizing.within(db.db_instance_identifier, float(strict.setting(STORAGE_OPTIMIZING.id, "seconds"))):
        _refuse(STORAGE_OPTIMIZING, "InvalidParameterCombination",
                "You can't currently modify the storage of this DB instance because the previous storage change "
                "is being optimized.")
    if storage is not None and strict.on(STORAGE_IOPS.id) and int(storage) > current:
        kind = kw.get("storage_type") or db.storage_type or "gp2"
        threshold = _engine_threshold(db.engine or "")
        below = kind == "gp3" and threshold is not None and int(storage) < threshold
        if kind in ("io1", "io2") or (kind == "gp3" and not below):
            if kw.get("iops") is None:
                _refuse(STORAGE_IOPS, "InvalidParameterCombination",
                        f"You must specify Iops when increasing the allocated storage of a DB instance with "
                        f"{kind} storage (the current value will do).")
        elif below and kw.get("iops") is not None:
            _refuse(STORAGE_IOPS, "InvalidParameterCombination",
                    f"You can't specify IOPS or storage throughput for engine {db.engine} and a storage size "
                    f"less than {threshold}.")
    group = kw.get("db_subnet_group_name")
    current_group = getattr(db, "_db_subnet_group_name", None)
    if group and group != current_group and strict.on(SUBNET_GROUP_SAME_VPC.id):
        here, there = _vpc_of(backend, current_group), _vpc_of(backend, group)
        if here is not None and here == there:
            _refuse(SUBNET_GROUP_SAME_VPC, "InvalidVPCNetworkStateFault",
                    "The specified DB subnet group and DB instance are in the same VPC. Choose a DB subnet group "
                    "in different VPC than the specified DB instance and try again.")
    if strict.on(MANAGED_SECRET.id):
        managed = hasattr(db, "master_user_secret")
        turning = kw.get("manage_master_user_password")
        if managed and turning is False and not kw.get("master_user_password"):
            _refuse(MANAGED_SECRET, "InvalidParameterCombination",
                    "You must specify MasterUserPassword when you turn off ManageMasterUserPassword.")
        if managed and turning is not False and kw.get("master_user_secret_kms_key_id") is not None \
                and kw["master_user_secret_kms_key_id"] != db.master_user_secret.kms_key_id:
            _refuse(MANAGED_SECRET, "InvalidParameterCombination",
                    "You can't change the KMS key of a secret that RDS already manages; turn "
                    "ManageMasterUserPassword off, then on again with the new MasterUserSecretKmsKeyId.")
        if managed and turning is True:
            kw.pop("manage_master_user_password")  # already managed: RDS keeps the secret (moto made a new one)
            kw.pop("master_user_secret_kms_key_id", None)


def modify_db_instance(self: RDSBackend, original: Callable[..., Any], db_instance_identifier: str,
                       db_kwargs: dict[str, Any]) -> Any:
    db = self.databases.get(db_instance_identifier)
    if db is not None:
        _check_modify(self, db, db_kwargs)
    storage = db_kwargs.get("allocated_storage")  # (the async-modify wrapper takes it out of db_kwargs)
    changes_storage = db is not None and storage is not None and int(storage) != int(db.allocated_storage or 0)
    out = original(self, db_instance_identifier, db_kwargs)
    if changes_storage:
        store(self, "rds_storage_changed", strict.Clock).mark(db_instance_identifier)
    return out


def promote_read_replica(self: RDSBackend, original: Callable[..., Any], db_kwargs: dict[str, Any]) -> Any:
    db = self.databases.get(db_kwargs.get("db_instance_identifier"))
    if db is None or not strict.on(PROMOTE.id):
        return original(self, db_kwargs)
    if not db.is_replica:
        _refuse(PROMOTE, "InvalidDBInstanceState",
                f"DB Instance {db.db_instance_identifier} is not a read replica.")
    source = self.databases.get(db.source_db_instance_identifier or "")
    out = original(self, db_kwargs)
    if source is not None and db.db_instance_identifier in source.replicas:
        source.remove_replica(db)
    db.source_db_instance_identifier = None
    strict.trip(PROMOTE.id)

    def set_status(state: str) -> None:
        db.status = state

    from sandbox.extensions import strict_modify

    strict_modify.start(db, strict_modify.RDS_KIND, ["modifying"], "available", set_status)
    return out


OPENSEARCH_UPDATE = strict.rule(
    "opensearch-update-limits",
    aws="UpdateDomainConfig enables encryption at rest in place (every OpenSearch version) but cannot disable "
        "it or change its KMS key, cannot disable node-to-node encryption, and cannot move a public domain into "
        "a VPC: each is refused with ValidationException (a new domain is needed).",
    source="hashicorp/terraform-provider-aws internal/service/opensearch/domain.go (encrypt_at_rest.kms_key_id "
           "ForceNew; encrypt_at_rest.enabled and node_to_node_encryption.enabled ForceNewIf true -> false, "
           "\"All OpenSearch versions support enabling encryption in-place\"; vpc_options ForceNew) "
           "(exact error texts not verified)",
    moto="applied any section as sent: disabled encryption, swapped the key, moved the domain into a VPC",
)


def _refuse_os(message: str) -> None:
    strict.trip(OPENSEARCH_UPDATE.id)
    raise AwsJsonError("ValidationException", message, 400)


def update_domain_config(self: OpenSearchServiceBackend, original: Callable[..., Any], domain_name: str,
                         *args: Any, **kw: Any) -> Any:
    domain = self.domains.get(domain_name)
    if domain is not None and strict.on(OPENSEARCH_UPDATE.id):
        rest, new_rest = domain.encryption_at_rest_options or {}, kw.get("encryption_at_rest_options")
        if new_rest is not None:
            if rest.get("Enabled") and new_rest.get("Enabled") is False:
                _refuse_os("Encryption at rest cannot be disabled once enabled.")
            if rest.get("Enabled") and new_rest.get("KmsKeyId") and rest.get("KmsKeyId") \
                    and new_rest["KmsKeyId"] != rest["KmsKeyId"]:
                _refuse_os("The KMS key of a domain encrypted at rest cannot be changed.")
        n2n, new_n2n = domain.node_to_node_encryption_options or {}, kw.get("node_to_node_encryption_options")
        if new_n2n is not None and n2n.get("Enabled") and new_n2n.get("Enabled") is False:
            _refuse_os("Node-to-node encryption cannot be disabled once enabled.")
        if kw.get("vpc_options") and not domain.vpc_options:
            _refuse_os("A domain outside a VPC cannot be moved into one: VPCOptions can only change the subnets "
                       "and security groups of a VPC domain.")
    return original(self, domain_name, *args, **kw)


REDIS_MODIFY = strict.rule(
    "elasticache-modify-path",
    aws="ModifyReplicationGroup changes a running group's engine (redis -> valkey; no way back), cluster mode "
        "(disabled -> compatible -> enabled, one step per call; never back) and in-transit encryption (on: "
        "TransitEncryptionMode preferred first, then required in a second call; Redis OSS 7.0.5 or later) in "
        "place. The AUTH token changes with AuthTokenUpdateStrategy: ROTATE adds the new token next to the old "
        "one (both accepted), SET keeps only the given one; either needs in-transit encryption. Other paths are "
        "refused with InvalidParameterValue / InvalidParameterCombination.",
    source="botocore elasticache ModifyReplicationGroup (ClusterMode, Engine, TransitEncryptionEnabled, "
           "TransitEncryptionMode, AuthTokenUpdateStrategy docs); hashicorp/terraform-provider-aws "
           "internal/service/elasticache/replication_group.go (engine ForceNew only on downgrade, "
           "transit_encryption_enabled ForceNewIf engine_version_actual < 7.0.5, auth_token_update_strategy); "
           "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html (exact error texts not verified)",
    moto="ignored Engine, ClusterMode and AuthToken on modify, and set TransitEncryptionEnabled in one step",
)

TOKENS = "_sandbox_auth_tokens"


def auth_tokens(group: Any) -> list[str]:
    """The AUTH tokens the group accepts now (what a client with the secret's value can log in with)."""
    return list(group.__dict__.get(TOKENS, []))


def _bad(message: str, combination: bool = False) -> None:
    strict.trip(REDIS_MODIFY.id)
    raise (InvalidParameterCombinationException if combination else InvalidParameterValueException)(message)


def _version(text: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in (text or "0").split(".") if p.isdigit())


def _check_redis(resp: Any, group: Any) -> dict[str, Any]:
    """Refuse the paths AWS refuses; return what to apply once moto's handler has run."""
    later: dict[str, Any] = {}
    engine = resp._get_param("Engine")
    if engine and engine != group.engine:
        if group.engine == "valkey" and engine == "redis":
            _bad("Engine downgrade from valkey to redis is not supported.")
        later["engine"] = engine
    mode = resp._get_param("ClusterMode")
    current = getattr(group, "cluster_mode", "disabled") or "disabled"
    if mode and mode != current:
        if (current, mode) not in (("disabled", "compatible"), ("compatible", "enabled")):
            _bad(f"Cluster mode cannot change from {current} to {mode}: go disabled -> compatible -> enabled.",
                 combination=True)
        later["cluster_mode"] = mode
    transit = resp._get_bool_param("TransitEncryptionEnabled")
    tmode = resp._get_param("TransitEncryptionMode")
    if transit is True and not group.transit_encryption_enabled:
        if _version(group.engine_version) < (7, 0, 5) and group.engine == "redis":
            _bad("In-transit encryption can be enabled on a running group from Redis OSS 7.0.5 only.")
        if tmode != "preferred":
            _bad("When enabling in-transit encryption on an existing group, TransitEncryptionMode must be "
                 "preferred (then required in a later modification).", combination=True)
    if tmode == "required" and not group.transit_encryption_enabled:
        _bad("TransitEncryptionMode required needs in-transit encryption enabled (preferred) first.", True)
    token, strategy = resp._get_param("AuthToken"), resp._get_param("AuthTokenUpdateStrategy")
    if token is not None or strategy is not None:
        if not (group.transit_encryption_enabled or transit):
            _bad("The AUTH token can be set only on a group with in-transit encryption enabled.", True)
        if strategy not in ("ROTATE", "SET", "DELETE"):
            _bad("AuthTokenUpdateStrategy must be ROTATE, SET or DELETE with an AuthToken.", True)
        tokens = auth_tokens(group)
        if strategy == "ROTATE":
            tokens = ([t for t in tokens if t != token] + [token])[-2:]
        elif strategy == "SET":
            tokens = [token]
        else:
            tokens = []
        later[TOKENS] = tokens
    return later


def modify_replication_group(self: ElastiCacheResponse, original: Callable[..., Any]) -> Any:
    group = self.elasticache_backend.replication_groups.get(self._get_param("ReplicationGroupId"))
    if group is None or not strict.on(REDIS_MODIFY.id):
        return original(self)
    later = _check_redis(self, group)
    out = original(self)
    for attr, value in later.items():
        if attr == TOKENS:
            group.__dict__[TOKENS] = value
            group.auth_token_enabled = bool(value)
            group.auth_token_last_modified_date = utcnow()
        else:
            setattr(group, attr, value)
    group.cluster_enabled = group.cluster_mode == "enabled"
    return out


def create_replication_group(self: ElastiCacheBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    group = original(self, *args, **kw)
    if kw.get("auth_token"):
        group.__dict__[TOKENS] = [kw["auth_token"]]
    return group


def _cache_cluster_init(self: CacheCluster, original: Callable[..., Any], *args: Any, **kw: Any) -> None:
    """A valkey node is built as a Redis OSS one (moto 5.2.5 knows only redis and memcached nodes and left a
    valkey member without its node count), then reports its engine."""
    valkey = kw.get("engine") == "valkey"
    if valkey:
        kw["engine"] = "redis"
    original(self, *args, **kw)
    if valkey:
        self.engine = "valkey"


PENDING_REBOOT = strict.rule(
    "rds-parameter-pending-reboot",
    aws="A static parameter changed in a DB parameter group (ApplyMethod pending-reboot) takes effect on each "
        "instance using the group only when that instance reboots; until then DescribeDBInstances reports the "
        "group's ParameterApplyStatus as pending-reboot. RebootDBInstance applies it (in-sync).",
    source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.Modifying.html; "
           "botocore rds DBParameterGroupStatus.ParameterApplyStatus",
    moto="reported every instance's parameter group as in-sync, whatever was changed",
)
PENDING = "_sandbox_pending_reboot"


def modify_db_parameter_group(self: RDSBackend, original: Callable[..., Any], db_parameter_group_name: str,
                              db_parameter_group_parameters: Any) -> Any:
    params = list(db_parameter_group_parameters or [])
    out = original(self, db_parameter_group_name, params)
    if strict.on(PENDING_REBOOT.id) and any(p.get("ApplyMethod") == "pending-reboot" for p in params):
        for db in self.databases.values():
            if db.db_parameter_group_name == db_parameter_group_name:
                db.__dict__[PENDING] = True
                strict.trip(PENDING_REBOOT.id)
    return out


def reboot_db_instance(self: RDSBackend, original: Callable[..., Any], db_instance_identifier: str) -> Any:
    db = original(self, db_instance_identifier)
    db.__dict__[PENDING] = False
    return db


def _status_list(self: DBInstance) -> Any:
    groups = self.db_parameter_groups()
    for group in groups:
        group.ParameterApplyStatus = "pending-reboot" if self.__dict__.get(PENDING) else "in-sync"
    return groups


def list_secret_version_ids(self: SecretsManagerBackend, original: Callable[..., Any], secret_id: str,
                            *args: Any, **kw: Any) -> str:
    """Each version's own creation date (moto 5.2.5 answered the time of the call for every version, so
    "was the secret rotated after X" could not be told)."""
    out = json.loads(original(self, secret_id, *args, **kw))
    versions = self.secrets[secret_id].versions
    for v in out.get("Versions", []):
        created = (versions.get(v["VersionId"]) or {}).get("createdate")
        if created is not None:
            v["CreatedDate"] = created
    return json.dumps(out)


def install() -> None:
    lifecycle.chain(SecretsManagerBackend, "list_secret_version_ids", list_secret_version_ids, owner=OWNER)
    lifecycle.chain(RDSBackend, "modify_db_parameter_group", modify_db_parameter_group, owner=OWNER)
    lifecycle.chain(RDSBackend, "reboot_db_instance", reboot_db_instance, owner=OWNER)
    DBInstance.db_parameter_group_status_list = property(_status_list)  # type: ignore[assignment,method-assign]
    lifecycle.chain(CacheCluster, "__init__", _cache_cluster_init, owner=OWNER)
    lifecycle.chain(ElastiCacheResponse, "modify_replication_group", modify_replication_group, owner=OWNER)
    lifecycle.chain(ElastiCacheBackend, "create_replication_group", create_replication_group, owner=OWNER)
    lifecycle.chain(OpenSearchServiceBackend, "update_domain_config", update_domain_config, owner=OWNER)
    lifecycle.chain(RDSBackend, "modify_db_instance", modify_db_instance, owner=OWNER)
    lifecycle.chain(RDSBackend, "promote_read_replica", promote_read_replica, owner=OWNER)
