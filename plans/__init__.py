"""The infrastructure itself, as declarations. No boto3 here."""

from __future__ import annotations

import importlib

from core.errors import PlanError
from orchestrator.model import Plan


def load(name: str, env: str) -> Plan:
    """Import plans/<name> and build it for `env`; a broken module is a clear PlanError."""
    try:
        module = importlib.import_module(f"plans.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"plans.{name}":
            raise PlanError(f"no plan named {name!r} (expected a package plans/{name}/)") from exc
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
