"""CloudWatch Logs types: log groups, the filters that ship or measure their events, and the resource
policies that let AWS services write into groups.

Log group names follow AWS conventions (`/aws/eks/<cluster>/cluster`,
`/aws/containerinsights/<cluster>/application`), so the name is a property
rather than `genai-demo-<env>-<name>`: a service that writes to its
conventional group (EKS control-plane logging, Container Insights) must find
the group this tool created, with our retention and KMS key, instead of
creating its own. The name is the physical id and find() looks it up.

Filters are named per log group; their physical id is "<logGroupName>|<filterName>"
and their put_* calls are upserts, so create and update are the same call.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from core.errors import PlanError, Retry, on_write
from resources.account import as_declared, render
from resources.base import Ctx, KnownProps, P, Resource, ResourceError, one_of

# The only values PutRetentionPolicy accepts (moto accepts any integer; AWS does not).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                  2922, 3288, 3653)

SEP = "|"


def log_group_name(value: Any) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= 512:
        return "must be a string of 1 to 512 characters"
    bad = set(value) - set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/.#")
    return f"contains characters AWS rejects: {''.join(sorted(bad))}" if bad else None


_TF_SUBSCRIPTION = ("terraform-provider-aws internal/service/logs/subscription_filter.go, around "
                     "PutSubscriptionFilter (5 min)")
# PutSubscriptionFilter sends a test message to the destination as the role: while the role (or the new
# stream) is not visible to CloudWatch Logs, that delivery fails.
SUBSCRIPTION_RETRIES: tuple[Retry, ...] = (
    on_write("InvalidParameterException", "Could not deliver test message to specified", 300, _TF_SUBSCRIPTION),
    on_write("InvalidParameterException", "Could not execute the lambda function", 300, _TF_SUBSCRIPTION),
    on_write("OperationAbortedException", "Please try again", 300, _TF_SUBSCRIPTION),
)


class LogsResource(KnownProps, Resource):
    """Logs types share the service, the not-found code and group lookup by exact name."""

    service = "logs"
    not_found = ("ResourceNotFoundException",)

    @staticmethod
    def describe_group(ctx: Ctx, name: str) -> dict[str, Any] | None:
        """The log group called exactly `name` (the API only filters by prefix)."""
        pages = ctx.client("logs").get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        for page in pages:
            for g in page["logGroups"]:
                if g["logGroupName"] == name:
                    return g
        return None


class LogGroup(LogsResource):
    """A log group with retention, optional KMS encryption and our tags.

    KMS: the key is passed to CreateLogGroup; a later change uses
    AssociateKmsKey / DisassociateKmsKey (the key policy must allow
    logs.<region>.amazonaws.com, which is the kms module's job).
    """

    type_name = "logs.LogGroup"
    label = "log group"
    arn_kind = ("logs", "log-group")
    props = {
        "logGroupName": P(str, required=True, validator=log_group_name),
        "retentionInDays": P(int, validator=one_of(*RETENTION_DAYS),
                             doc="None keeps events forever (AWS default)"),
        "kmsKeyId": P(str, doc="KMS key ARN"),
        "logGroupClass": P(str, default="STANDARD", validator=one_of("STANDARD", "INFREQUENT_ACCESS")),
        "AdoptServiceCreated": P(bool, default=False,
                                 doc="take over a group of this name that carries no infra tags: the one an AWS "
                                     "service made itself (EKS control-plane logging creates /aws/eks/<cluster>/"
                                     "cluster as soon as the cluster logs, before a later stack declares it)"),
    }
    replace_on = frozenset({"logGroupName", "logGroupClass"})
    change_notes = {"logGroupClass": "replace: no CloudWatch Logs call changes a log group's class "
                                     "(terraform-provider-aws logs/group.go: ForceNew)"}
    write_only = frozenset({"AdoptServiceCreated"})
    outputs = ("LogGroupName", "Arn", "LogGroupArn")

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        logs = ctx.client("logs")
        name = props["logGroupName"]
        params: dict[str, Any] = {"logGroupName": name, "tags": dict(ctx.tags)}
        if props.get("kmsKeyId"):
            params["kmsKeyId"] = props["kmsKeyId"]
        if props.get("logGroupClass") and props["logGroupClass"] != "STANDARD":
            params["logGroupClass"] = props["logGroupClass"]
        try:
            logs.create_log_group(**params)
        except Exception as exc:
            if self.code(exc) != "ResourceAlreadyExistsException":
                raise
            self._adopt_own(ctx, name, props, exc)
        if props.get("retentionInDays"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=props["retentionInDays"])
        return name, self.outputs_of(ctx, name)

    def _adopt_own(self, ctx: Ctx, name: str, props: dict[str, Any], exc: Exception) -> None:
        """The group exists: ours from an interrupted run (our address tag) is brought to the plan.

        find() misses it when the name is built from Refs; a group someone
        else made (or a service made, e.g. EKS logging enabled before this
        group existed) is not silently taken over.
        """
        logs = ctx.client("logs")
        arn = self.outputs_of(ctx, name)["LogGroupArn"]
        tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
        service_made = props.get("AdoptServiceCreated") and not any(k.startswith("infra:") for k in tags)
        if not service_made and (tags.get("infra:address") != ctx.address or tags.get("infra:env") != ctx.env):
            raise ResourceError(f"log group {name} already exists and was not created by {ctx.address}; "
                                "delete it, import it into state, or set AdoptServiceCreated when an AWS "
                                "service made it") from exc
        seen = self.read(ctx, name) or {}
        if props.get("kmsKeyId") and seen.get("kmsKeyId") != props["kmsKeyId"]:
            logs.associate_kms_key(logGroupName=name, kmsKeyId=props["kmsKeyId"])
        logs.tag_resource(resourceArn=arn, tags=dict(ctx.tags))

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        g = self.describe_group(ctx, physical_id)
        if g is None:
            raise ResourceError(f"log group {physical_id} does not exist")
        arn = g["arn"]  # ends with ":*", the form IAM policies and subscriptions use
        return {"LogGroupName": physical_id, "Arn": arn, "LogGroupArn": g.get("logGroupArn") or arn[:-2]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        g = self.describe_group(ctx, physical_id)
        if g is None:
            return None
        out = {"logGroupName": g["logGroupName"], "logGroupClass": g.get("logGroupClass", "STANDARD")}
        if g.get("retentionInDays"):
            out["retentionInDays"] = g["retentionInDays"]
        if g.get("kmsKeyId"):
            out["kmsKeyId"] = g["kmsKeyId"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        logs = ctx.client("logs")
        if old.get("retentionInDays") != new.get("retentionInDays"):
            if new.get("retentionInDays"):
                logs.put_retention_policy(logGroupName=physical_id, retentionInDays=new["retentionInDays"])
            else:
                logs.delete_retention_policy(logGroupName=physical_id)
        if old.get("kmsKeyId") != new.get("kmsKeyId"):
            if new.get("kmsKeyId"):
                logs.associate_kms_key(logGroupName=physical_id, kmsKeyId=new["kmsKeyId"])
            else:
                logs.disassociate_kms_key(logGroupName=physical_id)
        outputs = self.outputs_of(ctx, physical_id)
        logs.tag_resource(resourceArn=outputs["LogGroupArn"], tags=dict(ctx.tags))
        return outputs

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("logs").delete_log_group, logGroupName=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.prop("logGroupName")
        if name is None or self.describe_group(ctx, name) is None:
            return None
        return name, self.outputs_of(ctx, name)


class _GroupFilter(LogsResource):
    """A named filter on a log group: physical id "<group>|<filter>", put_* is an upsert.

    Subclasses name the describe call, its list key and how to turn props
    into put_* parameters and back.
    """

    describe: ClassVar[str] = ""
    list_key: ClassVar[str] = ""
    put: ClassVar[str] = ""
    remove: ClassVar[str] = ""
    outputs = ("LogGroupName", "FilterName")

    def params(self, props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if v is not None}

    def to_props(self, item: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def split(physical_id: str) -> tuple[str, str]:
        group, _, name = physical_id.rpartition(SEP)
        return group, name

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        getattr(ctx.client("logs"), self.put)(**self.params(props))
        pid = SEP.join((props["logGroupName"], props["filterName"]))
        return pid, self.outputs_of(ctx, pid)

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        group, name = self.split(physical_id)
        found = None
        try:
            pages = ctx.client("logs").get_paginator(self.describe).paginate(logGroupName=group,
                                                                             filterNamePrefix=name)
            for page in pages:
                for f in page[self.list_key]:
                    if f["filterName"] == name:
                        found = f  # the last one: moto 5.2.5 appends on a second put_metric_filter
        except Exception as exc:
            if self.gone(exc):  # the log group itself is gone
                return None
            raise
        return found

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        f = self.describe_one(ctx, physical_id)
        return None if f is None else self.to_props(f)

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        getattr(ctx.client("logs"), self.put)(**self.params(new))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        group, name = self.split(physical_id)
        self.ignore_gone(getattr(ctx.client("logs"), self.remove), logGroupName=group, filterName=name)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        group, name = self.prop("logGroupName"), self.prop("filterName")
        if group is None or name is None:
            return None
        pid = SEP.join((group, name))
        return (pid, self.outputs_of(ctx, pid)) if self.describe_one(ctx, pid) else None

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        group, name = self.split(physical_id)
        return {"LogGroupName": group, "FilterName": name}


class SubscriptionFilter(_GroupFilter):
    """Streams a log group's events to Firehose, Kinesis or Lambda (CloudWatch -> OpenSearch / S3).

    roleArn is needed for Firehose and Kinesis destinations (logs assumes it to
    put records); Lambda destinations use a lambda_.Permission for
    logs.amazonaws.com instead. AWS allows two subscription filters per group.
    """

    type_name = "logs.SubscriptionFilter"
    retries = SUBSCRIPTION_RETRIES
    label = "subscription filter"
    describe, list_key = "describe_subscription_filters", "subscriptionFilters"
    put, remove = "put_subscription_filter", "delete_subscription_filter"
    props = {
        "logGroupName": P(str, required=True, validator=log_group_name),
        "filterName": P(str, required=True),
        "filterPattern": P(str, default=""),
        "destinationArn": P(str, required=True),
        "roleArn": P(str),
        "distribution": P(str, default="ByLogStream", validator=one_of("Random", "ByLogStream")),
    }
    replace_on = frozenset({"logGroupName", "filterName"})

    def to_props(self, item: dict[str, Any]) -> dict[str, Any]:
        out = {"logGroupName": item["logGroupName"], "filterName": item["filterName"],
               "filterPattern": item.get("filterPattern", ""), "destinationArn": item["destinationArn"],
               "distribution": item.get("distribution", "ByLogStream")}
        if item.get("roleArn"):
            out["roleArn"] = item["roleArn"]
        return out


class MetricFilter(_GroupFilter):
    """Turns matching log events into a CloudWatch metric (e.g. ERROR lines -> an alarmable count)."""

    type_name = "logs.MetricFilter"
    label = "metric filter"
    describe, list_key = "describe_metric_filters", "metricFilters"
    put, remove = "put_metric_filter", "delete_metric_filter"
    props = {
        "logGroupName": P(str, required=True, validator=log_group_name),
        "filterName": P(str, required=True),
        "filterPattern": P(str, required=True),
        "metricTransformations": P(list, required=True,
                                   doc="[{metricName, metricNamespace, metricValue, defaultValue?, unit?}]"),
    }
    replace_on = frozenset({"logGroupName", "filterName"})

    def validate(self, props: dict[str, Any]) -> None:
        mts = props.get("metricTransformations")
        if isinstance(mts, list):
            for mt in mts:
                if isinstance(mt, dict) and not {"metricName", "metricNamespace", "metricValue"} <= set(mt):
                    raise PlanError(f"{self.type_name} {self.name!r}: each metricTransformation needs "
                                    "metricName, metricNamespace and metricValue")

    def to_props(self, item: dict[str, Any]) -> dict[str, Any]:
        keys = ("metricName", "metricNamespace", "metricValue", "defaultValue", "dimensions", "unit")
        mts = [{k: mt[k] for k in keys if mt.get(k) not in (None, {}, "None")}
               for mt in item.get("metricTransformations", [])]
        return {"logGroupName": item["logGroupName"], "filterName": item["filterName"],
                "filterPattern": item.get("filterPattern", ""), "metricTransformations": mts}


class ResourcePolicy(LogsResource):
    """A CloudWatch Logs resource policy: which AWS services may write into which log groups.

    OpenSearch publishes its slow, application and audit logs only into groups such a policy opens to
    es.amazonaws.com (CreateDomain and UpdateDomainConfig check it and refuse otherwise). The policy
    belongs to the account and region, not to a group, and AWS keeps at most 10 of them per region;
    its name is the physical id. PutResourcePolicy replaces a policy of the same name, so find() adopts
    only a policy whose document is already the declared one (it cannot be tagged).
    """

    type_name = "logs.ResourcePolicy"
    label = "log resource policy"
    props = {
        "policyName": P(str, doc="default: genai-demo-<env>-<name>"),
        "policyDocument": P(dict, required=True, doc="IAM policy document; ${AWS::AccountId} is this account"),
    }
    replace_on = frozenset({"policyName"})
    outputs = ("PolicyName",)

    def policy_name(self, ctx: Ctx, props: dict[str, Any] | None = None) -> str:
        name = (props or self.properties).get("policyName")
        return name if isinstance(name, str) else ctx.physical_name()

    def _put(self, ctx: Ctx, name: str, doc: dict[str, Any]) -> None:
        ctx.client("logs").put_resource_policy(policyName=name,
                                               policyDocument=json.dumps(render(doc, ctx.account_id), sort_keys=True))

    def _document(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        for page in ctx.client("logs").get_paginator("describe_resource_policies").paginate():
            for p in page.get("resourcePolicies", []):
                if p["policyName"] == name:
                    return json.loads(p["policyDocument"])
        return None

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.policy_name(ctx, props)
        self._put(ctx, name, props["policyDocument"])
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"PolicyName": physical_id}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        doc = self._document(ctx, physical_id)
        if doc is None:
            return None
        out = {"policyDocument": as_declared(self.properties.get("policyDocument"), doc, ctx.account_id)}
        if "policyName" in self.properties:
            out["policyName"] = physical_id
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self._put(ctx, physical_id, new["policyDocument"])
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("logs").delete_resource_policy, policyName=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.policy_name(ctx)
        doc = self._document(ctx, name)
        declared = self.prop("policyDocument")
        if doc is None or declared is None or doc != render(declared, ctx.account_id):
            return None  # absent, or someone else's policy of that name: never overwritten silently
        return name, self.outputs_of(ctx, name)
