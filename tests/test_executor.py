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
