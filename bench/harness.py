"""A fresh in-process AWS (moto with the sandbox's extensions) per measured run, and call counting."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.waiter
from moto import mock_aws

from orchestrator.apply import RetryPolicy
from orchestrator.aws import Clients, is_mutating
from orchestrator.executor import Outcome
from orchestrator.runs import Options, Workspace
from sandbox import lifecycle, settings
from sandbox.extensions import install

_in_waiter = threading.local()


def _install_waiter_flag() -> None:
    """Mark calls made by botocore's waiter engine, so polls count apart from the tool's own reads."""
    original = botocore.waiter.Waiter.wait
    if getattr(original, "_bench_flag", False):
        return

    def wait(self: Any, **kwargs: Any) -> None:
        _in_waiter.on = True
        try:
            original(self, **kwargs)
        finally:
            _in_waiter.on = False

    wait._bench_flag = True  # type: ignore[attr-defined]
    botocore.waiter.Waiter.wait = wait  # type: ignore[method-assign]


class Calls:
    """API calls by kind while `active`: state (DynamoDB), mutating, reads, waiter polls."""

    def __init__(self) -> None:
        self.active = False
        self.ops: Counter[tuple[str, str, str]] = Counter()  # (kind, service, operation)
        self._lock = threading.Lock()

    def __call__(self, model: Any, **_: Any) -> None:
        if not self.active:
            return
        svc, op = model.service_model.service_name, model.name
        if svc == "dynamodb":
            k = "state"
        elif svc == "sts":
            k = "identity"
        elif getattr(_in_waiter, "on", False):
            k = "waiter poll"
        elif is_mutating(op):
            k = "mutating"
        else:
            k = "read"
        with self._lock:
            self.ops[(k, svc, op)] += 1

    def by_kind(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (k, _, _), n in self.ops.items():
            out[k] += n
        return out

    def of(self, kind: str) -> Counter[str]:
        return Counter({f"{s}.{op}": n for (k, s, op), n in self.ops.items() if k == kind})

    def reset(self) -> None:
        self.ops.clear()

    @contextmanager
    def counting(self) -> Iterator[Calls]:
        self.reset()
        self.active = True
        try:
            yield self
        finally:
            self.active = False


@dataclass
class Run:
    """One measured walk."""

    makespan: float
    cpu: float
    outcome: Outcome
    calls: Counter[str]
    ops: dict[str, Counter[str]] = field(default_factory=dict)


class ScaledClients(Clients):
    """Waits time out after the type's AWS timeout x scale (with slack), as polls are scaled too.

    Without this a resource the sandbox never finishes (a bug) would keep a
    waiter polling for an hour of scaled-down polls instead of failing.
    """

    def __init__(self, scale: float, **kw: Any) -> None:
        super().__init__(**kw)
        self.scale = scale

    def wait(self, service: str, waiter_name: str, timeout: float | None = None, **params: Any) -> None:
        if timeout and self.scale > 0:
            timeout = max(10.0, 3 * timeout * self.scale)
        super().wait(service, waiter_name, timeout=timeout, **params)


@contextmanager
def fresh_aws(scale: float, poll_aws_seconds: float = 5.0) -> Iterator[Clients]:
    """An isolated in-process AWS with the lifecycle simulation at `scale` (0: off).

    Waiters poll every `poll_aws_seconds` of AWS time (scaled), as a tool
    polling every few seconds would. The process environment is restored after.
    """
    saved = dict(os.environ)
    settings.apply_env()
    install()
    settings.apply_moto_config()
    _install_waiter_flag()
    lifecycle.disable()
    try:
        with mock_aws(config=settings.MOTO_CONFIG):
            clients = ScaledClients(scale, region=settings.REGION, poll_delay=max(0.002, poll_aws_seconds * scale))
            _ = clients.account_id  # moto builds backends lazily: warm up before durations start counting
            if scale > 0:
                lifecycle.enable(scale)
            yield clients
    finally:
        lifecycle.disable()
        os.environ.clear()
        os.environ.update(saved)


def workspace(clients: Clients, env: str, plan: str = "genai_demo", parallelism: int = 10,
              stacks: list[str] | None = None, refresh: bool = True) -> Workspace:
    opts = Options(env=env, plan_name=plan, stacks=list(stacks or []), parallelism=parallelism, refresh=refresh,
                   state_table="genai-infra-bench", retry=RetryPolicy(initial=0.01, maximum=0.5))
    return Workspace(opts, clients=clients)


def timed(fn: Any, *args: Any) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - t0, time.process_time() - c0
