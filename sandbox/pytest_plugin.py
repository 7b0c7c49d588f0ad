"""The one fixture that gives a test an isolated AWS.

`aws` starts moto in-process with this project's settings, so nothing a test
creates is visible to another test, whatever the order they run in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrator.aws import Clients
from sandbox import settings


@dataclass
class Aws:
    """An isolated AWS for one test: our Clients, and plain boto3 for independent checks."""

    clients: Clients
    region: str

    def client(self, service: str) -> Any:
        """An independent boto3 client (not the tool's) for asserting what AWS says."""
        return boto3.client(service, region_name=self.region)

    def ctx(self, name: str, stack: str = "main", env: str = "test", **kw: Any) -> Any:
        from resources.base import Ctx

        return Ctx(clients=self.clients, project="genai-demo", env=env, stack=stack, name=name,
                   region=self.region, account_id=self.clients.account_id, **kw)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for k, v in settings.ENV.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(k, raising=False)
    with mock_aws(config=settings.MOTO_CONFIG):
        yield Aws(clients=Clients(region=settings.REGION, poll_delay=0.01), region=settings.REGION)
