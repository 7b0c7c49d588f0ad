"""Quotas fail at once, naming the quota and the service; throttling is retried (botocore's standard mode,
25 retries as the Terraform provider's max_retries default)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from core.errors import AwsError, classify, is_quota, is_throttle, quota_message, quota_name
from orchestrator import aws as aws_mod
from orchestrator.apply import RetryPolicy
from orchestrator.model import Plan
from resources.ec2 import Vpc
from sandbox import settings
from tests.fakes import install_plan
from tests.helpers import infra


def err(code: str, message: str, service: str | None = None, op: str = "CreateThing") -> ClientError:
    meta = {"Service": service} if service else {}
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": meta}, op)


@pytest.mark.parametrize("code,message", [
    ("VpcLimitExceeded", "The maximum number of VPCs has been reached."),
    ("AddressLimitExceeded", "The maximum number of addresses has been reached."),
    ("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached."),
    ("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10"),  # IAM
    ("LimitExceededException", "The request was rejected because a quota was exceeded."),  # KMS
    ("LimitExceededException", "Resource limit exceeded."),  # CloudWatch Logs
    ("InstanceQuotaExceeded", "DB instance quota exceeded"),  # RDS
    ("ClusterQuotaForCustomerExceeded", "Cluster quota exceeded"),  # ElastiCache
    ("TooManyLoadBalancers", "The quota for the number of load balancers has been reached"),  # ELBv2
    ("ServiceQuotaExceededException", "quota"),
])
def test_quotas_are_quotas(code, message):
    e = err(code, message)
    assert is_quota(e) and not is_throttle(e) and classify(e) == "quota"


@pytest.mark.parametrize("code,message", [
    ("LimitExceededException", "Rate exceeded for shard shardId-000 in stream s"),  # Kinesis
    ("LimitExceededException", "Rate exceeded"),
    ("LimitExceededException", ""),  # nothing says quota: the bounded throttling retries, as before
    ("RequestLimitExceeded", "Request limit exceeded."),  # EC2's throttle, despite the name
    ("Throttling", "Rate exceeded"),
    ("TooManyRequestsException", "Too many requests"),
])
def test_throttles_stay_throttles(code, message):
    e = err(code, message)
    assert is_throttle(e) and not is_quota(e) and classify(e) == "throttle"


def test_the_message_names_the_quota_and_the_service():
    iam = err("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10", "iam", "AttachRolePolicy")
    assert quota_name(iam) == "PoliciesPerRole"
    msg = quota_message(iam, "main.role")
    assert msg.startswith("main.role: AWS quota reached: PoliciesPerRole of iam (AttachRolePolicy)")
    assert "Service Quotas (service iam)" in msg
    assert quota_name(err("VpcLimitExceeded", "The maximum number of VPCs has been reached.")) == "VpcLimitExceeded"


def test_the_engine_fails_a_quota_at_once_and_retries_a_throttle():
    calls = []

    def quota() -> None:
        calls.append(1)
        raise err("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10", "iam")

    policy = RetryPolicy(initial=0.001)
    with pytest.raises(AwsError, match="AWS quota reached: PoliciesPerRole of iam"):
        policy.create(quota, address="main.role")
    assert calls == [1] and policy.records() == []

    def throttled() -> str:
        calls.append(2)
        if len(calls) < 4:
            raise err("LimitExceededException", "Rate exceeded", "kinesis")
        return "ok"

    assert policy.create(throttled, address="main.stream") == "ok"
    assert [(r.code, r.attempts) for r in policy.records()] == [("LimitExceededException", 2)]


class Answer:
    """before-send: answer one EC2 operation with an error at the wire, so botocore's retry handler sees it
    exactly as AWS's answer (tests/faults.py does the same for throttling); counts the sends."""

    def __init__(self, operation: str, code: str, message: str, status: int = 400) -> None:
        self.operation, self.code, self.message, self.status = operation, code, message, status
        self.sent = 0
        self.current: str | None = None

    def remember(self, model: Any = None, **_: Any) -> None:
        self.current = model.name if model is not None else None

    def __call__(self, request: Any = None, **_: Any) -> AWSResponse | None:
        if self.current != self.operation:
            return None
        self.sent += 1
        body = (f"<Response><Errors><Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>"
                "</Errors><RequestID>r</RequestID></Response>").encode()
        return AWSResponse(request.url, self.status, {"Content-Type": "text/xml"}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def _answering(clients: aws_mod.Clients, answer: Answer) -> None:
    clients.add_hook("before-call.ec2", answer.remember)
    clients.add_hook("before-send.ec2", answer)


def test_clients_use_botocores_standard_mode_with_terraforms_25_retries(aws):
    clients = aws_mod.Clients(region=settings.REGION)
    assert clients.config.retries == {"mode": "standard", "max_attempts": 25}
    throttle = Answer("DescribeVpcs", "RequestLimitExceeded", "Request limit exceeded.", 503)
    small = aws_mod.Clients(region=settings.REGION, max_attempts=1)  # one retry: a short backoff to sit out
    _answering(small, throttle)
    with pytest.raises(ClientError, match="RequestLimitExceeded"):
        small.client("ec2").describe_vpcs()
    assert throttle.sent == 2  # a throttle is retried inside the call


def test_botocore_does_not_retry_a_quota_it_would_take_for_throttling(aws):
    """botocore's standard mode counts LimitExceededException as throttling: 25 retries, minutes of backoff,
    for an answer no retry can change. The tool's clients let quotas through at once; the service is named."""
    clients = aws_mod.Clients(region=settings.REGION)
    quota = Answer("CreateVpc", "LimitExceededException", "Cannot exceed quota for VpcsPerRegion: 5")
    _answering(clients, quota)
    with pytest.raises(ClientError) as info:
        clients.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")
    assert quota.sent == 1 and is_quota(info.value)
    assert info.value.response["ResponseMetadata"]["Service"] == "ec2"


def test_the_cli_names_the_quota_and_stops_at_once(aws, monkeypatch):
    quota = Answer("CreateVpc", "VpcLimitExceeded", "The maximum number of VPCs has been reached.")
    monkeypatch.setattr(aws_mod, "GLOBAL_HOOKS", [("before-call.ec2", quota.remember), ("before-send.ec2", quota)])

    def one_vpc(env: str) -> Plan:
        p = Plan("genai-demo", env, region=settings.REGION)
        p.stack("main").add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
        return p

    out = infra("apply", "--plan", install_plan("quota_one_vpc", one_vpc), "--env", "dev", "--auto-approve",
                "--json", ok=False)
    assert out.exit_code == 1 and quota.sent == 1
    errors = json.loads(out.stdout)["errors"]
    assert "AWS quota reached: VpcLimitExceeded of ec2 (CreateVpc)" in errors["main.vpc"]
    assert "Service Quotas (service ec2)" in errors["main.vpc"]
