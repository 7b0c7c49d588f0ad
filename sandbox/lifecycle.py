"""Lifecycle simulation: slow AWS resources pass through their real transitional states.

moto makes nearly everything ready the instant it is created, so a tool's
waiters never wait and its polling paths are never exercised. Here each slow
resource kind (a type that declares durations, via sandbox/latency.py) gets two (or three) models in moto's
state manager, `<kind>:create`, `<kind>:delete` and `<kind>:update`:

- progression "immediate" (the default, what tests get unless they opt in):
  the resource is ready, updated or gone at once;
- progression "time" with `seconds` = table x scale (what `enable()` sets,
  and what the sandbox server runs with): the create call answers with the
  transitional state (CREATING, creating, pending, provisioning ...), the
  resource stays there for that many real seconds, then becomes ready;
  deletes show DELETING/deleting first and then disappear (NotFound).

Using moto's state manager means the durations can also be changed at run
time through moto's own API (`POST /moto-api/state-manager/set-transition`
with model_name "eks.cluster:create"), like any moto-managed model. None of
the models in our table are moto ManagedState models in 5.2.5, so the state
changes themselves are timed events kept here, run by `tick()` at the start
of every request moto handles (in-process and in the server alike).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from moto.moto_api import state_manager

from sandbox import latency

PHASES = ("create", "delete", "update")

_lock = threading.RLock()
_events: list[tuple[float, int, Callable[[], None]]] = []
_seq = itertools.count()
GEN_ATTR = "_sandbox_lifecycle_gen"
# The simulation's clock: real time, or a test's VirtualClock.now to run waits in simulated time.
now: Callable[[], float] = time.monotonic

# Whether a create ends in a failure state instead of its ready state (sandbox/extensions/strict_failures.py
# sets it): called once when the create starts, with the object and its kind; returns what puts the object
# in its failed state (status and AWS's reason), or None for a create that succeeds.
failure_hook: Callable[[Any, str], Callable[[], None] | None] | None = None


def model_name(kind: str, phase: str) -> str:
    """The state-manager model name of one kind's phase, e.g. "kafka.cluster:create"."""
    return f"{kind}:{phase}"


def register_defaults() -> None:
    """Declare every kind/phase to moto's state manager as immediate (tests stay fast)."""
    for kind in latency.TABLE:
        for phase in PHASES:
            state_manager.register_default_transition(model_name(kind, phase), {"progression": "immediate"})


def enable(scale: float | None = None) -> float:
    """Simulate AWS durations at `scale` real seconds per AWS second (default: env or 1 min = 10 ms)."""
    scale = latency.scale_from_env() if scale is None else scale
    for kind in latency.TABLE:
        for phase in PHASES:
            secs = latency.scaled(kind, phase, scale)
            if secs > 0:
                state_manager.set_transition(model_name(kind, phase), {"progression": "time", "seconds": secs})
            else:
                state_manager.unset_transition(model_name(kind, phase))
    return scale


def disable() -> None:
    """Back to immediate transitions, and forget pending state changes."""
    for kind in latency.TABLE:
        for phase in PHASES:
            state_manager.unset_transition(model_name(kind, phase))
    clear()


def enabled() -> bool:
    return any(duration(kind, "create") > 0 for kind in latency.TABLE)


def duration(kind: str, phase: str) -> float:
    """Real seconds `kind` spends in its `phase` transition now (0 = immediate)."""
    cfg = state_manager.get_transition(model_name(kind, phase))
    if cfg.get("progression") == "time":
        return float(cfg.get("seconds", 0))
    return 0.0


@contextmanager
def simulated(scale: float | None = None) -> Iterator[float]:
    """Run a block with the simulation on, restoring immediate transitions afterwards."""
    used = enable(scale)
    try:
        yield used
    finally:
        disable()


# -- timed events ------------------------------------------------------------------


def schedule(delay: float, fn: Callable[[], None]) -> None:
    with _lock:
        heapq.heappush(_events, (now() + delay, next(_seq), fn))


def tick() -> None:
    """Apply every state change that is due. Called before each request moto handles."""
    current = now()
    due: list[Callable[[], None]] = []
    with _lock:
        while _events and _events[0][0] <= current:
            due.append(heapq.heappop(_events)[2])
    for fn in due:
        fn()


def clear() -> None:
    with _lock:
        _events.clear()


def pending() -> int:
    with _lock:
        return len(_events)


def _gens(obj: Any) -> dict[str, int]:
    """This object's own generation counters.

    Kept with the id of the object they belong to: moto builds some objects as
    shallow copies of others (an RDS read replica is `copy.copy(primary)`), and
    a copied counter dict would be shared, so a transition started on one copy
    (deleting replica 2) would silently cancel the pending end of another's
    (replica 1 never leaves `deleting`).
    """
    entry = obj.__dict__.get(GEN_ATTR)
    if entry is None or entry[0] != id(obj):
        entry = (id(obj), {})
        obj.__dict__[GEN_ATTR] = entry
    return entry[1]


def _bump(obj: Any, key: str) -> int:
    gens = _gens(obj)
    gens[key] = gens.get(key, 0) + 1
    return gens[key]


def _current(obj: Any, key: str, gen: int) -> bool:
    return _gens(obj).get(key) == gen


def run(obj: Any, kind: str, phase: str, states: Sequence[str], final: Any,
        apply: Callable[[Any], None] | None = None, attr: str = "status",
        on_done: Callable[[], None] | None = None, seconds: float | None = None) -> None:
    """Move `obj` through `states` (spread evenly over the phase's duration), then to `final`.

    `apply(state)` sets the state (default: setattr(obj, attr, state)). A later
    `run` on the same object and attribute supersedes this one, so a delete
    issued while still CREATING is not undone by the create finishing.
    `on_done` runs when the final state is reached (e.g. remove the object).
    A create that `failure_hook` says fails ends in that failure state instead of `final`.
    `seconds` replaces the phase's duration (a strict rule's own window).
    """
    setter = apply or (lambda value: setattr(obj, attr, value))
    fail = failure_hook(obj, kind) if failure_hook is not None and phase == "create" else None

    def end() -> None:
        if fail is not None:
            fail()
            return
        setter(final)
        if on_done:
            on_done()

    total = duration(kind, phase) if seconds is None else seconds
    key = attr if apply is None else getattr(apply, "__name__", attr)
    gen = _bump(obj, key)
    if total <= 0 or not states:
        end()
        return
    setter(states[0])
    step = total / len(states)
    for i, state in enumerate(states[1:], start=1):
        schedule(step * i, lambda s=state: _current(obj, key, gen) and setter(s))

    def finish() -> None:
        if _current(obj, key, gen):
            end()

    schedule(total, finish)


def remove_later(container: dict[Any, Any], key: Any, obj: Any, kind: str,
                 states: Sequence[str], apply: Callable[[Any], None] | None = None,
                 attr: str = "status", on_gone: Callable[[], None] | None = None) -> None:
    """Keep a deleted `obj` visible in `container` in its deleting state, then remove it.

    moto removes most resources the moment delete is called; AWS shows them
    as DELETING for minutes first. With the simulation off it is gone at once.
    """
    def gone() -> None:
        if container.get(key) is obj:
            del container[key]
        if on_gone:
            on_gone()

    if duration(kind, "delete") <= 0:
        gone()
        return
    container[key] = obj
    run(obj, kind, "delete", states, states[-1], apply=apply, attr=attr, on_done=gone)


def chain(cls: type, name: str, fn: Callable[..., Any], owner: str = "wrapped") -> None:
    """Replace `cls.name` by `fn(self, original, *args, **kwargs)`, once per `owner` (idempotent).

    Each owner (an extension module) marks its own wrapper, so several extensions can wrap the same
    method (moto's call_action) one over the other, and installing one again adds nothing.
    """
    marker = f"_sandbox_{owner}"
    original = getattr(cls, name)
    if getattr(original, marker, False):
        return

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(self, original, *args, **kwargs)

    wrapper.__name__ = name
    wrapper.__doc__ = fn.__doc__ or original.__doc__
    setattr(wrapper, marker, True)
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(cls, name, wrapper)


def wrap(cls: type, name: str) -> Callable[[Callable[..., Any]], None]:
    """Decorator form of chain() for the lifecycle's own wrappers."""
    def deco(fn: Callable[..., Any]) -> None:
        chain(cls, name, fn)
    return deco


def install_tick() -> None:
    """Run `tick()` at the start of every request moto handles."""
    from moto.core.responses import BaseResponse

    @wrap(BaseResponse, "call_action")
    def call_action(self: Any, original: Callable[..., Any]) -> Any:
        tick()
        return original(self)
