"""X-Ray types: a trace group (filter + insights) and sampling rules (EKS -> X-Ray).

Both are keyed by name (at most 32 characters, so the deterministic
`genai-demo-<env>-<name>` is shortened with a hash when needed). X-Ray
answers "no such group/rule" with the generic InvalidRequestException, the
same code as a malformed request, so existence is decided by listing
(GetGroups, GetSamplingRules) rather than by an error code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from core.errors import PlanError
from resources.base import BatchRead, Ctx, P, Resource, ResourceError, int_range, name_or_default, tag_list

MAX_NAME = 32


def short_name(value: Any) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_NAME:
        return f"must be 1 to {MAX_NAME} characters"
    return None


def fraction(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
    return None if ok else "must be a number in [0, 1]"


class XRayResource(Resource):
    """Name-keyed X-Ray types: listing finds them, tags go by ARN."""

    service = "xray"
    not_found = ("ResourceNotFoundException",)
    name_key: ClassVar[str] = ""
    arn_key: ClassVar[str] = ""

    def name_for(self, ctx: Ctx, props: dict[str, Any]) -> str | None:
        return name_or_default(ctx, props.get(self.name_key), MAX_NAME)

    @classmethod
    def listing(cls, ctx: Ctx) -> Iterator[dict[str, Any]]:
        """Every item of this type in the account (X-Ray has no describe-by-name)."""
        raise NotImplementedError

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """{name: item} of the named items that exist: one pass over the account's listing for all."""
        wanted = set(ids)
        return {i[cls.name_key]: i for i in cls.listing(ctx) if i[cls.name_key] in wanted}

    def lookup(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.fetch(ctx, [name]).get(name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        item = self.lookup(ctx, physical_id)
        if item is None:
            raise ResourceError(f"{self.type_name} {physical_id} does not exist")
        return {self.name_key: physical_id, self.arn_key: item[self.arn_key]}

    def retag(self, ctx: Ctx, arn: str) -> None:
        ctx.client("xray").tag_resource(ResourceARN=arn, Tags=tag_list(ctx.tags))

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.name_for(ctx, self.properties)
        if name is None or self.lookup(ctx, name) is None:
            return None
        return name, self.outputs_of(ctx, name)


class Group(BatchRead, XRayResource):
    """A group of traces selected by a filter expression, e.g. service("genai-demo-backend")."""

    type_name = "xray.Group"
    label = "X-Ray group"
    arn_kind = ("xray", "group")
    name_key, arn_key = "GroupName", "GroupARN"
    props = {
        "GroupName": P(str, validator=short_name, doc="default genai-demo-<env>-<logical name>"),
        "FilterExpression": P(str, required=True),
        "InsightsConfiguration": P(dict, default={"InsightsEnabled": False, "NotificationsEnabled": False}),
    }
    replace_on = frozenset({"GroupName"})
    change_notes = {"GroupName": "replace: UpdateGroup cannot rename a group; CloudFormation's schema lists "
                                 "it as updatable"}
    outputs = ("GroupName", "GroupARN")

    def validate(self, props: dict[str, Any]) -> None:
        ic = props.get("InsightsConfiguration")
        if isinstance(ic, dict):
            unknown = set(ic) - {"InsightsEnabled", "NotificationsEnabled"}
            if unknown:
                raise PlanError(f"{self.type_name} {self.name!r}: InsightsConfiguration takes InsightsEnabled "
                                f"and NotificationsEnabled, not {sorted(unknown)}")
            if ic.get("NotificationsEnabled") and not ic.get("InsightsEnabled"):
                raise PlanError(f"{self.type_name} {self.name!r}: notifications need InsightsEnabled")

    @classmethod
    def listing(cls, ctx: Ctx) -> Iterator[dict[str, Any]]:
        for page in ctx.client("xray").get_paginator("get_groups").paginate():
            yield from page.get("Groups", [])

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.name_for(ctx, props)
        ctx.client("xray").create_group(GroupName=name, FilterExpression=props["FilterExpression"],
                                        InsightsConfiguration=props["InsightsConfiguration"],
                                        Tags=tag_list(ctx.tags))
        return name, self.outputs_of(ctx, name)

    def props_from(self, ctx: Ctx, physical_id: str, g: dict[str, Any]) -> dict[str, Any] | None:
        ic = g.get("InsightsConfiguration") or {}
        return {"GroupName": g["GroupName"], "FilterExpression": g.get("FilterExpression"),
                "InsightsConfiguration": {"InsightsEnabled": bool(ic.get("InsightsEnabled")),
                                          "NotificationsEnabled": bool(ic.get("NotificationsEnabled"))}}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        ctx.client("xray").update_group(GroupName=physical_id, FilterExpression=new["FilterExpression"],
                                        InsightsConfiguration=new["InsightsConfiguration"])
        outputs = self.outputs_of(ctx, physical_id)
        self.retag(ctx, outputs["GroupARN"])
        return outputs

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        if self.lookup(ctx, physical_id) is not None:
            ctx.client("xray").delete_group(GroupName=physical_id)


# SamplingRule fields a plan sets; RuleARN is AWS's, Version cannot change.
RULE_FIELDS = ("ResourceARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType", "Host",
               "HTTPMethod", "URLPath", "Attributes")


class SamplingRule(BatchRead, XRayResource):
    """How many requests matching (service, host, method, path...) are traced.

    The properties are the fields of the API's SamplingRule structure; the
    wildcard defaults match everything. UpdateSamplingRule changes every
    field but RuleName and Version.
    """

    type_name = "xray.SamplingRule"
    label = "sampling rule"
    name_key, arn_key = "RuleName", "RuleARN"
    props = {
        "RuleName": P(str, validator=short_name, doc="default genai-demo-<env>-<logical name>"),
        "Priority": P(int, required=True, validator=int_range(1, 9999)),
        "FixedRate": P((int, float), required=True, validator=fraction),
        "ReservoirSize": P(int, required=True, validator=int_range(0, 2**31 - 1)),
        "ResourceARN": P(str, default="*"),
        "ServiceName": P(str, default="*"),
        "ServiceType": P(str, default="*"),
        "Host": P(str, default="*"),
        "HTTPMethod": P(str, default="*"),
        "URLPath": P(str, default="*"),
        "Version": P(int, default=1, validator=lambda v: None if v == 1 else "must be 1 (the only version)"),
        "Attributes": P(dict),
    }
    replace_on = frozenset({"RuleName", "Version"})
    change_notes = {"RuleName": "replace: UpdateSamplingRule names the rule it changes and cannot rename it; "
                                "CloudFormation's schema lists it as updatable"}
    outputs = ("RuleName", "RuleARN")

    @classmethod
    def listing(cls, ctx: Ctx) -> Iterator[dict[str, Any]]:
        for page in ctx.client("xray").get_paginator("get_sampling_rules").paginate():
            yield from (rec["SamplingRule"] for rec in page.get("SamplingRuleRecords", []))

    @staticmethod
    def _fields(props: dict[str, Any]) -> dict[str, Any]:
        out = {k: props[k] for k in RULE_FIELDS if props.get(k) is not None}
        out["FixedRate"] = float(out["FixedRate"])
        return out

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.name_for(ctx, props)
        rule = {"RuleName": name, "Version": props["Version"], **self._fields(props)}
        ctx.client("xray").create_sampling_rule(SamplingRule=rule, Tags=tag_list(ctx.tags))
        return name, self.outputs_of(ctx, name)

    def props_from(self, ctx: Ctx, physical_id: str, r: dict[str, Any]) -> dict[str, Any] | None:
        out = {k: r[k] for k in ("RuleName", "Version", *RULE_FIELDS) if r.get(k) is not None}
        if not out.get("Attributes"):
            out.pop("Attributes", None)
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        fields = self._fields(new)
        fields.setdefault("Attributes", {})  # dropping every attribute is a change too
        ctx.client("xray").update_sampling_rule(SamplingRuleUpdate={"RuleName": physical_id, **fields})
        outputs = self.outputs_of(ctx, physical_id)
        self.retag(ctx, outputs["RuleARN"])
        return outputs

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        if self.lookup(ctx, physical_id) is not None:
            ctx.client("xray").delete_sampling_rule(RuleName=physical_id)
