"""A fresh in-process AWS (moto with the sandbox's extensions) per measured run, and call counting."""

from __future__ import annotations

import gc
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
    """Clients in the simulation's time: waiter delays, expectations and timeouts are AWS seconds x scale.

    Waiters pace themselves exactly as against AWS (the waiter's delay, dense
    around the usual duration: orchestrator.aws.poll_schedule), only faster by
    the scale. A timeout is at least 10 real seconds, so a resource the
    sandbox never finishes (a bug) fails the wait instead of hanging it.
    """

    def __init__(self, scale: float, **kw: Any) -> None:
        super().__init__(time_scale=scale if scale > 0 else 1e-4, **kw)
        self.poll_delay = kw.get("poll_delay")  # not INFRA_POLL_DELAY: the test session sets it
        self.scale = scale

    def wait(self, service: str, waiter_name: str, timeout: float | None = None, expected: float = 0.0,
             **params: Any) -> None:
        if timeout:
            timeout = max(10.0 / self.time_scale, 3 * timeout)
        super().wait(service, waiter_name, timeout=timeout, expected=expected, **params)


@contextmanager
def fresh_aws(scale: float, poll_delay: float | None = None) -> Iterator[Clients]:
    """An isolated in-process AWS with the lifecycle simulation at `scale` (0: off).

    Waiters poll as the tool does against AWS, in scaled time (or every
    `poll_delay` real seconds when given). The process environment is restored after.
    """
    saved = dict(os.environ)
    settings.apply_env()
    install()
    settings.apply_moto_config()
    _install_waiter_flag()
    lifecycle.disable()
    try:
        with mock_aws(config=settings.MOTO_CONFIG):
            clients = ScaledClients(scale, region=settings.REGION, poll_delay=poll_delay)
            warm_up(clients)
            if scale > 0:
                lifecycle.enable(scale)
            yield clients
    finally:
        lifecycle.disable()
        gc.unfreeze()
        os.environ.clear()
        os.environ.update(saved)


def warm_up(clients: Clients) -> None:
    """Pay the emulator's cold start before anything is timed: it is not AWS's (sandbox/warm.py)."""
    from sandbox import warm

    _ = clients.account_id
    warm.warm(clients.client, warm.services(clients.session.get_available_services(), clients.region))


def workspace(clients: Clients, env: str, plan: str = "genai_demo", parallelism: int = 10,
              stacks: list[str] | None = None, refresh: bool = True) -> Workspace:
    opts = Options(env=env, plan_name=plan, stacks=list(stacks or []), parallelism=parallelism, refresh=refresh,
                   state_table="genai-infra-bench", retry=RetryPolicy(initial=0.01, maximum=0.5))
    return Workspace(opts, clients=clients)


def timed(fn: Any, *args: Any) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - t0, time.process_time() - c0
