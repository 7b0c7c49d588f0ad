"""Apply and destroy the full GenAI Demo environment under each walk, against the latency model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.harness import Calls, Run, fresh_aws, timed, workspace
from bench.model import Model, Played, bound, serial_sum, waves_bound
from bench.walks import Strategy, all_strategies
from orchestrator.executor import Step
from orchestrator.planner import Plan
from orchestrator.runs import Workspace


@dataclass
class Shape:
    """What the bound needs from an operation: its steps and each step's type and action."""

    steps: dict[str, Step]
    types: dict[str, str]
    actions: dict[str, str]

    def weights(self, model: Model) -> dict[str, float]:
        return model.step_weights(self.steps, self.types.__getitem__, self.actions.__getitem__)


@dataclass
class Result:
    strategy: str
    apply: Run
    destroy: Run


@dataclass
class Report:
    env: str
    scale: float
    resources: int
    stacks: list[str]
    results: list[Result] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)  # "apply" / "destroy"
    played: set[tuple[str, str]] = field(default_factory=set)

    def model(self) -> Model:
        return Model(self.scale, played=self.played)

    def bound(self, op: str) -> tuple[float, list[str]]:
        s = self.shapes[op]
        return bound(s.steps, s.weights(self.model()))

    def floor(self, op: str, strategy: str) -> float:
        """The least time this walk itself could take under the model (sequential and waves have their own)."""
        s = self.shapes[op]
        w = s.weights(self.model())
        if strategy.startswith("sequential"):
            return serial_sum(w)
        if strategy.startswith("waves"):
            return waves_bound(s.steps, w)
        return bound(s.steps, w)[0]

    def result(self, prefix: str) -> Result:
        return next(r for r in self.results if r.strategy.startswith(prefix))


def operation(ws: Workspace, strategy: Strategy, calls: Calls, destroy: bool) -> tuple[Run, Shape]:
    store = ws.store
    store.acquire("bench destroy" if destroy else "bench apply")
    try:
        p, g, records, external = ws.make_plan(destroy=destroy, allow_protected=True, refresh=False)
        steps = ws.applier(g, records, external).steps(p)
        with calls.counting():
            out, wall, cpu = timed(strategy.walk, steps)
        run = Run(wall, cpu, out, calls.by_kind(), {k: calls.of(k) for k in ("mutating", "read", "waiter poll",
                                                                             "state")})
        return run, _shape(p, steps)
    finally:
        store.release()


def _shape(p: Plan, steps: Mapping[str, Step]) -> Shape:
    return Shape({n: Step(n, s.run, set(s.after), s.priority) for n, s in steps.items()},
                 {a: c.type for a, c in p.changes.items()}, {a: c.action for a, c in p.changes.items()})


def run(env: str = "production", scale: float = 0.02 / 60, strategies: list[Strategy] | None = None,
        plan: str = "genai_demo") -> Report:
    """Each strategy on its own fresh AWS: apply everything, then destroy everything."""
    report: Report | None = None
    for strategy in strategies or all_strategies():
        played = Played()
        with fresh_aws(scale) as clients, played.recording():
            calls = Calls()
            clients.add_hook("before-call", calls)
            ws = workspace(clients, env, plan)
            if report is None:
                report = Report(env, scale, len(ws.full_graph), list(ws.stacks))
            applied, shape_a = operation(ws, strategy, calls, destroy=False)
            destroyed, shape_d = operation(ws, strategy, calls, destroy=True)
        report.shapes.setdefault("apply", shape_a)
        report.shapes.setdefault("destroy", shape_d)
        report.played |= played.pairs
        report.results.append(Result(strategy.name, applied, destroyed))
    assert report is not None
    return report


def render(rep: Report) -> str:
    ms_per_min = rep.scale * 60 * 1000
    lines = [f"GenAI Demo {rep.env}: stacks {', '.join(rep.stacks)}; {rep.resources} resources; "
             f"latency model sandbox/latency.py x {rep.scale:.6g} (1 AWS minute = {ms_per_min:g} ms real)"]
    unplayed = sorted(f"{k}:{ph}" for k in _table_kinds() for ph in ("create", "delete")
                      if (k, ph) not in rep.played and _in_plan(rep, k))
    if unplayed:
        lines.append(f"  modeled but not simulated by the sandbox (left out of the bound): {', '.join(unplayed)}")
    for op in ("apply", "destroy"):
        b, path = rep.bound(op)
        lines.append(f"{op}: critical-path bound {b:.3f} s = {b / rep.scale / 60:.1f} AWS min along "
                     f"{' -> '.join(p for p in path if rep.shapes[op].weights(rep.model())[p] > 0) or '(no waits)'}")
    lines.append("")
    lines.append(f"{'walk':58} {'apply s':>8} {'/bound':>7} {'destroy s':>10} {'/bound':>7} {'own floor':>10}")
    ba, bd = rep.bound("apply")[0], rep.bound("destroy")[0]
    for r in rep.results:
        fa, fd = rep.floor("apply", r.strategy), rep.floor("destroy", r.strategy)
        ok = "" if r.apply.outcome.ok and r.destroy.outcome.ok else "  (FAILED steps: see below)"
        lines.append(f"{r.strategy:58} {r.apply.makespan:8.3f} {_ratio(r.apply.makespan, ba):>7} "
                     f"{r.destroy.makespan:10.3f} {_ratio(r.destroy.makespan, bd):>7} {fa + fd:10.3f}{ok}")
    try:
        mine, tf = rep.result("ours, parallelism 10"), rep.result("terraform-like")
        lines.append(f"\nterraform-like / ours at parallelism 10: apply {_ratio(tf.apply.makespan, mine.apply.makespan)}"
                     f", destroy {_ratio(tf.destroy.makespan, mine.destroy.makespan)}")
    except StopIteration:
        pass
    ref = rep.results[0]
    for op, run_ in (("apply", ref.apply), ("destroy", ref.destroy)):
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(run_.calls.items()))
        lines.append(f"API calls, {op} ({ref.strategy}): {sum(run_.calls.values())} = {kinds}")
        for k in ("mutating", "waiter poll"):
            top = ", ".join(f"{o} {n}" for o, n in run_.ops.get(k, Counter()).most_common(8))
            lines.append(f"  {k}: {top}")
    for r in rep.results:
        for op, run_ in (("apply", r.apply), ("destroy", r.destroy)):
            for step, exc in run_.outcome.failed.items():
                lines.append(f"FAILED {r.strategy} {op} {step}: {type(exc).__name__}: {str(exc)[:200]}")
    return "\n".join(lines)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


def _table_kinds() -> list[str]:
    from sandbox import latency

    return list(latency.TABLE)


def _in_plan(rep: Report, k: str) -> bool:
    return any(t.lower() == k for t in rep.shapes["apply"].types.values())


def dry(env: str = "production", scale: float = 0.02 / 60, plan: str = "genai_demo") -> str:
    """The walks alone over the plan's real graph: each step is just its modeled wait (no moto)."""
    import time

    import plans
    from bench.model import Model, modeled_steps, waves_bound
    from orchestrator.graph import build_graph

    g, _ = build_graph(plans.load(plan, env))
    m = Model(scale)
    lines = [f"dry walks over the {env} graph ({len(g)} resources), each step only its modeled wait "
             f"(1 AWS minute = {scale * 60000:g} ms)"]
    for phase in ("create", "delete"):
        steps, w = modeled_steps(g, m, phase)
        b = bound(steps, w)[0]
        row = [f"{phase}: bound {b:.3f} s, waves floor {waves_bound(steps, w):.3f} s, serial {serial_sum(w):.3f} s"]
        for s in all_strategies():
            fresh = modeled_steps(g, m, phase)[0]
            t0 = time.perf_counter()
            s.walk(fresh)
            row.append(f"  {s.name:58} {time.perf_counter() - t0:7.3f} s  {_ratio(time.perf_counter() - t0, b)}")
        lines += row
    return "\n".join(lines)
