"""The edge layer (certificate, ALB, listeners, rules, WAF) composed into a tiny stack.

The graph test needs no AWS. The apply test runs the real engine through the
CLI on moto: a small network (VPC, three public subnets, the ALB security
group) plus the edge layer, applied, re-planned (no change: what AWS reports
reads back as declared), then destroyed (deletion protection included).
"""

from __future__ import annotations

import networkx as nx
import pytest
from click.testing import CliRunner

import cli
from orchestrator.graph import build_graph
from orchestrator.model import Plan
from plans.genai_demo import edge
from plans.genai_demo.profiles import profile
from resources.ec2 import InternetGateway, SecurityGroup, Subnet, Vpc
from resources.elbv2 import TLS13_POLICY
from tests.fakes import install_plan


def tiny_network(stack, p):
    """The network layer's contract, as small as the edge layer needs."""
    vpc = stack.add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    igw = stack.add(InternetGateway("igw", VpcId=vpc["VpcId"]))
    public = [stack.add(Subnet(f"public_{az}", VpcId=vpc["VpcId"], CidrBlock=f"10.0.{i * 16}.0/20",
                               AvailabilityZone=f"{p['region']}{az}", MapPublicIpOnLaunch=True))
              for i, az in enumerate("abc")]
    alb_sg = stack.add(SecurityGroup("alb_sg", VpcId=vpc["VpcId"], Description="ALB"))
    return {"vpc": vpc, "igw": igw, "subnets": {"public": public, "private": [], "database": []},
            "security_groups": {"alb": alb_sg}}


def build_edge_only(env: str) -> Plan:
    p = profile(env)
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    stack = plan.stack("main")
    edge.build(stack, p, net=tiny_network(stack, p))
    return plan


PLAN = install_plan("genai_demo_edge_only", build_edge_only)


def infra(*args: str) -> int:
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 2), f"infra {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.exit_code


@pytest.mark.parametrize("env,override", [("dev", "Count"), ("production", "None")])
def test_edge_layer_declares_and_orders(env, override):
    plan = build_edge_only(env)
    g, _ = build_graph(plan, None, state_outputs=None)
    stack = Plan("genai-demo", env).stack("main")
    out = edge.build(stack, profile(env), net=tiny_network(stack, profile(env)))
    assert set(out) >= {"alb", "target_groups", "https_listener", "web_acl", "certificate"}
    assert out["target_groups"]["backend"] is stack.resources["tg_backend"]

    def needs(a, b):
        return nx.has_path(g, f"main.{b}", f"main.{a}")

    assert needs("web_acl_alb", "alb") and needs("web_acl_alb", "web_acl")  # WAF association -> ALB
    assert needs("alb", "public_a") and needs("alb", "alb_sg")
    assert needs("alb", "igw")  # so a destroy deletes the ALB (and its public addresses) before the IGW
    assert needs("https_listener", "certificate") and needs("https_listener", "tg_backend")
    assert needs("https_rule_10", "https_listener") and needs("https_rule_10", "tg_backend")
    assert needs("tg_backend", "vpc")

    r = plan.stacks["main"].resources
    cert = r["certificate"].properties
    assert cert["DomainName"] == f"{env}.genai-demo.example.com"
    assert cert["SubjectAlternativeNames"] == [f"{s}.{env}.genai-demo.example.com" for s in ("api", "cmc", "shop")]
    attrs = r["alb"].properties["Attributes"]
    assert attrs["deletion_protection.enabled"] == ("true" if env == "production" else "false")
    assert r["https_listener"].properties["SslPolicy"] == TLS13_POLICY
    rules = {x["Name"]: x for x in r["web_acl"].properties["Rules"]}
    assert {n: x.get("OverrideAction") for n, x in rules.items() if "Managed" in n} == {
        n: {override: {}} for n in edge.MANAGED_RULE_SETS}
    assert rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"]["Limit"] == 2000
    assert rules["rate-limit-per-ip"]["Action"] == {"Block": {}}
    tg = r["tg_backend"].properties
    assert (tg["TargetType"], tg["Port"], tg["HealthCheckPath"]) == ("ip", 8080, "/health")


# In-process moto is not thread-safe: parallel calls into one backend race on its dicts
# ("dictionary changed size during iteration"), so this test walks one change at a time.
SERIAL = ("--parallelism", "1")


@pytest.mark.slow
def test_edge_apply_noop_destroy(aws):
    env = "production"
    infra("apply", "--plan", PLAN, "--env", env, "--auto-approve", *SERIAL)

    elb, waf, acm = aws.client("elbv2"), aws.client("wafv2"), aws.client("acm")
    lbs = elb.describe_load_balancers()["LoadBalancers"]
    assert [lb["LoadBalancerName"] for lb in lbs] == ["genai-demo-production-alb"]
    lb = lbs[0]
    assert lb["Scheme"] == "internet-facing" and lb["State"]["Code"] == "active"
    assert len(lb["AvailabilityZones"]) == 3
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(
        LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]}
    assert attrs["deletion_protection.enabled"] == "true"

    certs = acm.list_certificates()["CertificateSummaryList"]
    assert [c["DomainName"] for c in certs] == ["production.genai-demo.example.com"]
    cert_arn = certs[0]["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=cert_arn)["Certificate"]["Status"] == "ISSUED"

    listeners = {li["Port"]: li for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
    assert listeners[443]["Protocol"] == "HTTPS" and listeners[443]["SslPolicy"] == TLS13_POLICY
    assert listeners[443]["Certificates"][0]["CertificateArn"] == cert_arn
    tgs = elb.describe_target_groups()["TargetGroups"]
    assert [(t["TargetType"], t["Port"], t["HealthCheckPath"]) for t in tgs] == [("ip", 8080, "/health")]
    assert listeners[443]["DefaultActions"][0]["TargetGroupArn"] == tgs[0]["TargetGroupArn"]
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["StatusCode"] == "HTTP_301"
    rules = [x for x in elb.describe_rules(ListenerArn=listeners[443]["ListenerArn"])["Rules"] if not x["IsDefault"]]
    assert sorted(x["Priority"] for x in rules) == ["10", "20"]

    acl = waf.get_web_acl_for_resource(ResourceArn=lb["LoadBalancerArn"])["WebACL"]
    assert acl["Name"] == "genai-demo-production-web-acl"
    assert {x["Name"]: x.get("OverrideAction") for x in acl["Rules"]}["AWSManagedRulesSQLiRuleSet"] == {"None": {}}

    # A second plan, refreshed from AWS, finds nothing to change.
    assert infra("plan", "--plan", PLAN, "--env", env, "--detailed-exitcode") == 0

    infra("destroy", "--plan", PLAN, "--env", env, "--auto-approve", *SERIAL)
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    assert elb.describe_target_groups()["TargetGroups"] == []
    assert waf.list_web_acls(Scope="REGIONAL")["WebACLs"] == []
    assert acm.list_certificates()["CertificateSummaryList"] == []
