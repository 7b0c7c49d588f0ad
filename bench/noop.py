"""No-op efficiency: what a plan/apply with nothing to change costs, with and without refresh."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.harness import Calls, fresh_aws, workspace
from orchestrator.runs import run_changes


@dataclass
class NoopReport:
    resources: int = 0
    stacks: int = 0
    changes: dict[str, int] = field(default_factory=dict)  # refresh label -> resources with a change planned
    calls: dict[str, Counter[str]] = field(default_factory=dict)  # refresh label -> calls by kind
    queries: dict[str, int] = field(default_factory=dict)
    # type -> (resources, read calls of one read_many over them all, read calls of one read() each)
    per_type: dict[str, tuple[int, int, int]] = field(default_factory=dict)


def run(env: str = "production", plan: str = "genai_demo") -> NoopReport:
    rep = NoopReport()
    with fresh_aws(0) as clients:
        ws = workspace(clients, env, plan)
        run_changes(ws, "apply")
        calls = Calls()
        clients.add_hook("before-call", calls)
        for refresh in (True, False):
            label = f"--refresh={str(refresh).lower()}"
            w = workspace(clients, env, plan, refresh=refresh)
            with calls.counting():
                p, _ = run_changes(w, "plan", confirm=lambda _p: False)
            rep.changes[label] = sum(1 for c in p.changes.values() if c.action != "noop")
            rep.calls[label] = calls.by_kind()
            rep.queries[label] = calls.of("state").get("dynamodb.Query", 0)
            rep.resources, rep.stacks = len(p.changes), len(w.stacks)
        # Per type: what refresh costs now (one read_many over the type's resources, how
        # Workspace.refresh reads a batching type) against one read() per resource (without batching).
        records = ws.records()
        g, _ = ws.graph(records)
        applier = ws.applier(g, records, {})
        groups: dict[str, list[tuple[Any, Any, str]]] = {}
        for addr in g:
            if addr in records and records[addr].physical_id:
                groups.setdefault(g.nodes[addr]["type"], []).append(
                    (g.nodes[addr]["resource"], applier.ctx(addr), records[addr].physical_id))
        for t, items in sorted(groups.items()):
            with calls.counting():
                type(items[0][0]).read_many(items)
            batched = calls.by_kind()["read"]
            with calls.counting():
                for r, ctx, pid in items:
                    r.read(ctx, pid)
            rep.per_type[t] = (len(items), batched, calls.by_kind()["read"])
    return rep


def render(rep: NoopReport) -> str:
    lines = [f"no-op plan of {rep.resources} resources in {rep.stacks} stacks, right after applying them:"]
    for label, by_kind in rep.calls.items():
        aws_reads = by_kind.get("read", 0)
        lines.append(f"  {label}: state Query {rep.queries[label]} (stacks {rep.stacks}), AWS reads {aws_reads} "
                     f"({aws_reads / max(1, rep.resources):.2f} per resource), mutating {by_kind.get('mutating', 0)}, "
                     f"all calls by kind {dict(by_kind)}; changes planned {rep.changes[label]}")
    rows = sorted(rep.per_type.items(), key=lambda x: (-x[1][2], x[0]))
    lines.append("  read calls per type: resources, one batched read_many (what refresh makes), one read() each:")
    lines += [f"    {t:<32} {n:>4} {batched:>5} {single:>5}" for t, (n, batched, single) in rows]
    tot = [sum(v[i] for v in rep.per_type.values()) for i in range(3)]
    lines.append(f"    {'total':<32} {tot[0]:>4} {tot[1]:>5} {tot[2]:>5}")
    return "\n".join(lines)
