"""The generic walker, with fake steps: ordering, parallelism, failure isolation, priority, stop.

Steps that take time sleep on a VirtualClock (the walk's own clock), so overlaps and orders are
exact whatever the machine's load; the steps without sleeps run on the real clock, the default.
"""

import threading

import pytest

from orchestrator.executor import Step, VirtualClock, Walker


def steps_from(spec, fn_for):
    return {n: Step(n, fn_for(n), set(after)) for n, after in spec.items()}


def test_runs_after_prerequisites_and_in_parallel():
    clock = VirtualClock()
    log, lock = [], threading.Lock()
    active, peak = [0], [0]

    def fn_for(n):
        def run():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
                log.append(("start", n))
            clock.sleep(0.05)
            with lock:
                active[0] -= 1
                log.append(("end", n))
            return n
        return run

    spec = {"vpc": [], "a": ["vpc"], "b": ["vpc"], "c": ["vpc"], "d": ["a", "b"]}
    out = Walker(parallelism=3, clock=clock).walk(steps_from(spec, fn_for))
    assert out.ok and set(out.done) == set(spec)
    assert out.started_at == {"vpc": 0, "a": 0.05, "b": 0.05, "c": 0.05, "d": 0.1}  # exactly, no waves
    pos = {e: i for i, e in enumerate(log)}
    for n, after in spec.items():
        for p in after:
            assert pos[("end", p)] < pos[("start", n)]
    assert peak[0] == 3  # a, b, c together


def test_failure_skips_only_dependents():
    def fn_for(n):
        def run():
            if n == "a":
                raise RuntimeError("boom")
            return n
        return run

    spec = {"root": [], "a": ["root"], "a_child": ["a"], "a_grandchild": ["a_child"], "b": ["root"]}
    out = Walker(parallelism=2).walk(steps_from(spec, fn_for))
    assert set(out.failed) == {"a"}
    assert set(out.skipped) == {"a_child", "a_grandchild"}
    assert set(out.done) == {"root", "b"}
    assert not out.ok


def test_bounded_parallelism_prefers_longest_remaining_path():
    order = []
    steps = {
        "short": Step("short", lambda: order.append("short"), set(), priority=1),
        "long": Step("long", lambda: order.append("long"), set(), priority=10),
    }
    Walker(parallelism=1).walk(steps)
    assert order == ["long", "short"]


def test_stop_ends_dispatch_but_lets_running_finish():
    clock = VirtualClock()
    w = Walker(parallelism=1, clock=clock)
    finished = []

    def first():
        w.stop.set()
        clock.sleep(0.05)
        finished.append("first")

    steps = {"first": Step("first", first, set(), priority=2), "second": Step("second", lambda: finished.append("x"),
                                                                              set(), priority=1)}
    out = w.walk(steps)
    assert finished == ["first"] and out.not_started == ["second"] and not out.ok


# -- call slots: waiting does not occupy one ---------------------------------------------------


class Meter:
    """Counts steps working (holding a slot) and waiting (slot lent out) at the same time."""

    def __init__(self):
        self.clock = VirtualClock()
        self.lock = threading.Lock()
        self.working = self.waiting = self.peak_working = self.peak_waiting = 0
        self.log = []

    def work(self, n, seconds=0.01):
        with self.lock:
            self.working += 1
            self.peak_working = max(self.peak_working, self.working)
            self.log.append(("work", n))
        self.clock.sleep(seconds)
        with self.lock:
            self.working -= 1

    def wait(self, n, seconds):
        from orchestrator.executor import lend_slot

        with self.lock:
            self.working -= 1  # the step stops working while it waits...
        with lend_slot():
            with self.lock:
                self.waiting += 1
                self.peak_waiting = max(self.peak_waiting, self.waiting)
            self.clock.sleep(seconds)
            with self.lock:
                self.waiting -= 1
        with self.lock:
            self.working += 1  # ...and works again once it holds a slot
            self.peak_working = max(self.peak_working, self.working)

    def step(self, n, wait=0.2):
        def run():
            with self.lock:
                self.working += 1
                self.peak_working = max(self.peak_working, self.working)
            self.wait(n, wait)
            with self.lock:
                self.working -= 1
            self.work(n)
            return n
        return run


def test_waiting_lends_the_call_slot():
    m = Meter()
    steps = {f"s{i}": Step(f"s{i}", m.step(f"s{i}"), set()) for i in range(6)}
    out = Walker(parallelism=2, clock=m.clock).walk(steps)
    assert out.ok
    assert m.peak_working <= 2  # work never exceeds the slots
    assert m.peak_waiting == 6  # but all six wait together
    assert all(out.waited[n] >= 0.2 for n in steps)
    # All six wait from 0 to 0.2, then work 0.01 each, two at a time: three rounds.
    assert max(out.finished_at.values()) == pytest.approx(0.2 + 3 * 0.01)


def test_terraform_like_walk_keeps_the_slot_while_waiting():
    m = Meter()
    steps = {f"s{i}": Step(f"s{i}", m.step(f"s{i}"), set()) for i in range(6)}
    out = Walker(parallelism=2, lend_while_waiting=False, clock=m.clock).walk(steps)
    assert out.ok and m.peak_waiting == 2 and m.peak_working <= 2
    assert max(out.finished_at.values()) == pytest.approx(3 * (0.2 + 0.01))  # three rounds of wait + work


def test_a_step_back_from_waiting_goes_before_new_steps():
    from orchestrator.executor import lend_slot

    clock = VirtualClock()
    order = []

    def waits():
        with lend_slot():  # lends the only slot: "busy" starts meanwhile
            clock.sleep(0.05)
        order.append("waits resumed")

    def busy():
        clock.sleep(0.15)  # still holding the slot when "waits" wants it back
        order.append("busy")

    steps = {"waits": Step("waits", waits, set(), priority=3), "busy": Step("busy", busy, set(), priority=2),
             "late": Step("late", lambda: order.append("late"), set(), priority=1)}
    out = Walker(parallelism=1, clock=clock).walk(steps)
    assert out.ok
    assert order == ["busy", "waits resumed", "late"]
    assert out.finished_at["waits"] == pytest.approx(0.15) and out.started_at["late"] == pytest.approx(0.15)


def test_lend_slot_outside_a_walk_is_a_no_op():
    from orchestrator.executor import lend_slot

    with lend_slot():
        pass


def test_equal_priorities_start_in_the_order_they_became_ready():
    order = []
    spec = {"root": [], "b": ["root"], "a": ["root"], "c": ["b"]}
    steps = {n: Step(n, (lambda n=n: order.append(n)), set(after)) for n, after in spec.items()}
    out = Walker(parallelism=1, prioritize=False).walk(steps)
    assert out.ok and order == ["root", "b", "a", "c"]


def test_a_virtual_clock_moves_only_when_every_thread_waits():
    """Two steps, one working (sleeping with its slot) while the other waits: time is the longer one's."""
    clock = VirtualClock()
    seen = []

    def step(seconds):
        def run():
            clock.sleep(seconds)
            seen.append(clock.now())
        return run

    out = Walker(parallelism=2, clock=clock).walk({"a": Step("a", step(3.0)), "b": Step("b", step(1.0))})
    assert out.ok and sorted(seen) == [1.0, 3.0] and clock.now() == 3.0
    clock.sleep(2.0)  # a thread outside any walk takes part while it sleeps
    assert clock.now() == 5.0
