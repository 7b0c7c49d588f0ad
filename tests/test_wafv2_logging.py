"""wafv2.LoggingConfiguration on the sandbox: created, read, updated (redacted fields) and deleted, checked through
independent boto3 calls; a destination not named aws-waf-logs-* refused before any call."""

from __future__ import annotations

import pytest

from core.errors import PlanError
from resources.base import Ref
from resources.wafv2 import LoggingConfiguration

VIS = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}


def test_logging_configuration_round_trip(aws):
    waf, logs = aws.client("wafv2"), aws.client("logs")
    acl = waf.create_web_acl(Name="acl", Scope="REGIONAL", DefaultAction={"Allow": {}},
                             VisibilityConfig=VIS)["Summary"]["ARN"]
    logs.create_log_group(logGroupName="aws-waf-logs-genai-demo-test")
    group = logs.describe_log_groups(logGroupNamePrefix="aws-waf-logs-")["logGroups"][0]["arn"].removesuffix(":*")
    conf = LoggingConfiguration("waf_logging", ResourceArn=acl, LogDestinationConfigs=[group])
    conf.stack = "observability"
    ctx = aws.ctx("waf_logging", stack="observability")
    pid, _ = conf.create(ctx, dict(conf.properties))
    assert pid == acl
    assert waf.get_logging_configuration(ResourceArn=acl)["LoggingConfiguration"]["LogDestinationConfigs"] == [group]
    assert conf.read(ctx, pid) == dict(conf.properties)
    assert conf.find(ctx) == (acl, {"ResourceArn": acl})
    # As the plan declares it (a Ref to the ACL) and as a create resumed after a crash sees it (resolved).
    by_ref = LoggingConfiguration("waf_logging", ResourceArn=Ref("main.waf", "Arn"), LogDestinationConfigs=[group])
    by_ref.stack = "observability"
    resolved = aws.ctx("waf_logging", stack="observability", props={"ResourceArn": acl})
    assert by_ref.find(resolved) == (acl, {"ResourceArn": acl})

    redacted = [{"SingleHeader": {"Name": "authorization"}}]
    conf.update(ctx, pid, dict(conf.properties), dict(conf.properties, RedactedFields=redacted))
    assert waf.get_logging_configuration(ResourceArn=acl)["LoggingConfiguration"]["RedactedFields"] == redacted

    conf.delete(ctx, pid)
    conf.delete(ctx, pid)  # idempotent
    assert conf.read(ctx, pid) is None
    with pytest.raises(waf.exceptions.WAFNonexistentItemException):
        waf.get_logging_configuration(ResourceArn=acl)


@pytest.mark.parametrize("dest, message", [
    (["arn:aws:logs:ap-east-2:1:log-group:/waf/acl"], "aws-waf-logs-"),
    ([], "exactly one"),
])
def test_bad_destinations_are_refused_before_any_call(dest, message):
    with pytest.raises(PlanError, match=message):
        LoggingConfiguration("l", ResourceArn="arn:acl", LogDestinationConfigs=dest)
