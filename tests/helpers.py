"""Shared test helpers: run the CLI in-process, count AWS calls, list tagged resources."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from click.testing import CliRunner

import cli
from core.errors import error_code
from orchestrator import aws as aws_mod


class CallLog:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls.append((model.service_model.service_name, model.name))

    @property
    def mutating(self) -> list[tuple[str, str]]:
        return [(s, op) for s, op in self.calls if s != "dynamodb" and s != "sts" and aws_mod.is_mutating(op)]

    def by_service(self) -> Counter:
        return Counter(s for s, _ in self.calls)


@contextmanager
def count_calls() -> Iterator[CallLog]:
    """Every AWS call made by the tool's clients created inside the block."""
    log = CallLog()
    hook = ("before-call", log)
    aws_mod.GLOBAL_HOOKS.append(hook)
    try:
        yield log
    finally:
        aws_mod.GLOBAL_HOOKS.remove(hook)


def infra(*args: str, ok: bool | None = True) -> Any:
    """Run `infra ARGS` in-process; assert success unless ok is None/False."""
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    if ok is True:
        assert result.exit_code == 0, f"infra {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def backend_supports(client: Any, operation: str, **probe: Any) -> bool:
    """True when the backend implements `operation` (a probe on a missing resource answers not-found).

    moto 5.2.5 lacks some calls; a sandbox extension adds them. Until it is
    loaded, the parts of a test that need them are skipped, saying so.
    """
    try:
        getattr(client, operation)(**probe)
    except NotImplementedError:
        return False
    except Exception as exc:  # noqa: BLE001 - only the error code matters
        return error_code(exc) not in ("404", "NotImplemented", "NotImplementedException", None)
    return True


def declare(resource: Any, stack: str = "main") -> Any:
    """A type instance placed on a stack, as Stack.add would (tests build types directly)."""
    resource.stack = stack
    return resource


EC2_DESCRIBES = {"VpcIds": "describe_vpcs", "SubnetIds": "describe_subnets", "GroupIds": "describe_security_groups",
                 "RouteTableIds": "describe_route_tables", "AllocationIds": "describe_addresses"}


def ec2_visible(ec2: Any, timeout: float = 10.0, **ids: list[str]) -> None:
    """Wait until EC2 knows these new ids (VpcIds=[...], SubnetIds=[...]...), as a script against AWS must
    before naming them: AWS (and the sandbox's ec2-consistency rule) answers *.NotFound for a moment after
    the create. Raw set-up calls this before using what it just made."""
    deadline = time.monotonic() + timeout
    for param, values in ids.items():
        while True:
            try:
                getattr(ec2, EC2_DESCRIBES[param])(**{param: list(values)})
                break
            except Exception as exc:  # noqa: BLE001 - only a not-found is waited out
                if not (error_code(exc) or "").endswith(".NotFound") or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)


def vpc_scaffold(aws: Any, octet: int, sg_name: str, key_description: str, azs: int = 3) -> dict[str, Any]:
    """A VPC 10.<octet>.0.0/16 with one /24 subnet in each of the first `azs` AZs, a security group
    and a KMS key, made with plain boto3: scaffolding for the data-tier tests, not under test."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"10.{octet}.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])  # the subnets and the group name it
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:azs]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{octet}.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(zones)]
    sg = ec2.create_security_group(GroupName=sg_name, Description=sg_name, VpcId=vpc)["GroupId"]
    ec2_visible(ec2, SubnetIds=subnets, GroupIds=[sg])  # what the caller names next
    key = aws.client("kms").create_key(Description=key_description)["KeyMetadata"]["Arn"]
    return {"vpc": vpc, "subnets": subnets, "sg": sg, "key": key}


QUICKSIGHT_REGION = "eu-west-1"  # QuickSight has no endpoint in the sandbox's (and the plan's) ap-east-2


def subscribe_quicksight(qs: Any, account_id: str) -> None:
    """Sign the account up for QuickSight, as its administrator does once (a paid subscription the tool
    never makes itself: rule quicksight-subscription, resources/quicksight.py preflight)."""
    try:
        qs.describe_account_subscription(AwsAccountId=account_id)
    except Exception as exc:  # noqa: BLE001 - only "not signed up" leads to the sign-up
        if error_code(exc) != "ResourceNotFoundException":
            raise
        qs.create_account_subscription(AwsAccountId=account_id, Edition="ENTERPRISE",
                                       AuthenticationMethod="IAM_AND_QUICKSIGHT", AccountName="genai-demo-sandbox",
                                       NotificationEmail="ops@example.com")


def issued_certificate(aws: Any, domain: str, sans: tuple[str, ...] = ()) -> str:
    """A DNS-validated ACM certificate for `domain`, ISSUED the way AWS issues it (strict rule
    acm-dns-validation): its validation CNAMEs published in a public hosted zone of `domain`."""
    acm, r53 = aws.client("acm"), aws.client("route53")
    kw: dict[str, Any] = {"SubjectAlternativeNames": [domain, *sans]} if sans else {}
    arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS", **kw)["CertificateArn"]
    records = [o["ResourceRecord"] for o in
               acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]]
    zone = r53.create_hosted_zone(Name=domain, CallerReference=f"issued-{arn}")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": r["Name"], "Type": r["Type"], "TTL": 60,
                                                   "ResourceRecords": [{"Value": r["Value"]}]}}
        for r in records]})
    # Wait out the moment ELB does not see a just-issued certificate (rule elbv2-certificate-propagation).
    window = 0.2
    aws.rules.configure("elbv2-certificate-propagation", seconds=window)
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    time.sleep(window + 0.05)
    return arn
