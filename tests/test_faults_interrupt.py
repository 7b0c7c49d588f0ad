"""Graceful interrupt of a real CLI process: one signal drains and records, a second stops waiting.

The apply runs in a subprocess against this module's sandbox server; the
NAT gateway's create call is held for a few seconds by tests.faults.Delay,
which touches a marker file when it starts, so the signal lands while that
change is certainly in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from state.dynamodb import DynamoStateStore
from tests import faults

pytestmark = pytest.mark.slow
sandbox = faults.sandbox_fixture()

SMALL = ("--plan", "faults_small", "--env", "dev")


def start(run: faults.Cli, mark: str, delay: float, *args: str) -> subprocess.Popen[str]:
    env = run.env({"INFRA_FAULT_DELAY": f"ec2.CreateNatGateway:{delay}:{mark}"})
    return subprocess.Popen([sys.executable, "-m", "tests.faults", *args, "--endpoint-url", run.endpoint],
                            cwd=faults.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, f"exited {proc.returncode} before the delayed call:\n{proc.communicate()}"
        assert time.monotonic() < deadline, "the delayed call never started"
        time.sleep(0.05)


def lock(run: faults.Cli) -> dict | None:
    return DynamoStateStore(run.client("dynamodb"), "genai-demo", "dev", faults.TABLE).lock_info()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_first_signal_drains_in_flight_records_it_and_exits_130(sandbox, tmp_path, sig):
    run = faults.Cli(sandbox)
    mark = str(tmp_path / "in-flight")
    proc = start(run, mark, 3.0, "apply", *SMALL, "--auto-approve")
    wait_for(mark, proc)
    t0 = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    # It waited for the held NAT gateway call (3 s) and everything else in flight.
    assert time.monotonic() - t0 > 1.5
    assert f"{sig.name} received: no new change will start" in err
    assert f"Interrupted ({sig.name})" in err and "not started" in out
    recs = run.records()
    assert recs, "nothing was recorded"
    assert [a for a, r in recs.items() if r.pending] == []  # in-flight changes finished and were recorded
    assert recs["main.nat_a"].status == "created" and recs["main.nat_a"].physical_id.startswith("nat-")
    assert len(recs) < len(faults.small_addrs())  # and it really stopped dispatching
    assert lock(run) is None  # released: the next run needs no unlock
    run.ok("apply", *SMALL, "--auto-approve")
    faults.check_converged(run.client, run.records(), faults.small_addrs())


def test_second_signal_stops_waiting_keeps_what_was_recorded(sandbox, tmp_path):
    run = faults.Cli(sandbox)
    mark = str(tmp_path / "in-flight")
    proc = start(run, mark, 60.0, "apply", *SMALL, "--auto-approve")
    wait_for(mark, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(1.0)
    assert proc.poll() is None  # still draining: the held call has ~59 s to go
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err[-3000:]
    assert "SIGINT again: not waiting any longer" in err
    recs = run.records()
    # It did not wait for the held call (an event, not a time): the held create is kept as its intent;
    # everything finished before is recorded as created.
    assert recs["main.nat_a"].status == "creating" and recs["main.nat_a"].token
    assert all(r.status == "created" for a, r in recs.items() if a != "main.nat_a" and not r.pending)
    assert lock(run) is None
    run.ok("apply", *SMALL, "--auto-approve")
    faults.check_converged(run.client, run.records(), faults.small_addrs())


def test_signal_before_any_change_exits_130_and_releases_the_lock(sandbox, tmp_path):
    """During planning (the refresh reads) nothing is in flight: the run ends at once, nothing changed."""
    run = faults.Cli(sandbox)
    run.ok("apply", *SMALL, "--auto-approve")
    mark = str(tmp_path / "reading")
    env = run.env({"INFRA_FAULT_DELAY": f"ec2.DescribeVpcs:3:{mark}"})
    proc = subprocess.Popen([sys.executable, "-m", "tests.faults", "apply", *SMALL, "--auto-approve",
                             "--endpoint-url", run.endpoint], cwd=faults.ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for(mark, proc)
    before = run.records()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert "Interrupted (SIGTERM) before any change started" in err
    assert lock(run) is None
    assert {a: r.serial for a, r in run.records().items()} == {a: r.serial for a, r in before.items()}
