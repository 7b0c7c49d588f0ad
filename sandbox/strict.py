"""Strict rules: where moto is lenient, the sandbox answers as AWS does.

moto accepts what AWS refuses and answers at once where AWS is slow or
eventually consistent, so a tool proven only on moto fails its first real
apply. Each rule here reproduces one such AWS behaviour (a role not yet
assumable, a VPC not yet visible, an ENI left behind...), with the AWS
documentation page or the Terraform provider file that shows it. Every rule
is on by default, in the test fixture and in `infra sandbox`; a test turns
one off for itself (`aws.rules.off("iam-propagation")`, or the
`sandbox_rules_off` marker), the server with INFRA_SANDBOX_RULES_OFF=a,b.

A rule is declared once, with its settings (a window in real seconds...),
where its extension lives (sandbox/extensions/), and docs/sandbox.md is
generated from the declarations (`python -m sandbox.strict > docs/sandbox.md`;
a test fails when it is stale).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    id: str  # short kebab-case name, e.g. "iam-propagation"
    aws: str  # what AWS does, one or two sentences
    source: str  # the AWS documentation page or Terraform provider file that shows it
    moto: str  # what moto did before the rule
    settings: dict[str, Any] = field(default_factory=dict)  # knobs and their defaults (seconds...)


RULES: dict[str, Rule] = {}
_lock = threading.RLock()
_off: set[str] = set()
_overrides: dict[str, dict[str, Any]] = {}
_trips: dict[str, int] = {}


def rule(id: str, *, aws: str, source: str, moto: str, **settings: Any) -> Rule:
    """Declare a rule (idempotent: re-importing a module declares the same one again)."""
    r = Rule(id=id, aws=aws, source=source, moto=moto, settings=dict(settings))
    with _lock:
        RULES[id] = r
    return r


def on(id: str) -> bool:
    """Whether rule `id` is enforced now (an undeclared rule is a programming error)."""
    if id not in RULES:
        raise KeyError(f"no sandbox rule {id!r}")
    with _lock:
        return id not in _off and id not in _env_off()


def setting(id: str, key: str) -> Any:
    with _lock:
        if key in _overrides.get(id, {}):
            return _overrides[id][key]
    env = os.environ.get(f"INFRA_SANDBOX_{id.upper().replace('-', '_')}_{key.upper()}")
    default = RULES[id].settings[key]
    if env not in (None, ""):
        return type(default)(env) if default is not None else env
    return default


def off(*ids: str) -> None:
    with _lock:
        for id in ids:
            if id not in RULES:
                raise KeyError(f"no sandbox rule {id!r}")
            _off.add(id)


def enable(*ids: str) -> None:
    with _lock:
        _off.difference_update(ids)


def configure(id: str, **values: Any) -> None:
    """Change a rule's settings (for example a shorter window) until reset()."""
    with _lock:
        unknown = set(values) - set(RULES[id].settings)
        if unknown:
            raise KeyError(f"sandbox rule {id!r} has no setting(s) {sorted(unknown)}")
        _overrides.setdefault(id, {}).update(values)


def reset() -> None:
    """Every rule on with its default settings (what each test starts with)."""
    with _lock:
        _off.clear()
        _overrides.clear()


@contextmanager
def disabled(*ids: str) -> Iterator[None]:
    with _lock:
        before = set(_off)
        off(*ids)
    try:
        yield
    finally:
        with _lock:
            _off.clear()
            _off.update(before)


def trip(id: str) -> None:
    """Note that rule `id` refused something (tests and the run report can ask how often)."""
    with _lock:
        _trips[id] = _trips.get(id, 0) + 1


def trips() -> dict[str, int]:
    with _lock:
        return dict(_trips)


def _env_off() -> set[str]:
    raw = os.environ.get("INFRA_SANDBOX_RULES_OFF", "")
    if raw.strip().lower() == "all":
        return set(RULES)
    return {x.strip() for x in raw.split(",") if x.strip()}


class Clock:
    """When things happened, in real seconds: the windows of time-based rules.

    Keyed by whatever the rule needs (an ARN, an id); the monotonic clock,
    so a window never depends on the wall clock.
    """

    def __init__(self) -> None:
        self._at: dict[str, float] = {}
        self._lock = threading.Lock()

    def mark(self, key: str) -> None:
        with self._lock:
            self._at[key] = time.monotonic()

    def age(self, key: str) -> float:
        """Seconds since `key` was marked (infinite if never)."""
        with self._lock:
            at = self._at.get(key)
        return float("inf") if at is None else time.monotonic() - at

    def within(self, key: str, seconds: float) -> bool:
        return self.age(key) < seconds

    def clear(self) -> None:
        with self._lock:
            self._at.clear()


def markdown() -> str:
    """docs/sandbox.md: one row per rule, from the declarations."""
    from sandbox.extensions import install

    install()
    lines = [
        "# The strict sandbox",
        "",
        "Generated by `python -m sandbox.strict > docs/sandbox.md` from the rules' declarations",
        "(sandbox/strict.py and the modules of sandbox/extensions/); a test fails when this file is stale.",
        "",
        "Every rule is on by default, in the test fixture (`aws`) and in `infra sandbox`. A test turns one",
        "off for itself with `aws.rules.off(\"<id>\")` or `@pytest.mark.sandbox_rules_off(\"<id>\")`; the",
        "server with `INFRA_SANDBOX_RULES_OFF=<id>,<id>` (or `all`). A setting is changed with",
        "`aws.rules.configure(\"<id>\", seconds=...)` or `INFRA_SANDBOX_<ID>_<SETTING>`.",
        "",
        "| rule | what AWS does | source | what moto did before | settings |",
        "|---|---|---|---|---|",
    ]
    for r in sorted(RULES.values(), key=lambda r: r.id):
        knobs = ", ".join(f"{k}={v}" for k, v in sorted(r.settings.items())) or "-"
        cells = [f"`{r.id}`", r.aws, r.source, r.moto, knobs]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # Through the imported module: run as __main__ this file is a second copy, whose RULES the
    # extensions (which import sandbox.strict) never fill.
    from sandbox import strict as _strict

    print(_strict.markdown(), end="")
