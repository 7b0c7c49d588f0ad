"""The one fixture that gives a test an isolated AWS.

`aws` starts moto in-process with this project's settings and fidelity
extensions, so nothing a test creates is visible to another test, whatever
the order they run in. Resources are ready at once (fast tests) unless the
test opts into the lifecycle simulation: `aws.lifecycle()` or the
`aws_lifecycle` fixture, after which slow resources show their transitional
states for table x scale real seconds (sandbox/latency.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrator.aws import Clients, botocore_session
from sandbox import lifecycle, settings, strict
from sandbox.extensions import install


@cache
def _independent_session(credentials: tuple[str | None, ...]) -> boto3.Session:
    """The process's session for tests' own clients, one per set of credentials in the environment.

    A new session resolves credentials and endpoints again, and boto3's default one is rebuilt
    between tests: building the tests' independent clients was a seventh of the suite's CPU."""
    del credentials  # the cache key: the session resolves them from the environment once
    return boto3.Session(botocore_session=botocore_session())


CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "MOTO_ACCOUNT_ID")


@dataclass
class Aws:
    """An isolated AWS for one test: our Clients, and plain boto3 for independent checks."""

    clients: Clients
    region: str
    rules: Any = strict  # the strict rules: aws.rules.off("iam-propagation"), aws.rules.configure(...)
    _clients: dict[tuple[str, tuple[str | None, ...]], Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        """An independent boto3 client (not the tool's) for asserting what AWS says."""
        creds = tuple(os.environ.get(k) for k in CREDENTIAL_ENV)
        key = (service, creds)
        if key not in self._clients:
            self._clients[key] = _independent_session(creds).client(service, region_name=self.region)
        return self._clients[key]

    def ctx(self, name: str, stack: str = "main", env: str = "test", **kw: Any) -> Any:
        from resources.base import Ctx

        return Ctx(clients=self.clients, project="genai-demo", env=env, stack=stack, name=name,
                   region=self.region, account_id=self.clients.account_id, **kw)

    def lifecycle(self, scale: float | None = None) -> float:
        """Turn on the lifecycle simulation for the rest of this test; returns the scale used.

        `scale` is real seconds per AWS second (default: INFRA_SANDBOX_SCALE or
        1 real minute = 10 ms). Turned off again when the test ends. moto builds
        its per-account backends lazily on the first calls (~0.15 s), which would
        eat into the first short transition, so one STS call warms them up first.
        """
        _ = self.clients.account_id
        return lifecycle.enable(scale)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_rules_off(*ids): turn these strict sandbox rules off for the test")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Aws]:
    """An isolated AWS with every strict rule on (sandbox/strict.py), less the test's marker's."""
    for k, v in settings.ENV.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "INFRA_SANDBOX_RULES_OFF"):
        monkeypatch.delenv(k, raising=False)
    install()
    settings.apply_moto_config()
    lifecycle.disable()
    strict.reset()
    for mark in request.node.iter_markers("sandbox_rules_off"):
        strict.off(*mark.args)
    try:
        with mock_aws(config=settings.MOTO_CONFIG):
            yield Aws(clients=Clients(region=settings.REGION, poll_delay=0.01), region=settings.REGION)
    finally:
        lifecycle.disable()
        strict.reset()


@pytest.fixture
def aws_lifecycle(aws: Aws) -> Aws:
    """`aws` with the lifecycle simulation on at the default scale."""
    aws.lifecycle()
    return aws


@dataclass
class InfraSandbox:
    """What a plan's own tests need: apply, plan, drift-check and destroy a plan on the strict sandbox.

    Each call runs the tool as `infra` would (same planner, engine and state table, here in the
    test's isolated AWS), so a user's test proves what a real run would do; `client()` gives an
    independent boto3 client to check what AWS says.
    """

    aws: Aws
    parallelism: int = 10

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    @property
    def rules(self) -> Any:
        return self.aws.rules

    def workspace(self, plan: str, env: str = "dev", stacks: tuple[str, ...] = ()) -> Any:
        from orchestrator.runs import Options, Workspace

        opts = Options(env=env, stacks=list(stacks), plan_name=plan, region=self.aws.region,
                       parallelism=self.parallelism, poll_delay=0.01)
        return Workspace(opts, clients=self.aws.clients)

    def plan(self, plan: str, env: str = "dev", stacks: tuple[str, ...] = ()) -> Any:
        """The changes an apply would make (planner.Plan: .has_changes, .changes)."""
        ws = self.workspace(plan, env, stacks)
        return ws.make_plan()[0]

    def apply(self, plan: str, env: str = "dev", stacks: tuple[str, ...] = ()) -> Any:
        """Apply and return the run's Report (.ok, .summary(), .retry_log); no changes gives an ok Report."""
        from orchestrator.runs import run_changes

        return self._report(run_changes(self.workspace(plan, env, stacks), "apply"))

    def destroy(self, plan: str, env: str = "dev", stacks: tuple[str, ...] = (), *,
                allow_protected: bool = False) -> Any:
        """Destroy; `allow_protected` is `--destroy-protected ENV` (protected production data stores)."""
        from orchestrator.runs import run_changes

        return self._report(run_changes(self.workspace(plan, env, stacks), "destroy", destroy=True,
                                        allow_protected=allow_protected))

    def drift(self, plan: str, env: str = "dev", stacks: tuple[str, ...] = ()) -> dict[str, Any]:
        """Resources changed outside the tool (address -> change); empty when AWS matches the state."""
        from orchestrator import day2

        return day2.drift(self.workspace(plan, env, stacks))

    @staticmethod
    def _report(result: tuple[Any, Any]) -> Any:
        from orchestrator.executor import Outcome
        from orchestrator.runs import Report

        p, report = result
        return report if report is not None else Report(Outcome(), p.changes)


@pytest.fixture
def infra_sandbox(aws: Aws) -> InfraSandbox:
    """An isolated, strict sandbox (the same one `infra sandbox` runs) with helpers to run a plan on it."""
    return InfraSandbox(aws)
