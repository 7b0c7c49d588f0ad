"""How long AWS really takes, scaled for the sandbox: the resource types' durations, replayed.

The durations belong to the resource types (`durations = Durations(...)` on each slow type,
resources/base.py, plus the extra kinds a service module declares): what a provisioning tool
sees in practice in a quiet region, seconds from the call until the resource is usable (or
gone). The engine reads them from the types; the sandbox replays them scaled down here, so
waiters really wait but a whole plan still runs in seconds; the benchmark uses the same
numbers for its latency model and critical path. One table, no copy.

Scale: real seconds per AWS second. The default, 1 real minute = 10 ms,
is 0.01 / 60. `INFRA_SANDBOX_SCALE` overrides it (0 turns simulation off).
"""

from __future__ import annotations

import os

from resources.base import Durations, durations_table

# kind (service.resource, lower case, e.g. "kafka.cluster") -> the type's durations in AWS seconds.
TABLE: dict[str, Durations] = durations_table()

DEFAULT_SCALE = 0.01 / 60  # 1 real minute = 10 ms


def scale_from_env() -> float:
    """The scale factor from INFRA_SANDBOX_SCALE, else the default."""
    raw = os.environ.get("INFRA_SANDBOX_SCALE")
    if raw in (None, ""):
        return DEFAULT_SCALE
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"INFRA_SANDBOX_SCALE must be a number of real seconds per AWS second, "
                         f"got {raw!r}") from exc
    if value < 0:
        raise ValueError(f"INFRA_SANDBOX_SCALE must be >= 0, got {value}")
    return value


def seconds(kind: str, phase: str = "create") -> float:
    """AWS seconds for `kind` to finish `phase` (create | delete | update); 0 if unknown."""
    d = TABLE.get(kind)
    return d.of(phase) if d else 0.0


def scaled(kind: str, phase: str = "create", scale: float | None = None) -> float:
    """Real seconds the sandbox spends on `kind`'s `phase` at `scale` (default: env/default)."""
    return seconds(kind, phase) * (scale_from_env() if scale is None else scale)
