"""Main infrastructure stack: network, edge, container platform, data services, config.

Each layer is a function in its own module taking the stack, the profile and
what earlier layers returned, and returning the resources later layers need.
"""

from __future__ import annotations

from typing import Any

from orchestrator.model import Stack
from plans.genai_demo import network


def build(stack: Stack, p: dict[str, Any]) -> dict[str, Any]:
    net = network.build(stack, p)
    return {"network": net}
