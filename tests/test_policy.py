"""The policy check: every rule fails its failing example and passes its passing one; graph rules, waivers,
the gate and the output formats; no AWS call anywhere here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import PlanError
from orchestrator import check
from orchestrator.model import Plan, Waiver
from resources.base import lookup_type
from resources.ec2 import SecurityGroup, SecurityGroupRule, Vpc
from resources.rds import DBInstance
from tests.fakes import install_plan
from tests.helpers import infra

RULES = check.rules()


def one(type_name: str, props: dict) -> Plan:
    plan = Plan(project="policy", env="dev")
    plan.stack("main").add(lookup_type(type_name)("x", **props))
    return plan


@pytest.mark.parametrize("rule", [r.id for r in RULES.values() if not r.graph])
def test_rule_fails_its_failing_example_and_passes_its_passing_one(rule):
    r = RULES[rule]
    assert r.fails is not None and r.types, rule
    failing = [f for f in check.evaluate(one(r.types[0], r.fails)) if f.rule == rule]
    assert failing and failing[0].address == "main.x" and failing[0].message
    assert [f for f in check.evaluate(one(r.types[0], r.passes)) if f.rule == rule] == []


def test_rule_iam_no_write_on_all_resources_leaves_actions_iam_cannot_scope():
    """X-Ray's trace writes take no resource (Service Authorization Reference): "*" is their only
    form, so they are not a finding; a scopable write next to them still is."""
    def role(actions: list[str]) -> Plan:
        return one("iam.Role", {"AssumeRolePolicyDocument": {"Statement": []}, "InlinePolicies": {"p": {
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}}})

    rule = "iam.no-write-on-all-resources"
    xray = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    assert [f for f in check.evaluate(role(xray)) if f.rule == rule] == []
    found = [f for f in check.evaluate(role([*xray, "s3:PutObject"])) if f.rule == rule]
    assert len(found) == 1 and "s3:PutObject" in found[0].message and "xray" not in found[0].message


def network(db_ingress_from: str, front_port: int) -> Plan:
    """A VPC with a front group and a database group: db admits 5432 from `db_ingress_from`."""
    plan = Plan(project="policy", env="dev")
    s = plan.stack("main")
    vpc = s.add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    front = s.add(SecurityGroup("front_sg", VpcId=vpc["VpcId"], RevokeDefaultEgress=True))
    db_sg = s.add(SecurityGroup("db_sg", VpcId=vpc["VpcId"], RevokeDefaultEgress=True))
    s.add(SecurityGroupRule("front_in", GroupId=front["GroupId"], Direction="ingress", IpProtocol="tcp",
                            FromPort=front_port, ToPort=front_port, CidrIp="0.0.0.0/0", Description="front"))
    peer = {"SourceSecurityGroupId": front["GroupId"]} if db_ingress_from == "front" else {"CidrIp": "10.0.0.0/16"}
    s.add(SecurityGroupRule("db_in", GroupId=db_sg["GroupId"], Direction="ingress", IpProtocol="tcp",
                            FromPort=5432, ToPort=5432, Description="db", **peer))
    s.add(DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="app",
                     VpcSecurityGroupIds=[db_sg["GroupId"]]))
    return plan


def test_rule_network_data_store_reachable_from_internet_follows_chains_of_groups():
    rid = "network.data-store-reachable-from-internet"
    [f] = [f for f in check.evaluate(network("front", 5432)) if f.rule == rid]
    assert f.address == "main.db" and "0.0.0.0/0 -> main.front_sg -> main.db_sg" in f.message
    # the chain must carry the port: a front that takes only 443 from the internet is not a path to 5432
    assert [f for f in check.evaluate(network("front", 443)) if f.rule == rid] == []
    assert [f for f in check.evaluate(network("vpc", 5432)) if f.rule == rid] == []


def test_infra_check_exits_1_naming_the_path_through_two_groups(aws):
    plan = install_plan("policy_chain", lambda env: network("front", 5432))
    out = infra("check", "--plan", plan, "--env", "dev", ok=None)
    assert out.exit_code == 1
    assert "0.0.0.0/0 -> main.front_sg -> main.db_sg" in out.output
    ok = install_plan("policy_no_chain", lambda env: network("front", 443))
    data = json.loads(infra("check", "--plan", ok, "--env", "dev", "--json", "--severity", "critical").output)
    assert data["ok"] is True and not [f for f in data["findings"] if f["rule"].startswith("network.")]


def test_rule_ec2_vpc_flow_logs_needs_a_flow_log_on_the_vpc():
    from resources.ec2 import FlowLog

    plan = Plan(project="policy", env="dev")
    vpc = plan.stack("main").add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    assert [f.address for f in check.evaluate(plan) if f.rule == "ec2.vpc-flow-logs"] == ["main.vpc"]
    plan.stack("main").add(FlowLog("flow", ResourceId=vpc["VpcId"], LogDestinationType="s3",
                                   LogDestination="arn:aws:s3:::b"))
    assert [f for f in check.evaluate(plan) if f.rule == "ec2.vpc-flow-logs"] == []


def test_rule_ec2_vpc_endpoint_ec2_needs_an_interface_endpoint_for_the_ec2_api_in_the_vpc():
    from resources.ec2 import VpcEndpoint

    plan = Plan(project="policy", env="dev")
    s = plan.stack("main")
    vpc, other = s.add(Vpc("vpc", CidrBlock="10.0.0.0/16")), s.add(Vpc("other", CidrBlock="10.1.0.0/16"))
    s.add(VpcEndpoint("s3", VpcId=vpc["VpcId"], ServiceName="com.amazonaws.ap-east-2.s3", RouteTableIds=["rtb-1"]))
    s.add(VpcEndpoint("ec2_elsewhere", VpcId=other["VpcId"], ServiceName="com.amazonaws.ap-east-2.ec2",
                      VpcEndpointType="Interface", SubnetIds=["subnet-2"], SecurityGroupIds=["sg-2"]))
    assert [f.address for f in check.evaluate(plan) if f.rule == "ec2.vpc-endpoint-ec2"] == ["main.vpc"]
    s.add(VpcEndpoint("ec2", VpcId=vpc["VpcId"], ServiceName="com.amazonaws.ap-east-2.ec2",
                      VpcEndpointType="Interface", SubnetIds=["subnet-1"], SecurityGroupIds=["sg-1"]))
    assert [f for f in check.evaluate(plan) if f.rule == "ec2.vpc-endpoint-ec2"] == []


def test_rule_rds_event_subscriptions_need_the_critical_categories_for_the_resource():
    from resources.rds import DBParameterGroup, EventSubscription

    plan = Plan(project="policy", env="dev")
    s = plan.stack("main")
    db = s.add(DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="app"))
    s.add(DBInstance("other", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="app"))
    pg = s.add(DBParameterGroup("pg", Family="postgres16", Description="p"))

    def found(rule):
        return sorted(f.address for f in check.evaluate(plan) if f.rule == rule)
    assert found("rds.instance-event-subscription") == ["main.db", "main.other"]
    assert found("rds.parameter-group-event-subscription") == ["main.pg"]
    s.add(EventSubscription("few", SnsTopicArn="arn:aws:sns:x:1:t", SourceType="db-instance",
                            SourceIds=[db["DBInstanceIdentifier"]], EventCategories=["failure"]))
    s.add(EventSubscription("off", SnsTopicArn="arn:aws:sns:x:1:t", SourceType="db-instance", Enabled=False))
    assert found("rds.instance-event-subscription") == ["main.db", "main.other"]  # too few categories; disabled
    s.add(EventSubscription("db_events", SnsTopicArn="arn:aws:sns:x:1:t", SourceType="db-instance",
                            SourceIds=[db["DBInstanceIdentifier"]],
                            EventCategories=["failure", "maintenance", "configuration change", "failover"]))
    s.add(EventSubscription("pg_events", SnsTopicArn="arn:aws:sns:x:1:t", SourceType="db-parameter-group",
                            SourceIds=[pg["Name"]], EventCategories=["configuration change"]))
    assert found("rds.instance-event-subscription") == ["main.other"]  # the subscription names only main.db
    assert found("rds.parameter-group-event-subscription") == []


def test_rule_secretsmanager_read_only_by_roles_that_name_it():
    from resources.iam import Role
    from resources.secretsmanager import Secret

    def plan_with(resource):
        plan = Plan(project="policy", env="dev")
        s = plan.stack("main")
        secret = s.add(Secret("db_password", Name="policy/dev/db"))
        target = secret["Arn"] if resource == "ref" else resource
        s.add(Role("reader", AssumeRolePolicyDocument={"Statement": []}, InlinePolicies={"read": {"Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": target}]}}))
        return plan

    rid = "secretsmanager.read-only-by-roles-that-name-it"
    [f] = [f for f in check.evaluate(plan_with("*")) if f.rule == rid]
    assert "main.reader" in f.message and f.address == "main.db_password"
    assert [f for f in check.evaluate(plan_with("ref")) if f.rule == rid] == []
    assert [f for f in check.evaluate(plan_with("arn:aws:secretsmanager:*:*:secret:other/*")) if f.rule == rid] == []


def test_waivers_need_a_reason_are_shown_and_leave_the_gate():
    with pytest.raises(PlanError, match="reason is mandatory"):
        Waiver("ec2.sg-no-http-from-anywhere", " ")
    plan = network("front", 80)
    findings = check.evaluate(plan)
    assert any(f.rule == "ec2.sg-no-http-from-anywhere" and not f.waived for f in findings)
    plan.stack("main").waive("ec2.sg-no-http-from-anywhere", "the listener on 80 only redirects to 443",
                             "main.front_in")
    [f] = [f for f in check.evaluate(plan) if f.rule == "ec2.sg-no-http-from-anywhere"]
    assert f.waived == "the listener on 80 only redirects to 443"
    assert f not in check.gate(check.evaluate(plan), "low")
    assert "waived: the listener on 80 only redirects to 443" in check.table(check.evaluate(plan), "high")
    plan.waive("no.such-rule", "typo")
    assert check.unknown_waivers(plan) == ["no.such-rule"]


def test_severity_gate():
    findings = check.evaluate(network("front", 80))
    assert {f.severity for f in check.gate(findings, "low")} >= {"medium"}
    assert all(f.severity == "critical" for f in check.gate(findings, "critical"))


def test_sarif_output_shape(aws):
    plan = install_plan("policy_sarif", lambda env: network("front", 5432))
    doc = json.loads(infra("check", "--plan", plan, "--env", "dev", "--format", "sarif", ok=None).output)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(res["ruleId"] == ids[res["ruleIndex"]] for res in run["results"])
    reach = [res for res in run["results"] if res["ruleId"] == "network.data-store-reachable-from-internet"]
    assert reach and reach[0]["level"] == "error"
    uri = reach[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("test_policy.py")  # where the plan declared the resource


def test_docs_security_md_lists_every_rule():
    text = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text()
    assert check.markdown() in text, "stale rule list: regenerate it with python -m orchestrator.check"


def test_sarif_validates_against_the_sarif_2_1_0_schema(aws):
    """tests/data/sarif-schema-2.1.0.json is OASIS's schema (2.1.0 rtm.5, as shipped by the npm package
    @microsoft/jest-sarif 1.0.0-beta.0, MIT)."""
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json").read_text())
    plan = install_plan("policy_sarif_schema", lambda env: network("front", 80))
    plan_obj = network("front", 80)
    plan_obj.stack("main").waive("ec2.sg-no-http-from-anywhere", "redirect only", "main.front_in")
    doc = json.loads(infra("check", "--plan", plan, "--env", "dev", "--format", "sarif", ok=None).output)
    jsonschema.validate(doc, schema)
    waived = check.sarif(check.evaluate(plan_obj), {"main.db": ("plans/x.py", 3)})
    jsonschema.validate(waived, schema)
    assert any(r.get("suppressions") for r in waived["runs"][0]["results"])
    bad = json.loads(json.dumps(doc))
    bad["runs"][0]["results"][0]["level"] = "severe"  # the validator really checks
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
