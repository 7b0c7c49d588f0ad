"""The strict rules' registry: switches, settings, and the generated docs/sandbox.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import strict


def test_docs_sandbox_md_is_generated_from_the_rules():
    want = strict.markdown()
    have = (Path(__file__).resolve().parent.parent / "docs" / "sandbox.md").read_text()
    assert have == want, "docs/sandbox.md is stale: python -m sandbox.strict > docs/sandbox.md"


def test_every_rule_has_its_source_and_a_raw_boto3_test():
    from sandbox.extensions import install

    install()
    tests = "\n".join(p.read_text() for p in Path(__file__).resolve().parent.glob("test_*.py"))
    for r in strict.RULES.values():
        assert r.aws and r.source and r.moto, r.id
        assert f"test_rule_{r.id.replace('-', '_')}" in tests, f"rule {r.id} has no test_rule_... test"


def test_switches_and_settings(monkeypatch: pytest.MonkeyPatch):
    r = strict.rule("test-only-rule", aws="x", source="y", moto="z", seconds=2.0)
    try:
        assert strict.on(r.id) and strict.setting(r.id, "seconds") == 2.0
        with strict.disabled(r.id):
            assert not strict.on(r.id)
        assert strict.on(r.id)
        strict.configure(r.id, seconds=0.5)
        assert strict.setting(r.id, "seconds") == 0.5
        strict.reset()
        monkeypatch.setenv("INFRA_SANDBOX_TEST_ONLY_RULE_SECONDS", "7")
        assert strict.setting(r.id, "seconds") == 7.0
        monkeypatch.setenv("INFRA_SANDBOX_RULES_OFF", "test-only-rule")
        assert not strict.on(r.id)
        with pytest.raises(KeyError):
            strict.configure(r.id, nope=1)
    finally:
        strict.RULES.pop(r.id, None)
        strict.reset()
