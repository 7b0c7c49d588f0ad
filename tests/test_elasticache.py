"""Round trips of the ElastiCache types on moto plus the sandbox's ElastiCache extension."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from core.errors import PlanError
from resources.elasticache import ParameterGroup, ReplicationGroup, SubnetGroup, auth_token_from
from tests.helpers import declare, vpc_scaffold


def _cache_sandbox() -> bool:
    """Capability check: moto 5.2.5 lacks parameter groups and subnet-group modify/delete; the sandbox adds them."""
    try:
        from moto.elasticache.responses import ElastiCacheResponse

        from sandbox.extensions import install
        install()
    except ImportError:
        return False
    return all(hasattr(ElastiCacheResponse, m) for m in (
        "create_cache_parameter_group", "modify_cache_parameter_group", "describe_cache_parameters",
        "delete_cache_parameter_group", "modify_cache_subnet_group", "delete_cache_subnet_group"))


needs_cache = pytest.mark.skipif(not _cache_sandbox(), reason="sandbox ElastiCache extension not loaded: moto "
                                 "alone has no parameter groups and its deletes never finish")


@pytest.fixture
def net(aws: Any) -> dict[str, Any]:
    secret = aws.client("secretsmanager").create_secret(
        Name="redis-auth", SecretString=json.dumps({"authToken": "a-very-long-redis-token-0123456789"}))["ARN"]
    return {**vpc_scaffold(aws, 7, "redis", "redis"), "secret": secret}


@needs_cache
def test_subnet_group_round_trip(aws, net):
    sg = declare(SubnetGroup("redis_subnets", SubnetIds=net["subnets"][:2]))
    ctx = aws.ctx("redis_subnets")
    pid, out = sg.create(ctx, dict(sg.properties))
    ec = aws.client("elasticache")
    seen = ec.describe_cache_subnet_groups(CacheSubnetGroupName=pid)["CacheSubnetGroups"][0]
    assert pid == "genai-demo-test-redis-subnets" and seen["VpcId"] == net["vpc"] == out["VpcId"]
    assert sorted(s["SubnetIdentifier"] for s in seen["Subnets"]) == sorted(net["subnets"][:2])
    tags = {t["Key"]: t["Value"] for t in ec.list_tags_for_resource(ResourceName=out["Arn"])["TagList"]}
    assert tags["infra:address"] == "main.redis_subnets"

    assert sorted(sg.read(ctx, pid)["SubnetIds"]) == sorted(net["subnets"][:2])
    sg.update(ctx, pid, dict(sg.properties), dict(sg.properties, SubnetIds=net["subnets"]))
    seen = ec.describe_cache_subnet_groups(CacheSubnetGroupName=pid)["CacheSubnetGroups"][0]
    assert sorted(s["SubnetIdentifier"] for s in seen["Subnets"]) == sorted(net["subnets"])

    assert sg.find(ctx)[0] == pid
    sg.delete(ctx, pid)
    sg.delete(ctx, pid)
    assert sg.read(ctx, pid) is None
    assert sg.find(ctx) is None


@needs_cache
def test_parameter_group_round_trip(aws):
    pg = declare(ParameterGroup("redis_params", CacheParameterGroupFamily="redis7",
                                 Parameters={"maxmemory-policy": "allkeys-lru", "timeout": 300}))
    ctx = aws.ctx("redis_params")
    pid, out = pg.create(ctx, dict(pg.properties))
    ec = aws.client("elasticache")
    user = {p["ParameterName"]: p["ParameterValue"] for p in
            ec.describe_cache_parameters(CacheParameterGroupName=pid, Source="user")["Parameters"]}
    assert user == {"maxmemory-policy": "allkeys-lru", "timeout": "300"}
    assert pg.read(ctx, pid) == {"CacheParameterGroupFamily": "redis7", "Description": pg.properties["Description"],
                                 "Parameters": {"maxmemory-policy": "allkeys-lru", "timeout": "300"}}

    new = dict(pg.properties, Parameters={"maxmemory-policy": "volatile-lru", "tcp-keepalive": "60"})
    pg.update(ctx, pid, dict(pg.properties), new)
    user = {p["ParameterName"]: p["ParameterValue"] for p in
            ec.describe_cache_parameters(CacheParameterGroupName=pid, Source="user")["Parameters"]}
    assert user == {"maxmemory-policy": "volatile-lru", "tcp-keepalive": "60"}  # timeout reset to default

    assert pg.find(ctx)[0] == pid
    pg.delete(ctx, pid)
    pg.delete(ctx, pid)
    assert pg.read(ctx, pid) is None
    assert pg.find(ctx) is None


def _subnet_group(aws: Any, net: dict[str, Any]) -> str:
    sg = declare(SubnetGroup("redis_subnets", SubnetIds=net["subnets"]))
    return sg.create(aws.ctx("redis_subnets"), dict(sg.properties))[0]


@needs_cache
def test_replication_group_single_node_round_trip(aws, net):
    rg = declare(ReplicationGroup(
        "redis", CacheNodeType="cache.t3.micro", EngineVersion="7.1", CacheSubnetGroupName=_subnet_group(aws, net),
        SecurityGroupIds=[net["sg"]], KmsKeyId=net["key"], AuthTokenSecretArn=net["secret"]))
    assert rg.properties["NumCacheClusters"] == 1 and rg.properties["TransitEncryptionEnabled"] is True
    ctx = aws.ctx("redis")
    pid, out = rg.create(ctx, dict(rg.properties))
    ec = aws.client("elasticache")
    seen = ec.describe_replication_groups(ReplicationGroupId=pid)["ReplicationGroups"][0]
    assert pid == "genai-demo-test-redis" and seen["Status"] == "available"
    assert seen["CacheNodeType"] == "cache.t3.micro" and len(seen["MemberClusters"]) == 1
    assert seen["AutomaticFailover"] == "disabled" and seen["MultiAZ"] == "disabled"
    assert seen["AtRestEncryptionEnabled"] is True and seen["TransitEncryptionEnabled"] is True
    assert seen["KmsKeyId"] == net["key"] and seen["AuthTokenEnabled"] is True
    assert out["Address"] == seen["NodeGroups"][0]["PrimaryEndpoint"]["Address"] and out["Port"] == 6379
    assert out["ConfigurationEndpointAddress"] is None
    assert "token" not in json.dumps(rg.properties).lower().replace("authtokensecretarn", "")

    state = rg.read(ctx, pid)
    for key in ("CacheNodeType", "ClusterMode", "NumCacheClusters", "AutomaticFailoverEnabled", "MultiAZEnabled",
                "AtRestEncryptionEnabled", "TransitEncryptionEnabled", "KmsKeyId", "Port"):
        assert state[key] == rg.properties[key], key
    assert state["AuthTokenSecretArn"] == net["secret"]  # the group has the secret's current value
    # Subnet group and security groups are read from the member cluster, as Terraform does.
    assert state["CacheSubnetGroupName"] == rg.properties["CacheSubnetGroupName"]
    assert state["SecurityGroupIds"] == [net["sg"]]
    other = aws.client("ec2").create_security_group(GroupName="elsewhere", Description="x",
                                                    VpcId=net["vpc"])["GroupId"]
    ec.modify_replication_group(ReplicationGroupId=pid, SecurityGroupIds=[other], ApplyImmediately=True)
    assert rg.read(ctx, pid)["SecurityGroupIds"] == [other]  # a change made outside the tool is seen
    time.sleep(aws.rules.setting("async-modify", "seconds") + 0.1)  # AWS refuses a second modify meanwhile
    ec.modify_replication_group(ReplicationGroupId=pid, SecurityGroupIds=[net["sg"]], ApplyImmediately=True)
    time.sleep(aws.rules.setting("async-modify", "seconds") + 0.1)  # during its lag the group reads available

    rg.update(ctx, pid, dict(rg.properties), dict(rg.properties, SnapshotRetentionLimit=5,
                                                  CacheNodeType="cache.t3.small"))
    seen = ec.describe_replication_groups(ReplicationGroupId=pid)["ReplicationGroups"][0]
    assert seen["SnapshotRetentionLimit"] == 5 and seen["CacheNodeType"] == "cache.t3.small"

    assert rg.find(ctx)[0] == pid
    rg.delete(ctx, pid)
    rg.delete(ctx, pid)
    assert rg.read(ctx, pid) is None
    assert rg.find(ctx) is None


@needs_cache
def test_replication_group_cluster_mode(aws, net):
    rg = declare(ReplicationGroup(
        "redis", CacheNodeType="cache.r6g.large", ClusterMode="enabled", NumNodeGroups=3, ReplicasPerNodeGroup=1,
        AutomaticFailoverEnabled=True, MultiAZEnabled=True, CacheParameterGroupName="default.redis7.cluster.on",
        CacheSubnetGroupName=_subnet_group(aws, net), SecurityGroupIds=[net["sg"]], KmsKeyId=net["key"],
        AuthTokenSecretArn=net["secret"], SkipFinalSnapshot=False))
    ctx = aws.ctx("redis")
    pid, out = rg.create(ctx, dict(rg.properties))
    seen = aws.client("elasticache").describe_replication_groups(ReplicationGroupId=pid)["ReplicationGroups"][0]
    assert seen["ClusterEnabled"] is True and len(seen["NodeGroups"]) == 3
    assert seen["MultiAZ"] == "enabled" and seen["AutomaticFailover"] == "enabled"
    assert out["ConfigurationEndpointAddress"] == seen["ConfigurationEndpoint"]["Address"] == out["Address"]
    state = rg.read(ctx, pid)
    assert state["ClusterMode"] == "enabled" and state["NumNodeGroups"] == 3 and state["ReplicasPerNodeGroup"] == 1
    rg.delete(ctx, pid)
    assert rg.read(ctx, pid) is None


def test_auth_token_formats():
    assert auth_token_from("plain-token") == "plain-token"
    assert auth_token_from('{"authToken": "t1"}') == "t1"
    assert auth_token_from('{"password": "t2"}') == "t2"
    with pytest.raises(Exception, match="authToken"):
        auth_token_from('{"user": "x"}')


def test_bad_inputs_fail_at_definition():
    with pytest.raises(PlanError, match="NumNodeGroups"):
        ReplicationGroup("r", CacheNodeType="cache.t3.micro", ClusterMode="enabled", AutomaticFailoverEnabled=True)
    with pytest.raises(PlanError, match="Multi-AZ"):
        ReplicationGroup("r", CacheNodeType="cache.t3.micro", NumCacheClusters=2, MultiAZEnabled=True)
    with pytest.raises(PlanError, match="at least one replica"):
        ReplicationGroup("r", CacheNodeType="cache.t3.micro", AutomaticFailoverEnabled=True)
    with pytest.raises(PlanError, match="TransitEncryptionEnabled"):
        ReplicationGroup("r", CacheNodeType="cache.t3.micro", TransitEncryptionEnabled=False,
                         AuthTokenSecretArn="arn:aws:secretsmanager:x")
    with pytest.raises(PlanError, match="unknown property"):
        ReplicationGroup("r", CacheNodeType="cache.t3.micro", AuthToken="literal")
    with pytest.raises(PlanError, match="must be int"):
        ReplicationGroup("r", CacheNodeType="cache.t3.micro", NumCacheClusters="1")


@needs_cache
def test_modifications_wait_for_modifying_and_follow_one_another(aws, net):
    """async-modify: each of modify, reshard and replica change returns once the group left `modifying`
    with the new layout; the next one is then accepted (ElastiCache refuses one while another runs)."""
    from sandbox import strict

    rg = declare(ReplicationGroup(
        "redis", CacheNodeType="cache.t3.micro", ClusterMode="enabled", NumNodeGroups=1, ReplicasPerNodeGroup=1,
        AutomaticFailoverEnabled=True, TransitEncryptionEnabled=False, CacheSubnetGroupName=_subnet_group(aws, net),
        CacheParameterGroupName="default.redis7.cluster.on"))
    ctx = aws.ctx("redis")
    pid, _ = rg.create(ctx, dict(rg.properties))
    ec = aws.client("elasticache")
    trips = strict.trips().get("async-modify", 0)
    new = dict(rg.properties, CacheNodeType="cache.t3.small", NumNodeGroups=2, ReplicasPerNodeGroup=2)
    rg.update(ctx, pid, dict(rg.properties), new)  # three modifications in a row
    seen = ec.describe_replication_groups(ReplicationGroupId=pid)["ReplicationGroups"][0]
    assert seen["Status"] == "available" and seen["CacheNodeType"] == "cache.t3.small"
    assert [len(g["NodeGroupMembers"]) for g in seen["NodeGroups"]] == [3, 3]
    ec.modify_replication_group(ReplicationGroupId=pid, SnapshotRetentionLimit=3, ApplyImmediately=True)
    assert strict.trips().get("async-modify", 0) == trips
