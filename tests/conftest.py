import pytest

pytest_plugins = ["sandbox.pytest_plugin"]


@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers at once: poll and back off in milliseconds, not AWS's seconds."""
    monkeypatch.setenv("INFRA_POLL_DELAY", "0.01")
    monkeypatch.setenv("INFRA_RETRY_INITIAL", "0.01")
    monkeypatch.setenv("INFRA_STATE_TABLE", "genai-infra-state-test")
