"""Scale: graph build + planning CPU (no AWS) and apply/destroy on moto for synthetic plans of growing size."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bench import synthetic
from bench.harness import Calls, fresh_aws, workspace
from orchestrator.graph import build_graph
from orchestrator.planner import plan_apply, stored_props
from orchestrator.runs import run_changes
from resources.base import resolve
from state.dynamodb import Record


@dataclass
class Size:
    n: int
    build_cpu: float = 0.0  # declaring the plan
    graph_cpu: float = 0.0
    plan_cpu: float = 0.0  # planning against a stored state of everything (all no-op)
    apply_s: float | None = None
    destroy_s: float | None = None
    noop_calls: dict[str, int] = field(default_factory=dict)


def stored_state(g: Any) -> dict[str, Record]:
    """A state in which every resource of the graph exists as declared (made up, no AWS)."""
    outs = {a: {k: f"{a}:{k}" for k in type(d["resource"]).outputs} for a, d in g.nodes(data=True)}
    records = {}
    for a, d in g.nodes(data=True):
        r = d["resource"]
        props = stored_props(type(r), resolve(r.properties, lambda ref: outs[ref.address][ref.attr]))
        records[a] = Record(address=a, type=r.type_name, physical_id=f"pid-{a}", props=props, outputs=outs[a],
                            deps=sorted(g.predecessors(a)))
    return records


def measure_planning(n: int) -> Size:
    s = Size(n)
    c0 = time.process_time()
    plan = synthetic.build_plan(n)
    c1 = time.process_time()
    g, _ = build_graph(plan)
    c2 = time.process_time()
    records = stored_state(g)
    c3 = time.process_time()
    p = plan_apply(g, records, stacks=plan.select(None))
    c4 = time.process_time()
    assert not p.has_changes, "a plan against a state that matches the code must change nothing"
    s.build_cpu, s.graph_cpu, s.plan_cpu = c1 - c0, c2 - c1, c4 - c3
    return s


def measure_moto(s: Size, parallelism: int = 10) -> None:
    name = synthetic.install(s.n)
    with fresh_aws(0) as clients:
        ws = workspace(clients, "bench", name, parallelism=parallelism, refresh=False)
        t0 = time.perf_counter()
        _, rep = run_changes(ws, "apply")
        s.apply_s = time.perf_counter() - t0
        assert rep is not None and rep.ok, rep and rep.summary()
        calls = Calls()
        clients.add_hook("before-call", calls)
        with calls.counting():
            p, none = run_changes(workspace(clients, "bench", name, refresh=False), "apply")
        assert none is None and not p.has_changes
        s.noop_calls = {f"{k}": n for k, n in calls.by_kind().items()} | {
            "state Query": calls.of("state").get("dynamodb.Query", 0)}
        t0 = time.perf_counter()
        _, rep = run_changes(workspace(clients, "bench", name, parallelism=parallelism), "destroy", destroy=True)
        s.destroy_s = time.perf_counter() - t0
        assert rep is not None and rep.ok


def run(sizes: list[int], moto_max: int | None = None) -> list[Size]:
    # Planning first, for every size: after a moto run the garbage collector has moto's whole heap
    # to walk, and its passes would land in whichever planning measurement came next.
    out = [measure_planning(n) for n in sizes]
    for s in out:
        if moto_max is None or s.n <= moto_max:
            measure_moto(s)
    return out


def render(rows: list[Size]) -> str:
    lines = ["synthetic plans (SSM parameters, log groups, SNS topics; chains of 5 and fans of 5), parallelism 10",
             f"{'resources':>9} {'declare':>8} {'graph':>7} {'plan*':>7} {'growth':>7} {'apply s':>8} {'growth':>7} "
             f"{'destroy s':>9} {'growth':>7}  no-op apply --refresh=false calls"]
    prev: Size | None = None
    for s in rows:
        def g(a: float | None, b: float | None) -> str:
            return f"{a / b:.1f}x" if a and b else "-"
        lines.append(f"{s.n:9d} {s.build_cpu:8.3f} {s.graph_cpu:7.3f} {s.plan_cpu:7.3f} "
                     f"{g(s.graph_cpu + s.plan_cpu, prev and prev.graph_cpu + prev.plan_cpu):>7} "
                     f"{s.apply_s or 0:8.2f} {g(s.apply_s, prev and prev.apply_s):>7} {s.destroy_s or 0:9.2f} "
                     f"{g(s.destroy_s, prev and prev.destroy_s):>7}  {s.noop_calls}")
        prev = s
    lines.append("* CPU seconds planning against a stored state of every resource (no AWS calls); growth = "
                 "(graph + plan) against the previous size")
    return "\n".join(lines)
