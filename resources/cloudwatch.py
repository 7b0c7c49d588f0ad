"""CloudWatch types: metric alarms (the things that page people) and dashboards.

Both are keyed by name and written with an upsert (PutMetricAlarm,
PutDashboard), so update is "put again" and the name is the physical id. The
name is deterministic (`genai-demo-<env>-<logical name>` unless the plan
gives one), which is all find() needs.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from core.errors import PlanError
from resources.base import (
    BatchRead,
    Ctx,
    P,
    Resource,
    ResourceError,
    fetch_in_chunks,
    name_or_default,
    one_of,
    tag_list,
)

COMPARISONS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
               "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold",
               "LessThanLowerThreshold", "GreaterThanUpperThreshold")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


def _name_chars(allowed: str, max_len: int):  # noqa: ANN202 - a validator factory
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or not 1 <= len(value) <= max_len:
            return f"must be 1 to {max_len} characters"
        bad = {c for c in value if not (c.isascii() and (c.isalnum() or c in allowed))}
        return f"contains characters AWS rejects: {''.join(sorted(bad))}" if bad else None

    return check


class CloudWatchResource(Resource):
    """Name-keyed CloudWatch types: the plan's name or `genai-demo-<env>-<name>`."""

    service = "cloudwatch"
    not_found = ("ResourceNotFound", "ResourceNotFoundException")
    name_key: ClassVar[str] = ""
    max_name: ClassVar[int] = 255

    def name_for(self, ctx: Ctx, props: dict[str, Any] | None = None) -> str | None:
        return name_or_default(ctx, (props if props is not None else self.properties).get(self.name_key),
                               self.max_name)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.name_for(ctx)
        if name is None or self.read(ctx, name) is None:
            return None
        return name, self.outputs_of(ctx, name)


class MetricAlarm(BatchRead, CloudWatchResource):
    """A metric alarm whose actions are SNS topic ARNs (CloudWatch -> SNS).

    Either a single metric (MetricName, Namespace, Statistic or
    ExtendedStatistic, Period) or metric math (Metrics). Tags go with the first
    PutMetricAlarm; AWS ignores them on later puts, so update re-tags with
    TagResource.
    """

    type_name = "cloudwatch.MetricAlarm"
    label = "alarm"
    arn_kind = ("cloudwatch", "alarm")
    name_key = "AlarmName"
    props = {
        "AlarmName": P(str, validator=_name_chars(" -_./:#()[]{}+=@,'\"", 255),
                       doc="default genai-demo-<env>-<logical name>"),
        "AlarmDescription": P(str),
        "ActionsEnabled": P(bool, default=True),
        "AlarmActions": P(list),
        "OKActions": P(list),
        "InsufficientDataActions": P(list),
        "MetricName": P(str),
        "Namespace": P(str),
        "Statistic": P(str, validator=one_of(*STATISTICS)),
        "ExtendedStatistic": P(str),
        "Dimensions": P(list, doc="[{Name, Value}]"),
        "Period": P(int, validator=lambda v: None if v in (10, 20, 30) or (v >= 60 and v % 60 == 0)
                    else "must be 10, 20, 30 or a multiple of 60"),
        "Unit": P(str),
        "EvaluationPeriods": P(int, required=True),
        "DatapointsToAlarm": P(int),
        "Threshold": P((int, float)),
        "ComparisonOperator": P(str, required=True, validator=one_of(*COMPARISONS)),
        "TreatMissingData": P(str, validator=one_of("breaching", "notBreaching", "ignore", "missing")),
        "EvaluateLowSampleCountPercentile": P(str),
        "Metrics": P(list, doc="metric math: [{Id, Expression | MetricStat, ReturnData}]"),
        "ThresholdMetricId": P(str),
    }
    replace_on = frozenset({"AlarmName"})
    outputs = ("AlarmName", "Arn")

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        if props.get("Metrics") is not None:
            clash = [k for k in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions",
                                 "Period") if k in props]
            if clash:
                raise PlanError(f"{where}: Metrics (metric math) excludes {', '.join(clash)}")
            return
        missing = [k for k in ("MetricName", "Namespace", "Period") if k not in props]
        if missing:
            raise PlanError(f"{where}: a single-metric alarm needs {', '.join(missing)}")
        if ("Statistic" in props) == ("ExtendedStatistic" in props):
            raise PlanError(f"{where}: give exactly one of Statistic or ExtendedStatistic")
        if "Threshold" not in props and "ThresholdMetricId" not in props:
            raise PlanError(f"{where}: a threshold is needed (Threshold)")

    def _params(self, name: str, props: dict[str, Any]) -> dict[str, Any]:
        params = {k: v for k, v in props.items() if v is not None and k != "AlarmName"}
        if "Threshold" in params:
            params["Threshold"] = float(params["Threshold"])
        return {"AlarmName": name, **params}

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """{name: alarm} of the alarms that exist: DescribeAlarms takes 100 names per call."""
        def call(chunk: list[str]) -> dict[str, Any]:
            wanted = set(chunk)
            pages = ctx.client("cloudwatch").get_paginator("describe_alarms").paginate(
                AlarmNames=chunk, AlarmTypes=["MetricAlarm"])
            return {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"] if a["AlarmName"] in wanted}

        return fetch_in_chunks(ids, 100, call, lambda exc: False)  # unknown names are left out, not an error

    def _describe(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.fetch(ctx, [name]).get(name)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.name_for(ctx, props)
        ctx.client("cloudwatch").put_metric_alarm(**self._params(name, props), Tags=tag_list(ctx.tags))
        ctx.wait("cloudwatch", "AlarmExists", AlarmNames=[name], AlarmTypes=["MetricAlarm"])
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        alarm = self._describe(ctx, physical_id)
        if alarm is None:
            raise ResourceError(f"alarm {physical_id} does not exist")
        return {"AlarmName": physical_id, "Arn": alarm["AlarmArn"]}

    def props_from(self, ctx: Ctx, physical_id: str, alarm: dict[str, Any]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for key in self.props:
            value = alarm.get(key)
            if value is None or value == [] or value == "":
                continue
            out[key] = value
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        cw = ctx.client("cloudwatch")
        cw.put_metric_alarm(**self._params(physical_id, new))
        outputs = self.outputs_of(ctx, physical_id)
        cw.tag_resource(ResourceARN=outputs["Arn"], Tags=tag_list(ctx.tags))
        return outputs

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("cloudwatch").delete_alarms, AlarmNames=[physical_id])


class Dashboard(CloudWatchResource):
    """A dashboard; the body is a dict here and JSON (sorted keys) on the wire.

    AWS does not tag dashboards through this API's create call, so find()
    relies on the deterministic name.
    """

    type_name = "cloudwatch.Dashboard"
    label = "dashboard"
    name_key = "DashboardName"
    props = {
        "DashboardName": P(str, validator=_name_chars("-_", 255), doc="default genai-demo-<env>-<logical name>"),
        "DashboardBody": P(dict, required=True, doc='{"widgets": [...]}'),
    }
    replace_on = frozenset({"DashboardName"})
    outputs = ("DashboardName", "DashboardArn")

    def _put(self, ctx: Ctx, name: str, body: dict[str, Any]) -> None:
        resp = ctx.client("cloudwatch").put_dashboard(DashboardName=name,
                                                      DashboardBody=json.dumps(body, sort_keys=True))
        problems = resp.get("DashboardValidationMessages") or []
        if problems:  # AWS saves the dashboard anyway; a widget error is still a plan error to report
            raise ResourceError(f"dashboard {name}: {problems}")

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.name_for(ctx, props)
        self._put(ctx, name, props["DashboardBody"])
        return name, self.outputs_of(ctx, name)

    def _get(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.ignore_gone(ctx.client("cloudwatch").get_dashboard, DashboardName=name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        d = self._get(ctx, physical_id)
        if d is None:
            raise ResourceError(f"dashboard {physical_id} does not exist")
        return {"DashboardName": physical_id, "DashboardArn": d["DashboardArn"]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        d = self._get(ctx, physical_id)
        if d is None:
            return None
        return {"DashboardName": d["DashboardName"], "DashboardBody": json.loads(d["DashboardBody"])}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self._put(ctx, physical_id, new["DashboardBody"])
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("cloudwatch").delete_dashboards, DashboardNames=[physical_id])
