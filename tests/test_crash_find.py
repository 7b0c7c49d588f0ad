"""Every resource type can find what an interrupted run created but never recorded.

find() is what makes a crash between a create call and its state write
harmless (apply.py calls it on a pending intent and before a retried
create), so a type without it would orphan resources. One test per type
in the registry, and a check that the type's round-trip tests exercise it.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import resources  # noqa: F401 - registers every type
from resources.base import REGISTRY, Resource

TESTS = Path(__file__).resolve().parent
# Only the product's types: test doubles (tests/fakes.py) register too, depending on import order.
TYPES = sorted(t for t, c in REGISTRY.items() if c.__module__.startswith("resources."))


@pytest.mark.parametrize("type_name", TYPES)
def test_type_implements_find(type_name):
    cls = REGISTRY[type_name]
    owner = next(c for c in cls.__mro__ if "find" in c.__dict__)
    assert owner is not Resource, f"{type_name} inherits the base find(), which raises NotImplementedError"
    src = inspect.getsource(owner.find)
    assert "NotImplementedError" not in src, f"{type_name}.find is a stub"


def _round_trip_sources(cls: type[Resource]) -> list[str]:
    """Test files that name the class and call find() (the round trips: create, read, update, find, delete)."""
    out = []
    for path in TESTS.glob("test_*.py"):
        if path.name.startswith(("test_crash_", "test_faults_")):
            continue
        text = path.read_text()
        if re.search(rf"\b{cls.__name__}\b", text) and ".find(" in text:
            out.append(path.name)
    return out


@pytest.mark.parametrize("type_name", TYPES)
def test_type_find_is_exercised_by_a_round_trip_test(type_name):
    cls = REGISTRY[type_name]
    assert _round_trip_sources(cls), f"no test builds {cls.__name__} and calls find(); add it to the round trip"
