"""Desired resources vs recorded state (and, when refreshed, what AWS says) -> changes.

Pure: no AWS calls here. Values that depend on a resource being created or
replaced are UNKNOWN ("known after apply"); a change to a property the type
cannot update in place makes a replacement, and that ripples to dependents
whose replace-on properties refer to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from core.errors import PlanError
from resources.base import (
    UNKNOWN,
    Lifecycle,
    Ref,
    Resource,
    contains_unknown,
    digest,
    lookup_type,
    resolve,
    walk_refs,
)
from state.dynamodb import Record

ACTIONS = ("create", "update", "replace", "delete", "forget", "noop")


@dataclass
class Change:
    address: str
    action: str
    type: str
    before: dict[str, Any] | None = None  # recorded (or refreshed) properties
    after: dict[str, Any] | None = None  # desired properties, UNKNOWN where not yet known
    diff: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    drift: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # recorded -> live, changed outside the tool
    reason: str = ""
    pending: str | None = None  # an unfinished intent from an interrupted run
    deps: list[str] = field(default_factory=list)
    lifecycle: dict[str, Any] = field(default_factory=dict)  # prevent_destroy etc., as the state keeps them
    # A replacement of a stateful type (issue 13): the old copy's data goes with it. Plan says so; apply
    # refuses it unless the address is named (--replace) or --allow-data-loss is passed.
    destroys_data: bool = False
    order: str = ""  # a replacement's order: "create_first" (default) or "delete_first"
    # Old copies an interrupted create-first replacement left ([physical id, generation]): deleted by
    # this change once its dependents are re-pointed.
    retiring: list[list[str]] = field(default_factory=list)

    @property
    def stack(self) -> str:
        return self.address.split(".", 1)[0]

    def to_json(self) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            if v is UNKNOWN:
                return "(known after apply)"
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            return v

        return {"address": self.address, "action": self.action, "type": self.type, "reason": self.reason,
                "diff": {k: [clean(a), clean(b)] for k, (a, b) in self.diff.items()},
                "drift": {k: [clean(a), clean(b)] for k, (a, b) in self.drift.items()},
                "pending": self.pending, "deps": list(self.deps), "lifecycle": dict(self.lifecycle),
                "destroys_data": self.destroys_data, "order": self.order, "retiring": list(self.retiring)}


@dataclass
class Plan:
    changes: dict[str, Change]
    order: list[str]  # a topological order of addresses (creation order)
    serial: int = 0
    # Lifecycle settings the code changed on resources that are otherwise unchanged: state-only writes, so
    # prevent_destroy and retain_on_delete still hold once the resource leaves the code.
    lifecycle_updates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(ACTIONS, 0)
        for c in self.changes.values():
            out[c.action] += 1
        return out

    @property
    def has_changes(self) -> bool:
        return any(c.action != "noop" for c in self.changes.values())

    @property
    def has_drift(self) -> bool:
        return any(c.drift for c in self.changes.values())


def stored_props(cls: type[Resource], props: Mapping[str, Any]) -> dict[str, Any]:
    """Properties as the state keeps them: secrets replaced by their digest."""
    secrets = cls.secret_props()
    return {k: (digest(v) if k in secrets and v is not UNKNOWN else v) for k, v in props.items()}


def _norm(v: Any) -> Any:
    """Compare JSON-ish values structurally (tuples vs lists, int vs float)."""
    if isinstance(v, tuple):
        return [_norm(x) for x in v]
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


def _as_set(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return sorted((_norm(x) for x in v), key=repr)
    return _norm(v)


def diff_props(before: Mapping[str, Any], after: Mapping[str, Any], ignore: Iterable[str] = (),
               unordered: Iterable[str] = ()) -> dict[str, tuple]:
    ign, unord = set(ignore), set(unordered)
    out: dict[str, tuple] = {}
    for k in sorted(set(before) | set(after)):
        if k in ign:
            continue
        a, b = before.get(k), after.get(k)
        norm = _as_set if k in unord else _norm
        if b is UNKNOWN or contains_unknown(b):
            out[k] = (a, b)
        elif norm(a) != norm(b):
            out[k] = (a, b)
    return out


def plan_apply(g: nx.DiGraph, records: Mapping[str, Record], *, stacks: Iterable[str],
               external: Mapping[str, Mapping[str, Any]] | None = None,
               live: Mapping[str, dict[str, Any] | None] | None = None,
               replace: Iterable[str] = (), allow_protected: bool = False, serial: int = 0,
               selection: set[str] | None = None, allow_data_loss: bool = False,
               tags: Callable[[str], dict[str, str]] | None = None) -> Plan:
    """Changes that bring the selected stacks to the code; records of removed resources are deleted.

    A replacement of a stateful type destroys data: it is refused (PlanError, before any call) unless its
    address is in `replace` (the user named it) or `allow_data_loss`; plan's display passes True and shows
    it marked instead. A change the type refuses (refuse_on / refusal()) is refused unless named in
    `replace`, which replaces it instead. Drift on a replace_on property of a stateful type is reported,
    never turned into a replacement by itself. `tags(address)`: the tags the resource must carry; they
    differ from the recorded ones (a plan-wide tag change) -> an update whose diff names "(tags)".

    `selection` (from graph.target_closure) limits the plan to a targeted run: everything is still planned,
    so values a replacement makes unknown propagate, then only the selection is kept, plus the dependents a
    kept replacement re-points. Protection is enforced on what is kept only.
    """
    external = external or {}
    live = live or {}
    forced = set(replace)
    changes: dict[str, Change] = {}
    order = list(nx.topological_sort(g))
    new_outputs: set[str] = set()  # addresses whose outputs will change (create/replace)
    refusals: dict[str, str] = {}  # protected resources the plan would replace
    data_loss: dict[str, str] = {}  # stateful replacements nobody named
    refused: dict[str, str] = {}  # changes the type refuses (refuse_on / refusal())
    lifecycle_updates: dict[str, dict[str, Any]] = {}

    def lookup(ref: Ref) -> Any:
        addr = ref.address
        if addr in new_outputs:
            return UNKNOWN
        rec = records.get(addr)
        if rec is not None:
            return rec.outputs.get(ref.attr, UNKNOWN)
        if addr in external:
            return external[addr].get(ref.attr, UNKNOWN)
        return UNKNOWN

    for addr in order:
        r: Resource = g.nodes[addr]["resource"]
        desired = stored_props(type(r), resolve(r.properties, lookup))
        deps = sorted(set(g.predecessors(addr)) | _cross_stack_deps(r, g))
        rec = records.get(addr)
        lc = r.lifecycle
        if rec is None or rec.physical_id is None:
            c = Change(addr, "create", r.type_name, None, desired, diff_props({}, desired), deps=deps,
                       reason="not in state" if rec is None else f"unfinished {rec.status} from an interrupted run",
                       pending=rec.status if rec is not None else None, lifecycle=lc.to_dict(),
                       retiring=[list(x) for x in rec.retiring] if rec is not None else [])
            changes[addr] = c
            new_outputs.add(addr)
            continue
        cls = type(r)
        ignore = set(lc.ignore_changes or ())
        drift: dict[str, tuple] = {}
        base = dict(rec.props)
        if addr in live:
            seen = live[addr]
            if seen is None:
                c = Change(addr, "create", r.type_name, rec.props, desired, diff_props({}, desired), deps=deps,
                           reason="deleted outside the tool (not found in AWS)", pending=rec.status,
                           lifecycle=lc.to_dict())
                c.drift = {"(resource)": ("exists", "gone")}
                changes[addr] = c
                new_outputs.add(addr)
                continue
            unobservable = cls.write_only | cls.secret_props()
            observed = {k: v for k, v in seen.items() if k not in unobservable and k in rec.props}
            drift = diff_props({k: rec.props.get(k) for k in observed}, observed, ignore, cls.unordered)
            base.update(observed)
        d = diff_props(base, desired, ignore, cls.unordered)
        if tags is not None and rec.tags and "(tags)" not in ignore:
            want = tags(addr)
            seen_tags = (live.get(addr) or {}).get("(tags)")
            if seen_tags is not None:  # only the tags the tool manages: AWS's and other people's are theirs
                seen_tags = {k: v for k, v in seen_tags.items() if k in rec.tags or k in want}
            if seen_tags is not None and seen_tags != rec.tags:
                drift["(tags)"] = (rec.tags, seen_tags)
            have = seen_tags if seen_tags is not None else rec.tags
            if have != want:
                d["(tags)"] = (have, want)
        kept_drift: list[str] = []
        if cls.stateful and addr not in forced:
            # Drift alone on a property AWS cannot change in place would rebuild a data store from the
            # outside change: report it, repair nothing (the code still agrees with the record).
            intended = diff_props(dict(rec.props), desired, ignore, cls.unordered)
            rebuilding = {p.split(".")[0] for p in cls.replacing(base, desired, d)}
            kept_drift = sorted(k for k in rebuilding & set(d) & set(drift) if k not in intended)
            for k in kept_drift:
                d.pop(k)
                base[k] = rec.props.get(k)
        replace_keys = cls.replacing(base, desired, d)
        if rec.status == "tainted":  # AWS failed to build it: it exists, but only a new one can be used
            action, reason = "replace", f"tainted: {rec.reason or 'failed to create'}"
        elif addr in forced:
            action, reason = "replace", "replacement requested (--replace)"
        elif replace_keys:
            action, reason = "replace", f"{', '.join(replace_keys)} cannot change in place"
        elif d or rec.status == "updating":
            action, reason = "update", ("drift repair" if drift and set(d) <= set(drift) else
                                        "tags changed" if set(d) == {"(tags)"} else "properties changed") \
                if d else "unfinished update from an interrupted run"
        elif rec.retiring:
            action, reason = "update", ("an interrupted replacement left the old copy "
                                        f"{', '.join(p for p, _ in rec.retiring)}: deleting it")
        else:
            action, reason = "noop", ""
        if kept_drift:
            reason = (reason + "; " if reason else "") + (
                f"drift on {', '.join(kept_drift)} not repaired: only a replacement could, and it would destroy "
                f"data (--replace {addr} to rebuild it)")
        if action in ("update", "replace") and addr not in forced and rec.status != "tainted":
            why = r.refusal(base, desired, list(d))
            if why:
                named = [k for k in d if k in cls.refuse_on] or sorted(d)
                refused[addr] = (f"{addr} ({r.type_name}): cannot change {', '.join(named)}: {why}. Nothing was "
                                 f"changed. Change the code back, or pass --replace {addr} to replace it instead"
                                 + (" (destroys its data)" if cls.stateful else ""))
        if action == "replace":
            if _protected(lc, rec) and not allow_protected:
                refusals[addr] = (f"{addr} must be replaced ({reason}) but is protected (prevent_destroy); "
                                  "change the code or lift the protection")
            elif cls.stateful and rec.status != "tainted" and addr not in forced and not allow_data_loss:
                data_loss[addr] = (f"{addr} ({r.type_name} {rec.physical_id}) must be replaced ({reason}) and "
                                   "replacing it DESTROYS its data (a new, empty copy is created and the old one "
                                   f"deleted). Nothing was changed. To go ahead, name it: --replace {addr} (or "
                                   "pass --allow-data-loss); otherwise change the code back")
            new_outputs.add(addr)
        elif action == "noop" and lc.to_dict() != rec.lifecycle:
            lifecycle_updates[addr] = lc.to_dict()
        changes[addr] = Change(addr, action, r.type_name, base, desired, d, drift, reason,
                               pending=rec.status if rec.pending else None, deps=deps, lifecycle=lc.to_dict(),
                               destroys_data=action == "replace" and cls.stateful and rec.status != "tainted",
                               order=replace_order(cls, lc) if action == "replace" else "",
                               retiring=[list(x) for x in rec.retiring])

    selected = set(stacks)
    for addr, rec in records.items():
        if rec.stack in selected and addr not in g and (selection is None or addr in selection):
            changes[addr] = _removal(rec, allow_protected, "removed from the code")
    if selection is not None:
        keep = set(selection)
        # A kept replacement takes along the dependents whose references to it change (the ripple).
        todo = [a for a in keep if a in changes and changes[a].action == "replace"]
        while todo:
            for d in g.successors(todo.pop()):
                if d not in keep and changes[d].action != "noop":
                    keep.add(d)
                    if changes[d].action == "replace":
                        todo.append(d)
        changes = {a: c for a, c in changes.items() if a in keep}
        lifecycle_updates = {a: v for a, v in lifecycle_updates.items() if a in keep}
    for table in (refused, refusals, data_loss):
        for addr, msg in table.items():
            if addr in changes:
                raise PlanError(msg)
    # Removed resources are torn down in reverse of their recorded dependencies.
    return Plan(changes=changes, order=[a for a in order if a in changes]
                + _reverse_order(records, [a for a in changes if a not in g]),
                serial=serial, lifecycle_updates=lifecycle_updates)


def plan_destroy(records: Mapping[str, Record], *, stacks: Iterable[str], allow_protected: bool = False,
                 serial: int = 0, selection: set[str] | None = None) -> Plan:
    """Every record of the selected stacks (or of the targeted `selection`) deleted, dependents first."""
    selected = set(stacks)
    mine = [a for a, r in records.items() if r.stack in selected and (selection is None or a in selection)]
    changes = {a: _removal(records[a], allow_protected, "destroy") for a in mine}
    return Plan(changes=changes, order=_reverse_order(records, mine), serial=serial)


def _cross_stack_deps(r: Resource, g: nx.DiGraph) -> set[str]:
    """Addresses in stacks not selected that `r` refers to: recorded too, so that destroying
    their stack later is refused while `r` exists (Workspace.check_destroy_dependents)."""
    targets = [ref.address for ref in walk_refs(r.properties)]
    targets += [d if isinstance(d, str) else d.address for d in r.depends_on]
    return {t for t in targets if t not in g}


def replace_order(cls: type[Resource], lc: Lifecycle) -> str:
    """How a replacement goes: the new copy first, dependents re-pointed, then the old one deleted, unless
    the type allows just one copy (replace_order) or the resource asks for delete first
    (Lifecycle.delete_before_replace, which wins either way when set)."""
    if lc.delete_before_replace is not None:
        return "delete_first" if lc.delete_before_replace else "create_first"
    return cls.replace_order


def _protected(lc: Lifecycle, rec: Record) -> bool:
    return bool(lc.protect) or bool(rec.lifecycle.get("protect"))


def _removal(rec: Record, allow_protected: bool, why: str) -> Change:
    lc = Lifecycle.from_dict(rec.lifecycle)
    if lc.protect and not allow_protected:
        raise PlanError(f"{rec.address} ({rec.type} {rec.physical_id}) is protected (prevent_destroy) and the "
                        f"run would delete it ({why}). Nothing was changed. To really delete it, pass "
                        "--destroy-protected <env> naming this environment")
    lookup_type(rec.type)  # an unknown type in state is a clear error, before any call
    action = "forget" if lc.retain_on_delete else "delete"
    return Change(rec.address, action, rec.type, rec.props, None, diff_props(rec.props, {}),
                  reason=why + (" (retained in AWS: retain_on_delete)" if action == "forget" else ""),
                  pending=rec.status if rec.pending else None, deps=list(rec.deps), lifecycle=dict(rec.lifecycle))


def _reverse_order(records: Mapping[str, Record], addrs: list[str]) -> list[str]:
    """Creation order of the given recorded resources, from their recorded dependencies."""
    g = nx.DiGraph()
    g.add_nodes_from(addrs)
    for a in addrs:
        for d in records[a].deps:
            if d in g:
                g.add_edge(d, a)
    return list(nx.topological_sort(g))
