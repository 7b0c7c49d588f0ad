"""EventBridge types: rules (schedules and event patterns) and their targets.

PutRule and PutTargets are upserts keyed by name and id, so update is "put
again". A rule on the default bus has the rule name as physical id; on
another bus "<bus>|<rule>". A target's physical id is "<rule>|<id>" (or
"<bus>|<rule>|<id>").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from core.errors import PlanError
from resources.base import (
    Ctx,
    KnownProps,
    P,
    Resource,
    ResourceError,
    name_or_default,
    one_of,
    tag_dict,
    tag_list,
)

SEP = "|"
DEFAULT_BUS = "default"


def rule_name(value: Any) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        return "must be 1 to 64 characters"
    bad = {c for c in value if not (c.isascii() and (c.isalnum() or c in ".-_"))}
    return f"contains characters AWS rejects: {''.join(sorted(bad))}" if bad else None


def schedule(value: Any) -> str | None:
    ok = isinstance(value, str) and (value.startswith("rate(") or value.startswith("cron(")) and value.endswith(")")
    return None if ok else "must be rate(...) or cron(...)"


class EventsResource(KnownProps, Resource):
    service = "events"
    not_found = ("ResourceNotFoundException",)

    @staticmethod
    def join_id(bus: str | None, *parts: str) -> str:
        return SEP.join(parts if (bus or DEFAULT_BUS) == DEFAULT_BUS else (bus, *parts))


class Rule(EventsResource):
    """A schedule (Lambda on a timer) or an event pattern (alarm state changes, EKS/RDS events -> SNS).

    On update AWS ignores the Tags of PutRule, so tags are re-applied with
    TagResource. Deleting a rule first removes whatever targets are left:
    AWS refuses to delete a rule that still has targets.
    """

    type_name = "events.Rule"
    label = "EventBridge rule"
    arn_kind = ("events", "rule")
    props = {
        "Name": P(str, validator=rule_name, doc="default genai-demo-<env>-<logical name>"),
        "ScheduleExpression": P(str, validator=schedule),
        "EventPattern": P(dict),
        "State": P(str, default="ENABLED", validator=one_of("ENABLED", "DISABLED")),
        "Description": P(str),
        "EventBusName": P(str, default=DEFAULT_BUS),
        "RoleArn": P(str),
    }
    replace_on = frozenset({"Name", "EventBusName"})
    change_notes = {"EventBusName": "replace: a rule belongs to one event bus (PutRule on another bus makes "
                                    "another rule); CloudFormation's schema lists it as updatable"}
    outputs = ("Name", "Arn", "EventBusName")

    @classmethod
    def list_tagged(cls, clients: Any) -> Iterator[tuple[str, dict[str, str]]]:
        ev = clients.client("events")
        for page in ev.get_paginator("list_rules").paginate():
            for rule in page["Rules"]:
                yield rule["Arn"], tag_dict(ev.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"])

    def validate(self, props: dict[str, Any]) -> None:
        if props.get("ScheduleExpression") is None and props.get("EventPattern") is None:
            raise PlanError(f"{self.type_name} {self.name!r}: give a ScheduleExpression or an EventPattern")
        if props.get("ScheduleExpression") is not None and props.get("EventBusName", DEFAULT_BUS) != DEFAULT_BUS:
            raise PlanError(f"{self.type_name} {self.name!r}: schedules run only on the default event bus")

    def name_for(self, ctx: Ctx, props: dict[str, Any]) -> str | None:
        return name_or_default(ctx, props.get("Name"), 64)

    @staticmethod
    def split(physical_id: str) -> tuple[str, str]:
        bus, _, name = physical_id.rpartition(SEP)
        return bus or DEFAULT_BUS, name

    def _put(self, ctx: Ctx, name: str, props: dict[str, Any], tags: bool) -> str:
        params: dict[str, Any] = {"Name": name, "State": props["State"], "EventBusName": props["EventBusName"]}
        for key in ("ScheduleExpression", "Description", "RoleArn"):
            if props.get(key):
                params[key] = props[key]
        if props.get("EventPattern") is not None:
            params["EventPattern"] = json.dumps(props["EventPattern"], sort_keys=True)
        if tags:
            params["Tags"] = tag_list(ctx.tags)
        return ctx.client("events").put_rule(**params)["RuleArn"]

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.name_for(ctx, props)
        self._put(ctx, name, props, tags=True)
        pid = self.join_id(props["EventBusName"], name)
        return pid, self.outputs_of(ctx, pid)

    def _describe(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        bus, name = self.split(physical_id)
        return self.ignore_gone(ctx.client("events").describe_rule, Name=name, EventBusName=bus)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        r = self._describe(ctx, physical_id)
        if r is None:
            raise ResourceError(f"EventBridge rule {physical_id} does not exist")
        return {"Name": r["Name"], "Arn": r["Arn"], "EventBusName": self.split(physical_id)[0]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        r = self._describe(ctx, physical_id)
        if r is None:
            return None
        out: dict[str, Any] = {"Name": r["Name"], "State": r["State"],
                               "EventBusName": r.get("EventBusName") or self.split(physical_id)[0]}
        for key in ("ScheduleExpression", "Description", "RoleArn"):
            if r.get(key):
                out[key] = r[key]
        if r.get("EventPattern"):
            out["EventPattern"] = json.loads(r["EventPattern"])
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        arn = self._put(ctx, self.split(physical_id)[1], new, tags=False)
        ctx.client("events").tag_resource(ResourceARN=arn, Tags=tag_list(ctx.tags))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        bus, name = self.split(physical_id)
        ev = ctx.client("events")
        try:
            ids = [t["Id"] for page in ev.get_paginator("list_targets_by_rule").paginate(Rule=name, EventBusName=bus)
                   for t in page["Targets"]]
        except Exception as exc:
            if self.gone(exc):
                return
            raise
        for i in range(0, len(ids), 10):  # RemoveTargets takes at most 10 ids
            self.ignore_gone(ev.remove_targets, Rule=name, EventBusName=bus, Ids=ids[i:i + 10])
        self.ignore_gone(ev.delete_rule, Name=name, EventBusName=bus)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name, bus = self.name_for(ctx, self.properties), self.known_prop(ctx, "EventBusName") or DEFAULT_BUS
        if name is None:
            return None
        pid = self.join_id(bus, name)
        return (pid, self.outputs_of(ctx, pid)) if self._describe(ctx, pid) else None


class Target(EventsResource):
    """One target of a rule: an SNS topic (EventBridge -> SNS), a Lambda function, a queue...

    `Input` may be a dict (sent as JSON) or a string; `InputTransformer`
    follows the API ({InputPathsMap, InputTemplate}). SNS and Lambda targets
    need a resource policy (sns.TopicPolicy, lambda.Permission), not a role.
    """

    type_name = "events.Target"
    label = "EventBridge target"
    props = {
        "Rule": P(str, required=True),
        "EventBusName": P(str, default=DEFAULT_BUS),
        "Id": P(str, required=True, validator=rule_name),
        "Arn": P(str, required=True),
        "RoleArn": P(str),
        "Input": P((dict, str)),
        "InputPath": P(str),
        "InputTransformer": P(dict),
    }
    replace_on = frozenset({"Rule", "EventBusName", "Id"})
    outputs = ("Rule", "Id")

    def validate(self, props: dict[str, Any]) -> None:
        given = [k for k in ("Input", "InputPath", "InputTransformer") if props.get(k) is not None]
        if len(given) > 1:
            raise PlanError(f"{self.type_name} {self.name!r}: Input, InputPath and InputTransformer "
                            f"exclude each other; got {', '.join(given)}")

    @staticmethod
    def split(physical_id: str) -> tuple[str, str, str]:
        parts = physical_id.split(SEP)
        if len(parts) == 2:
            return DEFAULT_BUS, parts[0], parts[1]
        return parts[0], parts[1], parts[2]

    def _put(self, ctx: Ctx, props: dict[str, Any]) -> None:
        target: dict[str, Any] = {"Id": props["Id"], "Arn": props["Arn"]}
        for key in ("RoleArn", "InputPath", "InputTransformer"):
            if props.get(key):
                target[key] = props[key]
        if props.get("Input") is not None:
            inp = props["Input"]
            target["Input"] = inp if isinstance(inp, str) else json.dumps(inp, sort_keys=True)
        resp = ctx.client("events").put_targets(Rule=props["Rule"], EventBusName=props["EventBusName"],
                                                Targets=[target])
        if resp.get("FailedEntryCount"):
            raise ResourceError(f"EventBridge refused target {props['Id']} of rule {props['Rule']}: "
                                f"{resp.get('FailedEntries')}")

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self._put(ctx, props)
        pid = self.join_id(props["EventBusName"], props["Rule"], props["Id"])
        return pid, self.outputs_of(ctx, pid)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        _, rule, tid = self.split(physical_id)
        return {"Rule": rule, "Id": tid}

    def _describe(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        bus, rule, tid = self.split(physical_id)
        try:
            for page in ctx.client("events").get_paginator("list_targets_by_rule").paginate(Rule=rule,
                                                                                          EventBusName=bus):
                for t in page["Targets"]:
                    if t["Id"] == tid:
                        return t
        except Exception as exc:
            if self.gone(exc):
                return None
            raise
        return None

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        t = self._describe(ctx, physical_id)
        if t is None:
            return None
        bus, rule, _ = self.split(physical_id)
        out: dict[str, Any] = {"Rule": rule, "EventBusName": bus, "Id": t["Id"], "Arn": t["Arn"]}
        for key in ("RoleArn", "InputPath", "InputTransformer"):
            if t.get(key):
                out[key] = t[key]
        if t.get("Input"):
            inp = t["Input"]
            try:
                out["Input"] = json.loads(inp) if isinstance(json.loads(inp), dict) else inp
            except ValueError:
                out["Input"] = inp
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self._put(ctx, new)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        bus, rule, tid = self.split(physical_id)
        self.ignore_gone(ctx.client("events").remove_targets, Rule=rule, EventBusName=bus, Ids=[tid])

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        rule, tid = self.prop("Rule"), self.prop("Id")
        if rule is None or tid is None:
            return None
        pid = self.join_id(self.prop("EventBusName"), rule, tid)
        return (pid, self.outputs_of(ctx, pid)) if self._describe(ctx, pid) else None
