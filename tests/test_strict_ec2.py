"""Strict EC2 (sandbox/extensions/strict_ec2.py): new VPC-family ids are not visible at once, as in AWS.

Raw boto3 first (the rule answers as AWS does), then the tool: its creates wait
for their own new ids, retry a new parent's not-found, and still read a
resource deleted later as gone.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from orchestrator.apply import RetryPolicy
from resources import ec2 as r
from tests.helpers import declare, ec2_visible

# Real seconds: long enough that a loaded machine still makes the next call inside it; the tests then wait
# for visibility by polling (tests.helpers.ec2_visible), not by sleeping the whole window.
WINDOW = 1.5


def refused(call, code: str, rid: str, message: str) -> None:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response["Error"]
    assert (err["Code"], err["Message"]) == (code, message.format(rid))
    assert rid in err["Message"]


def settle(ec2, **ids) -> None:
    ec2_visible(ec2, **ids)


@pytest.fixture
def ec2(aws):
    aws.rules.configure("ec2-consistency", seconds=WINDOW)
    aws.clients.client("ec2")  # the tool's clients, built before any window opens (models load slowly)
    _ = aws.clients.account_id
    return aws.client("ec2")


def test_rule_ec2_consistency_vpc(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    msg = "The vpc ID '{}' does not exist"
    refused(lambda: ec2.describe_vpcs(VpcIds=[vpc]), "InvalidVpcID.NotFound", vpc, msg)
    refused(lambda: ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24"), "InvalidVpcID.NotFound", vpc, msg)
    refused(lambda: ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True}),
            "InvalidVpcID.NotFound", vpc, msg)
    # A filter answers (AWS lists what it sees), and the default VPC, not new, is visible.
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"]
    default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    assert ec2.describe_vpcs(VpcIds=[default])["Vpcs"]
    settle(ec2, VpcIds=[vpc])
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc
    assert ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["VpcId"] == vpc


def test_rule_ec2_consistency_subnet(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    settle(ec2, VpcIds=[vpc])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    msg = "The subnet ID '{}' does not exist"
    refused(lambda: ec2.describe_subnets(SubnetIds=[subnet]), "InvalidSubnetID.NotFound", subnet, msg)
    refused(lambda: ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True}),
            "InvalidSubnetID.NotFound", subnet, msg)
    settle(ec2, SubnetIds=[subnet])
    assert ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["SubnetId"] == subnet
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})


def test_rule_ec2_consistency_route_table(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    settle(ec2, VpcIds=[vpc])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    msg = "The routeTable ID '{}' does not exist"
    refused(lambda: ec2.describe_route_tables(RouteTableIds=[rt]), "InvalidRouteTableID.NotFound", rt, msg)
    refused(lambda: ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw),
            "InvalidRouteTableID.NotFound", rt, msg)
    settle(ec2, RouteTableIds=[rt], SubnetIds=[subnet])
    assert ec2.describe_route_tables(RouteTableIds=[rt])["RouteTables"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    assert ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)["AssociationId"]


def test_rule_ec2_consistency_security_group(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    settle(ec2, VpcIds=[vpc])
    old = ec2.create_security_group(GroupName="old", Description="d", VpcId=vpc)["GroupId"]
    settle(ec2, GroupIds=[old])
    new = ec2.create_security_group(GroupName="new", Description="d", VpcId=vpc)["GroupId"]
    msg = "The security group '{}' does not exist"
    refused(lambda: ec2.describe_security_groups(GroupIds=[new]), "InvalidGroup.NotFound", new, msg)
    # The peer group of a rule counts as much as the group itself.
    peer = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": new}]}]
    refused(lambda: ec2.authorize_security_group_ingress(GroupId=old, IpPermissions=peer),
            "InvalidGroup.NotFound", new, msg)
    settle(ec2, GroupIds=[new])
    assert ec2.describe_security_groups(GroupIds=[new])["SecurityGroups"]
    assert ec2.authorize_security_group_ingress(GroupId=old, IpPermissions=peer)["Return"]


def test_rule_ec2_consistency_elastic_ip(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    settle(ec2, VpcIds=[vpc])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    settle(ec2, SubnetIds=[subnet])
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    msg = "The allocation ID '{}' does not exist"
    refused(lambda: ec2.describe_addresses(AllocationIds=[alloc]), "InvalidAllocationID.NotFound", alloc, msg)
    refused(lambda: ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc), "InvalidAllocationID.NotFound",
            alloc, msg)
    settle(ec2, AllocationIds=[alloc])
    assert ec2.describe_addresses(AllocationIds=[alloc])["Addresses"]
    assert ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]


def test_rule_ec2_consistency_off_sees_everything_at_once(aws):
    aws.rules.off("ec2-consistency")
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    assert ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["VpcId"] == vpc


# --------------------------------------------------------------------------- the tool


def create(r_, ctx, catalogue=None):
    """A create as the engine makes it (orchestrator.apply: the type's retry catalogue around the call)."""
    policy = RetryPolicy()
    out = policy.create(lambda: r_.create(ctx, dict(r_.properties)), catalogue=type(r_).retries if catalogue is None
                        else catalogue, address=ctx.address)
    return out, {rec.code for rec in policy.records()}


def test_botocores_vpc_and_subnet_waiters_give_up_on_a_new_id_and_ours_wait(aws, ec2):
    """Before: Vpc/Subnet.create waited with botocore's VpcAvailable/SubnetAvailable, which have no acceptor for
    the not-found of a new id: the create failed at once. The tool's VpcCreated/SubnetCreated retry it."""
    from core.errors import AwsError

    aws.clients.client("ec2")  # built before the window opens: loading botocore's model takes a while
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(AwsError, match="InvalidVpcID.NotFound"):
        aws.clients.wait("ec2", "VpcAvailable", VpcIds=[vpc])
    before = aws.rules.trips().get("ec2-consistency", 0)
    aws.clients.wait("ec2", "VpcCreated", VpcIds=[vpc])
    assert aws.rules.trips()["ec2-consistency"] > before  # it did meet the window, and waited it out
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    with pytest.raises(AwsError, match="InvalidSubnetID.NotFound"):
        aws.clients.wait("ec2", "SubnetAvailable", SubnetIds=[subnet])
    aws.clients.wait("ec2", "SubnetCreated", SubnetIds=[subnet])


def test_each_create_waits_until_its_own_new_id_answers(aws, ec2):
    """VPC, subnet, route table, group and EIP creates return usable outputs although the describes right
    after the create call meet the window (the EIP's public IP would silently be None otherwise)."""
    vpc = declare(r.Vpc("vpc", CidrBlock="10.0.0.0/16"))
    before = aws.rules.trips().get("ec2-consistency", 0)
    vpc_id, out = vpc.create(aws.ctx("vpc"), dict(vpc.properties))
    assert out["CidrBlock"] == "10.0.0.0/16" and out["DefaultSecurityGroupId"]
    sub = declare(r.Subnet("sub", VpcId=vpc_id, CidrBlock="10.0.0.0/24", AvailabilityZone="ap-east-2a",
                           MapPublicIpOnLaunch=True))
    sid, out = sub.create(aws.ctx("sub"), dict(sub.properties))
    assert out["CidrBlock"] == "10.0.0.0/24"
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["MapPublicIpOnLaunch"] is True
    rt = declare(r.RouteTable("rt", VpcId=vpc_id))
    rt_id, _ = rt.create(aws.ctx("rt"), dict(rt.properties))
    assert ec2.describe_route_tables(RouteTableIds=[rt_id])["RouteTables"]  # visible once create returns
    sg = declare(r.SecurityGroup("sg", VpcId=vpc_id, RevokeDefaultEgress=True))
    gid, out = sg.create(aws.ctx("sg"), dict(sg.properties))
    assert out["VpcId"] == vpc_id and out["GroupName"]
    eip = declare(r.Eip("eip"))
    alloc, out = eip.create(aws.ctx("eip"), dict(eip.properties))
    assert out["PublicIp"] == ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]["PublicIp"]
    assert aws.rules.trips()["ec2-consistency"] >= before + 5  # every one of them met the window


def test_a_create_naming_a_new_parent_retries_its_not_found_as_not_visible_yet(aws, ec2):
    """Parents made moments before by someone else (raw boto3): each dependent's create retries the parent's
    not-found through the type's catalogue (Terraform: ec2PropagationTimeout), where it used to fail as gone."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = declare(r.Subnet("sub", VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="ap-east-2a"))
    with pytest.raises(ClientError, match="InvalidVpcID.NotFound"):  # before: no catalogue entry, fatal
        create(sub, aws.ctx("sub"), catalogue=())
    (sid, _), codes = create(sub, aws.ctx("sub"))
    assert codes == {"InvalidVpcID.NotFound"}

    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    route = declare(r.Route("route", RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw))
    _, codes = create(route, aws.ctx("route"))
    assert codes == {"InvalidRouteTableID.NotFound"}

    fresh_sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    assoc = declare(r.RouteTableAssociation("assoc", RouteTableId=rt, SubnetId=fresh_sub))
    (_, out), codes = create(assoc, aws.ctx("assoc"))
    assert codes == {"InvalidSubnetID.NotFound"} and out["RouteTableId"] == rt

    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = declare(r.NatGateway("nat", SubnetId=sid, AllocationId=alloc))
    (_, out), codes = create(nat, aws.ctx("nat"))
    assert codes == {"InvalidAllocationID.NotFound"} and out["PublicIp"]

    group = ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]
    settle(ec2, GroupIds=[group])
    peer = ec2.create_security_group(GroupName="p", Description="d", VpcId=vpc)["GroupId"]
    rule = declare(r.SecurityGroupRule("rule", GroupId=group, Direction="ingress", IpProtocol="tcp", FromPort=443,
                                       ToPort=443, SourceSecurityGroupId=peer))
    (rule_id, out), codes = create(rule, aws.ctx("rule"))
    assert codes == {"InvalidGroup.NotFound"} and out["GroupId"] == group  # the peer was the new one

    vpc2 = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    gw = declare(r.InternetGateway("igw", VpcId=vpc2))
    (gw_id, _), codes = create(gw, aws.ctx("igw"))
    assert codes == {"InvalidVpcID.NotFound"}
    assert gw.read(aws.ctx("igw"), gw_id) == {"VpcId": vpc2}


def test_an_update_naming_a_new_route_table_retries_too(aws, ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    settle(ec2, VpcIds=[vpc])
    sid = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    old = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    settle(ec2, RouteTableIds=[old], SubnetIds=[sid])
    ec2.associate_route_table(RouteTableId=old, SubnetId=sid)
    new = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    assoc = declare(r.RouteTableAssociation("assoc", RouteTableId=new, SubnetId=sid))
    ctx = aws.ctx("assoc")
    policy = RetryPolicy()
    out = policy.create(lambda: assoc.update(ctx, sid, {"RouteTableId": old, "SubnetId": sid}, dict(assoc.properties)),
                        catalogue=r.RouteTableAssociation.retries, address=ctx.address, phase="update")
    assert out["RouteTableId"] == new
    assert [(x.phase, x.code) for x in policy.records()] == [("update", "InvalidRouteTableID.NotFound")]


def test_a_resource_deleted_later_still_reads_as_gone_at_once(aws, ec2):
    """Only a call naming a new parent waits: the resource's own not-found, outside its create, is drift."""
    vpc = declare(r.Vpc("vpc", CidrBlock="10.0.0.0/16"))
    vpc_id, _ = vpc.create(aws.ctx("vpc"), dict(vpc.properties))
    sub = declare(r.Subnet("sub", VpcId=vpc_id, CidrBlock="10.0.0.0/24", AvailabilityZone="ap-east-2a"))
    ctx = aws.ctx("sub")
    sid, _ = sub.create(ctx, dict(sub.properties))
    ec2.delete_subnet(SubnetId=sid)
    calls = []
    aws.clients.add_hook("before-call.ec2.DescribeSubnets", lambda **_: calls.append(1))
    assert sub.read(ctx, sid) is None
    assert r.Subnet.read_many([(sub, ctx, sid)]) == {sid: None}
    assert len(calls) == 2  # one describe each: nothing waited, nothing retried
    assert r.Subnet.retries and all(e.code != "InvalidSubnetID.NotFound" for e in r.Subnet.retries)
