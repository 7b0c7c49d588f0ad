"""Round trips of the elbv2 types on moto: load balancer, target group, listener, listener rule."""

from __future__ import annotations

import pytest

from core.errors import PlanError
from resources.elbv2 import TLS13_POLICY, Listener, ListenerRule, LoadBalancer, TargetGroup
from tests.helpers import ec2_visible, issued_certificate


@pytest.fixture
def net(aws):
    """A VPC with two public subnets in two AZs and two security groups, made with plain boto3."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])  # the next calls name it (ec2-consistency)
    azs = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(azs)]
    sgs = [ec2.create_security_group(GroupName=f"alb-{i}", Description="alb", VpcId=vpc)["GroupId"] for i in (1, 2)]
    return {"vpc": vpc, "subnets": subnets, "sgs": sgs}


def add(r, stack="main"):
    r.stack = stack
    return r


def tags_of(elb, arn):
    return {t["Key"]: t["Value"] for t in elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]}


def make_lb(aws, net):
    lb = add(LoadBalancer("alb", Subnets=net["subnets"], SecurityGroups=[net["sgs"][0]],
                          Attributes={"deletion_protection.enabled": False}))
    ctx = aws.ctx("alb")
    arn, out = lb.create(ctx, dict(lb.properties))
    return lb, ctx, arn, out


def make_tg(aws, net, name="backend"):
    tg = add(TargetGroup(name, Port=8080, VpcId=net["vpc"], HealthCheckPath="/health",
                         Attributes={"deregistration_delay.timeout_seconds": 30}))
    ctx = aws.ctx(name)
    arn, out = tg.create(ctx, dict(tg.properties))
    return tg, ctx, arn, out


def test_load_balancer_round_trip(aws, net):
    lb, ctx, arn, out = make_lb(aws, net)
    elb = aws.client("elbv2")
    seen = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert seen["LoadBalancerName"] == "genai-demo-test-alb"
    assert seen["Scheme"] == "internet-facing" and seen["Type"] == "application"
    assert seen["State"]["Code"] == "active"
    assert sorted(z["SubnetId"] for z in seen["AvailabilityZones"]) == sorted(net["subnets"])
    assert seen["SecurityGroups"] == [net["sgs"][0]]
    assert tags_of(elb, arn)["infra:address"] == "main.alb"
    assert out["LoadBalancerFullName"] == "app/genai-demo-test-alb/" + arn.rsplit("/", 1)[1]
    assert out["DNSName"] == seen["DNSName"] and out["CanonicalHostedZoneId"] == seen["CanonicalHostedZoneId"]

    assert lb.read(ctx, arn) == {
        "Subnets": net["subnets"], "SecurityGroups": [net["sgs"][0]], "Scheme": "internet-facing",
        "Type": "application", "IpAddressType": "ipv4", "Attributes": {"deletion_protection.enabled": "false"},
    }

    new = dict(lb.properties, SecurityGroups=net["sgs"],
               Attributes={"deletion_protection.enabled": "true", "idle_timeout.timeout_seconds": "120"})
    lb.update(ctx, arn, dict(lb.properties), new)
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}
    assert attrs["deletion_protection.enabled"] == "true" and attrs["idle_timeout.timeout_seconds"] == "120"
    assert sorted(elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["SecurityGroups"]) \
        == sorted(net["sgs"])

    assert lb.find(ctx)[0] == arn
    assert lb.find(aws.ctx("other")) is None
    lb.delete(ctx, arn)  # deletion protection is lifted first: the plan decided to delete
    lb.delete(ctx, arn)
    assert lb.read(ctx, arn) is None
    assert lb.find(ctx) is None
    assert elb.describe_load_balancers()["LoadBalancers"] == []


def test_target_group_round_trip(aws, net):
    tg, ctx, arn, out = make_tg(aws, net)
    elb = aws.client("elbv2")
    seen = elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
    assert (seen["TargetType"], seen["Protocol"], seen["Port"], seen["HealthCheckPath"]) == ("ip", "HTTP", 8080,
                                                                                              "/health")
    assert tags_of(elb, arn)["infra:address"] == "main.backend"
    attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}
    assert attrs["deregistration_delay.timeout_seconds"] == "30"
    assert out["TargetGroupFullName"] == "targetgroup/genai-demo-test-backend/" + arn.rsplit("/", 1)[1]

    assert tg.read(ctx, arn) == {k: v for k, v in tg.properties.items()}

    new = dict(tg.properties, HealthCheckPath="/actuator/health", HealthCheckIntervalSeconds=15,
               Attributes={"deregistration_delay.timeout_seconds": "10"})
    tg.update(ctx, arn, dict(tg.properties), new)
    seen = elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
    assert seen["HealthCheckPath"] == "/actuator/health" and seen["HealthCheckIntervalSeconds"] == 15
    attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}
    assert attrs["deregistration_delay.timeout_seconds"] == "10"

    assert tg.find(ctx)[0] == arn
    tg.delete(ctx, arn)
    tg.delete(ctx, arn)
    assert tg.read(ctx, arn) is None
    assert tg.find(ctx) is None


def test_listeners_round_trip(aws, net):
    _, _, lb_arn, _ = make_lb(aws, net)
    _, _, tg_arn, _ = make_tg(aws, net)
    cert = issued_certificate(aws, "dev.example.com")  # a listener refuses one not ISSUED
    elb = aws.client("elbv2")

    https = add(Listener("https", LoadBalancerArn=lb_arn, Protocol="HTTPS", Port=443,
                         Certificates=[{"CertificateArn": cert}],
                         DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}]))
    http = add(Listener("http", LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]))
    hctx, rctx = aws.ctx("https"), aws.ctx("http")
    https_arn, out = https.create(hctx, dict(https.properties))
    http_arn, _ = http.create(rctx, dict(http.properties))
    assert out == {"ListenerArn": https_arn}

    seen = {li["Port"]: li for li in elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]}
    assert seen[443]["Protocol"] == "HTTPS" and seen[443]["SslPolicy"] == TLS13_POLICY
    assert seen[443]["Certificates"][0]["CertificateArn"] == cert
    assert seen[443]["DefaultActions"][0]["TargetGroupArn"] == tg_arn
    redirect = seen[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS" and redirect["RedirectConfig"]["Port"] == "443"
    assert tags_of(elb, https_arn)["infra:address"] == "main.https"

    # What AWS reports reads back exactly as declared: a second plan sees no change.
    assert https.read(hctx, https_arn) == https.properties
    assert http.read(rctx, http_arn) == http.properties

    maintenance = [{"Type": "fixed-response",
                    "FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/plain", "MessageBody": "down"}}]
    cert2 = issued_certificate(aws, "prod.example.com")
    https.update(hctx, https_arn, dict(https.properties), dict(
        https.properties, DefaultActions=maintenance, SslPolicy="ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        Certificates=[{"CertificateArn": cert2}]))
    seen = elb.describe_listeners(ListenerArns=[https_arn])["Listeners"][0]
    action = seen["DefaultActions"][0]
    assert action["Type"] == "fixed-response" and action["FixedResponseConfig"]["StatusCode"] == "503"
    assert seen["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
    assert seen["Certificates"] == [{"CertificateArn": cert2}]

    assert https.find(hctx)[0] == https_arn
    assert http.find(rctx)[0] == http_arn
    for li, ctx, arn in ((https, hctx, https_arn), (http, rctx, http_arn)):
        li.delete(ctx, arn)
        li.delete(ctx, arn)
        assert li.read(ctx, arn) is None
        assert li.find(ctx) is None


def test_listener_rule_round_trip(aws, net):
    _, _, lb_arn, _ = make_lb(aws, net)
    _, _, tg_arn, _ = make_tg(aws, net)
    elb = aws.client("elbv2")
    listener_arn = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]

    rule = add(ListenerRule("api", ListenerArn=listener_arn, Priority=10,
                            Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                            Actions=[{"Type": "forward", "TargetGroupArn": tg_arn}]))
    ctx = aws.ctx("api")
    arn, out = rule.create(ctx, dict(rule.properties))
    assert out == {"RuleArn": arn}
    seen = elb.describe_rules(RuleArns=[arn])["Rules"][0]
    assert seen["Priority"] == "10"
    assert seen["Conditions"][0]["Field"] == "path-pattern"
    assert seen["Actions"][0]["TargetGroupArn"] == tg_arn
    assert tags_of(elb, arn)["infra:address"] == "main.api"
    assert rule.properties["Conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}]
    assert rule.read(ctx, arn) == rule.properties

    new = dict(rule.properties, Priority=20,
               Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/v2/*"]}}])
    rule.update(ctx, arn, dict(rule.properties), new)
    seen = elb.describe_rules(RuleArns=[arn])["Rules"][0]
    assert seen["Priority"] == "20"
    assert seen["Conditions"][0]["PathPatternConfig"]["Values"] == ["/api/*", "/v2/*"]

    assert rule.find(ctx)[0] == arn
    rule.ghost("api", "main")  # find also works without the listener known: walks every listener
    assert ListenerRule.ghost("api", "main").find(ctx)[0] == arn
    rule.delete(ctx, arn)
    rule.delete(ctx, arn)
    assert rule.read(ctx, arn) is None
    assert rule.find(ctx) is None
    # Once the rule is gone the target group is free to go.
    elb.delete_listener(ListenerArn=listener_arn)
    elb.delete_target_group(TargetGroupArn=tg_arn)


def test_bad_inputs_fail_at_definition():
    fwd = [{"Type": "forward", "TargetGroupArn": "arn:tg"}]
    with pytest.raises(PlanError, match="unknown property"):
        LoadBalancer("alb", Subnets=["a", "b"], Subnet="a")
    with pytest.raises(PlanError, match="must be list"):
        LoadBalancer("alb", Subnets="subnet-1")
    with pytest.raises(PlanError, match="two AZs"):
        LoadBalancer("alb", Subnets=["subnet-1"])
    with pytest.raises(PlanError, match="Name"):
        LoadBalancer("alb", Subnets=["a", "b"], Name="x" * 33)
    with pytest.raises(PlanError, match="smaller than"):
        TargetGroup("tg", Port=8080, VpcId="vpc-1", HealthCheckTimeoutSeconds=30, HealthCheckIntervalSeconds=30)
    with pytest.raises(PlanError, match="must be int"):
        TargetGroup("tg", Port="8080", VpcId="vpc-1")
    with pytest.raises(PlanError, match="needs Certificates"):
        Listener("l", LoadBalancerArn="arn:lb", Protocol="HTTPS", Port=443, DefaultActions=fwd)
    with pytest.raises(PlanError, match="only to HTTPS"):
        Listener("l", LoadBalancerArn="arn:lb", Protocol="HTTP", Port=80, SslPolicy=TLS13_POLICY,
                 DefaultActions=fwd)
    with pytest.raises(PlanError, match="HTTP_301"):
        Listener("l", LoadBalancerArn="arn:lb", Protocol="HTTP", Port=80,
                 DefaultActions=[{"Type": "redirect", "RedirectConfig": {"Port": "443"}}])
    with pytest.raises(PlanError, match="condition"):
        ListenerRule("r", ListenerArn="arn:l", Priority=1, Conditions=[], Actions=fwd)
    with pytest.raises(PlanError, match="Priority"):
        ListenerRule("r", ListenerArn="arn:l", Priority=0, Conditions=[{"Field": "path-pattern", "Values": ["/"]}],
                     Actions=fwd)
    https = Listener("l", LoadBalancerArn="arn:lb", Protocol="HTTPS", Port=443,
                     Certificates=[{"CertificateArn": "arn:c"}], DefaultActions=fwd)
    assert https.properties["SslPolicy"] == TLS13_POLICY
