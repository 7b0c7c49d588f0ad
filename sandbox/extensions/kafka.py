"""MSK (kafka) fidelity: configurations, cluster lifecycle, updates, bootstrap brokers and topics.

moto 5.2.5 keeps clusters in CREATING forever, leaks a KeyError for unknown
clusters, and has no configurations, cluster updates, bootstrap brokers or
topic API (CreateTopic, DescribeTopic, ListTopics, UpdateTopic, DeleteTopic).
Shapes follow botocore's kafka model (wire names are camelCase; errors are
NotFoundException 404, BadRequestException 400, ConflictException 409).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from moto.kafka import urls as kafka_urls
from moto.kafka.models import FakeKafkaCluster, KafkaBackend, kafka_backends
from moto.kafka.responses import KafkaResponse

from sandbox import lifecycle
from sandbox.extensions import strict_modify
from sandbox.extensions._base import AwsJsonError, add_methods, add_urls, body, iso, now, store, token

KIND = "kafka.cluster"
TOPIC_KIND = "kafka.topic"


class NotFound(AwsJsonError):
    def __init__(self, message: str) -> None:
        super().__init__("NotFoundException", message, 404)


class BadRequest(AwsJsonError):
    def __init__(self, message: str) -> None:
        super().__init__("BadRequestException", message, 400)


class Conflict(AwsJsonError):
    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message, 409)


class TopicExists(AwsJsonError):
    def __init__(self, message: str) -> None:
        super().__init__("TopicExistsException", message, 409)


# -- backend ------------------------------------------------------------------------


def _configs(backend: KafkaBackend) -> dict[str, dict[str, Any]]:
    return store(backend, "kafka_configurations")


def _operations(backend: KafkaBackend) -> dict[str, dict[str, Any]]:
    return store(backend, "kafka_operations")


def _cluster(backend: KafkaBackend, arn: str) -> FakeKafkaCluster:
    cluster = backend.clusters.get(arn)
    if cluster is None:
        raise NotFound(f"The requested resource {arn} could not be found.")
    return cluster


def _config(backend: KafkaBackend, arn: str) -> dict[str, Any]:
    cfg = _configs(backend).get(arn)
    if cfg is None:
        raise NotFound(f"The specified configuration {arn} was not found.")
    return cfg


def _check_version(cluster: FakeKafkaCluster, current_version: str | None) -> None:
    if not current_version:
        raise BadRequest("currentVersion is required.")
    if current_version != cluster.current_version:
        raise BadRequest(f"The provided version {current_version} doesn't match the cluster's current "
                         f"version {cluster.current_version}.")


def _check_active(cluster: FakeKafkaCluster) -> None:
    if cluster.state != "ACTIVE":
        raise BadRequest(f"The cluster {cluster.arn} is in {cluster.state} state; "
                         "this operation requires an ACTIVE cluster.")


def _new_version() -> str:
    return token(14)


def _after_create(backend: KafkaBackend, cluster: FakeKafkaCluster) -> None:
    cluster.current_version = _new_version()
    cluster.creation_time = iso(now())
    cluster.zookeeper_connect_string = cluster.zookeeper_connect_string or ",".join(
        f"z-{i}.{cluster.cluster_name}.{cluster.cluster_id[:6]}.c2.kafka.{backend.region_name}.amazonaws.com:2181"
        for i in (1, 2, 3))
    cluster.zookeeper_connect_string_tls = cluster.zookeeper_connect_string.replace(":2181", ":2182")
    lifecycle.run(cluster, KIND, "create", ["CREATING"], "ACTIVE", attr="state")


def create_cluster(self: KafkaBackend, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    info = kwargs.get("configuration_info")
    if info:
        cfg = _config(self, info.get("arn", ""))
        if not any(r["revision"] == info.get("revision") for r in cfg["revisions"]):
            raise BadRequest(f"Revision {info.get('revision')} of configuration {info.get('arn')} does not exist.")
    result = original(self, *args, **kwargs)
    _after_create(self, self.clusters[result[0]])
    return (result[0], result[1], self.clusters[result[0]].state, *result[3:])


def create_cluster_v2(self: KafkaBackend, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    result = original(self, *args, **kwargs)
    _after_create(self, self.clusters[result[0]])
    return (result[0], result[1], self.clusters[result[0]].state, *result[3:])


def delete_cluster(self: KafkaBackend, original: Callable[..., Any], cluster_arn: str,
                   current_version: str | None = None) -> tuple[str, str]:
    cluster = _cluster(self, cluster_arn)
    if current_version and current_version != cluster.current_version:
        _check_version(cluster, current_version)
    if cluster.state == "DELETING":
        return cluster_arn, cluster.state
    original(self, cluster_arn, current_version)
    _topics(self).pop(cluster_arn, None)  # a cluster's topics live on its brokers: they go with it
    lifecycle.remove_later(self.clusters, cluster_arn, cluster, KIND, ["DELETING"], attr="state")
    return cluster_arn, "DELETING"


def describe_cluster(self: KafkaBackend, original: Callable[..., Any], cluster_arn: str) -> dict[str, Any]:
    _cluster(self, cluster_arn)
    info = original(self, cluster_arn)
    _fix_info(self, self.clusters[cluster_arn], info)
    return info


def describe_cluster_v2(self: KafkaBackend, original: Callable[..., Any], cluster_arn: str) -> dict[str, Any]:
    _cluster(self, cluster_arn)
    info = original(self, cluster_arn)
    if "provisioned" in info:
        _fix_info(self, self.clusters[cluster_arn], info["provisioned"])
    _fix_active_operation(self, self.clusters[cluster_arn], info)
    return info


def _fix_info(backend: KafkaBackend, cluster: FakeKafkaCluster, info: dict[str, Any]) -> None:
    """What moto fills with placeholders: configuration in use, active operation."""
    cfg = cluster.configuration_info or {}
    sw = info.get("currentBrokerSoftwareInfo")
    if sw is not None:
        if cfg:
            sw["configurationArn"] = cfg.get("arn")
            sw["configurationRevision"] = cfg.get("revision")
        else:
            sw.pop("configurationArn", None)
            sw.pop("configurationRevision", None)
    if "state" in info:
        info["state"] = cluster.state
        info.pop("stateInfo", None)  # moto's placeholder; AWS reports it for a FAILED cluster
        if cluster.state == "FAILED" and getattr(cluster, "state_info", None):
            info["stateInfo"] = dict(cluster.state_info)
    _fix_active_operation(backend, cluster, info)


def _fix_active_operation(backend: KafkaBackend, cluster: FakeKafkaCluster, info: dict[str, Any]) -> None:
    active = [op for op in _operations(backend).values()
              if op["clusterArn"] == cluster.arn and op["operationState"] == "UPDATE_IN_PROGRESS"]
    if active:
        info["activeOperationArn"] = active[-1]["operationArn"]
    else:
        info.pop("activeOperationArn", None)


def _operation(backend: KafkaBackend, cluster: FakeKafkaCluster, op_type: str,
               source: dict[str, Any], target: dict[str, Any], apply: Callable[[], None]) -> str:
    """Start a cluster operation: UPDATING (operation UPDATE_IN_PROGRESS) for its time, then ACTIVE.

    The operation is PENDING, and the cluster still ACTIVE, during the async-modify rule's lag."""
    strict_modify.refuse_if_busy(cluster, lambda: BadRequest(
        f"The request is invalid because the cluster {cluster.arn} is in UPDATING state: "
        "another cluster operation is in progress."))
    _check_active(cluster)
    arn = (f"arn:aws:kafka:{backend.region_name}:{backend.account_id}:cluster-operation/"
           f"{cluster.cluster_name}/{cluster.cluster_id}/{uuid.uuid4()}")
    op = {"operationArn": arn, "clusterArn": cluster.arn, "creationTime": iso(now()),
          "operationType": op_type, "operationState": "PENDING",
          "sourceClusterInfo": source, "targetClusterInfo": target}
    _operations(backend)[arn] = op
    cluster.current_version = _new_version()

    def set_state(state: str) -> None:
        cluster.state = state
        if state == "UPDATING":
            op["operationState"] = "UPDATE_IN_PROGRESS"
        else:
            apply()
            op["operationState"] = "UPDATE_COMPLETE"
            op["endTime"] = iso(now())

    strict_modify.start(cluster, KIND, ["UPDATING"], "ACTIVE", set_state)
    return arn


def update_broker_count(self: KafkaBackend, cluster_arn: str, current_version: str, target: int) -> str:
    cluster = _cluster(self, cluster_arn)
    _check_version(cluster, current_version)
    current = cluster.number_of_broker_nodes or 0
    azs = len((cluster.broker_node_group_info or {}).get("clientSubnets") or []) or 1
    if target == current:
        raise BadRequest(f"The cluster already has {current} broker nodes.")
    if target % azs:
        raise BadRequest(f"The number of broker nodes must be a multiple of the number of Availability "
                         f"Zones ({azs}).")
    if target < current:
        raise BadRequest("The number of broker nodes can only be increased with UpdateBrokerCount.")

    def apply() -> None:
        cluster.number_of_broker_nodes = target

    return _operation(self, cluster, "INCREASE_BROKER_COUNT", {"numberOfBrokerNodes": current},
                      {"numberOfBrokerNodes": target}, apply)


def _volume(cluster: FakeKafkaCluster) -> int:
    info = cluster.broker_node_group_info or {}
    return int(((info.get("storageInfo") or {}).get("ebsStorageInfo") or {}).get("volumeSize") or 1000)


def update_broker_storage(self: KafkaBackend, cluster_arn: str, current_version: str,
                          volumes: list[dict[str, Any]]) -> str:
    cluster = _cluster(self, cluster_arn)
    _check_version(cluster, current_version)
    if not volumes or "volumeSizeGB" not in volumes[0]:
        raise BadRequest("targetBrokerEBSVolumeInfo must give volumeSizeGB.")
    size = int(volumes[0]["volumeSizeGB"])
    current = _volume(cluster)
    if size < current or (size == current and not volumes[0].get("provisionedThroughput")):
        raise BadRequest(f"The new volume size {size} GiB must be larger than the current size {current} GiB.")
    if size > 16384:
        raise BadRequest("The volume size cannot exceed 16384 GiB.")

    def apply() -> None:
        info = cluster.broker_node_group_info = cluster.broker_node_group_info or {}
        ebs = info.setdefault("storageInfo", {}).setdefault("ebsStorageInfo", {})
        ebs["volumeSize"] = size
        if volumes[0].get("provisionedThroughput"):
            ebs["provisionedThroughput"] = volumes[0]["provisionedThroughput"]

    return _operation(self, cluster, "UPDATE_BROKER_STORAGE",
                      {"brokerEBSVolumeInfo": [{"kafkaBrokerNodeId": "All", "volumeSizeGB": current}]},
                      {"brokerEBSVolumeInfo": volumes}, apply)


def update_cluster_configuration(self: KafkaBackend, cluster_arn: str, current_version: str,
                                 info: dict[str, Any]) -> str:
    cluster = _cluster(self, cluster_arn)
    _check_version(cluster, current_version)
    cfg = _config(self, (info or {}).get("arn", ""))
    revision = info.get("revision")
    if not any(r["revision"] == revision for r in cfg["revisions"]):
        raise BadRequest(f"Revision {revision} of configuration {cfg['arn']} does not exist.")
    old = dict(cluster.configuration_info or {})

    def apply() -> None:
        cluster.configuration_info = {"arn": cfg["arn"], "revision": revision}

    return _operation(self, cluster, "UPDATE_CLUSTER_CONFIGURATION", {"configurationInfo": old} if old else {},
                      {"configurationInfo": {"arn": cfg["arn"], "revision": revision}}, apply)


def update_monitoring(self: KafkaBackend, cluster_arn: str, current_version: str,
                      changes: dict[str, Any]) -> str:
    cluster = _cluster(self, cluster_arn)
    _check_version(cluster, current_version)

    def apply() -> None:
        if "enhancedMonitoring" in changes:
            cluster.enhanced_monitoring = changes["enhancedMonitoring"]
        if "openMonitoring" in changes:
            cluster.open_monitoring = changes["openMonitoring"]
        if "loggingInfo" in changes:
            cluster.logging_info = changes["loggingInfo"]

    return _operation(self, cluster, "UPDATE_MONITORING", {}, changes, apply)


def get_bootstrap_brokers(self: KafkaBackend, cluster_arn: str) -> dict[str, str]:
    cluster = _cluster(self, cluster_arn)
    if cluster.state == "CREATING":
        raise Conflict(f"The cluster {cluster_arn} is still being created.")
    if cluster.state == "FAILED":
        raise BadRequest(f"The cluster {cluster_arn} is in FAILED state; it has no brokers.")
    n = min(cluster.number_of_broker_nodes or 3, 3)
    hosts = [f"b-{i}.{cluster.cluster_name}.{cluster.cluster_id[:6]}.c2.kafka.{self.region_name}.amazonaws.com"
             for i in range(1, n + 1)]
    transit = ((cluster.encryption_info or {}).get("encryptionInTransit") or {}).get("clientBroker", "TLS")
    auth = cluster.client_authentication or {}
    sasl = auth.get("sasl") or {}
    unauth = (auth.get("unauthenticated") or {}).get("enabled", not auth)
    out: dict[str, str] = {}

    def join(port: int) -> str:
        return ",".join(f"{h}:{port}" for h in hosts)

    if transit in ("PLAINTEXT", "TLS_PLAINTEXT") and unauth:
        out["bootstrapBrokerString"] = join(9092)
    if transit in ("TLS", "TLS_PLAINTEXT") and (unauth or (auth.get("tls") or {}).get("enabled")):
        out["bootstrapBrokerStringTls"] = join(9094)
    if (sasl.get("scram") or {}).get("enabled"):
        out["bootstrapBrokerStringSaslScram"] = join(9096)
    if (sasl.get("iam") or {}).get("enabled"):
        out["bootstrapBrokerStringSaslIam"] = join(9098)
    # Multi-VPC private connectivity (extensions/strict_msk.py turns it on): one string per scheme on it.
    vpc = (((cluster.broker_node_group_info or {}).get("connectivityInfo") or {}).get("vpcConnectivity") or {})
    vpc_auth = vpc.get("clientAuthentication") or {}
    for key, node, port in (("SaslIam", (vpc_auth.get("sasl") or {}).get("iam"), 14001),
                            ("SaslScram", (vpc_auth.get("sasl") or {}).get("scram"), 14002),
                            ("Tls", vpc_auth.get("tls"), 14003)):
        if (node or {}).get("enabled"):
            out[f"bootstrapBrokerStringVpcConnectivity{key}"] = join(port)
    return out


def create_configuration(self: KafkaBackend, name: str, description: str | None, kafka_versions: list[str],
                         server_properties: str) -> dict[str, Any]:
    if not name or not server_properties:
        raise BadRequest("name and serverProperties are required.")
    if any(c["name"] == name for c in _configs(self).values()):
        raise Conflict(f"A configuration named {name} already exists.")
    arn = f"arn:aws:kafka:{self.region_name}:{self.account_id}:configuration/{name}/{uuid.uuid4()}-2"
    created = iso(now())
    cfg = {"arn": arn, "name": name, "description": description or "", "kafkaVersions": kafka_versions or [],
           "state": "ACTIVE", "creationTime": created,
           "revisions": [{"revision": 1, "creationTime": created, "description": description or "",
                          "serverProperties": server_properties}]}
    _configs(self)[arn] = cfg
    return cfg


def update_configuration(self: KafkaBackend, arn: str, description: str | None,
                         server_properties: str) -> dict[str, Any]:
    cfg = _config(self, arn)
    if not server_properties:
        raise BadRequest("serverProperties is required.")
    rev = {"revision": cfg["revisions"][-1]["revision"] + 1, "creationTime": iso(now()),
           "description": description if description is not None else cfg["revisions"][-1]["description"],
           "serverProperties": server_properties}
    cfg["revisions"].append(rev)
    return cfg


def delete_configuration(self: KafkaBackend, arn: str) -> dict[str, Any]:
    _config(self, arn)
    users = [c.arn for c in self.clusters.values() if (c.configuration_info or {}).get("arn") == arn]
    if users:
        raise BadRequest(f"The configuration {arn} is in use by cluster(s) {', '.join(users)}.")
    del _configs(self)[arn]
    return {"arn": arn, "state": "DELETING"}


def _latest(cfg: dict[str, Any]) -> dict[str, Any]:
    rev = cfg["revisions"][-1]
    return {"revision": rev["revision"], "creationTime": rev["creationTime"], "description": rev["description"]}


def _config_out(cfg: dict[str, Any]) -> dict[str, Any]:
    return {"arn": cfg["arn"], "name": cfg["name"], "description": cfg["description"],
            "kafkaVersions": cfg["kafkaVersions"], "state": cfg["state"], "creationTime": cfg["creationTime"],
            "latestRevision": _latest(cfg)}


# -- topics ---------------------------------------------------------------------------
#
# The MSK topic API (botocore 1.42.46+; AWS MSK API reference, "Topics" and "Topic" resources
# /v1/clusters/{clusterArn}/topics[/{topicName}]; MSK Developer Guide, "Topic Operations"):
# - only on an MSK Provisioned cluster that is ACTIVE and runs Apache Kafka 3.6.0 or later;
# - CreateTopic answers CREATING and the topic becomes ACTIVE afterwards; UpdateTopic answers
#   UPDATING, DeleteTopic DELETING, then NotFoundException (Terraform's aws_msk_topic,
#   internal/service/kafka/topic.go, waits each of them out: waitTopicCreated/Updated/Deleted);
# - a second topic of the same name is TopicExistsException (409);
# - Configs is a Base64 string of a JSON object of topic settings; DescribeTopic answers every
#   setting of the topic, the broker's defaults included (topic.go keeps only the keys the user set);
# - UpdateTopic changes either the partition count (up only, as Kafka's CreatePartitions) or the
#   configs, never both in one call ("You must specify either configs or partitionCount to
#   update", topic.go); the name, the cluster and the replication factor are fixed
#   (CloudFormation AWS::MSK::Topic: createOnly ClusterArn, TopicName, ReplicationFactor).
# The ARN is arn:aws:kafka:<region>:<account>:topic/<cluster name>/<cluster uuid>/<topic name> (MSK
# IAM resource types; topic.go's acceptance test matches topic/.+/.+/<name>).

# Topic settings a broker reports for a topic that does not set them (Kafka's defaults, with
# log.retention.hours=168); DescribeTopic's Configs has them too. The cluster's configuration (its
# server.properties) changes them as Kafka's broker settings do: broker setting -> topic setting.
TOPIC_DEFAULTS = {"cleanup.policy": "delete", "compression.type": "producer", "max.message.bytes": "1048588",
                  "min.insync.replicas": "1", "retention.bytes": "-1", "retention.ms": "604800000"}
BROKER_TO_TOPIC = {"log.cleanup.policy": "cleanup.policy", "compression.type": "compression.type",
                   "message.max.bytes": "max.message.bytes", "min.insync.replicas": "min.insync.replicas",
                   "log.retention.bytes": "retention.bytes", "log.retention.ms": "retention.ms",
                   "log.segment.bytes": "segment.bytes"}


def _broker_defaults(backend: KafkaBackend, cluster: FakeKafkaCluster) -> dict[str, str]:
    """The topic defaults of the cluster's brokers: Kafka's, overridden by its configuration revision."""
    out = dict(TOPIC_DEFAULTS)
    info = cluster.configuration_info or {}
    cfg = _configs(backend).get(info.get("arn", ""))
    rev = next((r for r in (cfg or {}).get("revisions", []) if r["revision"] == info.get("revision")), None)
    if rev is None:
        return out
    text = rev["serverProperties"]
    try:
        text = base64.b64decode(text, validate=True).decode()
    except (binascii.Error, ValueError):
        pass  # kept as given
    props = dict(ln.split("=", 1) for ln in str(text).splitlines() if "=" in ln and not ln.startswith("#"))
    props = {k.strip(): v.strip() for k, v in props.items()}
    hours = props.get("log.retention.hours", "")
    if hours.isdigit() and "log.retention.ms" not in props:
        props["log.retention.ms"] = str(int(hours) * 3600 * 1000)
    out.update({BROKER_TO_TOPIC[k]: v for k, v in props.items() if k in BROKER_TO_TOPIC})
    return out
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")  # Kafka's legal topic names


class FakeTopic:
    """One Kafka topic of a cluster; `status` goes CREATING/UPDATING/DELETING -> ACTIVE by the lifecycle."""

    def __init__(self, backend: KafkaBackend, cluster: FakeKafkaCluster, name: str, partitions: int,
                 replication: int, configs: dict[str, str]) -> None:
        self.arn = (f"arn:aws:kafka:{backend.region_name}:{backend.account_id}:topic/{cluster.cluster_name}/"
                    f"{cluster.cluster_id}/{name}")
        self.name = name
        self.partitions = partitions
        self.replication = replication
        self.configs = configs
        self.brokers = int(cluster.number_of_broker_nodes or 1)
        self.defaults = _broker_defaults(backend, cluster)
        self.status = "CREATING"

    def replica_ids(self) -> list[int]:
        return list(range(1, min(self.brokers, self.partitions * self.replication) + 1))

    def summary(self) -> dict[str, Any]:
        return {"topicArn": self.arn, "topicName": self.name, "replicationFactor": self.replication,
                "partitionCount": self.partitions, "outOfSyncReplicaCount": 0, "replicaIds": self.replica_ids()}

    def describe(self) -> dict[str, Any]:
        every = {**self.defaults, **self.configs}
        return {"topicArn": self.arn, "topicName": self.name, "replicationFactor": self.replication,
                "partitionCount": self.partitions, "status": self.status, "replicaIds": self.replica_ids(),
                "configs": base64.b64encode(json.dumps(every, sort_keys=True).encode()).decode()}


def _topics(backend: KafkaBackend) -> dict[str, dict[str, FakeTopic]]:
    """cluster ARN -> topic name -> topic."""
    return store(backend, "kafka_topics")


def _topic_cluster(backend: KafkaBackend, cluster_arn: str) -> FakeKafkaCluster:
    """The cluster, if the topic API can serve it: provisioned, ACTIVE, Kafka 3.6.0 or later."""
    cluster = _cluster(backend, cluster_arn)
    if cluster.cluster_type != "PROVISIONED":
        raise BadRequest("Topic APIs are not available for MSK Serverless clusters.")
    _check_active(cluster)
    m = re.match(r"^(\d+)\.(\d+)", str(cluster.kafka_version or ""))
    if m is None or (int(m.group(1)), int(m.group(2))) < (3, 6):
        raise BadRequest(f"The cluster {cluster_arn} runs Apache Kafka {cluster.kafka_version}; topic APIs "
                         "need Apache Kafka 3.6.0 or later.")
    return cluster


def _topic(backend: KafkaBackend, cluster_arn: str, name: str) -> FakeTopic:
    _topic_cluster(backend, cluster_arn)
    topic = _topics(backend).get(cluster_arn, {}).get(name)
    if topic is None:
        raise NotFound(f"The topic {name} does not exist in cluster {cluster_arn}.")
    return topic


def _decode_configs(raw: str | None) -> dict[str, str]:
    """Configs as AWS takes it: Base64 of a JSON object whose values are strings."""
    if not raw:
        return {}
    try:
        value = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        raise BadRequest("configs must be a Base64 string of a JSON object of topic settings.") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadRequest("configs must be a JSON object whose values are strings, e.g. {\"retention.ms\": \"3600000\"}.")
    return value


def create_topic(self: KafkaBackend, cluster_arn: str, name: str, partitions: Any, replication: Any,
                 raw_configs: str | None) -> FakeTopic:
    cluster = _topic_cluster(self, cluster_arn)
    if not isinstance(name, str) or not _TOPIC_NAME.match(name) or name in (".", ".."):
        raise BadRequest(f"Topic name {name!r} is illegal: up to 249 of ASCII letters, digits, '.', '_' and '-'.")
    if not isinstance(partitions, int) or partitions < 1:
        raise BadRequest("partitionCount must be at least 1.")
    if not isinstance(replication, int) or replication < 1:
        raise BadRequest("replicationFactor must be at least 1.")
    brokers = int(cluster.number_of_broker_nodes or 1)
    if replication > brokers:
        raise BadRequest(f"Replication factor: {replication} larger than available brokers: {brokers}.")
    configs = _decode_configs(raw_configs)
    topics = _topics(self).setdefault(cluster_arn, {})
    if name in topics:
        raise TopicExists(f"Topic '{name}' already exists.")
    topic = topics[name] = FakeTopic(self, cluster, name, partitions, replication, configs)
    lifecycle.run(topic, TOPIC_KIND, "create", ["CREATING"], "ACTIVE")
    return topic


def update_topic(self: KafkaBackend, cluster_arn: str, name: str, partitions: Any,
                 raw_configs: str | None) -> FakeTopic:
    topic = _topic(self, cluster_arn, name)
    if (partitions is None) == (raw_configs is None):
        raise BadRequest("You must specify either configs or partitionCount to update, not both.")
    if topic.status != "ACTIVE":
        raise BadRequest(f"The topic {name} is {topic.status}; it can be updated once it is ACTIVE.")
    if partitions is not None:
        if not isinstance(partitions, int) or partitions <= topic.partitions:
            raise BadRequest(f"Topic currently has {topic.partitions} partitions, which is higher than or equal "
                             f"to the requested {partitions}: partitions can only be added.")

        def apply(state: str) -> None:
            topic.status = state
            if state == "ACTIVE":
                topic.partitions = partitions
    else:
        configs = _decode_configs(raw_configs)

        def apply(state: str) -> None:
            topic.status = state
            if state == "ACTIVE":
                topic.configs = configs
    apply.__name__ = "status"  # one transition key with create and delete: a delete supersedes the update
    lifecycle.run(topic, TOPIC_KIND, "update", ["UPDATING"], "ACTIVE", apply=apply)
    return topic


def delete_topic(self: KafkaBackend, cluster_arn: str, name: str) -> FakeTopic:
    topic = _topic(self, cluster_arn, name)
    if topic.status == "DELETING":
        return topic
    topics = _topics(self)[cluster_arn]
    del topics[name]
    topic.status = "DELETING"
    lifecycle.remove_later(topics, name, topic, TOPIC_KIND, ["DELETING"])
    return topic


# -- responses ----------------------------------------------------------------------


def _arn_after(resp: Any, marker: str, suffix: str = "") -> str:
    path = unquote(resp.parsed_url.path)
    arn = path.split(marker, 1)[-1]
    if suffix and arn.endswith(suffix):
        arn = arn[: -len(suffix)]
    return arn


def _cluster_arn(resp: Any) -> str:
    arn = resp.uri_match.get("clusterArn")
    return unquote(arn) if arn else _arn_after(resp, "/clusters/").split("/nodes/")[0]


def _page(items: list[Any], resp: Any, key: str) -> str:
    max_results = int(resp._get_param("maxResults") or 100)
    start = int(resp._get_param("nextToken") or 0)
    out: dict[str, Any] = {key: items[start:start + max_results]}
    if start + max_results < len(items):
        out["nextToken"] = str(start + max_results)
    return json.dumps(out)


class _KafkaResponses:
    """Methods added to moto's KafkaResponse (dispatched by action name)."""

    @staticmethod
    def backend(resp: Any) -> KafkaBackend:
        return kafka_backends[resp.current_account][resp.region]

    def create_configuration(self: Any) -> str:
        b = body(self)
        cfg = create_configuration(_KafkaResponses.backend(self), b.get("name"), b.get("description"),
                                   b.get("kafkaVersions") or [], b.get("serverProperties") or "")
        out = _config_out(cfg)
        return json.dumps({k: out[k] for k in ("arn", "creationTime", "latestRevision", "name", "state")})

    def describe_configuration(self: Any) -> str:
        arn = unquote(self.uri_match.get("arn") or _arn_after(self, "/configurations/"))
        return json.dumps(_config_out(_config(_KafkaResponses.backend(self), arn)))

    def list_configurations(self: Any) -> str:
        cfgs = [_config_out(c) for c in _configs(_KafkaResponses.backend(self)).values()]
        return _page(cfgs, self, "configurations")

    def update_configuration(self: Any) -> str:
        arn = unquote(self.uri_match.get("arn") or _arn_after(self, "/configurations/"))
        b = body(self)
        cfg = update_configuration(_KafkaResponses.backend(self), arn, b.get("description"),
                                   b.get("serverProperties") or "")
        return json.dumps({"arn": arn, "latestRevision": _latest(cfg)})

    def delete_configuration(self: Any) -> str:
        arn = unquote(self.uri_match.get("arn") or _arn_after(self, "/configurations/"))
        return json.dumps(delete_configuration(_KafkaResponses.backend(self), arn))

    def describe_configuration_revision(self: Any) -> str:
        arn = unquote(self.uri_match.get("arn") or _arn_after(self, "/configurations/").split("/revisions/")[0])
        revision = int(self.uri_match.get("revision") or self.parsed_url.path.rsplit("/", 1)[-1])
        cfg = _config(_KafkaResponses.backend(self), arn)
        for rev in cfg["revisions"]:
            if rev["revision"] == revision:
                return json.dumps({"arn": arn, **rev})
        raise NotFound(f"Revision {revision} of configuration {arn} was not found.")

    def list_configuration_revisions(self: Any) -> str:
        arn = unquote(self.uri_match.get("arn") or _arn_after(self, "/configurations/", "/revisions"))
        cfg = _config(_KafkaResponses.backend(self), arn)
        revs = [{k: r[k] for k in ("revision", "creationTime", "description")} for r in cfg["revisions"]]
        return _page(revs, self, "revisions")

    def update_broker_count(self: Any) -> str:
        arn, b = _cluster_arn(self), body(self)
        op = update_broker_count(_KafkaResponses.backend(self), arn, b.get("currentVersion"),
                                 int(b.get("targetNumberOfBrokerNodes") or 0))
        return json.dumps({"clusterArn": arn, "clusterOperationArn": op})

    def update_broker_storage(self: Any) -> str:
        arn, b = _cluster_arn(self), body(self)
        op = update_broker_storage(_KafkaResponses.backend(self), arn, b.get("currentVersion"),
                                   b.get("targetBrokerEBSVolumeInfo") or [])
        return json.dumps({"clusterArn": arn, "clusterOperationArn": op})

    def update_cluster_configuration(self: Any) -> str:
        arn, b = _cluster_arn(self), body(self)
        op = update_cluster_configuration(_KafkaResponses.backend(self), arn, b.get("currentVersion"),
                                          b.get("configurationInfo") or {})
        return json.dumps({"clusterArn": arn, "clusterOperationArn": op})

    def update_monitoring(self: Any) -> str:
        arn, b = _cluster_arn(self), body(self)
        changes = {k: b[k] for k in ("enhancedMonitoring", "openMonitoring", "loggingInfo") if k in b}
        op = update_monitoring(_KafkaResponses.backend(self), arn, b.get("currentVersion"), changes)
        return json.dumps({"clusterArn": arn, "clusterOperationArn": op})

    def get_bootstrap_brokers(self: Any) -> str:
        return json.dumps(get_bootstrap_brokers(_KafkaResponses.backend(self), _cluster_arn(self)))

    def list_cluster_operations(self: Any) -> str:
        backend = _KafkaResponses.backend(self)
        arn = _cluster_arn(self)
        _cluster(backend, arn)
        ops = [op for op in _operations(backend).values() if op["clusterArn"] == arn]
        return _page(ops, self, "clusterOperationInfoList")

    def create_topic(self: Any) -> str:
        b = body(self)
        topic = create_topic(_KafkaResponses.backend(self), _cluster_arn(self), b.get("topicName"),
                             b.get("partitionCount"), b.get("replicationFactor"), b.get("configs"))
        return json.dumps({"topicArn": topic.arn, "topicName": topic.name, "status": topic.status})

    def describe_topic(self: Any) -> str:
        topic = _topic(_KafkaResponses.backend(self), _cluster_arn(self), self.uri_match.get("topicName", ""))
        return json.dumps(topic.describe())

    def list_topics(self: Any) -> str:
        backend, arn = _KafkaResponses.backend(self), _cluster_arn(self)
        _topic_cluster(backend, arn)
        prefix = self._get_param("topicNameFilter") or ""
        topics = sorted(_topics(backend).get(arn, {}).values(), key=lambda t: t.name)
        return _page([t.summary() for t in topics if t.name.startswith(prefix)], self, "topics")

    def update_topic(self: Any) -> str:
        b = body(self)
        topic = update_topic(_KafkaResponses.backend(self), _cluster_arn(self), self.uri_match.get("topicName", ""),
                             b.get("partitionCount"), b.get("configs"))
        return json.dumps({"topicArn": topic.arn, "topicName": topic.name, "status": topic.status})

    def delete_topic(self: Any) -> str:
        topic = delete_topic(_KafkaResponses.backend(self), _cluster_arn(self), self.uri_match.get("topicName", ""))
        return json.dumps({"topicArn": topic.arn, "topicName": topic.name, "status": topic.status})

    def describe_cluster_operation(self: Any) -> str:
        arn = unquote(self.uri_match.get("clusterOperationArn") or _arn_after(self, "/operations/"))
        op = _operations(_KafkaResponses.backend(self)).get(arn)
        if op is None:
            raise NotFound(f"The cluster operation {arn} was not found.")
        return json.dumps({"clusterOperationInfo": op})


def install() -> None:
    add_urls(kafka_urls, {
        "{0}/v1/configurations$": KafkaResponse.dispatch,
        "{0}/v1/configurations/(?P<arn>.+)$": KafkaResponse.dispatch,
        "{0}/v1/operations/(?P<clusterOperationArn>.+)$": KafkaResponse.dispatch,
    })
    add_methods(KafkaResponse, *(fn for name, fn in vars(_KafkaResponses).items()
                                  if callable(fn) and not name.startswith("_") and name != "backend"))
    lifecycle.wrap(KafkaBackend, "create_cluster")(create_cluster)
    lifecycle.wrap(KafkaBackend, "create_cluster_v2")(create_cluster_v2)
    lifecycle.wrap(KafkaBackend, "delete_cluster")(delete_cluster)
    lifecycle.wrap(KafkaBackend, "describe_cluster")(describe_cluster)
    lifecycle.wrap(KafkaBackend, "describe_cluster_v2")(describe_cluster_v2)
