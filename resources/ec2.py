"""EC2 networking types: VPC and what lives in it.

EC2 tags at creation through TagSpecifications and every describe call
accepts `tag:` filters, so find() is one declared describe per type.
"""

from __future__ import annotations

from typing import Any, ClassVar

from resources.base import Ctx, P, Resource, cidr, tag_dict, tag_list


class Ec2Resource(Resource):
    """EC2 types share tagging, describe-by-id and find-by-tag; they declare the names."""

    service = "ec2"
    ec2_type: ClassVar[str] = ""  # TagSpecifications ResourceType, e.g. "vpc"
    describe: ClassVar[str] = ""  # describe_<x> method name
    list_key: ClassVar[str] = ""  # key of the list in the describe response
    id_key: ClassVar[str] = ""  # id field in each item, and the describe ...Ids parameter stem
    ids_param: ClassVar[str] = ""  # e.g. "VpcIds"
    gone_states: ClassVar[tuple[str, ...]] = ("deleted", "deleting", "failed")

    def tag_specs(self, ctx: Ctx) -> list[dict[str, Any]]:
        tags = dict(ctx.tags)
        tags.setdefault("Name", ctx.physical_name())
        return [{"ResourceType": self.ec2_type, "Tags": tag_list(tags)}]

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        try:
            items = getattr(ctx.client("ec2"), self.describe)(**{self.ids_param: [physical_id]})[self.list_key]
        except Exception as exc:
            if self.gone(exc):
                return None
            raise
        items = [i for i in items if i.get("State") not in self.gone_states]
        return items[0] if items else None

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        resp = getattr(ctx.client("ec2"), self.describe)(
            Filters=[{"Name": "tag:infra:address", "Values": [ctx.address]},
                     {"Name": "tag:infra:env", "Values": [ctx.env]},
                     {"Name": "tag:infra:project", "Values": [ctx.project]}])
        items = [i for i in resp[self.list_key] if i.get("State") not in self.gone_states]
        if not items:
            return None
        pid = items[0][self.id_key]
        return pid, self.outputs_of(ctx, pid)

    @staticmethod
    def plan_tags(item: dict[str, Any]) -> dict[str, str]:
        return {k: v for k, v in tag_dict(item.get("Tags")).items() if not k.startswith("infra:") and k != "Name"}


class Vpc(Ec2Resource):
    type_name = "ec2.Vpc"
    ec2_type, describe, list_key, id_key, ids_param = "vpc", "describe_vpcs", "Vpcs", "VpcId", "VpcIds"
    props = {
        "CidrBlock": P(str, required=True, validator=cidr),
        "EnableDnsSupport": P(bool, default=True),
        "EnableDnsHostnames": P(bool, default=True),
        "InstanceTenancy": P(str, default="default"),
    }
    replace_on = frozenset({"CidrBlock", "InstanceTenancy"})
    outputs = ("VpcId", "CidrBlock", "DefaultSecurityGroupId", "DefaultNetworkAclId", "MainRouteTableId")
    not_found = ("InvalidVpcID.NotFound",)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.client("ec2")
        vpc = ec2.create_vpc(CidrBlock=props["CidrBlock"], InstanceTenancy=props["InstanceTenancy"],
                             TagSpecifications=self.tag_specs(ctx))["Vpc"]
        vpc_id = vpc["VpcId"]
        ctx.wait("ec2", "VpcAvailable", VpcIds=[vpc_id])
        self._set_dns(ctx, vpc_id, props)
        return vpc_id, self.outputs_of(ctx, vpc_id)

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
        return {"CidrBlock": vpc["CidrBlock"], "InstanceTenancy": vpc.get("InstanceTenancy", "default"), **attr}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self._set_dns(ctx, physical_id, new, old)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("ec2").delete_vpc, VpcId=physical_id)
