"""Plan and Stack: the containers a plan module fills with resource declarations.

They hold no behaviour beyond bookkeeping, so plans/ stays pure data plus
references, and the graph builder reads them.
"""

from __future__ import annotations

import importlib
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
    # What diagrams draw the plan as (an orchestrator.diagram.Document); None: a generic drawing.
    document: Any = None

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


# The package plans are found in by name (plans/<name>/ with a build(env) function).
PLANS_PACKAGE = "plans"


def load_plan(name: str, env: str) -> Plan:
    """Import the plan package `name` from PLANS_PACKAGE and build it for `env`; a broken module is a clear
    PlanError. The engine finds plans by name at run time, as a tool reads its configuration: it never
    imports a plan's code statically, so nothing in orchestrator/ depends on what a plan contains."""
    package = PLANS_PACKAGE
    try:
        module = importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{package}.{name}":
            raise PlanError(f"no plan named {name!r} (expected a package {package}/{name}/)") from exc
        raise PlanError(f"plan {name!r} cannot be imported: {exc}") from exc
    except SyntaxError as exc:
        raise PlanError(f"plan {name!r} is malformed: {exc.filename}:{exc.lineno}: {exc.msg}") from exc
    except PlanError:
        raise
    except Exception as exc:
        raise PlanError(f"plan {name!r} failed to import: {type(exc).__name__}: {exc}") from exc
    build = getattr(module, "build", None)
    if build is None:
        raise PlanError(f"plan {name!r} has no build(env) function")
    try:
        return build(env)
    except PlanError:
        raise
    except Exception as exc:
        raise PlanError(f"plan {name!r} failed to build for env {env!r}: {type(exc).__name__}: {exc}") from exc
