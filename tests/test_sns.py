"""Round trips of sns.Topic, sns.Subscription and sns.TopicPolicy on moto."""

import json

import pytest
from botocore.exceptions import ClientError

from core.errors import PlanError
from resources.sns import Subscription, Topic, TopicPolicy


def _topic(aws, name="critical", **props):
    t = Topic(name, **props)
    t.stack = "observability"
    ctx = aws.ctx(name, stack="observability")
    arn, _ = t.create(ctx, dict(t.properties))
    return arn


def test_topic_round_trip(aws):
    t = Topic("critical", DisplayName="GenAI critical", KmsMasterKeyId="alias/aws/sns")
    t.stack = "observability"
    ctx = aws.ctx("critical", stack="observability")
    arn, out = t.create(ctx, dict(t.properties))
    assert arn.endswith(":genai-demo-test-critical") and out["TopicName"] == "genai-demo-test-critical"

    sns = aws.client("sns")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "GenAI critical" and attrs["KmsMasterKeyId"] == "alias/aws/sns"
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags["infra:address"] == "observability.critical"

    assert t.read(ctx, arn) == {"Name": "genai-demo-test-critical", "FifoTopic": False,
                                "DisplayName": "GenAI critical", "KmsMasterKeyId": "alias/aws/sns"}
    new = dict(t.properties, DisplayName="Critical alerts")
    t.update(ctx, arn, dict(t.properties), new)
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Critical alerts"

    assert t.find(ctx)[0] == arn
    t.delete(ctx, arn)
    t.delete(ctx, arn)
    assert arn not in [x["TopicArn"] for x in sns.list_topics()["Topics"]]
    assert t.read(ctx, arn) is None and t.find(ctx) is None


def test_topic_delivery_status_logging(aws):
    """The feedback roles and sample rate reach SNS at create, read back, change and go in place."""
    role = "arn:aws:iam::123456789012:role/sns-feedback"
    t = Topic("warning", SQSSuccessFeedbackRoleArn=role, SQSSuccessFeedbackSampleRate="10",
              SQSFailureFeedbackRoleArn=role)
    t.stack = "observability"
    ctx = aws.ctx("warning", stack="observability")
    arn, _ = t.create(ctx, dict(t.properties))
    sns = aws.client("sns")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["SQSSuccessFeedbackRoleArn"], attrs["SQSSuccessFeedbackSampleRate"],
            attrs["SQSFailureFeedbackRoleArn"]) == (role, "10", role)
    got = t.read(ctx, arn)
    assert {k: got[k] for k in got if "Feedback" in k} == {"SQSSuccessFeedbackRoleArn": role,
                                                          "SQSSuccessFeedbackSampleRate": "10",
                                                          "SQSFailureFeedbackRoleArn": role}
    new = {k: v for k, v in t.properties.items() if not k.startswith("SQSSuccess")}
    new["LambdaFailureFeedbackRoleArn"] = role
    t.update(ctx, arn, dict(t.properties), new)
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert "SQSSuccessFeedbackRoleArn" not in attrs and attrs["LambdaFailureFeedbackRoleArn"] == role
    with pytest.raises(PlanError, match="percentage"):
        Topic("t", HTTPSuccessFeedbackSampleRate="150")


def test_topic_find_is_exact(aws):
    _topic(aws, "critical_extra")
    t = Topic("critical")
    t.stack = "observability"
    assert t.find(aws.ctx("critical", stack="observability")) is None


def test_topic_rejects_bad_input():
    with pytest.raises(PlanError, match="FIFO"):
        Topic("t", Name="alerts.fifo")
    with pytest.raises(PlanError, match="characters AWS rejects"):
        Topic("t", Name="bad name")
    with pytest.raises(PlanError, match="unknown property"):
        Topic("t", TopicName="x")


def test_subscription_round_trip(aws):
    """A subscription AWS confirms at once (SQS in the same account): read, update, find and delete."""
    topic = _topic(aws)
    queue = f"arn:aws:sqs:{aws.region}:123456789012:oncall"
    s = Subscription("oncall", TopicArn=topic, Protocol="sqs", Endpoint=queue,
                     Attributes={"FilterPolicy": {"severity": ["critical"]}})
    s.stack = "observability"
    ctx = aws.ctx("oncall", stack="observability")
    arn, out = s.create(ctx, dict(s.properties))
    assert arn.startswith(topic + ":") and out == {"SubscriptionArn": arn}

    sns = aws.client("sns")
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(x["SubscriptionArn"], x["Protocol"], x["Endpoint"]) for x in subs] == [(arn, "sqs", queue)]
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == {"severity": ["critical"]}

    assert s.read(ctx, arn) == {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue,
                                "Attributes": {"FilterPolicy": {"severity": ["critical"]}}}
    new = dict(s.properties, Attributes={"FilterPolicy": {"severity": ["critical", "warning"]}})
    s.update(ctx, arn, dict(s.properties), new)
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == {"severity": ["critical", "warning"]}

    assert s.find(ctx)[0] == arn
    s.delete(ctx, arn)
    s.delete(ctx, arn)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert s.read(ctx, arn) is None and s.find(ctx) is None


def test_rule_sns_pending(aws):
    """Raw boto3: an email subscription stays pending; Unsubscribe refuses it; DeleteTopic takes it along."""
    sns = aws.client("sns")
    topic = sns.create_topic(Name="pending")["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com")["SubscriptionArn"] == \
        "pending confirmation"
    arn = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "true"
    sqs = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{aws.region}:123456789012:q",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    listed = {s["Protocol"]: s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]}
    assert listed == {"email": "PendingConfirmation", "sqs": sqs}
    assert {s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]} == {"PendingConfirmation", sqs}
    with pytest.raises(ClientError) as exc:
        sns.unsubscribe(SubscriptionArn=arn)
    assert exc.value.response["Error"]["Code"] == "InvalidParameter"
    assert "Cannot unsubscribe a subscription that is pending confirmation" in exc.value.response["Error"]["Message"]
    sns.unsubscribe(SubscriptionArn=sqs)  # a confirmed one goes
    sns.delete_topic(TopicArn=topic)
    assert sns.list_subscriptions()["Subscriptions"] == []


def test_pending_subscription_is_recorded_adopted_and_goes_with_its_topic(aws):
    """The tool records the pending ARN, reads it, never duplicates it, and its delete leaves it to the topic."""
    t = Topic("critical")
    t.stack = "observability"
    tctx = aws.ctx("critical", stack="observability")
    topic, _ = t.create(tctx, dict(t.properties))
    s = Subscription("oncall", TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
    s.stack = "observability"
    ctx = aws.ctx("oncall", stack="observability")
    arn, _ = s.create(ctx, dict(s.properties))
    sns = aws.client("sns")
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "true"
    assert s.read(ctx, arn) == {"TopicArn": topic, "Protocol": "email", "Endpoint": "oncall@example.com"}
    assert s.find(ctx) is None  # the lists hide a pending one's ARN ...
    assert s.create(ctx, dict(s.properties))[0] == arn  # ... and a create after a crash gets the same one back
    assert s.read(ctx, "pending confirmation") is None  # an old placeholder id: re-created, which adopts it
    s.delete(ctx, arn)  # refused by AWS as pending: left to the topic
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1
    t.delete(tctx, topic)
    assert sns.list_subscriptions()["Subscriptions"] == []
    assert s.read(ctx, arn) is None


def test_subscription_create_twice_is_one_subscription(aws):
    """Subscribe is idempotent per endpoint: a retried create adopts rather than duplicates."""
    topic = _topic(aws)
    s = Subscription("oncall", TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
    s.stack = "observability"
    ctx = aws.ctx("oncall", stack="observability")
    first, _ = s.create(ctx, dict(s.properties))
    second, _ = s.create(ctx, dict(s.properties))
    assert first == second
    assert len(aws.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1


def test_subscription_rejects_bad_input():
    with pytest.raises(PlanError, match="Protocol"):
        Subscription("s", TopicArn="arn:aws:sns:x", Protocol="pager", Endpoint="x")
    with pytest.raises(PlanError, match="unknown subscription attributes"):
        Subscription("s", TopicArn="arn:aws:sns:x", Protocol="email", Endpoint="x", Attributes={"Color": "red"})


def test_topic_policy_round_trip(aws):
    topic = _topic(aws)

    def policy(*services):
        return {"Version": "2012-10-17", "Id": "genai-demo-alerts", "Statement": [{
            "Sid": "AwsServicesPublish", "Effect": "Allow", "Principal": {"Service": list(services)},
            "Action": "sns:Publish", "Resource": topic}]}

    p = TopicPolicy("critical_policy", TopicArn=topic, PolicyDocument=policy("events.amazonaws.com"))
    p.stack = "observability"
    ctx = aws.ctx("critical_policy", stack="observability")
    pid, _ = p.create(ctx, dict(p.properties))
    assert pid == topic

    sns = aws.client("sns")
    assert json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]) == \
        policy("events.amazonaws.com")
    assert p.read(ctx, pid)["PolicyDocument"] == policy("events.amazonaws.com")

    both = policy("events.amazonaws.com", "cloudwatch.amazonaws.com")
    p.update(ctx, pid, dict(p.properties), dict(p.properties, PolicyDocument=both))
    assert json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]) == both

    assert p.find(ctx)[0] == pid
    p.delete(ctx, pid)
    p.delete(ctx, pid)
    assert json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Id"] == \
        "__default_policy_ID"
    assert p.read(ctx, pid) is None and p.find(ctx) is None

    sns.delete_topic(TopicArn=topic)
    p.delete(ctx, pid)  # the topic went first: nothing left to reset


def test_topic_policy_rejects_default_id():
    with pytest.raises(PlanError, match="own Id"):
        TopicPolicy("p", TopicArn="arn:aws:sns:x", PolicyDocument={"Id": "__default_policy_ID", "Statement": []})
