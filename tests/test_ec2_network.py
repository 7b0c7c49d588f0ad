"""Round trips of the EC2 routing types on moto: subnets, gateways, EIPs, NATs, routes, endpoints.

Each test builds what its type needs with an independent boto3 client, so
no test depends on another type's code or on another test's state. That
raw set-up waits for its new ids to be visible before naming them, as a
script against AWS must (the sandbox's ec2-consistency rule, in a short
window here: the short_ec2_window fixture).
"""

import pytest

from core.errors import PlanError
from resources.ec2 import (
    Eip,
    InternetGateway,
    NatGateway,
    Route,
    RouteTable,
    RouteTableAssociation,
    Subnet,
    VpcEndpoint,
)
from tests.helpers import ec2_visible

pytestmark = pytest.mark.usefixtures("short_ec2_window")


def _vpc(ec2, cidr="10.0.0.0/16"):
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc_id])
    return vpc_id


def _subnet(ec2, vpc_id, cidr="10.0.0.0/20", az="ap-east-2a"):
    sid = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
    ec2_visible(ec2, SubnetIds=[sid])
    return sid


def _declare(cls, name, **props):
    r = cls(name, **props)
    r.stack = "main"
    return r


def _tags(item):
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


def test_subnet_round_trip(aws):
    ec2 = aws.client("ec2")
    vpc_id = _vpc(ec2)
    sub = _declare(Subnet, "subnet_public_a", VpcId=vpc_id, CidrBlock="10.0.16.0/20",
                   AvailabilityZone="ap-east-2a", MapPublicIpOnLaunch=True)
    ctx = aws.ctx("subnet_public_a")
    sid, out = sub.create(ctx, dict(sub.properties))
    seen = ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]
    assert (seen["CidrBlock"], seen["AvailabilityZone"], seen["MapPublicIpOnLaunch"]) == \
        ("10.0.16.0/20", "ap-east-2a", True)
    assert _tags(seen)["infra:address"] == "main.subnet_public_a"
    assert _tags(seen)["Name"] == "genai-demo-test-subnet-public-a"
    assert out == {"SubnetId": sid, "CidrBlock": "10.0.16.0/20", "AvailabilityZone": "ap-east-2a", "VpcId": vpc_id}

    assert sub.read(ctx, sid) == dict(sub.properties)
    new = dict(sub.properties, MapPublicIpOnLaunch=False)
    sub.update(ctx, sid, dict(sub.properties), new)
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["MapPublicIpOnLaunch"] is False
    assert sub.read(ctx, sid)["MapPublicIpOnLaunch"] is False
    assert {"CidrBlock", "AvailabilityZone", "VpcId"} <= Subnet.replace_on

    assert sub.find(ctx)[0] == sid
    sub.delete(ctx, sid)
    sub.delete(ctx, sid)
    assert sub.read(ctx, sid) is None
    assert sub.find(ctx) is None


def test_subnet_rejects_bad_inputs():
    with pytest.raises(PlanError, match="not a valid CIDR"):
        Subnet("s", VpcId="vpc-1", CidrBlock="10.0.0.300/20", AvailabilityZone="ap-east-2a")
    with pytest.raises(PlanError, match="/16 to /28"):
        Subnet("s", VpcId="vpc-1", CidrBlock="10.0.0.0/30", AvailabilityZone="ap-east-2a")
    with pytest.raises(PlanError, match="MapPublicIpOnLaunch must be bool"):
        Subnet("s", VpcId="vpc-1", CidrBlock="10.0.0.0/20", AvailabilityZone="a", MapPublicIpOnLaunch="yes")
    with pytest.raises(PlanError, match="unknown property"):
        Subnet("s", VpcId="vpc-1", CidrBlock="10.0.0.0/20", AvailabilityZone="a", Cidr="x")
    with pytest.raises(PlanError, match="missing required property AvailabilityZone"):
        Subnet("s", VpcId="vpc-1", CidrBlock="10.0.0.0/20")


def test_internet_gateway_attaches_and_detaches(aws):
    ec2 = aws.client("ec2")
    vpc1, vpc2 = _vpc(ec2), _vpc(ec2, "10.1.0.0/16")
    igw = _declare(InternetGateway, "igw", VpcId=vpc1)
    ctx = aws.ctx("igw")
    igw_id, out = igw.create(ctx, dict(igw.properties))
    seen = ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"][0]
    assert [a["VpcId"] for a in seen["Attachments"]] == [vpc1]
    assert _tags(seen)["infra:address"] == "main.igw"
    assert out == {"InternetGatewayId": igw_id}
    assert igw.read(ctx, igw_id) == {"VpcId": vpc1}

    igw.update(ctx, igw_id, {"VpcId": vpc1}, {"VpcId": vpc2})
    seen = ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"][0]
    assert [a["VpcId"] for a in seen["Attachments"]] == [vpc2]

    assert igw.find(ctx)[0] == igw_id
    igw.delete(ctx, igw_id)  # detaches first, or AWS refuses
    igw.delete(ctx, igw_id)
    assert igw.read(ctx, igw_id) is None
    assert igw.find(ctx) is None
    ec2.delete_vpc(VpcId=vpc2)  # the detach really happened


def test_eip_round_trip(aws):
    ec2 = aws.client("ec2")
    eip = _declare(Eip, "eip_nat_a")
    ctx = aws.ctx("eip_nat_a")
    alloc, out = eip.create(ctx, dict(eip.properties))
    seen = ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]
    assert seen["Domain"] == "vpc" and _tags(seen)["infra:address"] == "main.eip_nat_a"
    assert out["PublicIp"] == seen["PublicIp"]
    assert eip.read(ctx, alloc) == {"Domain": "vpc"}
    ctx2 = aws.ctx("eip_nat_a", plan_tags={"CostCenter": "42"})
    eip.update(ctx2, alloc, dict(eip.properties), dict(eip.properties))  # tags follow the plan
    assert _tags(ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0])["CostCenter"] == "42"
    assert eip.find(ctx)[0] == alloc
    eip.delete(ctx, alloc)
    eip.delete(ctx, alloc)
    assert eip.read(ctx, alloc) is None
    assert eip.find(ctx) is None
    with pytest.raises(PlanError, match="Domain"):
        Eip("e", Domain="standard")


def test_nat_gateway_round_trip(aws):
    ec2 = aws.client("ec2")
    vpc_id = _vpc(ec2)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    sid = _subnet(ec2, vpc_id)
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2_visible(ec2, AllocationIds=[alloc])
    nat = _declare(NatGateway, "nat_a", SubnetId=sid, AllocationId=alloc)
    ctx = aws.ctx("nat_a", token="tok-nat-a")
    nat_id, out = nat.create(ctx, dict(nat.properties))
    seen = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
    assert seen["State"] == "available" and seen["SubnetId"] == sid
    assert seen["NatGatewayAddresses"][0]["AllocationId"] == alloc
    assert _tags(seen)["infra:address"] == "main.nat_a"
    assert out["NatGatewayId"] == nat_id and out["PublicIp"] == seen["NatGatewayAddresses"][0]["PublicIp"]
    assert nat.read(ctx, nat_id) == dict(nat.properties)
    assert {"SubnetId", "AllocationId"} <= NatGateway.replace_on
    nat.update(ctx, nat_id, dict(nat.properties), dict(nat.properties))

    assert nat.find(ctx)[0] == nat_id
    nat.delete(ctx, nat_id)  # waits NatGatewayDeleted
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == "deleted"
    assert "AssociationId" not in ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]  # EIP reusable
    nat2 = _declare(NatGateway, "nat_a2", SubnetId=sid, AllocationId=alloc)  # a replacement on the same EIP
    nat2_id, _ = nat2.create(aws.ctx("nat_a2"), dict(nat2.properties))
    nat2.delete(aws.ctx("nat_a2"), nat2_id)
    nat.delete(ctx, nat_id)
    assert nat.read(ctx, nat_id) is None
    assert nat.find(ctx) is None
    with pytest.raises(PlanError, match="missing required property AllocationId"):
        NatGateway("n", SubnetId="subnet-1")


def test_route_table_route_and_association(aws):
    ec2 = aws.client("ec2")
    vpc_id = _vpc(ec2)
    sid = _subnet(ec2, vpc_id)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2_visible(ec2, AllocationIds=[alloc])
    nat_id = ec2.create_nat_gateway(SubnetId=sid, AllocationId=alloc)["NatGateway"]["NatGatewayId"]

    rt = _declare(RouteTable, "rt_public_a", VpcId=vpc_id)
    rctx = aws.ctx("rt_public_a")
    rt_id, out = rt.create(rctx, dict(rt.properties))
    seen = ec2.describe_route_tables(RouteTableIds=[rt_id])["RouteTables"][0]
    assert seen["VpcId"] == vpc_id and _tags(seen)["infra:address"] == "main.rt_public_a"
    assert out == {"RouteTableId": rt_id} and rt.read(rctx, rt_id) == {"VpcId": vpc_id}
    assert rt.find(rctx)[0] == rt_id

    # Route: id is "rtb|cidr"; a target change is replace_route in place.
    route = _declare(Route, "route_public_a_default", RouteTableId=rt_id, DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=igw)
    ctx = aws.ctx("route_public_a_default")
    pid, _ = route.create(ctx, dict(route.properties))
    assert pid == f"{rt_id}|0.0.0.0/0"
    routes = ec2.describe_route_tables(RouteTableIds=[rt_id])["RouteTables"][0]["Routes"]
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw} in \
        [{k: r[k] for k in ("DestinationCidrBlock", "GatewayId") if k in r} for r in routes]
    assert route.read(ctx, pid) == dict(route.properties)
    assert route.create(ctx, dict(route.properties))[0] == pid  # adopts what a crash left behind
    new = {"RouteTableId": rt_id, "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat_id}
    route.update(ctx, pid, dict(route.properties), new)
    assert route.read(ctx, pid) == new
    assert route.find(ctx, new)[0] == pid
    route.delete(ctx, pid)
    route.delete(ctx, pid)
    assert route.read(ctx, pid) is None
    assert route.find(ctx, new) is None

    # Association: keyed by subnet; a new route table is replace_route_table_association.
    assoc = _declare(RouteTableAssociation, "rta_public_a", RouteTableId=rt_id, SubnetId=sid)
    actx = aws.ctx("rta_public_a")
    apid, aout = assoc.create(actx, dict(assoc.properties))
    assert apid == sid and aout["AssociationId"].startswith("rtbassoc-")
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [sid]}])["RouteTables"]
    assert [t["RouteTableId"] for t in tables] == [rt_id]
    assert assoc.read(actx, apid) == dict(assoc.properties)
    assert assoc.create(actx, dict(assoc.properties))[0] == apid  # idempotent adoption
    rt2 = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2_visible(ec2, RouteTableIds=[rt2])
    new_out = assoc.update(actx, apid, dict(assoc.properties), {"RouteTableId": rt2, "SubnetId": sid})
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [sid]}])["RouteTables"]
    assert [t["RouteTableId"] for t in tables] == [rt2] and new_out["RouteTableId"] == rt2
    assert assoc.find(actx)[0] == apid
    assoc.delete(actx, apid)
    assoc.delete(actx, apid)
    assert assoc.read(actx, apid) is None and assoc.find(actx) is None
    assert ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [sid]}])["RouteTables"] == []

    rt.update(rctx, rt_id, dict(rt.properties), dict(rt.properties))
    rt.delete(rctx, rt_id)
    rt.delete(rctx, rt_id)
    assert rt.read(rctx, rt_id) is None and rt.find(rctx) is None


def test_route_needs_exactly_one_target():
    with pytest.raises(PlanError, match="exactly one of GatewayId, NatGatewayId"):
        Route("r", RouteTableId="rtb-1", DestinationCidrBlock="0.0.0.0/0")
    with pytest.raises(PlanError, match="exactly one of GatewayId, NatGatewayId"):
        Route("r", RouteTableId="rtb-1", DestinationCidrBlock="0.0.0.0/0", GatewayId="igw-1", NatGatewayId="nat-1")
    with pytest.raises(PlanError, match="not a valid CIDR"):
        Route("r", RouteTableId="rtb-1", DestinationCidrBlock="0.0.0.0/33", GatewayId="igw-1")


def test_keyed_find_waits_for_resolved_refs(aws):
    rt = RouteTable("rt", VpcId="vpc-1")
    route = Route("r", RouteTableId=rt["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId="igw-1")
    route.stack = "main"
    assert route.find(aws.ctx("r")) is None  # a key still holding a Ref cannot be looked up


def test_s3_gateway_endpoint_round_trip(aws):
    ec2 = aws.client("ec2")
    vpc_id = _vpc(ec2)
    rts = [ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"] for _ in range(2)]
    ec2_visible(ec2, RouteTableIds=rts)
    ep = _declare(VpcEndpoint, "s3_endpoint", VpcId=vpc_id, ServiceName="com.amazonaws.ap-east-2.s3",
                  RouteTableIds=rts)
    ctx = aws.ctx("s3_endpoint", token="tok-vpce")
    ep_id, out = ep.create(ctx, dict(ep.properties))
    seen = ec2.describe_vpc_endpoints(VpcEndpointIds=[ep_id])["VpcEndpoints"][0]
    assert seen["VpcEndpointType"] == "Gateway" and sorted(seen["RouteTableIds"]) == sorted(rts)
    assert _tags(seen)["infra:address"] == "main.s3_endpoint"
    for rt_id in rts:  # the prefix-list route lands in each table
        routes = ec2.describe_route_tables(RouteTableIds=[rt_id])["RouteTables"][0]["Routes"]
        assert any(r.get("GatewayId") == ep_id for r in routes)
    assert out == {"VpcEndpointId": ep_id}
    seen_props = ep.read(ctx, ep_id)
    assert sorted(seen_props.pop("RouteTableIds")) == sorted(rts)  # a set to AWS: VpcEndpoint.unordered
    assert seen_props == {k: v for k, v in ep.properties.items() if k != "RouteTableIds"}
    assert VpcEndpoint.unordered == {"RouteTableIds", "SubnetIds", "SecurityGroupIds"}
    assert "RouteTableIds" not in VpcEndpoint.replace_on  # ModifyVpcEndpoint (issue 13 B10)

    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}
    ep.update(ctx, ep_id, dict(ep.properties), dict(ep.properties, PolicyDocument=policy))
    assert ep.read(ctx, ep_id)["PolicyDocument"] == policy

    assert ep.find(ctx)[0] == ep_id
    ep.delete(ctx, ep_id)  # waits VpcEndpointDeleted (our waiter)
    ep.delete(ctx, ep_id)
    assert ep.read(ctx, ep_id) is None
    assert ep.find(ctx) is None
    with pytest.raises(PlanError, match="SubnetIds"):
        VpcEndpoint("e", VpcId="vpc-1", ServiceName="com.amazonaws.ap-east-2.ec2", VpcEndpointType="Interface")
    with pytest.raises(PlanError, match="not SubnetIds"):
        VpcEndpoint("e", VpcId="vpc-1", ServiceName="com.amazonaws.ap-east-2.s3", SubnetIds=["subnet-1"])


def test_ec2_interface_endpoint_round_trip(aws):
    """FSBP EC2.10: an interface endpoint for the EC2 API, its ENIs in two subnets behind one group; a third
    subnet and another group are added in place (ModifyVpcEndpoint), as AWS shows through DescribeVpcEndpoints."""
    ec2 = aws.client("ec2")
    vpc_id = _vpc(ec2)
    subnets = [_subnet(ec2, vpc_id, f"10.0.{16 * i}.0/20", f"ap-east-2{az}") for i, az in enumerate("abc")]
    groups = [ec2.create_security_group(GroupName=f"vpce-{i}", Description="endpoint", VpcId=vpc_id)["GroupId"]
              for i in range(2)]
    ec2_visible(ec2, GroupIds=groups)
    ep = _declare(VpcEndpoint, "ec2_endpoint", VpcId=vpc_id, ServiceName="com.amazonaws.ap-east-2.ec2",
                  VpcEndpointType="Interface", SubnetIds=subnets[:2], SecurityGroupIds=groups[:1])
    ctx = aws.ctx("ec2_endpoint", token="tok-vpce-ec2")
    ep_id, _ = ep.create(ctx, dict(ep.properties))
    seen = ec2.describe_vpc_endpoints(VpcEndpointIds=[ep_id])["VpcEndpoints"][0]
    assert seen["VpcEndpointType"] == "Interface" and sorted(seen["SubnetIds"]) == sorted(subnets[:2])
    assert [g["GroupId"] for g in seen["Groups"]] == groups[:1] and not seen.get("RouteTableIds")
    state = ep.read(ctx, ep_id)
    assert sorted(state["SubnetIds"]) == sorted(subnets[:2]) and state["SecurityGroupIds"] == groups[:1]

    ep.update(ctx, ep_id, state, dict(state, SubnetIds=subnets, SecurityGroupIds=groups[1:]))
    seen = ec2.describe_vpc_endpoints(VpcEndpointIds=[ep_id])["VpcEndpoints"][0]
    assert seen["VpcEndpointId"] == ep_id and sorted(seen["SubnetIds"]) == sorted(subnets)
    assert [g["GroupId"] for g in seen["Groups"]] == groups[1:]
    ep.delete(ctx, ep_id)
    assert ep.read(ctx, ep_id) is None
