"""Round trips of ec2.SecurityGroup and ec2.SecurityGroupRule on moto."""

import pytest

from core.errors import PlanError
from resources.ec2 import SecurityGroup, SecurityGroupRule
from tests.helpers import ec2_visible

pytestmark = pytest.mark.usefixtures("short_ec2_window")  # raw set-up waits out a short window

def _declare(cls, name, **props):
    r = cls(name, **props)
    r.stack = "main"
    return r


def _rules(ec2, gid):
    return ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]


def _has_default_egress(ec2, gid):
    return any(r["IsEgress"] and r["IpProtocol"] == "-1" and r.get("CidrIpv4") == "0.0.0.0/0"
               for r in _rules(ec2, gid))


def test_security_group_round_trip(aws):
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc_id])
    sg = _declare(SecurityGroup, "alb_sg", VpcId=vpc_id, Description="ALB", RevokeDefaultEgress=True)
    ctx = aws.ctx("alb_sg")
    gid, out = sg.create(ctx, dict(sg.properties))
    seen = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    assert seen["GroupName"] == "genai-demo-test-alb-sg" and seen["VpcId"] == vpc_id
    assert {t["Key"]: t["Value"] for t in seen["Tags"]}["infra:address"] == "main.alb_sg"
    assert seen["IpPermissionsEgress"] == []  # AWS's allow-all egress was revoked
    assert out == {"GroupId": gid, "GroupName": "genai-demo-test-alb-sg", "VpcId": vpc_id}
    assert sg.read(ctx, gid) == dict(sg.properties)

    sg.update(ctx, gid, dict(sg.properties), dict(sg.properties, RevokeDefaultEgress=False))
    assert _has_default_egress(ec2, gid)
    assert sg.read(ctx, gid)["RevokeDefaultEgress"] is False
    sg.update(ctx, gid, dict(sg.properties, RevokeDefaultEgress=False), dict(sg.properties))
    assert not _has_default_egress(ec2, gid)
    assert {"Description", "VpcId"} <= SecurityGroup.replace_on

    assert sg.find(ctx)[0] == gid
    sg.delete(ctx, gid)
    sg.delete(ctx, gid)
    assert sg.read(ctx, gid) is None
    assert sg.find(ctx) is None


def test_security_group_keeps_default_egress_unless_told(aws):
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc_id])
    sg = _declare(SecurityGroup, "app_sg", VpcId=vpc_id)
    gid, _ = sg.create(aws.ctx("app_sg"), dict(sg.properties))
    assert _has_default_egress(ec2, gid)
    with pytest.raises(PlanError, match="RevokeDefaultEgress must be bool"):
        SecurityGroup("s", VpcId="vpc-1", RevokeDefaultEgress="true")


def test_security_group_rule_round_trip(aws):
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc_id])
    alb = ec2.create_security_group(GroupName="alb", Description="d", VpcId=vpc_id)["GroupId"]
    app = ec2.create_security_group(GroupName="app", Description="d", VpcId=vpc_id)["GroupId"]
    ec2_visible(ec2, GroupIds=[alb, app])
    ec2.revoke_security_group_egress(GroupId=alb, IpPermissions=[{"IpProtocol": "-1",
                                                                  "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    # Ingress from a CIDR.
    https = _declare(SecurityGroupRule, "alb_in_https", GroupId=alb, Direction="ingress", IpProtocol="tcp",
                     FromPort=443, ToPort=443, CidrIp="0.0.0.0/0", Description="HTTPS from anywhere")
    hctx = aws.ctx("alb_in_https")
    hid, hout = https.create(hctx, dict(https.properties))
    assert hid.startswith("sgr-") and hout == {"SecurityGroupRuleId": hid, "GroupId": alb}
    seen = ec2.describe_security_group_rules(SecurityGroupRuleIds=[hid])["SecurityGroupRules"][0]
    assert (seen["IsEgress"], seen["FromPort"], seen["CidrIpv4"], seen["Description"]) == \
        (False, 443, "0.0.0.0/0", "HTTPS from anywhere")
    assert {t["Key"]: t["Value"] for t in seen["Tags"]}["infra:address"] == "main.alb_in_https"
    assert https.read(hctx, hid) == dict(https.properties)

    # Egress to another group (defect 1: the ALB must reach the app on 8080).
    to_app = _declare(SecurityGroupRule, "alb_out_app", GroupId=alb, Direction="egress", IpProtocol="tcp",
                      FromPort=8080, ToPort=8080, SourceSecurityGroupId=app)
    ctx = aws.ctx("alb_out_app")
    rid, _ = to_app.create(ctx, dict(to_app.properties))
    egress = ec2.describe_security_groups(GroupIds=[alb])["SecurityGroups"][0]["IpPermissionsEgress"]
    assert [(p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]]) for p in egress] == [(8080, [app])]
    assert to_app.read(ctx, rid) == dict(to_app.properties)

    new = dict(to_app.properties, FromPort=8081, ToPort=8081, Description="app port")
    to_app.update(ctx, rid, dict(to_app.properties), new)
    seen = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]
    assert (seen["FromPort"], seen["ToPort"], seen["Description"]) == (8081, 8081, "app port")
    assert to_app.read(ctx, rid) == new
    assert {"GroupId", "Direction", "SourceSecurityGroupId"} <= SecurityGroupRule.replace_on
    https.update(hctx, hid, dict(https.properties), dict(https.properties, CidrIp="10.0.0.0/8"))
    assert https.read(hctx, hid)["CidrIp"] == "10.0.0.0/8"

    assert to_app.find(ctx)[0] == rid
    assert https.find(hctx)[0] == hid
    to_app.delete(ctx, rid)
    to_app.delete(ctx, rid)
    assert to_app.read(ctx, rid) is None and to_app.find(ctx) is None
    assert ec2.describe_security_groups(GroupIds=[alb])["SecurityGroups"][0]["IpPermissionsEgress"] == []
    https.delete(hctx, hid)
    assert https.read(hctx, hid) is None and https.find(hctx) is None


def test_security_group_rule_rejects_bad_inputs():
    base = {"GroupId": "sg-1", "Direction": "ingress", "IpProtocol": "tcp", "FromPort": 1, "ToPort": 2}
    with pytest.raises(PlanError, match="exactly one of CidrIp, SourceSecurityGroupId"):
        SecurityGroupRule("r", **base)
    with pytest.raises(PlanError, match="exactly one of CidrIp, SourceSecurityGroupId"):
        SecurityGroupRule("r", **base, CidrIp="10.0.0.0/8", SourceSecurityGroupId="sg-2")
    with pytest.raises(PlanError, match="Direction"):
        SecurityGroupRule("r", **dict(base, Direction="inbound"), CidrIp="10.0.0.0/8")
    with pytest.raises(PlanError, match="needs FromPort and ToPort"):
        SecurityGroupRule("r", GroupId="sg-1", Direction="ingress", IpProtocol="tcp", CidrIp="10.0.0.0/8")
    with pytest.raises(PlanError, match="FromPort must be int"):
        SecurityGroupRule("r", **dict(base, FromPort="443"), CidrIp="10.0.0.0/8")
    with pytest.raises(PlanError, match="above ToPort"):
        SecurityGroupRule("r", **dict(base, FromPort=9), CidrIp="10.0.0.0/8")
    with pytest.raises(PlanError, match="IpProtocol"):
        SecurityGroupRule("r", **dict(base, IpProtocol="http"), CidrIp="10.0.0.0/8")
    with pytest.raises(PlanError, match="not a valid CIDR"):
        SecurityGroupRule("r", **base, CidrIp="10.0.0.1/8")
