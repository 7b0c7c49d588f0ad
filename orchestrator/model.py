"""Plan and Stack: the containers a plan module fills with resource declarations.

They hold no behaviour beyond bookkeeping, so plans/ stays pure data plus
references, and the graph builder reads them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.errors import PlanError
from resources.base import Lifecycle, Resource


def _caller() -> tuple[str, int]:
    """The plan's file and line that called Stack.add (the first frame outside this module)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back  # type: ignore[assignment]
    return (frame.f_code.co_filename, frame.f_lineno) if frame is not None else ("", 0)


@dataclass(frozen=True)
class Waiver:
    """A policy finding accepted on purpose, with the reason; shown by `infra check`, never silent."""

    rule: str  # a policy rule id (infra check lists them) or a prefix ending in "*"
    reason: str
    addresses: tuple[str, ...] = ()  # empty: every resource of the stack (or plan) it is declared on

    def __post_init__(self) -> None:
        if not self.reason or not self.reason.strip():
            raise PlanError(f"waiver of {self.rule}: a reason is mandatory (say why the finding is accepted)")

    def covers(self, rule_id: str, address: str) -> bool:
        hit = rule_id.startswith(self.rule[:-1]) if self.rule.endswith("*") else rule_id == self.rule
        return hit and (not self.addresses or address in self.addresses)


@dataclass
class Stack:
    name: str
    resources: dict[str, Resource] = field(default_factory=dict)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)  # stack-wide defaults
    # Named values the stack publishes (Refs, Joins or literals), shown resolved from state by `infra output`.
    outputs: dict[str, Any] = field(default_factory=dict)
    waivers: list[Waiver] = field(default_factory=list)

    def waive(self, rule: str, reason: str, *resources: Resource | str) -> None:
        """Accept a policy rule's findings on these resources (default: the whole stack), with the reason."""
        addrs = tuple(r if isinstance(r, str) else f"{self.name}.{r.name}" for r in resources)
        self.waivers.append(Waiver(rule, reason, addrs))

    def add(self, *resources: Resource) -> Any:
        """Register resources under this stack; returns the single resource or the tuple."""
        for r in resources:
            if not isinstance(r, Resource):
                raise PlanError(f"stack {self.name!r}: {r!r} is not a resource declaration")
            if r.name in self.resources:
                raise PlanError(f"duplicate address {self.name}.{r.name}: declared twice in stack {self.name!r}")
            r.stack = self.name
            r.lifecycle = self.lifecycle.merge(r.lifecycle)
            r.declared_at = _caller()  # where the plan declares it: policy findings point there (SARIF)
            self.resources[r.name] = r
        return resources[0] if len(resources) == 1 else resources

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources.values())


@dataclass
class Plan:
    project: str
    env: str
    region: str | None = None
    stacks: dict[str, Stack] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # the profile, for inspection
    state_table: str | None = None  # the plan's own DynamoDB state table (flag and INFRA_STATE_TABLE win)
    waivers: list[Waiver] = field(default_factory=list)  # plan-wide policy waivers

    def waive(self, rule: str, reason: str, *addresses: str) -> None:
        self.waivers.append(Waiver(rule, reason, tuple(addresses)))

    def stack(self, name: str) -> Stack:
        if name not in self.stacks:
            self.stacks[name] = Stack(name)
        return self.stacks[name]

    def resources(self, stacks: Iterable[str] | None = None) -> list[Resource]:
        names = list(stacks) if stacks else list(self.stacks)
        return [r for n in names for r in self.stacks[n]]

    def select(self, stacks: Iterable[str] | None) -> list[str]:
        names = list(stacks or [])
        unknown = [s for s in names if s not in self.stacks]
        if unknown:
            raise PlanError(f"unknown stack {', '.join(unknown)} for plan {self.project}; "
                            f"stacks are: {', '.join(self.stacks)}")
        return names or list(self.stacks)
