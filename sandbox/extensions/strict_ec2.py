"""Strict EC2: a VPC, subnet, route table, security group or Elastic IP is not visible at once.

The EC2 API is eventually consistent: a resource just created may be unknown
to the next call for a while, describing it by id or naming it in another
call (CreateSubnet's VpcId, CreateRoute's RouteTableId, a security group
rule's peer group...) answers its ordinary not-found error. moto 5.2.5 sees
everything at once, so a tool that never waits for a new id to appear (or
takes that not-found for "gone") passes on moto and fails its first real apply.

The rule refuses, for `seconds` real seconds after the create call, the calls
that name one of these ids, with the code and message AWS gives for a truly
unknown id. Deletes are not refused: the window is about reading and using a
new resource. Describes with filters are not refused either (AWS answers
those with an empty list rather than an error, and nothing here relies on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from moto.ec2.exceptions import (
    InvalidAllocationIdError,
    InvalidRouteTableIdError,
    InvalidSecurityGroupNotFoundError,
    InvalidSubnetIdError,
    InvalidVPCIdError,
)
from moto.ec2.responses import EC2Response

from sandbox import lifecycle, strict
from sandbox.extensions._base import store

RULE = strict.rule(
    "ec2-consistency",
    aws="A VPC, subnet, route table, security group or Elastic IP created moments ago is unknown to the next "
        "calls for a while: describing it by id (DescribeVpcs VpcIds, DescribeSubnets SubnetIds, "
        "DescribeRouteTables RouteTableIds, DescribeSecurityGroups GroupIds, DescribeAddresses AllocationIds) or "
        "naming it in another call (CreateSubnet VpcId, CreateRoute RouteTableId, AssociateRouteTable, "
        "AuthorizeSecurityGroupIngress GroupId and peer groups, CreateNatGateway SubnetId/AllocationId...) "
        "answers InvalidVpcID.NotFound, InvalidSubnetID.NotFound, InvalidRouteTableID.NotFound, "
        "InvalidGroup.NotFound or InvalidAllocationID.NotFound, as for an id that does not exist.",
    source="AWS EC2 developer guide, Eventual consistency in the Amazon EC2 API "
           "(https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html); Terraform provider "
           "internal/service/ec2/wait.go (ec2PropagationTimeout, 5 min), vpc_.go/vpc_subnet.go/ec2_eip.go "
           "(RetryWhenNewResourceNotFound on the first describe after create), "
           "vpc_route_table_association.go (AssociateRouteTable retried on InvalidRouteTableID.NotFound)",
    moto="every new id was visible to every call at once",
    seconds=1.0,
)

# Request parameters (botocore member names, at any depth) that name an id of one of the kinds.
PARAMS: dict[str, str] = {
    "VpcId": "vpc", "VpcIds": "vpc",
    "SubnetId": "subnet", "SubnetIds": "subnet",
    "RouteTableId": "route-table", "RouteTableIds": "route-table",
    "GroupId": "security-group", "GroupIds": "security-group", "ReferencedGroupId": "security-group",
    "AllocationId": "elastic-ip", "AllocationIds": "elastic-ip",
}


def _vpc_not_found(vpc_id: str) -> Exception:
    err = InvalidVPCIdError(vpc_id)
    err.message = f"The vpc ID '{vpc_id}' does not exist"  # AWS's wording (moto says "VpcID x does not exist.")
    return err


def _allocation_not_found(allocation_id: str) -> Exception:
    err = InvalidAllocationIdError(allocation_id)
    err.message = f"The allocation ID '{allocation_id}' does not exist"  # AWS's wording
    return err


# kind -> the error AWS answers for an id it does not know (yet).
ERRORS: dict[str, Callable[[str], Exception]] = {
    "vpc": _vpc_not_found,
    "subnet": InvalidSubnetIdError,
    "route-table": InvalidRouteTableIdError,
    "security-group": InvalidSecurityGroupNotFoundError,
    "elastic-ip": _allocation_not_found,
}

# The actions that create ids of the kinds (CreateVpc also makes its default group and main route table).
CREATES = ("create_vpc", "create_default_vpc", "create_subnet", "create_default_subnet", "create_route_table",
           "create_security_group", "allocate_address")

# The actions refused while they name a new id: describes by id, and the calls that use one.
CHECKED = (
    "describe_vpcs", "describe_vpc_attribute", "modify_vpc_attribute", "associate_vpc_cidr_block",
    "describe_subnets", "modify_subnet_attribute", "create_subnet",
    "describe_route_tables", "create_route_table", "create_route", "replace_route", "associate_route_table",
    "replace_route_table_association",
    "describe_security_groups", "create_security_group", "authorize_security_group_ingress",
    "authorize_security_group_egress", "modify_security_group_rules", "update_security_group_rule_descriptions_ingress",
    "update_security_group_rule_descriptions_egress",
    "describe_addresses", "associate_address",
    "attach_internet_gateway", "create_network_acl", "create_nat_gateway", "create_vpc_endpoint",
    "create_network_interface",
)


def _clock(backend: Any) -> strict.Clock:
    return store(backend, "ec2_consistency", strict.Clock)


def _ids(backend: Any) -> set[tuple[str, str]]:
    """Every (kind, id) of the kinds the backend holds now."""
    out = {("vpc", v) for v in backend.vpcs}
    out |= {("subnet", s) for subnets in backend.subnets.values() for s in subnets}
    out |= {("route-table", r) for r in backend.route_tables}
    out |= {("security-group", g) for groups in backend.groups.values() for g in groups}
    out |= {("elastic-ip", a.allocation_id) for a in backend.addresses if getattr(a, "allocation_id", None)}
    return out


def _named(value: Any, kind: str | None = None) -> Iterator[tuple[str, str]]:
    """(kind, id) of every id a request's parameters name, at any depth."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _named(v, PARAMS.get(k))
    elif isinstance(value, list):
        for v in value:
            yield from _named(v, kind)
    elif kind is not None and isinstance(value, str) and value:
        yield kind, value


def _handler(check: bool, mark: bool) -> Callable[..., Any]:
    """The wrapper of one action: refuse it while it names a new id (check), note the ids it made (mark)."""

    def handle(self: Any, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        backend = self.ec2_backend
        if check and strict.on(RULE.id):
            window = float(strict.setting(RULE.id, "seconds"))
            clock = _clock(backend)
            for kind, rid in _named(getattr(self, "params", None) or {}):
                if clock.within(f"{kind}:{rid}", window):
                    strict.trip(RULE.id)
                    raise ERRORS[kind](rid)
        if not mark:
            return original(self, *args, **kwargs)
        before = _ids(backend)
        result = original(self, *args, **kwargs)
        clock = _clock(backend)
        for kind, rid in _ids(backend) - before:
            clock.mark(f"{kind}:{rid}")
        return result

    return handle


def install() -> None:
    # A create that names a new parent (CreateSubnet's VpcId) is refused before it makes anything;
    # what it makes is marked when it succeeds. Marked whether the rule is on or not, so turning the
    # rule on in the middle of a test still knows what is new.
    for name in sorted(set(CHECKED) | set(CREATES)):
        if hasattr(EC2Response, name):
            lifecycle.wrap(EC2Response, name)(_handler(name in CHECKED, name in CREATES))
