"""How long AWS really takes: one table, shared by the sandbox and the benchmark.

Durations are what a provisioning tool sees in practice in a quiet region
(seconds from the create call until the resource is usable, and from the
delete call until it is gone). The sandbox replays them scaled down, so
waiters really wait but a whole plan still runs in seconds; the benchmark
uses the same numbers for its latency model and critical path.

Scale: real seconds per AWS second. The default, 1 real minute = 10 ms,
is 0.01 / 60. `INFRA_SANDBOX_SCALE` overrides it (0 turns simulation off).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    """AWS seconds for one resource kind to be created, updated and deleted."""

    create: float
    delete: float
    update: float = 0.0


# kind (service.resource, lower case) -> realistic AWS durations in seconds.
TABLE: dict[str, Latency] = {
    "eks.cluster": Latency(create=600, delete=300, update=1800),  # update = version upgrade
    "eks.nodegroup": Latency(create=300, delete=300, update=600),
    "eks.update": Latency(create=0, delete=0, update=600),  # config/logging update
    "kafka.cluster": Latency(create=1500, delete=600, update=900),
    "rds.dbinstance": Latency(create=600, delete=300, update=300),
    "rds.dbcluster": Latency(create=300, delete=180, update=120),
    "opensearch.domain": Latency(create=900, delete=600, update=900),
    "elasticache.cachecluster": Latency(create=600, delete=300, update=600),
    "elasticache.replicationgroup": Latency(create=600, delete=420, update=900),
    "ec2.natgateway": Latency(create=90, delete=60),
    "elbv2.loadbalancer": Latency(create=180, delete=30),
    "acm.certificate": Latency(create=60, delete=1),
    "cloudfront.distribution": Latency(create=300, delete=900),
}

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
    lat = TABLE.get(kind)
    return float(getattr(lat, phase)) if lat else 0.0


def scaled(kind: str, phase: str = "create", scale: float | None = None) -> float:
    """Real seconds the sandbox spends on `kind`'s `phase` at `scale` (default: env/default)."""
    return seconds(kind, phase) * (scale_from_env() if scale is None else scale)
