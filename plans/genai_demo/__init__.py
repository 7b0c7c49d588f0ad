"""The GenAI Demo platform: three stacks (main, observability, analytics), two profiles."""

from __future__ import annotations

from orchestrator.model import Plan
from plans.genai_demo import analytics, main
from plans.genai_demo.profiles import profile

PROJECT = "genai-demo"


def build(env: str) -> Plan:
    p = profile(env)
    plan = Plan(project=PROJECT, env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    main_out = main.build(plan.stack("main"), p)
    # observability=None until the observability stack lands (then: its build result).
    analytics.build(plan.stack("analytics"), p, main=main_out, observability=None)
    return plan
