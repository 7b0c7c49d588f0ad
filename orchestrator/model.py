"""Plan and Stack: the containers a plan module fills with resource declarations.

They hold no behaviour beyond bookkeeping, so plans/ stays pure data plus
references, and the graph builder reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.errors import PlanError
from resources.base import Lifecycle, Resource


@dataclass
class Stack:
    name: str
    resources: dict[str, Resource] = field(default_factory=dict)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)  # stack-wide defaults
    # Named values the stack publishes (Refs, Joins or literals), shown resolved from state by `infra output`.
    outputs: dict[str, Any] = field(default_factory=dict)

    def add(self, *resources: Resource) -> Any:
        """Register resources under this stack; returns the single resource or the tuple."""
        for r in resources:
            if not isinstance(r, Resource):
                raise PlanError(f"stack {self.name!r}: {r!r} is not a resource declaration")
            if r.name in self.resources:
                raise PlanError(f"duplicate address {self.name}.{r.name}: declared twice in stack {self.name!r}")
            r.stack = self.name
            r.lifecycle = self.lifecycle.merge(r.lifecycle)
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
