"""Edge layer of the main stack: certificate, ALB, listeners, routing, WAF.

Traffic enters through one internet-facing ALB over the public subnets. Port
80 only redirects to 443; 443 terminates TLS (TLS 1.3/1.2 policy) with a
DNS-validated certificate for `<env>.<domain>` and its api./cmc./shop. names,
and forwards to target groups of pod IPs that the AWS Load Balancer
Controller fills from EKS. A regional WAF web ACL (AWS managed rule sets and
a per-IP rate limit) is associated with the ALB: upstream declared one but
never attached it.

What differs per env comes from the profile's "edge" section.
"""

from __future__ import annotations

from typing import Any

from orchestrator.model import Stack
from resources.acm import Certificate
from resources.elbv2 import TLS13_POLICY, Listener, ListenerRule, LoadBalancer, TargetGroup
from resources.wafv2 import WebACL, WebACLAssociation

# Target groups (ip targets: EKS pods): name -> (port, health check path).
TARGET_GROUPS: dict[str, tuple[int, str]] = {
    "backend": (8080, "/health"),
}

# HTTPS listener rules: (priority, conditions, target group). The default action
# also forwards to the backend; the explicit /api/* and api. host rules keep API
# traffic pinned to it when frontends take over the default.
ROUTES: list[tuple[int, str, str]] = [
    (10, "path:/api/*", "backend"),
    (20, "host:api", "backend"),
]

# AnonymousIpList (50 WCU) drops Tor, VPN and hosting-provider sources that hide a client (CKV2_AWS_76).
MANAGED_RULE_SETS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                     "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAnonymousIpList")


def _visibility(metric: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}


def waf_rules(env: str, override: str, rate_limit: int) -> list[dict[str, Any]]:
    """The managed rule groups (Count in dev to tune, None in production to block) and a per-IP rate limit."""
    rules: list[dict[str, Any]] = [
        {"Name": name, "Priority": i,
         "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
         "OverrideAction": {override: {}},
         "VisibilityConfig": _visibility(f"genai-demo-{env}-{name}")}
        for i, name in enumerate(MANAGED_RULE_SETS, start=1)
    ]
    rules.append({
        "Name": "rate-limit-per-ip", "Priority": len(rules) + 1,
        "Statement": {"RateBasedStatement": {"Limit": rate_limit, "AggregateKeyType": "IP",
                                             "EvaluationWindowSec": 300}},
        "Action": {"Block": {}},
        "VisibilityConfig": _visibility(f"genai-demo-{env}-rate-limit-per-ip"),
    })
    return rules


def _condition(spec: str, host_domain: str) -> dict[str, Any]:
    kind, value = spec.split(":", 1)
    if kind == "path":
        return {"Field": "path-pattern", "PathPatternConfig": {"Values": [value]}}
    return {"Field": "host-header", "HostHeaderConfig": {"Values": [f"{value}.{host_domain}"]}}


def build(stack: Stack, p: dict[str, Any], net: dict[str, Any]) -> dict[str, Any]:
    e = p["edge"]
    env = p["tags"]["Environment"]
    host_domain = f"{env}.{e['domain']}"

    cert = stack.add(Certificate(
        "certificate", DomainName=host_domain, ValidationMethod="DNS",
        SubjectAlternativeNames=[f"{sub}.{host_domain}" for sub in ("api", "cmc", "shop")]))

    # An internet-facing ALB needs the VPC's internet gateway, and its public addresses keep the gateway
    # from detaching (DependencyViolation "mapped public address(es)") until AWS releases its interfaces:
    # created after the IGW, so destroyed before it.
    alb = stack.add(LoadBalancer(
        "alb", depends_on=[net["igw"]], Subnets=[s["SubnetId"] for s in net["subnets"]["public"]],
        SecurityGroups=[net["security_groups"]["alb"]["GroupId"]],
        Scheme="internet-facing", Type="application",
        Attributes={
            "deletion_protection.enabled": e["alb_deletion_protection"],
            "idle_timeout.timeout_seconds": e["alb_idle_timeout"],
            "routing.http.drop_invalid_header_fields.enabled": True,
        }))

    target_groups = {
        name: stack.add(TargetGroup(
            f"tg_{name}", Protocol="HTTP", Port=port, VpcId=net["vpc"]["VpcId"], TargetType="ip",
            HealthCheckPath=health, HealthCheckIntervalSeconds=30, HealthCheckTimeoutSeconds=10,
            HealthyThresholdCount=2, UnhealthyThresholdCount=3, Matcher={"HttpCode": "200"},
            Attributes={"deregistration_delay.timeout_seconds": e["deregistration_delay"]}))
        for name, (port, health) in TARGET_GROUPS.items()
    }

    https = stack.add(Listener(
        "https_listener", LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
        SslPolicy=TLS13_POLICY, Certificates=[{"CertificateArn": cert["CertificateArn"]}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_groups["backend"]["TargetGroupArn"]}]))
    http = stack.add(Listener(
        "http_listener", LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "redirect", "RedirectConfig": {
            "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]))

    rules = [
        stack.add(ListenerRule(
            f"https_rule_{priority}", ListenerArn=https["ListenerArn"], Priority=priority,
            Conditions=[_condition(spec, host_domain)],
            Actions=[{"Type": "forward", "TargetGroupArn": target_groups[tg]["TargetGroupArn"]}]))
        for priority, spec, tg in ROUTES
    ]

    web_acl = stack.add(WebACL(
        "web_acl", Scope="REGIONAL", DefaultAction={"Allow": {}},
        Description=f"GenAI Demo {env}: AWS managed rules and a per-IP rate limit in front of the ALB",
        VisibilityConfig=_visibility(f"genai-demo-{env}-web-acl"),
        Rules=waf_rules(env, e["waf_managed_override"], e["waf_rate_limit"])))
    association = stack.add(WebACLAssociation(
        "web_acl_alb", WebACLArn=web_acl["WebACLArn"], ResourceArn=alb["LoadBalancerArn"]))

    return {"alb": alb, "target_groups": target_groups, "https_listener": https, "http_listener": http,
            "listener_rules": rules, "web_acl": web_acl, "web_acl_association": association,
            "certificate": cert}
