"""Round trips of wafv2.WebACL and wafv2.WebACLAssociation on moto."""

from __future__ import annotations

import pytest

from core.errors import AwsError, PlanError
from resources.base import Ref
from resources.wafv2 import WebACL, WebACLAssociation, parse_acl_arn
from tests.helpers import ec2_visible


def vis(name):
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def managed(name, priority, override="Count"):
    return {"Name": name, "Priority": priority,
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
            "OverrideAction": {override: {}}, "VisibilityConfig": vis(name)}


RATE = {"Name": "rate-limit", "Priority": 4,
        "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP", "EvaluationWindowSec": 300}},
        "Action": {"Block": {}}, "VisibilityConfig": vis("rate-limit")}


def make_acl(override="Count"):
    acl = WebACL("waf", VisibilityConfig=vis("genai-demo-test-waf"), Rules=[
        RATE, managed("AWSManagedRulesCommonRuleSet", 1, override),
        managed("AWSManagedRulesKnownBadInputsRuleSet", 2, override),
        managed("AWSManagedRulesSQLiRuleSet", 3, override)])
    acl.stack = "main"
    return acl


def test_web_acl_round_trip(aws):
    acl = make_acl()
    ctx = aws.ctx("waf")
    arn, out = acl.create(ctx, dict(acl.properties))
    waf = aws.client("wafv2")
    scope, name, acl_id = parse_acl_arn(arn)
    assert (scope, name) == ("REGIONAL", "genai-demo-test-waf")
    seen = waf.get_web_acl(Name=name, Scope=scope, Id=acl_id)["WebACL"]
    assert seen["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in seen["Rules"]}
    assert rules["AWSManagedRulesSQLiRuleSet"]["OverrideAction"] == {"Count": {}}
    assert rules["rate-limit"]["Statement"]["RateBasedStatement"]["Limit"] == 2000
    assert rules["rate-limit"]["Action"] == {"Block": {}}
    tags = {t["Key"]: t["Value"] for t in waf.list_tags_for_resource(ResourceARN=arn)["TagInfoForResource"]["TagList"]}
    assert tags["infra:address"] == "main.waf"
    assert out["WebACLArn"] == arn and out["WebACLId"] == acl_id

    # Rules are held in priority order; a read compares equal to the declaration.
    assert [r["Priority"] for r in acl.properties["Rules"]] == [1, 2, 3, 4]
    assert acl.read(ctx, arn) == acl.properties

    # Production blocks what dev only counts: an in-place update under the lock token.
    before = waf.get_web_acl(Name=name, Scope=scope, Id=acl_id)["LockToken"]
    prod = make_acl("None")
    acl.update(ctx, arn, dict(acl.properties), dict(prod.properties))
    after = waf.get_web_acl(Name=name, Scope=scope, Id=acl_id)
    assert after["LockToken"] != before
    assert {r["Name"]: r.get("OverrideAction") for r in after["WebACL"]["Rules"]}["AWSManagedRulesCommonRuleSet"] \
        == {"None": {}}
    assert acl.read(ctx, arn)["Rules"] == prod.properties["Rules"]

    assert acl.find(ctx)[0] == arn
    assert acl.find(aws.ctx("other")) is None
    acl.delete(ctx, arn)
    acl.delete(ctx, arn)
    assert acl.read(ctx, arn) is None
    assert acl.find(ctx) is None
    assert waf.list_web_acls(Scope="REGIONAL")["WebACLs"] == []


@pytest.mark.sandbox_rules_off("waf-unavailable-entity")  # calls the type directly, without the retry policy
def test_association_round_trip(aws):
    ec2, elb, waf = aws.client("ec2"), aws.client("elbv2"), aws.client("wafv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])  # the next calls name it (ec2-consistency)
    azs = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(azs)]
    lb = elb.create_load_balancer(Name="alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    acls = [waf.create_web_acl(Name=n, Scope="REGIONAL", DefaultAction={"Allow": {}},
                               VisibilityConfig=vis(n))["Summary"]["ARN"] for n in ("one", "two")]

    assoc = WebACLAssociation("waf_alb", WebACLArn=acls[0], ResourceArn=lb)
    assoc.stack = "main"
    ctx = aws.ctx("waf_alb")
    pid, out = assoc.create(ctx, dict(assoc.properties))
    assert pid == lb and out == {"ResourceArn": lb, "WebACLArn": acls[0]}
    assert waf.get_web_acl_for_resource(ResourceArn=lb)["WebACL"]["ARN"] == acls[0]
    assert assoc.read(ctx, pid) == assoc.properties

    assoc.update(ctx, pid, dict(assoc.properties), dict(assoc.properties, WebACLArn=acls[1]))
    assert waf.get_web_acl_for_resource(ResourceArn=lb)["WebACL"]["ARN"] == acls[1]
    assert assoc.read(ctx, pid)["WebACLArn"] == acls[1]

    moved = WebACLAssociation("waf_alb", WebACLArn=acls[1], ResourceArn=lb)
    assert moved.find(ctx) == (lb, {"ResourceArn": lb, "WebACLArn": acls[1]})
    assert assoc.find(ctx) is None  # associated, but not with the ACL this declaration names
    moved.delete(ctx, pid)
    moved.delete(ctx, pid)
    assert "WebACL" not in waf.get_web_acl_for_resource(ResourceArn=lb)
    assert moved.read(ctx, pid) is None
    assert moved.find(ctx) is None

    # The association waiter really checks: with nothing associated it gives up.
    with pytest.raises(AwsError, match="WebACLAssociated"):
        aws.ctx("waf_alb", timeouts={"create": 0.05}).wait("wafv2", "WebACLAssociated", ResourceArn=lb)


def _alb_and_acl(aws):
    ec2, elb, waf = aws.client("ec2"), aws.client("elbv2"), aws.client("wafv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])
    azs = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(azs)]
    lb = elb.create_load_balancer(Name="alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    acl = waf.create_web_acl(Name="one", Scope="REGIONAL", DefaultAction={"Allow": {}},
                             VisibilityConfig=vis("one"))["Summary"]["ARN"]
    return lb, acl


def test_a_resumed_create_finds_the_association_it_made_through_the_resolved_refs(aws):
    """The plan names the load balancer and the ACL by Ref; a run killed after AssociateWebACL, before the
    record, resumes with find(): it must read the ARNs as resolved for the run (ctx.props) and adopt."""
    aws.rules.off("waf-unavailable-entity")  # the new load balancer's WAF lag is another rule's test
    lb, acl = _alb_and_acl(aws)
    aws.client("wafv2").associate_web_acl(WebACLArn=acl, ResourceArn=lb)  # what the killed run did
    assoc = WebACLAssociation("waf_alb", WebACLArn=Ref("main.waf", "Arn"), ResourceArn=Ref("main.alb", "Arn"))
    assoc.stack = "main"
    ctx = aws.ctx("waf_alb", props={"WebACLArn": acl, "ResourceArn": lb})
    assert assoc.find(ctx) == (lb, {"ResourceArn": lb, "WebACLArn": acl})
    assert assoc.find(aws.ctx("waf_alb")) is None  # declared Refs alone: nothing to look up


def test_one_web_acl_per_resource_so_one_disassociate_clears_it(aws):
    """Associating the same ACL again changes nothing (moto listed the resource twice, and one
    DisassociateWebACL then left it associated: the delete's waiter waited forever)."""
    aws.rules.off("waf-unavailable-entity")
    waf = aws.client("wafv2")
    lb, acl = _alb_and_acl(aws)
    waf.associate_web_acl(WebACLArn=acl, ResourceArn=lb)
    waf.associate_web_acl(WebACLArn=acl, ResourceArn=lb)
    assert waf.list_resources_for_web_acl(WebACLArn=acl, ResourceType="APPLICATION_LOAD_BALANCER")[
        "ResourceArns"] == [lb]
    waf.disassociate_web_acl(ResourceArn=lb)
    assert "WebACL" not in waf.get_web_acl_for_resource(ResourceArn=lb)


def test_bad_rules_fail_at_definition():
    with pytest.raises(PlanError, match="unknown property"):
        WebACL("w", VisibilityConfig=vis("w"), Rule=[])
    with pytest.raises(PlanError, match="must be list"):
        WebACL("w", VisibilityConfig=vis("w"), Rules={})
    with pytest.raises(PlanError, match="OverrideAction"):  # AWS: managed groups take OverrideAction
        bad = dict(managed("AWSManagedRulesSQLiRuleSet", 1), Action={"Block": {}})
        bad.pop("OverrideAction")
        WebACL("w", VisibilityConfig=vis("w"), Rules=[bad])
    with pytest.raises(PlanError, match="not OverrideAction"):
        WebACL("w", VisibilityConfig=vis("w"), Rules=[dict(RATE, OverrideAction={"None": {}})])
    with pytest.raises(PlanError, match="Limit"):
        WebACL("w", VisibilityConfig=vis("w"), Rules=[
            dict(RATE, Statement={"RateBasedStatement": {"Limit": 5, "AggregateKeyType": "IP"}})])
    with pytest.raises(PlanError, match="unique"):
        WebACL("w", VisibilityConfig=vis("w"), Rules=[managed("A", 1), managed("B", 1)])
    with pytest.raises(PlanError, match="MetricName"):
        WebACL("w", VisibilityConfig=vis("has spaces"))
    with pytest.raises(PlanError, match="VisibilityConfig"):
        WebACL("w")
    with pytest.raises(PlanError, match="Scope"):
        WebACL("w", VisibilityConfig=vis("w"), Scope="GLOBAL")
    with pytest.raises(PlanError, match="ResourceArn"):
        WebACLAssociation("a", WebACLArn="arn:acl")
