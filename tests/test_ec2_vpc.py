"""Round trip of ec2.Vpc on moto: create, read, update, find, delete, gone."""

from resources.ec2 import Vpc


def test_vpc_round_trip(aws):
    vpc = Vpc("vpc", CidrBlock="10.0.0.0/16")
    vpc.stack = "main"
    ctx = aws.ctx("vpc")
    vpc_id, out = vpc.create(ctx, dict(vpc.properties))
    ec2 = aws.client("ec2")
    seen = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert seen["CidrBlock"] == "10.0.0.0/16"
    tags = {t["Key"]: t["Value"] for t in seen["Tags"]}
    assert tags["infra:address"] == "main.vpc" and tags["Name"] == "genai-demo-test-vpc"
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    assert out["DefaultSecurityGroupId"].startswith("sg-")

    assert vpc.read(ctx, vpc_id)["EnableDnsHostnames"] is True
    new = dict(vpc.properties, EnableDnsHostnames=False)
    vpc.update(ctx, vpc_id, dict(vpc.properties), new)
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is False

    assert vpc.find(ctx)[0] == vpc_id
    vpc.delete(ctx, vpc_id)
    vpc.delete(ctx, vpc_id)  # idempotent
    assert vpc.read(ctx, vpc_id) is None
    assert vpc.find(ctx) is None
