"""Plan and Stack: the containers a plan module fills with resource declarations.

They hold no behaviour beyond bookkeeping, so plans/ stays pure data plus
references, and the graph builder reads them.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
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
    """Build the plan `name` for `env`; a broken plan is a clear PlanError.

    `name` is a bundled plan (a package under plans/, e.g. "genai_demo"), a path to a
    Python file or to a package directory (the user's own repository: relative imports
    inside the package work, and its parent directory is importable for the build), or
    an importable dotted module name. Whatever it is, the contract is the same: a
    module-level `build(env) -> Plan`. The engine finds plans by name at run time, as a tool reads
    its configuration: it never imports a plan's code statically, so nothing in orchestrator/
    depends on what a plan contains.
    """
    module = _import(name)
    build = getattr(module, "build", None)
    if build is None:
        raise PlanError(f"plan {name!r} has no build(env) function")
    try:
        plan = build(env)
    except PlanError:
        raise
    except Exception as exc:
        raise PlanError(f"plan {name!r} failed to build for env {env!r}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(plan, Plan):
        raise PlanError(f"plan {name!r}: build({env!r}) returned {type(plan).__name__}, not a Plan")
    return plan


def _import(name: str) -> ModuleType:
    path = Path(name).expanduser()
    looks_like_path = name.endswith(".py") or os.sep in name or (os.altsep or os.sep) in name or path.is_dir()
    try:
        if looks_like_path:
            return _import_path(name, path.resolve())
        if "." not in name and _bundled(name):
            return importlib.import_module(f"{PLANS_PACKAGE}.{name}")
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                raise PlanError(f"no plan named {name!r}: not a bundled plan ({PLANS_PACKAGE}/{name}/), not a path "
                                "to a Python file or package directory, and not an importable module") from exc
            raise
    except PlanError:
        raise
    except ModuleNotFoundError as exc:
        raise PlanError(f"plan {name!r} cannot be imported: {exc}") from exc
    except SyntaxError as exc:
        raise PlanError(f"plan {name!r} is malformed: {exc.filename}:{exc.lineno}: {exc.msg}") from exc
    except Exception as exc:
        raise PlanError(f"plan {name!r} failed to import: {type(exc).__name__}: {exc}") from exc


def _bundled(name: str) -> bool:
    if f"{PLANS_PACKAGE}.{name}" in sys.modules:  # tests install plans as modules with no spec
        return True
    return importlib.util.find_spec(f"{PLANS_PACKAGE}.{name}") is not None


def _import_path(name: str, path: Path) -> ModuleType:
    """A user's plan file or package, imported under its own name with its parent on sys.path.

    A package directory is imported as a package (so `from . import network` works); a
    file beside other modules can import them by name. The module name is the file's or
    directory's, as Python would name it if the user ran it from its parent.
    """
    if path.is_dir():
        init = path / "__init__.py"
        if not init.is_file():
            raise PlanError(f"plan {name!r}: {path} is a directory without __init__.py (a plan package needs one, "
                            "with build(env), or point --plan at the plan's .py file)")
        target, modname = init, path.name
    elif path.is_file():
        target, modname = path, path.stem
    else:
        raise PlanError(f"plan {name!r}: no such file or directory ({path})")
    if not modname.isidentifier():
        raise PlanError(f"plan {name!r}: {modname!r} is not a valid Python module name")
    parent = str(target.parent.parent if path.is_dir() else target.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    existing = sys.modules.get(modname)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == target:
        return existing
    if existing is not None:
        raise PlanError(f"plan {name!r}: a module named {modname!r} is already imported from "
                        f"{getattr(existing, '__file__', '?')}; rename the plan's file or directory")
    return importlib.import_module(modname)
