"""ec2.Vpc RestrictDefaultSecurityGroup on the sandbox: create revokes the default group's rules, read sees
rules added behind the tool's back, update revokes them again or gives AWS's own two rules back. (The policy
rule ec2.default-sg-restricted that asks for it runs its examples in tests/test_policy.py.)"""

from __future__ import annotations

import pytest

from resources.ec2 import Vpc

pytestmark = pytest.mark.usefixtures("short_ec2_window")


def default_sg(ec2, vpc_id):
    [sg] = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                 {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    return sg


def test_restrict_default_security_group_create_read_update(aws):
    vpc = Vpc("vpc", CidrBlock="10.0.0.0/16", RestrictDefaultSecurityGroup=True)
    vpc.stack = "main"
    ctx = aws.ctx("vpc")
    ec2 = aws.client("ec2")
    vpc_id, out = vpc.create(ctx, dict(vpc.properties))
    sg = default_sg(ec2, vpc_id)
    assert sg["GroupId"] == out["DefaultSecurityGroupId"]
    assert sg["IpPermissions"] == [] and sg["IpPermissionsEgress"] == []
    assert vpc.read(ctx, vpc_id) == dict(vpc.properties)

    # Someone opens the default group by hand: read reports the drift, update closes it again.
    ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    drifted = vpc.read(ctx, vpc_id)
    assert drifted["RestrictDefaultSecurityGroup"] is False
    vpc.update(ctx, vpc_id, drifted, dict(vpc.properties))
    assert default_sg(ec2, vpc_id)["IpPermissions"] == []

    # Un-restricting gives back AWS's rules: all from the group itself, all egress.
    vpc.update(ctx, vpc_id, dict(vpc.properties), dict(vpc.properties, RestrictDefaultSecurityGroup=False))
    sg = default_sg(ec2, vpc_id)
    assert [p["UserIdGroupPairs"][0]["GroupId"] for p in sg["IpPermissions"]] == [sg["GroupId"]]
    assert sg["IpPermissionsEgress"][0]["IpRanges"][0]["CidrIp"] == "0.0.0.0/0"
    assert vpc.read(ctx, vpc_id)["RestrictDefaultSecurityGroup"] is False
    vpc.delete(ctx, vpc_id)


def test_an_unrestricted_vpc_keeps_aws_default_rules(aws):
    vpc = Vpc("vpc", CidrBlock="10.1.0.0/16")
    vpc.stack = "main"
    ctx = aws.ctx("vpc")
    vpc_id, _ = vpc.create(ctx, dict(vpc.properties))
    assert default_sg(aws.client("ec2"), vpc_id)["IpPermissionsEgress"]
    assert vpc.read(ctx, vpc_id) == dict(vpc.properties)
    vpc.delete(ctx, vpc_id)
