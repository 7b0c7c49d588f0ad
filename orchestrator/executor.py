"""A generic walk of a DAG of work items (Terraform's dag.Walker).

It knows nothing of AWS or resources: a step is a name, its prerequisites and
a callable. A step starts the moment all its prerequisites succeeded (no
waves); the ready step with the longest remaining path goes first (ties in the
order they became ready); a failure skips only what depends on it; a stop
request ends dispatching while running steps finish.

Parallelism bounds concurrent *work*, not waiting. A step holds one of
`parallelism` call slots while it runs, but lends it out while it merely waits
for AWS (a resource's create blocked in a waiter for 25 minutes is not work):
`lend_slot()` around the wait gives the slot back and takes one again after,
ahead of steps not yet started. Threads are therefore allowed to outnumber
slots (up to `max_threads`). `lend_while_waiting=False` gives the classic
behaviour where a wait keeps its slot (Terraform's walk; the benchmark's
baseline).

Time comes from a clock, real by default. A VirtualClock runs the same walk
in simulated time: it advances only when every thread of the walk is blocked
(waiting for a slot, a completion, or the end of a sleep), straight to the
earliest wake-up, so a walk's makespan and each step's start are exact and
independent of how busy the machine is. Waits the steps make go through the
same clock (`clock.sleep`), inside `lend_slot()` like any wait for AWS.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class Clock:
    """Real time, what every walk against AWS runs on. All methods but now() and sleep() are called
    with the walk's condition held; for real time they are the Condition's own."""

    virtual = False

    def now(self) -> float:
        return time.monotonic()

    def condition(self) -> threading.Condition:
        return threading.Condition()

    def wait(self, cond: threading.Condition, timeout: float | None = None, poll: bool = False) -> None:
        """cond.wait(timeout). `poll` marks a timeout that only guards against a lost wake-up."""
        cond.wait(timeout)

    def notify_all(self, cond: threading.Condition) -> None:
        cond.notify_all()

    def sleep(self, seconds: float) -> None:
        threading.Event().wait(max(0.0, seconds))

    # Threads that take part in a simulated walk (no-ops in real time).
    def admit(self) -> None:
        """Count one more thread (before starting it, so time cannot move while it starts)."""

    def attach(self) -> None:
        """Mark the calling thread as one already admitted."""

    def detach(self) -> None:
        """The calling thread stops being a member (its count goes with leave())."""

    def leave(self) -> None:
        """Count one thread less."""


REAL = Clock()


class VirtualClock(Clock):
    """Simulated time for walks: it moves only when every member thread is blocked, to the next wake-up.

    One condition (the clock's) serves the walk and every sleep, so "everyone is blocked" is known
    exactly: a member blocked in wait() is counted, and a notify_all makes every blocked member
    runnable again before any of them re-checks. Time then jumps to the earliest deadline of a
    timed wait; with none, the walk is deadlocked and wait() raises instead of hanging.
    """

    virtual = True

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._cond = threading.Condition()
        self._members = 0
        self._waiting = 0
        self._deadlines: list[float] = []
        self._local = threading.local()

    def now(self) -> float:
        return self._now

    def condition(self) -> threading.Condition:
        return self._cond

    def admit(self) -> None:
        with self._cond:
            self._members += 1

    def attach(self) -> None:
        self._local.member = True

    def detach(self) -> None:
        self._local.member = False

    def leave(self) -> None:
        with self._cond:
            self._members -= 1
            if self._members and self._waiting == self._members:
                self._advance(strict=False)

    def notify_all(self, cond: threading.Condition) -> None:
        self._waiting = 0
        cond.notify_all()

    def _advance(self, strict: bool = True) -> None:
        future = [d for d in self._deadlines if d > self._now]
        if strict and not future and not any(d <= self._now for d in self._deadlines):
            raise RuntimeError("virtual clock: every thread of the walk waits and none has a deadline (deadlock)")
        if future:
            self._now = min(future)
        self.notify_all(self._cond)

    def wait(self, cond: threading.Condition, timeout: float | None = None, poll: bool = False) -> None:
        if cond is not self._cond:
            raise ValueError("a walk on a virtual clock must use the clock's condition")
        deadline = None if timeout is None or poll else self._now + timeout
        if deadline is not None:
            self._deadlines.append(deadline)
        try:
            while deadline is None or self._now < deadline:
                self._waiting += 1
                if self._waiting == self._members:
                    self._advance()  # wakes everyone, this thread included: count again or return
                    continue
                cond.wait()
                return
        finally:
            if deadline is not None:
                self._deadlines.remove(deadline)

    def sleep(self, seconds: float) -> None:
        with self._cond:
            joined = not getattr(self._local, "member", False)
            if joined:  # a thread outside any walk (a test's own call) takes part while it sleeps
                self._members += 1
                self.attach()
            try:
                end = self._now + max(0.0, seconds)
                while self._now < end:
                    self.wait(self._cond, end - self._now)
            finally:
                if joined:
                    self.detach()
                    self.leave()


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
    waited: dict[str, float] = field(default_factory=dict)  # step -> seconds spent with its slot lent out

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.not_started


class Slots:
    """`n` call slots shared by a walk. Steps taking a slot back after a wait go before new steps."""

    def __init__(self, n: int, cond: threading.Condition, clock: Clock = REAL) -> None:
        self.free = n
        self.cond = cond
        self.clock = clock
        self.returning = 0  # threads waiting to take their slot back

    def try_take(self) -> bool:
        """For the dispatcher (cond held): a slot for a new step, unless a returning step needs it."""
        if self.free > 0 and self.returning == 0:
            self.free -= 1
            return True
        return False

    def give(self) -> None:
        with self.cond:
            self.free += 1
            self.clock.notify_all(self.cond)

    def take_back(self) -> None:
        with self.cond:
            self.returning += 1
            try:
                while self.free == 0:
                    self.clock.wait(self.cond)
                self.free -= 1
            finally:
                self.returning -= 1


class _Held:
    """The slot the current thread's step holds (set by the walker, read by `lend_slot`)."""

    def __init__(self, slots: Slots, step: str, lend: bool) -> None:
        self.slots, self.step, self.lend = slots, step, lend
        self.waited = 0.0


_current = threading.local()


@contextmanager
def lend_slot() -> Iterator[None]:
    """Give the calling step's call slot back while the block waits; take one again after.

    A no-op outside a walk (a resource used directly, a refresh) or when the
    walk keeps slots during waits. Waiting code (Clients.wait) wraps itself
    in this; it must make no AWS call of its own outside the engine's polls.
    """
    held: _Held | None = getattr(_current, "held", None)
    if held is None or not held.lend:
        yield
        return
    _current.held = None  # nested waits inside this one lend nothing more
    held.slots.give()
    clock = held.slots.clock
    t0 = clock.now()
    try:
        yield
    finally:
        held.slots.take_back()
        held.waited += clock.now() - t0
        _current.held = held


class Walker:
    def __init__(self, parallelism: int = 10, on_event: Callable[[str, str, Any], None] | None = None,
                 lend_while_waiting: bool = True, prioritize: bool = True, max_threads: int = 256,
                 clock: Clock | None = None) -> None:
        self.parallelism = max(1, parallelism)
        self.clock = clock or REAL
        self.stop = threading.Event()
        self.on_event = on_event or (lambda *_: None)
        self.lend_while_waiting = lend_while_waiting
        self.prioritize = prioritize
        self.max_threads = max(self.parallelism, max_threads) if lend_while_waiting else self.parallelism

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
        seq = itertools.count()
        ready: list[tuple[float, int, str]] = []

        def make_ready(n: str) -> None:
            heapq.heappush(ready, (-steps[n].priority if self.prioritize else 0.0, next(seq), n))

        for n in sorted(steps, key=lambda n: -steps[n].priority):
            if not steps[n].after:
                make_ready(n)
        clock = self.clock
        cond = clock.condition()
        slots = Slots(self.parallelism, cond, clock)
        finished: list[tuple[str, Future[Any]]] = []
        running: set[str] = set()

        def skip_descendants(root: str, cause: str) -> None:
            stack = list(children[root])
            while stack:
                n = stack.pop()
                if n in out.skipped:
                    continue
                out.skipped[n] = cause
                self.on_event(n, "skipped", cause)
                stack.extend(children[n])

        def run(n: str) -> Any:
            clock.attach()
            held = _Held(slots, n, self.lend_while_waiting)
            _current.held = held
            try:
                return steps[n].run()
            finally:
                _current.held = None
                out.waited[n] = held.waited
                slots.give()
                clock.detach()

        def on_done(n: str, fut: Future[Any]) -> None:
            with cond:
                finished.append((n, fut))
                clock.notify_all(cond)
                clock.leave()  # admitted when submitted; counted until its completion is queued

        pool = ThreadPoolExecutor(max_workers=self.max_threads, thread_name_prefix="walk")
        clock.admit()
        clock.attach()
        try:
            while True:
                with cond:
                    # Completions first: a step they make ready may outrank everything already queued.
                    if not finished and ready and len(running) < self.max_threads and not self.stop.is_set() \
                            and slots.try_take():
                        _, _, n = heapq.heappop(ready)
                        if n in out.skipped:
                            slots.free += 1
                            continue
                        out.started_at[n] = clock.now()
                        running.add(n)
                    else:
                        n = None
                        if not running and (not ready or self.stop.is_set()):
                            break
                        if not finished:
                            clock.wait(cond, 0.5, poll=True)
                    done_now, finished[:] = list(finished), []
                if n is not None:
                    self.on_event(n, "start", None)
                    clock.admit()
                    fut = pool.submit(run, n)
                    fut.add_done_callback(lambda f, n=n: on_done(n, f))
                for n, fut in done_now:
                    running.discard(n)
                    out.finished_at[n] = clock.now()
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
                            make_ready(c)
        finally:
            clock.detach()
            clock.leave()
            # Every step has finished by now (or an exception is on its way out): idle threads need no join.
            pool.shutdown(wait=False)
        out.not_started = sorted(n for n in steps if n not in out.done and n not in out.failed
                                 and n not in out.skipped and n not in out.started_at)
        return out
