"""Issue 13, elasticache.ReplicationGroup: in-transit encryption, cluster mode and engine change in place (B4-B6),
the AUTH token follows its secret's rotation (C3); checked with independent boto3 calls (same ARN)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from moto.backends import get_backend

from resources.elasticache import ReplicationGroup
from sandbox.extensions.strict_stores import auth_tokens
from tests.helpers import declare


@pytest.fixture
def fast(aws: Any) -> Any:
    aws.rules.configure("async-modify", seconds=1.0, lag=0.05)
    return aws


def _seen(aws: Any, pid: str) -> dict[str, Any]:
    return aws.client("elasticache").describe_replication_groups(ReplicationGroupId=pid)["ReplicationGroups"][0]


def _group(aws: Any, name: str, **kw: Any) -> tuple[ReplicationGroup, Any, str, str]:
    """A group named per test: the sandbox's timed events are keyed by the group's id, and one left from
    an earlier test's modification of a same-named group would swallow this test's `modifying` phase."""
    props = {"CacheNodeType": "cache.t3.micro", "EngineVersion": "7.1", "NumCacheClusters": 2,
             "AutomaticFailoverEnabled": True} | kw
    rg = declare(ReplicationGroup(name, **props))
    ctx = aws.ctx(name)
    pid, out = rg.create(ctx, dict(rg.properties))
    return rg, ctx, pid, out["Arn"]


def test_b5_cluster_mode_enabled_in_place(fast):
    rg, ctx, pid, arn = _group(fast, "redis-b5", TransitEncryptionEnabled=False)
    new = dict(rg.properties, ClusterMode="enabled", NumNodeGroups=1, ReplicasPerNodeGroup=1)
    new.pop("NumCacheClusters")
    assert "ClusterMode" not in ReplicationGroup.replace_on
    rg.update(ctx, pid, rg.read(ctx, pid), new)
    seen = _seen(fast, pid)
    assert seen["ARN"] == arn and seen["ClusterMode"] == "enabled" and seen["ClusterEnabled"] is True
    assert len(seen["MemberClusters"]) == 2  # the data's nodes kept
    msg = rg.refusal(new, dict(new, ClusterMode="disabled"), ["ClusterMode"])
    assert msg and "back to disabled" in msg and "'redis-b5'" in msg


def test_b4_transit_encryption_enabled_in_place(fast):
    rg, ctx, pid, arn = _group(fast, "redis-b4", TransitEncryptionEnabled=False)
    assert "TransitEncryptionEnabled" not in ReplicationGroup.replace_on
    new = dict(rg.properties, TransitEncryptionEnabled=True)
    assert rg.refusal(dict(rg.properties), new, ["TransitEncryptionEnabled"]) is None
    rg.update(ctx, pid, rg.read(ctx, pid), new)
    seen = _seen(fast, pid)
    assert seen["ARN"] == arn and seen["TransitEncryptionEnabled"] is True and seen["TransitEncryptionMode"] == "required"
    old_engine = dict(rg.properties, EngineVersion="6.2")
    assert "7.0.5" in rg.refusal(old_engine, dict(old_engine, TransitEncryptionEnabled=True),
                                 ["TransitEncryptionEnabled"])


def test_b6_engine_redis_to_valkey_in_place(fast):
    rg, ctx, pid, arn = _group(fast, "redis-b6", TransitEncryptionEnabled=False)
    new = dict(rg.properties, Engine="valkey", EngineVersion="8.0")
    assert "Engine" not in ReplicationGroup.replace_on
    rg.update(ctx, pid, rg.read(ctx, pid), new)
    seen = _seen(fast, pid)
    assert seen["ARN"] == arn and seen["Engine"] == "valkey"
    assert rg.read(ctx, pid)["EngineVersion"] == "8.0"
    assert "back to redis" in rg.refusal(new, dict(new, Engine="redis"), ["Engine"])


def test_c3_auth_token_follows_the_secret_rotation(fast):
    sm = fast.client("secretsmanager")
    secret = sm.create_secret(Name="redis-auth", SecretString=json.dumps({"authToken": "t" * 32}))["ARN"]
    rg, ctx, pid, arn = _group(fast, "redis-c3", AuthTokenSecretArn=secret)
    group = get_backend("elasticache")[fast.clients.account_id][fast.region].replication_groups[pid]
    assert auth_tokens(group) == ["t" * 32]
    assert rg.read(ctx, pid)["AuthTokenSecretArn"] == secret  # in step: no drift
    # The plan passes the secret as a Ref: refresh reads with the recorded (resolved) props in ctx.
    from resources.base import Ref
    from resources.secretsmanager import Secret

    by_ref = declare(ReplicationGroup("redis-c3", **dict(rg.properties, AuthTokenSecretArn=Ref(
        declare(Secret("auth", Name="redis-auth")), "Arn"))))
    ref_ctx = fast.ctx("redis-c3", props=dict(rg.properties))
    time.sleep(2.1)  # the tool allows the two services' dates a second of rounding: rotate clearly later
    sm.put_secret_value(SecretId=secret, SecretString=json.dumps({"authToken": "u" * 32}))
    seen = rg.read(ctx, pid)
    assert seen["AuthTokenSecretArn"] != secret and "rotated" in seen["AuthTokenSecretArn"]  # drift, shown
    assert by_ref.read(ref_ctx, pid)["AuthTokenSecretArn"] == seen["AuthTokenSecretArn"]
    rg.update(ctx, pid, seen, dict(rg.properties))
    assert auth_tokens(group) == ["u" * 32]  # ROTATE then SET: only the secret's current value is accepted
    after = _seen(fast, pid)
    assert after["ARN"] == arn and after["AuthTokenEnabled"] is True
    assert rg.read(ctx, pid)["AuthTokenSecretArn"] == secret
