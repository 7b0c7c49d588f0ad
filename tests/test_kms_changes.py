"""Issue 13 C9 on kms.Key, on the strict sandbox: a key disabled outside the tool shows as drift and is
enabled again in place (same key), read back through boto3."""

from __future__ import annotations

import networkx as nx

from orchestrator.planner import plan_apply, stored_props
from resources.kms import Key
from state.dynamodb import Record


def test_c9_a_key_disabled_outside_the_tool_is_drift_and_is_enabled_again(aws):
    key = Key("data", Description="data key")
    key.stack = "main"
    ctx = aws.ctx("data")
    key_id, out = key.create(ctx, dict(key.properties))
    kms = aws.client("kms")
    kms.disable_key(KeyId=key_id)  # outside the tool

    seen = key.read(ctx, key_id)
    assert seen["Enabled"] is False
    g = nx.DiGraph()
    g.add_node(key.address, resource=key)
    rec = Record(key.address, Key.type_name, key_id, stored_props(Key, key.properties), out)
    change = plan_apply(g, {key.address: rec}, stacks=["main"], live={key.address: seen}).changes[key.address]
    assert change.action == "update" and change.drift == {"Enabled": (True, False)}

    key.update(ctx, key_id, change.before, change.after)
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["Arn"] == out["Arn"] and meta["KeyState"] == "Enabled"
    # And disabling it on purpose is an update too (DisableKey), read back.
    key.update(ctx, key_id, change.after, dict(change.after, Enabled=False))
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    assert key.read(ctx, key_id)["Enabled"] is False
