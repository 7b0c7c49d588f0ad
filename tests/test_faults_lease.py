"""The lease lock between real processes: dead holders expire, live ones are never overrun, stale writers
are fenced.

tests/test_state.py proves the store's rules in-process; here the holders
are CLI processes against this module's sandbox server, with a short lease
(INFRA_LEASE_SECONDS) so expiry takes seconds.
"""

from __future__ import annotations

import json
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

TINY = ("--plan", "faults_tiny", "--env", "dev")
SMALL = ("--plan", "faults_small", "--env", "dev")
LEASE = 3.0


def popen(run: faults.Cli, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.faults", *args, "--endpoint-url", run.endpoint],
                            cwd=faults.ROOT, env=run.env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(path: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, f"exited {proc.returncode} too early:\n{proc.communicate()}"
        assert time.monotonic() < deadline, "the delayed call never started"
        time.sleep(0.05)


def test_lock_of_a_process_killed_on_this_machine_is_taken_over_at_once(sandbox, monkeypatch):
    """SIGKILL leaves the lease behind; the next apply on the same machine sees its holder is gone and goes on."""
    from orchestrator.aws import Clients
    from orchestrator.runs import Options, Workspace, run_changes

    run = faults.Cli(sandbox)
    # An hour's lease: were the next run to wait for it to run out, it would fail (acquire never waits).
    dead = popen(run, "apply", *TINY, "--auto-approve",
                 env={"INFRA_LEASE_SECONDS": "3600", "INFRA_FAULT_KILL_AT": "after:ec2.CreateVpc:1"})
    dead.communicate(timeout=120)
    assert dead.returncode == -signal.SIGKILL
    held = DynamoStateStore(run.client("dynamodb"), "genai-demo", "dev", faults.TABLE).lock_info()
    assert held is not None and held["pid"] == dead.pid and held["owner"].endswith(f":{dead.pid}")

    for k, v in run.env().items():
        if k.startswith("AWS_"):
            monkeypatch.setenv(k, v)
    faults.register_plans()
    ws = Workspace(Options(plan_name="faults_tiny", env="dev", state_table=faults.TABLE, poll_delay=0.01),
                   Clients(region="ap-east-2", endpoint_url=sandbox))
    warnings: list[str] = []
    _, report = run_changes(ws, "apply", warn=warnings.append)
    assert ws.store.acquire_attempts == 1  # taken on the first try, an hour before the lease would run out
    assert any(f"process {dead.pid} on this machine is no longer running" in w for w in warnings), warnings
    assert report is not None and report.ok
    faults.check_converged(run.client, run.records(), {r.address for r in faults.tiny_plan("dev").resources()})


def test_lock_of_a_killed_process_elsewhere_is_refused_until_its_lease_expires_then_taken_over(sandbox):
    """A holder on another machine cannot be checked from here: only the end of its lease frees the lock."""
    run = faults.Cli(sandbox)
    dead = popen(run, "apply", *TINY, "--auto-approve",
                 env={"INFRA_LEASE_SECONDS": "3600", "INFRA_FAULT_KILL_AT": "after:ec2.CreateVpc:1"})
    dead.communicate(timeout=120)
    assert dead.returncode == -signal.SIGKILL
    ddb = run.client("dynamodb")
    key = {"pk": {"S": "genai-demo#dev"}, "sk": {"S": "#lock"}}
    ddb.update_item(TableName=faults.TABLE, Key=key, UpdateExpression="SET host = :h",
                    ExpressionAttributeValues={":h": {"S": "build-agent-7"}})
    held = DynamoStateStore(ddb, "genai-demo", "dev", faults.TABLE).lock_info()
    assert held is not None and held["owner"].endswith(f":{dead.pid}") and held["host"] == "build-agent-7"
    blocked = run.infra("apply", *TINY, "--auto-approve")
    assert blocked.returncode == 1, blocked.stderr
    assert f":{dead.pid} (operation apply" in blocked.stderr and "state unlock --force" in blocked.stderr
    assert run.records()["main.vpc"].status == "creating"  # nothing was touched
    # The hour passes (its expiry moved into the past rather than waited for): now it is taken over.
    ddb.update_item(TableName=faults.TABLE, Key=key, UpdateExpression="SET expires = :e",
                    ExpressionAttributeValues={":e": {"N": repr(time.time() - 1)}})
    taken = run.ok("apply", *TINY, "--auto-approve")
    assert "took over an expired lock held by" in taken.stderr and f":{dead.pid}" in taken.stderr
    faults.check_converged(run.client, run.records(), {r.address for r in faults.tiny_plan("dev").resources()})


def test_live_holder_is_never_overrun(sandbox, tmp_path):
    """The holder sits in one slow call for longer than several leases; its heartbeat keeps the lock."""
    run = faults.Cli(sandbox)
    short = {"INFRA_LEASE_SECONDS": str(LEASE)}
    mark = str(tmp_path / "slow")
    live = popen(run, "apply", *TINY, "--auto-approve",
                 env={**short, "INFRA_FAULT_DELAY": f"ec2.CreateVpc:{3 * LEASE}:{mark}"})
    wait_for(mark, live)
    time.sleep(1.5 * LEASE)  # past the lease it took at the start
    other = run.infra("apply", *TINY, "--auto-approve", env=short)
    assert other.returncode == 1 and f":{live.pid} (operation apply" in other.stderr, other.stderr
    out, err = live.communicate(timeout=120)
    assert live.returncode == 0, err[-3000:]
    assert "Apply complete" in out


def test_stale_writer_is_fenced_after_a_takeover(sandbox, tmp_path):
    """A process paused (SIGSTOP) past its lease resumes after another run took over: its writes are refused."""
    run = faults.Cli(sandbox)
    short = {"INFRA_LEASE_SECONDS": str(LEASE)}
    mark = str(tmp_path / "waiting")
    # One call slot; the pause lands in the NAT gateway's wait. A wait lends its slot, so another create may be
    # in flight at that moment (see the end of the test for what that can leave behind).
    stale = popen(run, "apply", *SMALL, "--auto-approve", "--parallelism", "1",
                  env={**short, "INFRA_FAULT_DELAY": f"ec2.DescribeNatGateways:2:{mark}"})
    wait_for(mark, stale)
    stale.send_signal(signal.SIGSTOP)
    try:
        time.sleep(LEASE + 1.0)
        newer = run.ok("apply", *SMALL, "--auto-approve", env=short)
        assert "took over an expired lock held by" in newer.stderr and f":{stale.pid}" in newer.stderr
        after_takeover = {a: (r.physical_id, r.serial) for a, r in run.records().items()}
    finally:
        stale.send_signal(signal.SIGCONT)
    out, err = stale.communicate(timeout=120)
    assert stale.returncode == 1, err[-3000:]
    # Its state writes are refused by the fence, and its mutating calls by its own expired lease.
    assert "this run no longer holds the lock" in err + out or "this run's lease ran out" in err + out
    # Nothing the newer run recorded was overwritten, and AWS holds exactly what the state says.
    assert {a: (r.physical_id, r.serial) for a, r in run.records().items()} == after_takeover
    try:
        faults.check_converged(run.client, run.records(), faults.small_addrs())
    except AssertionError as exc:
        # The one window no lock can close: the stale run passed its lease check for a create that has no
        # idempotency token (KMS CreateKey) and was stopped with the request still on its way. On resume
        # the request lands. The tool cannot prevent that (Terraform and Pulumi cannot either); it must
        # see it: every untracked copy is an orphan `infra scan` reports, and nothing else diverged.
        problems = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
        untracked = [p.split()[1] for p in problems if p.startswith("untracked ")]
        others = [p for p in problems if not p.startswith(("untracked ", "duplicate "))]
        orphans = {o["arn"] for o in json.loads(run.ok("scan", *SMALL, "--json").stdout)["orphans"]}
        if others or not untracked or not set(untracked) <= orphans:
            raise AssertionError(f"{exc}\nscan orphans: {sorted(orphans)}\n--- newer run:\n{newer.stderr[-6000:]}"
                                 f"\n--- stale run:\n{err[-4000:]}") from None


def test_no_mutating_call_leaves_a_process_whose_lease_ran_out(sandbox, monkeypatch):
    """The before-send check refuses a create once the local lease is past; reads still pass."""
    from core.errors import LockError
    from orchestrator.aws import Clients
    from orchestrator.runs import Options, Workspace

    run = faults.Cli(sandbox)
    for k, v in run.env().items():
        if k.startswith("AWS_"):
            monkeypatch.setenv(k, v)
    faults.register_plans()
    ws = Workspace(Options(plan_name="faults_tiny", env="dev", state_table=faults.TABLE),
                   Clients(region="ap-east-2", endpoint_url=sandbox))
    ws.store.acquire("apply")
    try:
        ec2 = ws.clients.client("ec2")
        ec2.create_vpc(CidrBlock="10.1.0.0/16")  # lease fresh: allowed
        ws.store._hb_stop.set()  # the heartbeat stops, as in a paused process
        ws.store.lease.expires = time.time() - 1
        with pytest.raises(LockError, match=r"refusing to call ec2.CreateVpc: this run's lease ran out"):
            ec2.create_vpc(CidrBlock="10.2.0.0/16")
        cidrs = {v["CidrBlock"] for v in run.client("ec2").describe_vpcs()["Vpcs"]}
        assert "10.1.0.0/16" in cidrs and "10.2.0.0/16" not in cidrs  # reads work; nothing was sent
    finally:
        ws.store.release()
