"""A synthetic plan of cheap resources in chains and fans, at any size, for the scale benchmark.

One unit is 10 resources: an SNS topic feeding a chain of 4 SSM parameters
(each holds the previous one's ARN), and a log group fanning out to 4
parameters that hold its ARN. Units are independent, so the graph is wide
and shallow, like a real account's many small stacks.
"""

from __future__ import annotations

import sys
import types

from orchestrator.model import Plan
from resources.logs import LogGroup
from resources.sns import Topic
from resources.ssm import Parameter

UNIT = 10


def build_plan(size: int, env: str = "bench") -> Plan:
    plan = Plan(project="genai-demo", env=env, region="ap-east-2", tags={"bench": "scale"})
    stack = plan.stack("synthetic")
    for u in range(max(1, size // UNIT)):
        topic = stack.add(Topic(f"t{u}"))
        prev = topic["TopicArn"]
        for i in range(4):
            p = stack.add(Parameter(f"chain{u}_{i}", Name=f"bench/u{u}/chain{i}", Value=prev))
            prev = p["Arn"]
        group = stack.add(LogGroup(f"lg{u}", logGroupName=f"/bench/{env}/u{u}", retentionInDays=7))
        for i in range(4):
            stack.add(Parameter(f"fan{u}_{i}", Name=f"bench/u{u}/fan{i}", Value=group["Arn"]))
    return plan


def install(size: int) -> str:
    """Register the plan as plans.synthetic_<size> so Workspace and the CLI can load it."""
    name = f"synthetic_{size}"
    mod = types.ModuleType(f"plans.{name}")
    mod.build = lambda env: build_plan(size, env)  # type: ignore[attr-defined]
    sys.modules[f"plans.{name}"] = mod
    return name
