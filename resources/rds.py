"""RDS types: DB subnet group, parameter groups, DB instances (primary and read replica).

RDS names are the identifiers (no generated ids), so every type's physical id
is its deterministic `genai-demo-<env>-<name>` and find() is one describe by
that name, confirmed by the `infra:address` tag. Tags go in at create time
(`Tags=`) and are kept in step by ARN afterwards.

Production topology (decided here, read by plans/genai_demo/data.py): a plain
RDS for PostgreSQL Multi-AZ DB instance plus two read replicas, rather than an
Aurora PostgreSQL writer with two readers. Reasons:
  * it is what the architecture document names ("RDS PostgreSQL Multi-AZ with
    read replicas"), and dev is a plain db.t3.micro PostgreSQL instance
    (Aurora has no db.t3.micro class), so both profiles share one engine, one
    parameter-group family and one resource type: what is tested in dev is
    what runs in production;
  * Multi-AZ gives a synchronous standby in another AZ with automatic
    failover; the replicas add read scaling and can be promoted by hand;
  * fewer moving parts (no cluster object, no cluster parameter group) and
    moto models this path faithfully (instances, replicas, managed master
    secret, deletion protection), so the offline tests exercise the real calls.
Aurora remains possible: DBClusterParameterGroup is provided for it.

Secrets: the master password is never ours. `ManageMasterUserPassword=True`
makes RDS create and rotate it in Secrets Manager (encrypted with
`MasterUserSecretKmsKeyId`); state only ever sees the secret's ARN.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from botocore import xform_name

from core.errors import PlanError, Retry, on_delete
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

# Aurora clusters (DBClusterParameterGroup is provided for them; the sandbox emulates their states).
EXTRA_DURATIONS["rds.dbcluster"] = Durations(create=300, update=120, delete=180)


class RdsResource(NamedTagListResource):
    """RDS types share naming (identifier = deterministic name), tagging by ARN and find-by-name."""

    service = "rds"
    name_max: ClassVar[int] = 63


# --------------------------------------------------------------------------- subnet group


class DBSubnetGroup(RdsResource, NamedSubnetGroup):
    """The database-tier subnets RDS may place instances in (one per AZ, at least two AZs).

    SubnetIds change in place with ModifyDBSubnetGroup on AWS. moto 5.2.5 drops
    the group on modify (reference/moto-gaps.md), which the test checks for.
    """

    type_name = "rds.DBSubnetGroup"
    label = "DB subnet group"
    arn_kind = ("rds", "subgrp")
    name_max = 255
    kind = "DBSubnetGroup"
    arn_key = "DBSubnetGroupArn"
    props = {
        "DBSubnetGroupDescription": P(str, default="Database subnets managed by genai-infra"),
        "SubnetIds": P(list, required=True, validator=lambda v: None if len(v) >= 2 else
                       "needs at least two subnets in two Availability Zones"),
    }
    outputs = ("DBSubnetGroupName", "Arn", "VpcId")
    not_found = ("DBSubnetGroupNotFoundFault",)


# --------------------------------------------------------------------------- parameter groups


class _ParameterGroup(RdsResource):
    """Instance and cluster parameter groups differ only in API names: declared below as data.

    `Parameters` is {name: value}. Values are strings on the wire; numbers are
    accepted and normalised. Each change uses ApplyMethod "immediate" when RDS
    says the parameter is dynamic and "pending-reboot" otherwise (AWS rejects
    "immediate" for static parameters). Removing a parameter resets it to the
    engine default.
    """

    name_max = 255
    kind: ClassVar[str] = ""  # "DBParameterGroup" or "DBClusterParameterGroup"
    describe_params_op: ClassVar[str] = ""

    props = {
        "Family": P(str, required=True, doc="e.g. postgres16, aurora-postgresql16"),
        "Description": P(str, default="Parameters managed by genai-infra"),
        "Parameters": P(dict, default={}),
    }
    replace_on = frozenset({"Family", "Description"})  # neither is modifiable on AWS
    # A deleted instance stays a member until RDS has finished with it (TF rds/parameter_group.go retries
    # the delete on InvalidDBParameterGroupState, 3 min).
    retries = (on_delete("InvalidDBParameterGroupState", seconds=180.0,
                         why="TF rds/parameter_group.go: delete retried while instances are still members"),)
    outputs = ("Name", "Arn")
    not_found = ("DBParameterGroupNotFound", "DBParameterGroupNotFoundFault")

    def validate(self, props: dict[str, Any]) -> None:
        if isinstance(props.get("Parameters"), dict):
            props["Parameters"] = parameter_values(f"{self.type_name} {self.name!r}", props["Parameters"])

    def _op(self, ctx: Ctx, verb: str, suffix: str = "") -> Any:
        return getattr(ctx.client("rds"), xform_name(f"{verb}{self.kind}{suffix}"))

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        return self.describe_first(ctx, xform_name(f"Describe{self.kind}s"), f"{self.kind}s",
                                   **{f"{self.kind}Name": physical_id})

    def arn_of(self, item: dict[str, Any]) -> str:
        return item[f"{self.kind}Arn"]

    def _parameters(self, ctx: Ctx, physical_id: str, source: str | None = "user") -> list[dict[str, Any]]:
        pages = ctx.client("rds").get_paginator(self.describe_params_op).paginate(
            **{f"{self.kind}Name": physical_id}, **({"Source": source} if source else {}))
        return [p for page in pages for p in page.get("Parameters", [])]

    def _apply(self, ctx: Ctx, physical_id: str, values: dict[str, str]) -> None:
        if not values:
            return
        apply_type = {p["ParameterName"]: p.get("ApplyType") for p in self._parameters(ctx, physical_id, None)}
        plist = [{"ParameterName": k, "ParameterValue": v,
                  "ApplyMethod": "immediate" if apply_type.get(k) == "dynamic" else "pending-reboot"}
                 for k, v in sorted(values.items())]
        for chunk in chunks(plist, 20):  # AWS accepts at most 20 parameters per call
            self._op(ctx, "Modify")(**{f"{self.kind}Name": physical_id}, Parameters=chunk)

    def _reset(self, ctx: Ctx, physical_id: str, names: list[str]) -> None:
        plist = [{"ParameterName": k, "ApplyMethod": "pending-reboot"} for k in sorted(names)]
        for chunk in chunks(plist, 20):
            self._op(ctx, "Reset")(**{f"{self.kind}Name": physical_id}, Parameters=chunk)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.ident(ctx)
        self._op(ctx, "Create")(**{f"{self.kind}Name": name}, DBParameterGroupFamily=props["Family"],
                                Description=props["Description"], Tags=tag_list(ctx.tags))
        self._apply(ctx, name, props.get("Parameters") or {})
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        g = self.describe_one(ctx, physical_id) or {}
        return {"Name": physical_id, "Arn": g.get(f"{self.kind}Arn")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        g = self.describe_one(ctx, physical_id)
        if g is None:
            return None
        params = {p["ParameterName"]: p["ParameterValue"] for p in self._parameters(ctx, physical_id)
                  if p.get("ParameterValue") is not None}
        return {"Family": g["DBParameterGroupFamily"], "Description": g["Description"], "Parameters": params}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        before, after = old.get("Parameters") or {}, new.get("Parameters") or {}
        self._apply(ctx, physical_id, {k: v for k, v in after.items() if before.get(k) != v})
        removed = [k for k in before if k not in after]
        if removed:
            self._reset(ctx, physical_id, removed)
        return self.synced_outputs(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(self._op(ctx, "Delete"), **{f"{self.kind}Name": physical_id})


class DBParameterGroup(_ParameterGroup):
    type_name = "rds.DBParameterGroup"
    label = "DB parameter group"
    arn_kind = ("rds", "pg")
    kind = "DBParameterGroup"
    describe_params_op = "describe_db_parameters"


class DBClusterParameterGroup(_ParameterGroup):
    """For Aurora clusters (not used by the GenAI Demo plan, which runs plain RDS PostgreSQL)."""

    type_name = "rds.DBClusterParameterGroup"
    label = "DB cluster parameter group"
    arn_kind = ("rds", "cluster-pg")
    kind = "DBClusterParameterGroup"
    describe_params_op = "describe_db_cluster_parameters"
    not_found = ("DBParameterGroupNotFound", "DBParameterGroupNotFoundFault", "DBClusterParameterGroupNotFound")


# --------------------------------------------------------------------------- DB instance

# Property -> ModifyDBInstance parameter, for what changes in place.
_MODIFY = {
    "DBInstanceClass": "DBInstanceClass",
    "AllocatedStorage": "AllocatedStorage",
    "MaxAllocatedStorage": "MaxAllocatedStorage",
    "StorageType": "StorageType",
    "Iops": "Iops",
    "MultiAZ": "MultiAZ",
    "BackupRetentionPeriod": "BackupRetentionPeriod",
    "PreferredBackupWindow": "PreferredBackupWindow",
    "PreferredMaintenanceWindow": "PreferredMaintenanceWindow",
    "DeletionProtection": "DeletionProtection",
    "VpcSecurityGroupIds": "VpcSecurityGroupIds",
    "DBParameterGroupName": "DBParameterGroupName",
    "DBSubnetGroupName": "DBSubnetGroupName",
    "EngineVersion": "EngineVersion",
    "AutoMinorVersionUpgrade": "AutoMinorVersionUpgrade",
    "CopyTagsToSnapshot": "CopyTagsToSnapshot",
    "PubliclyAccessible": "PubliclyAccessible",
    "Port": "DBPortNumber",
    "EnablePerformanceInsights": "EnablePerformanceInsights",
    "PerformanceInsightsKMSKeyId": "PerformanceInsightsKMSKeyId",
    "PerformanceInsightsRetentionPeriod": "PerformanceInsightsRetentionPeriod",
    "EnableIAMDatabaseAuthentication": "EnableIAMDatabaseAuthentication",
    "MonitoringInterval": "MonitoringInterval",
    "MonitoringRoleArn": "MonitoringRoleArn",
}

# What a property removed from the plan goes back to, where AWS has a way back (Terraform does the same:
# MaxAllocatedStorage = AllocatedStorage turns storage autoscaling off). The rest (windows, Iops...)
# AWS keeps once set: removing them leaves the instance as it is.
_RESET: dict[str, Any] = {
    "MaxAllocatedStorage": lambda new, live: new.get("AllocatedStorage") or live.get("AllocatedStorage"),
    "EnablePerformanceInsights": lambda new, live: False,
    "EnableIAMDatabaseAuthentication": lambda new, live: False,
}

# Performance Insights retention AWS accepts (botocore ModifyDBInstance.PerformanceInsightsRetentionPeriod).
PI_RETENTION = frozenset({7, 731, *(31 * m for m in range(1, 24))})
_PI = ("EnablePerformanceInsights", "PerformanceInsightsKMSKeyId", "PerformanceInsightsRetentionPeriod")

# gp3 sizes (GiB) from which RDS provisions IOPS apart and wants Iops with a storage change; below them
# it refuses an Iops value (Terraform instance.go isStorageTypeGP3BelowAllocatedStorageThreshold).
_GP3_THRESHOLD = {"postgres": 400, "mysql": 400, "mariadb": 400, "oracle-ee": 200, "oracle-se2": 200}


# How read() marks a parameter group whose static changes wait for a reboot: drift the plan shows.
PENDING_REBOOT = " (pending-reboot: static parameters not in effect until the instance reboots)"


def _version(text: str) -> tuple[int, ...]:
    """ "16.4" -> (16, 4): engine versions compared as numbers."""
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def _rounded_up(size: int) -> int:
    """What RDS makes of a requested size: an increase under 10 % is rounded up to 10 % (botocore
    ModifyDBInstance.AllocatedStorage), so a declared 21 GiB may read back as 22."""
    return int(size * 1.1) + 1


# Set on the source and inherited by a read replica: a replica may not declare them.
_PRIMARY_ONLY = frozenset({"MasterUsername", "ManageMasterUserPassword", "MasterUserSecretKmsKeyId", "DBName",
                           "AllocatedStorage", "EngineVersion", "BackupRetentionPeriod",
                           "PreferredBackupWindow"})
# What CreateDBInstanceReadReplica accepts of our properties (same-region replica: the
# storage encryption and its KMS key are the source's and may not be passed).
_REPLICA_CREATE = ("DBInstanceClass", "AvailabilityZone", "Port", "MultiAZ", "AutoMinorVersionUpgrade",
                   "DBParameterGroupName", "PubliclyAccessible", "StorageType", "Iops", "MaxAllocatedStorage",
                   "CopyTagsToSnapshot", "DBSubnetGroupName", "VpcSecurityGroupIds", "DeletionProtection",
                   "EnablePerformanceInsights", "PerformanceInsightsKMSKeyId", "PerformanceInsightsRetentionPeriod",
                   "EnableIAMDatabaseAuthentication", "EnableCloudwatchLogsExports",
                   "MonitoringInterval", "MonitoringRoleArn")


class DBInstance(RdsResource):
    """An RDS DB instance: a primary (Engine, master user...) or, with SourceDBInstanceIdentifier,
    a read replica of another instance in the same region.

    Deletion: the planner and the CLI decide whether a destroy may happen
    (production data stores are declared with Lifecycle(protect=True)); once
    delete() is called it is allowed, so it lifts DeletionProtection itself,
    then deletes with a final snapshot unless SkipFinalSnapshot (replicas
    never take one: AWS refuses a final snapshot of a read replica).
    """

    type_name = "rds.DBInstance"
    stateful = True  # a replacement destroys its data (issue 13): apply refuses it unless named
    created_wait = ("DBInstanceCreated", "DBInstanceIdentifier")
    label = "DB instance"
    arn_kind = ("rds", "db")
    durations = Durations(create=600, update=300, delete=300)
    props = {
        "Engine": P(str, default="postgres"),
        "EngineVersion": P(str),
        "DBInstanceClass": P(str, required=True),
        "AllocatedStorage": P(int, validator=int_range(20, 65536)),
        "MaxAllocatedStorage": P(int, validator=int_range(20, 65536)),
        "StorageType": P(str, default="gp3"),
        "Iops": P(int),
        "StorageEncrypted": P(bool, default=True),
        "KmsKeyId": P(str),
        "MultiAZ": P(bool, default=False),
        "AvailabilityZone": P(str),
        "MasterUsername": P(str),
        "ManageMasterUserPassword": P(bool),
        "MasterUserSecretKmsKeyId": P(str),
        "DBName": P(str),
        "Port": P(int, validator=int_range(1150, 65535)),
        "DBSubnetGroupName": P(str),
        "VpcSecurityGroupIds": P(list),
        "DBParameterGroupName": P(str),
        "BackupRetentionPeriod": P(int, validator=int_range(0, 35)),
        "PreferredBackupWindow": P(str),
        "PreferredMaintenanceWindow": P(str),
        "DeletionProtection": P(bool, default=False),
        "PubliclyAccessible": P(bool, default=False),
        "AutoMinorVersionUpgrade": P(bool, default=True),
        "CopyTagsToSnapshot": P(bool, default=True),
        "EnablePerformanceInsights": P(bool),
        # Performance Insights keeps query texts and wait samples: the plan's key, not aws/rds (CKV_AWS_354).
        "PerformanceInsightsKMSKeyId": P(str, doc="KMS key ARN of the Performance Insights data; RDS keeps the "
                                                  "first key for good"),
        "PerformanceInsightsRetentionPeriod": P(int, validator=lambda v: None if v in PI_RETENTION else
                                                "must be 7, 731 or a number of months (1-23) times 31",
                                                doc="days of Performance Insights data (default 7)"),
        # Workloads log in with their IAM identity (rds-db:connect in the IRSA role), not a shared password.
        "EnableIAMDatabaseAuthentication": P(bool),
        # The audit trail and the OS view (CKV_AWS_129 / FSBP RDS.9, CKV_AWS_118 / FSBP RDS.6).
        "EnableCloudwatchLogsExports": P(list, doc="log types sent to CloudWatch Logs: postgresql, upgrade"),
        "MonitoringInterval": P(int, validator=one_of(0, 1, 5, 10, 15, 30, 60),
                                doc="enhanced monitoring every N seconds (0 = off); needs MonitoringRoleArn"),
        "MonitoringRoleArn": P(str, doc="role monitoring.rds.amazonaws.com assumes to write OS metrics"),
        "SourceDBInstanceIdentifier": P(str, doc="makes this a read replica of that instance"),
        "PromotedReplica": P(bool, doc="a former read replica, promoted when SourceDBInstanceIdentifier was "
                                       "removed: it keeps its former source's master user and database name"),
        "SkipFinalSnapshot": P(bool, default=True, doc="delete-time choice; False keeps a final snapshot"),
        "RebootForParameters": P(bool,
                                 doc="reboot when static parameters of its parameter group wait for one "
                                     "(pending-reboot); off: plan keeps showing them as not in effect"),
    }
    # What AWS cannot change on an instance (= Terraform's ForceNew, instance.go). ManageMasterUserPassword
    # and MasterUserSecretKmsKeyId change in place (update(): back on / re-keyed through an off-on cycle);
    # SourceDBInstanceIdentifier removed is a promotion (PromoteReadReplica), a new source is refused.
    replace_on = frozenset({"Engine", "StorageEncrypted", "KmsKeyId", "MasterUsername", "DBName",
                            "AvailabilityZone"})
    stateful = True
    refuse_on = {
        "PerformanceInsightsKMSKeyId": "RDS keeps the key Performance Insights was first turned on with, even "
                                       "after it is turned off (ModifyDBInstance answers InvalidParameterCombination "
                                       "\"You can't change your Performance Insights KMS key\"), and a replacement "
                                       "would destroy the database: keep the current key, or name the instance "
                                       "with --replace to rebuild it from a snapshot yourself",
        "SourceDBInstanceIdentifier": "an instance cannot gain a replication source or change it, and a "
                                      "replacement would destroy the database: remove it to promote the replica "
                                      "(PromoteReadReplica, in place), or name the instance with --replace",
        "DBSubnetGroupName": "RDS moves an instance to another DB subnet group only when that group is in "
                             "another VPC (in the same VPC ModifyDBInstance answers InvalidVPCNetworkStateFault), "
                             "and a replacement would destroy the database: change the SubnetIds of the "
                             "current DB subnet group instead (in place), or name the instance with "
                             "--replace to rebuild it from a snapshot yourself",
    }
    change_notes = {
        "PerformanceInsightsKMSKeyId": "set in place together with turning Performance Insights on for the first "
                                       "time; refused once it has been on with a key (aws/rds included): RDS keeps "
                                       "that key (hashicorp/terraform-provider-aws#9746, #44046); CloudFormation "
                                       "lists it updatable",
        "DBSubnetGroupName": "CloudFormation createOnly; ModifyDBInstance only moves to another VPC: refused",
        "ManageMasterUserPassword": "ModifyDBInstance turns it back on (Terraform in place)",
        "MasterUserSecretKmsKeyId": "re-keyed in place: management off with a one-time password, then on "
                                    "with the new key (botocore ModifyDBInstance.MasterUserSecretKmsKeyId)",
        "SourceDBInstanceIdentifier": "removed: PromoteReadReplica (Terraform); a new source is refused",
        "Engine": "replace: ModifyDBInstance has no Engine parameter (Terraform engine ForceNew); CloudFormation "
                  "lists it updatable for the conversions it makes by restoring a snapshot",
        "AvailabilityZone": "replace: ModifyDBInstance cannot move a Single-AZ instance (Terraform availability_zone "
                            "ForceNew); MultiAZ is the in-place way to another AZ",
        "AllocatedStorage": "grows in place (with Iops where AWS requires it); RDS cannot shrink storage",
    }
    write_only = frozenset({"SkipFinalSnapshot", "PromotedReplica", "RebootForParameters"})
    outputs = ("DBInstanceIdentifier", "Arn", "Address", "Port", "Endpoint", "MasterUserSecretArn",
               "DbiResourceId")
    # A storage change within RDS's optimization of the previous one is refused until it ends (up to
    # hours; Terraform instance.go dbInstanceModify retries it for the update timeout).
    retries = (Retry("InvalidParameterCombination", "previous storage change is being optimized", 4800.0,
                     frozenset({"update"}), "TF rds/instance.go dbInstanceModify: storage optimization"),)
    not_found = ("DBInstanceNotFound", "DBInstanceNotFoundFault")
    timeouts = {"create": 3600, "update": 3600, "delete": 3600}
    # AWS's "DB instance status" page: states RDS cannot recover from without a new instance (botocore's
    # DBInstanceAvailable stops on the first three only: resources/waiters/rds.json DBInstanceCreated stops on
    # all), and the stages of a create under way.
    failed_states = frozenset({"failed", "incompatible-parameters", "incompatible-restore", "incompatible-network",
                               "inaccessible-encryption-credentials"})
    creating_states = frozenset({"creating", "backing-up", "configuring-enhanced-monitoring",
                                 "configuring-iam-database-auth", "configuring-log-exports", "modifying"})

    @property
    def is_replica(self) -> bool:
        return self.properties.get("SourceDBInstanceIdentifier") is not None

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        if (props.get("PerformanceInsightsKMSKeyId") or props.get("PerformanceInsightsRetentionPeriod")) \
                and not props.get("EnablePerformanceInsights"):
            raise PlanError(f"{where}: PerformanceInsightsKMSKeyId and PerformanceInsightsRetentionPeriod need "
                            "EnablePerformanceInsights=True")
        if bool(props.get("MonitoringInterval")) != bool(props.get("MonitoringRoleArn")):
            # AWS refuses either without the other (InvalidParameterCombination), after the create began.
            raise PlanError(f"{where}: MonitoringInterval above 0 and MonitoringRoleArn go together")
        if props.get("SourceDBInstanceIdentifier") is not None:
            given = sorted(k for k in _PRIMARY_ONLY if props.get(k) is not None)
            if given:
                raise PlanError(f"{where}: a read replica inherits {', '.join(given)} from its source; "
                                "declare them on the source instance")
            return
        if props.get("PromotedReplica"):
            # PromoteReadReplica keeps what the replica inherited: there is no master user to declare.
            return
        if props.get("MasterUsername") is None:
            raise PlanError(f"{where}: a primary instance needs MasterUsername (to promote a read replica, "
                            "remove SourceDBInstanceIdentifier and declare PromotedReplica=True instead)")
        if props.get("AllocatedStorage") is None:
            raise PlanError(f"{where}: a primary instance needs AllocatedStorage")
        if props.setdefault("ManageMasterUserPassword", True) is not True:
            raise PlanError(f"{where}: ManageMasterUserPassword must be True: the master password lives in "
                            "Secrets Manager, managed by RDS, never in this tool's state")
        if props.get("KmsKeyId") is not None and props.get("StorageEncrypted") is False:
            raise PlanError(f"{where}: KmsKeyId needs StorageEncrypted=True")

    # -- helpers ---------------------------------------------------------------

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        db = self.describe_first(ctx, "describe_db_instances", "DBInstances", DBInstanceIdentifier=physical_id)
        return db if db is not None and db.get("DBInstanceStatus") not in ("deleted",) else None

    def arn_of(self, item: dict[str, Any]) -> str:
        return item["DBInstanceArn"]

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        item = self.describe_one(ctx, self.ident(ctx))
        if item is not None and item.get("DBInstanceStatus") == "deleting":
            return None  # going away: nothing to adopt
        return super().find(ctx)

    # -- contract --------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        rds = ctx.client("rds")
        name = self.ident(ctx)
        if props.get("PromotedReplica") and props.get("SourceDBInstanceIdentifier") is None:
            raise ResourceError(f"{ctx.address}: a promoted read replica cannot be created anew (it has no master "
                                "user of its own): declare MasterUsername and drop PromotedReplica")
        if props.get("SourceDBInstanceIdentifier") is not None:
            params = {k: props[k] for k in _REPLICA_CREATE if props.get(k) is not None}
            rds.create_db_instance_read_replica(
                DBInstanceIdentifier=name, SourceDBInstanceIdentifier=props["SourceDBInstanceIdentifier"],
                Tags=tag_list(ctx.tags), **params)
        else:
            skip = {"SourceDBInstanceIdentifier", "SkipFinalSnapshot", "PromotedReplica", "RebootForParameters"}
            params = {k: v for k, v in props.items() if k not in skip and v is not None}
            rds.create_db_instance(DBInstanceIdentifier=name, Tags=tag_list(ctx.tags), **params)
        self.wait_created(ctx, name)
        return name, self.outputs_of(ctx, name)

    def state(self, ctx: Ctx, physical_id: str) -> tuple[str, str] | None:
        db = self.describe_one(ctx, physical_id)
        if db is None:
            return None
        infos = "; ".join(f"{i.get('StatusType')} {i.get('Status')}: {i.get('Message')}"
                          for i in db.get("StatusInfos") or [] if i.get("Message"))
        return db.get("DBInstanceStatus", ""), infos or "RDS gives no reason here: see `aws rds describe-events`"

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        db = self.describe_one(ctx, physical_id) or {}
        ep = db.get("Endpoint") or {}
        address, port = ep.get("Address"), ep.get("Port")
        return {
            "DBInstanceIdentifier": physical_id,
            "Arn": db.get("DBInstanceArn"),
            "Address": address,
            "Port": port,
            "Endpoint": f"{address}:{port}" if address else None,
            "MasterUserSecretArn": (db.get("MasterUserSecret") or {}).get("SecretArn"),
            "DbiResourceId": db.get("DbiResourceId"),
        }

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        db = self.describe_one(ctx, physical_id)
        if db is None:
            return None
        declared_version = self.properties.get("EngineVersion")
        version = db.get("EngineVersion")
        if isinstance(declared_version, str) and isinstance(version, str) \
                and version.startswith(declared_version + "."):
            version = declared_version  # "16" declared, "16.4" running: the same choice
        elif isinstance(declared_version, str) and isinstance(version, str) and db.get("AutoMinorVersionUpgrade") \
                and version.split(".")[0] == declared_version.split(".")[0] \
                and _version(version) > _version(declared_version):
            # "16.3" declared, RDS upgraded the minor itself (AutoMinorVersionUpgrade): not drift to "repair"
            # (that would ask for a downgrade, which RDS refuses).
            version = declared_version
        secret = db.get("MasterUserSecret") or {}
        storage = db.get("AllocatedStorage")
        declared_storage = self.properties.get("AllocatedStorage")
        if isinstance(declared_storage, int) and isinstance(storage, int) and storage > declared_storage \
                and (db.get("MaxAllocatedStorage") or _rounded_up(declared_storage) >= storage):
            # Grown by storage autoscaling, or by RDS's round-up of a small increase: what was declared,
            # not drift (a "repair" would ask RDS to shrink, which it cannot; Terraform suppresses it too).
            storage = declared_storage
        pgs = [g["DBParameterGroupName"] + (PENDING_REBOOT if g.get("ParameterApplyStatus") == "pending-reboot" else "")
               for g in db.get("DBParameterGroups", [])]
        out: dict[str, Any] = {
            "Engine": db.get("Engine"),
            "EngineVersion": version,
            "DBInstanceClass": db.get("DBInstanceClass"),
            "AllocatedStorage": storage,
            "MaxAllocatedStorage": db.get("MaxAllocatedStorage"),
            "StorageType": db.get("StorageType"),
            "Iops": db.get("Iops"),
            "StorageEncrypted": db.get("StorageEncrypted"),
            "KmsKeyId": db.get("KmsKeyId"),
            "MultiAZ": db.get("MultiAZ"),
            "AvailabilityZone": db.get("AvailabilityZone"),
            "MasterUsername": db.get("MasterUsername"),
            "ManageMasterUserPassword": bool(secret),
            "MasterUserSecretKmsKeyId": secret.get("KmsKeyId"),
            "DBName": db.get("DBName"),
            "Port": (db.get("Endpoint") or {}).get("Port") or db.get("DbInstancePort"),
            "DBSubnetGroupName": (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
            "VpcSecurityGroupIds": [g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])],
            "DBParameterGroupName": pgs[0] if pgs else None,
            "BackupRetentionPeriod": db.get("BackupRetentionPeriod"),
            "PreferredBackupWindow": db.get("PreferredBackupWindow"),
            "PreferredMaintenanceWindow": db.get("PreferredMaintenanceWindow"),
            "DeletionProtection": db.get("DeletionProtection"),
            "PubliclyAccessible": db.get("PubliclyAccessible"),
            "AutoMinorVersionUpgrade": db.get("AutoMinorVersionUpgrade"),
            "CopyTagsToSnapshot": db.get("CopyTagsToSnapshot"),
            "EnablePerformanceInsights": db.get("PerformanceInsightsEnabled"),
            "PerformanceInsightsKMSKeyId": db.get("PerformanceInsightsKMSKeyId"),
            "PerformanceInsightsRetentionPeriod": db.get("PerformanceInsightsRetentionPeriod"),
            "EnableIAMDatabaseAuthentication": db.get("IAMDatabaseAuthenticationEnabled"),
            "EnableCloudwatchLogsExports": self._declared_order(db.get("EnabledCloudwatchLogsExports") or None),
            "MonitoringInterval": db.get("MonitoringInterval") or None,
            "MonitoringRoleArn": db.get("MonitoringRoleArn"),
            "SourceDBInstanceIdentifier": db.get("ReadReplicaSourceDBInstanceIdentifier"),
        }
        if out["SourceDBInstanceIdentifier"] is not None:
            for k in _PRIMARY_ONLY:
                out.pop(k, None)
        return {k: v for k, v in out.items() if v is not None}

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        """A storage shrink and a new replication source are refused as well: AWS can do neither, and a
        replacement would destroy the database."""
        changed = list(changed)
        where = f"{self.type_name} {self.name!r}"
        before, after = old.get("AllocatedStorage"), new.get("AllocatedStorage")
        if "AllocatedStorage" in changed and isinstance(before, int) and isinstance(after, int) and after < before:
            return (f"{where}: AllocatedStorage {after} GiB is less than the {before} GiB the instance has; RDS "
                    "cannot shrink storage (ModifyDBInstance refuses it) and a replacement would destroy the "
                    f"database: declare {before} or more")
        if "PerformanceInsightsKMSKeyId" in changed and not old.get("PerformanceInsightsKMSKeyId") \
                and not old.get("EnablePerformanceInsights"):
            changed = [k for k in changed if k != "PerformanceInsightsKMSKeyId"]  # chosen as PI is turned on
        if "SourceDBInstanceIdentifier" in changed and old.get("SourceDBInstanceIdentifier") is not None \
                and new.get("SourceDBInstanceIdentifier") is not None:
            return (f"{where}: a read replica cannot change its source database (from "
                    f"{old['SourceDBInstanceIdentifier']} to {new['SourceDBInstanceIdentifier']}); remove "
                    "SourceDBInstanceIdentifier to promote it, or name it with --replace to rebuild it")
        if old.get("SourceDBInstanceIdentifier") is not None and new.get("SourceDBInstanceIdentifier") is None:
            changed = [k for k in changed if k != "SourceDBInstanceIdentifier"]  # removed: a promotion, in place
        return super().refusal(old, new, changed)

    def _modify(self, ctx: Ctx, physical_id: str, **changes: Any) -> None:
        """One ModifyDBInstance: after any earlier modification, then until it has shown and cleared."""
        # RDS refuses a modification while another runs: let any earlier one finish first.
        ctx.wait("rds", "DBInstanceModified", timeout_key="update", DBInstanceIdentifier=physical_id)
        ctx.client("rds").modify_db_instance(DBInstanceIdentifier=physical_id, ApplyImmediately=True, **changes)
        # The status may read "available" for a moment after the call: wait for `modifying` to show
        # and clear, and for nothing to be left pending (the new class, storage... applied).
        ctx.wait_change("rds", "DBInstanceModifying", "DBInstanceModified", DBInstanceIdentifier=physical_id)

    def _declared_order(self, seen: list[str] | None) -> list[str] | None:
        """AWS lists the exported log types in its own order: the same set as declared reads as declared."""
        declared = self.properties.get("EnableCloudwatchLogsExports")
        if seen is not None and isinstance(declared, list) and set(declared) == set(seen):
            return list(declared)
        return seen

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        pending = str(old.get("DBParameterGroupName") or "").endswith(PENDING_REBOOT)
        old = dict(old, DBParameterGroupName=str(old.get("DBParameterGroupName") or "").removesuffix(PENDING_REBOOT)
                   or None)
        changes: dict[str, Any] = {param: new.get(prop) for prop, param in _MODIFY.items()
                                   if new.get(prop) != old.get(prop) and new.get(prop) is not None}
        if "MonitoringInterval" in old and not new.get("MonitoringInterval"):
            changes["MonitoringInterval"] = 0  # turning enhanced monitoring off
        was, now = set(old.get("EnableCloudwatchLogsExports") or []), set(new.get("EnableCloudwatchLogsExports") or [])
        if was != now:
            # ModifyDBInstance takes the difference, not the list.
            changes["CloudwatchLogsExportConfiguration"] = {"EnableLogTypes": sorted(now - was),
                                                            "DisableLogTypes": sorted(was - now)}
        if any(_MODIFY[k] in changes for k in _PI) and new.get("EnablePerformanceInsights"):
            # Performance Insights settings go together: RDS reads EnablePerformanceInsights without a key as
            # "the default key" and refuses it on an instance with its own (terraform-provider-aws#44046).
            changes.update({_MODIFY[k]: new[k] for k in _PI if new.get(k) is not None})
        if "EngineVersion" in changes and str(old.get("EngineVersion") or "").split(".")[0] \
                != str(new["EngineVersion"]).split(".")[0]:
            changes["AllowMajorVersionUpgrade"] = True
        live = self.describe_one(ctx, physical_id) or {}
        for prop, reset in _RESET.items():
            if old.get(prop) is not None and new.get(prop) is None:
                changes[_MODIFY[prop]] = reset(new, live)  # removed from the plan: AWS's default again
        if old.get("SourceDBInstanceIdentifier") is not None and new.get("SourceDBInstanceIdentifier") is None \
                and live.get("ReadReplicaSourceDBInstanceIdentifier") is not None:
            self._promote(ctx, physical_id, new, changes)
            live = self.describe_one(ctx, physical_id) or {}
        if "AllocatedStorage" in changes:
            self._storage(ctx, live, new, changes)
        if changes:
            self._modify(ctx, physical_id, **changes)
        if not self.is_replica:
            self._master_secret(ctx, physical_id, live, old, new)
        if pending and "DBParameterGroupName" not in changes and new.get("RebootForParameters"):
            # Static parameters take effect only with a reboot (a short outage): asked for by the plan.
            ctx.wait("rds", "DBInstanceModified", timeout_key="update", DBInstanceIdentifier=physical_id)
            ctx.client("rds").reboot_db_instance(DBInstanceIdentifier=physical_id)
            ctx.wait("rds", "DBInstanceModified", timeout_key="update", DBInstanceIdentifier=physical_id)
        return self.synced_outputs(ctx, physical_id)

    def _promote(self, ctx: Ctx, physical_id: str, new: Mapping[str, Any], changes: dict[str, Any]) -> None:
        """PromoteReadReplica (what Terraform does when replicate_source_db is removed): the replica becomes
        a standalone instance with its data; the backup settings go with the call, the rest follows."""
        params = {k: changes.pop(k) for k in ("BackupRetentionPeriod", "PreferredBackupWindow") if k in changes}
        ctx.wait("rds", "DBInstanceModified", timeout_key="update", DBInstanceIdentifier=physical_id)
        ctx.client("rds").promote_read_replica(DBInstanceIdentifier=physical_id, **params)
        ctx.wait_change("rds", "DBInstanceModifying", "DBInstanceModified", DBInstanceIdentifier=physical_id)

    @staticmethod
    def _storage(ctx: Ctx, live: Mapping[str, Any], new: Mapping[str, Any], changes: dict[str, Any]) -> None:
        """A storage change as RDS takes it: never below what the instance has (autoscaling may have
        grown it past the declaration), and with Iops where the volume has provisioned IOPS."""
        size = changes["AllocatedStorage"]
        sizes = [v for v in (live.get("AllocatedStorage"), (live.get("PendingModifiedValues") or {})
                             .get("AllocatedStorage")) if isinstance(v, int)]
        if sizes and size <= max(sizes):
            del changes["AllocatedStorage"]  # already that large (grown on its own): nothing to ask for
            return
        kind = new.get("StorageType") or live.get("StorageType")
        threshold = _GP3_THRESHOLD.get(str(new.get("Engine") or live.get("Engine")))
        provisioned = kind in ("io1", "io2") or (kind == "gp3" and (threshold is None or size >= threshold))
        if provisioned and "Iops" not in changes:
            iops = new.get("Iops") or live.get("Iops")
            if iops is None:
                raise ResourceError(f"{ctx.address}: growing {kind} storage to {size} GiB needs Iops (RDS "
                                    "requires it with the new size) and the instance reports none: declare Iops")
            changes["Iops"] = iops
        elif not provisioned and kind == "gp3":
            changes.pop("Iops", None)  # below the gp3 threshold RDS refuses an Iops value

    def _master_secret(self, ctx: Ctx, physical_id: str, live: Mapping[str, Any], old: Mapping[str, Any],
                       new: Mapping[str, Any]) -> None:
        """The RDS-managed master secret as declared: turned back on where someone turned it off, and
        re-keyed where MasterUserSecretKmsKeyId changed.

        RDS cannot re-key a secret it manages; it can stop managing it (with a password we give it,
        random and forgotten at once) and manage a new one with the new key: the database stays, the
        secret's ARN changes (MasterUserSecretArn)."""
        if new.get("ManageMasterUserPassword") is not True:
            return
        secret = live.get("MasterUserSecret")
        key = new.get("MasterUserSecretKmsKeyId")
        rekey = key is not None and key != old.get("MasterUserSecretKmsKeyId")
        if secret and not rekey:
            return
        if secret:
            self._modify(ctx, physical_id, ManageMasterUserPassword=False,
                         MasterUserPassword=secrets.token_urlsafe(30))
        self._modify(ctx, physical_id, ManageMasterUserPassword=True,
                     **({"MasterUserSecretKmsKeyId": key} if key else {}))

    def delete(self, ctx: Ctx, physical_id: str) -> str | None:
        rds = ctx.client("rds")
        db = self.describe_one(ctx, physical_id)
        if db is None:
            return None
        kept = None
        if db.get("DBInstanceStatus") != "deleting":
            if db.get("DeletionProtection"):
                # Reached only past the planner's protect gate: the destroy was asked for explicitly.
                rds.modify_db_instance(DBInstanceIdentifier=physical_id, DeletionProtection=False,
                                       ApplyImmediately=True)
            replica = db.get("ReadReplicaSourceDBInstanceIdentifier") is not None
            if replica or self.properties.get("SkipFinalSnapshot", True):
                final: dict[str, Any] = {"SkipFinalSnapshot": True, "DeleteAutomatedBackups": True}
            else:
                stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
                final = {"SkipFinalSnapshot": False, "DeleteAutomatedBackups": False,
                         "FinalDBSnapshotIdentifier": f"{physical_id}-final-{stamp}"[:255]}
                kept = (f"final snapshot {final['FinalDBSnapshotIdentifier']} and the automated backups kept in "
                        f"{ctx.region} (account {ctx.account_id}), encrypted with {db.get('KmsKeyId') or 'no key'}; "
                        "restore with RestoreDBInstanceFromDBSnapshot")
            self.ignore_gone(rds.delete_db_instance, DBInstanceIdentifier=physical_id, **final)
        ctx.wait("rds", "DBInstanceDeleted", timeout_key="delete", DBInstanceIdentifier=physical_id)
        return kept


# --------------------------------------------------------------------------- event subscriptions

EVENT_SOURCE_TYPES = ("db-instance", "db-cluster", "db-parameter-group", "db-security-group", "db-snapshot",
                      "db-cluster-snapshot", "db-proxy", "blue-green-deployment", "custom-engine-version")


class EventSubscription(RdsResource):
    """RDS event notifications (failover, failure, maintenance, configuration change...) sent to an SNS topic.

    RDS publishes as events.rds.amazonaws.com: the topic's policy must let that principal publish, and a
    KMS-encrypted topic's key policy let it encrypt (both the plan's business). Topic, categories and Enabled
    change in place (ModifyEventSubscription), sources by Add/RemoveSourceIdentifierToSubscription; only the
    name means a new subscription. SourceIds left out means every source of the type in the account and
    region, other envs' included.
    """

    type_name = "rds.EventSubscription"
    label = "RDS event subscription"
    arn_kind = ("rds", "es")
    props = {
        "SnsTopicArn": P(str, required=True),
        "SourceType": P(str, required=True, validator=one_of(*EVENT_SOURCE_TYPES)),
        "SourceIds": P(list, doc="identifiers of the sources (DB instance identifiers...); none: all of the type"),
        "EventCategories": P(list, doc="none: every category of the source type"),
        "Enabled": P(bool, default=True),
    }
    outputs = ("SubscriptionName", "Arn")
    not_found = ("SubscriptionNotFound", "SubscriptionNotFoundFault")
    unordered = frozenset({"SourceIds", "EventCategories"})
    change_notes = {"SourceIds": "in place: AddSourceIdentifierToSubscription / RemoveSourceIdentifierFromSubscription",
                    "SnsTopicArn": "in place: ModifyEventSubscription SnsTopicArn (Terraform event_subscription.go "
                                   "updates sns_topic); CloudFormation replaces the subscription",
                    "SourceType": "in place: ModifyEventSubscription (Terraform event_subscription.go updates it); "
                                  "CloudFormation replaces the subscription"}

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        return self.describe_first(ctx, "describe_event_subscriptions", "EventSubscriptionsList",
                                   SubscriptionName=physical_id)

    def arn_of(self, item: dict[str, Any]) -> str:
        return item["EventSubscriptionArn"]

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.ident(ctx)
        params = {k: props[k] for k in ("SnsTopicArn", "SourceType", "SourceIds", "EventCategories", "Enabled")
                  if props.get(k) is not None}
        ctx.client("rds").create_event_subscription(SubscriptionName=name, Tags=tag_list(ctx.tags), **params)
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        item = self.describe_one(ctx, physical_id) or {}
        return {"SubscriptionName": physical_id, "Arn": item.get("EventSubscriptionArn")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        item = self.describe_one(ctx, physical_id)
        if item is None:
            return None
        out = {"SnsTopicArn": item.get("SnsTopicArn"), "SourceType": item.get("SourceType"),
               "SourceIds": list(item.get("SourceIdsList") or []) or None,
               "EventCategories": list(item.get("EventCategoriesList") or []) or None,
               "Enabled": item.get("Enabled")}
        return {k: v for k, v in out.items() if v is not None}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        rds = ctx.client("rds")
        modify = {k: new[k] for k in ("SnsTopicArn", "SourceType", "Enabled") if new.get(k) != old.get(k)}
        if set(new.get("EventCategories") or []) != set(old.get("EventCategories") or []):
            modify["EventCategories"] = list(new.get("EventCategories") or [])
        if modify:
            rds.modify_event_subscription(SubscriptionName=physical_id, **modify)
        have, want = set(old.get("SourceIds") or []), set(new.get("SourceIds") or [])
        for ident in sorted(want - have):
            rds.add_source_identifier_to_subscription(SubscriptionName=physical_id, SourceIdentifier=ident)
        for ident in sorted(have - want):
            rds.remove_source_identifier_from_subscription(SubscriptionName=physical_id, SourceIdentifier=ident)
        return self.synced_outputs(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("rds").delete_event_subscription, SubscriptionName=physical_id)
