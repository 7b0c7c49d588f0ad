"""Application functions behind the CLI: validate, plan, apply, destroy, graph, state.

Every check that needs no AWS call (plan import, graph, properties) runs
first; then credentials and endpoint; then the lock; only then anything that
mutates.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from core.errors import LockError, PlanError, StateError
from orchestrator import interrupt
from orchestrator.apply import Applier, Report, RetryPolicy
from orchestrator.aws import Clients, is_mutating
from orchestrator.graph import build_graph, deps_graph, target_closure
from orchestrator.model import Plan as Declared
from orchestrator.model import load_plan
from orchestrator.planner import Plan, plan_apply, plan_destroy
from resources.base import REGISTRY, Ref, Resource, resource_tags
from state.dynamodb import DEFAULT_TABLE, DynamoStateStore, Record


@dataclass
class Options:
    env: str = "dev"
    stacks: list[str] = field(default_factory=list)
    plan_name: str = "genai_demo"
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    # None: INFRA_STATE_TABLE, else the plan's own (Plan.state_table), else DEFAULT_TABLE.
    state_table: str | None = None
    parallelism: int = 10
    refresh: bool = True
    lease_seconds: float = field(default_factory=lambda: float(os.environ.get("INFRA_LEASE_SECONDS", "60")))
    poll_delay: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)


STATUSES = ("created", "creating", "updating", "deleting", "tainted")


def check_record(rec: Record, pk: str) -> None:
    """A hand-edited record that parses but has the wrong shape is as corrupt as one that does not parse."""
    wrong = [name for name, value, kind in (("props", rec.props, dict), ("outputs", rec.outputs, dict),
                                            ("deps", rec.deps, list), ("lifecycle", rec.lifecycle, dict))
             if not isinstance(value, kind)]
    if rec.status not in STATUSES:
        wrong.append(f"status {rec.status!r}")
    if wrong:
        raise StateError(f"state record {pk}/{rec.address} is corrupt (wrong shape: {', '.join(wrong)}); fix or "
                         "remove it with `infra state rm` before running again — nothing was changed")
    if rec.type not in REGISTRY:
        raise StateError(f"state record {pk}/{rec.address} names resource type {rec.type!r}, which this tool does "
                         "not know (hand-edited, or written by a newer version); fix or remove it with "
                         "`infra state rm` — nothing was changed")


def check_static(g: nx.DiGraph) -> None:
    """Checks across resources that need no AWS call: a CIDR block inside its VPC's.

    Plan modules may check more (plans/genai_demo/network.py checks its
    tiers), but a hand-written plan gets this one from the graph: any
    resource with a literal CidrBlock whose VpcId refers to a VPC declared
    with a literal CidrBlock.
    """
    for addr in g:
        r = g.nodes[addr]["resource"]
        block, vpc_ref = r.properties.get("CidrBlock"), r.properties.get("VpcId")
        if not isinstance(block, str) or not isinstance(vpc_ref, Ref) or isinstance(vpc_ref.resource, str):
            continue
        parent = vpc_ref.resource.properties.get("CidrBlock")
        if not isinstance(parent, str):
            continue
        try:
            inside = ipaddress.ip_network(block).subnet_of(ipaddress.ip_network(parent))
        except (TypeError, ValueError):
            continue  # not comparable (IPv6 vs IPv4, or invalid: the property validator says so)
        if not inside:
            raise PlanError(f"{addr}: CidrBlock {block} is not inside its VPC {vpc_ref.address} ({parent})")


class Workspace:
    """One plan, env and account: the declared plan, clients and the state store."""

    def __init__(self, opts: Options, clients: Clients | None = None) -> None:
        self.opts = opts
        self.plan: Declared = load_plan(opts.plan_name, opts.env)
        self.stacks = self.plan.select(opts.stacks)
        # The whole plan must be a valid graph before anything else happens.
        self.full_graph, _ = build_graph(self.plan, None, state_outputs=None)
        check_static(self.full_graph)
        self.clients = clients or Clients(region=opts.region or self.plan.region, profile=opts.profile,
                                          endpoint_url=opts.endpoint_url, poll_delay=opts.poll_delay)
        # botocore's own retries (throttling inside one call) are counted with the engine's, for the report.
        self.clients.add_hook("after-call", opts.retry.on_response)
        self.clients.add_hook("before-send", self._check_lease)
        self._store: DynamoStateStore | None = None

    @property
    def state_table(self) -> str:
        """The flag's table, else INFRA_STATE_TABLE, else the plan's, else the default: records are keyed by
        the plan's project too, so two plans never share state records even in one table."""
        return self.opts.state_table or os.environ.get("INFRA_STATE_TABLE") or self.plan.state_table \
            or DEFAULT_TABLE

    @property
    def store(self) -> DynamoStateStore:
        if self._store is None:
            self.clients.check()
            self._store = DynamoStateStore(self.clients.client("dynamodb"), self.plan.project, self.opts.env,
                                           self.state_table, lease_seconds=self.opts.lease_seconds)
            self._store.ensure_table()
        return self._store

    def _check_lease(self, event_name: str = "", **_: Any) -> None:
        """No mutating AWS call leaves this process once its lease has (nearly) run out.

        The state writes are fenced, but an AWS call is not: a process paused
        past its lease (SIGSTOP, a suspended laptop, a frozen VM) while another
        run took over would otherwise create a second copy of what the other
        run just created, then fail to record it. Checked at before-send, the
        last moment before the wire (every attempt); what is already on the
        wire when the pause comes is covered by the idempotency token the new
        run reuses from the intent. The heartbeat keeps the local expiry at
        least two thirds of a lease ahead, so this refuses only when renewal
        stopped; the margin covers clock skew with the process taking over.
        """
        store = self._store
        lease = store.lease if store is not None else None
        parts = event_name.split(".")
        if lease is None or len(parts) < 3 or parts[1] in ("dynamodb", "sts") or not is_mutating(parts[2]):
            return
        if lease.expires - store.lease_seconds / 6 < time.time():
            raise LockError(f"refusing to call {parts[1]}.{parts[2]}: this run's lease ran out (it was paused or "
                            f"cut off for longer than {store.lease_seconds:.0f} s) and another run may hold the "
                            "lock now. Nothing more is changed by this run; re-run to reconcile")

    def records(self) -> dict[str, Record]:
        """State of every stack of the plan (one Query each): selected ones plus those they refer to."""
        records = self.store.read(self.plan.stacks)
        for rec in records.values():
            check_record(rec, self.store.pk(rec.stack))
        return records

    def graph(self, records: dict[str, Record] | None = None) -> tuple[nx.DiGraph, dict[str, Any]]:
        outs = {a: r.outputs for a, r in (records or {}).items() if r.physical_id}
        g, b = build_graph(self.plan, self.stacks, state_outputs=outs)
        return g, b.external

    def refresh(self, g: nx.DiGraph, records: dict[str, Record],
                only: set[str] | None = None) -> dict[str, dict[str, Any] | None]:
        """What AWS says of every recorded resource in the graph (or in `only`), in parallel.

        Grouped by type: a type that batches (its own read_many) reads all its resources in a
        few calls, one task per type; any other type reads one resource per task, as before.
        Two addresses holding the same physical id are read apart (read_many answers by id).
        """
        todo = [a for a in g if a in records and records[a].physical_id and (only is None or a in only)]
        applier = self.applier(g, records, {})
        tasks: list[list[str]] = []
        by_type: dict[type, list[str]] = {}
        for addr in todo:
            cls = type(g.nodes[addr]["resource"])
            if getattr(cls.read_many, "__func__", None) is Resource.read_many.__func__:
                tasks.append([addr])
            else:
                by_type.setdefault(cls, []).append(addr)
        for addrs in by_type.values():
            batch: dict[str, str] = {}  # physical id -> the address read in the type's batch
            for addr in addrs:
                pid = records[addr].physical_id
                if pid in batch:
                    tasks.append([addr])
                else:
                    batch[pid] = addr
            tasks.append(list(batch.values()))

        def read(addrs: list[str]) -> list[tuple[str, dict[str, Any] | None]]:
            items = [(g.nodes[a]["resource"], applier.ctx(a, props=records[a].props), records[a].physical_id)
                     for a in addrs]
            live = type(items[0][0]).read_many(items) if items else {}
            return [(a, live[records[a].physical_id]) for a in addrs]

        with ThreadPoolExecutor(max_workers=max(1, self.opts.parallelism)) as pool:
            out = {a: props for done in pool.map(read, tasks) for a, props in done}
        if any(records[a].tags for a in todo):
            for a, tags in self.live_tags(records, todo).items():
                if out.get(a) is not None:
                    out[a] = {**out[a], "(tags)": tags}
        return out

    def live_tags(self, records: dict[str, Record], addrs: list[str]) -> dict[str, dict[str, str]]:
        """Tags AWS reports for the recorded resources, through the tagging API (GetResources, a few
        calls for the whole account and env), so tag drift shows in plan and drift (issue 13). A
        resource is matched by its ARN holding its recorded id, else by its infra:address tag; one the API does not return (a type it does not cover) is not compared. The API being
        unavailable (no permission) leaves tags uncompared rather than failing the plan."""
        from orchestrator.day2 import _tagged

        want = set(addrs)
        by_id = {records[a].physical_id: a for a in addrs if records[a].physical_id}
        found: dict[str, dict[str, str]] = {}
        try:
            for arn, tags in _tagged(self.clients, self.plan.project, self.opts.env):
                tagged = tags.get("infra:address")
                # The ARN is the recorded id, or ends with it (EC2's .../sg-...); its own address tag, when
                # it has one, must agree: a route table's ARN is not its route's or its association's.
                mine = by_id.get(arn) or by_id.get(arn.rsplit("/", 1)[-1]) or by_id.get(arn.rsplit(":", 1)[-1])
                if mine is not None and tagged in (None, mine):
                    found[mine] = tags
                elif tagged in want and tagged not in found and by_id.get(arn) is None:
                    found[tagged] = tags
        except Exception:  # noqa: BLE001 - tag drift is an extra; the plan itself must go on
            return {}
        return found

    def applier(self, g: nx.DiGraph, records: dict[str, Record], external: dict[str, Any],
                on_event: Callable[[str, str, Any], None] | None = None) -> Applier:
        return Applier(clients=self.clients, store=self.store, project=self.plan.project, env=self.opts.env,
                       region=self.clients.region, plan_tags=self.plan.tags, graph=g, records=records,
                       external=external, retry=self.opts.retry, on_event=on_event)

    # -- operations ---------------------------------------------------------------------

    def make_plan(self, *, destroy: bool = False, replace: Iterable[str] = (), allow_protected: bool = False,
                  refresh: bool | None = None, targets: Iterable[str] = (), exclude: Iterable[str] = (),
                  allow_data_loss: bool = False) -> tuple[Plan, nx.DiGraph, dict[str, Record], dict[str, Any]]:
        records = self.records()
        serial = self.store.serial()
        mine = {a: r.deps for a, r in records.items() if r.stack in self.stacks}
        if destroy:
            sel = target_closure(deps_graph(mine), targets, exclude, destroy=True)
            self.check_destroy_dependents(records, sel)
            g = nx.DiGraph()
            return plan_destroy(records, stacks=self.stacks, allow_protected=allow_protected, serial=serial,
                                selection=sel), g, records, {}
        self.preflight()
        g, external = self.graph(records)
        for a in replace:
            if a not in g:
                raise PlanError(f"--replace {a}: no such address in the selected stacks")
        targets = list(targets)
        sel = target_closure(deps_graph({a: d for a, d in mine.items() if a not in g}, g),
                             targets + list(replace) if targets else (), exclude)
        live = self.refresh(g, records, sel) if (self.opts.refresh if refresh is None else refresh) else {}
        p = plan_apply(g, records, stacks=self.stacks, external=external, live=live, replace=replace,
                       allow_protected=allow_protected, serial=serial, selection=sel, allow_data_loss=allow_data_loss,
                       tags=self.tags_of)
        return p, g, records, external

    def preflight(self) -> None:
        """The types' read-only account checks (Resource.preflight), before anything is planned or changed:
        each check once, with every address of the selected stacks whose type shares it (one message)."""
        by_check: dict[Any, tuple[type, list[Resource]]] = {}
        for _, data in self.full_graph.nodes(data=True):
            r = data.get("resource")
            check = getattr(type(r).preflight, "__func__", None) if r is not None else None
            if check is None or check is Resource.preflight.__func__ or r.stack not in self.stacks:
                continue
            by_check.setdefault(check, (type(r), []))[1].append(r)
        for cls, found in sorted(by_check.values(), key=lambda v: v[0].type_name):
            cls.preflight(self.clients, sorted(found, key=lambda r: r.address))

    def tags_of(self, address: str) -> dict[str, str]:
        """The tags the resource at `address` must carry (what its Ctx.tags applies)."""
        return resource_tags(self.plan.project, self.opts.env, address, self.plan.tags)

    def check_destroy_dependents(self, records: dict[str, Record], selection: set[str] | None = None) -> None:
        """Refuse to destroy a stack another applied stack still refers to (unless both go together)."""
        going = {a for a, r in records.items() if r.stack in self.stacks and (selection is None or a in selection)}
        blockers = sorted(f"{a} (stack {r.stack}) refers to {d}" for a, r in records.items()
                          if a not in going for d in r.deps if d in going)
        if blockers:
            stacks = sorted({b.split(" (stack ")[1].split(")")[0] for b in blockers})
            raise PlanError(f"cannot destroy stack(s) {', '.join(self.stacks)}: still referred to by applied stack(s) "
                            f"{', '.join(stacks)}:\n  " + "\n  ".join(blockers[:20])
                            + f"\nDestroy {', '.join(stacks)} first, or select all of them together.")

    def execute(self, p: Plan, g: nx.DiGraph, records: dict[str, Record], external: dict[str, Any],
                on_event: Callable[[str, str, Any], None] | None = None,
                copies: dict[str, list[str]] | None = None) -> Report:
        """Run the changes; SIGINT/SIGTERM stop dispatching and let what is in flight finish and be recorded.

        `copies` (a destroy's): untracked resources tagged with an address being deleted, deleted with it.
        """
        applier = self.applier(g, records, external, on_event)
        applier.copies = dict(copies or {})
        with interrupt.Guard(on_abandon=self.store.release) as guard:
            guard.executing = True
            report = applier.run(p, self.opts.parallelism, stop=guard.stop)
        report.interrupted = guard.signame
        report.retries = {k: v for k, v in self.opts.retry.counts.items() if v}
        report.retry_log = self.opts.retry.records()
        return report


def run_changes(ws: Workspace, operation: str, *, confirm: Callable[[Plan], bool] = lambda _p: True,
                on_event: Callable[[str, str, Any], None] | None = None,
                warn: Callable[[str], None] = lambda _m: None, **plan_kw: Any) -> tuple[Plan, Report | None]:
    """Lock, plan, confirm, execute, unlock. The report is None when nothing ran."""
    store = ws.store
    store.acquire(operation)
    try:
        # Until changes start, a signal ends the run at once (interrupt.Interrupted); the lock is released below.
        with interrupt.Guard(on_abandon=store.release):
            for w in store.warnings:
                warn(w)
            p, g, records, external = ws.make_plan(**plan_kw)
            sync_lifecycle(ws.store, records, p.lifecycle_updates)
            if not p.has_changes or not confirm(p):
                return p, None
            copies = _untracked_copies(ws, p, records, warn) if plan_kw.get("destroy") else {}
            return p, ws.execute(p, g, records, external, on_event=on_event, copies=copies)
    finally:
        store.release()


def _untracked_copies(ws: Workspace, p: Plan, records: dict[str, Record],
                      warn: Callable[[str], None]) -> dict[str, list[str]]:
    """What `infra scan` finds tagged with an address the destroy deletes (day2.untracked_copies);
    a scan that fails leaves the destroy as it was, with a warning."""
    from orchestrator import day2

    try:
        found = day2.untracked_copies(ws, p, records)
    except Exception as exc:  # noqa: BLE001 - the scan is an extra; the destroy itself must go on
        warn(f"could not look for untracked copies ({type(exc).__name__}: {exc}); run `infra scan` after")
        return {}
    for addr, pids in sorted(found.items()):
        warn(f"{addr}: also deleting {len(pids)} untracked cop{'y' if len(pids) == 1 else 'ies'} tagged with it: "
             + ", ".join(pids))
    return found


def sync_lifecycle(store: DynamoStateStore, records: dict[str, Record], updates: dict[str, dict[str, Any]]) -> None:
    """Record lifecycle settings the code changed (state only, no AWS call), so they outlive the code."""
    for addr, lc in updates.items():
        rec = records[addr]
        rec.lifecycle = dict(lc)
        store.put(rec, "lifecycle")
