"""The only place that builds boto3 clients.

Clients use botocore's adaptive retry mode: standard retries for transient
and throttling errors plus a client-side token bucket per client, which is
the per-service rate limit that keeps parallel work from provoking
throttling. Waiters are botocore's engine run on botocore's own definitions,
or on ours (resources/waiters/<service>.json, same schema) where AWS ships
none.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import botocore.waiter
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import (
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    WaiterError,
)

from core.errors import AwsError, FailedState, is_lost_answer
from orchestrator.executor import REAL, Clock, lend_slot

# Handlers every new Clients registers on its clients: tests and the benchmark count calls with these.
GLOBAL_HOOKS: list[tuple[str, Callable[..., Any]]] = []

WAITER_DIR = Path(__file__).resolve().parent.parent / "resources" / "waiters"

# Mutating operations start with one of these verbs; everything else reads.
READ_PREFIXES = ("Describe", "Get", "List", "Head", "Search", "Lookup", "Scan", "Query",
                 "Select", "Check", "Validate", "Preview", "Estimate", "BatchGet", "Test")


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


# Calls that add something new each time they run: run twice, they make a second copy (or answer
# "already exists"). CreateTags sets tags and may run twice.
CREATE_PREFIXES = ("Create", "Run", "Allocate", "Request", "Import", "Copy", "Authorize")
REPEATABLE = frozenset({"CreateTags", "CreateOrUpdateTags"})
TOKEN_NAMES = frozenset({"clienttoken", "clientrequesttoken", "idempotencytoken"})
_TOKEN_SENT = "infra:idempotency-token-sent"


def makes_new(operation: str) -> bool:
    return operation.startswith(CREATE_PREFIXES) and operation not in REPEATABLE


@cache
def _token_member(model: Any) -> tuple[str, bool] | None:
    """(member name, filled in by botocore when absent) of an operation's idempotency token."""
    shape = model.input_shape
    for name, member in (shape.members.items() if shape is not None else ()):
        if member.metadata.get("idempotencyToken"):
            return name, True
        if name.lower() in TOKEN_NAMES:
            return name, False
    return None


class NoBlindRetry:
    """botocore handlers: a create whose answer was lost is not sent again blindly.

    botocore retries a call whose connection timed out or closed after the request was sent
    (ReadTimeoutError, ConnectionClosedError) as it retries throttling. For a create that AWS may
    already have carried out, that second request makes a second copy, unless it carries an
    idempotency token (then AWS answers the first result). So for a create without a token the
    connection error goes up to the engine instead, which looks with find() before it tries
    again. Connect-phase errors (nothing was sent) and throttling keep botocore's retries.

    `mark` (before-parameter-build) notes in the call's context whether a token goes with it;
    `__call__` (needs-retry, registered first) raises the caught error to end the call, which is
    how a handler stops botocore's retry loop (a None answer lets the next handler decide).
    """

    def mark(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        member = _token_member(model)
        context[_TOKEN_SENT] = member is not None and (member[1] or bool(params.get(member[0])))

    def __call__(self, caught_exception: BaseException | None = None, operation: Any = None,
                 request_dict: dict[str, Any] | None = None, **_: Any) -> None:
        if caught_exception is None or operation is None or not is_lost_answer(caught_exception):
            return None
        if not makes_new(operation.name) or (request_dict or {}).get("context", {}).get(_TOKEN_SENT):
            return None
        raise caught_exception


@cache
def _custom_waiters(service: str) -> botocore.waiter.WaiterModel | None:
    path = WAITER_DIR / f"{service}.json"
    if not path.exists():
        return None
    return botocore.waiter.WaiterModel(json.loads(path.read_text()))


class Clients:
    """Clients for one account/region/endpoint, shared by every thread of a run."""

    def __init__(self, region: str | None = None, profile: str | None = None, endpoint_url: str | None = None,
                 max_attempts: int = 10, poll_delay: float | None = None, time_scale: float = 1.0,
                 clock: Clock | None = None) -> None:
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") \
            or "ap-east-2"
        try:
            self.session = boto3.Session(profile_name=profile, region_name=self.region)
        except Exception as exc:  # ProfileNotFound and friends
            raise AwsError(f"cannot open AWS profile {profile!r}: {exc}") from exc
        self.config = Config(retries={"mode": "adaptive", "max_attempts": max_attempts},
                             connect_timeout=5, read_timeout=60, max_pool_connections=50)
        env_delay = os.environ.get("INFRA_POLL_DELAY")
        self.poll_delay = poll_delay if poll_delay is not None else (float(env_delay) if env_delay else None)
        self.time_scale = time_scale  # real seconds per AWS second: 1 against AWS, less in a simulation
        self.clock = clock or REAL  # what scheduled waits sleep on (a VirtualClock in tests of the schedule)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._hooks: list[tuple[str, Callable[..., Any]]] = list(GLOBAL_HOOKS)
        self._account_id: str | None = None

    # -- clients --------------------------------------------------------------------

    def client(self, service: str) -> Any:
        with self._lock:
            c = self._clients.get(service)
            if c is None:
                c = self.session.client(service, config=self.config, endpoint_url=self.endpoint_url)
                veto = NoBlindRetry()
                sid = c.meta.service_model.service_id.hyphenize()
                c.meta.events.register(f"before-parameter-build.{sid}", veto.mark)
                # First among the service's own handlers (botocore's retry handler is registered there).
                c.meta.events.register_first(f"needs-retry.{sid}", veto)
                for event, fn in self._hooks:
                    c.meta.events.register(event, fn)
                self._clients[service] = c
            return c

    def add_hook(self, event: str, fn: Callable[..., Any]) -> None:
        """Register a botocore event handler on every client, present and future."""
        with self._lock:
            self._hooks.append((event, fn))
            for c in self._clients.values():
                c.meta.events.register(event, fn)

    def check(self) -> None:
        """Fail with a clear message before anything mutates: credentials and endpoint."""
        try:
            creds = self.session.get_credentials()
        except (PartialCredentialsError, NoCredentialsError) as exc:
            raise AwsError(f"AWS credentials are incomplete: {exc}") from exc
        if creds is None:
            raise AwsError("no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
                           "AWS_PROFILE, or use --sandbox to run against the local moto sandbox")
        _ = self.account_id

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            try:
                self._account_id = self.client("sts").get_caller_identity()["Account"]
            except EndpointConnectionError as exc:
                raise AwsError(f"AWS endpoint {self.endpoint_url or '(default)'} is unreachable: {exc}. "
                               "If you meant the sandbox, start it with `infra sandbox up`.") from exc
            except (NoCredentialsError, NoRegionError) as exc:
                raise AwsError(f"cannot call AWS: {exc}") from exc
        return self._account_id

    # -- waiting --------------------------------------------------------------------

    def wait(self, service: str, waiter_name: str, timeout: float | None = None, expected: float = 0.0,
             **params: Any) -> None:
        """Wait with botocore's waiter engine until the resource reaches its target state.

        A fixed poll delay (the sandbox's) polls at that pace. Otherwise the
        waiter definition's delay sets the pace, denser around `expected` (AWS
        seconds this operation usually takes; see poll_offsets). The timeout
        bounds the whole wait.
        """
        client = self.client(service)
        model = _custom_waiters(service)
        if xform_name(waiter_name) in client.waiter_names:
            waiter = client.get_waiter(xform_name(waiter_name))
        elif model is not None and waiter_name in model.waiter_names:
            waiter = botocore.waiter.create_waiter_with_client(waiter_name, model, client)
        else:
            raise AwsError(f"no waiter {service}.{waiter_name} (botocore or resources/waiters/{service}.json)")
        try:
            with lend_slot():  # waiting is not work: the walk's call slot serves other steps meanwhile
                if self.poll_delay is not None:  # the sandbox's compressed time: a fixed pace
                    attempts = max(1, math.ceil(timeout / max(self.poll_delay, 0.001))) if timeout \
                        else waiter.config.max_attempts
                    waiter.wait(**params, WaiterConfig={"Delay": self.poll_delay, "MaxAttempts": attempts})
                else:
                    self._wait_scheduled(waiter, timeout, expected, params)
        except WaiterError as exc:
            # botocore's words for a failure acceptor that matched, as against a timeout or an unexpected error.
            kind = FailedState if "terminal failure state" in str(exc) else AwsError
            raise kind(f"waiting for {service}.{waiter_name} {params} failed: {exc}") from exc

    def _wait_scheduled(self, waiter: Any, timeout: float | None, expected: float, params: dict[str, Any]) -> None:
        """Poll at poll_offsets' absolute times, one attempt of botocore's engine each (its acceptors
        decide success, failure or retry); raises the last WaiterError when time is up."""
        base = waiter.config.delay * self.time_scale
        total = (timeout or waiter.config.delay * waiter.config.max_attempts) * self.time_scale
        start = self.clock.now()
        last: WaiterError | None = None
        for offset in poll_offsets(base, expected * self.time_scale, total):
            self.clock.sleep(max(0.0, start + offset - self.clock.now()))
            try:
                waiter.wait(**params, WaiterConfig={"Delay": 0, "MaxAttempts": 1})
                return
            except WaiterError as exc:
                if "Max attempts exceeded" not in str(exc):
                    raise
                last = exc
        assert last is not None
        raise WaiterError(name=waiter.name, reason=f"timed out after {self.clock.now() - start:.0f} s "
                          "(still not in the target state)", last_response=last.last_response)


def poll_offsets(base: float, expected: float, total: float, dense: float = 6.0,
                 floor: float = 0.002) -> Iterator[float]:
    """Seconds after the start of a wait at which to poll, up to `total`.

    Without an expectation: every `base` (the waiter's own pace). With one (an
    MSK cluster usually takes 25 minutes): at that pace until one delay
    before the usual end, `dense` times faster until two delays after it,
    then at the pace again. About as many calls as the plain waiter (API
    budgets matter: throttling), but the usual finish is seen within seconds
    instead of up to a whole delay later, time the whole apply loses when the
    wait is on its critical path. Offsets are absolute, so slow calls do not
    push later polls back.
    """
    base = max(base, floor)
    fine = max(base / dense, floor)
    lo, hi = (expected - base, expected + 2 * base) if expected > 0 else (math.inf, math.inf)
    t = 0.0
    while t <= total:
        yield t
        nxt = t + (fine if lo <= t < hi else base)
        t = lo if t < lo < nxt else nxt
