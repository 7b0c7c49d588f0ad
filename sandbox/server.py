"""`infra sandbox up|down|status|reset`: moto's server as a detached background process.

The server runs `python -m sandbox.serve` (same settings and extensions as
the tests) on 127.0.0.1 only, on a free port unless one is given. Its pid and
port live in `<state dir>/server.json` (default ~/.genai-infra/sandbox,
INFRA_SANDBOX_DIR overrides), so a later CLI invocation finds it; the process
survives the CLI exiting (own session, output to server.log beside it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.errors import InfraError
from sandbox import settings

HOST = "127.0.0.1"
STATE_FILE = "server.json"
LOG_FILE = "server.log"
START_TIMEOUT = 120.0  # the warm start loads every service first
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Status:
    pid: int
    port: int
    endpoint_url: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def state_dir() -> Path:
    return Path(settings.state_dir())


def _state_path() -> Path:
    return state_dir() / STATE_FILE


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child not yet reaped) is not alive.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _answers(port: int, timeout: float = 1.0) -> bool:
    """True if moto answers on the port (its /moto-api/ is always there)."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/moto-api/data.json", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((HOST, port)) == 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _read() -> Status | None:
    try:
        data = json.loads(_state_path().read_text())
        return Status(pid=int(data["pid"]), port=int(data["port"]), endpoint_url=str(data["endpoint_url"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def status() -> Status | None:
    """The running sandbox, or None (not started, or a stale file whose process is gone)."""
    st = _read()
    if st is None or not _alive(st.pid):
        return None
    return st


def up(port: int | None = None, scale: float | None = None, lifecycle: bool = True, warm: bool = True,
       log_requests: bool = False) -> Status:
    """Start the sandbox in the background; return once every service the plans use has answered.

    Every service answers once before this returns (sandbox/warm.py): moto loads each service's
    backend and routes on its first call, which the first apply used to pay. The requests come from
    this process, so the server's work and this side's run on two cores. Returns the running
    sandbox if there is one.
    """
    current = status()
    if current is not None:
        return current
    _state_path().unlink(missing_ok=True)
    port = port or _free_port()
    if _listening(port):
        raise InfraError(f"cannot start the sandbox on port {port}: something else is listening there")
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "sandbox.serve", "--port", str(port)]
    if scale is not None:
        cmd += ["--scale", str(scale)]
    if not lifecycle:
        cmd.append("--no-lifecycle")
    if log_requests:
        cmd.append("--log-requests")
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    with open(directory / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=root, start_new_session=True, close_fds=True)
    st = Status(pid=proc.pid, port=port, endpoint_url=f"http://{HOST}:{port}")
    # The warm start's clients are built while the server boots (2 s on each side, on two cores).
    clients = _warm_clients(st.endpoint_url) if warm else {}
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(port):
        if proc.poll() is not None:
            raise InfraError(f"the sandbox exited at start (code {proc.returncode}); see {directory / LOG_FILE}")
        if time.monotonic() > deadline:
            _terminate(proc.pid)
            raise InfraError(f"the sandbox did not answer on port {port} within {START_TIMEOUT:.0f} s; "
                             f"see {directory / LOG_FILE}")
        time.sleep(0.1)
    if warm:
        _warm(st.endpoint_url, clients)
    tmp = _state_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(st.to_dict()))
    tmp.replace(_state_path())
    return st


def _warm_clients(endpoint_url: str) -> dict[str, Any]:
    """A client per service the plans use, against `endpoint_url`."""
    import boto3
    import botocore.session
    from botocore.config import Config

    from sandbox import warm

    env = dict(settings.ENV)
    core = botocore.session.Session()
    session = boto3.Session(botocore_session=core, aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=env["AWS_SESSION_TOKEN"], region_name=settings.REGION)
    config = Config(retries={"mode": "standard", "max_attempts": 2}, read_timeout=60)
    names = warm.services(session.get_available_services(), settings.REGION, session=core)
    return {n: session.client(n, endpoint_url=endpoint_url, config=config) for n in names}


def _warm(endpoint_url: str, clients: dict[str, Any]) -> None:
    from sandbox import warm

    names = sorted(clients)
    answered = warm.warm(clients.__getitem__, names, routers=False, threads=8)
    missing = sorted(set(names) - set(answered))
    if missing:
        raise InfraError(f"the sandbox at {endpoint_url} started but did not answer for {', '.join(missing)}; "
                         f"see {state_dir() / LOG_FILE}")


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if _alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _reap(pid)


def _reap(pid: int) -> None:
    """Collect the exit status when the server is our own child (tests start it in-process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def down() -> bool:
    """Stop the sandbox; True if one was running. Afterwards nothing listens on its port."""
    st = _read()
    if st is None:
        return False
    running = _alive(st.pid)
    if running:
        _terminate(st.pid)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _listening(st.port) and time.monotonic() < deadline:
            time.sleep(0.05)
    _state_path().unlink(missing_ok=True)
    return running


def endpoint() -> str:
    """The endpoint URL of the running sandbox, for `--sandbox`."""
    st = status()
    if st is None:
        raise InfraError("the sandbox is not running: start it with `infra sandbox up`")
    return st.endpoint_url


def reset() -> None:
    """Forget every resource in the sandbox (moto's /moto-api/reset); settings and extensions stay."""
    url = endpoint()
    req = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            if resp.status != 200:
                raise InfraError(f"the sandbox refused the reset (HTTP {resp.status})")
    except urllib.error.URLError as exc:
        raise InfraError(f"the sandbox at {url} did not answer the reset: {exc}") from exc
