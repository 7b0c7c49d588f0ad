"""Configuration layer: SSM parameters that tell the application where everything is.

The lead passes `outputs`, a mapping from a parameter path below
/genai-demo/<env>/ to a Ref (or Join) on another resource, e.g.
{"database/endpoint": rds["Endpoint"], "kafka/bootstrap-brokers": msk["BootstrapBrokersTls"]};
each entry becomes one String parameter named after its key, so the graph
orders it after the resource it publishes. The profile's `config.static`
entries (environment name, log level) are published beside them.

Only names and endpoints go here: a secret stays in Secrets Manager and is
published, if at all, by its ARN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.errors import PlanError
from orchestrator.model import Stack
from resources.base import Join, Ref
from resources.ssm import Parameter


def logical_name(key: str) -> str:
    """`database/endpoint` -> `param_database_endpoint`: a stable address per parameter."""
    return "param_" + re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


def build(stack: Stack, p: dict[str, Any], outputs: Mapping[str, Ref | Join | str]) -> dict[str, Any]:
    cfg = p["config"]
    entries: dict[str, Any] = dict(cfg.get("static", {}))
    clash = sorted(set(entries) & set(outputs))
    if clash:
        raise PlanError(f"config: {', '.join(clash)} given both by the profile's config.static and by outputs")
    entries.update(outputs)

    params: dict[str, Parameter] = {}
    seen: dict[str, str] = {}
    for key, value in entries.items():
        name = logical_name(key)
        if name in seen:
            raise PlanError(f"config: parameters {seen[name]!r} and {key!r} map to the same address {name}")
        seen[name] = key
        if not isinstance(value, Ref | Join | str):
            value = str(value)
        params[key] = stack.add(Parameter(
            name,
            Name=key,
            Type="String",
            Value=value,
            Tier=cfg.get("tier", "Standard"),
            Description=f"genai-demo {key.replace('/', ' ')}",
        ))
    return {"parameters": params}
