"""The live view of a run: its estimate on a virtual clock, and the real CLI under a pseudo-terminal."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from orchestrator.live import LiveView, hms

ROOT = Path(__file__).resolve().parent.parent
USUAL = {("ec2.Vpc", "create"): 5.0, ("kafka.Cluster", "create"): 1500.0, ("ssm.Parameter", "create"): 2.0}


def change(address, type_, deps=(), action="create"):
    return SimpleNamespace(address=address, type=type_, deps=list(deps), action=action)


def test_estimate_follows_the_critical_path_of_what_remains_on_a_virtual_clock():
    now = [100.0]
    out = io.StringIO()
    view = LiveView("apply", Console(file=out, width=140, force_terminal=False), lambda t, p: USUAL.get((t, p), 0.0),
                    clock=lambda: now[0])
    view.plan(SimpleNamespace(changes={
        "main.vpc": change("main.vpc", "ec2.Vpc"),
        "main.kafka": change("main.kafka", "kafka.Cluster", ["main.vpc"]),
        "main.brokers": change("main.brokers", "ssm.Parameter", ["main.kafka"]),
        "main.same": change("main.same", "ssm.Parameter", action="noop"),
    }))
    assert view.remaining() == (1507.0, ["main.vpc", "main.kafka", "main.brokers"])
    view("main.vpc", "start", "creating")
    now[0] += 3
    assert view.remaining()[0] == 1504.0  # 2 s left of the VPC's usual 5
    view("main.vpc", "done", ("creating", "vpc-1", 3.0))
    view("main.kafka", "start", "creating")
    now[0] += 600
    left, path = view.remaining()
    assert left == 902.0 and path == ["main.kafka", "main.brokers"]
    rendered = io.StringIO()
    Console(file=rendered, width=140).print(view.render())
    screen = rendered.getvalue()
    assert "apply: 1/3 done" in screen and "about 15m02s left" in screen
    assert "main.kafka" in screen and "10m00s / usually 25m00s" in screen
    now[0] += 1000  # late: past its usual duration, nothing left to estimate for it
    assert view.remaining()[0] == 2.0
    view("main.kafka", "failed", ("creating", "ClusterFailed: broker quota"))
    assert "main.kafka: creating FAILED: ClusterFailed" in out.getvalue()  # printed above the view
    view("main.brokers", "skipped", "main.kafka")
    assert view.remaining() == (0.0, [])
    assert hms(3725) == "1h02m05s" and hms(59.6) == "1m00s"


PLAN = '''
from orchestrator.model import Plan
from resources.ec2 import Vpc
from resources.ssm import Parameter


def build(env):
    plan = Plan(project="live-view", env=env, region="ap-east-2")
    main = plan.stack("main")
    vpc = main.add(Vpc("vpc", CidrBlock="10.77.0.0/16"))
    for i in range(3):
        main.add(Parameter(f"p{i}", Name=f"p/{i}", Value=vpc["VpcId"]))
    return plan
'''


@pytest.fixture
def sandbox(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFRA_", "AWS_", "PYTEST"))}
    env.update(INFRA_SANDBOX_DIR=str(tmp_path / "sbx"), INFRA_STATE_TABLE="live-view-state", TERM="xterm",
               COLUMNS="150", LINES="40")
    (tmp_path / "plan.py").write_text(PLAN)
    cli = [sys.executable, str(ROOT / "cli.py")]
    subprocess.run(cli + ["sandbox", "up", "--no-warm"], env=env, check=True, capture_output=True, timeout=300)
    try:
        yield SimpleNamespace(env=env, cli=cli, plan=str(tmp_path / "plan.py"))
    finally:
        subprocess.run(cli + ["sandbox", "down"], env=env, capture_output=True, timeout=60)


def under_pty(args, env) -> tuple[int, str]:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the follower side closed: the process is done
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_cli_draws_the_live_view_on_a_terminal_and_the_plain_log_when_piped(sandbox):
    rc, screen = under_pty(sandbox.cli + ["apply", "--sandbox", "--plan", sandbox.plan, "--env", "dev",
                                          "--auto-approve"], sandbox.env)
    assert rc == 0, screen
    assert "\x1b[" in screen  # drawn with terminal control sequences (the view redraws in place)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert "apply: 4/4 done" in text and "left" in text
    assert "creating done" not in text  # not the line-per-event log
    assert "Apply complete: 4 created." in text
    piped = subprocess.run(sandbox.cli + ["destroy", "--sandbox", "--plan", sandbox.plan, "--env", "dev",
                                          "--auto-approve"], env=sandbox.env, capture_output=True, text=True,
                           timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert "main.vpc: deleting done" in piped.stderr and "\x1b[" not in piped.stderr + piped.stdout
    assert "Destroy complete: 4 deleted." in piped.stdout
