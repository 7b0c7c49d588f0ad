"""A live view of a long run on a terminal: what is done, what is in flight, how long is left.

A real production apply waits 25 minutes on MSK; a line per event says nothing during that wait.
On a terminal the view redraws (rich's Live): resources done / total, each step in flight with
its elapsed time against its type's usual duration, and the time left estimated from the critical
path of what remains (a step in flight counts for what is left of its usual duration). Failures
and skips are printed above the view as they happen, so they stay on screen. Piped output and
--json keep the plain line-per-event log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import networkx as nx
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from orchestrator.graph import longest_remaining


def hms(seconds: float) -> str:
    s = int(round(max(0.0, seconds)))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s" if m else f"{sec}s"


class LiveView:
    """The on_event callback of a run, drawing itself on `console` while the run lasts.

    `usual(type_name, phase)` gives AWS's usual seconds for a step; `clock` is injectable so the
    estimate is testable without waiting.
    """

    def __init__(self, operation: str, console: Console, usual: Callable[[str, str], float],
                 clock: Callable[[], float] = time.monotonic, refresh_per_second: float = 4.0) -> None:
        self.operation, self.console, self.usual, self.clock = operation, console, usual, clock
        self.refresh_per_second = refresh_per_second
        self.lock = threading.Lock()
        self.g = nx.DiGraph()
        self.kind: dict[str, tuple[str, str]] = {}  # address -> (type, phase)
        self.started: dict[str, tuple[float, str]] = {}  # in flight: address -> (since, verb)
        self.done: set[str] = set()
        self.failed: set[str] = set()
        self.skipped: set[str] = set()
        self.begun = clock()
        self._live: Live | None = None

    # -- the plan ---------------------------------------------------------------------

    def plan(self, p: Any) -> None:
        """Learn the steps from the planner's Plan, before the run starts."""
        with self.lock:
            for a, c in p.changes.items():
                if c.action == "noop":
                    continue
                phase = "delete" if c.action in ("delete", "forget") else "update" if c.action == "update" \
                    else "create"
                self.kind[a] = (c.type, phase)
                self.g.add_node(a)
            for a, c in p.changes.items():
                if a not in self.kind:
                    continue
                for d in c.deps:
                    if d in self.kind:  # creation: d before a; deletion: a before d
                        if self.kind[a][1] == "delete":
                            self.g.add_edge(a, d)
                        else:
                            self.g.add_edge(d, a)
            self.begun = self.clock()

    # -- events -----------------------------------------------------------------------

    def __call__(self, addr: str, kind: str, info: Any) -> None:
        with self.lock:
            if kind == "start":
                self.started[addr] = (self.clock(), str(info))
                self.g.add_node(addr)
            elif kind == "done":
                self.started.pop(addr, None)
                self.done.add(addr)
            elif kind == "failed":
                self.started.pop(addr, None)
                self.failed.add(addr)
                verb, msg = info
                self.console.print(Text(f"  {addr}: {verb} FAILED: {msg}", style="red"))
            elif kind == "skipped":
                self.skipped.add(addr)
                self.console.print(Text(f"  {addr}: skipped (depends on failed {info})", style="yellow"))
        if self._live is not None:
            self._live.update(self.render())

    # -- drawing ----------------------------------------------------------------------

    def remaining(self) -> tuple[float, list[str]]:
        """Seconds left on the critical path of what is not finished, and that path."""
        with self.lock:
            now = self.clock()
            finished = self.done | self.failed | self.skipped
            rest = self.g.subgraph([n for n in self.g if n not in finished]).copy()

            def weight(n: str) -> float:
                typ, phase = self.kind.get(n, ("", "create"))
                usual = self.usual(typ, phase)
                if n in self.started:
                    return max(0.0, usual - (now - self.started[n][0]))
                return usual

            if not rest:
                return 0.0, []
            rem = longest_remaining(rest, weight)
        first = max(rem, key=rem.__getitem__)
        path = [first]
        while True:
            succ = list(rest.successors(path[-1]))
            if not succ:
                break
            path.append(max(succ, key=rem.__getitem__))
        return rem[first], path

    def render(self) -> Group:
        left, path = self.remaining()
        with self.lock:
            now = self.clock()
            total = len(self.kind) or len(self.g)
            head = Text.assemble(
                (f"{self.operation}: ", "bold"), f"{len(self.done)}/{total} done",
                (f", {len(self.failed)} failed" if self.failed else "", "red"),
                (f", {len(self.skipped)} skipped" if self.skipped else "", "yellow"),
                f" · {hms(now - self.begun)} elapsed · about {hms(left)} left",
                (f" (critical path: {' -> '.join(path[:3])}{' ...' if len(path) > 3 else ''})" if path else "",
                 "dim"))
            table = Table.grid(padding=(0, 2))
            for addr, (since, verb) in sorted(self.started.items(), key=lambda kv: kv[1][0]):
                typ, phase = self.kind.get(addr, ("", "create"))
                usual = self.usual(typ, phase)
                elapsed = now - since
                late = usual and elapsed > usual
                table.add_row(f"  {addr}", verb, Text(f"{hms(elapsed)} / usually {hms(usual)}" if usual
                                                      else hms(elapsed), style="yellow" if late else ""))
        return Group(head, table)

    def __enter__(self) -> LiveView:
        self._live = Live(self.render(), console=self.console, refresh_per_second=self.refresh_per_second,
                          transient=False, get_renderable=self.render)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None
