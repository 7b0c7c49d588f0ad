"""The policy rules across resources (graph=True) that tests/test_policy.py does not name: each on a small plan
that fails it and one that passes it; and no graph rule is left without a test. No AWS call."""

from __future__ import annotations

from pathlib import Path

from orchestrator import check
from orchestrator.model import Plan
from resources.ec2 import Eip, NatGateway, SecurityGroup, Subnet, Vpc
from resources.elbv2 import LoadBalancer
from resources.rds import DBInstance, DBParameterGroup
from resources.rules.edge import VIS, managed
from resources.wafv2 import WebACL, WebACLAssociation


def fired(plan: Plan, rule: str) -> list[str]:
    return [f.address for f in check.evaluate(plan) if f.rule == rule]


def vpc_plan() -> tuple[Plan, Vpc]:
    plan = Plan(project="policy", env="dev")
    return plan, plan.stack("main").add(Vpc("vpc", CidrBlock="10.0.0.0/16"))


def test_rule_ec2_sg_attached_needs_a_user_of_the_group():
    plan, vpc = vpc_plan()
    sg = plan.stack("main").add(SecurityGroup("db_sg", VpcId=vpc["VpcId"], Description="db"))
    assert fired(plan, "ec2.sg-attached") == ["main.db_sg"]
    plan.stack("main").add(DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                                      MasterUsername="app", VpcSecurityGroupIds=[sg["GroupId"]]))
    assert fired(plan, "ec2.sg-attached") == []


def test_rule_ec2_eip_attached_needs_a_nat_gateway():
    plan, vpc = vpc_plan()
    eip = plan.stack("main").add(Eip("eip"))
    assert fired(plan, "ec2.eip-attached") == ["main.eip"]
    sub = plan.stack("main").add(Subnet("pub", VpcId=vpc["VpcId"], CidrBlock="10.0.0.0/24",
                                        AvailabilityZone="ap-east-2a"))
    plan.stack("main").add(NatGateway("nat", SubnetId=sub["SubnetId"], AllocationId=eip["AllocationId"]))
    assert fired(plan, "ec2.eip-attached") == []


def test_rule_rds_force_ssl_reads_the_instance_parameter_group():
    def plan_with(force: int) -> Plan:
        plan = Plan(project="policy", env="dev")
        pg = plan.stack("main").add(DBParameterGroup("pg", Family="postgres16",
                                                     Parameters={"rds.force_ssl": force}))
        plan.stack("main").add(DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                                          MasterUsername="app", DBParameterGroupName=pg["Name"]))
        return plan

    assert fired(plan_with(0), "rds.force-ssl") == ["main.db"]
    assert fired(plan_with(1), "rds.force-ssl") == []


def test_rule_elbv2_waf_needs_an_association_with_the_load_balancer():
    plan = Plan(project="policy", env="dev")
    s = plan.stack("main")
    alb = s.add(LoadBalancer("alb", Subnets=["subnet-1", "subnet-2"]))
    assert fired(plan, "elbv2.waf") == ["main.alb"]
    acl = s.add(WebACL("acl", VisibilityConfig=VIS, Rules=[managed("AWSManagedRulesCommonRuleSet")]))
    s.add(WebACLAssociation("assoc", WebACLArn=acl["WebACLArn"], ResourceArn=alb["LoadBalancerArn"]))
    assert fired(plan, "elbv2.waf") == []


def test_every_graph_rule_is_named_by_a_test():
    here = Path(__file__).resolve().parent
    text = "".join(p.read_text() for p in here.glob("test_*.py"))
    untested = [r.id for r in check.rules().values() if r.graph and f'"{r.id}"' not in text
                and f"'{r.id}'" not in text]
    assert untested == [], f"graph rules with no test naming them: {untested}"


def test_rule_wafv2_logging_needs_a_logging_configuration():
    from resources.wafv2 import LoggingConfiguration

    plan = Plan(project="policy", env="dev")
    s = plan.stack("main")
    acl = s.add(WebACL("acl", VisibilityConfig=VIS, Rules=[managed("AWSManagedRulesCommonRuleSet")]))
    assert fired(plan, "wafv2.logging") == ["main.acl"]
    s.add(LoggingConfiguration("acl_logs", ResourceArn=acl["WebACLArn"],
                               LogDestinationConfigs=["arn:aws:logs:ap-east-2:1:log-group:aws-waf-logs-x"]))
    assert fired(plan, "wafv2.logging") == []


def test_rule_secretsmanager_rotation_needs_a_schedule_of_90_days_at_most():
    from resources.secretsmanager import RotationSchedule, Secret

    def plan_with(days: int | None) -> Plan:
        plan = Plan(project="policy", env="dev")
        secret = plan.stack("main").add(Secret("app_db", Name="database/app-user"))
        if days is not None:
            plan.stack("main").add(RotationSchedule(
                "app_db_rotation", SecretId=secret["Arn"], RotationLambdaARN="arn:aws:lambda:x:1:function:rotate",
                RotationRules={"AutomaticallyAfterDays": days}))
        return plan

    assert fired(plan_with(None), "secretsmanager.rotation") == ["main.app_db"]
    assert fired(plan_with(365), "secretsmanager.rotation") == ["main.app_db"]
    assert fired(plan_with(30), "secretsmanager.rotation") == []
