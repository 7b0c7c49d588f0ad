"""The dependency graph: one networkx DiGraph, edge A -> B when B needs A.

Built by a short list of transformer steps (Terraform's graph builder), each
a function of the graph and the plan. It knows resources only as nodes with
a type, a stack and the references found in their properties; it knows
nothing of any AWS service.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from core.errors import PlanError
from orchestrator.model import Plan
from resources.base import Resource, durations_of, walk_refs


@dataclass
class Build:
    plan: Plan
    stacks: list[str]
    state_outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # address -> outputs
    external: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # cross-stack refs resolved from state


Step = Callable[[nx.DiGraph, Build], None]


def add_nodes(g: nx.DiGraph, b: Build) -> None:
    for r in b.plan.resources(b.stacks):
        if r.address in g:
            raise PlanError(f"duplicate address {r.address}")
        g.add_node(r.address, resource=r, type=r.type_name, stack=r.stack)


def _target_address(ref_target: Any) -> str:
    return ref_target if isinstance(ref_target, str) else ref_target.address


def add_reference_edges(g: nx.DiGraph, b: Build) -> None:
    """Edges from Refs in properties and from depends_on; dangling ones are errors naming both ends."""
    declared = {r.address: r for r in b.plan.resources()}
    missing: list[str] = []
    for addr, data in list(g.nodes(data=True)):
        r: Resource = data["resource"]
        refs: list[tuple[Any, str | None]] = [(ref.resource, ref.attr) for ref in walk_refs(r.properties)]
        refs += [(d, None) for d in r.depends_on]
        for target, attr in refs:
            if isinstance(target, Resource) and not target.stack:
                missing.append(f"{addr} refers to {target.type_name} {target.name!r}, which is not added to any stack")
                continue
            taddr = _target_address(target)
            if taddr == addr:
                raise PlanError(f"dependency cycle: {addr} refers to itself")
            if taddr in g:
                g.add_edge(taddr, addr)
                continue
            if taddr not in declared:
                missing.append(f"{addr} refers to {taddr}, which is not declared in plan {b.plan.project}")
                continue
            # Declared in a stack that is not selected: resolve from that stack's recorded outputs.
            outs = b.state_outputs.get(taddr)
            if outs is None:
                missing.append(f"{addr} needs {taddr} (stack {taddr.split('.')[0]!r}), which has not been applied: "
                               f"apply stack {taddr.split('.')[0]!r} first or select it too")
                continue
            if attr is not None and attr not in outs:
                missing.append(f"{addr} needs output {attr} of {taddr}, which its recorded state does not have")
                continue
            b.external[taddr] = outs
    if missing:
        raise PlanError("unresolved references:\n  " + "\n  ".join(sorted(set(missing))))


def check_acyclic(g: nx.DiGraph, b: Build) -> None:
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
    raise PlanError(f"dependency cycle: {path}")


DEFAULT_STEPS: tuple[Step, ...] = (add_nodes, add_reference_edges, check_acyclic)


def build_graph(plan: Plan, stacks: Iterable[str] | None = None,
                state_outputs: Mapping[str, Mapping[str, Any]] | None = None,
                steps: Iterable[Step] = DEFAULT_STEPS) -> tuple[nx.DiGraph, Build]:
    b = Build(plan=plan, stacks=plan.select(stacks), state_outputs=state_outputs or {})
    g = nx.DiGraph()
    for step in steps:
        step(g, b)
    return g, b


# --------------------------------------------------------------------------- queries


def creation_waves(g: nx.DiGraph) -> list[list[str]]:
    return [sorted(layer) for layer in nx.topological_generations(g)]


def destroy_waves(g: nx.DiGraph) -> list[list[str]]:
    return [sorted(layer) for layer in nx.topological_generations(g.reverse(copy=False))]


def dependents(g: nx.DiGraph, address: str) -> set[str]:
    """Blast radius: everything affected if `address` is replaced or destroyed."""
    require(g, address)
    return nx.descendants(g, address)


def requirements(g: nx.DiGraph, address: str) -> set[str]:
    require(g, address)
    return nx.ancestors(g, address)


def why(g: nx.DiGraph, needer: str, needed: str) -> list[str] | None:
    """A chain showing why `needer` needs `needed` (from needed to needer), or None."""
    require(g, needer)
    require(g, needed)
    try:
        return nx.shortest_path(g, needed, needer)
    except nx.NetworkXNoPath:
        return None


def require(g: nx.DiGraph, address: str) -> None:
    if address not in g:
        raise PlanError(f"unknown address {address!r}; addresses look like 'main.vpc' (see `infra state list` "
                        "or `infra graph`)")


def longest_remaining(g: nx.DiGraph, weight: Callable[[str], float]) -> dict[str, float]:
    """For each node, the longest weighted path from it to a sink: the scheduling priority."""
    out: dict[str, float] = {}
    for n in reversed(list(nx.topological_sort(g))):
        out[n] = weight(n) + max((out[s] for s in g.successors(n)), default=0.0)
    return out


def critical_path(g: nx.DiGraph, weight: Callable[[str], float]) -> tuple[float, list[str]]:
    rem = longest_remaining(g, weight)
    if not rem:
        return 0.0, []
    n = max(rem, key=rem.__getitem__)
    path = [n]
    while True:
        succ = list(g.successors(n))
        if not succ:
            break
        n = max(succ, key=rem.__getitem__)
        path.append(n)
    return rem[path[0]], path


# Types that declare no durations are single API calls that return a usable resource.
DEFAULT_CREATE_SECONDS = 5.0


def measured_create_seconds(history: Iterable[Mapping[str, Any]], type_of: Mapping[str, str]) -> dict[str, float]:
    """Per resource type, the median create duration recorded in the state's history.

    apply.py writes an "intent create" entry just before a create call and a "create" entry once the
    resource is usable, both timestamped: the gap is what that create took in this account.
    """
    started: dict[str, float] = {}
    per_type: dict[str, list[float]] = {}
    for e in sorted(history, key=lambda e: e.get("serial", 0)):
        addr, change = e.get("address"), e.get("change")
        if addr not in type_of:
            continue
        if change == "intent create":
            started[addr] = float(e["when"])
        elif change == "create" and addr in started:
            per_type.setdefault(type_of[addr], []).append(max(0.0, float(e["when"]) - started.pop(addr)))
    return {t: statistics.median(v) for t, v in per_type.items()}


def create_estimates(g: nx.DiGraph, measured: Mapping[str, float] | None = None) -> dict[str, tuple[float, str]]:
    """Per address: estimated create seconds and their source (measured, table, default).

    Measured durations (per type, from state) win; then what the type declares AWS takes (its
    `durations`); then DEFAULT_CREATE_SECONDS.
    """
    out: dict[str, tuple[float, str]] = {}
    for n, d in g.nodes(data=True):
        t = d["type"]
        if measured and t in measured:
            out[n] = (float(measured[t]), "measured")
        elif (d := durations_of(t)) is not None:
            out[n] = (d.create, "table")
        else:
            out[n] = (DEFAULT_CREATE_SECONDS, "default")
    return out



# --------------------------------------------------------------------------- targets


def deps_graph(deps: Mapping[str, Iterable[str]], base: nx.DiGraph | None = None) -> nx.DiGraph:
    """`base` (the declared graph) plus nodes and edges from recorded dependencies (resources only in state)."""
    g = nx.DiGraph(base) if base is not None else nx.DiGraph()
    for addr, ds in deps.items():
        g.add_node(addr)
        for d in ds:
            if d in deps or d in g:
                g.add_edge(d, addr)
    return g


def target_closure(g: nx.DiGraph, targets: Iterable[str] = (), exclude: Iterable[str] = (), *,
                   destroy: bool = False) -> set[str] | None:
    """The addresses a targeted run may touch (Terraform's -target / -exclude), or None for "everything".

    Creating or updating a target needs what it refers to (ancestors); destroying one first takes down what
    refers to it (descendants). Excluding an address keeps it out together with what would break without it:
    its dependents on apply, what it needs on destroy. Unknown addresses are an error naming them, raised
    before anything reads AWS.
    """
    targets, exclude = list(targets), list(exclude)
    if not targets and not exclude:
        return None
    unknown = [f"--{flag} {a}" for flag, addrs in (("target", targets), ("exclude", exclude)) for a in addrs
               if a not in g]
    if unknown:
        raise PlanError(f"unknown address {', '.join(unknown)}: not declared in the selected stacks nor recorded in "
                        "their state (addresses look like 'main.vpc'; see `infra graph` or `infra state list`)")
    grow = nx.descendants if destroy else nx.ancestors
    keep = set(g) if not targets else set(targets).union(*(grow(g, t) for t in targets))
    shrink = nx.ancestors if destroy else nx.descendants
    drop = set(exclude).union(*(shrink(g, x) for x in exclude))
    return keep - drop
