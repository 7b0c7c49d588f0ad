"""docs/architecture.md: a plan's document drawn at service level for every profile, generated.

The plan supplies the document (its groups, nodes, arrows and words:
plans/genai_demo/document.py, carried as Plan.document); this module only
lays the pages out and asks the generic renderer for each profile's diagram:

    python -m orchestrator.architecture > docs/architecture.md
    infra graph --doc > docs/architecture.md          (same text)

It runs without credentials: it builds the plans and their graphs, never calls AWS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import networkx as nx

from orchestrator import render
from orchestrator.diagram import Document, doc_of, service_graph
from orchestrator.graph import build_graph
from orchestrator.model import load_plan

REGENERATE = "python -m orchestrator.architecture > docs/architecture.md"


def plan_graph(plan_name: str, env: str) -> tuple[Any, nx.DiGraph]:
    plan = load_plan(plan_name, env)
    g, _ = build_graph(plan)
    return plan, g


def _summary_rows(g: nx.DiGraph, doc: Document) -> list[str]:
    sg = service_graph(g, doc)
    rows = []
    order = {grp.key: i for i, grp in enumerate(doc.groups)}
    stacks = {s: i for i, s in enumerate(dict.fromkeys(d["stack"] for _, d in sg.nodes(data=True)))}
    for _, d in sorted(sg.nodes(data=True), key=lambda kv: (stacks[kv[1]["stack"]], order.get(kv[1]["group"],
                                                                                                len(order)),
                                                           kv[1]["title"])):
        types = Counter(g.nodes[a]["type"] for a in d["resources"])
        kinds = ", ".join(f"{t} x{n}" if n > 1 else t for t, n in sorted(types.items()))
        rows.append(f"| {d['stack']} | {doc.group(d['group']).title} | {d['title']} | {len(d['resources'])} | "
                    f"{kinds} |")
    return rows


def document(plan_name: str = "genai_demo", envs: Iterable[str] | None = None) -> str:
    """docs/architecture.md: the service-level diagram of every profile, generated from the plans."""
    envs = list(envs) if envs is not None else None
    first_plan, first_g = plan_graph(plan_name, envs[0] if envs else "dev")
    doc = doc_of(first_plan)
    envs = envs or list(doc.envs) or [first_plan.env]
    out = [
        f"# {doc.title or plan_name} (generated)",
        "",
        "<!-- Generated from the plans by orchestrator/architecture.py; do not edit by hand.",
        f"     Regenerate: {REGENERATE}",
        "     (or: infra graph --doc > docs/architecture.md). A test fails when this file is stale. -->",
        "",
        *doc.intro.format(plan=plan_name).splitlines(),
        "",
    ]
    for env in envs:
        plan, g = (first_plan, first_g) if env == first_plan.env else plan_graph(plan_name, env)
        title = f"{plan.project} {env}"
        out += [
            f"## Profile `{env}`",
            "",
            f"{g.number_of_nodes()} resources, {g.number_of_edges()} dependencies, "
            f"stacks: {', '.join(plan.stacks)}.",
            "",
            "```mermaid",
            render.render(g, "mermaid", title, level="service", env=env, doc=doc_of(plan)),
            "```",
            "",
            "| stack | group | service | resources | types |",
            "| --- | --- | --- | ---: | --- |",
            *_summary_rows(g, doc_of(plan)),
            "",
            *(doc_of(plan).sections(plan) if doc_of(plan).sections else []),
        ]
    return "\n".join(out)


def main() -> None:
    import sys

    sys.stdout.write(document() + "\n")


if __name__ == "__main__":
    main()
