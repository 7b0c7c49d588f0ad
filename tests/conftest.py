from collections.abc import Iterator

import pytest

pytest_plugins = ["sandbox.pytest_plugin"]


@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers at once: poll and back off in milliseconds, not AWS's seconds."""
    monkeypatch.setenv("INFRA_POLL_DELAY", "0.01")
    monkeypatch.setenv("INFRA_RETRY_INITIAL", "0.01")
    monkeypatch.setenv("INFRA_STATE_TABLE", "genai-infra-state-test")


@pytest.fixture
def short_ec2_window(request: pytest.FixtureRequest) -> None:
    """The ec2-consistency window at 0.2 s for EC2 round trips whose raw set-up waits it out (tests.helpers
    .ec2_visible) before naming what it made: the same refusals, less sleeping than the 1 s default."""
    if "aws" in request.fixturenames:
        request.getfixturevalue("aws").rules.configure("ec2-consistency", seconds=0.2)


@pytest.fixture(scope="session")
def faults_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The fault suites' sandbox server, one per worker (tests/faults.py)."""
    from tests import faults

    yield from faults.session_server(tmp_path_factory)
