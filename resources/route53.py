"""Route 53 types: a public hosted zone, and record sets published in a zone.

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
    int_range,
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
            if zid in ctx.old_copies:
                continue
            tags = tag_dict(r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zid)
                            ["ResourceTagSet"].get("Tags"))
            if owned_by(tags, ctx) or (ctx.token and z.get("CallerReference") == ctx.token):
                self.sync_tags(ctx, zid)
                return zid, self.outputs_of(ctx, zid)
        return None


RECORD_TYPES = ("CNAME", "A", "AAAA", "TXT", "MX", "NS", "CAA", "SRV")


def _fqdn(name: str) -> str:
    return name.lower().rstrip(".")


def records_list(value: Any) -> str | None:
    if not value:
        return "must name at least one record"
    for r in value:
        if not isinstance(r, dict) or set(r) != {"Name", "Type", "Value"}:
            return 'must be a list of {"Name": ..., "Type": ..., "Value": ...}'
        if r["Type"] not in RECORD_TYPES:
            return f"has record type {r['Type']!r}; supported: {', '.join(RECORD_TYPES)}"
    return None


class RecordSets(Resource):
    """Simple record sets (one value each) of one hosted zone, changed in one batch: the DNS validation
    CNAMEs of an ACM certificate (its DnsRecords output), whose number is known only once ACM names them.

    The physical id is "<zone id>/<name>,<name>...", so read() and delete() know what is theirs without
    the plan. A change of the records replaces the set, deleting the old names first: ACM gives a domain
    the same record name again for a new certificate, and a delete after the new UPSERT would remove it.
    Route 53 refuses a name outside the zone (InvalidChangeBatch), before anything changes.
    """

    type_name = "route53.RecordSets"
    label = "DNS records"
    service = "route53"
    durations = Durations(create=60, update=60, delete=5)  # a change is INSYNC within about 60 s
    props = {
        "HostedZoneId": P(str, required=True),
        "Records": P(list, required=True, validator=records_list, doc='[{"Name", "Type", "Value"}]'),
        "TTL": P(int, default=300, validator=int_range(0, 2147483647)),
    }
    replace_on = frozenset({"HostedZoneId", "Records"})
    replace_order = "delete_first"
    outputs = ("HostedZoneId", "Fqdns")
    not_found = ("NoSuchHostedZone",)
    timeouts = {"create": 600, "update": 600, "delete": 600}

    @staticmethod
    def split(physical_id: str) -> tuple[str, list[str]]:
        zid, _, names = physical_id.partition("/")
        return zid, [n for n in names.split(",") if n]

    def _existing(self, ctx: Ctx, zid: str, names: list[str]) -> dict[str, dict[str, Any]] | None:
        """name -> its record set in the zone (for the names asked); None when the zone is gone."""
        r53 = ctx.client("route53")
        wanted = {_fqdn(n) for n in names}
        found: dict[str, dict[str, Any]] = {}
        try:
            for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zid):
                for rr in page["ResourceRecordSets"]:
                    if _fqdn(rr["Name"]) in wanted:
                        found[_fqdn(rr["Name"])] = rr
        except Exception as exc:
            if self.gone(exc):
                return None
            raise
        return found

    def _change(self, ctx: Ctx, zid: str, changes: list[dict[str, Any]], timeout_key: str) -> None:
        if not changes:
            return
        out = ctx.client("route53").change_resource_record_sets(
            HostedZoneId=zid, ChangeBatch={"Comment": f"genai-infra {ctx.address}", "Changes": changes})
        ctx.wait("route53", "ResourceRecordSetsChanged", timeout_key=timeout_key, Id=out["ChangeInfo"]["Id"])

    @staticmethod
    def _upserts(props: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": r["Name"], "Type": r["Type"], "TTL": props["TTL"], "ResourceRecords": [{"Value": r["Value"]}]}}
            for r in props["Records"]]

    def _pid(self, props: dict[str, Any]) -> str:
        return f"{zone_id(props['HostedZoneId'])}/" + ",".join(sorted(_fqdn(r["Name"]) for r in props["Records"]))

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        zid = zone_id(props["HostedZoneId"])
        self._change(ctx, zid, self._upserts(props), "create")
        pid = self._pid(props)
        return pid, self.outputs_of(ctx, pid)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        zid, names = self.split(physical_id)
        return {"HostedZoneId": zid, "Fqdns": names}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        zid, names = self.split(physical_id)
        found = self._existing(ctx, zid, names)
        if not found:
            return None
        records = [{"Name": rr["Name"], "Type": rr["Type"],
                    "Value": ((rr.get("ResourceRecords") or [{}])[0]).get("Value", "")}
                   for _, rr in sorted(found.items())]
        ttls = {rr.get("TTL") for rr in found.values()}
        return {"HostedZoneId": zid, "Records": records, "TTL": ttls.pop() if len(ttls) == 1 else sorted(ttls)}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """Only the TTL changes in place (the records replace the set)."""
        self._change(ctx, zone_id(new["HostedZoneId"]), self._upserts(new), "update")
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        """Route 53 deletes a record set only by its exact current content: read it, then DELETE that."""
        zid, names = self.split(physical_id)
        found = self._existing(ctx, zid, names)
        if not found:
            return
        changes = [{"Action": "DELETE", "ResourceRecordSet": {k: v for k, v in rr.items()}}
                   for _, rr in sorted(found.items())]
        try:
            self._change(ctx, zid, changes, "delete")
        except Exception as exc:
            if not self.gone(exc):
                raise

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        """Records an interrupted create already wrote, with the values asked for (UPSERT is idempotent,
        so a create again would do too)."""
        props = ctx.props
        zid, records = props.get("HostedZoneId"), props.get("Records")
        if not isinstance(zid, str) or not isinstance(records, list) or records_list(records):
            return None
        found = self._existing(ctx, zone_id(zid), [r["Name"] for r in records]) or {}
        for r in records:
            rr = found.get(_fqdn(r["Name"]))
            values = [v.get("Value") for v in (rr or {}).get("ResourceRecords") or []]
            if rr is None or rr["Type"] != r["Type"] or values != [r["Value"]]:
                return None
        pid = self._pid({"HostedZoneId": zid, "Records": records})
        return pid, self.outputs_of(ctx, pid)
