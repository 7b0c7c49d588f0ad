"""Tiny resource types and plans for engine tests that need no AWS."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

from orchestrator.model import Plan
from resources.base import P, Resource, cidr


class Thing(Resource):
    type_name = "test.Thing"
    service = "test"
    props = {"Name": P(str), "Size": P(int, default=1), "Zone": P(str), "Parent": P(str), "Cidr": P(str, validator=cidr),
             "Token": P(str, secret=True)}
    replace_on = frozenset({"Zone", "Parent"})
    outputs = ("Id", "Arn")


def install_plan(name: str, build: Callable[[str], Plan]) -> str:
    """Register an in-memory plan package plans.<name> so the CLI and Workspace can load it."""
    mod = types.ModuleType(f"plans.{name}")
    mod.build = build  # type: ignore[attr-defined]
    sys.modules[f"plans.{name}"] = mod
    return name
