"""Lifecycle simulation: transitional states first, waiters really wait, table x scale is the time spent.

Time here is virtual: the simulation's clock (lifecycle.now) and botocore's waiter sleeps run on one
VirtualClock, so a transition lasts exactly table x scale and a waiter sees it end within one poll,
however busy the machine is (a real-time transition of 0.12 s could end before the next call did).
"""

from __future__ import annotations

import types

import botocore.waiter
import pytest
from botocore.exceptions import ClientError
from moto.moto_api import state_manager

from orchestrator.executor import VirtualClock
from sandbox import latency, lifecycle
from tests.helpers import ec2_visible

CLOCK = VirtualClock()


@pytest.fixture(autouse=True)
def virtual_time(monkeypatch):
    """One virtual clock per test for the simulation and every botocore waiter's sleep."""
    global CLOCK
    CLOCK = VirtualClock()
    monkeypatch.setattr(lifecycle, "now", CLOCK.now)
    monkeypatch.setattr(botocore.waiter, "time", types.SimpleNamespace(sleep=CLOCK.sleep))
    yield CLOCK

SCALE = 0.0002  # real seconds per AWS second: MSK's 1500 s create takes 0.3 s
POLL = 0.01  # FAST's and the test session's waiter delay: a waiter sees the end within one poll

KAFKA_WAITERS = botocore.waiter.WaiterModel({"version": 2, "waiters": {
    "ClusterActive": {"operation": "DescribeCluster", "delay": 1, "maxAttempts": 500, "acceptors": [
        {"matcher": "path", "argument": "ClusterInfo.State", "expected": "ACTIVE", "state": "success"},
        {"matcher": "path", "argument": "ClusterInfo.State", "expected": "FAILED", "state": "failure"}]},
    "ClusterDeleted": {"operation": "DescribeCluster", "delay": 1, "maxAttempts": 500, "acceptors": [
        {"matcher": "error", "expected": "NotFoundException", "state": "success"}]},
}})
OPENSEARCH_WAITERS = botocore.waiter.WaiterModel({"version": 2, "waiters": {
    "DomainReady": {"operation": "DescribeDomain", "delay": 1, "maxAttempts": 500, "acceptors": [
        {"matcher": "path", "argument": "DomainStatus.Processing", "expected": False, "state": "success"}]},
}})
FAST = {"Delay": 0.01, "MaxAttempts": 500}


def since(start: float, fn) -> float:
    """Run fn (a wait); seconds from `start` (when the create/delete call returned) until it returned."""
    fn()
    return CLOCK.now() - start


def assert_took(elapsed: float, kind: str, phase: str, scale: float = SCALE) -> None:
    expected = latency.seconds(kind, phase) * scale
    assert expected <= elapsed <= expected + POLL + 1e-9, (kind, phase, elapsed, expected)


def test_off_by_default_everything_ready_at_once(aws):
    assert not lifecycle.enabled()
    k = aws.client("kafka")
    arn = k.create_cluster(ClusterName="c", KafkaVersion="3.6.0", NumberOfBrokerNodes=3, BrokerNodeGroupInfo={
        "InstanceType": "kafka.m5.large", "ClientSubnets": ["a", "b", "c"]})["ClusterArn"]
    assert k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"


@pytest.mark.sandbox_rules_off("async-modify")  # checks shapes after each change, not its timing (test_strict_modify.py)
def test_msk_creating_then_active_then_deleting_then_gone(aws):
    aws.lifecycle(scale=SCALE)
    k = aws.client("kafka")
    arn = k.create_cluster(ClusterName="c", KafkaVersion="3.6.0", NumberOfBrokerNodes=3, BrokerNodeGroupInfo={
        "InstanceType": "kafka.m5.large", "ClientSubnets": ["a", "b", "c"]})["ClusterArn"]
    start = CLOCK.now()  # the transition's clock starts when the call returns
    assert k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "CREATING"
    with pytest.raises(ClientError):
        k.get_bootstrap_brokers(ClusterArn=arn)  # not while creating
    botocore.waiter.create_waiter_with_client("ClusterActive", KAFKA_WAITERS, k).wait(ClusterArn=arn,
                                                                                       WaiterConfig=FAST)
    assert_took(CLOCK.now() - start, "kafka.cluster", "create")
    info = k.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    op = k.update_broker_count(ClusterArn=arn, CurrentVersion=info["CurrentVersion"], TargetNumberOfBrokerNodes=6)
    assert k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "UPDATING"
    assert k.describe_cluster_operation(ClusterOperationArn=op["ClusterOperationArn"])["ClusterOperationInfo"][
        "OperationState"] == "UPDATE_IN_PROGRESS"
    botocore.waiter.create_waiter_with_client("ClusterActive", KAFKA_WAITERS, k).wait(ClusterArn=arn,
                                                                                       WaiterConfig=FAST)
    assert k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["NumberOfBrokerNodes"] == 6
    k.delete_cluster(ClusterArn=arn)
    start = CLOCK.now()  # the transition's clock starts when the call returns
    assert k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "DELETING"
    elapsed = since(start, lambda: botocore.waiter.create_waiter_with_client("ClusterDeleted", KAFKA_WAITERS, k).wait(
        ClusterArn=arn, WaiterConfig=FAST))
    assert_took(elapsed, "kafka.cluster", "delete")


@pytest.mark.sandbox_rules_off("async-modify")  # checks shapes after each change, not its timing (test_strict_modify.py)
def test_eks_waits_with_the_tools_poller(aws):
    aws.lifecycle(scale=SCALE)
    eks = aws.client("eks")
    role = "arn:aws:iam::123456789012:role/eks"
    assert eks.create_cluster(name="c", version="1.30", roleArn=role, resourcesVpcConfig={
        "subnetIds": ["a", "b"]})["cluster"]["status"] == "CREATING"
    start = CLOCK.now()  # the transition's clock starts when the call returns
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "CREATING"
    assert_took(since(start, lambda: aws.clients.wait("eks", "ClusterActive", name="c")), "eks.cluster", "create")
    update = eks.update_cluster_version(name="c", version="1.31")["update"]
    assert update["status"] == "InProgress" and eks.describe_cluster(name="c")["cluster"]["status"] == "UPDATING"
    aws.clients.wait("eks", "ClusterActive", name="c")
    assert eks.describe_update(name="c", updateId=update["id"])["update"]["status"] == "Successful"
    assert eks.describe_cluster(name="c")["cluster"]["version"] == "1.31"
    eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=role, subnets=["a"])
    assert eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == "CREATING"
    aws.clients.wait("eks", "NodegroupActive", clusterName="c", nodegroupName="ng")
    eks.delete_nodegroup(clusterName="c", nodegroupName="ng")
    start = CLOCK.now()  # the transition's clock starts when the call returns
    assert eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == "DELETING"
    with pytest.raises(ClientError) as exc:
        eks.delete_cluster(name="c")  # its node group is still deleting
    assert exc.value.response["Error"]["Code"] == "ResourceInUseException"
    assert_took(since(start, lambda: aws.clients.wait("eks", "NodegroupDeleted", clusterName="c", nodegroupName="ng")),
                "eks.nodegroup", "delete")
    eks.delete_cluster(name="c")
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "DELETING"
    aws.clients.wait("eks", "ClusterDeleted", name="c")


def test_elasticache_rds_nat_alb_opensearch(aws):
    aws.lifecycle(scale=SCALE)
    ec = aws.client("elasticache")
    ec.create_cache_cluster(CacheClusterId="cc", Engine="redis", CacheNodeType="cache.t4g.micro")
    start = CLOCK.now()  # the transition's clock starts when the call returns
    assert ec.describe_cache_clusters(CacheClusterId="cc")["CacheClusters"][0]["CacheClusterStatus"] == "creating"
    assert_took(since(start, lambda: ec.get_waiter("cache_cluster_available").wait(CacheClusterId="cc", WaiterConfig=FAST)),
                "elasticache.cachecluster", "create")
    ec.delete_cache_cluster(CacheClusterId="cc")
    assert ec.describe_cache_clusters(CacheClusterId="cc")["CacheClusters"][0]["CacheClusterStatus"] == "deleting"
    ec.get_waiter("cache_cluster_deleted").wait(CacheClusterId="cc", WaiterConfig=FAST)

    rds = aws.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="db", Engine="postgres", DBInstanceClass="db.t4g.micro",
                           MasterUsername="u", MasterUserPassword="password123", AllocatedStorage=20)
    start = CLOCK.now()  # the transition's clock starts when the call returns
    assert rds.describe_db_instances(DBInstanceIdentifier="db")["DBInstances"][0]["DBInstanceStatus"] == "creating"
    assert_took(since(start, lambda: rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier="db",
                                                                           WaiterConfig=FAST)),
                "rds.dbinstance", "create")

    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])  # the next calls name it (ec2-consistency)
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"ap-east-2{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2_visible(ec2, SubnetIds=subnets, AllocationIds=[eip])
    aws.lifecycle(scale=SCALE * 10)  # a NAT gateway is quick (90 s): scale up so polling noise stays small
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=eip)["NatGateway"]
    start = CLOCK.now()  # the transition's clock starts when the call returns
    assert nat["State"] == "pending"
    assert_took(since(start, lambda: ec2.get_waiter("nat_gateway_available").wait(NatGatewayIds=[nat["NatGatewayId"]],
                                                                           WaiterConfig=FAST)),
                "ec2.natgateway", "create", SCALE * 10)

    elb = aws.client("elbv2")
    lb = elb.create_load_balancer(Name="alb", Subnets=subnets, Type="application")["LoadBalancers"][0]
    assert lb["State"]["Code"] == "provisioning"
    assert elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0]["State"][
        "Code"] == "provisioning"
    elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]], WaiterConfig=FAST)

    os_ = aws.client("opensearch")
    os_.create_domain(DomainName="search", EngineVersion="OpenSearch_2.13")
    status = os_.describe_domain(DomainName="search")["DomainStatus"]
    assert status["Processing"] is True and not status.get("Endpoint")
    botocore.waiter.create_waiter_with_client("DomainReady", OPENSEARCH_WAITERS, os_).wait(DomainName="search",
                                                                                            WaiterConfig=FAST)
    assert os_.describe_domain(DomainName="search")["DomainStatus"]["Endpoint"]


@pytest.mark.sandbox_rules_off("async-modify")  # checks shapes after each change, not its timing (test_strict_modify.py)
def test_elasticache_scaling_is_modifying_for_the_update_time(aws):
    # A window long enough (15 AWS minutes = 1.8 s) that the second call lands inside it on a busy CI worker.
    scale = SCALE * 10
    aws.lifecycle(scale=scale)
    ec = aws.client("elasticache")
    ec.create_replication_group(ReplicationGroupId="rg", ReplicationGroupDescription="d", NumNodeGroups=2,
                                ReplicasPerNodeGroup=1, CacheNodeType="cache.t4g.micro", Engine="redis",
                                AutomaticFailoverEnabled=True)
    ec.get_waiter("replication_group_available").wait(ReplicationGroupId="rg", WaiterConfig=FAST)
    rg = ec.modify_replication_group_shard_configuration(ReplicationGroupId="rg", NodeGroupCount=3,
                                                         ApplyImmediately=True)["ReplicationGroup"]
    start = CLOCK.now()  # the transition's clock starts when the call returns
    assert rg["Status"] == "modifying" and len(rg["NodeGroups"]) == 2  # slots still migrating
    assert rg["PendingModifiedValues"]["Resharding"]["SlotMigration"]["ProgressPercentage"] == 0.0
    with pytest.raises(ClientError) as exc:  # one change at a time
        ec.increase_replica_count(ReplicationGroupId="rg", NewReplicaCount=2, ApplyImmediately=True)
    assert exc.value.response["Error"]["Code"] == "InvalidReplicationGroupState"
    assert_took(since(start, lambda: ec.get_waiter("replication_group_available").wait(ReplicationGroupId="rg",
                                                                                        WaiterConfig=FAST)),
                "elasticache.replicationgroup", "update", scale)
    seen = ec.describe_replication_groups(ReplicationGroupId="rg")["ReplicationGroups"][0]
    assert len(seen["NodeGroups"]) == 3 and len(seen["MemberClusters"]) == 6 and not seen.get("PendingModifiedValues")
    assert ec.increase_replica_count(ReplicationGroupId="rg", NewReplicaCount=2,
                                     ApplyImmediately=True)["ReplicationGroup"]["Status"] == "modifying"
    ec.get_waiter("replication_group_available").wait(ReplicationGroupId="rg", WaiterConfig=FAST)
    assert len(ec.describe_replication_groups(ReplicationGroupId="rg")["ReplicationGroups"][0][
        "MemberClusters"]) == 9

def test_rds_read_replicas_destroyed_in_parallel_all_finish(aws):
    """Regression: moto builds a replica as copy.copy(primary), so the simulation's per-object
    generation counters were shared; deleting replica 2 cancelled replica 1's pending removal
    (and deleting the primary cancelled both): their DBInstanceDeleted waiters timed out."""
    from resources.rds import DBInstance
    from tests.helpers import declare

    scale = SCALE * 5  # RDS deletes are quick (300 s): room for the checks below while they are deleting
    aws.lifecycle(scale=scale)
    rds = aws.client("rds")
    db = declare(DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="admin_user"))
    # The types' own timeouts bound the waits (the session's 10 ms poll times a waiter's 60 attempts would
    # end at 0.6 s, exactly this scale's 600 s create: in virtual time no call adds a moment to that).
    ctx = aws.ctx("db", timeouts=DBInstance.timeouts)
    pid, _ = db.create(ctx, dict(db.properties))
    replicas = []
    for name in ("db_replica_1", "db_replica_2"):
        replica = declare(DBInstance(name, DBInstanceClass="db.t3.micro", SourceDBInstanceIdentifier=pid))
        rctx = aws.ctx(name, timeouts=DBInstance.timeouts)
        start = CLOCK.now()
        rpid, _ = replica.create(rctx, dict(replica.properties))  # waits out the replica's own `creating`
        assert_took(CLOCK.now() - start, "rds.dbinstance", "create", scale)
        replicas.append((replica, rctx, rpid))
    assert sorted(rds.describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0][
        "ReadReplicaDBInstanceIdentifiers"]) == [r[2] for r in replicas]

    # the executor deletes both replicas at once, then the primary once they are gone
    for _, _, rpid in replicas:
        rds.delete_db_instance(DBInstanceIdentifier=rpid, SkipFinalSnapshot=True)
    start = CLOCK.now()
    for _, _, rpid in replicas:
        status = rds.describe_db_instances(DBInstanceIdentifier=rpid)["DBInstances"][0]["DBInstanceStatus"]
        assert status == "deleting"
        with pytest.raises(ClientError) as exc:  # AWS refuses a second delete of a deleting instance
            rds.delete_db_instance(DBInstanceIdentifier=rpid, SkipFinalSnapshot=True)
        assert exc.value.response["Error"]["Code"] == "InvalidDBInstanceState"
    db.delete(ctx, pid)  # the primary's delete starts while the replicas are still deleting
    for replica, rctx, rpid in replicas:
        rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=rpid, WaiterConfig=FAST)
        replica.delete(rctx, rpid)  # idempotent: already gone
        assert replica.read(rctx, rpid) is None
    assert_took(CLOCK.now() - start, "rds.dbinstance", "delete", scale)
    rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=pid, WaiterConfig=FAST)
    assert rds.describe_db_instances()["DBInstances"] == []

def test_durations_live_in_moto_state_manager(aws):
    aws.lifecycle(scale=SCALE)
    assert state_manager.get_transition("kafka.cluster:create") == {
        "progression": "time", "seconds": pytest.approx(1500 * SCALE)}
    # moto's own API can override one model, as for any moto-managed model
    state_manager.set_transition("kafka.cluster:create", {"progression": "immediate"})
    k = aws.client("kafka")
    arn = k.create_cluster(ClusterName="c", KafkaVersion="3.6.0", NumberOfBrokerNodes=3, BrokerNodeGroupInfo={
        "InstanceType": "kafka.m5.large", "ClientSubnets": ["a", "b", "c"]})["ClusterArn"]
    assert k.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"


def test_latency_table_and_scale(monkeypatch):
    assert latency.DEFAULT_SCALE == pytest.approx(0.01 / 60)
    monkeypatch.delenv("INFRA_SANDBOX_SCALE", raising=False)
    assert latency.scaled("eks.cluster", "create") == pytest.approx(600 * 0.01 / 60)  # 10 min -> 100 ms
    monkeypatch.setenv("INFRA_SANDBOX_SCALE", "0.001")
    assert latency.scaled("kafka.cluster", "create") == pytest.approx(1.5)
    assert latency.scaled("unknown.kind", "create") == 0
    monkeypatch.setenv("INFRA_SANDBOX_SCALE", "fast")
    with pytest.raises(ValueError, match="INFRA_SANDBOX_SCALE"):
        latency.scale_from_env()
