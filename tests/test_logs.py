"""Round trips of the CloudWatch Logs types on moto, checked with independent boto3 calls."""

import pytest

from core.errors import PlanError
from resources.base import ResourceError
from resources.logs import LogGroup, MetricFilter, SubscriptionFilter

GROUP = "/aws/eks/genai-demo-test/cluster"


def _group(aws, ctx, name=GROUP, **props):
    g = LogGroup("cluster_logs", logGroupName=name, **props)
    g.stack = "main"
    pid, _ = g.create(ctx, dict(g.properties))
    return pid


def _stream(aws, name):
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]


def test_log_group_round_trip(aws):
    kms = aws.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    g = LogGroup("cluster_logs", logGroupName=GROUP, retentionInDays=7, kmsKeyId=key)
    g.stack = "main"
    ctx = aws.ctx("cluster_logs")
    pid, out = g.create(ctx, dict(g.properties))
    assert pid == GROUP
    assert out["Arn"].endswith(f"log-group:{GROUP}:*") and out["LogGroupArn"].endswith(f"log-group:{GROUP}")

    logs = aws.client("logs")
    seen = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
    assert seen["retentionInDays"] == 7 and seen["kmsKeyId"] == key
    tags = logs.list_tags_for_resource(resourceArn=out["LogGroupArn"])["tags"]
    assert tags["infra:address"] == "main.cluster_logs" and tags["infra:env"] == "test"

    assert g.read(ctx, pid) == {"logGroupName": GROUP, "retentionInDays": 7, "kmsKeyId": key,
                                "logGroupClass": "STANDARD"}
    old = dict(g.properties)
    g.update(ctx, pid, old, dict(old, retentionInDays=90))
    assert logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["retentionInDays"] == 90
    g.update(ctx, pid, dict(old, retentionInDays=90), dict(old, retentionInDays=None))
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]

    assert g.find(ctx)[0] == pid
    g.delete(ctx, pid)
    g.delete(ctx, pid)  # idempotent
    assert logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"] == []
    assert g.read(ctx, pid) is None
    assert g.find(ctx) is None


def test_log_group_exact_name_not_prefix(aws):
    """A group whose name only starts with ours is someone else's."""
    ctx = aws.ctx("app")
    _group(aws, ctx, name="/aws/genai-demo/test/application-extra")
    g = LogGroup("app", logGroupName="/aws/genai-demo/test/application")
    g.stack = "main"
    assert g.read(ctx, "/aws/genai-demo/test/application") is None
    assert g.find(ctx) is None


def test_log_group_rejects_bad_input():
    with pytest.raises(PlanError, match="retentionInDays"):
        LogGroup("g", logGroupName=GROUP, retentionInDays=31)  # AWS has no 31-day retention
    with pytest.raises(PlanError, match="unknown property"):
        LogGroup("g", logGroupName=GROUP, RetentionInDays=7)
    with pytest.raises(PlanError, match="must be str"):
        LogGroup("g", logGroupName=42)
    with pytest.raises(PlanError, match="characters AWS rejects"):
        LogGroup("g", logGroupName="/bad name")


def test_subscription_filter_round_trip(aws):
    ctx = aws.ctx("to_stream")
    _group(aws, ctx)
    first, second = _stream(aws, "first"), _stream(aws, "second")
    f = SubscriptionFilter("to_stream", logGroupName=GROUP, filterName="to-opensearch",
                           filterPattern="ERROR", destinationArn=first,
                           roleArn="arn:aws:iam::123456789012:role/logs-to-kinesis")
    f.stack = "main"
    pid, out = f.create(ctx, dict(f.properties))
    assert pid == f"{GROUP}|to-opensearch" and out == {"LogGroupName": GROUP, "FilterName": "to-opensearch"}

    logs = aws.client("logs")
    seen = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert [(s["filterName"], s["destinationArn"], s["filterPattern"]) for s in seen] == \
        [("to-opensearch", first, "ERROR")]

    got = f.read(ctx, pid)
    assert got["destinationArn"] == first and got["roleArn"].endswith("logs-to-kinesis")
    new = dict(f.properties, destinationArn=second, filterPattern="")
    f.update(ctx, pid, dict(f.properties), new)
    seen = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert [(s["destinationArn"], s["filterPattern"]) for s in seen] == [(second, "")]

    assert f.find(ctx)[0] == pid
    f.delete(ctx, pid)
    f.delete(ctx, pid)
    assert logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"] == []
    assert f.read(ctx, pid) is None and f.find(ctx) is None


def test_subscription_filter_read_when_group_gone(aws):
    f = SubscriptionFilter("s", logGroupName="/gone", filterName="x", destinationArn="arn:aws:kinesis:x")
    f.stack = "main"
    assert f.read(aws.ctx("s"), "/gone|x") is None
    f.delete(aws.ctx("s"), "/gone|x")  # nothing to do is success


def test_metric_filter_round_trip(aws):
    ctx = aws.ctx("errors")
    _group(aws, ctx)
    mt = {"metricName": "ApplicationErrors", "metricNamespace": "GenAIDemo/test", "metricValue": "1"}
    f = MetricFilter("errors", logGroupName=GROUP, filterName="errors", filterPattern="ERROR",
                     metricTransformations=[mt])
    f.stack = "main"
    pid, _ = f.create(ctx, dict(f.properties))
    logs = aws.client("logs")
    seen = logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"][0]
    assert seen["filterPattern"] == "ERROR" and seen["metricTransformations"][0]["metricName"] == "ApplicationErrors"
    assert f.read(ctx, pid)["metricTransformations"] == [mt]

    f.update(ctx, pid, dict(f.properties), dict(f.properties, filterPattern="?ERROR ?FATAL"))
    # AWS replaces the filter of that name; moto 5.2.5 appends a second one, so look for the new pattern.
    seen = logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"]
    assert "?ERROR ?FATAL" in [s["filterPattern"] for s in seen]
    assert f.read(ctx, pid)["filterPattern"] == "?ERROR ?FATAL"
    assert f.find(ctx)[0] == pid
    f.delete(ctx, pid)
    f.delete(ctx, pid)
    assert logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"] == []
    assert f.read(ctx, pid) is None and f.find(ctx) is None


def test_metric_filter_rejects_incomplete_transformation():
    with pytest.raises(PlanError, match="metricTransformation"):
        MetricFilter("m", logGroupName=GROUP, filterName="f", filterPattern="x",
                     metricTransformations=[{"metricName": "X"}])


def test_log_group_kms_key_change(aws):
    """AssociateKmsKey / DisassociateKmsKey (the sandbox adds them to moto)."""
    kms = aws.client("kms")
    first, second = (kms.create_key()["KeyMetadata"]["Arn"] for _ in range(2))
    g = LogGroup("cluster_logs", logGroupName=GROUP, retentionInDays=7, kmsKeyId=first)
    g.stack = "main"
    ctx = aws.ctx("cluster_logs")
    pid, _ = g.create(ctx, dict(g.properties))
    logs = aws.client("logs")
    old = dict(g.properties)
    g.update(ctx, pid, old, dict(old, kmsKeyId=second))
    assert logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["kmsKeyId"] == second
    g.update(ctx, pid, dict(old, kmsKeyId=second), dict(old, kmsKeyId=None))
    assert "kmsKeyId" not in logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
    assert "kmsKeyId" not in g.read(ctx, pid)


def test_log_group_create_again_adopts_only_its_own(aws):
    """A re-run create (find() missed it) adopts our group; a foreign group of that name is an error."""
    ctx = aws.ctx("cluster_logs")
    g = LogGroup("cluster_logs", logGroupName=GROUP, retentionInDays=7)
    g.stack = "main"
    pid, _ = g.create(ctx, dict(g.properties))
    assert g.create(ctx, dict(g.properties, retentionInDays=14))[0] == pid
    logs = aws.client("logs")
    assert logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["retentionInDays"] == 14

    logs.create_log_group(logGroupName="/aws/eks/made-by-eks/cluster")
    other = LogGroup("eks_logs", logGroupName="/aws/eks/made-by-eks/cluster")
    other.stack = "main"
    with pytest.raises(ResourceError, match="not created by main.eks_logs"):
        other.create(aws.ctx("eks_logs"), dict(other.properties))


def test_log_group_adopts_what_an_aws_service_made_when_told(aws):
    """EKS creates /aws/eks/<cluster>/cluster itself once the cluster logs; the declaration may take it over."""
    name = "/aws/eks/made-by-eks/cluster"
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=name)  # as EKS does: no tags, no retention, no key
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    g = LogGroup("eks_logs", logGroupName=name, retentionInDays=7, kmsKeyId=key, AdoptServiceCreated=True)
    g.stack = "observability"
    ctx = aws.ctx("eks_logs", stack="observability")
    pid, out = g.create(ctx, dict(g.properties))
    seen = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    assert pid == name and seen["retentionInDays"] == 7 and seen["kmsKeyId"] == key
    assert logs.list_tags_for_resource(resourceArn=out["LogGroupArn"])["tags"]["infra:address"] == \
        "observability.eks_logs"
    # A group another declaration of this tool owns is never taken, even when told to adopt.
    twin = LogGroup("eks_logs_twin", logGroupName=name, AdoptServiceCreated=True)
    twin.stack = "observability"
    with pytest.raises(ResourceError, match="not created by observability.eks_logs_twin"):
        twin.create(aws.ctx("eks_logs_twin", stack="observability"), dict(twin.properties))
