"""Profiles are a base plus per-env overrides: resolved, they are what they were; no value is repeated."""

from __future__ import annotations

import pprint
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from plans.genai_demo import profiles

# The resolved dev and production profiles as printed before they were split into base + overrides
# (commit 41c309b's plans/genai_demo/profiles.py). A deliberate change of a profile value updates it.
SNAPSHOT = Path(__file__).parent / "snapshots" / "genai_demo_profiles.txt"


def leaves(d: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for k, v in d.items():
        if isinstance(v, Mapping) and v:
            yield from leaves(v, (*path, k))
        else:
            yield (*path, k), v


def test_resolved_profiles_equal_the_snapshot_exactly():
    # pformat, not ==: a tuple turned list or 1 turned True would compare equal but print differently.
    assert pprint.pformat(profiles.PROFILES, width=110, sort_dicts=True) + "\n" == SNAPSHOT.read_text()


def test_no_value_is_repeated_between_base_and_envs():
    base = dict(leaves(profiles.BASE))
    envs = {env: dict(leaves(o)) for env, o in profiles.OVERRIDES.items()}
    for env, over in envs.items():
        same = [p for p, v in over.items() if p in base and base[p] == v]
        assert not same, f"{env} repeats the base's value at {same}"
    dev, prod = envs["dev"], envs["production"]
    shared = [p for p in dev if p in prod and dev[p] == prod[p]]
    assert not shared, f"dev and production both set {shared} to the same value: it belongs in BASE"


def test_merge_replaces_values_and_merges_sections_without_sharing():
    base = {"a": {"x": 1, "y": [1]}, "b": 2}
    out = profiles.merged(base, {"a": {"x": 3}, "c": 4})
    assert out == {"a": {"x": 3, "y": [1]}, "b": 2, "c": 4}
    out["a"]["y"].append(2)
    assert base["a"]["y"] == [1]
    assert profiles.profile("dev")["eks"]["public_access_cidrs"] is not \
        profiles.profile("production")["eks"]["public_access_cidrs"]
