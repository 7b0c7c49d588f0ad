"""ElastiCache extension: parameter groups, modify calls, cluster mode, deletes that finish, subnet groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import ec2_visible


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def _subnets(client: Callable[[str], Any]) -> list[str]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])  # the next calls name it (ec2-consistency)
    return [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24")["Subnet"]["SubnetId"] for i in range(3)]


def check_elasticache(client: Callable[[str], Any]) -> None:
    ec = client("elasticache")
    subnets = _subnets(client)
    ec.create_cache_subnet_group(CacheSubnetGroupName="sg", CacheSubnetGroupDescription="a", SubnetIds=subnets[:2])
    group = ec.modify_cache_subnet_group(CacheSubnetGroupName="sg", CacheSubnetGroupDescription="b",
                                         SubnetIds=subnets)["CacheSubnetGroup"]
    assert group["CacheSubnetGroupDescription"] == "b" and len(group["Subnets"]) == 3

    pg = ec.create_cache_parameter_group(CacheParameterGroupName="pg", CacheParameterGroupFamily="redis7",
                                         Description="genai")["CacheParameterGroup"]
    assert pg["ARN"].endswith(":parametergroup:pg") and pg["CacheParameterGroupFamily"] == "redis7"
    assert [g["CacheParameterGroupName"] for g in
            ec.describe_cache_parameter_groups(CacheParameterGroupName="pg")["CacheParameterGroups"]] == ["pg"]
    ec.modify_cache_parameter_group(CacheParameterGroupName="pg", ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}])
    user = ec.describe_cache_parameters(CacheParameterGroupName="pg", Source="user")["Parameters"]
    assert [(p["ParameterName"], p["ParameterValue"]) for p in user] == [("maxmemory-policy", "allkeys-lru")]
    with pytest.raises(ClientError) as exc:
        ec.modify_cache_parameter_group(CacheParameterGroupName="pg", ParameterNameValues=[
            {"ParameterName": "maxmemory-policy", "ParameterValue": "bogus"}])
    assert code(exc) == "InvalidParameterValue"

    cc = ec.create_cache_cluster(CacheClusterId="cc", Engine="redis", CacheNodeType="cache.t4g.micro",
                                 NumCacheNodes=1, CacheParameterGroupName="pg",
                                 CacheSubnetGroupName="sg")["CacheCluster"]
    assert cc["CacheParameterGroup"]["CacheParameterGroupName"] == "pg"
    mod = ec.modify_cache_cluster(CacheClusterId="cc", CacheNodeType="cache.t4g.small", SnapshotRetentionLimit=3,
                                  ApplyImmediately=True)["CacheCluster"]
    assert mod["CacheNodeType"] == "cache.t4g.small" and mod["SnapshotRetentionLimit"] == 3
    node = ec.describe_cache_clusters(CacheClusterId="cc", ShowCacheNodeInfo=True)["CacheClusters"][0]
    assert node["CacheNodes"][0]["Endpoint"]["Port"] == 6379
    with pytest.raises(ClientError) as exc:
        ec.delete_cache_parameter_group(CacheParameterGroupName="pg")
    assert code(exc) == "InvalidCacheParameterGroupState"
    with pytest.raises(ClientError) as exc:
        ec.delete_cache_subnet_group(CacheSubnetGroupName="sg")
    assert code(exc) == "CacheSubnetGroupInUse"
    ec.delete_cache_cluster(CacheClusterId="cc")
    ec.get_waiter("cache_cluster_deleted").wait(CacheClusterId="cc", WaiterConfig={"Delay": 0.01, "MaxAttempts": 5})
    with pytest.raises(ClientError) as exc:
        ec.describe_cache_clusters(CacheClusterId="cc")
    assert code(exc) == "CacheClusterNotFound"

    rg = ec.create_replication_group(ReplicationGroupId="rg", ReplicationGroupDescription="d", NumNodeGroups=3,
                                     ReplicasPerNodeGroup=1, CacheNodeType="cache.t4g.micro", Engine="redis",
                                     AutomaticFailoverEnabled=True, CacheSubnetGroupName="sg")["ReplicationGroup"]
    assert rg["ClusterEnabled"] is True and rg["ConfigurationEndpoint"]["Address"].startswith("clustercfg.")
    mod = ec.modify_replication_group(ReplicationGroupId="rg", SnapshotRetentionLimit=5, MultiAZEnabled=True,
                                      ApplyImmediately=True)["ReplicationGroup"]
    assert mod["SnapshotRetentionLimit"] == 5 and mod["MultiAZ"] == "enabled"
    ec.delete_replication_group(ReplicationGroupId="rg")
    ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId="rg",
                                                    WaiterConfig={"Delay": 0.01, "MaxAttempts": 5})

    ec.reset_cache_parameter_group(CacheParameterGroupName="pg", ResetAllParameters=True)
    assert ec.describe_cache_parameters(CacheParameterGroupName="pg", Source="user")["Parameters"] == []
    ec.delete_cache_parameter_group(CacheParameterGroupName="pg")
    with pytest.raises(ClientError) as exc:
        ec.describe_cache_parameters(CacheParameterGroupName="pg")
    assert code(exc) == "CacheParameterGroupNotFound"
    ec.delete_cache_subnet_group(CacheSubnetGroupName="sg")
    with pytest.raises(ClientError) as exc:
        ec.delete_cache_subnet_group(CacheSubnetGroupName="sg")
    assert code(exc) == "CacheSubnetGroupNotFoundFault"


@pytest.mark.sandbox_rules_off("async-modify")  # checks shapes after each change, not its timing (test_strict_modify.py)
def test_elasticache_in_process(aws):
    check_elasticache(aws.client)


def test_elasticache_defaults_and_reuse(aws):
    ec = aws.client("elasticache")
    names = {g["CacheParameterGroupName"] for g in ec.describe_cache_parameter_groups()["CacheParameterGroups"]}
    assert {"default.redis7", "default.redis7.cluster.on", "default.memcached1.6"} <= names
    with pytest.raises(ClientError) as exc:
        ec.delete_cache_parameter_group(CacheParameterGroupName="default.redis7")
    assert code(exc) == "InvalidCacheParameterGroupState"
    on = ec.create_replication_group(ReplicationGroupId="on", ReplicationGroupDescription="d", NumNodeGroups=1,
                                     CacheNodeType="cache.t4g.micro", Engine="redis",
                                     CacheParameterGroupName="default.redis7.cluster.on")["ReplicationGroup"]
    assert on["ClusterEnabled"] is True
    off = ec.create_replication_group(ReplicationGroupId="off", ReplicationGroupDescription="d",
                                      NumCacheClusters=2, CacheNodeType="cache.t4g.micro",
                                      Engine="redis")["ReplicationGroup"]
    assert off["ClusterEnabled"] is False and "ConfigurationEndpoint" not in off
    ec.create_cache_cluster(CacheClusterId="same", Engine="redis", CacheNodeType="cache.t4g.micro")
    ec.delete_cache_cluster(CacheClusterId="same")
    # the id is free again once the delete finished (moto alone kept it `deleting` forever)
    ec.create_cache_cluster(CacheClusterId="same", Engine="redis", CacheNodeType="cache.t4g.micro")
    with pytest.raises(ClientError) as exc:
        ec.modify_cache_cluster(CacheClusterId="nope", SnapshotRetentionLimit=1)
    assert code(exc) == "CacheClusterNotFound"


def test_custom_cluster_mode_group_and_rds_subnet_group_modify(aws):
    ec = aws.client("elasticache")
    ec.create_cache_parameter_group(CacheParameterGroupName="on", CacheParameterGroupFamily="redis7",
                                    Description="cluster mode")
    ec.modify_cache_parameter_group(CacheParameterGroupName="on", ParameterNameValues=[
        {"ParameterName": "cluster-enabled", "ParameterValue": "yes"}])
    rg = ec.create_replication_group(ReplicationGroupId="rg", ReplicationGroupDescription="d", NumNodeGroups=1,
                                     CacheNodeType="cache.t4g.micro", Engine="redis",
                                     CacheParameterGroupName="on")["ReplicationGroup"]
    assert rg["ClusterEnabled"] is True
    # RDS (same "moto forgets the group" family of bug): modify keeps the subnet group
    ec2, rds = aws.client("ec2"), aws.client("rds")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])  # the next calls name it (ec2-consistency)
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=f"ap-east-2{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("abc")]
    rds.create_db_subnet_group(DBSubnetGroupName="db", DBSubnetGroupDescription="d", SubnetIds=subnets[:2])
    rds.modify_db_subnet_group(DBSubnetGroupName="db", SubnetIds=subnets)
    seen = rds.describe_db_subnet_groups(DBSubnetGroupName="db")["DBSubnetGroups"][0]
    assert len(seen["Subnets"]) == 3
    with pytest.raises(ClientError) as exc:
        rds.modify_db_subnet_group(DBSubnetGroupName="nope", SubnetIds=subnets)
    assert code(exc) == "DBSubnetGroupNotFoundFault"


def _layout(ec: Any, rid: str) -> dict[str, list[str]]:
    """Shard id -> member cache cluster ids, as describe_replication_groups reports them."""
    rg = ec.describe_replication_groups(ReplicationGroupId=rid)["ReplicationGroups"][0]
    layout = {ng["NodeGroupId"]: [m["CacheClusterId"] for m in ng["NodeGroupMembers"]] for ng in rg["NodeGroups"]}
    assert rg["MemberClusters"] == [c for members in layout.values() for c in members]
    return layout


def check_elasticache_scaling(client: Callable[[str], Any]) -> None:
    """Shard and replica scaling: ModifyReplicationGroupShardConfiguration, Increase/DecreaseReplicaCount."""
    ec = client("elasticache")
    ec.create_replication_group(ReplicationGroupId="sh", ReplicationGroupDescription="d", NumNodeGroups=2,
                                ReplicasPerNodeGroup=1, CacheNodeType="cache.t4g.micro", Engine="redis",
                                AutomaticFailoverEnabled=True)
    assert _layout(ec, "sh") == {"0001": ["sh-0001-001", "sh-0001-002"], "0002": ["sh-0002-001", "sh-0002-002"]}

    # scale out to 3 shards, AZs chosen per shard; the slots are spread over all of them
    rg = ec.modify_replication_group_shard_configuration(
        ReplicationGroupId="sh", NodeGroupCount=3, ApplyImmediately=True,
        ReshardingConfiguration=[{"NodeGroupId": i, "PreferredAvailabilityZones": ["ap-east-2c", "ap-east-2a"]}
                                 for i in ("0001", "0002", "0003")])["ReplicationGroup"]
    assert rg["Status"] == "available" and len(rg["NodeGroups"]) == 3
    new = rg["NodeGroups"][2]
    assert new["NodeGroupId"] == "0003" and [m["PreferredAvailabilityZone"] for m in new["NodeGroupMembers"]] == [
        "ap-east-2c", "ap-east-2a"]
    assert [ng["Slots"] for ng in rg["NodeGroups"]] == ["0-5460", "5461-10921", "10922-16383"]
    assert len(rg["MemberClusters"]) == 6

    # two replicas everywhere, then one shard back to one by naming the replica to drop
    ec.increase_replica_count(ReplicationGroupId="sh", NewReplicaCount=2, ApplyImmediately=True)
    assert all(len(m) == 3 for m in _layout(ec, "sh").values())
    ec.decrease_replica_count(ReplicationGroupId="sh", ReplicasToRemove=["sh-0002-002"], ApplyImmediately=True)
    assert _layout(ec, "sh")["0002"] == ["sh-0002-001", "sh-0002-003"]
    ec.decrease_replica_count(ReplicationGroupId="sh", ApplyImmediately=True, ReplicaConfiguration=[
        {"NodeGroupId": "0001", "NewReplicaCount": 1}, {"NodeGroupId": "0003", "NewReplicaCount": 1}])
    assert [len(m) for m in _layout(ec, "sh").values()] == [2, 2, 2]

    errors = [
        (ec.modify_replication_group_shard_configuration, {"NodeGroupCount": 2}, "InvalidParameterValue"),
        (ec.modify_replication_group_shard_configuration, {"NodeGroupCount": 3}, "InvalidParameterValue"),
        (ec.modify_replication_group_shard_configuration,
         {"NodeGroupCount": 2, "NodeGroupsToRemove": ["0001"], "NodeGroupsToRetain": ["0002", "0003"]},
         "InvalidParameterCombination"),
        (ec.modify_replication_group_shard_configuration, {"NodeGroupCount": 2, "NodeGroupsToRemove": ["0009"]},
         "InvalidParameterValue"),
        (ec.modify_replication_group_shard_configuration, {"NodeGroupCount": 501}, "NodeGroupsPerReplicationGroupQuotaExceeded"),
        (ec.increase_replica_count, {"NewReplicaCount": 1}, "NoOperationFault"),
        (ec.increase_replica_count, {"NewReplicaCount": 6}, "InvalidParameterValue"),
        (ec.increase_replica_count, {}, "InvalidParameterValue"),
        (ec.decrease_replica_count, {"NewReplicaCount": 2}, "InvalidParameterValue"),
        (ec.decrease_replica_count, {"ReplicasToRemove": ["sh-0001-001"]}, "InvalidParameterValue"),  # a primary
        (ec.decrease_replica_count, {"NewReplicaCount": 0, "ReplicasToRemove": ["sh-0001-002"]},
         "InvalidParameterCombination"),
    ]
    for call, params, expected in errors:
        with pytest.raises(ClientError) as exc:
            call(ReplicationGroupId="sh", ApplyImmediately=True, **params)
        assert code(exc) == expected, (call, params)
    with pytest.raises(ClientError) as exc:
        ec.increase_replica_count(ReplicationGroupId="sh", NewReplicaCount=2, ApplyImmediately=False)
    assert code(exc) == "InvalidParameterValue"

    # scale in to one shard: the retained shard keeps its members and takes every slot
    rg = ec.modify_replication_group_shard_configuration(ReplicationGroupId="sh", NodeGroupCount=1,
                                                         NodeGroupsToRetain=["0002"],
                                                         ApplyImmediately=True)["ReplicationGroup"]
    assert [(ng["NodeGroupId"], ng["Slots"]) for ng in rg["NodeGroups"]] == [("0002", "0-16383")]
    assert rg["MemberClusters"] == ["sh-0002-001", "sh-0002-003"]

    # cluster mode disabled: NumCacheClusters is honoured, replicas scale, shards do not
    ec.create_replication_group(ReplicationGroupId="single", ReplicationGroupDescription="d", NumCacheClusters=2,
                                CacheNodeType="cache.t4g.micro", Engine="redis", AutomaticFailoverEnabled=True)
    assert _layout(ec, "single") == {"0001": ["single-001", "single-002"]}
    shard = ec.describe_replication_groups(ReplicationGroupId="single")["ReplicationGroups"][0]["NodeGroups"][0]
    assert shard["ReaderEndpoint"]["Address"].startswith("replica.single.")
    rg = ec.increase_replica_count(ReplicationGroupId="single", NewReplicaCount=3,
                                   ApplyImmediately=True)["ReplicationGroup"]
    members = rg["NodeGroups"][0]["NodeGroupMembers"]
    assert [m["CurrentRole"] for m in members] == ["primary", "replica", "replica", "replica"]
    assert all(m["ReadEndpoint"]["Address"].startswith(m["CacheClusterId"] + ".") for m in members)
    with pytest.raises(ClientError) as exc:  # automatic failover needs a replica left
        ec.decrease_replica_count(ReplicationGroupId="single", NewReplicaCount=0, ApplyImmediately=True)
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        ec.modify_replication_group_shard_configuration(ReplicationGroupId="single", NodeGroupCount=2,
                                                        ApplyImmediately=True)
    assert code(exc) == "InvalidParameterValue"

    for call, params in ((ec.modify_replication_group_shard_configuration, {"NodeGroupCount": 2}),
                         (ec.increase_replica_count, {"NewReplicaCount": 2}),
                         (ec.decrease_replica_count, {"NewReplicaCount": 1})):
        with pytest.raises(ClientError) as exc:
            call(ReplicationGroupId="nope", ApplyImmediately=True, **params)
        assert code(exc) == "ReplicationGroupNotFoundFault"
    for rid in ("sh", "single"):
        ec.delete_replication_group(ReplicationGroupId=rid)
        ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId=rid,
                                                        WaiterConfig={"Delay": 0.01, "MaxAttempts": 5})


@pytest.mark.sandbox_rules_off("async-modify")  # checks shapes after each change, not its timing (test_strict_modify.py)
def test_elasticache_scaling_in_process(aws):
    check_elasticache_scaling(aws.client)


def test_replication_group_resource_scales_in_place(aws):
    """resources/elasticache.py's update path end to end: shards and replicas change in place, and the
    tool's waiter waits out `modifying` (lifecycle simulation on)."""
    from resources.elasticache import ReplicationGroup
    from tests.helpers import declare

    aws.lifecycle(scale=0.0002)  # a 900 s reshard takes 0.18 s
    ec = aws.client("elasticache")
    props = {"CacheNodeType": "cache.t4g.micro", "ClusterMode": "enabled", "NumNodeGroups": 2,
             "ReplicasPerNodeGroup": 1, "AutomaticFailoverEnabled": True, "TransitEncryptionEnabled": False,
             "CacheParameterGroupName": "default.redis7.cluster.on"}
    rg = declare(ReplicationGroup("redis", **props))
    ctx = aws.ctx("redis")
    pid, out = rg.create(ctx, dict(rg.properties))
    assert out["ConfigurationEndpointAddress"]
    state = rg.read(ctx, pid)
    assert (state["NumNodeGroups"], state["ReplicasPerNodeGroup"]) == (2, 1)

    calls: list[str] = []  # the tool's own client, watched: what each scaling call answered
    tool = ctx.client("elasticache")
    for op in ("modify_replication_group_shard_configuration", "increase_replica_count", "decrease_replica_count"):
        fn = getattr(tool, op)

        def spy(*a: Any, _fn: Any = fn, _op: str = op, **kw: Any) -> Any:
            answer = _fn(*a, **kw)
            calls.append(f"{_op}:{answer['ReplicationGroup']['Status']}")
            return answer
        setattr(tool, op, spy)

    bigger = dict(rg.properties, NumNodeGroups=3, ReplicasPerNodeGroup=2)
    rg.update(ctx, pid, dict(rg.properties), bigger)
    # What each call answered: the group still reads `available` for a moment (async-modify's lag).
    assert calls == ["modify_replication_group_shard_configuration:available", "increase_replica_count:available"]
    seen = ec.describe_replication_groups(ReplicationGroupId=pid)["ReplicationGroups"][0]
    assert seen["Status"] == "available" and len(seen["NodeGroups"]) == 3
    assert all(len(ng["NodeGroupMembers"]) == 3 for ng in seen["NodeGroups"]) and len(seen["MemberClusters"]) == 9
    state = rg.read(ctx, pid)
    assert (state["NumNodeGroups"], state["ReplicasPerNodeGroup"]) == (3, 2)

    calls.clear()
    rg.update(ctx, pid, bigger, dict(rg.properties))  # and back: scale in, fewer replicas
    assert calls == ["modify_replication_group_shard_configuration:available", "decrease_replica_count:available"]
    state = rg.read(ctx, pid)
    assert (state["NumNodeGroups"], state["ReplicasPerNodeGroup"]) == (2, 1)
    assert [ng["NodeGroupId"] for ng in ec.describe_replication_groups(ReplicationGroupId=pid)[
        "ReplicationGroups"][0]["NodeGroups"]] == ["0001", "0002"]

    assert rg.find(ctx)[0] == pid
    rg.delete(ctx, pid)
    rg.delete(ctx, pid)
    assert rg.read(ctx, pid) is None and rg.find(ctx) is None

    # cluster mode disabled: NumCacheClusters (primary + replicas) changes through the replica calls
    single = declare(ReplicationGroup("cache", CacheNodeType="cache.t4g.micro", NumCacheClusters=2,
                                      AutomaticFailoverEnabled=True, TransitEncryptionEnabled=False))
    sctx = aws.ctx("cache")
    spid, _ = single.create(sctx, dict(single.properties))
    assert single.read(sctx, spid)["NumCacheClusters"] == 2
    calls.clear()
    single.update(sctx, spid, dict(single.properties), dict(single.properties, NumCacheClusters=3))
    assert calls == ["increase_replica_count:available"] and single.read(sctx, spid)["NumCacheClusters"] == 3
    single.delete(sctx, spid)
    assert single.read(sctx, spid) is None


def test_rule_elasticache_member_clusters(aws):
    """Raw boto3: a replication group's members answer DescribeCacheClusters with the group's settings."""
    ec, ec2 = aws.client("elasticache"), aws.client("ec2")
    subnets = _subnets(aws.client)
    ec2_visible(ec2, SubnetIds=subnets)  # EC2 consistency: new subnets answer by id a moment later
    vpc = ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    sg = ec2.create_security_group(GroupName="redis", Description="redis", VpcId=vpc)["GroupId"]
    ec.create_cache_subnet_group(CacheSubnetGroupName="sn", CacheSubnetGroupDescription="a", SubnetIds=subnets)
    rg = ec.create_replication_group(ReplicationGroupId="rg", ReplicationGroupDescription="d", NumCacheClusters=2,
                                     CacheNodeType="cache.t4g.micro", Engine="redis", EngineVersion="7.1",
                                     AutomaticFailoverEnabled=True, CacheSubnetGroupName="sn",
                                     SecurityGroupIds=[sg])["ReplicationGroup"]
    members = rg["MemberClusters"]
    assert len(members) == 2
    for cid in members:
        c = ec.describe_cache_clusters(CacheClusterId=cid, ShowCacheNodeInfo=True)["CacheClusters"][0]
        assert c["CacheClusterId"] == cid and c["ReplicationGroupId"] == "rg"
        assert c["CacheClusterStatus"] == "available" and c["CacheSubnetGroupName"] == "sn"
        assert c["SecurityGroups"] == [{"SecurityGroupId": sg, "Status": "active"}]
        assert c["CacheNodeType"] == "cache.t4g.micro" and c["Engine"] == "redis" and c["NumCacheNodes"] == 1
        assert c["CacheParameterGroup"]["CacheParameterGroupName"].startswith("default.redis7")
        assert c["CacheNodes"][0]["Endpoint"]["Port"] == 6379
    listed = {c["CacheClusterId"] for c in ec.describe_cache_clusters()["CacheClusters"]}
    assert set(members) <= listed
    with pytest.raises(ClientError) as exc:
        ec.describe_cache_clusters(CacheClusterId="rg-009")
    assert code(exc) == "CacheClusterNotFound"
    ec.delete_replication_group(ReplicationGroupId="rg")
    ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId="rg",
                                                    WaiterConfig={"Delay": 0.01, "MaxAttempts": 50})
    with pytest.raises(ClientError) as exc:
        ec.describe_cache_clusters(CacheClusterId=members[0])
    assert code(exc) == "CacheClusterNotFound"
