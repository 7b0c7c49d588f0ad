"""The walks the benchmark compares, all over the same steps (orchestrator.apply.Applier.steps).

- ours: the tool's Walker: a step starts when its prerequisites are done,
  longest remaining path first, and a waiting step lends its call slot;
- sequential: one step at a time, waits included (parallelism 1, the wait
  keeps the slot);
- waves: level by level (every step of a level, unbounded, must finish
  before the next level starts), what a tool without a DAG walker does;
- terraform-like: 10 slots that waits keep, no priority (ready order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import networkx as nx

from bench.model import step_graph
from orchestrator.executor import Clock, Outcome, Step, Walker

# Set to a callable(step, event, info) to watch walks (python -m bench --trace).
trace: Callable[[str, str, object], None] | None = None


def _walker(**kw: object) -> Walker:
    return Walker(on_event=trace, **kw)  # type: ignore[arg-type]


# The strategies take an optional clock: real for the benchmark, a VirtualClock in the tests.


@dataclass(frozen=True)
class Strategy:
    name: str
    walk: Callable[[Mapping[str, Step]], Outcome]
    bounded: bool = False  # True when the bound for it is not the critical path (sequential, waves)


def ours(parallelism: int | None = None, clock: Clock | None = None) -> Strategy:
    label = "ours, unbounded" if parallelism is None else f"ours, parallelism {parallelism}"
    return Strategy(label, lambda steps: _walker(parallelism=parallelism or max(1, len(steps)),
                                                max_threads=max(256, len(steps)), clock=clock).walk(steps))


def sequential(clock: Clock | None = None) -> Strategy:
    return Strategy("sequential (1 slot, waits keep it)",
                    lambda steps: _walker(parallelism=1, lend_while_waiting=False, clock=clock).walk(steps),
                    bounded=True)


def terraform_like(slots: int = 10, clock: Clock | None = None) -> Strategy:
    return Strategy(f"terraform-like ({slots} slots kept while waiting, no priority)",
                    lambda steps: _walker(parallelism=slots, lend_while_waiting=False, prioritize=False,
                                          clock=clock).walk(steps))


def waves(clock: Clock | None = None) -> Strategy:
    return Strategy("waves (level by level, unbounded)", lambda steps: walk_waves(steps, clock), bounded=True)


def walk_waves(steps: Mapping[str, Step], clock: Clock | None = None) -> Outcome:
    out = Outcome()
    for level in nx.topological_generations(step_graph(steps)):
        sub = {n: Step(n, steps[n].run, set(), steps[n].priority) for n in level}
        part = _walker(parallelism=max(1, len(sub)), max_threads=max(256, len(sub)), clock=clock).walk(sub)
        for name in ("done", "failed", "started_at", "finished_at", "waited"):
            getattr(out, name).update(getattr(part, name))
        if part.failed:
            out.not_started = sorted(set(steps) - set(out.started_at))
            break
    return out


def all_strategies() -> list[Strategy]:
    return [ours(), ours(10), terraform_like(10), waves(), sequential()]
