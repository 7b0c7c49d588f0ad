"""DynamoDB: two moto costs that AWS does not have, removed for tests, the sandbox and the benchmark.

moto's DynamoDB TransactWriteItems deep-copies every table a transaction
touches before running it (to roll back on failure). The state store writes
each record in a transaction, and its table also keeps the history, so on
moto every write costs O(table size) and an apply O(n^2): at 5,000 resources
the copying, not the tool, would be measured, and every end-to-end test pays it. AWS's cost per transaction
does not grow with the table.

`install()` keeps moto's semantics (all or nothing) but remembers only what
a transaction can change, the items it names, and puts them back on failure.

moto's response serializer walks every attribute of every item against the
output shape, asking a chain of alias providers per key: reading a stack's
state records (one Query of a few hundred items of 16 string attributes) cost
a fifth of an end-to-end test's CPU. An item read's answer is already DynamoDB's
wire JSON (moto keeps items in that form), so for the item reads it is written
out as JSON directly; headers and status still come from moto's serializer.
tests/test_sandbox_dynamodb.py checks the two encodings agree.
"""

from __future__ import annotations

import copy as _copy
import json
from typing import Any

import moto.dynamodb.models as ddb_models
from moto.core.responses import ActionContext
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult

_ABSENT = object()


class _Snapshotter:
    """Stands in for the `copy` module inside moto's transact_write_items.

    moto deep-copies each table a transaction touches (once per item) so it can
    put the copy back if the transaction fails. Here the "copy" is the live
    table itself and what can change is remembered instead: the old version
    of each item the transaction names (nothing else can change). When moto
    has put the "copy" back after a failure, `undo()` restores those items.
    O(items named) per transaction instead of O(table).
    """

    def __init__(self, keys: dict[str, list[dict[str, Any]]]) -> None:
        self.keys = keys
        self.saved: dict[str, list[tuple[Any, Any, Any]]] = {}  # table -> (hash, range, old item or _ABSENT)
        self.tables: dict[str, Table] = {}

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        if not isinstance(obj, Table):
            return _copy.deepcopy(obj, memo)
        if obj.name not in self.tables:
            self.tables[obj.name] = obj
            saved = self.saved.setdefault(obj.name, [])
            for key in self.keys.get(obj.name, []):
                h = DynamoType(key[obj.hash_key_attr])
                r = DynamoType(key[obj.range_key_attr]) if obj.has_range_key and obj.range_key_attr in key else None
                part = obj.items.get(h, _ABSENT)
                if r is None:
                    old = part
                else:
                    old = part.get(r, _ABSENT) if part is not _ABSENT else _ABSENT
                saved.append((h, r, _copy.deepcopy(old) if old is not _ABSENT else _ABSENT))
        return obj

    def undo(self) -> None:
        for name, saved in self.saved.items():
            items = self.tables[name].items
            for h, r, old in reversed(saved):
                if r is None:
                    if old is _ABSENT:
                        items.pop(h, None)
                    else:
                        items[h] = old
                    continue
                part = items.get(h)
                if old is _ABSENT:
                    if part is not None:
                        part.pop(r, None)
                        if not part:
                            items.pop(h, None)
                else:
                    items.setdefault(h, {})[r] = old

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


# Item reads whose whole answer is AttributeValue maps and counts (plain JSON in moto's result).
ITEM_READS = frozenset({"Query", "Scan", "GetItem", "BatchGetItem"})


def _dropping_none(value: Any) -> Any:
    """moto's serializer leaves out members whose value is None; so does the direct encoding."""
    if isinstance(value, dict):
        return {k: _dropping_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_dropping_none(v) for v in value]
    return value


def _install_fast_item_reads() -> None:
    original = DynamoResult.execute_result
    if getattr(original, "_fast_item_reads", False):
        return

    def execute_result(self: DynamoResult, context: ActionContext) -> Any:
        if context.operation_model.name not in ITEM_READS or not isinstance(self.result, dict):
            return original(self, context)
        try:
            body = json.dumps(_dropping_none(self.result))
        except TypeError:  # a value that is not plain JSON (bytes): moto's serializer knows its encoding
            return original(self, context)
        status, headers, _ = original(DynamoResult({}), context)
        return status, headers, body

    execute_result._fast_item_reads = True  # type: ignore[attr-defined]
    execute_result.moto_original = original  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def install() -> None:
    _install_fast_item_reads()
    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_bench_fast", False):
        return

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        # moto requests are serialized (sandbox/extensions/serialize.py), so swapping the module global is safe.
        saved = ddb_models.copy
        snap = _Snapshotter(_keys_of(self, transact_items))
        ddb_models.copy = snap  # type: ignore[assignment]
        try:
            return original(self, transact_items)
        except Exception:
            snap.undo()  # moto "restored" the live table itself: put back what the transaction changed
            raise
        finally:
            ddb_models.copy = saved

    transact_write_items._bench_fast = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
