"""What a diagram of a plan is drawn by: a plan's document (groups, service nodes, arrows), and the fold.

A plan may come with a document (plans/genai_demo/document.py draws the GenAI
Demo architecture document's seven groups and labelled arrows): which node
each resource is drawn as, which group each node sits in, which arrows carry
which label, and the second line of each node's label. The engine knows
none of that; it folds the resource graph into one node per (stack, service)
as the document says (`service_graph`) and the renderer (render.py) draws it.

A plan without a document gets GENERIC: one node per boto3 service of its
types, all in one group, labelled with what the types call themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from resources.base import Resource, lookup_type


@dataclass(frozen=True)
class Group:
    key: str
    title: str  # the document's subgraph title
    style: str  # the document's classDef
    tint: str  # a pale fill for resource nodes (dot)

    @property
    def stroke(self) -> str:
        return self.style.split("stroke:")[1].split(",")[0]


@dataclass(frozen=True)
class Service:
    key: str  # the document's node id (VPC, EKS, ...)
    group: str
    title: str
    note: str  # the document's second label line, used when the plan says nothing more precise


OTHER = Group("other", "Other", "fill:#9e9e9e,stroke:#424242,stroke-width:2px", "#f5f5f5")


def _by_service(type_name: str, _resource: Resource | None = None) -> str:
    return type_name.split(".", 1)[0].upper()


def _type_counts(_service: str, resources: list[Resource]) -> str:
    n = Counter(r.type_name for r in resources)
    return ", ".join(plural(c, lookup_type(t).display()) for t, c in sorted(n.items()))


@dataclass(frozen=True)
class Document:
    """A plan's document, as data and small functions the plan supplies.

    service_of(type name, resource or None) -> the node a resource is drawn as;
    relations: (from node, to node) -> the arrow's label, drawn the document's way round;
    detail(node, its resources) -> the label's second line ("" for the node's note).
    `title` and `intro` (markdown, `{plan}` replaced by the plan's name) head the generated page.
    """

    groups: tuple[Group, ...] = (OTHER,)
    services: Mapping[str, Service] = field(default_factory=dict)
    service_of: Callable[[str, Resource | None], str] = _by_service
    relations: Mapping[tuple[str, str], str] = field(default_factory=dict)
    detail: Callable[[str, list[Resource]], str] = _type_counts
    title: str = ""
    intro: str = ""
    envs: tuple[str, ...] = ()
    # More markdown after each profile's diagram, from the plan itself (e.g. its security group paths).
    sections: Callable[[Any], list[str]] | None = None

    def group(self, key: str) -> Group:
        return next((g for g in self.groups if g.key == key), OTHER)

    def group_of(self, service: str) -> str:
        s = self.services.get(service)
        return s.group if s else OTHER.key

    def group_of_resource(self, type_name: str, resource: Resource | None = None) -> str:
        return self.group_of(self.service_of(type_name, resource))

    def label_lines(self, service: str, resources: list[Resource]) -> tuple[str, str]:
        s = self.services.get(service)
        title = s.title if s else service
        note = s.note if s else ""
        return title, self.detail(service, resources) or note


GENERIC = Document()

# A service node's action when its resources have several: the most consequential one wins.
ACTION_RANK = ("replace", "delete", "forget", "update", "create", "noop")
ACTION_SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "forget": "x", "noop": "="}


def plural(n: int, noun: str, nouns: str = "") -> str:
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def node_id(*parts: str) -> str:
    """An id Mermaid and dot accept: letters, digits and underscores."""
    return "_".join("".join(c if c.isalnum() else "_" for c in p) for p in parts if p)


def service_graph(g: nx.DiGraph, doc: Document = GENERIC, actions: Mapping[str, str] | None = None) -> nx.DiGraph:
    """Fold the resource graph into one node per (stack, service of `doc`), edges aggregated and labelled.

    Node attributes: service, stack, group, title, detail, resources (addresses), types, action (when
    `actions` is given). Edge attributes: label (the document's, or ""), count (resource edges folded in).
    Labelled edges follow the document's direction (WAF -> ALB "Protects" although the association needs
    the ALB); unlabelled ones point from what is needed to what needs it, like the resource graph.
    """
    sg = nx.DiGraph()
    members: dict[str, list[Resource]] = {}
    key_of: dict[str, str] = {}
    for addr, d in g.nodes(data=True):
        r = d.get("resource")
        svc = doc.service_of(d["type"], r)
        key = node_id(d["stack"], svc)
        key_of[addr] = key
        if key not in sg:
            sg.add_node(key, service=svc, stack=d["stack"], group=doc.group_of(svc), resources=[], types=[])
        sg.nodes[key]["resources"].append(addr)
        if r is not None:
            members.setdefault(key, []).append(r)
    for key, data in sg.nodes(data=True):
        data["resources"].sort()
        data["types"] = sorted({g.nodes[a]["type"] for a in data["resources"]})
        data["title"], data["detail"] = doc.label_lines(data["service"], members.get(key, []))
        if actions is not None:
            acts = [actions.get(a, "noop") for a in data["resources"]]
            data["action"] = min(acts, key=ACTION_RANK.index) if acts else "noop"
            data["actions"] = dict(sorted(Counter(acts).items()))
    for a, b in g.edges():
        ka, kb = key_of[a], key_of[b]
        if ka == kb:
            continue
        sa, sb = sg.nodes[ka]["service"], sg.nodes[kb]["service"]
        if (sa, sb) in doc.relations:
            u, v, label = ka, kb, doc.relations[(sa, sb)]
        elif (sb, sa) in doc.relations:
            u, v, label = kb, ka, doc.relations[(sb, sa)]
        else:
            u, v, label = ka, kb, ""
        if sg.has_edge(u, v):
            sg.edges[u, v]["count"] += 1
            sg.edges[u, v]["label"] = sg.edges[u, v]["label"] or label
        else:
            sg.add_edge(u, v, label=label, count=1)
    return sg


def doc_of(plan: Any) -> Document:
    """The document a plan carries (Plan.document), else GENERIC."""
    doc = getattr(plan, "document", None)
    return doc if isinstance(doc, Document) else GENERIC
