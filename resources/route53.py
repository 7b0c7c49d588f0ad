"""Route 53 types: a public hosted zone.

Route 53 is global: zones have no region and the regional tagging API does
not return them, so the type lists itself for `infra scan`. Zone ids come
back as "/hostedzone/Z..." and are kept without the prefix.

CreateHostedZone is made idempotent by its CallerReference: the create
intent's token (ctx.token), which a re-run after a crash reuses. AWS refuses
a second zone with the same reference (HostedZoneAlreadyExists), so find()
recognises the zone an interrupted create left, by that reference, even
before its tags were written (tags are a second call, ChangeTagsForResource).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from core.errors import PlanError
from resources.base import (
    Ctx,
    Durations,
    P,
    Resource,
    ResourceError,
    chunks,
    owned_by,
    tag_changes,
    tag_dict,
    tag_list,
)

PREFIX = "/hostedzone/"
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}$")


def domain(value: Any) -> str | None:
    if not isinstance(value, str) or not DOMAIN.match(value):
        return "must be a lower-case domain name without the final dot, e.g. dev.genai-demo.example.com"
    return None


def zone_id(raw: str) -> str:
    return raw.removeprefix(PREFIX)


class HostedZone(Resource):
    """A public hosted zone for `Name`; its NameServers are what the parent domain delegates to."""

    type_name = "route53.HostedZone"
    label = "hosted zone"
    arn_kind = ("route53", "hostedzone")
    # The zone answers at once; its change is INSYNC once every Route 53 name server has it,
    # "generally within 60 seconds" (Route 53 API reference, GetChange).
    durations = Durations(create=60, update=0, delete=5)
    service = "route53"
    props = {
        "Name": P(str, required=True, validator=domain),
        "Comment": P(str, default="Managed by genai-infra"),
    }
    replace_on = frozenset({"Name"})
    outputs = ("HostedZoneId", "Name", "NameServers", "Arn")
    not_found = ("NoSuchHostedZone",)

    @classmethod
    def list_tagged(cls, clients: Any) -> Iterator[tuple[str, dict[str, str]]]:
        """Route 53 is global: the regional tagging API does not return its zones."""
        r53 = clients.client("route53")
        ids = [zone_id(z["Id"]) for page in r53.get_paginator("list_hosted_zones").paginate()
               for z in page["HostedZones"]]
        for chunk in chunks(ids, 10):  # ListTagsForResources takes at most 10 ids
            for t in r53.list_tags_for_resources(ResourceType="hostedzone", ResourceIds=chunk)["ResourceTagSets"]:
                yield cls.arn(t["ResourceId"]), tag_dict(t.get("Tags"))

    @staticmethod
    def arn(zid: str) -> str:
        return f"arn:aws:route53:::hostedzone/{zid}"

    def validate(self, props: dict[str, Any]) -> None:
        comment = props.get("Comment")
        if isinstance(comment, str) and len(comment) > 256:
            raise PlanError(f"{self.type_name} {self.name!r}: Comment is at most 256 characters")

    def _zone(self, ctx: Ctx, zid: str) -> dict[str, Any] | None:
        try:
            return ctx.client("route53").get_hosted_zone(Id=zid)
        except Exception as exc:
            if self.gone(exc):
                return None
            raise

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        r53 = ctx.client("route53")
        out = r53.create_hosted_zone(Name=props["Name"], CallerReference=ctx.token,
                                     HostedZoneConfig={"Comment": props["Comment"], "PrivateZone": False})
        zid = zone_id(out["HostedZone"]["Id"])
        self.sync_tags(ctx, zid)
        ctx.wait("route53", "ResourceRecordSetsChanged", Id=out["ChangeInfo"]["Id"])
        return zid, self.outputs_of(ctx, zid)

    def sync_tags(self, ctx: Ctx, zid: str) -> None:
        r53 = ctx.client("route53")
        have = tag_dict(r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zid)["ResourceTagSet"]
                        .get("Tags"))
        stale, changed = tag_changes(have, ctx.tags)
        if stale or changed:
            r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zid, **(
                {"AddTags": tag_list(changed)} if changed else {}), **({"RemoveTagKeys": stale} if stale else {}))

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        z = self._zone(ctx, physical_id)
        if z is None:
            return None
        hz = z["HostedZone"]
        return {"Name": hz["Name"].rstrip("."), "Comment": (hz.get("Config") or {}).get("Comment", "")}

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        z = self._zone(ctx, physical_id)
        if z is None:
            raise ResourceError(f"{self.type_name} {physical_id} does not exist")
        return {"HostedZoneId": physical_id, "Name": z["HostedZone"]["Name"].rstrip("."),
                "NameServers": list((z.get("DelegationSet") or {}).get("NameServers") or []),
                "Arn": self.arn(physical_id)}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if old.get("Comment") != new["Comment"]:
            ctx.client("route53").update_hosted_zone_comment(Id=physical_id, Comment=new["Comment"])
        self.sync_tags(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        """Only SOA and NS records may be left: record sets are their own resources, deleted first."""
        self.ignore_gone(ctx.client("route53").delete_hosted_zone, Id=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        """The zone of this name that is ours: tagged for this address, or made with this intent's
        CallerReference (an interrupted create, tags not written yet)."""
        name = self.properties.get("Name")
        if not isinstance(name, str):
            return None
        r53 = ctx.client("route53")
        zones = r53.list_hosted_zones_by_name(DNSName=name)["HostedZones"]
        for z in zones:
            if z["Name"].rstrip(".") != name:
                continue
            zid = zone_id(z["Id"])
            tags = tag_dict(r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zid)
                            ["ResourceTagSet"].get("Tags"))
            if owned_by(tags, ctx) or (ctx.token and z.get("CallerReference") == ctx.token):
                self.sync_tags(ctx, zid)
                return zid, self.outputs_of(ctx, zid)
        return None
