"""Strict rules acm-dns-validation and elbv2-certificate-not-issued, with raw boto3 (the tool is not involved).

A DNS-validated certificate is ISSUED only once its validation CNAMEs are in a
public hosted zone of the account, and an HTTPS listener refuses it before.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox import strict
from tests.helpers import vpc_scaffold

DOMAIN = "dev.genai-demo.example.com"
SANS = [DOMAIN, f"api.{DOMAIN}"]


def _request(acm: Any, method: str = "DNS") -> str:
    return acm.request_certificate(DomainName=DOMAIN, SubjectAlternativeNames=SANS,
                                   ValidationMethod=method)["CertificateArn"]


def _status(acm: Any, arn: str) -> str:
    return acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]


def _records(acm: Any, arn: str) -> list[dict[str, str]]:
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    return [o["ResourceRecord"] for o in options]


def _publish(r53: Any, zone: str, records: list[dict[str, str]]) -> None:
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": r["Name"], "Type": r["Type"], "TTL": 300,
                                                   "ResourceRecords": [{"Value": r["Value"]}]}}
        for r in records]})


def _zone(r53: Any, name: str, private_vpc: str | None = None) -> str:
    kw: dict[str, Any] = {"Name": name, "CallerReference": f"ref-{name}-{private_vpc}"}
    if private_vpc:
        kw["HostedZoneConfig"] = {"PrivateZone": True}
        kw["VPC"] = {"VPCRegion": "ap-east-2", "VPCId": private_vpc}
    return r53.create_hosted_zone(**kw)["HostedZone"]["Id"].removeprefix("/hostedzone/")


def test_rule_acm_dns_validation_issues_only_once_every_record_is_in_a_public_zone(aws):
    acm, r53 = aws.client("acm"), aws.client("route53")
    arn = _request(acm)
    records = _records(acm, arn)
    assert {r["Type"] for r in records} == {"CNAME"} and len(records) == 2
    before = strict.trips().get("acm-dns-validation", 0)
    assert _status(acm, arn) == "PENDING_VALIDATION"  # moto alone: ISSUED at once (MOTO_ACM_VALIDATION_WAIT=0)
    assert strict.trips().get("acm-dns-validation", 0) > before

    # A zone that does not contain the names, and a private zone that does, are not what ACM resolves.
    vpc = aws.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    _publish(r53, _zone(r53, DOMAIN, private_vpc=vpc), records)
    other = _zone(r53, "other.example.org")
    with pytest.raises(ClientError):  # Route 53 itself refuses names outside the zone
        _publish(r53, other, records)
    assert _status(acm, arn) == "PENDING_VALIDATION"

    public = _zone(r53, "genai-demo.example.com")
    _publish(r53, public, records[:1])  # one name of two: still pending
    assert _status(acm, arn) == "PENDING_VALIDATION"
    _publish(r53, public, records)
    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert cert["Status"] == "ISSUED"
    assert {o["ValidationStatus"] for o in cert["DomainValidationOptions"]} == {"SUCCESS"}


def test_rule_acm_dns_validation_wants_acm_value_and_leaves_email_to_moto(aws):
    acm, r53 = aws.client("acm"), aws.client("route53")
    arn = _request(acm)
    zone = _zone(r53, DOMAIN)
    _publish(r53, zone, [dict(r, Value="_wrong.acm-validations.aws.") for r in _records(acm, arn)])
    assert _status(acm, arn) == "PENDING_VALIDATION"

    # EMAIL validation is not modelled (nobody clicks the link): moto's behaviour stays.
    assert _status(acm, _request(acm, method="EMAIL")) == "ISSUED"

    aws.rules.off("acm-dns-validation")
    assert _status(acm, arn) == "ISSUED"


def _alb(aws: Any) -> tuple[str, list[dict[str, str]]]:
    elb = aws.client("elbv2")
    aws.rules.configure("ec2-consistency", seconds=0.2)
    n = vpc_scaffold(aws, 8, "edge", "unused", azs=2)
    vpc, subnets = n["vpc"], n["subnets"]
    lb = elb.create_load_balancer(Name="edge", Subnets=subnets, Scheme="internal",
                                  Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=8080, VpcId=vpc,
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    return lb, [{"Type": "forward", "TargetGroupArn": tg}]


def test_rule_elbv2_certificate_not_issued_listener_refuses_a_pending_certificate(aws):
    elb, acm, r53 = aws.client("elbv2"), aws.client("acm"), aws.client("route53")
    lb, forward = _alb(aws)

    pending = _request(acm)
    with pytest.raises(ClientError) as exc:
        elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                            Certificates=[{"CertificateArn": pending}], DefaultActions=forward)
    err = exc.value.response["Error"]
    assert err["Code"] == "UnsupportedCertificate" and exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert pending in err["Message"] and "fully-qualified domain name" in err["Message"]
    assert elb.describe_listeners(LoadBalancerArn=lb)["Listeners"] == []

    # Issued through its records, the same certificate is accepted (once ELB sees it: rule
    # elbv2-certificate-propagation, off here); a second pending one is refused as an SNI certificate
    # and as the listener's new default.
    aws.rules.off("elbv2-certificate-propagation")
    _publish(r53, _zone(r53, DOMAIN), _records(acm, pending))
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                                   Certificates=[{"CertificateArn": pending}],
                                   DefaultActions=forward)["Listeners"][0]["ListenerArn"]
    other = acm.request_certificate(DomainName="shop.example.net", ValidationMethod="DNS")["CertificateArn"]
    with pytest.raises(ClientError, match="UnsupportedCertificate"):
        elb.add_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": other}])
    with pytest.raises(ClientError, match="UnsupportedCertificate"):
        elb.modify_listener(ListenerArn=listener, Certificates=[{"CertificateArn": other}])
    seen = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]
    assert [c["CertificateArn"] for c in seen["Certificates"]] == [pending]


def test_rule_elbv2_certificate_propagation_listener_sees_a_new_certificate_after_a_moment(aws):
    elb, acm, r53 = aws.client("elbv2"), aws.client("acm"), aws.client("route53")
    lb, forward = _alb(aws)
    window = 0.3
    aws.rules.configure("elbv2-certificate-propagation", seconds=window)
    arn = _request(acm)
    _publish(r53, _zone(r53, DOMAIN), _records(acm, arn))
    assert _status(acm, arn) == "ISSUED"  # ACM has issued it ...
    kw = {"LoadBalancerArn": lb, "Protocol": "HTTPS", "Port": 443, "Certificates": [{"CertificateArn": arn}],
          "DefaultActions": forward}
    with pytest.raises(ClientError) as exc:  # ... and ELB does not know it yet
        elb.create_listener(**kw)
    assert exc.value.response["Error"]["Code"] == "CertificateNotFound" and arn in str(exc.value)
    assert elb.describe_listeners(LoadBalancerArn=lb)["Listeners"] == []
    time.sleep(window + 0.1)  # what a client retrying it does
    listener = elb.create_listener(**kw)["Listeners"][0]
    assert [c["CertificateArn"] for c in listener["Certificates"]] == [arn]
