"""No-op efficiency: what a plan/apply with nothing to change costs, with and without refresh."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bench.harness import Calls, fresh_aws, workspace
from orchestrator.runs import run_changes


@dataclass
class NoopReport:
    resources: int = 0
    stacks: int = 0
    changes: dict[str, int] = field(default_factory=dict)  # refresh label -> resources with a change planned
    calls: dict[str, Counter[str]] = field(default_factory=dict)  # refresh label -> calls by kind
    queries: dict[str, int] = field(default_factory=dict)
    reads_per_type: dict[str, float] = field(default_factory=dict)  # type -> calls per read() (only > 1)


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
        # Which types read with more than one call: one read() each, counted apart.
        records = ws.records()
        g, _ = ws.graph(records)
        applier = ws.applier(g, records, {})
        per_type: dict[str, list[int]] = {}
        for addr in g:
            if addr not in records or not records[addr].physical_id:
                continue
            with calls.counting():
                g.nodes[addr]["resource"].read(applier.ctx(addr), records[addr].physical_id)
            per_type.setdefault(g.nodes[addr]["type"], []).append(sum(calls.by_kind().values()))
        rep.reads_per_type = {t: sum(v) / len(v) for t, v in sorted(per_type.items()) if max(v) > 1}
    return rep


def render(rep: NoopReport) -> str:
    lines = [f"no-op plan of {rep.resources} resources in {rep.stacks} stacks, right after applying them:"]
    for label, by_kind in rep.calls.items():
        aws_reads = by_kind.get("read", 0)
        lines.append(f"  {label}: state Query {rep.queries[label]} (stacks {rep.stacks}), AWS reads {aws_reads} "
                     f"({aws_reads / max(1, rep.resources):.2f} per resource), mutating {by_kind.get('mutating', 0)}, "
                     f"all calls by kind {dict(by_kind)}; changes planned {rep.changes[label]}")
    multi = ", ".join(f"{t} {n:.1f}" for t, n in sorted(rep.reads_per_type.items(), key=lambda x: -x[1]))
    lines.append(f"  types whose read() makes more than one call (calls per read): {multi or 'none'}")
    return "\n".join(lines)
