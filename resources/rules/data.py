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
