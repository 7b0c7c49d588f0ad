"""SNS types: alert topics, their subscriptions and the policy letting AWS services publish.

CreateTopic is idempotent on the name, so a topic's name is deterministic and
find() looks it up by name. A subscription is identified by its ARN, which
Subscribe returns at once when asked (ReturnSubscriptionArn), even while an
email subscription waits for its confirmation click; find() can only see
confirmed ones (the lists show "PendingConfirmation" in place of a pending
one's ARN), and a second Subscribe of the same endpoint returns the same
subscription, so an unrecorded pending one is never duplicated.

Nobody confirms the plan's email subscriptions during an apply, and AWS
refuses to unsubscribe a pending one; it goes with its topic instead
(DeleteTopic removes every subscription), which a destroy deletes next.
"""

from __future__ import annotations

import json
from typing import Any

from core.errors import PlanError, error_code, error_message
from resources.account import as_declared, render
from resources.base import Ctx, KnownProps, P, Resource, known, one_of, tag_list

PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose")

# Subscription attributes a plan may set (the others are reported by AWS, not chosen).
# Unsubscribe's answer for a subscription still waiting for its owner's click (Terraform's
# sns/topic_subscription.go treats it as deleted: the subscription goes with its topic).
PENDING_UNSUBSCRIBE = "Cannot unsubscribe a subscription that is pending confirmation"

SUBSCRIPTION_ATTRIBUTES = {"DeliveryPolicy": "", "FilterPolicy": "", "FilterPolicyScope": "MessageAttributes",
                           "RawMessageDelivery": "false", "RedrivePolicy": "", "SubscriptionRoleArn": "",
                           "ReplayPolicy": ""}


def topic_name(value: Any) -> str | None:
    base = value[:-5] if isinstance(value, str) and value.endswith(".fifo") else value
    if not isinstance(base, str) or not 1 <= len(value) <= 256:
        return "must be 1 to 256 characters"
    bad = {c for c in base if not (c.isascii() and (c.isalnum() or c in "-_"))}
    return f"contains characters AWS rejects: {''.join(sorted(bad))}" if bad else None


def default_topic_policy(topic_arn: str) -> dict[str, Any]:
    """The policy AWS gives a new topic: only the owning account may use it."""
    account = topic_arn.split(":")[4]
    return {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                       "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
        }],
    }


# Delivery status logging (SNS developer guide, "Amazon SNS message delivery status"): per protocol, the roles
# SNS assumes to write successes and failures to CloudWatch Logs, and the share of successes it logs.
# Email is not among them; SMS delivery status is an account setting (SetSMSAttributes).
FEEDBACK_PROTOCOLS = ("HTTP", "SQS", "Lambda", "Firehose", "Application")
FEEDBACK_ATTRIBUTES = tuple(f"{p}{a}" for p in FEEDBACK_PROTOCOLS
                            for a in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn"))


def sample_rate(value: Any) -> str | None:
    return None if isinstance(value, str) and value.isdigit() and 0 <= int(value) <= 100 else \
        "must be a string percentage, '0' to '100'"


class SnsResource(KnownProps, Resource):
    """SNS types share the service, its not-found codes and attribute lookups."""

    service = "sns"
    not_found = ("NotFound", "NotFoundException")

    def attributes(self, ctx: Ctx, call: str, **params: Any) -> dict[str, str] | None:
        resp = self.ignore_gone(getattr(ctx.client("sns"), call), **params)
        return None if resp is None else resp["Attributes"]


class Topic(SnsResource):
    """An SNS topic, optionally KMS-encrypted (alarms and EventBridge rules publish to it)."""

    type_name = "sns.Topic"
    label = "topic"
    arn_kind = ("sns", "")
    props = {
        "Name": P(str, validator=topic_name, doc="default genai-demo-<env>-<logical name>"),
        "DisplayName": P(str),
        "KmsMasterKeyId": P(str, doc="KMS key id, ARN or alias, e.g. alias/aws/sns"),
        "FifoTopic": P(bool, default=False),
        **{a: P(str, validator=sample_rate if a.endswith("SampleRate") else None,
                doc="delivery status logging: " + ("share of successful deliveries logged" if a.endswith("Rate")
                                                   else "role SNS assumes to write to CloudWatch Logs"))
           for a in FEEDBACK_ATTRIBUTES},
    }
    replace_on = frozenset({"Name", "FifoTopic"})
    outputs = ("TopicArn", "TopicName")
    settable = ("DisplayName", "KmsMasterKeyId", *FEEDBACK_ATTRIBUTES)

    def validate(self, props: dict[str, Any]) -> None:
        name = props.get("Name")
        if isinstance(name, str) and name.endswith(".fifo") != bool(props.get("FifoTopic")):
            raise PlanError(f"{self.type_name} {self.name!r}: a FIFO topic's name ends with .fifo, "
                            "and only a FIFO topic's")

    def name_for(self, ctx: Ctx, props: dict[str, Any]) -> str | None:
        name = props.get("Name")
        if name is None:
            name = ctx.physical_name(max_len=251 if props.get("FifoTopic") else 256)
            return name + ".fifo" if props.get("FifoTopic") else name
        return name if known(name) else None

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        attrs = {k: props[k] for k in self.settable if props.get(k)}
        if props.get("FifoTopic"):
            attrs["FifoTopic"] = "true"
        arn = ctx.client("sns").create_topic(Name=self.name_for(ctx, props), Attributes=attrs,
                                             Tags=tag_list(ctx.tags))["TopicArn"]
        return arn, self.outputs_of(ctx, arn)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"TopicArn": physical_id, "TopicName": physical_id.rsplit(":", 1)[1]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        a = self.attributes(ctx, "get_topic_attributes", TopicArn=physical_id)
        if a is None:
            return None
        out: dict[str, Any] = {"Name": physical_id.rsplit(":", 1)[1], "FifoTopic": a.get("FifoTopic") == "true"}
        out.update({k: a[k] for k in self.settable if a.get(k)})
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        sns = ctx.client("sns")
        for key in self.settable:
            if old.get(key) != new.get(key):
                sns.set_topic_attributes(TopicArn=physical_id, AttributeName=key, AttributeValue=new.get(key) or "")
        sns.tag_resource(ResourceArn=physical_id, Tags=tag_list(ctx.tags))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("sns").delete_topic, TopicArn=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.name_for(ctx, self.properties)
        if name is None:
            return None
        for page in ctx.client("sns").get_paginator("list_topics").paginate():
            for t in page["Topics"]:
                if t["TopicArn"].rsplit(":", 1)[1] == name:
                    return t["TopicArn"], self.outputs_of(ctx, t["TopicArn"])
        return None


class Subscription(SnsResource):
    """An endpoint (email, sms, https, sqs, lambda...) receiving a topic's messages.

    Subscriptions carry no tags; identity is (TopicArn, Protocol, Endpoint).
    Email and HTTP(S) endpoints stay "pending confirmation" in AWS until
    their owner confirms; moto confirms them at once.
    """

    type_name = "sns.Subscription"
    label = "subscription"
    props = {
        "TopicArn": P(str, required=True),
        "Protocol": P(str, required=True, validator=one_of(*PROTOCOLS)),
        "Endpoint": P(str, required=True),
        "Attributes": P(dict, doc=f"any of {', '.join(SUBSCRIPTION_ATTRIBUTES)} (string values)"),
    }
    replace_on = frozenset({"TopicArn", "Protocol", "Endpoint"})
    outputs = ("SubscriptionArn",)

    def validate(self, props: dict[str, Any]) -> None:
        attrs = props.get("Attributes")
        if isinstance(attrs, dict):
            unknown = sorted(set(attrs) - set(SUBSCRIPTION_ATTRIBUTES))
            if unknown:
                raise PlanError(f"{self.type_name} {self.name!r}: unknown subscription attributes {unknown}; "
                                f"settable: {', '.join(SUBSCRIPTION_ATTRIBUTES)}")

    @staticmethod
    def _wire(attrs: dict[str, Any] | None) -> dict[str, str]:
        """SNS attributes are strings: policies go as JSON, booleans as "true"/"false"."""
        out = {}
        for k, v in (attrs or {}).items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, dict | list):
                v = json.dumps(v, sort_keys=True)
            out[k] = str(v)
        return out

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"TopicArn": props["TopicArn"], "Protocol": props["Protocol"],
                                  "Endpoint": props["Endpoint"], "ReturnSubscriptionArn": True}
        if props.get("Attributes"):
            params["Attributes"] = self._wire(props["Attributes"])
        arn = ctx.client("sns").subscribe(**params)["SubscriptionArn"]
        return arn, self.outputs_of(ctx, arn)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"SubscriptionArn": physical_id}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        if not physical_id.startswith("arn:"):
            # "pending confirmation", what Subscribe answers without ReturnSubscriptionArn (a record from before
            # the tool asked for the ARN): no call takes it. Gone for the planner; its create's Subscribe
            # returns the same subscription, this time with its ARN.
            return None
        a = self.attributes(ctx, "get_subscription_attributes", SubscriptionArn=physical_id)
        if a is None:
            return None
        out: dict[str, Any] = {"TopicArn": a["TopicArn"], "Protocol": a["Protocol"], "Endpoint": a["Endpoint"]}
        chosen = {}
        for k, default in SUBSCRIPTION_ATTRIBUTES.items():
            v = a.get(k)
            if v in (None, "", default):
                continue
            chosen[k] = json.loads(v) if k in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy") else v
        if chosen:
            out["Attributes"] = chosen
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        before, after = self._wire(old.get("Attributes")), self._wire(new.get("Attributes"))
        sns = ctx.client("sns")
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                value = after.get(key, SUBSCRIPTION_ATTRIBUTES[key])
                sns.set_subscription_attributes(SubscriptionArn=physical_id, AttributeName=key, AttributeValue=value)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        """Unsubscribe; a subscription still pending confirmation cannot be, and is left to its topic's delete."""
        if not physical_id.startswith("arn:"):  # "pending confirmation" placeholder: nothing to unsubscribe
            return
        try:
            self.ignore_gone(ctx.client("sns").unsubscribe, SubscriptionArn=physical_id)
        except Exception as exc:
            if error_code(exc) == "InvalidParameter" and PENDING_UNSUBSCRIBE.lower() in error_message(exc).lower():
                return
            raise

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        topic, protocol, endpoint = self.prop("TopicArn"), self.prop("Protocol"), self.prop("Endpoint")
        if topic is None or protocol is None or endpoint is None:
            return None
        try:
            for page in ctx.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
                for s in page["Subscriptions"]:
                    if s["Protocol"] == protocol and s["Endpoint"] == endpoint and s["SubscriptionArn"].startswith("arn:"):
                        return s["SubscriptionArn"], self.outputs_of(ctx, s["SubscriptionArn"])
        except Exception as exc:
            if self.gone(exc):
                return None
            raise
        return None


class TopicPolicy(SnsResource):
    """The access policy of a topic, so EventBridge and CloudWatch (other accounts, KMS topics) can publish.

    The physical id is the topic ARN. Deleting puts back the policy AWS gives
    a new topic.
    """

    type_name = "sns.TopicPolicy"
    label = "topic policy"
    props = {
        "TopicArn": P(str, required=True),
        "PolicyDocument": P(dict, required=True),
    }
    replace_on = frozenset({"TopicArn"})
    change_notes = {"TopicArn": "replace: the policy is the Policy attribute of one topic; CloudFormation's "
                                "TopicPolicy takes a list of topics (Topics) and updates it"}
    outputs = ("TopicArn",)

    def validate(self, props: dict[str, Any]) -> None:
        doc = props.get("PolicyDocument")
        if isinstance(doc, dict) and doc.get("Id") == "__default_policy_ID":
            raise PlanError(f"{self.type_name} {self.name!r}: give the policy its own Id; "
                            "__default_policy_ID marks the policy AWS gives every new topic")

    def _set(self, ctx: Ctx, topic: str, policy: dict[str, Any]) -> None:
        ctx.client("sns").set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                               AttributeValue=json.dumps(render(policy, ctx.account_id),
                                                                         sort_keys=True))

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self._set(ctx, props["TopicArn"], props["PolicyDocument"])
        return props["TopicArn"], self.outputs_of(ctx, props["TopicArn"])

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"TopicArn": physical_id}

    def _policy(self, ctx: Ctx, topic: str) -> dict[str, Any] | None:
        a = self.attributes(ctx, "get_topic_attributes", TopicArn=topic)
        if a is None:
            return None
        return json.loads(a["Policy"]) if a.get("Policy") else {}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        policy = self._policy(ctx, physical_id)
        if policy is None or policy.get("Id") == "__default_policy_ID":
            return None
        return {"TopicArn": physical_id,
                "PolicyDocument": as_declared(self.properties.get("PolicyDocument"), policy, ctx.account_id)}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self._set(ctx, physical_id, new["PolicyDocument"])
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        if self._policy(ctx, physical_id) is None:  # the topic is gone, and its policy with it
            return
        try:
            self._set(ctx, physical_id, default_topic_policy(physical_id))
        except Exception as exc:
            if not self.gone(exc):
                raise

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        topic = self.prop("TopicArn")
        if topic is None or self.read(ctx, topic) is None:
            return None
        return topic, self.outputs_of(ctx, topic)

