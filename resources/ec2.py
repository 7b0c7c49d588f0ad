"""EC2 networking types: VPC and what lives in it.

EC2 tags at creation through TagSpecifications and every describe call
accepts `tag:` filters, so find() is one declared describe per type.

The EC2 API is eventually consistent: an id created moments ago may be
unknown to the next calls. A create waits until its own new id answers
(resources/waiters/ec2.json: VpcCreated, SubnetCreated, RouteTableCreated,
AddressCreated); a create or update that names a parent made moments before
retries that parent's not-found as "not visible yet" (the NEW_* catalogue
entries below), never as "gone". read() and refresh still take a resource's
own not-found as gone: only the call that names a new parent waits.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from core.errors import PlanError, Retry, is_not_found, on_delete, on_write
from resources.base import (
    BatchRead,
    Ctx,
    Durations,
    Join,
    P,
    Resource,
    ResourceError,
    cidr,
    fetch_in_chunks,
    int_range,
    one_of,
    tag_dict,
    tag_list,
    walk_refs,
)

# A new parent's not-found, on create and update: "not visible yet". Terraform's budget for EC2 changes to
# propagate is ec2PropagationTimeout, 5 minutes (internal/service/ec2/wait.go). Any message: each of these
# codes means only "no such id", and AWS's wording differs between calls.
EC2_PROPAGATION_SECONDS = 300.0
_EVENTUAL = ("EC2 eventual consistency (docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html): "
             "a parent created moments ago; Terraform internal/service/ec2/wait.go ec2PropagationTimeout")
NEW_VPC = on_write("InvalidVpcID.NotFound", seconds=EC2_PROPAGATION_SECONDS, why=_EVENTUAL)
NEW_SUBNET = on_write("InvalidSubnetID.NotFound", seconds=EC2_PROPAGATION_SECONDS, why=_EVENTUAL)
NEW_ROUTE_TABLE = on_write("InvalidRouteTableID.NotFound", seconds=EC2_PROPAGATION_SECONDS,
                           why=_EVENTUAL + "; vpc_route_table_association.go retries AssociateRouteTable on it")
NEW_GROUP = on_write("InvalidGroup.NotFound", seconds=EC2_PROPAGATION_SECONDS, why=_EVENTUAL)
NEW_ADDRESS = on_write("InvalidAllocationID.NotFound", seconds=EC2_PROPAGATION_SECONDS, why=_EVENTUAL)


class Ec2Resource(Resource):
    """EC2 types share tagging, describe-by-id and find-by-tag; they declare the names."""

    service = "ec2"
    ec2_type: ClassVar[str] = ""  # TagSpecifications ResourceType, e.g. "vpc"
    describe: ClassVar[str] = ""  # describe_<x> method name
    list_key: ClassVar[str] = ""  # key of the list in the describe response
    id_key: ClassVar[str] = ""  # id field in each item, and the describe ...Ids parameter stem
    ids_param: ClassVar[str] = ""  # e.g. "VpcIds"
    gone_states: ClassVar[tuple[str, ...]] = ("deleted", "deleting", "failed")
    # The waiter a create ends with until AWS knows the new id (EC2 is eventually consistent): also what
    # an adoption waits on, since what find() saw through a filter may not answer by id yet.
    created_waiter: ClassVar[str] = ""
    batch: ClassVar[int] = 200  # ids (or filter values) per describe call: AWS caps filter values at 200

    def wait_created(self, ctx: Ctx, physical_id: str) -> None:
        if self.created_waiter:
            ctx.wait("ec2", self.created_waiter, **{self.ids_param: [physical_id]})

    def tag_specs(self, ctx: Ctx) -> list[dict[str, Any]]:
        tags = dict(ctx.tags)
        tags.setdefault("Name", ctx.physical_name())
        return [{"ResourceType": self.ec2_type, "Tags": tag_list(tags)}]

    @classmethod
    def describe_many(cls, ctx: Ctx, ids: list[str]) -> dict[str, dict[str, Any]]:
        """{id: item} of those of `ids` that exist (not deleted/deleting), a few describe calls in all."""
        def call(chunk: list[str]) -> dict[str, dict[str, Any]]:
            items = getattr(ctx.client("ec2"), cls.describe)(**{cls.ids_param: chunk})[cls.list_key]
            return {i[cls.id_key]: i for i in items if not cls.is_gone(i)}

        return fetch_in_chunks(ids, cls.batch, call, lambda exc: is_not_found(exc, cls.not_found))

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """What BatchRead types map with props_from: the describe item of each id."""
        return cls.describe_many(ctx, ids)

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        return self.describe_many(ctx, [physical_id]).get(physical_id)

    @classmethod
    def is_gone(cls, item: dict[str, Any]) -> bool:
        return str(item.get("State", "")).lower() in cls.gone_states

    def retag(self, ctx: Ctx, physical_id: str) -> None:
        """Re-apply our tags on update, so plan tag changes reach AWS (create_tags overwrites)."""
        ctx.client("ec2").create_tags(Resources=[physical_id], Tags=self.tag_specs(ctx)[0]["Tags"])

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        resp = getattr(ctx.client("ec2"), self.describe)(
            Filters=[{"Name": "tag:infra:address", "Values": [ctx.address]},
                     {"Name": "tag:infra:env", "Values": [ctx.env]},
                     {"Name": "tag:infra:project", "Values": [ctx.project]}])
        items = [i for i in resp[self.list_key] if not self.is_gone(i) and i[self.id_key] not in ctx.old_copies]
        if not items:
            return None
        pid = items[0][self.id_key]
        return pid, self.outputs_of(ctx, pid)

    @staticmethod
    def plan_tags(item: dict[str, Any]) -> dict[str, str]:
        return {k: v for k, v in tag_dict(item.get("Tags")).items() if not k.startswith("infra:") and k != "Name"}


# --------------------------------------------------------------------------- ENIs AWS leaves behind

# Descriptions AWS writes on the network interfaces it makes for a service in the user's subnets. After
# the load balancer, domain, database, cache, cluster or stream is deleted, AWS removes them minutes later;
# until then they hold the security group, the subnet and (an ALB's public addresses) the IGW's detach.
# Terraform deletes the "available" ones itself (ec2/vpc_security_group.go deleteLingeringENIs for Lambda,
# Comprehend and DMS; elbv2/load_balancer.go cleanupALBNetworkInterfaces for "ELB app/<name>/<id>").
SERVICE_ENI_PREFIXES: tuple[str, ...] = (
    "ELB app/", "ELB net/", "ELB gwy/", "AWS Lambda VPC ENI", "Amazon EKS ", "ES ", "RDSNetworkInterface",
    "ElastiCache ", "[DO NOT DELETE] ENI managed by Amazon MSK", "Amazon Data Firehose ",
    "Network interface for Comprehend", "DMSNetworkInterface",
)


def delete_lingering_enis(ctx: Ctx, filter_name: str, value: str) -> int:
    """Delete the service-made interfaces that AWS left "available" in a group or subnet; how many.

    Only requester-managed interfaces whose description names a service, and only once AWS has
    detached them: an in-use one is still the service's (AWS refuses to delete it), and one the user
    made is not ours to remove. The caller's delete then succeeds, or meets DependencyViolation again
    and its dependency budget waits out the interfaces still in use.
    """
    ec2 = ctx.client("ec2")
    pages = ec2.get_paginator("describe_network_interfaces").paginate(Filters=[{"Name": filter_name,
                                                                                "Values": [value]}])
    deleted = 0
    for eni in (e for page in pages for e in page["NetworkInterfaces"]):
        if eni.get("Status") != "available" or not eni.get("RequesterManaged"):
            continue
        if not str(eni.get("Description", "")).startswith(SERVICE_ENI_PREFIXES):
            continue
        try:
            ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
        except Exception:  # noqa: BLE001, S112 - gone meanwhile, or in use again: the group's delete decides
            continue
        deleted += 1
    return deleted


# Terraform's delete timeouts: aws_security_group 15 min (ec2/vpc_security_group.go), aws_subnet 20 min
# (ec2/vpc_subnet.go), aws_internet_gateway 20 min (ec2/vpc_internet_gateway.go), all while ENIs drain.
ENI_HELD_SECONDS = 900.0


class Vpc(Ec2Resource):
    type_name = "ec2.Vpc"
    # Everything in a VPC is replaced with it, and its gateway moves by detach + attach, which AWS refuses
    # while the old VPC still maps public addresses (NAT gateways' EIPs): the old network goes first.
    replace_order = "delete_first"
    created_waiter = "VpcCreated"
    label = "VPC"
    arn_kind = ("ec2", "vpc")
    id_prefix = "vpc-"
    ec2_type, describe, list_key, id_key, ids_param = "vpc", "describe_vpcs", "Vpcs", "VpcId", "VpcIds"
    props = {
        "CidrBlock": P(str, required=True, validator=cidr),
        "EnableDnsSupport": P(bool, default=True),
        "EnableDnsHostnames": P(bool, default=True),
        "InstanceTenancy": P(str, default="default"),
        "RestrictDefaultSecurityGroup": P(bool, default=False, doc=(
            "revoke every rule of the VPC's default security group (CKV2_AWS_12, FSBP EC2.2): "
            "AWS cannot delete it, and anything launched without a group lands in it")),
    }
    replace_on = frozenset({"CidrBlock"})
    # ModifyVpcTenancy changes a VPC's tenancy to default only (botocore: "You cannot change the instance
    # tenancy attribute to dedicated"); a VPC cannot be replaced under its subnets, gateways and services.
    refuse_on = {"InstanceTenancy": "AWS changes a VPC's instance tenancy to default only (ModifyVpcTenancy); "
                                    "a dedicated VPC needs a new VPC and everything in it"}
    change_notes = {"InstanceTenancy": "CloudFormation updates it; here dedicated -> default is made in place "
                                       "(ModifyVpcTenancy, as terraform-provider-aws ec2/vpc.go does) and a "
                                       "change to dedicated, which no API makes, is refused"}
    outputs = ("VpcId", "CidrBlock", "DefaultSecurityGroupId", "DefaultNetworkAclId", "MainRouteTableId")
    not_found = ("InvalidVpcID.NotFound",)

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        """A change of tenancy to default is an update; any other is refused."""
        rest = [k for k in changed if not (k == "InstanceTenancy" and new.get(k) == "default")]
        return super().refusal(old, new, rest)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.client("ec2")
        vpc = ec2.create_vpc(CidrBlock=props["CidrBlock"], InstanceTenancy=props["InstanceTenancy"],
                             TagSpecifications=self.tag_specs(ctx))["Vpc"]
        vpc_id = vpc["VpcId"]
        ctx.wait("ec2", "VpcCreated", VpcIds=[vpc_id])
        self._set_dns(ctx, vpc_id, props)
        if props.get("RestrictDefaultSecurityGroup"):
            self._restrict_default_sg(ctx, vpc_id, True)
        return vpc_id, self.outputs_of(ctx, vpc_id)

    def _default_sg(self, ctx: Ctx, vpc_id: str) -> dict[str, Any] | None:
        flt = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
        return next(iter(ctx.client("ec2").describe_security_groups(Filters=flt)["SecurityGroups"]), None)

    def _restrict_default_sg(self, ctx: Ctx, vpc_id: str, restrict: bool) -> None:
        """Restricting revokes whatever the default group holds; un-restricting gives back AWS's own two
        rules (all traffic from the group itself, all egress), so read() and AWS agree either way."""
        ec2 = ctx.client("ec2")
        sg = self._default_sg(ctx, vpc_id)
        if sg is None:
            return
        gid = sg["GroupId"]
        if restrict:
            if sg.get("IpPermissions"):
                ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=sg["IpPermissions"])
            if sg.get("IpPermissionsEgress"):
                ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=sg["IpPermissionsEgress"])
            return
        if not sg.get("IpPermissions"):
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
                {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": gid}]}])
        if not sg.get("IpPermissionsEgress"):
            ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    def _set_dns(self, ctx: Ctx, vpc_id: str, props: dict[str, Any], old: dict[str, Any] | None = None) -> None:
        # AWS accepts one attribute per ModifyVpcAttribute call.
        ec2 = ctx.client("ec2")
        for key in ("EnableDnsSupport", "EnableDnsHostnames"):
            if old is None or old.get(key) != props[key]:
                ec2.modify_vpc_attribute(VpcId=vpc_id, **{key: {"Value": props[key]}})

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        ec2 = ctx.client("ec2")
        vpc = self.describe_one(ctx, physical_id) or {}
        flt = [{"Name": "vpc-id", "Values": [physical_id]}]
        sg = ec2.describe_security_groups(Filters=flt + [{"Name": "group-name", "Values": ["default"]}])
        acl = ec2.describe_network_acls(Filters=flt + [{"Name": "default", "Values": ["true"]}])
        rt = ec2.describe_route_tables(Filters=flt + [{"Name": "association.main", "Values": ["true"]}])
        return {
            "VpcId": physical_id,
            "CidrBlock": vpc.get("CidrBlock"),
            "DefaultSecurityGroupId": next((g["GroupId"] for g in sg["SecurityGroups"]), None),
            "DefaultNetworkAclId": next((a["NetworkAclId"] for a in acl["NetworkAcls"]), None),
            "MainRouteTableId": next((r["RouteTableId"] for r in rt["RouteTables"]), None),
        }

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        vpc = self.describe_one(ctx, physical_id)
        if vpc is None:
            return None
        ec2 = ctx.client("ec2")
        attr = {k: ec2.describe_vpc_attribute(VpcId=physical_id, Attribute=a)[k]["Value"]
                for k, a in (("EnableDnsSupport", "enableDnsSupport"), ("EnableDnsHostnames", "enableDnsHostnames"))}
        sg = self._default_sg(ctx, physical_id) or {}
        restricted = not sg.get("IpPermissions") and not sg.get("IpPermissionsEgress")
        return {"CidrBlock": vpc["CidrBlock"], "InstanceTenancy": vpc.get("InstanceTenancy", "default"), **attr,
                "RestrictDefaultSecurityGroup": restricted}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        why = self.refusal(old, new, [k for k in new if old.get(k) != new.get(k)])
        if why:
            raise ResourceError(f"{self.type_name} {self.address}: {why}")
        if old.get("InstanceTenancy", "default") != new["InstanceTenancy"]:
            ctx.client("ec2").modify_vpc_tenancy(VpcId=physical_id, InstanceTenancy=new["InstanceTenancy"])
        self._set_dns(ctx, physical_id, new, old)
        if old.get("RestrictDefaultSecurityGroup") != new.get("RestrictDefaultSecurityGroup"):
            self._restrict_default_sg(ctx, physical_id, bool(new.get("RestrictDefaultSecurityGroup")))
        self.retag(ctx, physical_id)  # a plan-wide tag change is an update of its own (issue 13)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("ec2").delete_vpc, VpcId=physical_id)


# --------------------------------------------------------------------------- helpers


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    """Drop None values: read() must match validated props, which omit unset optionals."""
    return {k: v for k, v in d.items() if v is not None}


def _subnet_cidr(value: Any) -> str | None:
    """AWS subnets are /16 to /28; catch the rest before any API call."""
    msg = cidr(value)
    if msg:
        return msg
    prefix = ipaddress.ip_network(value).prefixlen
    return None if 16 <= prefix <= 28 else f"has prefix /{prefix}; AWS subnets must be /16 to /28"


def _ip_protocol(value: Any) -> str | None:
    """Security group protocols: a name AWS keeps as written, or -1 for all."""
    return None if value in ("tcp", "udp", "icmp", "icmpv6", "-1") else "must be one of tcp, udp, icmp, icmpv6, -1"


def _acl_protocol(value: Any) -> str | None:
    """NACL entries take protocol numbers ("6" tcp, "17" udp, "1" icmp) or "-1"; AWS reports numbers."""
    if value == "-1" or (isinstance(value, str) and value.isdigit() and 0 <= int(value) <= 255):
        return None
    return 'must be "-1" or an IP protocol number as a string ("6" tcp, "17" udp, "1" icmp)'


def _port_range(value: Any) -> str | None:
    if not isinstance(value, dict) or set(value) != {"From", "To"}:
        return 'must be {"From": int, "To": int}'
    lo, hi = value["From"], value["To"]
    if not all(isinstance(x, int) and 0 <= x <= 65535 for x in (lo, hi)) or lo > hi:
        return "must have 0 <= From <= To <= 65535"
    return None


def _resolved(props: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """True when every key holds a plain value (no Ref/Join still waiting for apply)."""
    return all(k in props and not any(True for _ in walk_refs(props[k])) and not isinstance(props[k], Join)
               for k in keys)


class KeyedEc2Resource(Ec2Resource):
    """EC2 objects AWS cannot tag (routes, associations, NACL entries).

    Their identity is a deterministic key built from their properties, so
    find() looks the key up instead of a tag. find() takes the resolved
    properties from the caller (`find(ctx, props)`) or the ctx (the engine
    resolves them for each step); without either it falls back to the
    declaration, which works once its Refs are plain values.
    """

    key_props: ClassVar[tuple[str, ...]] = ()

    def find(self, ctx: Ctx, props: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]] | None:
        if props is None:
            props = dict(ctx.props) if _resolved(dict(ctx.props), self.key_props) else self.properties
        props = dict(props)
        if not _resolved(props, self.key_props):
            return None
        pid = self.key_of(props)
        if self.read(ctx, pid) is None:
            return None
        return pid, self.outputs_of(ctx, pid)

    def key_of(self, props: dict[str, Any]) -> str:
        raise NotImplementedError(f"{self.type_name}.key_of")


# --------------------------------------------------------------------------- subnets and gateways


class Subnet(BatchRead, Ec2Resource):
    """A subnet in one AZ. Only MapPublicIpOnLaunch changes in place; CIDR and AZ mean a new subnet."""

    type_name = "ec2.Subnet"
    created_waiter = "SubnetCreated"
    label = "subnet"
    arn_kind = ("ec2", "subnet")
    id_prefix = "subnet-"
    ec2_type, describe, list_key, id_key, ids_param = "subnet", "describe_subnets", "Subnets", "SubnetId", "SubnetIds"
    props = {
        "VpcId": P(str, required=True),
        "CidrBlock": P(str, required=True, validator=_subnet_cidr),
        "AvailabilityZone": P(str, required=True),
        "MapPublicIpOnLaunch": P(bool, default=False),
    }
    replace_on = frozenset({"VpcId", "CidrBlock", "AvailabilityZone"})
    outputs = ("SubnetId", "CidrBlock", "AvailabilityZone", "VpcId")
    not_found = ("InvalidSubnetID.NotFound",)
    dependency_seconds = 1200.0  # TF aws_subnet delete timeout: the services' ENIs drain out of it
    retries: ClassVar[tuple[Retry, ...]] = (NEW_VPC,)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.client("ec2")
        subnet = ec2.create_subnet(VpcId=props["VpcId"], CidrBlock=props["CidrBlock"],
                                   AvailabilityZone=props["AvailabilityZone"],
                                   TagSpecifications=self.tag_specs(ctx))["Subnet"]
        sid = subnet["SubnetId"]
        ctx.wait("ec2", "SubnetCreated", SubnetIds=[sid])
        if props.get("MapPublicIpOnLaunch"):
            ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
        return sid, self.outputs_of(ctx, sid)

    def props_from(self, ctx: Ctx, physical_id: str, s: dict[str, Any]) -> dict[str, Any] | None:
        return {"VpcId": s["VpcId"], "CidrBlock": s["CidrBlock"], "AvailabilityZone": s["AvailabilityZone"],
                "MapPublicIpOnLaunch": bool(s.get("MapPublicIpOnLaunch"))}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if bool(old.get("MapPublicIpOnLaunch")) != bool(new.get("MapPublicIpOnLaunch")):
            ctx.client("ec2").modify_subnet_attribute(
                SubnetId=physical_id, MapPublicIpOnLaunch={"Value": bool(new.get("MapPublicIpOnLaunch"))})
        self.retag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        delete_lingering_enis(ctx, "subnet-id", physical_id)
        self.ignore_gone(ctx.client("ec2").delete_subnet, SubnetId=physical_id)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        s = self.describe_one(ctx, physical_id) or {}
        return {"SubnetId": physical_id, "CidrBlock": s.get("CidrBlock"),
                "AvailabilityZone": s.get("AvailabilityZone"), "VpcId": s.get("VpcId")}


class InternetGateway(BatchRead, Ec2Resource):
    """An internet gateway attached to one VPC: attach at create, detach before delete.

    CloudFormation needs a separate VPCGatewayAttachment; here the attachment is
    a property, and moving it to another VPC is an in-place detach/attach.
    """

    type_name = "ec2.InternetGateway"
    label = "internet gateway"
    arn_kind = ("ec2", "internet-gateway")
    id_prefix = "igw-"
    ec2_type, describe, list_key = "internet-gateway", "describe_internet_gateways", "InternetGateways"
    id_key, ids_param = "InternetGatewayId", "InternetGatewayIds"
    props = {"VpcId": P(str)}
    outputs = ("InternetGatewayId",)
    not_found = ("InvalidInternetGatewayID.NotFound", "InvalidInternetGateway.NotFound")
    # The detach is refused while a load balancer's (or anything's) public addresses are still mapped in
    # the VPC: AWS releases an ALB's interfaces minutes after the ALB is gone. TF retries the detach on
    # DependencyViolation up to its 20 min delete timeout (ec2/vpc_internet_gateway.go).
    retries: ClassVar[tuple[Retry, ...]] = (
        NEW_VPC,  # AttachInternetGateway's VpcId
        on_delete("DependencyViolation", r"mapped public address", 1200.0,
                  why="TF ec2/vpc_internet_gateway.go: detach retried while public addresses are mapped"),
    )
    dependency_seconds = 1200.0

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.client("ec2")
        igw = ec2.create_internet_gateway(TagSpecifications=self.tag_specs(ctx))["InternetGateway"]
        igw_id = igw["InternetGatewayId"]
        ctx.wait("ec2", "InternetGatewayExists", InternetGatewayIds=[igw_id])
        if props.get("VpcId"):
            ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=props["VpcId"])
        return igw_id, self.outputs_of(ctx, igw_id)

    @staticmethod
    def _attached(igw: dict[str, Any]) -> list[str]:
        return [a["VpcId"] for a in igw.get("Attachments", []) if a.get("State") not in ("detaching", "detached")]

    def props_from(self, ctx: Ctx, physical_id: str, igw: dict[str, Any]) -> dict[str, Any] | None:
        return _compact({"VpcId": next(iter(self._attached(igw)), None)})

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        ec2 = ctx.client("ec2")
        if old.get("VpcId") != new.get("VpcId"):
            if old.get("VpcId"):
                self.ignore_gone(ec2.detach_internet_gateway, InternetGatewayId=physical_id, VpcId=old["VpcId"])
            if new.get("VpcId"):
                ec2.attach_internet_gateway(InternetGatewayId=physical_id, VpcId=new["VpcId"])
        self.retag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        ec2 = ctx.client("ec2")
        igw = self.describe_one(ctx, physical_id)
        if igw is None:
            return
        # Detach from whatever it is attached to now, not what the plan said:
        # AWS refuses to delete an attached gateway.
        for vpc_id in self._attached(igw):
            self.ignore_gone(ec2.detach_internet_gateway, InternetGatewayId=physical_id, VpcId=vpc_id)
        self.ignore_gone(ec2.delete_internet_gateway, InternetGatewayId=physical_id)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"InternetGatewayId": physical_id}


class Eip(BatchRead, Ec2Resource):
    """An Elastic IP for a NAT gateway (Domain vpc). Nothing about it changes in place."""

    type_name = "ec2.Eip"
    created_waiter = "AddressCreated"
    label = "Elastic IP"
    arn_kind = ("ec2", "elastic-ip")
    id_prefix = "eipalloc-"
    ec2_type, describe, list_key = "elastic-ip", "describe_addresses", "Addresses"
    id_key, ids_param = "AllocationId", "AllocationIds"
    props = {"Domain": P(str, default="vpc", validator=one_of("vpc"))}
    replace_on = frozenset({"Domain"})
    change_notes = {"Domain": "replace: an address no longer moves between EC2-Classic and a VPC (the "
                              "migration calls are retired); CloudFormation's schema still lists it as updatable"}
    outputs = ("AllocationId", "PublicIp")
    not_found = ("InvalidAllocationID.NotFound",)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        addr = ctx.client("ec2").allocate_address(Domain=props["Domain"], TagSpecifications=self.tag_specs(ctx))
        # Its public IP (an output) comes from a describe, which may not know the new id yet.
        ctx.wait("ec2", "AddressCreated", AllocationIds=[addr["AllocationId"]])
        return addr["AllocationId"], self.outputs_of(ctx, addr["AllocationId"])

    def props_from(self, ctx: Ctx, physical_id: str, addr: dict[str, Any]) -> dict[str, Any] | None:
        return {"Domain": addr.get("Domain", "vpc")}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self.retag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("ec2").release_address, AllocationId=physical_id)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        addr = self.describe_one(ctx, physical_id) or {}
        return {"AllocationId": physical_id, "PublicIp": addr.get("PublicIp")}


class NatGateway(BatchRead, Ec2Resource):
    """A public NAT gateway in a public subnet with one EIP.

    Takes minutes in AWS both ways: create waits NatGatewayAvailable, delete
    waits NatGatewayDeleted so the EIP and subnet can go right after.
    """

    type_name = "ec2.NatGateway"
    label = "NAT gateway"
    arn_kind = ("ec2", "natgateway")
    id_prefix = "nat-"
    durations = Durations(create=90, update=0, delete=60)
    ec2_type, describe, list_key = "natgateway", "describe_nat_gateways", "NatGateways"
    id_key, ids_param = "NatGatewayId", "NatGatewayIds"
    props = {
        "SubnetId": P(str, required=True),
        "AllocationId": P(str, required=True),
        "ConnectivityType": P(str, default="public", validator=one_of("public")),
    }
    replace_on = frozenset({"SubnetId", "AllocationId", "ConnectivityType"})
    outputs = ("NatGatewayId", "SubnetId", "PublicIp")
    not_found = ("NatGatewayNotFound", "InvalidNatGatewayID.NotFound")
    retries: ClassVar[tuple[Retry, ...]] = (NEW_SUBNET, NEW_ADDRESS)
    timeouts = {"create": 900, "update": 900, "delete": 900}

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kw: dict[str, Any] = {"SubnetId": props["SubnetId"], "AllocationId": props["AllocationId"],
                              "ConnectivityType": props["ConnectivityType"],
                              "TagSpecifications": self.tag_specs(ctx)}
        if ctx.token:
            kw["ClientToken"] = ctx.token
        nat_id = ctx.client("ec2").create_nat_gateway(**kw)["NatGateway"]["NatGatewayId"]
        ctx.wait("ec2", "NatGatewayAvailable", NatGatewayIds=[nat_id])
        return nat_id, self.outputs_of(ctx, nat_id)

    def props_from(self, ctx: Ctx, physical_id: str, nat: dict[str, Any]) -> dict[str, Any] | None:
        alloc = next((a.get("AllocationId") for a in nat.get("NatGatewayAddresses", [])), None)
        return _compact({"SubnetId": nat["SubnetId"], "AllocationId": alloc,
                         "ConnectivityType": nat.get("ConnectivityType", "public")})

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self.retag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        # Describe first: a deleted NAT still answers describe (state deleted),
        # and moto fails on deleting an unknown id instead of saying NotFound.
        nat = self.describe_one(ctx, physical_id)
        if nat is None:
            return
        ec2 = ctx.client("ec2")
        self.ignore_gone(ec2.delete_nat_gateway, NatGatewayId=physical_id)
        ctx.wait("ec2", "NatGatewayDeleted", timeout_key="delete", NatGatewayIds=[physical_id])

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        nat = self.describe_one(ctx, physical_id) or {}
        ip = next((a.get("PublicIp") for a in nat.get("NatGatewayAddresses", [])), None)
        return {"NatGatewayId": physical_id, "SubnetId": nat.get("SubnetId"), "PublicIp": ip}


# --------------------------------------------------------------------------- routing


class RouteTable(BatchRead, Ec2Resource):
    """A route table; its routes and subnet associations are their own resources."""

    type_name = "ec2.RouteTable"
    created_waiter = "RouteTableCreated"
    label = "route table"
    arn_kind = ("ec2", "route-table")
    id_prefix = "rtb-"
    ec2_type, describe, list_key = "route-table", "describe_route_tables", "RouteTables"
    id_key, ids_param = "RouteTableId", "RouteTableIds"
    props = {"VpcId": P(str, required=True)}
    replace_on = frozenset({"VpcId"})
    outputs = ("RouteTableId",)
    not_found = ("InvalidRouteTableID.NotFound",)
    retries: ClassVar[tuple[Retry, ...]] = (NEW_VPC,)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kw: dict[str, Any] = {"VpcId": props["VpcId"], "TagSpecifications": self.tag_specs(ctx)}
        if ctx.token:
            kw["ClientToken"] = ctx.token
        rt_id = ctx.client("ec2").create_route_table(**kw)["RouteTable"]["RouteTableId"]
        # Its routes and associations name it next: done once AWS knows it (Terraform's waitRouteTableReady).
        ctx.wait("ec2", "RouteTableCreated", RouteTableIds=[rt_id])
        return rt_id, self.outputs_of(ctx, rt_id)

    def props_from(self, ctx: Ctx, physical_id: str, rt: dict[str, Any]) -> dict[str, Any] | None:
        return {"VpcId": rt["VpcId"]}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self.retag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("ec2").delete_route_table, RouteTableId=physical_id)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"RouteTableId": physical_id}


class Route(BatchRead, KeyedEc2Resource):
    """One IPv4 route. Routes have no id or tags in AWS: the key is "rtb-x|cidr".

    A new target (another NAT, the IGW) is replace_route in place; a new table
    or destination is another route.
    """

    type_name = "ec2.Route"
    label = "route"
    props = {
        "RouteTableId": P(str, required=True),
        "DestinationCidrBlock": P(str, required=True, validator=cidr),
        "GatewayId": P(str),
        "NatGatewayId": P(str),
    }
    replace_on = frozenset({"RouteTableId", "DestinationCidrBlock"})
    outputs = ("RouteTableId", "DestinationCidrBlock")
    not_found = ("InvalidRouteTableID.NotFound", "InvalidRoute.NotFound")
    key_props = ("RouteTableId", "DestinationCidrBlock")
    retries: ClassVar[tuple[Retry, ...]] = (NEW_ROUTE_TABLE,)
    targets: ClassVar[tuple[str, ...]] = ("GatewayId", "NatGatewayId")

    def validate(self, props: dict[str, Any]) -> None:
        given = [t for t in self.targets if t in props]
        if len(given) != 1:
            raise PlanError(f"{self.type_name} {self.name!r}: exactly one of {', '.join(self.targets)} "
                            f"is required, got {', '.join(given) or 'none'}")

    def key_of(self, props: dict[str, Any]) -> str:
        return f"{props['RouteTableId']}|{props['DestinationCidrBlock']}"

    @staticmethod
    def split(physical_id: str) -> tuple[str, str]:
        rt_id, _, dest = physical_id.partition("|")
        return rt_id, dest

    def _target(self, props: dict[str, Any]) -> dict[str, str]:
        return {t: props[t] for t in self.targets if props.get(t)}

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        pid = self.key_of(props)
        try:
            ctx.client("ec2").create_route(RouteTableId=props["RouteTableId"],
                                           DestinationCidrBlock=props["DestinationCidrBlock"], **self._target(props))
        except Exception as exc:
            # A crash after the call left the route behind: adopt it if it is
            # the one we want, never silently repoint someone else's.
            if self.code(exc) != "RouteAlreadyExists" or self._existing_target(ctx, pid) != self._target(props):
                raise
        return pid, self.outputs_of(ctx, pid)

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """The route of each key, from one describe of all the tables the keys name."""
        tables = RouteTable.describe_many(ctx, [cls.split(pid)[0] for pid in ids])
        out: dict[str, Any] = {}
        for pid in ids:
            rt_id, dest = cls.split(pid)
            routes = tables.get(rt_id, {}).get("Routes", [])
            route = next((r for r in routes if r.get("DestinationCidrBlock") == dest), None)
            if route is not None:
                out[pid] = route
        return out

    def _existing_target(self, ctx: Ctx, physical_id: str) -> dict[str, str] | None:
        route = self.fetch(ctx, [physical_id]).get(physical_id)
        return None if route is None else self._target_of(route)

    @classmethod
    def _target_of(cls, route: dict[str, Any]) -> dict[str, str]:
        return {t: route[t] for t in cls.targets if route.get(t)}

    def props_from(self, ctx: Ctx, physical_id: str, route: dict[str, Any]) -> dict[str, Any] | None:
        rt_id, dest = self.split(physical_id)
        return {"RouteTableId": rt_id, "DestinationCidrBlock": dest, **self._target_of(route)}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if self._target(old) != self._target(new):
            rt_id, dest = self.split(physical_id)
            ctx.client("ec2").replace_route(RouteTableId=rt_id, DestinationCidrBlock=dest, **self._target(new))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        rt_id, dest = self.split(physical_id)
        self.ignore_gone(ctx.client("ec2").delete_route, RouteTableId=rt_id, DestinationCidrBlock=dest)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        rt_id, dest = self.split(physical_id)
        return {"RouteTableId": rt_id, "DestinationCidrBlock": dest}


class RouteTableAssociation(BatchRead, KeyedEc2Resource):
    """Which route table a subnet uses.

    A subnet has at most one explicit association, so the subnet id is the
    key (and the physical id): replace_route_table_association moves it to
    another table in place and gives it a new association id (an output).
    """

    type_name = "ec2.RouteTableAssociation"
    label = "route table association"
    props = {"RouteTableId": P(str, required=True), "SubnetId": P(str, required=True)}
    replace_on = frozenset({"SubnetId"})
    change_notes = {"RouteTableId": "in place with ReplaceRouteTableAssociation: the subnet is never without "
                                    "a route table; CloudFormation replaces the association"}
    outputs = ("AssociationId", "RouteTableId", "SubnetId")
    not_found = ("InvalidAssociationID.NotFound", "InvalidRouteTableID.NotFound", "InvalidSubnetID.NotFound")
    key_props = ("SubnetId",)
    retries: ClassVar[tuple[Retry, ...]] = (NEW_ROUTE_TABLE, NEW_SUBNET)

    def key_of(self, props: dict[str, Any]) -> str:
        return props["SubnetId"]

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """The explicit association of each subnet id, from one filtered describe of route tables."""
        def call(chunk: list[str]) -> dict[str, Any]:
            wanted, out = set(chunk), {}
            tables = ctx.client("ec2").describe_route_tables(
                Filters=[{"Name": "association.subnet-id", "Values": chunk}])["RouteTables"]
            for rt in tables:
                for a in rt.get("Associations", []):
                    if a.get("SubnetId") in wanted and not a.get("Main") \
                            and a.get("AssociationState", {}).get("State", "associated") in ("associated",
                                                                                             "associating"):
                        out.setdefault(a["SubnetId"], a)
            return out

        return fetch_in_chunks(ids, cls.batch, call, lambda exc: False)  # a filter never says not-found

    def _assoc(self, ctx: Ctx, subnet_id: str) -> dict[str, Any] | None:
        return self.fetch(ctx, [subnet_id]).get(subnet_id)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        try:
            ctx.client("ec2").associate_route_table(RouteTableId=props["RouteTableId"], SubnetId=props["SubnetId"])
        except Exception as exc:
            existing = self._assoc(ctx, props["SubnetId"])
            if self.code(exc) != "Resource.AlreadyAssociated" or existing is None \
                    or existing["RouteTableId"] != props["RouteTableId"]:
                raise
        return props["SubnetId"], self.outputs_of(ctx, props["SubnetId"])

    def props_from(self, ctx: Ctx, physical_id: str, a: dict[str, Any]) -> dict[str, Any] | None:
        return {"RouteTableId": a["RouteTableId"], "SubnetId": physical_id}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        a = self._assoc(ctx, physical_id)
        ec2 = ctx.client("ec2")
        if a is None:
            ec2.associate_route_table(RouteTableId=new["RouteTableId"], SubnetId=physical_id)
        elif a["RouteTableId"] != new["RouteTableId"]:
            ec2.replace_route_table_association(AssociationId=a["RouteTableAssociationId"],
                                                RouteTableId=new["RouteTableId"])
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        a = self.ignore_gone(self._assoc, ctx, physical_id)
        if a is not None:
            self.ignore_gone(ctx.client("ec2").disassociate_route_table, AssociationId=a["RouteTableAssociationId"])

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        a = self._assoc(ctx, physical_id) or {}
        return {"AssociationId": a.get("RouteTableAssociationId"), "RouteTableId": a.get("RouteTableId"),
                "SubnetId": physical_id}


# --------------------------------------------------------------------------- security groups


class SecurityGroup(BatchRead, Ec2Resource):
    """A security group named ctx.physical_name(); its rules are SecurityGroupRule resources.

    AWS adds an allow-all egress rule to every new group. Groups that must
    not initiate traffic (load balancer, data stores) set RevokeDefaultEgress
    and get only the egress rules the plan declares.
    """

    type_name = "ec2.SecurityGroup"
    created_waiter = "SecurityGroupExists"
    label = "security group"
    arn_kind = ("ec2", "security-group")
    id_prefix = "sg-"
    ec2_type, describe, list_key = "security-group", "describe_security_groups", "SecurityGroups"
    id_key, ids_param = "GroupId", "GroupIds"
    props = {
        "VpcId": P(str, required=True),
        "Description": P(str, default="Managed by genai-infra"),
        "RevokeDefaultEgress": P(bool, default=False),
    }
    replace_on = frozenset({"VpcId", "Description"})
    outputs = ("GroupId", "GroupName", "VpcId")
    not_found = ("InvalidGroup.NotFound", "InvalidGroupId.Malformed")
    retries: ClassVar[tuple[Retry, ...]] = (NEW_VPC,)
    default_egress: ClassVar[dict[str, Any]] = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    dependency_seconds = ENI_HELD_SECONDS  # TF aws_security_group delete timeout (ec2/vpc_security_group.go)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.client("ec2")
        gid = ec2.create_security_group(GroupName=ctx.physical_name(), Description=props["Description"],
                                        VpcId=props["VpcId"], TagSpecifications=self.tag_specs(ctx))["GroupId"]
        ctx.wait("ec2", "SecurityGroupExists", GroupIds=[gid])
        if props.get("RevokeDefaultEgress"):
            self._set_default_egress(ctx, gid, present=False)
        return gid, self.outputs_of(ctx, gid)

    @classmethod
    def _default_egress_rules(cls, ctx: Ctx, gids: list[str]) -> dict[str, dict[str, Any]]:
        """{group id: its default allow-all egress rule} for those of `gids` that have one: one
        filtered describe of the rules of all the groups."""
        def call(chunk: list[str]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            pages = ctx.client("ec2").get_paginator("describe_security_group_rules").paginate(
                Filters=[{"Name": "group-id", "Values": chunk}])
            for r in (r for page in pages for r in page["SecurityGroupRules"]):
                if r.get("IsEgress") and r.get("IpProtocol") == "-1" and r.get("CidrIpv4") == "0.0.0.0/0" \
                        and "infra:address" not in tag_dict(r.get("Tags")):
                    out.setdefault(r["GroupId"], r)
            return out

        return fetch_in_chunks(gids, cls.batch, call, lambda exc: False)  # a filter never says not-found

    def _default_egress_rule(self, ctx: Ctx, gid: str) -> dict[str, Any] | None:
        return self._default_egress_rules(ctx, [gid]).get(gid)

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """(group, its default egress rule or None) per existing id: two describe calls for all."""
        groups = cls.describe_many(ctx, ids)
        egress = cls._default_egress_rules(ctx, list(groups)) if groups else {}
        return {gid: (sg, egress.get(gid)) for gid, sg in groups.items()}

    def _set_default_egress(self, ctx: Ctx, gid: str, present: bool) -> None:
        ec2 = ctx.client("ec2")
        has = self._default_egress_rule(ctx, gid) is not None
        if present and not has:
            ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[self.default_egress])
        elif has and not present:
            self.ignore_gone(ec2.revoke_security_group_egress, GroupId=gid, IpPermissions=[self.default_egress])

    def props_from(self, ctx: Ctx, physical_id: str, raw: tuple[dict[str, Any], Any]) -> dict[str, Any] | None:
        sg, default_egress = raw
        return {"VpcId": sg["VpcId"], "Description": sg["Description"], "RevokeDefaultEgress": default_egress is None}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if bool(old.get("RevokeDefaultEgress")) != bool(new.get("RevokeDefaultEgress")):
            self._set_default_egress(ctx, physical_id, present=not new.get("RevokeDefaultEgress"))
        self.retag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        delete_lingering_enis(ctx, "group-id", physical_id)
        self.ignore_gone(ctx.client("ec2").delete_security_group, GroupId=physical_id)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        sg = self.describe_one(ctx, physical_id) or {}
        return {"GroupId": physical_id, "GroupName": sg.get("GroupName"), "VpcId": sg.get("VpcId")}


class SecurityGroupRule(BatchRead, Ec2Resource):
    """One ingress or egress rule, with its own id (sgr-...) and tags.

    Exactly one peer: CidrIp or SourceSecurityGroupId (for egress rules the
    "source" group is the destination, as in CloudFormation's
    DestinationSecurityGroupId). Ports, protocol, CIDR and description change
    in place through ModifySecurityGroupRules. A new peer group means a new
    rule: AWS refuses to delete a group that a rule still refers to, and a
    replacement is deleted before its old peer is, where an in-place update
    would leave the old peer undeletable until the update ran.
    """

    type_name = "ec2.SecurityGroupRule"
    label = "security group rule"
    arn_kind = ("ec2", "security-group-rule")
    id_prefix = "sgr-"
    ec2_type, describe, list_key = "security-group-rule", "describe_security_group_rules", "SecurityGroupRules"
    id_key, ids_param = "SecurityGroupRuleId", "SecurityGroupRuleIds"
    props = {
        "GroupId": P(str, required=True),
        "Direction": P(str, required=True, validator=one_of("ingress", "egress")),
        "IpProtocol": P(str, required=True, validator=_ip_protocol),
        "FromPort": P(int, validator=int_range(-1, 65535)),
        "ToPort": P(int, validator=int_range(-1, 65535)),
        "CidrIp": P(str, validator=cidr),
        "SourceSecurityGroupId": P(str),
        "Description": P(str),
    }
    replace_on = frozenset({"GroupId", "Direction", "SourceSecurityGroupId"})
    outputs = ("SecurityGroupRuleId", "GroupId")
    not_found = ("InvalidSecurityGroupRuleId.NotFound", "InvalidPermission.NotFound", "InvalidGroup.NotFound")
    retries: ClassVar[tuple[Retry, ...]] = (NEW_GROUP,)  # its group, or the peer group, made moments ago

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        peers = [k for k in ("CidrIp", "SourceSecurityGroupId") if k in props]
        if len(peers) != 1:
            raise PlanError(f"{where}: exactly one of CidrIp, SourceSecurityGroupId is required, "
                            f"got {', '.join(peers) or 'none'}")
        ports = [k for k in ("FromPort", "ToPort") if k in props]
        if props.get("IpProtocol") in ("tcp", "udp") and len(ports) != 2:
            raise PlanError(f"{where}: IpProtocol {props['IpProtocol']} needs FromPort and ToPort")
        if props.get("IpProtocol") == "-1" and ports:
            raise PlanError(f"{where}: IpProtocol -1 (all traffic) takes no FromPort/ToPort")
        lo, hi = props.get("FromPort"), props.get("ToPort")
        if props.get("IpProtocol") in ("tcp", "udp") and isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            raise PlanError(f"{where}: FromPort {lo} is above ToPort {hi}")

    def _rule_body(self, props: dict[str, Any]) -> dict[str, Any]:
        """The SecurityGroupRuleRequest shape (ModifySecurityGroupRules). All traffic (-1) goes with the
        port range -1 to -1, which is what EC2 stores for it (moto refuses the request without ports)."""
        every = props["IpProtocol"] == "-1"
        return _compact({"IpProtocol": props["IpProtocol"], "FromPort": -1 if every else props.get("FromPort"),
                         "ToPort": -1 if every else props.get("ToPort"), "CidrIpv4": props.get("CidrIp"),
                         "ReferencedGroupId": props.get("SourceSecurityGroupId"),
                         "Description": props.get("Description")})

    def _permission(self, props: dict[str, Any]) -> dict[str, Any]:
        """The IpPermission shape (Authorize*)."""
        perm: dict[str, Any] = _compact({"IpProtocol": props["IpProtocol"], "FromPort": props.get("FromPort"),
                                         "ToPort": props.get("ToPort")})
        peer = _compact({"Description": props.get("Description")})
        if props.get("CidrIp"):
            perm["IpRanges"] = [{"CidrIp": props["CidrIp"], **peer}]
        else:
            perm["UserIdGroupPairs"] = [{"GroupId": props["SourceSecurityGroupId"], **peer}]
        return perm

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.client("ec2")
        authorize = ec2.authorize_security_group_egress if props["Direction"] == "egress" \
            else ec2.authorize_security_group_ingress
        resp = authorize(GroupId=props["GroupId"], IpPermissions=[self._permission(props)],
                         TagSpecifications=self.tag_specs(ctx))
        rule_id = resp["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        return rule_id, self.outputs_of(ctx, rule_id)

    def props_from(self, ctx: Ctx, physical_id: str, r: dict[str, Any]) -> dict[str, Any] | None:
        all_traffic = r.get("IpProtocol") == "-1"
        return _compact({
            "GroupId": r["GroupId"],
            "Direction": "egress" if r.get("IsEgress") else "ingress",
            "IpProtocol": r.get("IpProtocol"),
            "FromPort": None if all_traffic else r.get("FromPort"),
            "ToPort": None if all_traffic else r.get("ToPort"),
            "CidrIp": r.get("CidrIpv4"),
            "SourceSecurityGroupId": (r.get("ReferencedGroupInfo") or {}).get("GroupId"),
            "Description": r.get("Description") or None,
        })

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        ec2 = ctx.client("ec2")
        if self._rule_body(old) != self._rule_body(new):
            ec2.modify_security_group_rules(GroupId=new["GroupId"], SecurityGroupRules=[
                {"SecurityGroupRuleId": physical_id, "SecurityGroupRule": self._rule_body(new)}])
        self.retag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        r = self.describe_one(ctx, physical_id)
        if r is None:
            return
        ec2 = ctx.client("ec2")
        revoke = ec2.revoke_security_group_egress if r.get("IsEgress") else ec2.revoke_security_group_ingress
        self.ignore_gone(revoke, GroupId=r["GroupId"], SecurityGroupRuleIds=[physical_id])

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        r = self.describe_one(ctx, physical_id) or {}
        return {"SecurityGroupRuleId": physical_id, "GroupId": r.get("GroupId")}


# --------------------------------------------------------------------------- network ACLs


class NetworkAcl(BatchRead, Ec2Resource):
    """A network ACL and the subnets that use it.

    A subnet always has exactly one NACL association, so "associating" means
    replacing the subnet's current association; on delete (or when a subnet
    leaves SubnetIds) the subnet goes back to the VPC's default NACL, which
    AWS requires before the ACL can be deleted.
    """

    type_name = "ec2.NetworkAcl"
    label = "network ACL"
    arn_kind = ("ec2", "network-acl")
    id_prefix = "acl-"
    ec2_type, describe, list_key = "network-acl", "describe_network_acls", "NetworkAcls"
    id_key, ids_param = "NetworkAclId", "NetworkAclIds"
    props = {"VpcId": P(str, required=True), "SubnetIds": P(list, default=[])}
    replace_on = frozenset({"VpcId"})
    unordered = frozenset({"SubnetIds"})
    outputs = ("NetworkAclId",)
    not_found = ("InvalidNetworkAclID.NotFound",)
    retries: ClassVar[tuple[Retry, ...]] = (NEW_VPC,)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kw: dict[str, Any] = {"VpcId": props["VpcId"], "TagSpecifications": self.tag_specs(ctx)}
        if ctx.token:
            kw["ClientToken"] = ctx.token
        acl_id = ctx.client("ec2").create_network_acl(**kw)["NetworkAcl"]["NetworkAclId"]
        for sid in props.get("SubnetIds") or []:
            self._move(ctx, sid, acl_id)
        return acl_id, self.outputs_of(ctx, acl_id)

    def _move(self, ctx: Ctx, subnet_id: str, acl_id: str) -> None:
        """Point the subnet at acl_id by replacing whatever association it has now."""
        ec2 = ctx.client("ec2")
        acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])
        for acl in acls["NetworkAcls"]:
            for a in acl.get("Associations", []):
                if a.get("SubnetId") == subnet_id and a.get("NetworkAclId") != acl_id:
                    ec2.replace_network_acl_association(AssociationId=a["NetworkAclAssociationId"],
                                                        NetworkAclId=acl_id)

    def _default_acl(self, ctx: Ctx, vpc_id: str) -> str:
        acls = ctx.client("ec2").describe_network_acls(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "default", "Values": ["true"]}])
        return acls["NetworkAcls"][0]["NetworkAclId"]

    def props_from(self, ctx: Ctx, physical_id: str, acl: dict[str, Any]) -> dict[str, Any] | None:
        return {"VpcId": acl["VpcId"], "SubnetIds": [a["SubnetId"] for a in acl.get("Associations", [])]}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        acl = self.describe_one(ctx, physical_id) or {}
        now = {a["SubnetId"] for a in acl.get("Associations", [])}
        wanted = set(new.get("SubnetIds") or [])
        for sid in sorted(wanted - now):
            self._move(ctx, sid, physical_id)
        leaving = sorted(now - wanted)
        if leaving:
            default = self._default_acl(ctx, acl["VpcId"])
            for sid in leaving:
                self._move(ctx, sid, default)
        self.retag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        acl = self.describe_one(ctx, physical_id)
        if acl is None:
            return
        if acl.get("Associations"):
            default = self._default_acl(ctx, acl["VpcId"])
            for a in acl["Associations"]:
                self._move(ctx, a["SubnetId"], default)
        self.ignore_gone(ctx.client("ec2").delete_network_acl, NetworkAclId=physical_id)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"NetworkAclId": physical_id}


class NetworkAclEntry(BatchRead, KeyedEc2Resource):
    """One numbered NACL rule; key "acl-x|ingress|100". NACLs are stateless:
    the plan must add the ephemeral return ports (1024-65535) itself."""

    type_name = "ec2.NetworkAclEntry"
    label = "network ACL entry"
    props = {
        "NetworkAclId": P(str, required=True),
        "RuleNumber": P(int, required=True, validator=int_range(1, 32766)),
        "Protocol": P(str, required=True, validator=_acl_protocol),
        "RuleAction": P(str, required=True, validator=one_of("allow", "deny")),
        "Egress": P(bool, default=False),
        "CidrBlock": P(str, required=True, validator=cidr),
        "PortRange": P(dict, validator=_port_range),
    }
    replace_on = frozenset({"NetworkAclId", "RuleNumber", "Egress"})
    outputs = ("NetworkAclId", "RuleNumber")
    not_found = ("InvalidNetworkAclID.NotFound", "InvalidNetworkAclEntry.NotFound")
    key_props = ("NetworkAclId", "RuleNumber")

    def validate(self, props: dict[str, Any]) -> None:
        if props.get("Protocol") in ("6", "17") and "PortRange" not in props:
            raise PlanError(f"{self.type_name} {self.name!r}: Protocol {props['Protocol']} (tcp/udp) needs PortRange")

    def key_of(self, props: dict[str, Any]) -> str:
        return f"{props['NetworkAclId']}|{'egress' if props.get('Egress') else 'ingress'}|{props['RuleNumber']}"

    @staticmethod
    def split(physical_id: str) -> tuple[str, bool, int]:
        acl_id, direction, number = physical_id.split("|")
        return acl_id, direction == "egress", int(number)

    def _args(self, props: dict[str, Any]) -> dict[str, Any]:
        return _compact({"NetworkAclId": props["NetworkAclId"], "RuleNumber": props["RuleNumber"],
                         "Protocol": props["Protocol"], "RuleAction": props["RuleAction"],
                         "Egress": bool(props.get("Egress")), "CidrBlock": props["CidrBlock"],
                         "PortRange": props.get("PortRange")})

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """The entry of each key, from one describe of all the ACLs the keys name."""
        acls = NetworkAcl.describe_many(ctx, [cls.split(pid)[0] for pid in ids])
        out: dict[str, Any] = {}
        for pid in ids:
            acl_id, egress, number = cls.split(pid)
            entries = acls.get(acl_id, {}).get("Entries", [])
            entry = next((e for e in entries if e["RuleNumber"] == number and bool(e["Egress"]) == egress), None)
            if entry is not None:
                out[pid] = entry
        return out

    def _entry(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        return self.fetch(ctx, [physical_id]).get(physical_id)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        pid = self.key_of(props)
        ec2 = ctx.client("ec2")
        if self._entry(ctx, pid) is not None:
            # Left by a crash after the call: the ACL is ours, so make the rule what the plan says.
            ec2.replace_network_acl_entry(**self._args(props))
        else:
            ec2.create_network_acl_entry(**self._args(props))
        return pid, self.outputs_of(ctx, pid)

    def props_from(self, ctx: Ctx, physical_id: str, e: dict[str, Any]) -> dict[str, Any] | None:
        acl_id, egress, number = self.split(physical_id)
        pr = e.get("PortRange")
        return _compact({"NetworkAclId": acl_id, "RuleNumber": number, "Protocol": e["Protocol"],
                         "RuleAction": e["RuleAction"], "Egress": egress, "CidrBlock": e.get("CidrBlock"),
                         "PortRange": {"From": pr["From"], "To": pr["To"]} if pr else None})

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        ctx.client("ec2").replace_network_acl_entry(**self._args(new))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        # Look first: deleting an absent entry is an error in AWS (and a crash in moto).
        if self._entry(ctx, physical_id) is None:
            return
        acl_id, egress, number = self.split(physical_id)
        self.ignore_gone(ctx.client("ec2").delete_network_acl_entry, NetworkAclId=acl_id, RuleNumber=number,
                         Egress=egress)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        acl_id, _, number = self.split(physical_id)
        return {"NetworkAclId": acl_id, "RuleNumber": number}


# --------------------------------------------------------------------------- endpoints


class VpcEndpoint(BatchRead, Ec2Resource):
    """A gateway endpoint (S3, DynamoDB) on a set of route tables, or an interface endpoint (an ENI per subnet,
    behind security groups) for the other AWS APIs (EC2, STS, ECR...).

    Route tables, subnets, groups and the policy change in place (ModifyVpcEndpoint Add/Remove RouteTableIds,
    SubnetIds, SecurityGroupIds, PolicyDocument): replacing the endpoint to move it would delete it first and
    cut the private subnets' traffic to the service. (moto 5.2.5 lost the prefix-list route on AddRouteTableIds;
    sandbox/extensions/strict_updates.py makes it.) An interface endpoint's private DNS name is left on (AWS's
    default for AWS services), so clients reach it under the service's usual name.
    """

    type_name = "ec2.VpcEndpoint"
    label = "VPC endpoint"
    arn_kind = ("ec2", "vpc-endpoint")
    id_prefix = "vpce-"
    ec2_type, describe, list_key = "vpc-endpoint", "describe_vpc_endpoints", "VpcEndpoints"
    id_key, ids_param = "VpcEndpointId", "VpcEndpointIds"
    props = {
        "VpcId": P(str, required=True),
        "ServiceName": P(str, required=True),
        "VpcEndpointType": P(str, default="Gateway", validator=one_of("Gateway", "Interface")),
        "RouteTableIds": P(list, default=[], doc="Gateway only"),
        "SubnetIds": P(list, doc="Interface only: one subnet per AZ the endpoint answers in"),
        "SecurityGroupIds": P(list, doc="Interface only: the groups on its ENIs (they must admit 443)"),
        "PolicyDocument": P(dict),
    }
    replace_on = frozenset({"VpcId", "ServiceName", "VpcEndpointType"})
    change_notes = {"RouteTableIds": "in place: ModifyVpcEndpoint AddRouteTableIds / RemoveRouteTableIds",
                    "SubnetIds": "in place: ModifyVpcEndpoint AddSubnetIds / RemoveSubnetIds",
                    "SecurityGroupIds": "in place: ModifyVpcEndpoint AddSecurityGroupIds / RemoveSecurityGroupIds"}
    unordered = frozenset({"RouteTableIds", "SubnetIds", "SecurityGroupIds"})
    outputs = ("VpcEndpointId",)
    not_found = ("InvalidVpcEndpointId.NotFound",)
    retries: ClassVar[tuple[Retry, ...]] = (NEW_VPC, NEW_ROUTE_TABLE)
    gone_states = ("deleted", "deleting", "failed", "rejected", "expired")

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        if props.get("VpcEndpointType") == "Interface":
            if props.get("RouteTableIds"):
                raise PlanError(f"{where}: an interface endpoint takes SubnetIds, not RouteTableIds")
            if not props.get("SubnetIds") or not props.get("SecurityGroupIds"):
                # Without groups AWS puts the VPC's default group on the ENIs, which a locked-down VPC
                # (RestrictDefaultSecurityGroup) leaves without rules: nothing could reach the endpoint.
                raise PlanError(f"{where}: an interface endpoint needs SubnetIds (one per AZ) and "
                                "SecurityGroupIds that admit HTTPS from its clients")
        elif props.get("SubnetIds") or props.get("SecurityGroupIds"):
            raise PlanError(f"{where}: a gateway endpoint takes RouteTableIds, not SubnetIds or SecurityGroupIds")

    @staticmethod
    def _is_default_policy(doc: dict[str, Any]) -> bool:
        """AWS reports a full-access policy when none was given; that is "no policy" to the plan."""
        return doc.get("Statement") == [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kw: dict[str, Any] = {"VpcId": props["VpcId"], "ServiceName": props["ServiceName"],
                              "VpcEndpointType": props["VpcEndpointType"],
                              "TagSpecifications": self.tag_specs(ctx)}
        if props["VpcEndpointType"] == "Interface":
            kw["SubnetIds"] = list(props["SubnetIds"])
            kw["SecurityGroupIds"] = list(props["SecurityGroupIds"])
        else:
            kw["RouteTableIds"] = list(props.get("RouteTableIds") or [])
        if props.get("PolicyDocument"):
            kw["PolicyDocument"] = json.dumps(props["PolicyDocument"])
        if ctx.token:
            kw["ClientToken"] = ctx.token
        ep_id = ctx.client("ec2").create_vpc_endpoint(**kw)["VpcEndpoint"]["VpcEndpointId"]
        ctx.wait("ec2", "VpcEndpointAvailable", VpcEndpointIds=[ep_id])
        return ep_id, self.outputs_of(ctx, ep_id)

    def props_from(self, ctx: Ctx, physical_id: str, ep: dict[str, Any]) -> dict[str, Any] | None:
        policy = ep.get("PolicyDocument")
        doc = json.loads(policy) if isinstance(policy, str) and policy else None
        kind = ep.get("VpcEndpointType", "Gateway")
        out = {"VpcId": ep["VpcId"], "ServiceName": ep["ServiceName"], "VpcEndpointType": kind,
               "RouteTableIds": list(ep.get("RouteTableIds", [])),
               "PolicyDocument": None if doc is None or self._is_default_policy(doc) else doc}
        if kind == "Interface":
            out["SubnetIds"] = list(ep.get("SubnetIds", []))
            out["SecurityGroupIds"] = [g["GroupId"] for g in ep.get("Groups", [])] or None
        return _compact(out)

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        moves: dict[str, list[str]] = {}
        for prop in ("RouteTableIds", "SubnetIds", "SecurityGroupIds"):
            have, want = set(old.get(prop) or []), set(new.get(prop) or [])
            moves[f"Add{prop}"], moves[f"Remove{prop}"] = sorted(want - have), sorted(have - want)
        if any(moves.values()):
            ctx.client("ec2").modify_vpc_endpoint(VpcEndpointId=physical_id, **{k: v for k, v in moves.items() if v})
        if old.get("PolicyDocument") != new.get("PolicyDocument"):
            ec2 = ctx.client("ec2")
            if new.get("PolicyDocument"):
                ec2.modify_vpc_endpoint(VpcEndpointId=physical_id, PolicyDocument=json.dumps(new["PolicyDocument"]))
            else:
                ec2.modify_vpc_endpoint(VpcEndpointId=physical_id, ResetPolicy=True)
        self.retag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        # Describe first: a deleted endpoint lingers as "deleted", and deleting it
        # again is an error in moto.
        if self.describe_one(ctx, physical_id) is None:
            return
        resp = self.ignore_gone(ctx.client("ec2").delete_vpc_endpoints, VpcEndpointIds=[physical_id]) or {}
        failed = [u for u in resp.get("Unsuccessful", [])
                  if not u.get("Error", {}).get("Code", "").endswith("NotFound")]
        if failed:
            raise ResourceError(f"{self.type_name} {physical_id}: delete refused: {failed[0].get('Error')}")
        ctx.wait("ec2", "VpcEndpointDeleted", timeout_key="delete", VpcEndpointIds=[physical_id])

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"VpcEndpointId": physical_id}


# --------------------------------------------------------------------------- flow logs

FLOW_LOG_RESOURCE_TYPES = {"VPC": "vpc", "Subnet": "subnet", "NetworkInterface": "eni"}


class FlowLog(BatchRead, Ec2Resource):
    """VPC (or subnet/ENI) flow logs delivered to CloudWatch Logs, S3 or Firehose.

    AWS has no call that changes a flow log: every property replaces it, and
    update only re-applies tags. CloudWatch Logs delivery needs a role that
    vpc-flow-logs.amazonaws.com assumes (DeliverLogsPermissionArn); S3 and
    Firehose delivery use the destination's own policy instead.
    """

    type_name = "ec2.FlowLog"
    label = "flow log"
    arn_kind = ("ec2", "vpc-flow-log")
    id_prefix = "fl-"
    ec2_type, describe, list_key = "vpc-flow-log", "describe_flow_logs", "FlowLogs"
    id_key, ids_param = "FlowLogId", "FlowLogIds"
    props = {
        "ResourceId": P(str, required=True, doc="the VPC, subnet or ENI id"),
        "ResourceType": P(str, default="VPC", validator=one_of(*FLOW_LOG_RESOURCE_TYPES)),
        "TrafficType": P(str, default="ALL", validator=one_of("ACCEPT", "REJECT", "ALL")),
        "LogDestinationType": P(str, default="cloud-watch-logs",
                                validator=one_of("cloud-watch-logs", "s3", "kinesis-data-firehose")),
        "LogGroupName": P(str, doc="cloud-watch-logs: the log group (or give its ARN as LogDestination)"),
        "LogDestination": P(str, doc="ARN of the log group, bucket (with optional /prefix/) or stream"),
        "DeliverLogsPermissionArn": P(str, doc="role vpc-flow-logs.amazonaws.com assumes (cloud-watch-logs)"),
        "MaxAggregationInterval": P(int, default=600, validator=one_of(60, 600)),
        "LogFormat": P(str, doc="custom record format, e.g. '${version} ${srcaddr} ...'; default AWS's"),
    }
    replace_on = frozenset(props)
    outputs = ("FlowLogId",)
    not_found = ("InvalidFlowLogId.NotFound",)

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        kind = props.get("LogDestinationType")
        if kind == "cloud-watch-logs":
            if props.get("LogGroupName") is None and props.get("LogDestination") is None:
                raise PlanError(f"{where}: CloudWatch Logs delivery needs LogGroupName or LogDestination")
            if props.get("DeliverLogsPermissionArn") is None:
                raise PlanError(f"{where}: CloudWatch Logs delivery needs DeliverLogsPermissionArn "
                                "(a role vpc-flow-logs.amazonaws.com may assume)")
        elif props.get("LogDestination") is None:
            raise PlanError(f"{where}: {kind} delivery needs LogDestination (the bucket or stream ARN)")
        if kind != "cloud-watch-logs" and props.get("LogGroupName") is not None:
            raise PlanError(f"{where}: LogGroupName applies to cloud-watch-logs delivery only")

    @classmethod
    def is_gone(cls, item: dict[str, Any]) -> bool:
        return False  # a deleted flow log disappears from the describe output at once

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kw: dict[str, Any] = {"ResourceIds": [props["ResourceId"]], "ResourceType": props["ResourceType"],
                              "TrafficType": props["TrafficType"], "LogDestinationType": props["LogDestinationType"],
                              "MaxAggregationInterval": props["MaxAggregationInterval"],
                              "TagSpecifications": self.tag_specs(ctx)}
        for key in ("LogGroupName", "LogDestination", "DeliverLogsPermissionArn", "LogFormat"):
            if props.get(key):
                kw[key] = props[key]
        if ctx.token:
            kw["ClientToken"] = ctx.token
        resp = ctx.client("ec2").create_flow_logs(**kw)
        if resp.get("Unsuccessful"):
            raise ResourceError(f"{self.type_name} {ctx.address}: AWS refused the flow log: "
                                f"{resp['Unsuccessful'][0].get('Error')}")
        fl_id = resp["FlowLogIds"][0]
        return fl_id, self.outputs_of(ctx, fl_id)

    def props_from(self, ctx: Ctx, physical_id: str, fl: dict[str, Any]) -> dict[str, Any] | None:
        resource_id = fl["ResourceId"]
        kind = next((k for k, prefix in FLOW_LOG_RESOURCE_TYPES.items() if resource_id.startswith(prefix + "-")),
                    self.properties.get("ResourceType", "VPC"))
        out = {"ResourceId": resource_id, "ResourceType": kind, "TrafficType": fl.get("TrafficType"),
               "LogDestinationType": fl.get("LogDestinationType", "cloud-watch-logs"),
               "DeliverLogsPermissionArn": fl.get("DeliverLogsPermissionArn") or None,
               "MaxAggregationInterval": fl.get("MaxAggregationInterval", 600)}
        # AWS reports both the group name and its ARN; the plan names one of them.
        for key in ("LogGroupName", "LogDestination"):
            if key in self.properties or out["LogDestinationType"] != "cloud-watch-logs":
                out[key] = fl.get(key) or None
        if "LogFormat" in self.properties:
            out["LogFormat"] = fl.get("LogFormat")
        return _compact(out)

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self.retag(ctx, physical_id)  # every property replaces; only tags change in place
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        resp = self.ignore_gone(ctx.client("ec2").delete_flow_logs, FlowLogIds=[physical_id]) or {}
        failed = [u for u in resp.get("Unsuccessful", [])
                  if not u.get("Error", {}).get("Code", "").endswith("NotFound")]
        if failed:
            raise ResourceError(f"{self.type_name} {physical_id}: delete refused: {failed[0].get('Error')}")

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"FlowLogId": physical_id}


# --------------------------------------------------------------------------- launch templates


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class LaunchTemplate(BatchRead, Ec2Resource):
    """An EC2 launch template, here for EKS managed node groups: the security groups the nodes carry.

    A managed node group without a launch template gets EKS's cluster security group only, so nothing the
    plan's groups admit reaches its nodes; the groups named here replace it on the nodes
    (docs.aws.amazon.com/eks/latest/userguide/launch-templates.html). Every property replaces the
    template: a new one (its name carries a digest of the properties, so old and new can coexist)
    and a new node group from it, where AWS would roll the nodes to a new version.
    """

    type_name = "ec2.LaunchTemplate"
    label = "launch template"
    arn_kind = ("ec2", "launch-template")
    id_prefix = "lt-"
    ec2_type, describe, list_key = "launch-template", "describe_launch_templates", "LaunchTemplates"
    id_key, ids_param = "LaunchTemplateId", "LaunchTemplateIds"
    props = {
        "SecurityGroupIds": P(list, required=True, doc="the groups every instance launched from it carries"),
        "BlockDeviceMappings": P(list, default=[], doc="EC2's shape: [{DeviceName, Ebs: {VolumeSize, ...}}]; "
                                 "an EKS node group takes its disk size from here, not DiskSize"),
        "MetadataOptions": P(dict, doc="IMDS settings, e.g. {HttpTokens: required, HttpPutResponseHopLimit: 2}"),
    }
    replace_on = frozenset(props)
    outputs = ("LaunchTemplateId", "LaunchTemplateName", "LatestVersionNumber")
    not_found = ("InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateId.Malformed",
                 "InvalidLaunchTemplateName.NotFoundException")
    retries: ClassVar[tuple[Retry, ...]] = (NEW_GROUP,)  # its groups, made moments ago

    def validate(self, props: dict[str, Any]) -> None:
        if isinstance(props.get("SecurityGroupIds"), list) and not props["SecurityGroupIds"]:
            raise PlanError(f"{self.type_name} {self.name!r}: SecurityGroupIds must name at least one group "
                            "(without any, EKS nodes would get the cluster security group only)")

    @classmethod
    def is_gone(cls, item: dict[str, Any]) -> bool:
        return False  # a deleted template disappears from the describe output at once

    def template_name(self, ctx: Ctx, props: dict[str, Any]) -> str:
        digest = hashlib.sha1(_canonical(props).encode()).hexdigest()[:8]
        return f"{ctx.physical_name(max_len=119)}-{digest}"

    def _data(self, props: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {"SecurityGroupIds": list(props["SecurityGroupIds"])}
        if props.get("BlockDeviceMappings"):
            data["BlockDeviceMappings"] = list(props["BlockDeviceMappings"])
        if props.get("MetadataOptions"):
            data["MetadataOptions"] = dict(props["MetadataOptions"])
        return data

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kw: dict[str, Any] = {"LaunchTemplateName": self.template_name(ctx, props), "LaunchTemplateData":
                              self._data(props), "TagSpecifications": self.tag_specs(ctx)}
        if ctx.token:
            kw["ClientToken"] = ctx.token
        lt = ctx.client("ec2").create_launch_template(**kw)["LaunchTemplate"]
        return lt["LaunchTemplateId"], self.outputs_of(ctx, lt["LaunchTemplateId"])

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """(template, its latest version's data) per existing id."""
        out: dict[str, Any] = {}
        for lt_id, lt in cls.describe_many(ctx, ids).items():
            versions = ctx.client("ec2").describe_launch_template_versions(
                LaunchTemplateId=lt_id, Versions=["$Latest"])["LaunchTemplateVersions"]
            out[lt_id] = (lt, versions[0].get("LaunchTemplateData", {}) if versions else {})
        return out

    def props_from(self, ctx: Ctx, physical_id: str, raw: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
        _, data = raw
        out: dict[str, Any] = {"SecurityGroupIds": list(data.get("SecurityGroupIds") or []),
                               "BlockDeviceMappings": list(data.get("BlockDeviceMappings") or [])}
        if data.get("MetadataOptions") or "MetadataOptions" in self.properties:
            out["MetadataOptions"] = {k: v for k, v in (data.get("MetadataOptions") or {}).items()
                                      if k in (self.properties.get("MetadataOptions") or {})} or None
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self.retag(ctx, physical_id)  # every property replaces; only tags change in place
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("ec2").delete_launch_template, LaunchTemplateId=physical_id)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        lt = self.describe_one(ctx, physical_id) or {}
        return {"LaunchTemplateId": physical_id, "LaunchTemplateName": lt.get("LaunchTemplateName"),
                "LatestVersionNumber": lt.get("LatestVersionNumber")}
