"""docs/architecture.md's security group paths: derived from the plan's rules, so a missing egress shows."""

from __future__ import annotations

import plans
from plans.genai_demo import sg_paths


def _rows(lines, heading):
    """The table rows after `heading` (up to the next blank line after the table)."""
    start = next(i for i, x in enumerate(lines) if x.startswith(heading))
    rows = []
    for x in lines[start + 1:]:
        if rows and not x.startswith("|"):
            break
        if x.startswith("| ") and not x.startswith("| ---") and not x.startswith("| from") \
                and not x.startswith("| group"):
            rows.append(x)
    return rows


def test_the_paths_the_workloads_need_are_listed_and_the_unused_ones_apart():
    plan = plans.load("genai_demo", "production")
    lines = sg_paths.markdown(plan)
    paths = {" | ".join(r.split(" | ")[:3]) for r in _rows(lines, "Connections admitted")}
    for source in ("`app`", "`eks cluster`"):  # nodes (launch template) and Fargate pods
        for store, port in (("database", 5432), ("redis", 6379), ("msk", 9098), ("opensearch", 443)):
            assert f"| {source} | `{store}` | tcp {port}" in paths
    assert {"| `alb` | `app` | tcp 8080", "| `alb` | `eks cluster` | tcp 8080", "| 0.0.0.0/0 | `alb` | tcp 443",
            "| 0.0.0.0/0 | `alb` | tcp 80"} <= paths
    assert not [p for p in paths if p.startswith("| 0.0.0.0/0") and "`alb`" not in p]
    carriers = dict(r.strip("| ").split(" | ") for r in _rows(lines, "Who carries"))
    assert "EKS managed nodes (launch template)" in carriers["`app`"]
    assert "Fargate pods" in carriers["`eks cluster`"]
    unused = _rows(lines, "Ingress declared but unused")
    assert any("tcp 9092" in r for r in unused)  # MSK plaintext: the app never sends there


def test_an_ingress_without_its_egress_is_not_a_path():
    plan = plans.load("genai_demo", "production")
    del plan.stacks["main"].resources["app_sg_egress_5432_database"]
    lines = sg_paths.markdown(plan)
    assert not any("| `app` | `database` | tcp 5432" in r for r in _rows(lines, "Connections admitted"))
    assert any("| `app` | `database` | tcp 5432" in r for r in _rows(lines, "Ingress declared but unused"))
