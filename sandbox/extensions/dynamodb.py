"""DynamoDB: one moto cost that AWS does not have, removed for tests, the sandbox and the benchmark.

moto's DynamoDB TransactWriteItems deep-copies every table a transaction
touches before running it (to roll back on failure). The state store writes
each record in a transaction, and its table also keeps the history, so on
moto every write costs O(table size) and an apply O(n^2): at 5,000 resources
the copying, not the tool, would be measured, and every end-to-end test pays it. AWS's cost per transaction
does not grow with the table.

`install()` keeps moto's semantics (all or nothing) but snapshots only what
a transaction can change: the table's item index is copied (cheap
references) and just the items the transaction names are deep-copied.
"""

from __future__ import annotations

import copy as _copy
from typing import Any

import moto.dynamodb.models as ddb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table


class _Snapshotter:
    """Stands in for the `copy` module inside moto's transact_write_items."""

    def __init__(self, keys: dict[str, list[dict[str, Any]]]) -> None:
        self.keys = keys

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        if not isinstance(obj, Table):
            return _copy.deepcopy(obj, memo)
        snap = _copy.copy(obj)
        items = type(obj.items)(dict)
        for h, v in obj.items.items():
            items[h] = dict(v) if obj.has_range_key else v
        for key in self.keys.get(obj.name, []):
            h = DynamoType(key[obj.hash_key_attr])
            r = DynamoType(key[obj.range_key_attr]) if obj.has_range_key and obj.range_key_attr in key else None
            if h not in items:
                continue
            if r is None:
                items[h] = _copy.deepcopy(items[h])
            elif r in items[h]:
                items[h][r] = _copy.deepcopy(items[h][r])
        snap.items = items
        return snap

    def __getattr__(self, name: str) -> Any:
        return getattr(_copy, name)


def _keys_of(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in transact_items:
        for op_type, op in item.items():
            name = op.get("TableName")
            if not name or name not in backend.tables:
                continue
            if op_type == "Put":
                table = backend.tables[name]
                key = {k: op["Item"][k] for k in (table.hash_key_attr, table.range_key_attr) if k and k in op["Item"]}
            else:
                key = op.get("Key", {})
            out.setdefault(name, []).append(key)
    return out


def install() -> None:
    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_bench_fast", False):
        return

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        # moto requests are serialized (sandbox/extensions/serialize.py), so swapping the module global is safe.
        saved = ddb_models.copy
        ddb_models.copy = _Snapshotter(_keys_of(self, transact_items))  # type: ignore[assignment]
        try:
            return original(self, transact_items)
        finally:
            ddb_models.copy = saved

    transact_write_items._bench_fast = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
