"""MSK (Amazon Managed Streaming for Apache Kafka) types: configuration, provisioned cluster, its policy, topics.

MSK identifies both by ARN (physical id) and names them at create time, so
find() lists by our deterministic name. A cluster allows one operation at a
time and every update call must quote the cluster's CurrentVersion, so
update() runs the needed operations one after another, re-reading the
version and waiting for each operation (its ClusterOperationArn) to complete
between them (resources/waiters/kafka.json: AWS ships no MSK waiters).

Nested properties follow the boto3 shapes (BrokerNodeGroupInfo,
EncryptionInfo, ClientAuthentication, ConfigurationInfo). AWS answers with
more keys than a plan declares (defaults such as Unauthenticated or
BrokerAZDistribution), so read() reports each nested value restricted to the
keys the plan declares: a default AWS adds is not drift.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from core.errors import PlanError
from resources.base import Ctx, Durations, P, Resource, ResourceError, int_range, one_of, tag_changes


def normalise_properties(text: str) -> str:
    """server.properties as AWS keeps it, minus layout: one `key=value` per line, no blanks or comments."""
    lines = (ln.strip() for ln in text.replace("\r\n", "\n").split("\n"))
    return "\n".join(ln for ln in lines if ln and not ln.startswith("#"))


def project(actual: Any, declared: Any) -> Any:
    """`actual` restricted to the dict keys present in `declared` (recursively); lists and scalars as is."""
    if isinstance(declared, dict) and isinstance(actual, dict):
        return {k: project(actual[k], v) for k, v in declared.items() if k in actual}
    return actual


class KafkaResource(Resource):
    """MSK types share tagging by ARN (Tags is a plain map) and list-by-name find."""

    service = "kafka"
    not_found = ("NotFoundException",)

    def sync_tags(self, ctx: Ctx, arn: str) -> None:
        kafka = ctx.client("kafka")
        have = kafka.list_tags_for_resource(ResourceArn=arn).get("Tags") or {}
        stale, changed = tag_changes(have, ctx.tags)
        if stale:
            kafka.untag_resource(ResourceArn=arn, TagKeys=stale)
        if changed:
            kafka.tag_resource(ResourceArn=arn, Tags=changed)


# --------------------------------------------------------------------------- configuration


class Configuration(KafkaResource):
    """A named MSK configuration (server.properties). Changing the text makes a new revision.

    AWS does not tag configurations through CreateConfiguration, so find()
    relies on the deterministic name alone (names are unique per account and
    region). Clusters refer to `Arn` and `LatestRevision`, so a new revision
    flows to them through the graph as an update_cluster_configuration.
    """

    type_name = "kafka.Configuration"
    label = "MSK configuration"
    arn_kind = ("kafka", "configuration")
    props = {
        "KafkaVersions": P(list, required=True),
        "ServerProperties": P(str, required=True),
        "Description": P(str, default="Kafka broker configuration managed by genai-infra"),
    }
    replace_on = frozenset({"KafkaVersions"})
    # D1 (issue 13): a configuration in use cannot be deleted ("Configuration is in use by one or more
    # clusters"), so the new one is made first, the cluster moved to it, and only then the old one goes.
    replace_order = "create_first"
    change_notes = {"KafkaVersions": "CreateConfiguration fixes it (CFN createOnly KafkaVersionsList); the "
                                     "replacement is made before the old one is deleted, which AWS refuses "
                                     "while a cluster uses it"}
    outputs = ("Arn", "Name", "LatestRevision")
    timeouts = {"create": 300, "update": 300, "delete": 300}

    def validate(self, props: dict[str, Any]) -> None:
        text = props.get("ServerProperties")
        if isinstance(text, str):
            norm = normalise_properties(text)
            bad = [ln for ln in norm.split("\n") if "=" not in ln]
            if bad or not norm:
                raise PlanError(f"{self.type_name} {self.name!r}: ServerProperties needs key=value lines; "
                                f"bad: {bad or ['(empty)']}")
            props["ServerProperties"] = norm

    def _describe(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        cfg = self.ignore_gone(ctx.client("kafka").describe_configuration, Arn=arn)
        if cfg is None:
            return None
        return None if cfg.get("State") == "DELETING" else cfg

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = ctx.physical_name()
        resp = ctx.client("kafka").create_configuration(
            Name=name, Description=props["Description"], KafkaVersions=list(props["KafkaVersions"]),
            ServerProperties=props["ServerProperties"].encode())
        arn = resp["Arn"]
        ctx.wait("kafka", "ConfigurationActive", timeout_key="create", Arn=arn)
        return arn, self.outputs_of(ctx, arn)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        cfg = self._describe(ctx, physical_id) or {}
        return {"Arn": physical_id, "Name": cfg.get("Name"),
                "LatestRevision": (cfg.get("LatestRevision") or {}).get("Revision")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        cfg = self._describe(ctx, physical_id)
        if cfg is None:
            return None
        latest = cfg["LatestRevision"]
        rev = ctx.client("kafka").describe_configuration_revision(Arn=physical_id, Revision=latest["Revision"])
        text = rev["ServerProperties"]
        text = text.decode() if isinstance(text, bytes | bytearray) else str(text)
        return {"KafkaVersions": list(cfg.get("KafkaVersions") or []),
                "ServerProperties": normalise_properties(text),
                "Description": latest.get("Description") or cfg.get("Description")}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if old.get("ServerProperties") != new["ServerProperties"] or old.get("Description") != new["Description"]:
            # Each update is a new, immutable revision; clusters move to it by their own update.
            ctx.client("kafka").update_configuration(Arn=physical_id, Description=new["Description"],
                                                     ServerProperties=new["ServerProperties"].encode())
            ctx.wait("kafka", "ConfigurationActive", timeout_key="update", Arn=physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("kafka").delete_configuration, Arn=physical_id)
        ctx.wait("kafka", "ConfigurationDeleted", timeout_key="delete", Arn=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = ctx.physical_name()
        pages = ctx.client("kafka").get_paginator("list_configurations").paginate()
        for page in pages:
            for cfg in page.get("Configurations", []):
                if cfg.get("Name") == name and cfg.get("State") != "DELETING":
                    return cfg["Arn"], self.outputs_of(ctx, cfg["Arn"])
        return None


# --------------------------------------------------------------------------- cluster

_MONITORING = ("DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION")


class Cluster(KafkaResource):
    """A provisioned MSK cluster.

    In place (each its own MSK operation, in this order): connectivity,
    broker count (increase only), broker instance type, EBS volume size
    (increase only) and provisioned throughput, Kafka version, configuration
    revision, security (client authentication, client-broker encryption),
    enhanced monitoring; connectivity that turns multi-VPC on for a scheme
    goes after the security change that turns the scheme on. Client subnets,
    security groups, the AZ distribution, encryption at rest and in-cluster
    encryption need a new cluster (AWS cannot change them): the plan shows a
    replacement (replace_on_paths).

    Multi-VPC private connectivity (ConnectivityInfo.VpcConnectivity, what
    Firehose's PRIVATE MSK source needs) cannot be given to CreateCluster:
    create() turns it on with UpdateConnectivity once the cluster is ACTIVE.
    """

    type_name = "kafka.Cluster"
    stateful = True  # a replacement destroys its data (issue 13): apply refuses it unless named
    created_wait = ("ClusterActive", "ClusterArn")
    label = "MSK cluster"
    arn_kind = ("kafka", "cluster")
    durations = Durations(create=1500, update=900, delete=600)
    props = {
        "KafkaVersion": P(str, required=True),
        "NumberOfBrokerNodes": P(int, required=True),
        "BrokerNodeGroupInfo": P(dict, required=True, doc="InstanceType, ClientSubnets, SecurityGroups, StorageInfo"),
        "EncryptionInfo": P(dict),
        "ClientAuthentication": P(dict),
        "ConfigurationInfo": P(dict, doc="{'Arn': configuration ARN, 'Revision': int}"),
        "EnhancedMonitoring": P(str, default="DEFAULT", validator=one_of(*_MONITORING)),
        # Broker logs (CKV_AWS_80): without them a broker's errors and authorisation failures vanish.
        "LoggingInfo": P(dict, doc='{"BrokerLogs": {"CloudWatchLogs": {"Enabled": true, "LogGroup": name}}}'),
    }
    # CFN createOnly is EncryptionAtRest and InCluster, not the whole EncryptionInfo: ClientBroker changes
    # through UpdateSecurity (issue 13 B7). Client subnets, security groups and the AZ distribution are
    # fixed at create (A5, C4): a change needs a new cluster, planned as a replacement.
    replace_on_paths = frozenset({
        "EncryptionInfo.EncryptionAtRest", "EncryptionInfo.EncryptionInTransit.InCluster",
        "BrokerNodeGroupInfo.ClientSubnets", "BrokerNodeGroupInfo.SecurityGroups",
        "BrokerNodeGroupInfo.BrokerAZDistribution"})
    change_notes = {
        "EncryptionInfo": "only EncryptionAtRest and EncryptionInTransit.InCluster are fixed (replacement); "
                          "ClientBroker changes with UpdateSecurity",
        "BrokerNodeGroupInfo": "ClientSubnets, SecurityGroups and BrokerAZDistribution are fixed (replacement); "
                               "InstanceType, StorageInfo (size, provisioned throughput) and ConnectivityInfo "
                               "change with UpdateBrokerType, UpdateBrokerStorage and UpdateConnectivity",
    }
    # BootstrapBrokers: the string clients should use (IAM over TLS when enabled, else TLS, else plaintext).
    outputs = ("Arn", "ClusterName", "BootstrapBrokers", "BootstrapBrokerStringTls", "BootstrapBrokerStringSaslIam",
               "ZookeeperConnectString")
    timeouts = {"create": 7200, "update": 7200, "delete": 3600}
    failed_states = frozenset({"FAILED"})
    creating_states = frozenset({"CREATING"})
    fixed_broker_keys: ClassVar[tuple[str, ...]] = ("ClientSubnets", "SecurityGroups", "BrokerAZDistribution")

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        info = props.get("BrokerNodeGroupInfo")
        if isinstance(info, dict):
            missing = [k for k in ("InstanceType", "ClientSubnets") if k not in info]
            if missing:
                raise PlanError(f"{where}: BrokerNodeGroupInfo needs {', '.join(missing)}")
            subnets, n = info["ClientSubnets"], props.get("NumberOfBrokerNodes")
            if isinstance(subnets, list) and isinstance(n, int):
                if len(subnets) < 2:
                    raise PlanError(f"{where}: MSK needs client subnets in at least two Availability Zones")
                if n % len(subnets):
                    raise PlanError(f"{where}: NumberOfBrokerNodes={n} must be a multiple of the number of "
                                    f"client subnets ({len(subnets)}): brokers spread evenly across AZs")
        cfg = props.get("ConfigurationInfo")
        if isinstance(cfg, dict) and set(cfg) != {"Arn", "Revision"}:
            raise PlanError(f"{where}: ConfigurationInfo needs exactly Arn and Revision")
        wanted = vpc_schemes(info.get("ConnectivityInfo") if isinstance(info, dict) else None)
        if wanted:
            if isinstance(info, dict) and info.get("InstanceType") == "kafka.t3.small":
                raise PlanError(f"{where}: multi-VPC private connectivity (BrokerNodeGroupInfo.ConnectivityInfo."
                                "VpcConnectivity) is not supported on kafka.t3.small brokers (AWS MSK docs, "
                                "multi-VPC requirements); choose kafka.m7g.large or larger")
            have = auth_schemes(props.get("ClientAuthentication"))
            if have is not None and not wanted <= have:
                raise PlanError(f"{where}: multi-VPC private connectivity is asked for "
                                f"{', '.join(sorted(wanted - have))}, which ClientAuthentication does not turn "
                                "on; AWS allows it only for the cluster's own auth schemes")

    # -- helpers ---------------------------------------------------------------

    def _info(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("kafka").describe_cluster, ClusterArn=arn)
        return None if resp is None else resp["ClusterInfo"]

    def _operation(self, ctx: Ctx, arn: str, call: str, **params: Any) -> None:
        """One MSK operation against the current version, waited on by its ClusterOperationArn.

        The cluster may still read ACTIVE right after the call while the
        operation is PENDING, so its state is no sign of done; MSK refuses a
        second operation meanwhile (BadRequestException)."""
        ctx.wait("kafka", "ClusterActive", timeout_key="update", ClusterArn=arn)
        info = self._info(ctx, arn)
        if info is None:
            raise ResourceError(f"MSK cluster {arn} disappeared during an update")
        resp = getattr(ctx.client("kafka"), call)(ClusterArn=arn, CurrentVersion=info["CurrentVersion"], **params)
        if resp.get("ClusterOperationArn"):
            ctx.wait("kafka", "ClusterOperationComplete", timeout_key="update",
                     ClusterOperationArn=resp["ClusterOperationArn"])
        ctx.wait("kafka", "ClusterActive", timeout_key="update", ClusterArn=arn)

    # -- contract --------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        params = {k: v for k, v in props.items() if v is not None}
        # AWS refuses multi-VPC connectivity at create ("all vpcConnectivity auth schemes must be
        # disabled"): the cluster is made without it and it is turned on once the cluster is ACTIVE,
        # as Terraform's resourceClusterCreate does.
        info = dict(params["BrokerNodeGroupInfo"])
        connectivity = dict(info.get("ConnectivityInfo") or {})
        vpc = connectivity.pop("VpcConnectivity", None)
        if vpc is not None:
            if connectivity:
                info["ConnectivityInfo"] = connectivity
            else:
                info.pop("ConnectivityInfo")
            params["BrokerNodeGroupInfo"] = info
        resp = ctx.client("kafka").create_cluster(ClusterName=ctx.physical_name(max_len=64), Tags=dict(ctx.tags),
                                                  **params)
        arn = resp["ClusterArn"]
        self.wait_created(ctx, arn)
        if vpc_schemes({"VpcConnectivity": vpc}):
            self._operation(ctx, arn, "update_connectivity", ConnectivityInfo={"VpcConnectivity": vpc})
        return arn, self.outputs_of(ctx, arn)

    def state(self, ctx: Ctx, physical_id: str) -> tuple[str, str] | None:
        info = self._info(ctx, physical_id)
        if info is None:
            return None
        why = info.get("StateInfo") or {}
        return info.get("State", ""), ": ".join(x for x in (why.get("Code"), why.get("Message")) if x)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        info = self._info(ctx, physical_id) or {}
        brokers: dict[str, Any] = {}
        if info.get("State") == "ACTIVE":  # AWS answers BadRequest while brokers are not up
            brokers = ctx.client("kafka").get_bootstrap_brokers(ClusterArn=physical_id)
        return {
            "Arn": physical_id,
            "ClusterName": info.get("ClusterName"),
            "BootstrapBrokers": brokers.get("BootstrapBrokerStringSaslIam") or brokers.get("BootstrapBrokerStringTls")
            or brokers.get("BootstrapBrokerString"),
            "BootstrapBrokerStringTls": brokers.get("BootstrapBrokerStringTls"),
            "BootstrapBrokerStringSaslIam": brokers.get("BootstrapBrokerStringSaslIam"),
            "ZookeeperConnectString": info.get("ZookeeperConnectString"),
        }

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        info = self._info(ctx, physical_id)
        if info is None or info.get("State") == "DELETING":
            return None
        sw = info.get("CurrentBrokerSoftwareInfo") or {}
        declared = self.properties
        out: dict[str, Any] = {
            "KafkaVersion": sw.get("KafkaVersion"),
            "NumberOfBrokerNodes": info.get("NumberOfBrokerNodes"),
            "BrokerNodeGroupInfo": project(info.get("BrokerNodeGroupInfo") or {},
                                           declared.get("BrokerNodeGroupInfo") or {}),
            "EnhancedMonitoring": info.get("EnhancedMonitoring"),
        }
        logging = info.get("LoggingInfo")
        if logging and declared.get("LoggingInfo") is not None:
            want = declared["LoggingInfo"]
            out["LoggingInfo"] = project(logging, want) if isinstance(want, dict) else logging
        if sw.get("ConfigurationArn"):
            out["ConfigurationInfo"] = {"Arn": sw["ConfigurationArn"], "Revision": sw.get("ConfigurationRevision")}
        for key in ("EncryptionInfo", "ClientAuthentication"):
            if info.get(key) is not None:
                want = declared.get(key)
                out[key] = project(info[key], want) if isinstance(want, dict) else info[key]
        return {k: v for k, v in out.items() if v is not None}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        o_info, n_info = old.get("BrokerNodeGroupInfo") or {}, new["BrokerNodeGroupInfo"]
        fixed = [k for k in self.fixed_broker_keys if o_info.get(k) != n_info.get(k)]
        if fixed:
            raise ResourceError(f"{ctx.address}: MSK cannot change BrokerNodeGroupInfo.{', '.join(fixed)} of a "
                                "running cluster; replace it (infra apply --replace "
                                f"{ctx.address}) after moving its clients")
        o_n, n_n = old.get("NumberOfBrokerNodes"), new["NumberOfBrokerNodes"]
        if o_n is not None and n_n < o_n:
            raise ResourceError(f"{ctx.address}: MSK adds brokers in place but cannot remove them "
                                f"({o_n} -> {n_n}); replace the cluster to shrink it")
        o_vol, n_vol = _volume(o_info), _volume(n_info)
        if o_vol and n_vol and n_vol < o_vol:
            raise ResourceError(f"{ctx.address}: EBS broker storage only grows ({o_vol} -> {n_vol} GiB)")

        # Multi-VPC connectivity needs its auth scheme on first, and goes before a scheme is turned off.
        o_conn, n_conn = o_info.get("ConnectivityInfo"), n_info.get("ConnectivityInfo")
        conn_changed = n_conn is not None and n_conn != o_conn
        adds_scheme = vpc_schemes(n_conn) - vpc_schemes(o_conn)
        if conn_changed and not adds_scheme:
            self._operation(ctx, physical_id, "update_connectivity", ConnectivityInfo=n_conn)
        if n_n != o_n:
            self._operation(ctx, physical_id, "update_broker_count", TargetNumberOfBrokerNodes=n_n)
        if n_info.get("InstanceType") != o_info.get("InstanceType"):
            self._operation(ctx, physical_id, "update_broker_type", TargetInstanceType=n_info["InstanceType"])
        o_tp, n_tp = _throughput(o_info), _throughput(n_info)
        if n_vol and (n_vol != o_vol or (n_tp is not None and n_tp != o_tp)):
            volume: dict[str, Any] = {"KafkaBrokerNodeId": "All", "VolumeSizeGB": n_vol}
            if n_tp is not None:
                volume["ProvisionedThroughput"] = n_tp
            self._operation(ctx, physical_id, "update_broker_storage", TargetBrokerEBSVolumeInfo=[volume])
        cfg_changed = new.get("ConfigurationInfo") != old.get("ConfigurationInfo")
        if new["KafkaVersion"] != old.get("KafkaVersion"):
            extra = {"ConfigurationInfo": new["ConfigurationInfo"]} if new.get("ConfigurationInfo") else {}
            self._operation(ctx, physical_id, "update_cluster_kafka_version",
                            TargetKafkaVersion=new["KafkaVersion"], **extra)
            cfg_changed = False
        if cfg_changed and new.get("ConfigurationInfo"):
            self._operation(ctx, physical_id, "update_cluster_configuration",
                            ConfigurationInfo=new["ConfigurationInfo"])
        security: dict[str, Any] = {}
        if new.get("ClientAuthentication") != old.get("ClientAuthentication") and new.get("ClientAuthentication"):
            security["ClientAuthentication"] = new["ClientAuthentication"]
        o_broker, n_broker = _client_broker(old.get("EncryptionInfo")), _client_broker(new.get("EncryptionInfo"))
        if n_broker is not None and n_broker != o_broker:
            # Only ClientBroker: AWS refuses EncryptionAtRest and InCluster in UpdateSecurity (replace_on_paths).
            security["EncryptionInfo"] = {"EncryptionInTransit": {"ClientBroker": n_broker}}
        if security:
            self._operation(ctx, physical_id, "update_security", **security)
        if conn_changed and adds_scheme:
            self._operation(ctx, physical_id, "update_connectivity", ConnectivityInfo=n_conn)
        # One UpdateMonitoring carries both (MSK runs one operation at a time).
        monitoring = {k: new[k] for k in ("EnhancedMonitoring", "LoggingInfo")
                      if new.get(k) is not None and new.get(k) != old.get(k)}
        if monitoring:
            self._operation(ctx, physical_id, "update_monitoring", **monitoring)
        self.sync_tags(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        info = self._info(ctx, physical_id)
        if info is None:
            return
        if info.get("State") != "DELETING":
            self.ignore_gone(ctx.client("kafka").delete_cluster, ClusterArn=physical_id)
        ctx.wait("kafka", "ClusterDeleted", timeout_key="delete", ClusterArn=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = ctx.physical_name(max_len=64)
        pages = ctx.client("kafka").get_paginator("list_clusters").paginate(ClusterNameFilter=name)
        for page in pages:
            for info in page.get("ClusterInfoList", []):
                if info.get("ClusterName") != name or info.get("State") == "DELETING":
                    continue
                tags = info.get("Tags")
                if tags is None:  # AWS lists tags with each cluster; moto does not
                    tags = ctx.client("kafka").list_tags_for_resource(ResourceArn=info["ClusterArn"]).get("Tags")
                if (tags or {}).get("infra:address") == ctx.address:
                    return info["ClusterArn"], self.outputs_of(ctx, info["ClusterArn"])
        return None


_SCHEMES = {"Iam": ("Sasl", "Iam"), "Scram": ("Sasl", "Scram"), "Tls": ("Tls",)}


def _enabled(node: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return isinstance(node, dict) and node.get("Enabled") is True


def vpc_schemes(connectivity: Any) -> set[str]:
    """The auth schemes a ConnectivityInfo turns multi-VPC private connectivity on for."""
    vpc = connectivity.get("VpcConnectivity") if isinstance(connectivity, dict) else None
    auth = vpc.get("ClientAuthentication") if isinstance(vpc, dict) else None
    return {name for name, path in _SCHEMES.items() if _enabled(auth, path)}


def auth_schemes(auth: Any) -> set[str] | None:
    """The auth schemes a ClientAuthentication turns on (None when not known yet)."""
    if not isinstance(auth, dict):
        return None if auth is not None else set()
    out = {name for name, path in _SCHEMES.items() if name != "Tls" and _enabled(auth, path)}
    tls = auth.get("Tls")
    if isinstance(tls, dict) and (tls.get("Enabled") or tls.get("CertificateAuthorityArnList")):
        out.add("Tls")
    return out


def _client_broker(encryption: Any) -> str | None:
    transit = encryption.get("EncryptionInTransit") if isinstance(encryption, dict) else None
    value = transit.get("ClientBroker") if isinstance(transit, dict) else None
    return value if isinstance(value, str) else None


def _throughput(info: Any) -> dict[str, Any] | None:
    ebs = ((info.get("StorageInfo") or {}).get("EbsStorageInfo") or {}) if isinstance(info, dict) else {}
    tp = ebs.get("ProvisionedThroughput")
    return tp if isinstance(tp, dict) else None


def _volume(info: Any) -> int | None:
    if not isinstance(info, dict):
        return None
    size = ((info.get("StorageInfo") or {}).get("EbsStorageInfo") or {}).get("VolumeSize")
    return size if isinstance(size, int) else None


# --------------------------------------------------------------------------- cluster policy


class ClusterPolicy(KafkaResource):
    """The resource-based policy of an MSK cluster (one per cluster), e.g. letting Firehose connect privately.

    Firehose's PRIVATE MSK source needs it: a statement letting the
    firehose.amazonaws.com service principal call kafka:CreateVpcConnection on
    the cluster (Firehose docs, "Grant Firehose access to your private Amazon
    MSK cluster"). The cluster ARN is the physical id: AWS keys the policy by
    it, so find() reads the policy of the cluster the plan names. A change
    replaces the whole document with PutClusterPolicy, quoting the policy's
    CurrentVersion (optimistic concurrency).
    """

    type_name = "kafka.ClusterPolicy"
    label = "MSK cluster policy"
    props = {
        "ClusterArn": P(str, required=True),
        "Policy": P(dict, required=True, doc="IAM policy document (Version, Statement)"),
    }
    replace_on = frozenset({"ClusterArn"})
    outputs = ("ClusterArn", "CurrentVersion")
    timeouts = {"create": 300, "update": 300, "delete": 300}

    def validate(self, props: dict[str, Any]) -> None:
        policy = props.get("Policy")
        if isinstance(policy, dict) and not policy.get("Statement"):
            raise PlanError(f"{self.type_name} {self.name!r}: Policy needs a Statement")

    def _get(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        return self.ignore_gone(ctx.client("kafka").get_cluster_policy, ClusterArn=arn)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        arn = props["ClusterArn"]
        current = self._get(ctx, arn)  # a policy left by a crashed run is overwritten, not refused
        extra = {"CurrentVersion": current["CurrentVersion"]} if current and current.get("CurrentVersion") else {}
        resp = ctx.client("kafka").put_cluster_policy(ClusterArn=arn, Policy=json.dumps(props["Policy"]), **extra)
        return arn, {"ClusterArn": arn, "CurrentVersion": resp.get("CurrentVersion")}

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        got = self._get(ctx, physical_id) or {}
        return {"ClusterArn": physical_id, "CurrentVersion": got.get("CurrentVersion")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        got = self._get(ctx, physical_id)
        if not got or not got.get("Policy"):
            return None
        return {"ClusterArn": physical_id, "Policy": json.loads(got["Policy"])}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        _, outputs = self.create(ctx, new)
        return outputs

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("kafka").delete_cluster_policy, ClusterArn=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        arn = ctx.props.get("ClusterArn")
        if not isinstance(arn, str):
            return None
        got = self._get(ctx, arn)
        if not got or not got.get("Policy"):
            return None
        return arn, {"ClusterArn": arn, "CurrentVersion": got.get("CurrentVersion")}


# --------------------------------------------------------------------------- topic

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")  # Kafka's legal topic names
TOPIC_SEP = "|"


class Topic(KafkaResource):
    """A Kafka topic of an MSK provisioned cluster, made through MSK's topic API (no Kafka admin client).

    The brokers do not create topics on first use (the GenAI Demo's configuration has
    auto.create.topics.enable=false), so a topic Firehose or the app reads must be made. MSK's topic
    API needs an ACTIVE provisioned cluster on Kafka 3.6.0 or later (MSK Developer Guide, "Topic
    Operations"); the topic is CREATING, then ACTIVE (Terraform's aws_msk_topic waits for it,
    internal/service/kafka/topic.go). A topic is named by its cluster and its name, so the physical id is
    "<cluster ARN>|<topic name>" (what `infra import` takes); topics carry no tags, so find() adopts the
    topic of that name on that cluster. Its messages live in it: a replacement (another name, cluster or
    replication factor, which AWS fixes at create) loses them, and the old topic goes first, as the same
    name cannot exist twice on one cluster.

    Configs is a map of topic settings ({"retention.ms": "604800000"}); AWS takes and answers it as Base64
    JSON and answers every setting, its defaults too, so read() reports the keys the plan declares.
    """

    type_name = "kafka.Topic"
    label = "Kafka topic"
    stateful = True  # its messages: a replacement starts an empty topic
    replace_order = "delete_first"
    durations = Durations(create=30, update=30, delete=30)
    props = {
        "ClusterArn": P(str, required=True),
        "TopicName": P(str, required=True),
        "PartitionCount": P(int, required=True, validator=int_range(1, 200000)),
        "ReplicationFactor": P(int, required=True, validator=int_range(1, 32)),
        "Configs": P(dict, doc='topic settings, e.g. {"retention.ms": "604800000"}: Kafka names, string values'),
    }
    # CloudFormation AWS::MSK::Topic: ClusterArn, TopicName and ReplicationFactor are createOnly; UpdateTopic
    # takes only PartitionCount (more of them) and Configs.
    replace_on = frozenset({"ClusterArn", "TopicName", "ReplicationFactor"})
    change_notes = {"PartitionCount": "grows in place with UpdateTopic; a decrease is refused at plan time "
                                      "(Kafka cannot remove a topic's partitions)"}
    outputs = ("TopicArn", "TopicName", "ClusterArn")
    timeouts = {"create": 1800, "update": 1800, "delete": 1800}  # topic.go's defaults: 30 minutes each
    creating_states = frozenset({"CREATING"})

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        name = props.get("TopicName")
        if isinstance(name, str) and (not _TOPIC_NAME.match(name) or name in (".", "..")):
            raise PlanError(f"{where}: TopicName {name!r} is not a legal Kafka topic name (up to 249 of ASCII "
                            "letters, digits, '.', '_' and '-')")
        configs = props.get("Configs")
        if isinstance(configs, dict):
            bad = sorted(k for k, v in configs.items() if not isinstance(k, str) or not isinstance(v, str))
            if bad:
                raise PlanError(f"{where}: Configs values must be strings, as Kafka takes them; not: {bad}")

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        """Partitions are only ever added: fewer than the topic has is refused before any call."""
        a, b = old.get("PartitionCount"), new.get("PartitionCount")
        if "PartitionCount" in changed and isinstance(a, int) and isinstance(b, int) and b < a:
            return (f"{self.type_name} {self.address}: PartitionCount can only grow ({a} -> {b}); Kafka cannot "
                    "remove partitions. Keep the count, or --replace it (a new, empty topic)")
        return super().refusal(old, new, changed)

    # -- helpers ---------------------------------------------------------------

    @staticmethod
    def split(physical_id: str) -> tuple[str, str]:
        arn, _, name = physical_id.rpartition(TOPIC_SEP)
        if not arn or not name:
            raise ResourceError(f"kafka.Topic id {physical_id!r} is not '<cluster ARN>{TOPIC_SEP}<topic name>'")
        return arn, name

    def _describe(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        arn, name = self.split(physical_id)
        got = self.ignore_gone(ctx.client("kafka").describe_topic, ClusterArn=arn, TopicName=name)
        return None if got is None or got.get("Status") == "DELETING" else got

    @staticmethod
    def encode(configs: Mapping[str, str] | None) -> str:
        return base64.b64encode(json.dumps(dict(configs or {}), sort_keys=True).encode()).decode()

    @staticmethod
    def decode(raw: str | None) -> dict[str, str]:
        return dict(json.loads(base64.b64decode(raw))) if raw else {}

    def _outputs(self, physical_id: str, got: Mapping[str, Any]) -> dict[str, Any]:
        arn, name = self.split(physical_id)
        return {"TopicArn": got.get("TopicArn"), "TopicName": name, "ClusterArn": arn}

    # -- contract --------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        arn, name = props["ClusterArn"], props["TopicName"]
        extra = {"Configs": self.encode(props["Configs"])} if props.get("Configs") else {}
        ctx.client("kafka").create_topic(ClusterArn=arn, TopicName=name, PartitionCount=props["PartitionCount"],
                                         ReplicationFactor=props["ReplicationFactor"], **extra)
        pid = f"{arn}{TOPIC_SEP}{name}"
        self.wait_created(ctx, pid)
        return pid, self.outputs_of(ctx, pid)

    def wait_created(self, ctx: Ctx, physical_id: str) -> None:
        arn, name = self.split(physical_id)
        ctx.wait("kafka", "TopicActive", timeout_key="create", ClusterArn=arn, TopicName=name)

    def state(self, ctx: Ctx, physical_id: str) -> tuple[str, str] | None:
        got = self._describe(ctx, physical_id)
        return None if got is None else (got.get("Status", ""), "")

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return self._outputs(physical_id, self._describe(ctx, physical_id) or {})

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        got = self._describe(ctx, physical_id)
        if got is None:
            return None
        arn, name = self.split(physical_id)
        out: dict[str, Any] = {"ClusterArn": arn, "TopicName": name, "PartitionCount": got.get("PartitionCount"),
                               "ReplicationFactor": got.get("ReplicationFactor")}
        declared = self.properties.get("Configs")
        if isinstance(declared, dict) and declared:
            have = self.decode(got.get("Configs"))
            out["Configs"] = {k: have[k] for k in declared if k in have}
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        why = self.refusal(old, new, [k for k in new if old.get(k) != new.get(k)])
        if why:
            raise ResourceError(why)
        arn, name = self.split(physical_id)
        kafka = ctx.client("kafka")
        # One call per change: UpdateTopic takes either the partition count or the configs, not both.
        if (old.get("Configs") or {}) != (new.get("Configs") or {}):
            kafka.update_topic(ClusterArn=arn, TopicName=name, Configs=self.encode(new.get("Configs")))
            ctx.wait("kafka", "TopicActive", timeout_key="update", ClusterArn=arn, TopicName=name)
        if new["PartitionCount"] != old.get("PartitionCount"):
            kafka.update_topic(ClusterArn=arn, TopicName=name, PartitionCount=new["PartitionCount"])
            ctx.wait("kafka", "TopicActive", timeout_key="update", ClusterArn=arn, TopicName=name)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        arn, name = self.split(physical_id)
        self.ignore_gone(ctx.client("kafka").delete_topic, ClusterArn=arn, TopicName=name)
        ctx.wait("kafka", "TopicDeleted", timeout_key="delete", ClusterArn=arn, TopicName=name)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        arn, name = ctx.props.get("ClusterArn"), ctx.props.get("TopicName")
        if not isinstance(arn, str) or not isinstance(name, str):
            return None
        pid = f"{arn}{TOPIC_SEP}{name}"
        got = self._describe(ctx, pid)
        return None if got is None else (pid, self._outputs(pid, got))
