"""Rules on the edge services beside the load balancer: WAF web ACLs (resources/wafv2.py) and ACM
certificates (resources/acm.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from resources.policy import Subject, as_list, rule

VIS = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}


def managed(name: str, override: str = "None", priority: int = 1) -> dict[str, Any]:
    return {"Name": name, "Priority": priority, "OverrideAction": {override: {}}, "VisibilityConfig": VIS,
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}}}


def _groups(s: Subject) -> dict[str, dict[str, Any]]:
    return {r.get("Statement", {}).get("ManagedRuleGroupStatement", {}).get("Name", ""): r
            for r in as_list(s.get("Rules"))}


@rule("wafv2.has-rules", "high", "Web ACLs have rules, each with an action", ["wafv2.WebACL"],
      equivalents=["CKV_AWS_175", "CKV_AWS_342", "FSBP WAF.10"],
      fails={"VisibilityConfig": VIS}, passes={"VisibilityConfig": VIS, "Rules": [managed("AWSManagedRulesCommonRuleSet")]})
def waf_rules(s: Subject) -> Iterator[str]:
    rules = as_list(s.get("Rules"))
    if not rules:
        yield "no rules: the default action decides every request"
    for r in rules:
        if not r.get("Action") and not r.get("OverrideAction"):
            yield f"rule {r.get('Name')!r} has no action"


@rule("wafv2.known-bad-inputs-enforced", "medium", "The Log4j / known-bad-inputs group blocks (not only counts)",
      ["wafv2.WebACL"], equivalents=["CKV_AWS_192"],
      fails={"VisibilityConfig": VIS, "Rules": [managed("AWSManagedRulesKnownBadInputsRuleSet", "Count")]},
      passes={"VisibilityConfig": VIS, "Rules": [managed("AWSManagedRulesKnownBadInputsRuleSet")]})
def waf_log4j(s: Subject) -> Iterator[str]:
    group = _groups(s).get("AWSManagedRulesKnownBadInputsRuleSet")
    if group is None:
        yield "no AWSManagedRulesKnownBadInputsRuleSet"
    elif "None" not in (group.get("OverrideAction") or {}):
        yield f"AWSManagedRulesKnownBadInputsRuleSet runs with OverrideAction {list(group['OverrideAction'])}"


@rule("wafv2.anonymous-ip-list", "low", "Web ACLs include the anonymous-IP and known-bad-inputs groups",
      ["wafv2.WebACL"], equivalents=["CKV2_AWS_76"],
      fails={"VisibilityConfig": VIS, "Rules": [managed("AWSManagedRulesKnownBadInputsRuleSet")]},
      passes={"VisibilityConfig": VIS, "Rules": [managed("AWSManagedRulesKnownBadInputsRuleSet"),
                                                 managed("AWSManagedRulesAnonymousIpList", priority=2)]})
def waf_anonymous(s: Subject) -> Iterator[str]:
    missing = {"AWSManagedRulesAnonymousIpList", "AWSManagedRulesKnownBadInputsRuleSet"} - set(_groups(s))
    if missing:
        yield f"missing {', '.join(sorted(missing))}"


@rule("acm.no-wildcard", "low", "Certificates name their hosts (no wildcard)", ["acm.Certificate"],
      equivalents=["CKV2_AWS_71"],
      fails={"DomainName": "*.example.com"}, passes={"DomainName": "api.example.com"})
def acm_wildcard(s: Subject) -> Iterator[str]:
    names = [s.get("DomainName"), *as_list(s.get("SubjectAlternativeNames"))]
    wild = [n for n in names if isinstance(n, str) and n.startswith("*")]
    if wild:
        yield f"wildcard names {', '.join(wild)}: a key stolen from one host serves every host"


@rule("wafv2.logging", "medium", "Web ACLs log the requests they inspect", ["wafv2.WebACL"],
      equivalents=["CKV2_AWS_31", "FSBP WAF.11"], graph=True)
def waf_logging(s: Subject) -> Iterator[str]:
    if not list(s.referrers("wafv2.LoggingConfiguration")):
        yield "no wafv2.LoggingConfiguration: blocked and allowed requests leave no trace"
