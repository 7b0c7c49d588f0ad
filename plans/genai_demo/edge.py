"""Edge layer of the main stack: certificate, ALB, listeners, routing, WAF.

Traffic enters through one internet-facing ALB over the public subnets. Port
80 only redirects to 443; 443 terminates TLS (TLS 1.3/1.2 policy) with a
DNS-validated certificate for `<env>.<domain>` and its api./cmc./shop. names,
and forwards to target groups of pod IPs that the AWS Load Balancer
Controller fills from EKS. A regional WAF web ACL (AWS managed rule sets and
a per-IP rate limit) is associated with the ALB: upstream declared one but
never attached it.

The certificate's validation CNAMEs are published in the Route 53 hosted zone
the profile names (edge.hosted_zone: an existing public zone id, or "create"
for a zone of `<env>.<domain>` made here, which the parent domain must then
delegate to: output dns_zone_name_servers), and the 443 listener waits for
the validation step, as Terraform's aws_acm_certificate_validation: ACM
issues the certificate only once it resolves those records, and ELB refuses
one that is not issued.

What differs per env comes from the profile's "edge" section.
"""

from __future__ import annotations

import re
from typing import Any

from core.errors import PlanError
from orchestrator.model import Stack
from resources.account import ACCOUNT_PLACEHOLDER
from resources.acm import Certificate, CertificateValidation
from resources.base import Ref
from resources.elbv2 import TLS13_POLICY, Listener, ListenerRule, LoadBalancer, TargetGroup
from resources.route53 import HostedZone, RecordSets
from resources.s3 import SELF_ARN, Bucket
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


def dns_zone(stack: Stack, env: str, host_domain: str, setting: Any) -> tuple[str | Ref, HostedZone | None]:
    """The hosted zone the validation records go to: the profile's zone id, or one made for `host_domain`.

    Checked here, at plan time (so `infra validate` refuses it without an AWS call): without a zone
    nothing publishes the records, and the certificate would wait for them until ACM gives up."""
    if setting == "create":
        zone = stack.add(HostedZone("dns_zone", Name=host_domain,
                                    Comment=f"GenAI Demo {env}: the ALB's names and their ACM validation"))
        stack.outputs["dns_zone_name_servers"] = zone["NameServers"]  # what the parent domain delegates to
        return zone["HostedZoneId"], zone
    if isinstance(setting, str) and ZONE_ID.match(setting.removeprefix("/hostedzone/")):
        return setting.removeprefix("/hostedzone/"), None
    raise PlanError(
        f"profile {env!r}: edge.hosted_zone is {setting!r}, not a Route 53 hosted zone. The certificate for "
        f"{host_domain} is validated by DNS, and its validation CNAME records must be published in a public "
        f"hosted zone that holds {host_domain}; without one ACM never issues it and HTTPS never comes up. Set "
        'edge.hosted_zone in plans/genai_demo/profiles.py to an existing zone\'s id (e.g. "Z0123456789ABCDEFGHIJ") '
        f'or to "create" for a zone of {host_domain} made by the plan (then delegate to its name servers).')


ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")  # Route 53 ids: upper-case letters and digits, usually Z...


ALB_LOG_PREFIX = "alb"
# The other buckets' server access logs (FSBP S3.9) go to the same log bucket, under their own prefix; the
# partitioned key format puts the source bucket's name in each key.
S3_ACCESS_LOG_PREFIX = "s3-access/"


def build(stack: Stack, p: dict[str, Any], net: dict[str, Any]) -> dict[str, Any]:
    e = p["edge"]
    env = p["tags"]["Environment"]
    host_domain = f"{env}.{e['domain']}"
    zone_id, zone = dns_zone(stack, env, host_domain, e.get("hosted_zone"))

    cert = stack.add(Certificate(
        "certificate", DomainName=host_domain, ValidationMethod="DNS",
        SubjectAlternativeNames=[f"{sub}.{host_domain}" for sub in ("api", "cmc", "shop")]))
    validation_records = stack.add(RecordSets(
        "certificate_dns_records", HostedZoneId=zone_id, Records=cert["DnsRecords"], TTL=300))
    validation = stack.add(CertificateValidation(
        "certificate_validation", CertificateArn=cert["CertificateArn"],
        ValidationRecordFqdns=validation_records["Fqdns"]))

    # An internet-facing ALB needs the VPC's internet gateway, and its public addresses keep the gateway
    # from detaching (DependencyViolation "mapped public address(es)") until AWS releases its interfaces:
    # created after the IGW, so destroyed before it.
    # Access logs (FSBP ELB.5): ELB writes a test object when they are turned on and refuses a bucket it
    # cannot write to. Its delivery supports SSE-S3 only, and in the regions opened since August 2022
    # (ap-east-2) the policy names its log-delivery service principal.
    keep_days = p["observability"]["log_retention_days"]
    alb_logs = stack.add(Bucket(
        "alb_logs", SSEAlgorithm="AES256", PolicyStatements=[{
            "Sid": "ElbLogDelivery", "Effect": "Allow",
            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": f"{SELF_ARN}/{ALB_LOG_PREFIX}/AWSLogs/*"}, {
            # S3 server access logs (S3 user guide, "Permissions for log delivery"): the logging service
            # principal, for this account's buckets only.
            "Sid": "S3ServerAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": f"{SELF_ARN}/{S3_ACCESS_LOG_PREFIX}*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_PLACEHOLDER}}}],
        LifecycleRules=[{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""},
                         "Expiration": {"Days": keep_days}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": p["s3"]["abort_multipart_days"]}}]))
    alb = stack.add(LoadBalancer(
        "alb", depends_on=[net["igw"]], Subnets=[s["SubnetId"] for s in net["subnets"]["public"]],
        SecurityGroups=[net["security_groups"]["alb"]["GroupId"]],
        Scheme="internet-facing", Type="application",
        Attributes={
            "deletion_protection.enabled": e["alb_deletion_protection"],
            "idle_timeout.timeout_seconds": e["alb_idle_timeout"],
            "routing.http.drop_invalid_header_fields.enabled": True,
            "access_logs.s3.enabled": True,
            "access_logs.s3.bucket": alb_logs["Bucket"],
            "access_logs.s3.prefix": ALB_LOG_PREFIX,
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
        SslPolicy=TLS13_POLICY, Certificates=[{"CertificateArn": validation["CertificateArn"]}],
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

    return {"alb": alb, "alb_logs": alb_logs, "target_groups": target_groups, "https_listener": https, "http_listener": http,
            "listener_rules": rules, "web_acl": web_acl, "web_acl_association": association,
            "certificate": cert, "certificate_validation": validation, "dns_zone": zone,
            "certificate_dns_records": validation_records}
