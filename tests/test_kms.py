"""Round trips of kms.Key and kms.Alias on moto, plus definition-time validation."""

import json

import pytest

from core.errors import PlanError
from resources.kms import Alias, Key

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Root", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::${AWS::AccountId}:root"},
                   "Action": "kms:*", "Resource": "*"}],
}


def _key(name="key", **props):
    key = Key(name, Description="test key", Policy=POLICY, **props)
    key.stack = "main"
    return key


def test_key_round_trip(aws):
    key = _key()
    ctx = aws.ctx("key")
    key_id, out = key.create(ctx, dict(key.properties))
    kms = aws.client("kms")
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["Description"] == "test key"
    assert out == {"KeyId": key_id, "Arn": meta["Arn"]}
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key_id)["Tags"]}
    assert tags["infra:address"] == "main.key" and tags["infra:env"] == "test"
    # The placeholder became the real account in AWS...
    seen = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert seen["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::{ctx.account_id}:root"
    # ...and read() turns it back, so the plan's policy diffs as unchanged.
    assert key.read(ctx, key_id) == {k: v for k, v in key.properties.items() if k != "PendingWindowInDays"}

    new_policy = {"Version": "2012-10-17", "Statement": POLICY["Statement"] + [
        {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.ap-east-2.amazonaws.com"},
         "Action": ["kms:Encrypt*", "kms:Decrypt*"], "Resource": "*"}]}
    new = dict(key.properties, EnableKeyRotation=False, Policy=new_policy, Description="changed")
    assert key.update(ctx, key_id, dict(key.properties), new)["KeyId"] == key_id
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    assert len(json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])["Statement"]) == 2
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "changed"
    assert key.read(ctx, key_id)["Policy"] == new_policy

    assert key.find(ctx)[0] == key_id
    assert aws.ctx("other").tags["infra:address"] == "main.other"
    assert key.find(aws.ctx("other")) is None  # another address is not adopted
    key.delete(ctx, key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    key.delete(ctx, key_id)  # idempotent: already pending
    assert key.read(ctx, key_id) is None
    assert key.find(ctx) is None


def test_key_find_pages_through_many_keys(aws):
    kms = aws.client("kms")
    for _ in range(3):
        kms.create_key(Description="unrelated")
    key = _key()
    ctx = aws.ctx("key")
    key_id, _ = key.create(ctx, dict(key.properties))
    kms.create_key(Description="unrelated, later")
    assert key.find(ctx)[0] == key_id


def test_alias_round_trip(aws):
    ctx_key = aws.ctx("key")
    key = _key()
    k1, _ = key.create(ctx_key, dict(key.properties))
    k2, _ = key.create(aws.ctx("key2"), dict(key.properties))
    alias = Alias("alias", AliasName="main", TargetKeyId=k1)
    alias.stack = "main"
    ctx = aws.ctx("alias")
    pid, out = alias.create(ctx, dict(alias.properties))
    assert pid == "alias/genai-demo-test-main"
    kms = aws.client("kms")
    assert kms.describe_key(KeyId=pid)["KeyMetadata"]["KeyId"] == k1
    assert out["AliasArn"].endswith(":alias/genai-demo-test-main")
    assert alias.read(ctx, pid) == {"AliasName": "main", "TargetKeyId": k1}

    alias.update(ctx, pid, dict(alias.properties), dict(alias.properties, TargetKeyId=k2))
    assert kms.describe_key(KeyId=pid)["KeyMetadata"]["KeyId"] == k2

    assert alias.find(ctx)[0] == pid
    alias.delete(ctx, pid)
    alias.delete(ctx, pid)
    assert alias.read(ctx, pid) is None
    assert alias.find(ctx) is None
    assert not [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == pid]


def test_kms_bad_inputs():
    with pytest.raises(PlanError, match="unknown property"):
        Key("k", Rotation=True)
    with pytest.raises(PlanError, match="EnableKeyRotation"):
        Key("k", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    with pytest.raises(PlanError, match="PendingWindowInDays"):
        Key("k", PendingWindowInDays=3)
    with pytest.raises(PlanError, match="Policy"):
        Key("k", Policy={"Version": "2012-10-17"})
    with pytest.raises(PlanError, match="must be bool"):
        Key("k", EnableKeyRotation="yes")
    with pytest.raises(PlanError, match="AliasName"):
        Alias("a", AliasName="alias/genai-demo-dev-main", TargetKeyId="x")
    with pytest.raises(PlanError, match="TargetKeyId"):
        Alias("a", AliasName="main")
