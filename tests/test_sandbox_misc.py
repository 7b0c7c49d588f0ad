"""WAFv2, CloudWatch, Logs, AMP and SSM gaps, and the project settings (managed policies, ACM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import issued_certificate

ALB = "arn:aws:elasticloadbalancing:ap-east-2:123456789012:loadbalancer/app/genai/0123456789abcdef"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def check_misc(client: Callable[[str], Any]) -> None:
    ssm = client("ssm")
    for path in ("amazon-linux-2", "amazon-linux-2-arm64", "amazon-linux-2023/arm64/standard"):
        value = ssm.get_parameter(Name=f"/aws/service/eks/optimized-ami/1.31/{path}/recommended/image_id")
        assert value["Parameter"]["Value"].startswith("ami-")
    image = ssm.get_parameter(Name="/aws/service/eks/optimized-ami/1.31/amazon-linux-2-arm64/recommended/image_id")
    assert client("ec2").describe_images(ImageIds=[image["Parameter"]["Value"]])["Images"][0][
        "Architecture"] == "arm64"
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/aws/service/eks/optimized-ami/9.99/amazon-linux-2/recommended/image_id")
    assert code(exc) == "ParameterNotFound"

    waf = client("wafv2")
    acl = waf.create_web_acl(Name="acl", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig={
        "SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"})["Summary"]
    waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=ALB)
    assert waf.list_resources_for_web_acl(WebACLArn=acl["ARN"], ResourceType="APPLICATION_LOAD_BALANCER")[
        "ResourceArns"] == [ALB]
    assert waf.list_resources_for_web_acl(WebACLArn=acl["ARN"], ResourceType="API_GATEWAY")["ResourceArns"] == []
    with pytest.raises(ClientError) as exc:
        waf.delete_web_acl(Name="acl", Scope="REGIONAL", Id=acl["Id"], LockToken=acl["LockToken"])
    assert code(exc) == "WAFAssociatedItemException"
    waf.disassociate_web_acl(ResourceArn=ALB)
    waf.delete_web_acl(Name="acl", Scope="REGIONAL", Id=acl["Id"], LockToken=acl["LockToken"])
    with pytest.raises(ClientError) as exc:
        waf.list_resources_for_web_acl(WebACLArn=acl["ARN"])
    assert code(exc) == "WAFNonexistentItemException"

    cw = client("cloudwatch")
    cw.put_metric_alarm(AlarmName="cpu", MetricName="CPU", Namespace="AWS/EC2", Statistic="Average", Period=60,
                        EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanThreshold")
    cw.put_composite_alarm(AlarmName="any", AlarmRule='ALARM("cpu")', AlarmDescription="v1")
    cw.put_composite_alarm(AlarmName="any", AlarmRule='ALARM("cpu") OR OK("cpu")', AlarmDescription="v2")
    comp = cw.describe_alarms(AlarmNames=["any"], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    assert [(c["AlarmRule"], c["AlarmDescription"]) for c in comp] == [('ALARM("cpu") OR OK("cpu")', "v2")]
    with pytest.raises(ClientError) as exc:
        cw.put_composite_alarm(AlarmName="bad", AlarmRule='ALARM("missing")')
    assert code(exc) == "ValidationError"
    cw.delete_alarms(AlarmNames=["any"])
    assert cw.describe_alarms(AlarmNames=["any"], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"] == []

    logs = client("logs")
    logs.create_log_group(logGroupName="lg")
    key = "arn:aws:kms:ap-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    logs.associate_kms_key(logGroupName="lg", kmsKeyId=key)
    assert logs.describe_log_groups(logGroupNamePrefix="lg")["logGroups"][0]["kmsKeyId"] == key
    logs.disassociate_kms_key(logGroupName="lg")
    assert "kmsKeyId" not in logs.describe_log_groups(logGroupNamePrefix="lg")["logGroups"][0]
    with pytest.raises(ClientError) as exc:
        logs.associate_kms_key(logGroupName="nope", kmsKeyId=key)
    assert code(exc) == "ResourceNotFoundException"

    amp = client("amp")
    ws = amp.create_workspace(alias="genai")["workspaceId"]
    amp.create_alert_manager_definition(workspaceId=ws, data=b"alertmanager_config: |\n  route:\n    receiver: d\n")
    got = amp.describe_alert_manager_definition(workspaceId=ws)["alertManagerDefinition"]
    assert got["status"]["statusCode"] == "ACTIVE" and got["data"].startswith(b"alertmanager_config")
    amp.put_alert_manager_definition(workspaceId=ws, data=b"alertmanager_config: v2\n")
    assert amp.describe_alert_manager_definition(workspaceId=ws)["alertManagerDefinition"]["data"] == \
        b"alertmanager_config: v2\n"
    with pytest.raises(ClientError) as exc:
        amp.put_alert_manager_definition(workspaceId=ws, data=b"route: {}\n")
    assert code(exc) == "ValidationException"
    amp.delete_alert_manager_definition(workspaceId=ws)
    with pytest.raises(ClientError) as exc:
        amp.describe_alert_manager_definition(workspaceId=ws)
    assert code(exc) == "ResourceNotFoundException"


def test_misc_in_process(aws):
    check_misc(aws.client)


def test_settings_managed_policies_and_acm(aws):
    iam = aws.client("iam")
    iam.create_role(RoleName="eks", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    iam.attach_role_policy(RoleName="eks", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="eks")["AttachedPolicies"]] == \
        ["AmazonEKSClusterPolicy"]
    acm = aws.client("acm")
    arn = issued_certificate(aws, "genai.example.com")  # its records published (strict rule acm-dns-validation)
    acm.get_waiter("certificate_validated").wait(CertificateArn=arn, WaiterConfig={"Delay": 0.01, "MaxAttempts": 3})
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
