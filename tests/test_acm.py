"""Round trip of acm.Certificate on the strict sandbox: request, its validation records, read, retag, find,
delete, gone; and acm.CertificateValidation, which waits for ISSUED once the records are published."""

import pytest

from core.errors import AwsError, PlanError
from resources.acm import Certificate, CertificateValidation, idempotency_token
from resources.base import ResourceError
from resources.route53 import RecordSets


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
    # The create waits for the validation records, not for ISSUED: nothing has published them yet.
    assert seen["Status"] == "PENDING_VALIDATION"
    assert seen["DomainName"] == "dev.genai-demo.example.com"
    assert set(seen["SubjectAlternativeNames"]) == {"dev.genai-demo.example.com", "api.dev.genai-demo.example.com",
                                                    "shop.dev.genai-demo.example.com"}
    tags = {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}
    assert tags["infra:address"] == "main.cert" and tags["Environment"] == "dev"
    assert out["CertificateArn"] == arn and out["Status"] == "PENDING_VALIDATION"
    assert {r["DomainName"] for r in out["ValidationRecords"]} == set(seen["SubjectAlternativeNames"])
    assert all(r["Type"] == "CNAME" and r["Name"].endswith(".") for r in out["ValidationRecords"])
    assert out["DnsRecords"] == sorted(({"Name": o["ResourceRecord"]["Name"], "Type": "CNAME",
                                         "Value": o["ResourceRecord"]["Value"]}
                                        for o in seen["DomainValidationOptions"]), key=lambda r: r["Name"])

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


def test_validation_waits_for_issued_and_names_a_missing_record(aws):
    cert = make_cert()
    ctx = aws.ctx("cert", plan_tags={"Environment": "dev"}, token="a1")
    arn, out = cert.create(ctx, dict(cert.properties))
    step = CertificateValidation("cert_validation", CertificateArn=arn)
    vctx = aws.ctx("cert_validation", timeouts={"create": 0.5}, props={"CertificateArn": arn})

    # A record the plan does not publish fails at once, naming the domain, instead of waiting 75 minutes.
    published = [r["Name"] for r in out["DnsRecords"]][:-1]
    with pytest.raises(ResourceError, match=r"no DNS validation record published for shop\.dev"):
        step.create(vctx, {"CertificateArn": arn, "ValidationRecordFqdns": published})
    # Nothing published: the wait runs out (ACM keeps it PENDING_VALIDATION), and says what to check.
    with pytest.raises(AwsError, match="parent domain delegates to its name servers"):
        step.create(vctx, {"CertificateArn": arn, "ValidationRecordFqdns": []})
    assert step.find(vctx) is None and step.read(vctx, arn) is None

    r53 = aws.client("route53")
    zone = r53.create_hosted_zone(Name="dev.genai-demo.example.com", CallerReference="z")["HostedZone"]["Id"]
    records = RecordSets("records", HostedZoneId=zone, Records=out["DnsRecords"])
    rctx = aws.ctx("records")
    pid, rout = records.create(rctx, dict(records.properties))
    assert rout["Fqdns"] == [r["Name"].rstrip(".").lower() for r in out["DnsRecords"]]
    assert records.read(rctx, pid) == {"HostedZoneId": zone.split("/")[-1], "Records": out["DnsRecords"], "TTL": 300}
    # After a crash between the change and the state write, find() knows the records by what they hold.
    assert records.find(aws.ctx("records", props=dict(records.properties))) == (pid, rout)
    other = [dict(r, Value="_other.acm-validations.aws.") for r in out["DnsRecords"]]
    assert records.find(aws.ctx("records", props={"HostedZoneId": zone, "Records": other, "TTL": 300})) is None

    pid2, vout = step.create(vctx, {"CertificateArn": arn, "ValidationRecordFqdns": rout["Fqdns"]})
    assert pid2 == arn and vout == {"CertificateArn": arn, "Status": "ISSUED"}
    assert aws.client("acm").describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    assert step.read(vctx, arn) == {"CertificateArn": arn} and step.find(vctx)[0] == arn
    step.delete(vctx, arn)  # a wait has nothing to delete: the certificate stays
    assert aws.client("acm").describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"

    records.delete(rctx, pid)
    records.delete(rctx, pid)  # idempotent
    assert records.read(rctx, pid) is None
    left = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    assert {r["Type"] for r in left} == {"SOA", "NS"}
