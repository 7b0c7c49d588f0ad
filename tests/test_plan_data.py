"""The data layer (RDS, MSK, Redis) composed into a tiny stack.

The graph test needs no AWS. The apply tests run the real engine through the
CLI on moto plus the sandbox extensions: a small network (VPC, private and
database subnets, the store security groups), a KMS key and the Redis AUTH
secret, plus the data layer; applied, checked through independent boto3
calls, re-planned (no change: what AWS reports reads back as declared), then
destroyed (production: refused for the protected stores without the flag).
"""

from __future__ import annotations

import networkx as nx
import pytest

from orchestrator.graph import build_graph
from orchestrator.model import Plan
from plans.genai_demo import data
from plans.genai_demo.profiles import profile
from resources.ec2 import SecurityGroup, Subnet, Vpc
from resources.kms import Key
from resources.secretsmanager import Secret
from tests.fakes import install_plan
from tests.helpers import infra

STORES = ("db", "kafka", "redis")
# In-process moto's EC2 backend is not thread-safe: parallel subnet/security-group creates race inside it
# ("dictionary changed size during iteration"). The data layer's own ordering is what these tests check.
SERIAL = ("--parallelism", "1")


def tiny_network(stack, p):
    """The network layer's contract, as small as the data layer needs."""
    vpc = stack.add(Vpc("vpc", CidrBlock="10.0.0.0/16"))

    def tier(name, first, step, prefix):
        return [stack.add(Subnet(f"{name}_{az}", VpcId=vpc["VpcId"], CidrBlock=f"10.0.{first + i * step}.0/{prefix}",
                                 AvailabilityZone=f"{p['region']}{az}")) for i, az in enumerate("abc")]

    sgs = {k: stack.add(SecurityGroup(f"{k}_sg", VpcId=vpc["VpcId"], Description=k))
           for k in ("database", "redis", "msk")}
    return {"vpc": vpc, "subnets": {"public": [], "private": tier("private", 64, 32, 19),
                                    "database": tier("database", 160, 4, 22)},
            "security_groups": sgs}


def build_data_only(env: str) -> Plan:
    p = profile(env)
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    stack = plan.stack("main")
    net = tiny_network(stack, p)
    key = stack.add(Key("kms_key", Description="data layer test key"))
    secret = stack.add(Secret("redis_auth", Name="redis-auth", KmsKeyId=key["Arn"],
                              GenerateSecretString={"PasswordLength": 32, "ExcludePunctuation": True}))
    data.build(stack, p, net=net, kms_key=key, redis_auth_secret=secret)
    return plan


PLAN = install_plan("genai_demo_data_only", build_data_only)


@pytest.mark.parametrize("env", ["dev", "production"])
def test_data_layer_declares_and_orders(env):
    plan = build_data_only(env)
    g, _ = build_graph(plan, None, state_outputs=None)
    p = profile(env)

    def needs(a, b):
        return nx.has_path(g, f"main.{b}", f"main.{a}")

    # database subnets -> DB subnet group -> RDS, and the rest of each store's inputs
    assert all(needs("db_subnet_group", f"database_{az}") for az in "abc")
    assert needs("db", "db_subnet_group") and needs("db", "db_parameters") and needs("db", "database_sg")
    assert needs("db", "kms_key") and needs("kafka", "kms_key") and needs("redis", "kms_key")
    assert needs("kafka", "kafka_configuration") and needs("kafka", "private_a") and needs("kafka", "msk_sg")
    assert needs("redis", "redis_auth") and needs("redis", "redis_subnet_group") and needs("redis", "redis_parameters")
    assert not needs("db_subnet_group", "private_a")  # only the database tier (inventory defect 3)

    r = plan.stacks["main"].resources
    db = r["db"].properties
    assert (db["DBInstanceClass"], db["MultiAZ"], db["StorageEncrypted"]) == \
        (p["rds"]["instance_class"], p["rds"]["multi_az"], True)
    assert db["ManageMasterUserPassword"] is True and not any("Password" in k and k != "ManageMasterUserPassword"
                                                              for k in db)
    replicas = sorted(n for n in r if n.startswith("db_replica_"))
    assert len(replicas) == p["rds"]["replicas"]
    assert all(needs(n, "db") for n in replicas)
    kafka = r["kafka"].properties
    assert kafka["NumberOfBrokerNodes"] == p["msk"]["brokers"]
    assert len(kafka["BrokerNodeGroupInfo"]["ClientSubnets"]) == p["msk"]["azs"]
    assert kafka["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] == "TLS"
    redis = r["redis"].properties
    assert redis["CacheNodeType"] == p["redis"]["node_type"]
    assert redis["ClusterMode"] == ("enabled" if env == "production" else "disabled")
    assert redis["MultiAZEnabled"] is (env == "production")
    assert redis["AtRestEncryptionEnabled"] and redis["TransitEncryptionEnabled"]
    protected = {n for n, x in r.items() if x.lifecycle.protect}
    assert protected == (set(STORES) | set(replicas) if env == "production" else set())

    if env == "dev":
        assert (db["DBInstanceClass"], kafka["NumberOfBrokerNodes"], redis["NumCacheClusters"]) == \
            ("db.t3.micro", 2, 1)
    else:
        assert (redis["NumNodeGroups"], redis["ReplicasPerNodeGroup"]) == (3, 1)
        assert r["redis_parameters"].properties["Parameters"]["cluster-enabled"] == "yes"


def _redis_cluster_groups_supported(aws) -> bool:
    """Capability check: a custom redis7 group must accept cluster-enabled=yes (AWS does; the sandbox may not)."""
    ec = aws.client("elasticache")
    try:
        ec.create_cache_parameter_group(CacheParameterGroupName="probe", CacheParameterGroupFamily="redis7",
                                        Description="probe")
        ec.modify_cache_parameter_group(CacheParameterGroupName="probe", ParameterNameValues=[
            {"ParameterName": "cluster-enabled", "ParameterValue": "yes"}])
    except Exception:  # noqa: BLE001 - any refusal means the capability is missing
        return False
    finally:
        try:
            ec.delete_cache_parameter_group(CacheParameterGroupName="probe")
        except Exception:  # noqa: BLE001, S110 - probe cleanup only
            pass
    return True


def _assert_all_gone(aws):
    assert aws.client("rds").describe_db_instances()["DBInstances"] == []
    assert aws.client("rds").describe_db_subnet_groups()["DBSubnetGroups"] == []
    assert aws.client("kafka").list_clusters()["ClusterInfoList"] == []
    assert aws.client("kafka").list_configurations()["Configurations"] == []
    assert aws.client("elasticache").describe_replication_groups()["ReplicationGroups"] == []


@pytest.mark.slow
def test_dev_apply_noop_destroy(aws):
    infra("apply", "--plan", PLAN, "--env", "dev", "--auto-approve", *SERIAL)
    rds, kafka, ec = aws.client("rds"), aws.client("kafka"), aws.client("elasticache")
    kms = aws.client("kms")
    key_arn = next(m["Arn"] for m in (kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"])
                   if m.get("Description") == "data layer test key")

    dbs = rds.describe_db_instances()["DBInstances"]
    assert [d["DBInstanceIdentifier"] for d in dbs] == ["genai-demo-dev-db"]
    db = dbs[0]
    assert (db["Engine"], db["DBInstanceClass"], db["MultiAZ"]) == ("postgres", "db.t3.micro", False)
    assert db["StorageEncrypted"] is True and db["KmsKeyId"] == key_arn
    assert db["MasterUserSecret"]["KmsKeyId"] == key_arn and db["DeletionProtection"] is False
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == "genai-demo-dev-db-subnet-group"

    clusters = kafka.list_clusters()["ClusterInfoList"]
    assert len(clusters) == 1 and clusters[0]["State"] == "ACTIVE"
    info = kafka.describe_cluster(ClusterArn=clusters[0]["ClusterArn"])["ClusterInfo"]
    assert info["NumberOfBrokerNodes"] == 2 and len(info["BrokerNodeGroupInfo"]["ClientSubnets"]) == 2
    assert info["EncryptionInfo"]["EncryptionAtRest"]["DataVolumeKMSKeyId"] == key_arn
    assert info["CurrentBrokerSoftwareInfo"]["ConfigurationRevision"] == 1

    rg = ec.describe_replication_groups()["ReplicationGroups"]
    assert len(rg) == 1 and rg[0]["CacheNodeType"] == "cache.t3.micro" and len(rg[0]["MemberClusters"]) == 1
    assert rg[0]["AuthTokenEnabled"] is True and rg[0]["TransitEncryptionEnabled"] is True

    # A second plan, refreshed from AWS, finds nothing to change.
    second = infra("plan", "--plan", PLAN, "--env", "dev", "--detailed-exitcode", ok=None)
    assert second.exit_code == 0, second.output

    infra("destroy", "--plan", PLAN, "--env", "dev", "--auto-approve", *SERIAL)
    _assert_all_gone(aws)


@pytest.mark.slow
def test_production_apply_and_protected_destroy(aws):
    if not _redis_cluster_groups_supported(aws):
        pytest.skip("sandbox refuses cluster-enabled=yes in a custom redis7 parameter group (AWS accepts it)")
    env = "production"
    infra("apply", "--plan", PLAN, "--env", env, "--auto-approve", *SERIAL)
    rds, kafka, ec = aws.client("rds"), aws.client("kafka"), aws.client("elasticache")
    dbs = {d["DBInstanceIdentifier"]: d for d in rds.describe_db_instances()["DBInstances"]}
    primary = dbs["genai-demo-production-db"]
    assert primary["MultiAZ"] is True and primary["DeletionProtection"] is True
    assert sorted(primary["ReadReplicaDBInstanceIdentifiers"]) == [
        "genai-demo-production-db-replica-1", "genai-demo-production-db-replica-2"]
    info = kafka.describe_cluster(ClusterArn=kafka.list_clusters()["ClusterInfoList"][0]["ClusterArn"])["ClusterInfo"]
    assert info["NumberOfBrokerNodes"] == 3 and info["BrokerNodeGroupInfo"]["InstanceType"] == "kafka.m7g.large"
    rg = ec.describe_replication_groups()["ReplicationGroups"][0]
    assert rg["ClusterEnabled"] is True and len(rg["NodeGroups"]) == 3 and rg["MultiAZ"] == "enabled"

    assert infra("plan", "--plan", PLAN, "--env", env, "--detailed-exitcode", ok=None).exit_code == 0

    refused = infra("destroy", "--plan", PLAN, "--env", env, "--auto-approve", *SERIAL, ok=None)
    assert refused.exit_code != 0 and "protected" in refused.output
    assert len(rds.describe_db_instances()["DBInstances"]) == 3

    infra("destroy", "--plan", PLAN, "--env", env, "--auto-approve", "--destroy-protected", env, *SERIAL)
    _assert_all_gone(aws)
    snaps = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert any(s["DBSnapshotIdentifier"].startswith("genai-demo-production-db-final-") for s in snaps)
