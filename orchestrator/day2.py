"""Day-2 operations: drift, import, orphan scan, saved plan files, state moves.

These sit beside the plan/apply loop (runs.py) and reuse its pieces: the
Workspace for the declared plan, clients and state; the planner for drift;
each resource type's read/find/outputs_of/delete for everything that touches
AWS. Nothing here knows a particular service: what the tagging API cannot see
each type lists itself (Resource.list_tagged), and which type an orphan's ARN
or id belongs to each type declares (arn_kind, id_prefix).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from core.errors import InfraError, PlanError, error_message
from orchestrator.apply import Report
from orchestrator.planner import Change, Plan, stored_props
from orchestrator.runs import Workspace, sync_lifecycle
from resources.base import UNKNOWN, Ctx, Ref, Resource, arn_types, lookup_type, resolve
from resources.base import direct_listers as direct_listers_of_types
from state.dynamodb import Record

PLAN_FORMAT = "genai-infra-plan/1"


class StalePlan(InfraError):
    """The saved plan no longer describes what apply would do: state or code moved since."""


# --------------------------------------------------------------------------- helpers


def _plain(v: Any) -> Any:
    """JSON-safe form of planned values: UNKNOWN as the text plans print, tuples as lists."""
    if v is UNKNOWN:
        return "(known after apply)"
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def _canon(v: Any) -> str:
    return json.dumps(_plain(v), sort_keys=True, default=str, separators=(",", ":"))


def _lenient(records: Mapping[str, Record], external: Mapping[str, Mapping[str, Any]]) -> Callable[[Ref], Any]:
    """Resolve a Ref from recorded outputs; None where nothing is recorded (reads only need identities)."""

    def lookup(ref: Ref) -> Any:
        rec = records.get(ref.address)
        outs = rec.outputs if rec is not None else external.get(ref.address, {})
        return outs.get(ref.attr)

    return lookup


def _ctx(ws: Workspace, g: nx.DiGraph, records: dict[str, Record], external: dict[str, Any], address: str,
         r: Resource | None = None) -> Ctx:
    props = resolve(r.properties, _lenient(records, external)) if r is not None else {}
    return ws.applier(g, records, external).ctx(address, props=props)


# --------------------------------------------------------------------------- drift


def drift(ws: Workspace, targets: Iterable[str] = (), exclude: Iterable[str] = ()) -> dict[str, Change]:
    """Resources AWS reports differently from the state (changed or deleted outside the tool)."""
    p, *_ = ws.make_plan(refresh=True, targets=targets, exclude=exclude, allow_protected=True,
                         allow_data_loss=True)
    return {a: c for a, c in p.changes.items() if c.drift}


# --------------------------------------------------------------------------- import


def import_resource(ws: Workspace, address: str, physical_id: str) -> Record:
    """Adopt an existing AWS resource as ADDRESS: check it is what the code declares, record what AWS says.

    No mutating AWS call: the next plan shows what differs from the code and apply brings it there.
    """
    if address not in ws.full_graph:
        raise PlanError(f"cannot import {physical_id} as {address}: no such address in plan {ws.plan.project} "
                        "(declare the resource in the code first; addresses look like 'main.vpc')")
    store = ws.store
    store.acquire("import")
    try:
        records = ws.records()
        rec = records.get(address)
        if rec is not None and rec.physical_id:
            raise InfraError(f"{address} is already in state as {rec.physical_id}; to re-import, "
                             f"`infra state rm {address}` first")
        g, external = ws.graph(records)
        if address not in g:
            raise PlanError(f"{address} is not in the selected stacks ({', '.join(ws.stacks)})")
        r: Resource = g.nodes[address]["resource"]
        other = next((a for a, x in records.items() if x.physical_id == physical_id and x.type == r.type_name), None)
        if other is not None:
            raise InfraError(f"{physical_id} is already managed as {other}; use `infra state mv {other} {address}`")
        ctx = _ctx(ws, g, records, external, address, r)
        seen = check_type(r, ctx, physical_id)
        # Never recorded healthy when AWS failed to build it (tainted: the next apply replaces it), and not
        # while AWS is still building it (its outputs, endpoints or brokers, do not exist yet).
        cond, state, reason = r.condition(ctx, physical_id)
        if cond == "creating":
            raise InfraError(f"cannot import {physical_id} as {address} yet: AWS is still creating it ({state}); "
                             "import it once it is ready")
        why = (f"{state} ({reason})" if reason else state) if cond == "failed" else ""
        new = Record(address=address, type=r.type_name, physical_id=physical_id,
                     props=stored_props(type(r), seen), outputs={} if why else dict(r.outputs_of(ctx, physical_id) or {}),
                     status="tainted" if why else "created", deps=sorted(g.predecessors(address)),
                     lifecycle=r.lifecycle.to_dict(), reason=why)
        store.put(new, "import")
        return new
    finally:
        store.release()


def check_type(r: Resource, ctx: Ctx, physical_id: str) -> dict[str, Any]:
    """What AWS says of `physical_id` read as r's type; a clear error when it is not one."""
    what = f"{physical_id} cannot be imported as {r.type_name} {r.address}"
    prefix = r.id_prefix
    if prefix and not physical_id.startswith(prefix):
        raise InfraError(f"{what}: {r.type_name} ids start with {prefix!r}")
    try:
        seen = r.read(ctx, physical_id)
    except InfraError:
        raise
    except Exception as exc:  # noqa: BLE001 - the service's own words say why
        raise InfraError(f"{what}: {error_message(exc)}") from exc
    if seen is None:
        raise InfraError(f"{what}: AWS has no {r.type_name} with that id in {ctx.region}")
    return seen


# --------------------------------------------------------------------------- state mv


def state_mv(ws: Workspace, old: str, new: str) -> Record:
    """Re-address a record (a rename in the code) without touching AWS; new record first, then the old goes."""
    if new.split(".", 1)[0] not in ws.plan.stacks or "." not in new:
        raise PlanError(f"state mv: {new!r} is not an address of plan {ws.plan.project} (stack.name, stacks: "
                        f"{', '.join(ws.plan.stacks)})")
    store = ws.store
    store.acquire("state mv")
    try:
        records = ws.records()
        if old not in records:
            raise InfraError(f"state mv: no state record for {old}")
        if new in records:
            raise InfraError(f"state mv: {new} already has a state record ({records[new].physical_id})")
        rec = records[old]
        declared = ws.full_graph.nodes[new]["resource"] if new in ws.full_graph else None
        if declared is not None and declared.type_name != rec.type:
            raise InfraError(f"state mv: {old} is a {rec.type} but the code declares {new} as {declared.type_name}")
        moved = Record(address=new, type=rec.type, physical_id=rec.physical_id, props=rec.props,
                       outputs=rec.outputs, status=rec.status, deps=rec.deps, lifecycle=rec.lifecycle, token=rec.token)
        store.put(moved, f"moved from {old}")
        store.remove(old, f"moved to {new}")
        # Records that named the old address as a dependency now name the new one.
        for a, x in records.items():
            if old in x.deps and a != old:
                x.deps = sorted({new if d == old else d for d in x.deps})
                store.put(x, f"dependency {old} -> {new}")
        return moved
    finally:
        store.release()


# --------------------------------------------------------------------------- plan files


def plan_document(ws: Workspace, p: Plan, *, destroy: bool, options: Mapping[str, Any]) -> dict[str, Any]:
    """What `plan --out` writes: the exact changes, the state serial they were planned on, and a hash."""
    doc = {
        "format": PLAN_FORMAT, "project": ws.plan.project, "plan": ws.opts.plan_name, "env": ws.opts.env,
        "stacks": list(ws.stacks), "serial": p.serial, "destroy": destroy, "options": dict(options),
        "order": list(p.order),
        "changes": [{**p.changes[a].to_json(), "before": _plain(p.changes[a].before),
                     "after": _plain(p.changes[a].after)} for a in p.order if a in p.changes],
        "lifecycle_updates": p.lifecycle_updates,
    }
    doc["hash"] = plan_hash(doc)
    return doc


def plan_hash(doc: Mapping[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "hash"}
    return "sha256:" + hashlib.sha256(_canon(body).encode()).hexdigest()


def write_plan(path: str | Path, doc: Mapping[str, Any]) -> None:
    Path(path).write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")


def read_plan(path: str | Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InfraError(f"no plan file {path}") from None
    except (OSError, ValueError) as exc:
        raise InfraError(f"{path} is not a plan file written by `infra plan --out` ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT:
        raise InfraError(f"{path} is not a plan file written by `infra plan --out` (format {PLAN_FORMAT})")
    if doc.get("hash") != plan_hash(doc):
        raise InfraError(f"plan file {path} was modified after `infra plan --out` wrote it (hash mismatch); "
                         "make a new plan")
    return doc


def _change(d: Mapping[str, Any]) -> Change:
    return Change(address=d["address"], action=d["action"], type=d["type"], before=d.get("before"),
                  after=d.get("after"), diff={k: tuple(v) for k, v in d.get("diff", {}).items()},
                  drift={k: tuple(v) for k, v in d.get("drift", {}).items()}, reason=d.get("reason", ""),
                  pending=d.get("pending"), deps=list(d.get("deps", [])), lifecycle=dict(d.get("lifecycle", {})),
                  destroys_data=bool(d.get("destroys_data")), order=d.get("order", ""),
                  retiring=[list(x) for x in d.get("retiring", [])])


def saved_plan(ws: Workspace, doc: Mapping[str, Any], records: dict[str, Record], g: nx.DiGraph,
               external: dict[str, Any]) -> Plan:
    """The saved changes, after checking the code still asks for exactly them (else StalePlan)."""
    changes = {c.address: c for c in map(_change, doc["changes"]) if c.action != "noop"}
    new_outputs = {a for a, c in changes.items() if c.action in ("create", "replace")}

    def lookup(ref: Ref) -> Any:
        if ref.address in new_outputs:
            return UNKNOWN
        rec = records.get(ref.address)
        outs = rec.outputs if rec is not None else external.get(ref.address, {})
        return outs.get(ref.attr, UNKNOWN)

    moved: list[str] = []
    for a, c in changes.items():
        if c.action in ("create", "update", "replace"):
            if a not in g:
                moved.append(f"{a} is no longer declared")
                continue
            r: Resource = g.nodes[a]["resource"]
            desired = stored_props(type(r), resolve(r.properties, lookup))
            if r.type_name != c.type:
                moved.append(f"{a} is now a {r.type_name}, planned as {c.type}")
            elif _canon(desired) != _canon(c.after):
                moved.append(f"{a}: the code's properties differ from the planned ones")
        elif a in g and not doc.get("destroy"):
            moved.append(f"{a} was planned for deletion but is declared again")
        elif a not in records:
            moved.append(f"{a} is not in state any more")
    if moved:
        raise StalePlan("the saved plan no longer matches the code, so it was not applied:\n  "
                        + "\n  ".join(moved) + "\nRun `infra plan --out FILE` again")
    return Plan(changes=changes, order=[a for a in doc["order"] if a in changes], serial=int(doc["serial"]),
                lifecycle_updates=dict(doc.get("lifecycle_updates") or {}))


def apply_plan_file(ws: Workspace, doc: Mapping[str, Any], *, confirm: Callable[[Plan], bool] = lambda _p: True,
                    on_event: Callable[[str, str, Any], None] | None = None,
                    warn: Callable[[str], None] = lambda _m: None) -> tuple[Plan, Report | None]:
    """Apply exactly the saved plan; refused (StalePlan) when the state serial moved since it was made."""
    for key, have in (("project", ws.plan.project), ("env", ws.opts.env)):
        if doc[key] != have:
            raise InfraError(f"the plan file is for {key} {doc[key]!r}, this run is {key} {have!r}")
    store = ws.store
    store.acquire("apply (plan file)")
    try:
        for w in store.warnings:
            warn(w)
        serial = store.serial()
        if serial != doc["serial"]:
            raise StalePlan(f"the saved plan is stale: it was made at state serial {doc['serial']} and the state "
                            f"is now at serial {serial} (something was applied, imported or moved since). "
                            "Nothing was changed; run `infra plan --out FILE` again and review it")
        records = ws.records()
        if doc.get("destroy"):
            g, external = nx.DiGraph(), {}
        else:
            g, external = ws.graph(records)
        p = saved_plan(ws, doc, records, g, external)
        sync_lifecycle(store, records, {a: v for a, v in p.lifecycle_updates.items() if a in records})
        if not p.has_changes or not confirm(p):
            return p, None
        return p, ws.execute(p, g, records, external, on_event=on_event)
    finally:
        store.release()


# --------------------------------------------------------------------------- scan


@dataclass
class Found:
    """A resource AWS reports with this project's and env's tags."""

    arn: str
    service: str
    tags: dict[str, str]
    known_as: str | None = None  # the state record that holds it
    type: str | None = None  # resource type, when the ARN or the address tag tells it
    adopt_as: str | None = None  # a planned address with no resource in state yet

    @property
    def address(self) -> str | None:
        return self.tags.get("infra:address")


@dataclass
class ScanResult:
    orphans: list[Found] = field(default_factory=list)
    known: list[Found] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # listers that failed (permissions, unsupported region)
    gone: list[Found] = field(default_factory=list)  # still listed, but deleted (a NAT "deleted", a key pending)

    def by_service(self) -> dict[str, list[Found]]:
        out: dict[str, list[Found]] = {}
        for f in sorted(self.orphans, key=lambda f: (f.service, f.arn)):
            out.setdefault(f.service, []).append(f)
        return out


def arn_parts(arn: str) -> tuple[str, str, str]:
    """(service, resource type, id path): 'arn:aws:ec2:r:a:vpc/vpc-1' -> ('ec2', 'vpc', 'vpc-1')."""
    parts = arn.split(":", 5)
    service, res = parts[2], parts[5] if len(parts) > 5 else ""
    if (service, "") in arn_types():  # the resource part is the id itself (a bucket, a topic)
        return service, "", res
    m = re.match(r"([^/:]*)[/:](.*)", res)
    rtype, rest = (m.group(1), m.group(2)) if m else (res, "")
    return service, rtype, rest.removesuffix(":*")


def id_candidates(arn: str) -> list[str]:
    """The forms a physical id may take inside an ARN: the id path, its prefixes, its last segment, the ARN."""
    rest = arn_parts(arn)[2]
    segs = rest.split("/")
    out = [rest] + ["/".join(segs[:n]) for n in range(len(segs) - 1, 0, -1)] + segs[-1:] + [arn]
    return list(dict.fromkeys(s for s in out if s))


Lister = Callable[[Any], Iterator[tuple[str, dict[str, str]]]]

# What AWS makes itself from a resource, copying its tags, and deletes with it: not an orphan.
# RDS automated snapshots are named rds:<instance>-<date> (CopyTagsToSnapshot copies the tags).
AWS_MADE: tuple[tuple[str, str, str], ...] = (("rds", "snapshot", r"^rds:"),)


def aws_made(arn: str) -> bool:
    service, rtype, rest = arn_parts(arn)
    return any(service == s and rtype == t and re.match(pattern, rest) for s, t, pattern in AWS_MADE)


def _kv(tags: Iterable[Mapping[str, str]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in tags or ()}


def direct_listers() -> dict[str, Lister]:
    """What the tagging API (GetResources) does not return: per service, its types' own listers
    (Resource.list_tagged), chained."""

    def chain(fns: list[Lister]) -> Lister:
        return lambda clients: (item for fn in fns for item in fn(clients))

    return {svc: chain(fns) for svc, fns in direct_listers_of_types().items()}


def _tagged(clients: Any, project: str, env: str) -> Iterator[tuple[str, dict[str, str]]]:
    api = clients.client("resourcegroupstaggingapi")
    filters = [{"Key": "infra:project", "Values": [project]}, {"Key": "infra:env", "Values": [env]}]
    for page in api.get_paginator("get_resources").paginate(TagFilters=filters):
        for m in page["ResourceTagMappingList"]:
            yield m["ResourceARN"], _kv(m.get("Tags"))


def scan(ws: Workspace, listers: Mapping[str, Lister] | None = None) -> ScanResult:
    """Everything in AWS tagged for this project and env, split into what state knows and orphans."""
    project, env = ws.plan.project, ws.opts.env
    records = ws.store.read(ws.plan.stacks)
    known: dict[str, str] = {}
    for a, rec in records.items():
        for v in [rec.physical_id, *rec.outputs.values()]:
            if isinstance(v, str) and v:
                known.setdefault(v, a)
    out = ScanResult()
    seen: dict[str, dict[str, str]] = {}
    sources: list[tuple[str, Callable[[], Iterator[tuple[str, dict[str, str]]]]]] = [
        ("tagging API", lambda: _tagged(ws.clients, project, env))]
    sources += [(svc, (lambda fn=fn: fn(ws.clients))) for svc, fn in (listers or direct_listers()).items()]
    for name, source in sources:
        try:
            for arn, tags in source():
                if tags.get("infra:project") == project and tags.get("infra:env") == env:
                    seen.setdefault(arn, tags)
        except Exception as exc:  # noqa: BLE001 - one service failing must not hide the others
            out.errors.append(f"{name}: {error_message(exc) if not isinstance(exc, InfraError) else exc}")
    planned = set(ws.full_graph)
    by_arn = arn_types()
    for arn, tags in sorted(seen.items()):
        if aws_made(arn):
            continue
        service, rtype, _ = arn_parts(arn)
        f = Found(arn=arn, service=service, tags=tags)
        f.known_as = next((known[c] for c in id_candidates(arn) if c in known), None)
        addr = f.address
        if addr in planned:
            f.type = ws.full_graph.nodes[addr]["type"]
            rec = records.get(addr)
            if rec is None or not rec.physical_id:
                f.adopt_as = addr
        else:
            f.type = by_arn.get((service, rtype))
        (out.known if f.known_as else out.orphans).append(f)
    out.gone = [f for f in out.orphans if _alive(ws, f) is False]
    out.orphans = [f for f in out.orphans if f not in out.gone]
    return out


def _alive(ws: Workspace, f: Found) -> bool | None:
    """Whether an orphan still exists as its type reads it: False when a form of its id reads as gone
    (listers still show a deleted NAT gateway, a key pending deletion), None when nothing can tell."""
    if f.type is None:
        return None
    try:
        r = lookup_type(f.type).ghost("orphan", "main")
        ctx = ws.applier(nx.DiGraph(), {}, {}).ctx(f.address if f.address and "." in f.address else "main.orphan")
    except InfraError:
        return None
    answered = False
    for cand in id_candidates(f.arn):
        try:
            if r.read(ctx, cand) is not None:
                return True
            answered = True
        except Exception:  # noqa: BLE001 - a malformed candidate: try the next form
            continue
    return False if answered else None


def untracked_copies(ws: Workspace, p: Plan, records: Mapping[str, Record]) -> dict[str, list[str]]:
    """{address being deleted: physical ids of resources tagged with it that no record holds}.

    A create whose answer was lost after AWS acted, retried blindly, leaves such a copy: tagged as the
    tracked one, unknown to the state. Destroy deletes them with their address (after its dependents,
    before its parent), so the parent's delete does not wait minutes on DependencyViolation. Only a
    copy whose ARN kind is the record's type (or unknown) and that reads as that type is taken.
    """
    going = {a for a, c in p.changes.items() if c.action == "delete" and a in records}
    if not going:
        return {}
    res = scan(ws)
    out: dict[str, list[str]] = {}
    held = {rec.physical_id for rec in records.values() if rec.physical_id}
    for f in res.orphans:
        addr = f.address
        if addr not in going:
            continue
        rec = records[addr]
        service, rtype, _ = arn_parts(f.arn)
        if arn_types().get((service, rtype), rec.type) != rec.type:
            continue  # tagged with the address, but another kind of thing
        stack, name = addr.split(".", 1)
        r = lookup_type(rec.type).ghost(name, stack, rec.props)
        ctx = ws.applier(nx.DiGraph(), dict(records), {}).ctx(addr, props=rec.props)
        pid = _resolve_pid(r, ctx, f)
        if pid is not None and pid not in held:
            out.setdefault(addr, []).append(pid)
    return out


def _resolve_pid(r: Resource, ctx: Ctx, f: Found) -> str | None:
    """The physical id of an orphan: the ARN form of it that reads as the resource's type."""
    for cand in id_candidates(f.arn):
        try:
            if r.read(ctx, cand) is not None:
                return cand
        except Exception:  # noqa: BLE001 - a malformed candidate: try the next form
            continue
    return None


def adopt(ws: Workspace, f: Found) -> Record:
    """Import an orphan whose infra:address tag names a planned address with nothing in state."""
    assert f.adopt_as is not None
    g = ws.full_graph
    r: Resource = g.nodes[f.adopt_as]["resource"]
    records = ws.records()
    ctx = _ctx(ws, g, records, {}, f.adopt_as, r)
    pid = _resolve_pid(r, ctx, f)
    if pid is None:
        raise InfraError(f"cannot adopt {f.arn} as {f.adopt_as}: it does not read as a {r.type_name}")
    return import_resource(ws, f.adopt_as, pid)


def delete_orphan(ws: Workspace, f: Found) -> str:
    """Delete an orphan through its resource type (waiting as the type does); returns its physical id."""
    if f.type is None:
        raise InfraError(f"{f.arn}: no resource type handles this ARN; delete it by hand")
    declared = f.address in ws.full_graph
    addr = f.address if declared else "main.orphan"
    r = ws.full_graph.nodes[addr]["resource"] if declared else lookup_type(f.type).ghost("orphan", "main")
    records = ws.records()
    g, external = ws.graph(records)
    ctx = _ctx(ws, g, records, external, addr, r if declared else None)
    pid = _resolve_pid(r, ctx, f)
    if pid is None:
        return ""  # gone already
    if any(rec.physical_id == pid for rec in records.values()):
        raise InfraError(f"refusing to delete {pid}: a state record manages it")
    ws.opts.retry.delete(lambda: r.delete(ctx, pid))
    return pid
