"""Issue 14 item 2: HTTPS comes up. The certificate's DNS validation records are published in a hosted zone,
ACM (the strict sandbox) issues it through them, and the 443 listener is created after the validation step,
with that certificate; with no zone configured, `infra validate` refuses the plan without an AWS call.

The edge layer of the real plan (plans/genai_demo/edge.py, dev profile) runs on a minimal network of its own,
so the test needs no EKS, databases or Kafka.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from orchestrator.apply import RetryPolicy
from orchestrator.model import Plan
from plans.genai_demo import edge, profiles
from resources.acm import CertificateValidation
from resources.elbv2 import Listener
from resources.route53 import RecordSets
from tests.fakes import install_plan
from tests.helpers import count_calls, infra, one_line
from tests.test_plan_edge import tiny_network
from tests.test_strict_acm import _alb

HOST = "dev.genai-demo.example.com"


def edge_plan(hosted_zone: Any) -> Any:
    def build(env: str) -> Plan:
        p = copy.deepcopy(profiles.profile("dev"))
        p["edge"]["hosted_zone"] = hosted_zone
        plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
        stack = plan.stack("main")
        edge.build(stack, p, net=tiny_network(stack, p))
        return plan
    return build



def test_certificate_is_issued_through_the_published_records_and_the_443_listener_uses_it(infra_sandbox):
    infra_sandbox.rules.configure("ec2-consistency", seconds=0.2)
    plan = install_plan("https_edge_created_zone", edge_plan("create"))
    applied = infra_sandbox.apply(plan)
    assert applied.ok, applied.summary()

    acm, r53, elb = (infra_sandbox.client(s) for s in ("acm", "route53", "elbv2"))
    [summary] = [c for c in acm.list_certificates()["CertificateSummaryList"] if c["DomainName"] == HOST]
    cert = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
    assert cert["Status"] == "ISSUED"
    assert {o["ValidationStatus"] for o in cert["DomainValidationOptions"]} == {"SUCCESS"}

    # The zone the plan made holds every validation CNAME, with ACM's value: what the sandbox issued it by.
    [zone] = [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{HOST}."]
    rrsets = {(r["Name"], r["Type"]): r for r in
              r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]}
    for option in cert["DomainValidationOptions"]:
        rr = option["ResourceRecord"]
        assert rrsets[(rr["Name"], "CNAME")]["ResourceRecords"] == [{"Value": rr["Value"]}], option["DomainName"]
    assert infra_sandbox.rules.trips().get("acm-dns-validation", 0) > 0  # it was pending before the records

    [lb] = [b for b in elb.describe_load_balancers()["LoadBalancers"] if b["LoadBalancerName"].startswith("genai")]
    listeners = {x["Port"]: x for x in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
    assert listeners[443]["Protocol"] == "HTTPS"
    assert [c["CertificateArn"] for c in listeners[443]["Certificates"]] == [cert["CertificateArn"]]

    # The graph orders it so: records after the certificate, validation after the records, listener after it.
    ws = infra_sandbox.workspace(plan)
    g = ws.full_graph
    assert g.has_edge("main.certificate", "main.certificate_dns_records") or \
        g.has_edge("main.certificate_dns_records", "main.certificate")
    order = _order(g)
    assert order.index("main.certificate") < order.index("main.certificate_dns_records") \
        < order.index("main.certificate_validation") < order.index("main.https_listener")

    assert not infra_sandbox.plan(plan).has_changes  # converged: the validation reads back as done
    destroyed = infra_sandbox.destroy(plan)
    assert destroyed.ok, destroyed.summary()
    assert not [c for c in acm.list_certificates()["CertificateSummaryList"] if c["DomainName"] == HOST]
    assert not [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{HOST}."]


def _order(g: Any) -> list[str]:
    """A creation order of the graph, whichever way its edges point (dependency -> dependent or back)."""
    import networkx as nx

    order = list(nx.topological_sort(g))
    if order.index("main.vpc") > order.index("main.igw"):
        order.reverse()
    return order


def test_the_listener_create_waits_out_elb_not_seeing_a_just_issued_certificate(aws):
    """What the engine does with elbv2.Listener's retry catalogue when ELB answers CertificateNotFound
    for a certificate ACM has just issued (rule elbv2-certificate-propagation)."""
    aws.rules.configure("elbv2-certificate-propagation", seconds=0.3)
    lb, forward = _alb(aws)
    acm, r53 = aws.client("acm"), aws.client("route53")
    arn = acm.request_certificate(DomainName=HOST, ValidationMethod="DNS")["CertificateArn"]
    records = [o["ResourceRecord"] for o in acm.describe_certificate(CertificateArn=arn)["Certificate"][
        "DomainValidationOptions"]]
    zone = r53.create_hosted_zone(Name=HOST, CallerReference="z")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT",
        "ResourceRecordSet": {"Name": r["Name"], "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": r["Value"]}]}}
        for r in records]})

    # The create is the first to ask about the certificate since its records went in: ACM issues it then,
    # and ELB does not see it yet.
    listener = Listener("https_listener", LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                        Certificates=[{"CertificateArn": arn}], DefaultActions=forward)
    listener.stack = "main"
    policy = RetryPolicy(initial=0.02)
    pid, _ = policy.create(lambda: listener.create(aws.ctx("https_listener"), dict(listener.properties)),
                           Listener.not_found, catalogue=Listener.retries, address="main.https_listener")
    assert [(r.address, r.code) for r in policy.log.values()] == [("main.https_listener", "CertificateNotFound")]
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    seen = aws.client("elbv2").describe_listeners(ListenerArns=[pid])["Listeners"][0]
    assert [c["CertificateArn"] for c in seen["Certificates"]] == [arn]


def test_an_existing_zone_id_gets_the_records_and_no_zone_is_made():
    """Publishing into a zone the account already has is the same RecordSets on that id
    (tests/test_acm.py publishes into such a zone on the sandbox)."""
    plan = edge_plan("/hostedzone/Z0EXISTING42")("dev")
    main = plan.stacks["main"]
    assert "dns_zone" not in main.resources and "dns_zone_name_servers" not in main.outputs
    assert main.resources["certificate_dns_records"].properties["HostedZoneId"] == "Z0EXISTING42"
    created = edge_plan("create")("dev").stacks["main"]
    assert created.resources["dns_zone"].properties["Name"] == HOST
    assert created.resources["certificate_dns_records"].properties["HostedZoneId"].resource is \
        created.resources["dns_zone"]


@pytest.mark.parametrize("setting", [None, "", "my-zone"])
def test_no_zone_fails_validate_with_the_reason_and_no_aws_call(aws, monkeypatch, setting):
    monkeypatch.setitem(profiles.PROFILES["dev"]["edge"], "hosted_zone", setting)
    with count_calls() as log:
        out = infra("validate", "--env", "dev", ok=False)
    assert out.exit_code == 1, out.output
    text = one_line(out.output)
    assert out.output.startswith("Error: ")
    assert f"edge.hosted_zone is {setting!r}, not a Route 53 hosted zone" in text
    assert f"The certificate for {HOST} is validated by DNS" in text and "HTTPS never comes up" in text
    assert log.calls == []


def test_the_real_plan_validates_its_certificate_before_the_listener():
    from plans.genai_demo import build

    main = build("production").stacks["main"]
    validation = main.resources["certificate_validation"]
    assert isinstance(validation, CertificateValidation)
    assert isinstance(main.resources["certificate_dns_records"], RecordSets)
    https = main.resources["https_listener"]
    assert https.properties["Certificates"][0]["CertificateArn"].resource is validation
