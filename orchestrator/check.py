"""`infra check`: the policy rules (resources/policy.py, resources/rules/) over a planned environment.

No AWS call: the rules read the declared resources, their properties with defaults filled in, and the
graph. Waivers declared in the plan (per resource, stack or plan, each with its reason) turn a finding
into a waived one: shown, never silent, and not counted by the gate. The gate fails (exit 1) when an
unwaived finding at or above the chosen severity remains. Output as a table, JSON, or SARIF 2.1.0 so
CI systems show the findings on the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from orchestrator.model import Plan, Waiver
from resources.base import Resource
from resources.policy import RULES, SEVERITIES, Rule, subject


@dataclass
class Finding:
    rule: str
    severity: str
    address: str
    type: str
    message: str
    waived: str | None = None  # the waiver's reason

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rules() -> dict[str, Rule]:
    import resources.rules  # noqa: F401 - registers every rule

    return RULES


def evaluate(plan: Plan, stacks: Iterable[str] | None = None) -> list[Finding]:
    catalogue = rules()
    names = list(stacks) if stacks else list(plan.stacks)
    everything: dict[str, Resource] = {r.address: r for s in plan.stacks.values() for r in s}
    waivers: list[tuple[Waiver, str | None]] = [(w, None) for w in plan.waivers]
    for name in names:
        waivers += [(w, name) for w in plan.stacks[name].waivers]
    out: list[Finding] = []
    for name in names:
        for r in plan.stacks[name]:
            subj = subject(r, plan.env, everything, plan.settings)
            for rule in catalogue.values():
                if r.type_name not in rule.types:
                    continue
                for message in rule.check(subj):
                    reason = next((w.reason for w, stack in waivers
                                   if (stack is None or stack == name) and w.covers(rule.id, r.address)), None)
                    out.append(Finding(rule.id, rule.severity, r.address, r.type_name, message, reason))
    return sorted(out, key=lambda f: (-SEVERITIES.index(f.severity), f.rule, f.address))


def unknown_waivers(plan: Plan) -> list[str]:
    """Waivers naming a rule that does not exist (a typo would otherwise waive nothing, silently)."""
    known = set(rules())
    out = []
    for w in [*plan.waivers, *(w for s in plan.stacks.values() for w in s.waivers)]:
        if w.rule.endswith("*"):
            if not any(k.startswith(w.rule[:-1]) for k in known):
                out.append(w.rule)
        elif w.rule not in known:
            out.append(w.rule)
    return out


def gate(findings: Iterable[Finding], severity: str = "high") -> list[Finding]:
    """The unwaived findings at or above `severity`: what makes `infra check` exit 1."""
    floor = SEVERITIES.index(severity)
    return [f for f in findings if f.waived is None and SEVERITIES.index(f.severity) >= floor]


def table(findings: list[Finding], severity: str) -> str:
    if not findings:
        return "No findings."
    w = max(len(f.address) for f in findings)
    lines = []
    for f in findings:
        mark = "waived" if f.waived else "FAIL" if SEVERITIES.index(f.severity) >= SEVERITIES.index(severity) \
            else "warn"
        lines.append(f"{mark:6} {f.severity:8} {f.rule:45} {f.address:{w}}  {f.message}")
        if f.waived:
            lines.append(f"{'':6} {'':8} {'':45} {'':{w}}  waived: {f.waived}")
    failing = gate(findings, severity)
    lines.append(f"{len(findings)} findings: {len(failing)} failing at {severity} or above, "
                 f"{sum(1 for f in findings if f.waived)} waived.")
    return "\n".join(lines)


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"low": "note", "medium": "warning", "high": "error", "critical": "error"}


def sarif(findings: list[Finding], locations: Mapping[str, tuple[str, int]] | None = None,
          version: str = "0.1.0") -> dict[str, Any]:
    """SARIF 2.1.0: one run, the rules as the tool's driver rules, one result per finding.

    `locations`: address -> (file, line) where the plan declares it, so CI shows the finding on the code.
    """
    catalogue = rules()
    used = sorted({f.rule for f in findings})
    index = {rid: i for i, rid in enumerate(used)}
    results = []
    for f in findings:
        res: dict[str, Any] = {
            "ruleId": f.rule, "ruleIndex": index[f.rule], "level": SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.address}: {f.message}"},
            "properties": {"address": f.address, "resourceType": f.type, "severity": f.severity},
        }
        file, line = (locations or {}).get(f.address, ("", 0))
        if file:
            res["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": file},
                                                      "region": {"startLine": max(1, line)}}}]
        if f.waived:
            res["suppressions"] = [{"kind": "inSource", "justification": f.waived}]
        results.append(res)
    driver_rules = [{
        "id": rid, "name": rid, "shortDescription": {"text": catalogue[rid].title},
        "defaultConfiguration": {"level": SARIF_LEVEL[catalogue[rid].severity]},
        "properties": {"severity": catalogue[rid].severity, "equivalents": list(catalogue[rid].equivalents)},
    } for rid in used]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "genai-infra", "version": version,
                            "informationUri": "https://github.com/genai-infra", "rules": driver_rules}},
        "results": results}]}


def markdown() -> str:
    """docs/security.md's rule list (the rest of the page is written by hand around it)."""
    lines = ["| rule | severity | title | applies to | stands for |", "|---|---|---|---|---|"]
    for r in sorted(rules().values(), key=lambda r: r.id):
        lines.append(f"| `{r.id}` | {r.severity} | {r.title} | {', '.join(f'`{t}`' for t in r.types)} | "
                     f"{', '.join(r.equivalents) or '-'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
