"""Issue 13 findings on ec2.Vpc (B11) and ec2.VpcEndpoint (B10), on the strict sandbox, read through boto3."""

from __future__ import annotations

import pytest

from resources.base import ResourceError
from resources.ec2 import Vpc, VpcEndpoint
from tests.helpers import count_calls, ec2_visible
from tests.test_ec2_network import _declare, _vpc


def _routes_to(ec2, rt_id, ep_id):
    routes = ec2.describe_route_tables(RouteTableIds=[rt_id])["RouteTables"][0]["Routes"]
    return [r for r in routes if r.get("GatewayId") == ep_id]


def test_b10_endpoint_route_tables_change_in_place(aws, short_ec2_window):
    ec2 = aws.client("ec2")
    vpc_id = _vpc(ec2)
    rts = [ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"] for _ in range(3)]
    ec2_visible(ec2, RouteTableIds=rts)
    ep = _declare(VpcEndpoint, "s3_endpoint", VpcId=vpc_id, ServiceName="com.amazonaws.ap-east-2.s3",
                  RouteTableIds=rts[:2])
    ctx = aws.ctx("s3_endpoint")
    ep_id, _ = ep.create(ctx, dict(ep.properties))
    old = dict(ep.properties)
    new = dict(old, RouteTableIds=rts[1:])  # drop the first table, add the third
    ep.update(ctx, ep_id, old, new)
    seen = ec2.describe_vpc_endpoints(VpcEndpointIds=[ep_id])["VpcEndpoints"][0]
    assert seen["VpcEndpointId"] == ep_id and sorted(seen["RouteTableIds"]) == sorted(rts[1:])  # same endpoint
    assert not _routes_to(ec2, rts[0], ep_id)
    assert _routes_to(ec2, rts[1], ep_id) and _routes_to(ec2, rts[2], ep_id)  # the new table routes S3 too
    assert sorted(ep.read(ctx, ep_id)["RouteTableIds"]) == sorted(rts[1:])
    ep.delete(ctx, ep_id)  # and it still deletes cleanly, routes and all
    assert not any(_routes_to(ec2, rt, ep_id) for rt in rts)


def test_b11_tenancy_to_default_in_place_to_dedicated_refused(aws):
    ec2 = aws.client("ec2")
    vpc = _declare(Vpc, "vpc", CidrBlock="10.42.0.0/16", InstanceTenancy="dedicated")
    ctx = aws.ctx("vpc")
    vpc_id, _ = vpc.create(ctx, dict(vpc.properties))
    old = dict(vpc.properties)
    new = dict(old, InstanceTenancy="default")
    assert "InstanceTenancy" not in Vpc.replace_on and vpc.refusal(old, new, ["InstanceTenancy"]) is None
    vpc.update(ctx, vpc_id, old, new)
    seen = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert seen["VpcId"] == vpc_id and seen["InstanceTenancy"] == "default"
    # Back to dedicated: no API does it; refused before any call.
    assert "default only" in vpc.refusal(new, old, ["InstanceTenancy"])
    with count_calls() as log, pytest.raises(ResourceError, match="default only"):
        vpc.update(aws.ctx("vpc"), vpc_id, new, old)
    assert log.mutating == []
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["InstanceTenancy"] == "default"
