"""The generic walker, with fake steps: ordering, parallelism, failure isolation, priority, stop."""

import threading
import time

from orchestrator.executor import Step, Walker


def steps_from(spec, fn_for):
    return {n: Step(n, fn_for(n), set(after)) for n, after in spec.items()}


def test_runs_after_prerequisites_and_in_parallel():
    log, lock = [], threading.Lock()
    active, peak = [0], [0]

    def fn_for(n):
        def run():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
                log.append(("start", n))
            time.sleep(0.05)
            with lock:
                active[0] -= 1
                log.append(("end", n))
            return n
        return run

    spec = {"vpc": [], "a": ["vpc"], "b": ["vpc"], "c": ["vpc"], "d": ["a", "b"]}
    out = Walker(parallelism=3).walk(steps_from(spec, fn_for))
    assert out.ok and set(out.done) == set(spec)
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
    w = Walker(parallelism=1)
    finished = []

    def first():
        w.stop.set()
        time.sleep(0.05)
        finished.append("first")

    steps = {"first": Step("first", first, set(), priority=2), "second": Step("second", lambda: finished.append("x"),
                                                                              set(), priority=1)}
    out = w.walk(steps)
    assert finished == ["first"] and out.not_started == ["second"] and not out.ok


# -- call slots: waiting does not occupy one ---------------------------------------------------


class Meter:
    """Counts steps working (holding a slot) and waiting (slot lent out) at the same time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.working = self.waiting = self.peak_working = self.peak_waiting = 0
        self.log = []

    def work(self, n, seconds=0.01):
        with self.lock:
            self.working += 1
            self.peak_working = max(self.peak_working, self.working)
            self.log.append(("work", n))
        time.sleep(seconds)
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
            time.sleep(seconds)
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
    out = Walker(parallelism=2).walk(steps)
    assert out.ok
    assert m.peak_working <= 2  # work never exceeds the slots
    assert m.peak_waiting == 6  # but all six wait together
    assert all(out.waited[n] >= 0.2 for n in steps)


def test_terraform_like_walk_keeps_the_slot_while_waiting():
    m = Meter()
    steps = {f"s{i}": Step(f"s{i}", m.step(f"s{i}"), set()) for i in range(6)}
    out = Walker(parallelism=2, lend_while_waiting=False).walk(steps)
    assert out.ok and m.peak_waiting == 2 and m.peak_working <= 2


def test_a_step_back_from_waiting_goes_before_new_steps():
    from orchestrator.executor import lend_slot

    order = []

    def waits():
        with lend_slot():  # lends the only slot: "busy" starts meanwhile
            time.sleep(0.05)
        order.append("waits resumed")

    def busy():
        time.sleep(0.15)  # still holding the slot when "waits" wants it back
        order.append("busy")

    steps = {"waits": Step("waits", waits, set(), priority=3), "busy": Step("busy", busy, set(), priority=2),
             "late": Step("late", lambda: order.append("late"), set(), priority=1)}
    out = Walker(parallelism=1).walk(steps)
    assert out.ok
    assert order == ["busy", "waits resumed", "late"]


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
