"""Turns a plan's changes into walker steps that call resource types and record state.

This is where the engine meets AWS: it builds each resource's Ctx, records
the intent before a mutating call and the result after it, and retries the
errors the classifier says are worth retrying. The walk itself is generic
(executor.py).
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from core.errors import (
    AwsError,
    FailedState,
    InfraError,
    Retry,
    classify,
    error_code,
    error_message,
    is_already_exists,
    is_quota,
    matching,
    quota_message,
)
from orchestrator.executor import Outcome, Step, Walker
from orchestrator.graph import longest_remaining
from orchestrator.planner import Change, Plan, diff_props, stored_props
from resources.base import PHASES, Ctx, Ref, Resource, lookup_type, resolve, usual_seconds
from state.dynamodb import DynamoStateStore, Record


@dataclass
class RetryRecord:
    """One kind of answer retried for one resource: what the run's report lists."""

    address: str
    phase: str
    code: str
    attempts: int
    seconds: float


@dataclass
class RetryPolicy:
    """Bounded retries for what is transient, each cause with its own budget.

    - quotas (core.errors.is_quota): never; the error names the quota and the service;
    - throttling: a few attempts with backoff (botocore already retried inside the call);
    - an entry of the type's retry catalogue (core.errors.Retry: a code and message AWS gives
      while something is not ready yet): until that entry's budget of AWS seconds is spent;
    - on delete, "still in use": the type's dependency budget;
    - the generic "eventual" codes (core.errors.EVENTUAL) that no entry claims: a short budget
      only, so a plainly invalid request fails in seconds instead of minutes;
    - a lost answer (the request was sent, the connection timed out or closed: botocore does not
      retry those for creates, orchestrator/aws.py NoBlindRetry): a few attempts, as throttling;
      the create step looks with find() before it tries again;
    - anything else is fatal at once.

    It also counts the retries made, by cause, with botocore's own (reported by the response
    metadata), and keeps a record per resource and code for the run's report.
    """

    initial: float = field(default_factory=lambda: float(os.environ.get("INFRA_RETRY_INITIAL", "1.0")))
    maximum: float | None = None  # default: 20 x initial (20 s against AWS)
    attempts: int = 8
    dependency_seconds: float | None = None  # None: the type's own budget
    eventual_seconds: float = 30.0
    # Real seconds per AWS second of a budget: 1 against AWS; less in a compressed simulation.
    budget_scale: float = field(default_factory=lambda: float(os.environ.get("INFRA_RETRY_SCALE", "1.0")))
    counts: dict[str, int] = field(default_factory=dict)
    log: dict[tuple[str, str, str], RetryRecord] = field(default_factory=dict)
    _count_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def create(self, fn: Callable[[], Any], not_found: tuple[str, ...] = (), *, catalogue: tuple[Retry, ...] = (),
               address: str = "", phase: str = "create") -> Any:
        """Creates and updates: the caller makes trying again safe (a create looks with find() first)."""
        return self.run(fn, phase, catalogue=catalogue, not_found=not_found, address=address)

    def delete(self, fn: Callable[[], Any], *, catalogue: tuple[Retry, ...] = (), address: str = "",
               dependency_seconds: float = 300.0) -> Any:
        """Deletes wait out dependents that are still draining (DependencyViolation and friends)."""
        started = time.monotonic()
        try:
            return self.run(fn, "delete", catalogue=catalogue, address=address,
                            dependency_seconds=dependency_seconds)
        except Exception as exc:
            if classify(exc) != "dependency" and matching(catalogue, exc, "delete") is None:
                raise
            raise AwsError(f"{address + ': ' if address else ''}still in use after "
                           f"{time.monotonic() - started:.0f} s of retries ({error_code(exc)}: {error_message(exc)}). "
                           "Something outside this run depends on it (a resource created by hand or by another "
                           "stack); remove that dependency, then run again") from exc

    def run(self, fn: Callable[[], Any], phase: str, *, catalogue: tuple[Retry, ...] = (),
            not_found: tuple[str, ...] = (), address: str = "", dependency_seconds: float = 300.0) -> Any:
        first: dict[str, float] = {}  # budget key -> when it was first met
        tries: dict[str, int] = {}  # attempts so far of the causes counted by attempts
        backoff = self.initial
        cap = self.maximum if self.maximum is not None else 20.0 * self.initial
        while True:
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - the classification below decides
                cause, key, budget = self._decide(exc, phase, catalogue, not_found, dependency_seconds)
                if cause is None:
                    if is_quota(exc):  # no retry makes room under a quota: say which one, at once
                        raise AwsError(quota_message(exc, address)) from exc
                    raise
                now = time.monotonic()
                if cause in ("throttle", "lost"):
                    tries[cause] = tries.get(cause, 0) + 1
                    if tries[cause] >= self.attempts:
                        raise
                else:
                    since = first.setdefault(key, now)
                    if now - since >= budget * self.budget_scale:
                        raise
                self.count(cause)
                self._note(address, phase, exc, now - first.get(key, now))
                delay = min(cap, backoff) * (1.0 + random.random())
                backoff = min(cap, backoff * 2)
                threading.Event().wait(delay)

    def _decide(self, exc: BaseException, phase: str, catalogue: tuple[Retry, ...], not_found: tuple[str, ...],
                dependency_seconds: float) -> tuple[str | None, str, float]:
        """(cause, budget key, AWS seconds of budget); cause None means do not retry."""
        entry = matching(catalogue, exc, phase)
        if entry is not None:
            return "eventual" if phase != "delete" else "dependency", f"{entry.code}:{entry.message}", entry.seconds
        kind = classify(exc, not_found)
        if kind in ("throttle", "lost"):
            return kind, kind, 0.0
        if kind == "dependency" and phase == "delete":
            budget = self.dependency_seconds if self.dependency_seconds is not None else dependency_seconds
            return "dependency", "dependency", budget
        if kind == "eventual" and phase != "delete":
            return "eventual", "eventual", self.eventual_seconds
        return None, "", 0.0

    def count(self, cause: str, n: int = 1) -> None:
        with self._count_lock:
            self.counts[cause] = self.counts.get(cause, 0) + n

    def _note(self, address: str, phase: str, exc: BaseException, seconds: float) -> None:
        code = error_code(exc) or type(exc).__name__
        with self._count_lock:
            rec = self.log.get((address, phase, code))
            if rec is None:
                self.log[(address, phase, code)] = RetryRecord(address, phase, code, 1, seconds)
            else:
                rec.attempts += 1
                rec.seconds = max(rec.seconds, seconds)

    def records(self) -> list[RetryRecord]:
        with self._count_lock:
            return sorted(self.log.values(), key=lambda r: (r.address, r.phase, r.code))

    def on_response(self, parsed: Any = None, **_: Any) -> None:
        """botocore after-call hook: retries botocore made inside one call before this answer."""
        meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
        if meta.get("RetryAttempts"):
            self.count("aws", int(meta["RetryAttempts"]))


@dataclass
class Report:
    outcome: Outcome
    changes: dict[str, Change]
    step_of: dict[str, str] = field(default_factory=dict)
    interrupted: str | None = None  # the signal that stopped dispatching, if one did
    retries: dict[str, int] = field(default_factory=dict)  # cause -> retries made (throttle, eventual, aws...)
    retry_log: list[RetryRecord] = field(default_factory=list)  # per resource and code: attempts, seconds

    def summary(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {k: [] for k in ("created", "updated", "replaced", "deleted", "failed", "skipped",
                                                     "not_started")}
        verbs = {"create": "created", "update": "updated", "replace": "replaced", "delete": "deleted",
                 "forget": "deleted"}
        for step, _ in self.outcome.done.items():
            addr = step.split("#")[0]
            if step.endswith("#delete") and self.changes[addr].action not in ("delete", "forget"):
                continue  # the old copy of a replacement: the change is counted once, as replaced
            out[verbs[self.changes[addr].action]].append(addr)
        out["failed"] = sorted({s.split("#")[0] for s in self.outcome.failed})
        out["skipped"] = sorted({s.split("#")[0] for s in self.outcome.skipped})
        out["not_started"] = sorted({s.split("#")[0] for s in self.outcome.not_started})
        return {k: sorted(v) for k, v in out.items()}

    @property
    def ok(self) -> bool:
        return self.outcome.ok


class Applier:
    def __init__(self, *, clients: Any, store: DynamoStateStore, project: str, env: str, region: str,
                 plan_tags: Mapping[str, str], graph: nx.DiGraph, records: Mapping[str, Record],
                 external: Mapping[str, Mapping[str, Any]], retry: RetryPolicy | None = None,
                 on_event: Callable[[str, str, Any], None] | None = None,
                 weight: Callable[[str], float] | None = None) -> None:
        self.clients, self.store = clients, store
        self.project, self.env, self.region = project, env, region
        self.plan_tags = dict(plan_tags)
        self.g = graph
        self.records = dict(records)
        self.outputs: dict[str, dict[str, Any]] = {a: dict(r.outputs) for a, r in records.items()}
        self.outputs.update({a: dict(o) for a, o in external.items()})
        self.retry = retry or RetryPolicy()
        self.on_event = on_event or (lambda *_: None)
        self.weight = weight  # address -> priority weight; default: how long AWS usually takes (_step_weight)
        # address -> physical ids of untracked copies tagged with it (orchestrator/day2.untracked_copies):
        # a delete removes them after the tracked one.
        self.copies: dict[str, list[str]] = {}
        # address -> (generation, old copies) of a create under way: what its records carry (replacements).
        self._copy: dict[str, tuple[str, list[list[str]]]] = {}
        self._lock = threading.Lock()
        self.walker: Walker | None = None

    # -- ctx and resources --------------------------------------------------------------

    def ctx(self, address: str, token: str = "", timeouts: Mapping[str, float] | None = None,
            props: Mapping[str, Any] | None = None, generation: str | None = None,
            old_copies: frozenset[str] = frozenset()) -> Ctx:
        """`generation`: which copy's names to use; default the recorded copy's (Record.generation)."""
        stack, name = address.split(".", 1)
        if generation is None:
            rec = self.records.get(address)
            generation = rec.generation if rec is not None else ""
        return Ctx(clients=self.clients, project=self.project, env=self.env, stack=stack, name=name,
                   region=self.region, account_id=self.clients.account_id, plan_tags=self.plan_tags,
                   token=token, timeouts=dict(timeouts or {}), props=dict(props or {}),
                   expected=self._expected(address), generation=generation, old_copies=old_copies)

    def resource(self, change: Change) -> Resource:
        if change.address in self.g:
            return self.g.nodes[change.address]["resource"]
        rec = self.records[change.address]
        stack, name = change.address.split(".", 1)
        return lookup_type(rec.type).ghost(name, stack, rec.props)

    def _lookup(self, ref: Ref) -> Any:
        try:
            return self.outputs[ref.address][ref.attr]
        except KeyError:
            raise InfraError(f"{ref.address} has no recorded output {ref.attr!r}; re-apply it") from None

    def _type_of(self, address: str) -> str:
        """The resource type at an address: the code's, else the recorded one (a resource being removed)."""
        if address in self.g:
            return self.g.nodes[address]["type"]
        return self.records[address].type if address in self.records else ""

    def _expected(self, address: str) -> dict[str, float]:
        """How long AWS usually takes for this resource's type, per phase (the type's `durations`)."""
        t = self._type_of(address)
        return {ph: usual_seconds(t, ph) for ph in PHASES}

    def _timeouts(self, r: Resource) -> dict[str, float]:
        t = dict(type(r).timeouts)
        t.update(r.lifecycle.timeouts or {})
        return t

    # -- work -------------------------------------------------------------------------

    def _record(self, r: Resource, change: Change, **kw: Any) -> Record:
        deps = sorted(set(change.deps) | {d.address if isinstance(d, Resource) else d for d in r.depends_on})
        # Which copy it is and the old copies still to delete: a create under way says, else the record.
        prev = self.records.get(change.address)
        generation, retiring = self._copy.get(change.address) or (
            (prev.generation, prev.retiring) if prev is not None else ("", []))
        kw.setdefault("generation", generation)
        kw.setdefault("retiring", [list(x) for x in retiring])
        kw.setdefault("tags", dict(prev.tags) if prev is not None else {})
        rec = Record(address=change.address, type=r.type_name, physical_id=kw.pop("physical_id", None),
                     deps=deps, lifecycle=r.lifecycle.to_dict(), **kw)
        return rec

    def _copy_plan(self, change: Change, prev: Record | None) -> tuple[str, list[list[str]]]:
        """(generation, old copies) of the copy a create makes.

        A create-first replacement makes a second copy while the first exists: the next generation (so a
        deterministic name does not collide), with the old one listed to delete once dependents are
        re-pointed. A create resumed after a crash keeps what its intent recorded.
        """
        if prev is None:
            return "", []
        if change.action == "replace" and change.order != "delete_first" and not prev.pending \
                and prev.physical_id:
            return next_generation(prev.generation), [*prev.retiring, [prev.physical_id, prev.generation]]
        return prev.generation, [list(x) for x in prev.retiring]

    def do_create(self, change: Change) -> str:
        r = self.resource(change)
        props = resolve(r.properties, self._lookup)
        stored = stored_props(type(r), props)
        prev = self.records.get(change.address)
        token = prev.token if prev is not None and prev.pending and prev.token else uuid.uuid4().hex
        generation, retiring = self._copy_plan(change, prev)
        with self._lock:
            self._copy[change.address] = (generation, retiring)
        old_ids = frozenset(pid for pid, _ in retiring)
        ctx = self.ctx(change.address, token, self._timeouts(r), props, generation=generation, old_copies=old_ids)

        def look() -> tuple[str, dict[str, Any]] | None:
            """find(), never answering with an old copy (a tag-based find may see both copies)."""
            got = r.find(ctx)
            return None if got is None or got[0] in old_ids else got

        if prev is not None and prev.pending:
            found = look()
            if found is not None:
                return self._adopt(r, change, ctx, found, props, stored)
        self.store.put(self._record(r, change, status="creating", props=stored, token=token), "intent create")
        attempts = [0]

        def once() -> tuple[str, dict[str, Any]] | str:
            # A retried create may follow a call that did part of its work, or whose answer was lost
            # after AWS acted: look before creating again.
            attempts[0] += 1
            if attempts[0] > 1:
                again = look()
                if again is not None:
                    return self._adopt(r, change, ctx, again, props, stored)
            try:
                return r.create(ctx, props)
            except Exception as exc:
                # "Already exists" about what find() shows carrying this address's tag is this
                # create's own work (a retry of a call AWS carried out): adopt it, never fail on it.
                if not is_already_exists(exc):
                    raise
                mine = look()
                if mine is None:
                    raise
                return self._adopt(r, change, ctx, mine, props, stored)

        try:
            result = self.retry.create(once, type(r).not_found, catalogue=type(r).retries, address=change.address)
        except FailedState as exc:
            raise self._taint(r, change, ctx, stored, exc) from exc
        if isinstance(result, str):
            return result
        pid, outputs = result
        self._finish(r, change, pid, stored, outputs, "create")
        return pid

    def _adopt(self, r: Resource, change: Change, ctx: Ctx, found: tuple[str, dict[str, Any]],
               props: dict[str, Any], stored: dict[str, Any]) -> str:
        """Take over what an earlier attempt created, bringing it to the desired properties.

        Never as found: one AWS is still building is waited for first (its outputs, brokers or
        endpoints, exist only then), and one AWS gave up on is recorded tainted, not created.
        """
        pid, outputs = found
        cond, state, reason = r.condition(ctx, pid)
        if cond == "failed":
            raise self._taint(r, change, ctx, stored, None, pid, f"{state} ({reason})" if reason else state)
        try:  # one still being built is waited for; a ready one answers the wait's first poll
            r.wait_created(ctx, pid)
        except FailedState as exc:
            raise self._taint(r, change, ctx, stored, exc, pid) from exc
        if cond == "creating":
            outputs = r.outputs_of(ctx, pid)
        seen = r.read(ctx, pid) or {}
        unobservable = type(r).write_only | type(r).secret_props()
        if diff_props({k: v for k, v in stored_props(type(r), seen).items() if k in stored}, stored, unobservable,
                      type(r).unordered):
            # What AWS has is the old side; a property it has none of (a policy an interrupted create never
            # set) is None there, not the desired value, or the update would think it already done.
            absent = {k: None for k in stored if k not in seen and k not in unobservable}
            outputs = r.update(ctx, pid, {**stored, **absent, **seen}, props) or outputs
        self._finish(r, change, pid, stored, outputs, "adopted")
        return f"adopted {pid}"

    def _taint(self, r: Resource, change: Change, ctx: Ctx, stored: dict[str, Any], exc: Exception | None,
               pid: str | None = None, why: str = "") -> FailedState:
        """Record a resource AWS failed to build as tainted, with its physical id (so the next apply can
        delete it: it exists and is billed) and AWS's reason; returns the error that fails the step."""
        if pid is None:
            found = r.find(ctx)
            pid = found[0] if found is not None else None
        if pid is None:
            return FailedState(f"{change.address}: {r.type_name} failed to create and cannot be found to record "
                               f"({exc}); look for it in AWS before running again")
        if not why:
            _, state, reason = r.condition(ctx, pid)
            why = (f"{state} ({reason})" if reason else state) or str(exc)
        rec = self._record(r, change, physical_id=pid, status="tainted", props=stored, outputs={}, reason=why)
        self.store.put(rec, "tainted")
        with self._lock:
            self.records[change.address] = rec
        return FailedState(f"{change.address}: {r.type_name} {pid} failed to create: AWS reports {why}. Recorded as "
                           "tainted; the next apply replaces it")

    def do_update(self, change: Change) -> str:
        r = self.resource(change)
        rec = self.records[change.address]
        props = resolve(r.properties, self._lookup)
        stored = stored_props(type(r), props)
        ctx = self.ctx(change.address, rec.token or uuid.uuid4().hex, self._timeouts(r))
        self.store.put(self._record(r, change, physical_id=rec.physical_id, status="updating", props=rec.props,
                                    outputs=rec.outputs, token=ctx.token), "intent update")
        old = dict(change.before or rec.props)
        if not change.diff and rec.status != "updating" and change.retiring:
            outputs = rec.outputs  # nothing to change: the change only deletes an old copy (its #delete step)
        else:
            attempts = [0]

            def once() -> Any:
                # Tried again (an answer the type's catalogue retries), a multi-step update resumes: the
                # steps the earlier attempt made are in AWS already and are not requested twice (audit M5).
                attempts[0] += 1
                base = old if attempts[0] == 1 else self._resumed(r, change, rec, old, props)
                return r.update(ctx, rec.physical_id, base, props)

            outputs = self.retry.create(once, type(r).not_found, catalogue=type(r).retries, address=change.address,
                                        phase="update")
        self._finish(r, change, rec.physical_id, stored, outputs or rec.outputs, "update")
        return rec.physical_id or ""

    def _resumed(self, r: Resource, change: Change, rec: Record, old: dict[str, Any],
                 props: dict[str, Any]) -> dict[str, Any]:
        """The old side for an update tried again: what AWS holds now, where read() says, over what the
        plan started from, so what the earlier attempt already did is not requested a second time (an
        upgrade to the version the resource now runs, a change AWS may still be applying)."""
        seen = r.read(self.ctx(change.address, rec.token, self._timeouts(r), props), rec.physical_id or "")
        if not seen:
            return old
        unobservable = type(r).write_only | type(r).secret_props()
        return {**old, **{k: v for k, v in seen.items() if (k in old or k in props) and k not in unobservable}}

    def do_retire(self, change: Change) -> str:
        """Delete the old copies a create-first replacement left, once the new one is in use.

        Each is taken off the record as soon as it is gone, so a crash in between deletes only the rest.
        """
        r = self.resource(change)
        rec = self.records[change.address]
        gone: list[str] = []
        for pid, generation in [list(x) for x in rec.retiring]:
            ctx = self.ctx(change.address, rec.token, self._timeouts(r), change.before or rec.props,
                           generation=generation)
            self.retry.delete(lambda c=ctx, p=pid: r.delete(c, p), catalogue=type(r).retries,
                              address=change.address, dependency_seconds=type(r).dependency_seconds)
            rec.retiring = [x for x in rec.retiring if x[0] != pid]
            with self._lock:
                self._copy.pop(change.address, None)
            self.store.put(rec, "delete old copy")
            gone.append(pid)
        return ", ".join(gone) or "no old copy"

    def do_delete(self, change: Change) -> str:
        rec = self.records[change.address]
        if change.action == "forget":
            self.store.remove(change.address, "forget (retain_on_delete)")
            return "forgotten"
        r = self.resource(change)
        ctx = self.ctx(change.address, rec.token, self._timeouts(r), rec.props)
        if rec.physical_id is None:
            found = r.find(ctx)
            if found is None:
                self.store.remove(change.address, "delete (never created)")
                return "nothing to delete"
            rec.physical_id = found[0]
        rec.status = "deleting"
        self.store.put(rec, "intent delete")
        pid = rec.physical_id
        left = self.retry.delete(lambda: r.delete(ctx, pid), catalogue=type(r).retries, address=change.address,
                                 dependency_seconds=type(r).dependency_seconds)
        for copy in self.copies.get(change.address, ()):
            if copy != pid:  # an untracked copy with this address's tag: its parent's delete waits for it
                self.retry.delete(lambda c=copy: r.delete(ctx, c), catalogue=type(r).retries,
                                  address=change.address, dependency_seconds=type(r).dependency_seconds)
        self.store.remove(change.address, "delete")
        with self._lock:
            self.outputs.pop(change.address, None)
        # What the type left on purpose (a final snapshot, a key kept for it) is said with the result.
        return f"{pid}; {left}" if isinstance(left, str) and left else (pid or "")

    def _finish(self, r: Resource, change: Change, pid: str, stored: dict[str, Any], outputs: dict[str, Any],
                what: str) -> None:
        if not pid:
            raise AwsError(f"{change.address}: {r.type_name}.{what} returned no physical id")
        rec = self._record(r, change, physical_id=pid, status="created", props=stored, outputs=dict(outputs or {}),
                           tags=self.ctx(change.address).tags)  # what create()/update() applied
        self.store.put(rec, what)
        with self._lock:
            self.outputs[change.address] = rec.outputs
            self.records[change.address] = rec
            self._copy.pop(change.address, None)  # the record says which copy it is from now on

    # -- steps ------------------------------------------------------------------------

    def steps(self, plan: Plan) -> dict[str, Step]:
        """The walk's steps. A replacement is create-first unless its type or lifecycle says otherwise
        (Change.order): the new copy (`ADDR`), then every dependent re-pointed to it, then the old copy
        deleted (`ADDR#delete`), so nothing in use is deleted and nothing points at nothing. A
        delete-first one deletes (`ADDR#delete`) before it creates; a create-first replacement that
        depends on one goes delete-first too (its old copy refers to what is deleted first)."""
        changes = {a: c for a, c in plan.changes.items() if c.action != "noop"}
        steps: dict[str, Step] = {}
        first = set()  # delete-first replacements
        for a in [x for x in plan.order if x in changes] + [x for x in changes if x not in plan.order]:
            c = changes[a]
            if c.action == "replace" and (c.order == "delete_first" or any(d in first for d in c.deps)):
                first.add(a)
        dele = {a for a, c in changes.items() if c.action in ("delete", "forget")} | first
        make = {a for a, c in changes.items() if c.action in ("create", "update", "replace")}
        retire = {a for a in make if a not in first and (changes[a].action == "replace" or changes[a].retiring)}
        for a in make:
            c = changes[a]
            run = self.do_update if c.action == "update" else self.do_create
            after = {d for d in c.deps if d in make}
            if a in dele:
                after.add(f"{a}#delete")
            steps[a] = Step(a, _bind(run, c), after)
        for a in dele:
            steps[f"{a}#delete"] = Step(f"{a}#delete", _bind(self.do_delete, changes[a]), set())
        users: dict[str, set[str]] = {}  # address -> what refers to it (recorded deps, or the graph's)
        for a in set(changes) | set(self.records):
            deps = set(self.records[a].deps) if a in self.records else set()
            if a in self.g:
                deps |= set(self.g.predecessors(a))
            for d in deps:
                users.setdefault(d, set()).add(a)
        for a in retire:
            # The old copy goes once the new one exists and everything that refers to it was re-pointed.
            after = {a} | {u for u in users.get(a, ()) if u in make and u != a}
            steps[f"{a}#delete"] = Step(f"{a}#delete", _bind(self.do_retire, changes[a]), after)
        # A delete waits for the deletes of whatever depends on it (recorded deps, or the graph's).
        for a in dele | retire:
            deps = set(self.records[a].deps) if a in self.records else set()
            if a in self.g:
                deps |= set(self.g.predecessors(a))
            for d in deps:
                if d in dele | retire:
                    steps[f"{d}#delete"].after.add(f"{a}#delete")
        sg = {n: set(s.after) for n, s in steps.items()}
        order_g = nx.DiGraph()
        order_g.add_nodes_from(sg)
        for n, after in sg.items():
            for p in after:
                order_g.add_edge(p, n)
        prio = longest_remaining(order_g, lambda n: self._step_weight(n, changes))
        for n, s in steps.items():
            s.priority = prio[n]
        return steps

    def _step_weight(self, step: str, changes: Mapping[str, Change]) -> float:
        """A step's scheduling weight: AWS's usual seconds for it (the type's durations) plus one for its calls.

        The walker starts the ready step with the longest remaining path first,
        so an MSK cluster's subnets go before a parameter's.
        """
        addr = step.split("#")[0]
        if self.weight is not None:
            return self.weight(addr)
        phase = "delete" if step.endswith("#delete") else "update" if changes[addr].action == "update" else "create"
        return 1.0 + usual_seconds(self._type_of(addr), phase)

    def run(self, plan: Plan, parallelism: int = 10, stop: threading.Event | None = None) -> Report:
        """Walk the plan's steps; `stop` (set by a signal) ends dispatching, running steps finish."""
        self.walker = Walker(parallelism=parallelism, on_event=self._event(plan))
        if stop is not None:
            self.walker.stop = stop
        before = dict(self.retry.counts)
        outcome = self.walker.walk(self.steps(plan))
        retries = {k: v - before.get(k, 0) for k, v in self.retry.counts.items() if v - before.get(k, 0)}
        return Report(outcome, plan.changes, retries=retries)

    def _event(self, plan: Plan) -> Callable[[str, str, Any], None]:
        started: dict[str, float] = {}

        def on(step: str, kind: str, info: Any) -> None:
            addr = step.split("#")[0]
            c = plan.changes[addr]
            verb = "deleting" if step.endswith("#delete") else {"create": "creating", "update": "updating",
                                                                  "replace": "creating", "delete": "deleting",
                                                                  "forget": "forgetting"}[c.action]
            if kind == "start":
                started[step] = time.monotonic()
                self.on_event(addr, "start", verb)
            elif kind == "done":
                self.on_event(addr, "done", (verb, info, time.monotonic() - started.get(step, time.monotonic())))
            elif kind == "failed":
                msg = error_message(info) if not isinstance(info, InfraError) else str(info)
                self.on_event(addr, "failed", (verb, f"{type(info).__name__}: {msg}"))
            else:
                self.on_event(addr, kind, info)

        return on


def next_generation(generation: str) -> str:
    """The replacement name scheme: "" -> "r1" -> "r2"...: short (names such as a target group's have
    32 characters), and one copy's never another's."""
    return f"r{int(generation[1:]) + 1}" if generation[1:].isdigit() else "r1"


def _bind(fn: Callable[[Change], Any], c: Change) -> Callable[[], Any]:
    return lambda: fn(c)
