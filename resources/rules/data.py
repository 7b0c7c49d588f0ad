"""Rules on the data stores: RDS, ElastiCache, MSK, OpenSearch (encryption, exposure, backups, logs)."""

from __future__ import annotations

from collections.abc import Iterator

from resources.policy import Subject, rule

DB = {"DBInstanceClass": "db.t3.micro", "AllocatedStorage": 20, "MasterUsername": "app"}


@rule("rds.storage-encrypted", "high", "RDS storage is encrypted", ["rds.DBInstance"],
      equivalents=["CKV_AWS_16", "FSBP RDS.3", "AVD-AWS-0080"],
      fails={**DB, "StorageEncrypted": False}, passes=DB)
def rds_encrypted(s: Subject) -> Iterator[str]:
    if not s.get("StorageEncrypted"):
        yield "StorageEncrypted is false"


@rule("rds.not-public", "critical", "RDS instances are not publicly accessible", ["rds.DBInstance"],
      equivalents=["CKV_AWS_17", "FSBP RDS.2", "AVD-AWS-0180"],
      fails={**DB, "PubliclyAccessible": True}, passes=DB)
def rds_public(s: Subject) -> Iterator[str]:
    if s.get("PubliclyAccessible"):
        yield "PubliclyAccessible is true"


@rule("rds.backups", "medium", "RDS keeps automated backups for at least 7 days", ["rds.DBInstance"],
      equivalents=["CKV_AWS_133", "FSBP RDS.11", "AVD-AWS-0077"],
      fails={**DB, "BackupRetentionPeriod": 1}, passes={**DB, "BackupRetentionPeriod": 7})
def rds_backups(s: Subject) -> Iterator[str]:
    if s.get("SourceDBInstanceIdentifier"):
        return  # a read replica's backups are its source's
    days = s.get("BackupRetentionPeriod", 1)
    if isinstance(days, int) and days < 7:
        yield f"BackupRetentionPeriod is {days} (fewer than 7 days)"


@rule("rds.deletion-protection", "medium", "RDS instances have deletion protection", ["rds.DBInstance"],
      equivalents=["CKV_AWS_293", "FSBP RDS.8"],
      fails={**DB, "DeletionProtection": False}, passes={**DB, "DeletionProtection": True})
def rds_deletion(s: Subject) -> Iterator[str]:
    if not s.get("DeletionProtection"):
        yield "DeletionProtection is off"


@rule("rds.multi-az", "low", "RDS primaries run Multi-AZ", ["rds.DBInstance"],
      equivalents=["CKV_AWS_157", "FSBP RDS.5"],
      fails={**DB, "MultiAZ": False}, passes={**DB, "MultiAZ": True})
def rds_multi_az(s: Subject) -> Iterator[str]:
    if not s.get("MultiAZ") and not s.get("SourceDBInstanceIdentifier"):
        yield "MultiAZ is off: one AZ failure takes the database down"


@rule("elasticache.encryption", "high", "Redis encrypts at rest and in transit", ["elasticache.ReplicationGroup"],
      equivalents=["CKV_AWS_29", "CKV_AWS_30", "FSBP ElastiCache.4", "FSBP ElastiCache.5", "AVD-AWS-0045",
                   "AVD-AWS-0051"],
      fails={"CacheNodeType": "cache.t3.micro", "TransitEncryptionEnabled": False},
      passes={"CacheNodeType": "cache.t3.micro"})
def redis_encryption(s: Subject) -> Iterator[str]:
    if not s.get("AtRestEncryptionEnabled"):
        yield "AtRestEncryptionEnabled is false"
    if not s.get("TransitEncryptionEnabled"):
        yield "TransitEncryptionEnabled is false"


@rule("elasticache.auth", "high", "Redis requires an AUTH token", ["elasticache.ReplicationGroup"],
      equivalents=["CKV_AWS_31", "FSBP ElastiCache.6"],
      fails={"CacheNodeType": "cache.t3.micro"},
      passes={"CacheNodeType": "cache.t3.micro", "AuthTokenSecretArn": "arn:aws:secretsmanager:x:1:secret:t"})
def redis_auth(s: Subject) -> Iterator[str]:
    if not s.get("AuthTokenSecretArn"):
        yield "no AUTH token (AuthTokenSecretArn): any client that reaches the port can read and write"


MSK = {"KafkaVersion": "3.6.0", "NumberOfBrokerNodes": 2,
       "BrokerNodeGroupInfo": {"InstanceType": "kafka.m7g.large", "ClientSubnets": ["s-1", "s-2"]}}


@rule("kafka.encryption-in-transit", "high", "MSK clients and brokers talk TLS only", ["kafka.Cluster"],
      equivalents=["CKV_AWS_81", "FSBP MSK.1", "AVD-AWS-0073"],
      fails={**MSK, "EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT"}}},
      passes={**MSK, "EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}}})
def msk_transit(s: Subject) -> Iterator[str]:
    cb = s.get("EncryptionInfo.EncryptionInTransit.ClientBroker", "TLS")
    if cb != "TLS":
        yield f"ClientBroker is {cb}: plaintext client traffic is allowed"
    if s.get("EncryptionInfo.EncryptionInTransit.InCluster") is False:
        yield "InCluster encryption is off"


@rule("kafka.encryption-at-rest-cmk", "medium", "MSK encrypts at rest with a customer-managed key",
      ["kafka.Cluster"], equivalents=["CKV_AWS_81", "AVD-AWS-0179"],
      fails=MSK, passes={**MSK, "EncryptionInfo": {"EncryptionAtRest": {"DataVolumeKMSKeyId": "arn:aws:kms:x"}}})
def msk_rest(s: Subject) -> Iterator[str]:
    if not s.get("EncryptionInfo.EncryptionAtRest.DataVolumeKMSKeyId"):
        yield "no DataVolumeKMSKeyId: the AWS-owned key encrypts the brokers' volumes"


@rule("kafka.no-public-access", "high", "MSK brokers are not publicly accessible", ["kafka.Cluster"],
      equivalents=["CKV_AWS_291"],
      fails={**MSK, "BrokerNodeGroupInfo": {**MSK["BrokerNodeGroupInfo"],
                                            "ConnectivityInfo": {"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}}}},
      passes={**MSK, "BrokerNodeGroupInfo": {**MSK["BrokerNodeGroupInfo"],
                                             "ConnectivityInfo": {"PublicAccess": {"Type": "DISABLED"}}}})
def msk_public(s: Subject) -> Iterator[str]:
    kind = s.get("BrokerNodeGroupInfo.ConnectivityInfo.PublicAccess.Type", "DISABLED")
    if kind != "DISABLED":
        yield f"PublicAccess is {kind}: the brokers answer on public addresses"


@rule("kafka.no-unauthenticated-clients", "high", "MSK refuses unauthenticated clients", ["kafka.Cluster"],
      equivalents=[],  # no scanner rule checks it (checked: checkov, trivy); FSBP MSK ids unverified
      fails={**MSK, "ClientAuthentication": {"Unauthenticated": {"Enabled": True}}},
      passes={**MSK, "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}}})
def msk_auth(s: Subject) -> Iterator[str]:
    if s.get("ClientAuthentication.Unauthenticated.Enabled") or not s.get("ClientAuthentication"):
        yield "unauthenticated clients are allowed"


OS = {"ClusterConfig": {"InstanceType": "t3.small.search", "InstanceCount": 1}}


@rule("opensearch.encryption", "high", "OpenSearch encrypts at rest, between nodes, and only over HTTPS",
      ["opensearch.Domain"], equivalents=["CKV_AWS_5", "CKV_AWS_6", "CKV_AWS_83", "FSBP OpenSearch.1",
                                          "FSBP OpenSearch.3", "FSBP OpenSearch.8", "AVD-AWS-0048",
                                          "AVD-AWS-0043", "AVD-AWS-0046"],
      fails={**OS, "NodeToNodeEncryptionOptions": {"Enabled": False}}, passes=OS)
def os_encryption(s: Subject) -> Iterator[str]:
    if not s.get("EncryptionAtRestOptions.Enabled"):
        yield "encryption at rest is off"
    if not s.get("NodeToNodeEncryptionOptions.Enabled"):
        yield "node-to-node encryption is off"
    if not s.get("DomainEndpointOptions.EnforceHTTPS"):
        yield "HTTPS is not enforced"


@rule("opensearch.in-vpc", "high", "OpenSearch domains live in a VPC", ["opensearch.Domain"],
      equivalents=["CKV_AWS_248", "FSBP OpenSearch.2"],
      fails=OS, passes={**OS, "VPCOptions": {"SubnetIds": ["s-1"], "SecurityGroupIds": ["sg-1"]}})
def os_vpc(s: Subject) -> Iterator[str]:
    if not s.get("VPCOptions"):
        yield "no VPCOptions: the domain has a public endpoint"


@rule("rds.iam-auth", "medium", "RDS accepts IAM database authentication", ["rds.DBInstance"],
      equivalents=["CKV_AWS_161", "FSBP RDS.10", "AVD-AWS-0176"],
      fails=DB, passes={**DB, "EnableIAMDatabaseAuthentication": True})
def rds_iam_auth(s: Subject) -> Iterator[str]:
    if not s.get("EnableIAMDatabaseAuthentication"):
        yield "EnableIAMDatabaseAuthentication is off: only passwords log in"


@rule("rds.in-vpc-subnet-group", "high", "RDS instances live in the plan's database subnets",
      ["rds.DBInstance"], equivalents=["FSBP RDS.18"],
      fails=DB, passes={**DB, "DBSubnetGroupName": "db-subnets"})
def rds_subnet_group(s: Subject) -> Iterator[str]:
    if not s.get("DBSubnetGroupName") and not s.get("SourceDBInstanceIdentifier"):
        yield "no DBSubnetGroupName: the instance goes to the default VPC's subnets"


@rule("rds.performance-insights", "low", "RDS runs Performance Insights", ["rds.DBInstance"],
      equivalents=["CKV_AWS_353", "AVD-AWS-0133"],
      fails=DB, passes={**DB, "EnablePerformanceInsights": True})
def rds_pi(s: Subject) -> Iterator[str]:
    if not s.get("EnablePerformanceInsights"):
        yield "EnablePerformanceInsights is off"


@rule("rds.performance-insights-cmk", "low", "RDS Performance Insights encrypts with a customer-managed key",
      ["rds.DBInstance"], equivalents=["CKV_AWS_354", "AVD-AWS-0078"],
      fails={**DB, "EnablePerformanceInsights": True},
      passes={**DB, "EnablePerformanceInsights": True, "PerformanceInsightsKMSKeyId": "arn:aws:kms:x:1:key/k"})
def rds_pi_cmk(s: Subject) -> Iterator[str]:
    # Its samples keep query texts (bind values included); RDS never changes the key afterwards.
    if s.get("EnablePerformanceInsights") and not s.get("PerformanceInsightsKMSKeyId"):
        yield "no PerformanceInsightsKMSKeyId: the AWS-managed aws/rds key encrypts the query samples, for good"


@rule("rds.auto-minor-version-upgrade", "low", "RDS takes minor engine upgrades", ["rds.DBInstance"],
      equivalents=["CKV_AWS_226", "FSBP RDS.13"],
      fails={**DB, "AutoMinorVersionUpgrade": False}, passes=DB)
def rds_minor(s: Subject) -> Iterator[str]:
    if not s.get("AutoMinorVersionUpgrade"):
        yield "AutoMinorVersionUpgrade is off: security patches wait for a manual upgrade"


@rule("rds.copy-tags-to-snapshots", "low", "RDS snapshots carry the instance's tags", ["rds.DBInstance"],
      equivalents=["CKV2_AWS_60", "FSBP RDS.17"],
      fails={**DB, "CopyTagsToSnapshot": False}, passes=DB)
def rds_copy_tags(s: Subject) -> Iterator[str]:
    if not s.get("CopyTagsToSnapshot"):
        yield "CopyTagsToSnapshot is off: snapshots lose their owner and environment tags"


@rule("rds.custom-admin-username", "low", "RDS does not use a default administrator name", ["rds.DBInstance"],
      equivalents=["FSBP RDS.25"],
      fails={**DB, "MasterUsername": "postgres"}, passes={**DB, "MasterUsername": "genai_admin"})
def rds_admin_name(s: Subject) -> Iterator[str]:
    if str(s.get("MasterUsername", "")).lower() in ("postgres", "admin", "root", "master", "administrator"):
        yield f"MasterUsername {s.get('MasterUsername')!r} is a name every password-guessing tool tries first"


@rule("rds.not-default-port", "low", "RDS does not listen on the engine's default port", ["rds.DBInstance"],
      equivalents=["FSBP RDS.23"], fails=DB, passes={**DB, "Port": 15432})
def rds_port(s: Subject) -> Iterator[str]:
    if s.get("Port", 5432) in (5432, 3306, 1433, 1521) and not s.get("SourceDBInstanceIdentifier"):
        yield f"listens on the default port {s.get('Port', 5432)}"


@rule("rds.force-ssl", "high", "RDS PostgreSQL refuses connections without TLS (rds.force_ssl=1)",
      ["rds.DBInstance"], equivalents=["CKV2_AWS_69"], graph=True)
def rds_force_ssl(s: Subject) -> Iterator[str]:
    group = s.target(s.get("DBParameterGroupName"))
    params = (group.properties.get("Parameters") or {}) if group is not None else {}
    if s.get("Engine", "postgres") == "postgres" and str(params.get("rds.force_ssl")) != "1":
        yield "its parameter group does not set rds.force_ssl=1: clients may connect in plaintext"


def _subscribed(s: Subject, source_type: str, needed: set[str]) -> bool:
    """Whether an enabled rds.EventSubscription of the plan sends this resource's `needed` categories."""
    for sub in s.of_type("rds.EventSubscription"):
        if not sub.get("Enabled", True) or sub.get("SourceType") != source_type:
            continue
        categories = set(sub.get("EventCategories") or [])
        ids = sub.get("SourceIds") or []
        if (not categories or needed <= categories) and (not ids or any(s.target(i) is s.resource for i in ids)):
            return True
    return False


# FSBP's "critical" events: RDS.20 (instances) maintenance, configuration change, failure; RDS.21 (parameter
# groups) configuration change.
@rule("rds.instance-event-subscription", "low", "RDS notifies critical instance events through an event subscription",
      ["rds.DBInstance"], equivalents=["FSBP RDS.20"], graph=True)
def rds_instance_events(s: Subject) -> Iterator[str]:
    if not _subscribed(s, "db-instance", {"maintenance", "configuration change", "failure"}):
        yield "no enabled rds.EventSubscription sends its failure, maintenance and configuration change events"


@rule("rds.parameter-group-event-subscription", "low",
      "RDS notifies parameter group changes through an event subscription", ["rds.DBParameterGroup"],
      equivalents=["FSBP RDS.21"], graph=True)
def rds_parameter_group_events(s: Subject) -> Iterator[str]:
    if not _subscribed(s, "db-parameter-group", {"configuration change"}):
        yield "no enabled rds.EventSubscription sends its configuration change events"


@rule("rds.query-logging", "low", "RDS PostgreSQL logs statements (log_statement) and slow queries",
      ["rds.DBParameterGroup"], equivalents=["CKV2_AWS_30"],
      fails={"Family": "postgres16", "Parameters": {"log_min_duration_statement": 1000}},
      passes={"Family": "postgres16", "Parameters": {"log_min_duration_statement": 1000, "log_statement": "ddl"}})
def rds_query_logging(s: Subject) -> Iterator[str]:
    params = s.get("Parameters") or {}
    if not str(s.get("Family", "")).startswith("postgres"):
        return
    missing = [k for k in ("log_statement", "log_min_duration_statement")
               if k not in params or str(params[k]) in ("none", "-1")]
    if missing:
        yield f"{' and '.join(missing)} not set: schema changes and slow queries leave no trace"


REDIS = {"CacheNodeType": "cache.t3.micro"}


@rule("elasticache.failover", "low", "Redis fails over automatically to a replica",
      ["elasticache.ReplicationGroup"], equivalents=["CKV2_AWS_50", "FSBP ElastiCache.3"],
      fails=REDIS, passes={**REDIS, "NumCacheClusters": 2, "AutomaticFailoverEnabled": True})
def redis_failover(s: Subject) -> Iterator[str]:
    if not s.get("AutomaticFailoverEnabled"):
        yield "AutomaticFailoverEnabled is off: a node failure loses the cache until it is replaced"


@rule("elasticache.backups", "low", "Redis keeps automatic snapshots", ["elasticache.ReplicationGroup"],
      equivalents=["FSBP ElastiCache.1", "AVD-AWS-0050"],
      fails=REDIS, passes={**REDIS, "SnapshotRetentionLimit": 7})
def redis_backups(s: Subject) -> Iterator[str]:
    if not s.get("SnapshotRetentionLimit"):
        yield "SnapshotRetentionLimit is 0: no automatic snapshot"


@rule("elasticache.auto-minor-version-upgrade", "low", "Redis takes minor engine upgrades",
      ["elasticache.ReplicationGroup"], equivalents=["FSBP ElastiCache.2"],
      fails={**REDIS, "AutoMinorVersionUpgrade": False}, passes=REDIS)
def redis_minor(s: Subject) -> Iterator[str]:
    if not s.get("AutoMinorVersionUpgrade"):
        yield "AutoMinorVersionUpgrade is off"


@rule("elasticache.own-subnet-group", "medium", "Redis lives in the plan's own subnet group",
      ["elasticache.ReplicationGroup"], equivalents=["FSBP ElastiCache.7"],
      fails=REDIS, passes={**REDIS, "CacheSubnetGroupName": "cache-subnets"})
def redis_subnets(s: Subject) -> Iterator[str]:
    if not s.get("CacheSubnetGroupName"):
        yield "no CacheSubnetGroupName: the default subnet group (default VPC) is used"


@rule("elasticache.cmk", "low", "Redis encrypts at rest with a customer-managed key",
      ["elasticache.ReplicationGroup"], equivalents=["CKV_AWS_191"],
      fails=REDIS, passes={**REDIS, "KmsKeyId": "arn:aws:kms:x:1:key/k"})
def redis_cmk(s: Subject) -> Iterator[str]:
    if s.get("AtRestEncryptionEnabled") and not s.get("KmsKeyId"):
        yield "no KmsKeyId: the AWS-owned key encrypts the data"


@rule("opensearch.cmk", "low", "OpenSearch encrypts at rest with a customer-managed key", ["opensearch.Domain"],
      equivalents=["CKV_AWS_247"],
      fails=OS, passes={**OS, "EncryptionAtRestOptions": {"Enabled": True, "KmsKeyId": "arn:aws:kms:x:1:key/k"}})
def os_cmk(s: Subject) -> Iterator[str]:
    if s.get("EncryptionAtRestOptions.Enabled") and not s.get("EncryptionAtRestOptions.KmsKeyId"):
        yield "no KmsKeyId: the AWS-managed aws/es key encrypts the data"


@rule("opensearch.tls-1-2", "medium", "OpenSearch endpoints refuse TLS below 1.2", ["opensearch.Domain"],
      equivalents=["CKV_AWS_228", "AVD-AWS-0126"],
      fails={**OS, "DomainEndpointOptions": {"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"}},
      passes=OS)
def os_tls(s: Subject) -> Iterator[str]:
    policy = str(s.get("DomainEndpointOptions.TLSSecurityPolicy", "Policy-Min-TLS-1-0-2019-07"))
    if "TLS-1-0" in policy:
        yield f"TLSSecurityPolicy {policy} admits TLS 1.0"


@rule("opensearch.data-nodes", "low", "OpenSearch runs at least 3 data nodes across zones", ["opensearch.Domain"],
      equivalents=["FSBP Opensearch.6"],
      fails=OS, passes={**OS, "ClusterConfig": {"InstanceType": "m6g.large.search", "InstanceCount": 3,
                                                "ZoneAwarenessEnabled": True,
                                                "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3}}})
def os_data_nodes(s: Subject) -> Iterator[str]:
    if int(s.get("ClusterConfig.InstanceCount", 1)) < 3 or not s.get("ClusterConfig.ZoneAwarenessEnabled"):
        yield "fewer than 3 data nodes or no zone awareness: one node or AZ failure loses the domain"


@rule("opensearch.dedicated-masters", "low", "OpenSearch has 3 dedicated master nodes", ["opensearch.Domain"],
      equivalents=["CKV2_AWS_59", "CKV_AWS_318"],
      fails=OS, passes={**OS, "ClusterConfig": {"InstanceType": "m6g.large.search", "InstanceCount": 3,
                                                "ZoneAwarenessEnabled": True,
                                                "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3},
                                                "DedicatedMasterEnabled": True, "DedicatedMasterCount": 3,
                                                "DedicatedMasterType": "m6g.large.search"}})
def os_masters(s: Subject) -> Iterator[str]:
    if not s.get("ClusterConfig.DedicatedMasterEnabled") or int(s.get("ClusterConfig.DedicatedMasterCount", 0)) < 3:
        yield "no quorum of 3 dedicated masters: cluster management competes with the data nodes"


FGAC = {"Enabled": True, "InternalUserDatabaseEnabled": False,
        "MasterUserOptions": {"MasterUserARN": "arn:aws:iam::123456789012:role/search-admin"}}


def _published(s: Subject, kind: str) -> bool:
    return bool((s.get("LogPublishingOptions", {}).get(kind) or {}).get("Enabled"))


@rule("opensearch.fine-grained-access", "medium", "OpenSearch checks every request with fine-grained access control",
      ["opensearch.Domain"], equivalents=["CKV2_AWS_52", "FSBP Opensearch.7"],
      fails=OS, passes={**OS, "AdvancedSecurityOptions": FGAC})
def os_fgac(s: Subject) -> Iterator[str]:
    if not s.get("AdvancedSecurityOptions.Enabled"):
        yield "no fine-grained access control: any principal the access policy admits may read and write every index"


@rule("opensearch.error-logs", "medium", "OpenSearch publishes its error (application) logs to CloudWatch",
      ["opensearch.Domain"], equivalents=["CKV_AWS_84", "FSBP Opensearch.4", "AVD-AWS-0042"],
      fails=OS, passes={**OS, "LogPublishingOptions": {"ES_APPLICATION_LOGS": {
          "CloudWatchLogsLogGroupArn": "arn:aws:logs:x:1:log-group:/os/app", "Enabled": True}}})
def os_error_logs(s: Subject) -> Iterator[str]:
    if not _published(s, "ES_APPLICATION_LOGS"):
        yield "ES_APPLICATION_LOGS are not published: errors vanish with the nodes"


@rule("opensearch.audit-logs", "medium", "OpenSearch publishes audit logs to CloudWatch", ["opensearch.Domain"],
      equivalents=["CKV_AWS_317", "FSBP Opensearch.5"],
      fails={**OS, "AdvancedSecurityOptions": FGAC},
      passes={**OS, "AdvancedSecurityOptions": FGAC, "LogPublishingOptions": {"AUDIT_LOGS": {
          "CloudWatchLogsLogGroupArn": "arn:aws:logs:x:1:log-group:/os/audit", "Enabled": True}}})
def os_audit_logs(s: Subject) -> Iterator[str]:
    if not _published(s, "AUDIT_LOGS"):
        yield "AUDIT_LOGS are not published: who read or changed which index leaves no trace"


@rule("rds.log-exports", "medium", "RDS PostgreSQL exports its logs to CloudWatch (postgresql, upgrade)",
      ["rds.DBInstance"], equivalents=["CKV_AWS_129", "FSBP RDS.9"],
      fails=DB, passes={**DB, "EnableCloudwatchLogsExports": ["postgresql", "upgrade"]})
def rds_log_exports(s: Subject) -> Iterator[str]:
    missing = {"postgresql", "upgrade"} - set(s.get("EnableCloudwatchLogsExports", []))
    if s.get("Engine", "postgres") == "postgres" and missing:
        yield f"log types not exported: {', '.join(sorted(missing))} (they vanish with the instance)"


@rule("rds.enhanced-monitoring", "low", "RDS runs enhanced monitoring", ["rds.DBInstance"],
      equivalents=["CKV_AWS_118", "FSBP RDS.6"],
      fails=DB, passes={**DB, "MonitoringInterval": 60, "MonitoringRoleArn": "arn:aws:iam::1:role/m"})
def rds_monitoring(s: Subject) -> Iterator[str]:
    if not s.get("MonitoringInterval"):
        yield "MonitoringInterval is 0: no OS-level metrics"


@rule("kafka.broker-logs", "medium", "MSK brokers send their logs somewhere", ["kafka.Cluster"],
      equivalents=["CKV_AWS_80", "AVD-AWS-0074"],
      fails=MSK, passes={**MSK, "LoggingInfo": {"BrokerLogs": {"CloudWatchLogs": {"Enabled": True,
                                                                                   "LogGroup": "/aws/msk"}}}})
def msk_logs(s: Subject) -> Iterator[str]:
    broker_logs = s.get("LoggingInfo.BrokerLogs", {})
    if not any((broker_logs.get(k) or {}).get("Enabled") for k in ("CloudWatchLogs", "Firehose", "S3")):
        yield "no broker logs: errors and authorisation failures vanish with the broker"
