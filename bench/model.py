"""The latency model: what the sandbox makes each step wait, and the bound it implies.

The durations are the resource types' own (`durations`, the one table of realistic
AWS times, as sandbox/latency.py serves it) times a scale. The sandbox's lifecycle simulation plays them: a slow
resource stays in its transitional state for table x scale real seconds, so
the tool's waiters really wait. Only what the sandbox actually plays may go
into the bound, or the "lower bound" could exceed what any walk can reach:
`Played` records every (kind, phase) the simulation drives during a run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from orchestrator.executor import Clock, Step
from orchestrator.graph import critical_path
from sandbox import latency, lifecycle


def kind(type_name: str) -> str:
    """The latency table's key for a resource type: "rds.DBInstance" -> "rds.dbinstance"."""
    return type_name.lower()


def phase_of(step: str, action: str) -> str:
    return "delete" if step.endswith("#delete") or action in ("delete", "forget") else \
        "update" if action == "update" else "create"


@dataclass
class Played:
    """(kind, phase) pairs the lifecycle simulation actually drove with a duration."""

    pairs: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def recording(self) -> Iterator[Played]:
        original = lifecycle.duration

        def duration(k: str, phase: str) -> float:
            secs = original(k, phase)
            if secs > 0:
                with self.lock:
                    self.pairs.add((k, phase))
            return secs

        lifecycle.duration = duration  # type: ignore[assignment]
        try:
            yield self
        finally:
            lifecycle.duration = original  # type: ignore[assignment]


@dataclass
class Model:
    scale: float  # real seconds per AWS second
    played: set[tuple[str, str]] | None = None  # None: every table entry counts

    def seconds(self, type_name: str, phase: str) -> float:
        """Real seconds the sandbox makes a step of this type and phase wait."""
        k = kind(type_name)
        if self.played is not None and (k, phase) not in self.played:
            return 0.0
        return latency.scaled(k, phase, self.scale)

    def step_weights(self, steps: Mapping[str, Step], type_of: Callable[[str], str],
                     action_of: Callable[[str], str]) -> dict[str, float]:
        out = {}
        for n in steps:
            addr = n.split("#")[0]
            out[n] = self.seconds(type_of(addr), phase_of(n, action_of(addr)))
        return out


def step_graph(steps: Mapping[str, Step]) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(steps)
    for n, s in steps.items():
        for p in s.after:
            g.add_edge(p, n)
    return g


def bound(steps: Mapping[str, Step], weights: Mapping[str, float]) -> tuple[float, list[str]]:
    """The critical-path lower bound: no walk can finish before its longest chain of modeled waits."""
    return critical_path(step_graph(steps), lambda n: weights[n])


def serial_sum(weights: Mapping[str, Any]) -> float:
    """What a walk doing one thing at a time (waits included) needs at least."""
    return float(sum(weights.values()))


def waves_bound(steps: Mapping[str, Step], weights: Mapping[str, float]) -> float:
    """A level-by-level walk needs at least the sum over levels of each level's longest wait."""
    return float(sum(max((weights[n] for n in level), default=0.0)
                     for level in nx.topological_generations(step_graph(steps))))


def modeled_steps(g: nx.DiGraph, model: Model, phase: str = "create",
                  clock: Clock | None = None) -> tuple[dict[str, Step], dict[str, float]]:
    """Steps over a resource graph whose work is only the modeled wait (through the walk's slot lending).

    No AWS at all: what is left is the walk itself, so its makespan can be held against the bound
    (`python -m bench demo --dry` in real time; the CI tests on a VirtualClock, where it holds exactly).
    """
    from orchestrator.executor import REAL, lend_slot
    from orchestrator.graph import longest_remaining

    order = g if phase != "delete" else g.reverse(copy=True)
    weights = {n: model.seconds(order.nodes[n]["type"], phase) for n in order}
    prio = longest_remaining(order, lambda n: 1.0 + weights[n])

    def run(n: str) -> Callable[[], None]:
        def wait() -> None:
            with lend_slot():
                (clock or REAL).sleep(weights[n])
        return wait

    steps = {n: Step(n, run(n), set(order.predecessors(n)), prio[n]) for n in order}
    return steps, weights
