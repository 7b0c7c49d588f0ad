"""The infrastructure itself, as declarations. No boto3 here."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from core.errors import PlanError
from orchestrator.model import Plan


def load(name: str, env: str) -> Plan:
    """Build the plan `name` for `env`; a broken plan is a clear PlanError.

    `name` is a bundled plan (a package under plans/, e.g. "genai_demo"), a path to a
    Python file or to a package directory (the user's own repository: relative imports
    inside the package work, and its parent directory is importable for the build), or
    an importable dotted module name. Whatever it is, the contract is the same: a
    module-level `build(env) -> Plan`.
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
            return importlib.import_module(f"plans.{name}")
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                raise PlanError(f"no plan named {name!r}: not a bundled plan (plans/{name}/), not a path to a "
                                "Python file or package directory, and not an importable module") from exc
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
    if f"plans.{name}" in sys.modules:  # tests install plans as modules with no spec
        return True
    return importlib.util.find_spec(f"plans.{name}") is not None


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
