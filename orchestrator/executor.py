"""A generic walk of a DAG of work items (Terraform's dag.Walker).

It knows nothing of AWS or resources: a step is a name, its prerequisites and
a callable. A step starts the moment all its prerequisites succeeded (no
waves); with bounded parallelism the ready step with the longest remaining
path goes first; a failure skips only what depends on it; a stop request
ends dispatching while running steps finish.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    name: str
    run: Callable[[], Any]
    after: set[str] = field(default_factory=set)
    priority: float = 0.0  # higher first: the longest remaining path through this step


@dataclass
class Outcome:
    done: dict[str, Any] = field(default_factory=dict)
    failed: dict[str, BaseException] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # step -> the failed/stopped step that caused it
    not_started: list[str] = field(default_factory=list)  # left when a stop was requested
    started_at: dict[str, float] = field(default_factory=dict)
    finished_at: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.not_started


class Walker:
    def __init__(self, parallelism: int = 10, on_event: Callable[[str, str, Any], None] | None = None) -> None:
        self.parallelism = max(1, parallelism)
        self.stop = threading.Event()
        self.on_event = on_event or (lambda *_: None)

    def walk(self, steps: Mapping[str, Step]) -> Outcome:
        out = Outcome()
        for s in steps.values():
            missing = s.after - set(steps)
            if missing:
                raise ValueError(f"step {s.name} waits for unknown steps {sorted(missing)}")
        children: dict[str, list[str]] = {n: [] for n in steps}
        waiting = {n: len(s.after) for n, s in steps.items()}
        for n, s in steps.items():
            for p in s.after:
                children[p].append(n)
        ready: list[tuple[float, str]] = [(-s.priority, n) for n, s in steps.items() if not s.after]
        heapq.heapify(ready)
        running: dict[Future[Any], str] = {}

        def skip_descendants(root: str, cause: str) -> None:
            stack = list(children[root])
            while stack:
                n = stack.pop()
                if n in out.skipped:
                    continue
                out.skipped[n] = cause
                self.on_event(n, "skipped", cause)
                stack.extend(children[n])

        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="walk") as pool:
            while ready or running:
                while ready and len(running) < self.parallelism and not self.stop.is_set():
                    _, n = heapq.heappop(ready)
                    if n in out.skipped:
                        continue
                    out.started_at[n] = time.monotonic()
                    self.on_event(n, "start", None)
                    running[pool.submit(steps[n].run)] = n
                if self.stop.is_set() and not running:
                    break
                if not running:
                    continue
                finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in finished:
                    n = running.pop(fut)
                    out.finished_at[n] = time.monotonic()
                    exc = fut.exception()
                    if exc is not None:
                        out.failed[n] = exc
                        self.on_event(n, "failed", exc)
                        skip_descendants(n, n)
                        continue
                    out.done[n] = fut.result()
                    self.on_event(n, "done", out.done[n])
                    for c in children[n]:
                        waiting[c] -= 1
                        if waiting[c] == 0 and c not in out.skipped:
                            heapq.heappush(ready, (-steps[c].priority, c))
        out.not_started = sorted(n for n in steps if n not in out.done and n not in out.failed
                                 and n not in out.skipped and n not in out.started_at)
        return out
