"""The GenAI Demo platform: three stacks (main, observability, analytics), two profiles."""

from __future__ import annotations

from orchestrator.model import Plan
from plans.genai_demo import analytics, main, observability, waivers
from plans.genai_demo.document import DOCUMENT
from plans.genai_demo.profiles import profile

PROJECT = "genai-demo"


def build(env: str) -> Plan:
    p = profile(env)
    plan = Plan(project=PROJECT, env=env, region=p["region"], tags=dict(p["tags"]), settings=p,
                document=DOCUMENT)
    main_out = main.build(plan.stack("main"), p)
    obs = observability.build(plan.stack("observability"), p, main=main_out)
    analytics.build(plan.stack("analytics"), p, main=main_out, observability=obs)
    waivers.declare(plan, p)
    return plan
