"""ElastiCache extension: parameter groups, modify calls, cluster mode, deletes that finish, subnet groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def _subnets(client: Callable[[str], Any]) -> list[str]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
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
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=f"ap-east-2{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("abc")]
    rds.create_db_subnet_group(DBSubnetGroupName="db", DBSubnetGroupDescription="d", SubnetIds=subnets[:2])
    rds.modify_db_subnet_group(DBSubnetGroupName="db", SubnetIds=subnets)
    seen = rds.describe_db_subnet_groups(DBSubnetGroupName="db")["DBSubnetGroups"][0]
    assert len(seen["Subnets"]) == 3
    with pytest.raises(ClientError) as exc:
        rds.modify_db_subnet_group(DBSubnetGroupName="nope", SubnetIds=subnets)
    assert code(exc) == "DBSubnetGroupNotFoundFault"
