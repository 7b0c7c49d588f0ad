"""Round trip of acm.Certificate on moto: request, validate, read, retag, find, delete, gone."""

import pytest

from core.errors import PlanError
from resources.acm import Certificate, idempotency_token


def make_cert() -> Certificate:
    cert = Certificate("cert", DomainName="dev.genai-demo.example.com",
                       SubjectAlternativeNames=["api.dev.genai-demo.example.com", "shop.dev.genai-demo.example.com"])
    cert.stack = "main"
    return cert


def test_certificate_round_trip(aws):
    cert = make_cert()
    ctx = aws.ctx("cert", plan_tags={"Environment": "dev"}, token="3f2a-11ee-b0c1")
    arn, out = cert.create(ctx, dict(cert.properties))

    acm = aws.client("acm")
    seen = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert seen["Status"] == "ISSUED"  # the waiter ran to success (MOTO_ACM_VALIDATION_WAIT=0)
    assert seen["DomainName"] == "dev.genai-demo.example.com"
    assert set(seen["SubjectAlternativeNames"]) == {"dev.genai-demo.example.com", "api.dev.genai-demo.example.com",
                                                    "shop.dev.genai-demo.example.com"}
    tags = {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}
    assert tags["infra:address"] == "main.cert" and tags["Environment"] == "dev"
    assert out["CertificateArn"] == arn and out["Status"] == "ISSUED"
    assert {r["DomainName"] for r in out["ValidationRecords"]} == set(seen["SubjectAlternativeNames"])
    assert all(r["Type"] == "CNAME" and r["Name"].endswith(".") for r in out["ValidationRecords"])

    # The same idempotency token does not request a second certificate.
    again, _ = cert.create(ctx, dict(cert.properties))
    assert again == arn
    assert len(acm.list_certificates()["CertificateSummaryList"]) == 1

    assert cert.read(ctx, arn) == {
        "DomainName": "dev.genai-demo.example.com",
        "SubjectAlternativeNames": ["api.dev.genai-demo.example.com", "shop.dev.genai-demo.example.com"],
        "ValidationMethod": "DNS",
        "KeyAlgorithm": "RSA_2048",
    }

    # In place, only tags can change: a new plan tag is added, a dropped one removed.
    ctx2 = aws.ctx("cert", plan_tags={"Owner": "platform"})
    cert.update(ctx2, arn, dict(cert.properties), dict(cert.properties))
    tags = {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}
    assert tags["Owner"] == "platform" and "Environment" not in tags

    assert cert.find(ctx)[0] == arn
    assert cert.find(aws.ctx("other")) is None
    cert.delete(ctx, arn)
    cert.delete(ctx, arn)  # idempotent
    assert cert.read(ctx, arn) is None
    assert cert.find(ctx) is None


def test_certificate_rejects_bad_input():
    with pytest.raises(PlanError, match="unknown property"):
        Certificate("c", DomainName="a.example.com", Domain="x")
    with pytest.raises(PlanError, match="DomainName"):
        Certificate("c", DomainName="Not A Domain")
    with pytest.raises(PlanError, match="ValidationMethod"):
        Certificate("c", DomainName="a.example.com", ValidationMethod="HTTP")
    with pytest.raises(PlanError, match="SubjectAlternativeNames"):
        Certificate("c", DomainName="a.example.com", SubjectAlternativeNames="b.example.com")
    assert Certificate.replace_on == frozenset(Certificate.props)


def test_idempotency_token_fits_acm_pattern():
    assert idempotency_token("3f2a-11ee-b0c1") == "3f2a11eeb0c1"
    assert len(idempotency_token("x" * 50)) == 32
    assert idempotency_token("") is None
