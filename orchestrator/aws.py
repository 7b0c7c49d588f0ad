"""The only place that builds boto3 clients.

Clients use botocore's standard retry mode with 25 retries per call, the
Terraform provider's max_retries default: transient and throttling errors are
retried inside the call with capped exponential backoff, so one throttled
describe during a 25-minute wait does not end it. Quota answers are taken out
of those retries (botocore counts LimitExceededException as throttling): they
fail at once. Waiters are botocore's engine run on botocore's own definitions,
or on ours (resources/waiters/<service>.json, same schema) where AWS ships
none or where botocore's gives up on an answer that only means "not yet".

One polling policy for every endpoint: the first poll comes soon after the
call and the pace backs off geometrically to the waiter's own delay (see
poll_offsets). An emulator that answers in milliseconds is waited for in
milliseconds, AWS at its own pace, without guessing which one is behind the
endpoint.
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
import botocore.loaders
import botocore.session
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
from botocore.retries import standard

from core.errors import AwsError, FailedState, is_lost_answer, quota_answer
from orchestrator.executor import REAL, Clock, lend_slot

# Handlers every new Clients registers on its clients: tests and the benchmark count calls with these.
GLOBAL_HOOKS: list[tuple[str, Callable[..., Any]]] = []

WAITER_DIR = Path(__file__).resolve().parent.parent / "resources" / "waiters"

# Mutating operations start with one of these verbs; everything else reads.
READ_PREFIXES = ("Describe", "Get", "List", "Head", "Search", "Lookup", "Scan", "Query",
                 "Select", "Check", "Validate", "Preview", "Estimate", "BatchGet", "Test")


# Retries of the run's first call (sts GetCallerIdentity), which finds out whether the endpoint answers at all.
PROBE_RETRIES = 3
# Retries per call inside botocore (the first attempt not counted): the Terraform provider's max_retries default.
MAX_RETRIES = 25
# AWS seconds from the call to a wait's first poll; each later gap doubles until it is the waiter's delay.
FIRST_POLL = 0.05


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


class _SearchPaths(list[str]):
    """A loader's search path that a second boto3.Session sharing it does not lengthen (each appends its own
    data directory)."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@cache
def _loader() -> botocore.loaders.Loader:
    loader = botocore.loaders.create_loader()
    loader._search_paths = _SearchPaths(loader.search_paths)  # type: ignore[attr-defined]
    return loader


def botocore_session() -> botocore.session.Session:
    """A botocore session whose model loader is the process's one.

    Each botocore session parses the JSON of every service model, paginator and endpoint rule set it
    touches, and caches it on its own loader: about 0.1 s a service, and ec2 alone about 0.3 s. The CLI
    opens one session a process, but a process that runs many (the test suite, a long-lived caller
    driving several environments) paid that again for every run. The files are the installed botocore's
    and do not change while the process runs, so one loader can serve every session."""
    session = botocore.session.Session()
    session.register_component("data_loader", _loader())
    return session


class Clients:
    """Clients for one account/region/endpoint, shared by every thread of a run."""

    def __init__(self, region: str | None = None, profile: str | None = None, endpoint_url: str | None = None,
                 max_attempts: int = MAX_RETRIES, poll_delay: float | None = None, time_scale: float = 1.0,
                 clock: Clock | None = None) -> None:
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") \
            or "ap-east-2"
        try:
            self.session = boto3.Session(botocore_session=botocore_session(), profile_name=profile,
                                         region_name=self.region)
        except Exception as exc:  # ProfileNotFound and friends
            raise AwsError(f"cannot open AWS profile {profile!r}: {exc}") from exc
        self.max_attempts = max_attempts  # retries, as botocore's `max_attempts` counts them
        self.config = Config(retries={"mode": "standard", "max_attempts": max_attempts},
                             connect_timeout=5, read_timeout=60, max_pool_connections=50)
        env_delay = os.environ.get("INFRA_POLL_DELAY")  # a fixed pace: an override for tests only
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
                _no_retry_on_quota(c, self.max_attempts + 1)
                veto = NoBlindRetry()
                sid = c.meta.service_model.service_id.hyphenize()
                c.meta.events.register(f"after-call.{sid}", _stamp_service(service))
                c.meta.events.register(f"before-parameter-build.{sid}", veto.mark)
                # First among the service's own handlers (botocore's retry handler is registered there).
                c.meta.events.register_first(f"needs-retry.{sid}", veto)
                for event, fn in self._hooks:
                    c.meta.events.register(event, fn)
                self._clients[service] = c
            return c

    def _probe(self) -> Any:
        """The first call of a run (who am I): a few retries, not the 25 a mutating call gets.

        Against an endpoint that refuses connections, botocore's standard mode backs off up to 20 s a
        try: 25 tries made `infra plan --endpoint-url <wrong port>` wait over three minutes for its
        one-line answer. A throttled or slow identity call still gets three retries."""
        c = self.session.client("sts", endpoint_url=self.endpoint_url, config=Config(
            retries={"mode": "standard", "max_attempts": PROBE_RETRIES}, connect_timeout=5, read_timeout=30))
        c.meta.events.register("after-call.sts", _stamp_service("sts"))
        for event, fn in self._hooks:
            c.meta.events.register(event, fn)
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
                self._account_id = self._probe().get_caller_identity()["Account"]
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

        Polls start soon after the call and back off to the waiter
        definition's delay, denser around `expected` (AWS seconds this
        operation usually takes; see poll_offsets). The timeout bounds the
        whole wait. A fixed poll delay (INFRA_POLL_DELAY, tests) polls at that
        pace instead, for the timeout or the waiter's own total.
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
                if self.poll_delay is not None:  # an explicit fixed pace (tests)
                    total = timeout or waiter.config.delay * waiter.config.max_attempts
                    attempts = max(1, math.ceil(total / max(self.poll_delay, 0.001)))
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
        for offset in poll_offsets(base, expected * self.time_scale, total, first=FIRST_POLL * self.time_scale):
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


def poll_offsets(base: float, expected: float, total: float, dense: float = 6.0, first: float = FIRST_POLL,
                 floor: float = 0.002) -> Iterator[float]:
    """Seconds after the start of a wait at which to poll, up to `total`.

    The first poll comes `first` after the call (not at once: the call has
    just returned and nothing changed yet), and each gap doubles until it is
    `base`, the waiter's own pace: what finishes at once (a VPC, a group, an
    emulator's whole lifecycle) is seen within twice its duration, what takes
    minutes costs only the few early polls of the ramp, log2(base / first)
    of them. With an expectation (an MSK cluster usually takes 25 minutes):
    `dense` times faster than the pace from one delay before the usual end
    until two delays after it. About as many calls as the plain waiter (API
    budgets matter: throttling), but the usual finish is seen within seconds
    instead of up to a whole delay later, time the whole apply loses when the
    wait is on its critical path. Offsets are absolute, so slow calls do not
    push later polls back.
    """
    base = max(base, floor)
    fine = max(base / dense, floor)
    gap = min(max(first, floor), base)
    lo, hi = (expected - base, expected + 2 * base) if expected > 0 else (math.inf, math.inf)
    t = gap
    while t <= total:
        yield t
        nxt = t + (min(gap, fine) if lo <= t < hi else gap)
        t = lo if t < lo < nxt else nxt
        gap = min(base, gap * 2)


def _no_retry_on_quota(client: Any, total_attempts: int) -> None:
    """botocore's standard retries for `client`, less the quota answers it takes for throttling.

    botocore retries LimitExceededException (and friends) as throttling, 25
    times with backoff capped at 20 s: minutes before a quota error, which no
    retry can fix, reaches the user. Its handler is replaced by the same
    standard handler behind a check that lets quota answers through at once
    (core.errors.quota_answer; "Rate exceeded" stays a throttle).
    """
    svc = client.meta.service_model.service_id.hyphenize()
    event, uid = f"needs-retry.{svc}", f"retry-config-{svc}"
    client.meta.events.unregister(event, unique_id=uid)
    handler = standard.register_retry_handler(client, max_attempts=total_attempts)
    client.meta.events.unregister(event, unique_id=uid)

    def needs_retry(response: Any = None, **kw: Any) -> Any:
        parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else None
        err = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
        if quota_answer(err.get("Code"), err.get("Message", "")):
            return None
        return handler.needs_retry(response=response, **kw)

    client.meta.events.register(event, needs_retry, unique_id=uid)


def _stamp_service(service: str) -> Callable[..., None]:
    """after-call hook: an error answer carries the service that gave it (ResponseMetadata.Service), so
    a message can name it (core.errors.quota_message) where only the exception travels."""
    def stamp(parsed: Any = None, **_: Any) -> None:
        if isinstance(parsed, dict) and "Error" in parsed:
            parsed.setdefault("ResponseMetadata", {})["Service"] = service

    return stamp
