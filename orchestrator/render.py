"""Drawings of the dependency graph: text, Graphviz dot, Mermaid, node-link JSON."""

from __future__ import annotations

import json

import networkx as nx


def _id(addr: str) -> str:
    return addr.replace(".", "__").replace("-", "_")


def render(g: nx.DiGraph, fmt: str, title: str = "") -> str:
    if fmt == "json":
        data = nx.node_link_data(g, edges="edges")
        for n in data["nodes"]:
            n.pop("resource", None)
        return json.dumps(data, indent=2, default=str)
    if fmt == "dot":
        lines = [f'digraph "{title}" {{', "  rankdir=LR;"]
        for n, d in sorted(g.nodes(data=True)):
            lines.append(f'  "{n}" [label="{n}\\n{d["type"]}"];')
        for a, b in sorted(g.edges()):
            lines.append(f'  "{a}" -> "{b}";')
        return "\n".join(lines + ["}"])
    if fmt == "mermaid":
        lines = ["graph LR"]
        for stack in sorted({d["stack"] for _, d in g.nodes(data=True)}):
            lines.append(f'  subgraph {stack}["stack {stack}"]')
            for n, d in sorted(g.nodes(data=True)):
                if d["stack"] == stack:
                    lines.append(f'    {_id(n)}["{n}<br/>{d["type"]}"]')
            lines.append("  end")
        for a, b in sorted(g.edges()):
            lines.append(f"  {_id(a)} --> {_id(b)}")
        return "\n".join(lines)
    # text: each resource with what it needs, in creation order
    lines = []
    for n in nx.topological_sort(g):
        needs = sorted(g.predecessors(n))
        lines.append(f"{n} ({g.nodes[n]['type']})" + (f" <- {', '.join(needs)}" if needs else ""))
    return "\n".join(lines)
