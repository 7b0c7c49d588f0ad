"""Environment profiles as data: what differs between dev and production.

One plan reads these; there are no per-env copies of the plan. Sections are
named after the plan modules that read them.
"""

from __future__ import annotations

from typing import Any

from orchestrator.errors import PlanError

PROFILES: dict[str, dict[str, Any]] = {
    "dev": {
        "region": "ap-east-2",
        "tags": {"Project": "genai-demo", "Environment": "dev", "ManagedBy": "genai-infra"},
        "network": {
            "vpc_cidr": "10.0.0.0/16",
            "azs": 3,
            "nat_gateways": 1,  # one NAT in the first AZ; every private route uses it
            # tier -> (first third octet, prefix length, octet step per AZ)
            "tiers": {"public": (0, 20, 16), "private": (64, 19, 32), "database": (160, 22, 4)},
        },
    },
    "production": {
        "region": "ap-east-2",
        "tags": {"Project": "genai-demo", "Environment": "production", "ManagedBy": "genai-infra"},
        "network": {
            "vpc_cidr": "10.0.0.0/16",
            "azs": 3,
            "nat_gateways": 3,  # one per AZ: an AZ outage does not cut the others' egress
            "tiers": {"public": (0, 20, 16), "private": (64, 19, 32), "database": (160, 22, 4)},
        },
    },
}


def profile(env: str) -> dict[str, Any]:
    try:
        return PROFILES[env]
    except KeyError:
        raise PlanError(f"unknown env {env!r}; profiles are: {', '.join(PROFILES)}") from None
