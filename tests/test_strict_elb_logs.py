"""Strict rule elbv2-access-logs-bucket with raw boto3, then the GenAI Demo's ALB logging through the tool.

ELB turns access logs on only when it can write to the bucket: same region, a policy for its log
delivery, SSE-S3.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import vpc_scaffold

BUCKET = "alb-logs-strict-test"


def _alb(aws: Any) -> str:
    n = vpc_scaffold(aws, 61, "alb", "unused", azs=2)
    return aws.client("elbv2").create_load_balancer(Name="logs", Subnets=n["subnets"],
                                                   SecurityGroups=[n["sg"]])["LoadBalancers"][0]["LoadBalancerArn"]


def _bucket(aws: Any, policy: bool, sse: str = "AES256") -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region})
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": sse}}]})
    if policy:
        account = aws.client("sts").get_caller_identity()["Account"]
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/alb/AWSLogs/{account}/*"}]}))


def _enable(aws: Any, arn: str, prefix: str = "alb") -> None:
    aws.client("elbv2").modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": BUCKET},
        {"Key": "access_logs.s3.prefix", "Value": prefix}])


def _refused(exc: pytest.ExceptionInfo[ClientError]) -> None:
    err = exc.value.response["Error"]
    assert err["Code"] == "InvalidConfigurationRequest"
    assert err["Message"] == f"Access Denied for bucket: {BUCKET}. Please check S3bucket permission"


@pytest.mark.parametrize("case", ["no bucket", "no policy", "kms", "other prefix"])
def test_rule_elbv2_access_logs_bucket(aws, case):
    arn = _alb(aws)
    if case != "no bucket":
        _bucket(aws, policy=case != "no policy", sse="aws:kms" if case == "kms" else "AES256")
    with pytest.raises(ClientError) as exc:
        _enable(aws, arn, prefix="elsewhere" if case == "other prefix" else "alb")
    _refused(exc)
    attrs = {a["Key"]: a["Value"] for a in aws.client("elbv2").describe_load_balancer_attributes(
        LoadBalancerArn=arn)["Attributes"]}
    assert attrs.get("access_logs.s3.enabled", "false") == "false"


def test_access_logs_turn_on_with_a_bucket_elb_can_write_to(aws):
    arn = _alb(aws)
    _bucket(aws, policy=True)
    _enable(aws, arn)
    attrs = {a["Key"]: a["Value"] for a in aws.client("elbv2").describe_load_balancer_attributes(
        LoadBalancerArn=arn)["Attributes"]}
    assert attrs["access_logs.s3.enabled"] == "true" and attrs["access_logs.s3.bucket"] == BUCKET
