"""Policy rules: what a security scanner (checkov, trivy, AWS FSBP) would say of a planned resource.

A rule is declared data beside the resource types it inspects (resources/rules/<service>.py): an id,
a severity, a title, the types it applies to, a check, and the ids of the scanner rules it stands
for. The check sees one planned resource (`Subject`: its properties with defaults filled in,
references left as `Ref`) and the whole plan around it, so rules that single-resource scanners
cannot express (a data store reachable from the internet through a chain of security groups) are
rules like the others. Each rule carries a small failing and a passing example, which the test
suite runs, so no rule is declared that nothing trips.

The engine that runs them, with waivers and output formats, is orchestrator/check.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from resources.base import Ref, Resource

SEVERITIES = ("low", "medium", "high", "critical")


@dataclass
class Subject:
    """One planned resource and the plan it sits in, as a check sees them."""

    resource: Resource
    props: dict[str, Any]  # declared properties with the type's defaults filled in; Refs kept
    env: str
    everything: Mapping[str, Resource]  # address -> resource, the whole plan
    settings: Mapping[str, Any] = field(default_factory=dict)  # the plan's profile (trusted_accounts...)

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def type(self) -> str:
        return self.resource.type_name

    def get(self, path: str, default: Any = None) -> Any:
        """A nested property by dotted path ("EncryptionInfo.EncryptionInTransit.ClientBroker")."""
        value: Any = self.props
        for part in path.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return default
            value = value[part]
        return default if value is None else value

    def target(self, value: Any) -> Resource | None:
        """The planned resource a Ref points to (None for a literal or another plan's resource)."""
        if isinstance(value, Ref):
            r = value.resource
            return r if isinstance(r, Resource) else self.everything.get(r)
        return None

    def of_type(self, *type_names: str) -> Iterator[Subject]:
        for r in self.everything.values():
            if r.type_name in type_names:
                yield subject(r, self.env, self.everything, self.settings)

    def referrers(self, *type_names: str) -> Iterator[Subject]:
        """Planned resources of these types whose properties reference this one."""
        from resources.base import walk_refs

        for s in self.of_type(*type_names):
            if any(self.target(ref) is self.resource for ref in walk_refs(s.resource.properties)):
                yield s


def subject(r: Resource, env: str, everything: Mapping[str, Resource],
            settings: Mapping[str, Any] | None = None) -> Subject:
    props = {k: p.default for k, p in type(r).props.items() if p.default is not None}
    props.update({k: v for k, v in r.properties.items() if v is not None})
    return Subject(r, props, env, everything, dict(settings or {}))


Check = Callable[[Subject], Iterable[str]]  # yields one message per violation; nothing means it passes


@dataclass(frozen=True)
class Rule:
    id: str  # "<service>.<what>", e.g. "rds.storage-encrypted"
    severity: str
    title: str
    types: tuple[str, ...]
    check: Check
    equivalents: tuple[str, ...] = ()  # checkov / trivy (AVD) / FSBP ids it stands for
    # A small example for the tests: properties of the rule's first type that fail it, and that pass.
    fails: dict[str, Any] = field(default_factory=dict)
    passes: dict[str, Any] = field(default_factory=dict)
    graph: bool = False  # its examples need a plan of several resources (tested by name)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")


RULES: dict[str, Rule] = {}


def rule(id: str, severity: str, title: str, types: Iterable[str], *, equivalents: Iterable[str] = (),
         fails: Mapping[str, Any] | None = None, passes: Mapping[str, Any] | None = None,
         graph: bool = False) -> Callable[[Check], Check]:
    """Declare the decorated check as a rule."""
    def deco(fn: Check) -> Check:
        if id in RULES and RULES[id].check is not fn:
            raise ValueError(f"policy rule {id} declared twice")
        RULES[id] = Rule(id, severity, title, tuple(types), fn, tuple(equivalents), dict(fails or {}),
                         dict(passes or {}), graph)
        return fn
    return deco


# --------------------------------------------------------------------------- helpers for checks


def literal(value: Any) -> bool:
    """A value known at plan time (not a reference resolved only at apply)."""
    from resources.base import Join

    return not isinstance(value, Ref | Join)


def statements(policy: Any) -> list[dict[str, Any]]:
    if not isinstance(policy, Mapping):
        return []
    st = policy.get("Statement", [])
    return [s for s in (st if isinstance(st, list) else [st]) if isinstance(s, Mapping)]


def as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [] if v is None else [v]
