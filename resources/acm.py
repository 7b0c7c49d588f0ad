"""ACM: the DNS-validated public certificate the ALB terminates TLS with.

A requested certificate has nothing AWS can change in place except its tags
(its names and key are baked into what the CA signs), so every property
forces a replacement and update() only reconciles tags.

DNS validation is three steps, as Terraform splits it (aws_acm_certificate,
aws_route53_record, aws_acm_certificate_validation): the certificate's create
waits only until ACM names the validation CNAMEs (outputs ValidationRecords
and DnsRecords), route53.RecordSets publishes them in a hosted zone, and
CertificateValidation waits for ISSUED. An HTTPS listener refuses a
certificate that is not ISSUED (UnsupportedCertificate), so it takes the ARN
from the validation step. Waiting for ISSUED inside the certificate's own
create waited an hour for records that nothing could publish yet.
"""

from __future__ import annotations

import re
from typing import Any

from core.errors import AwsError, PlanError
from resources.base import (
    Ctx,
    Durations,
    P,
    Resource,
    ResourceError,
    one_of,
    owned_by,
    tag_changes,
    tag_dict,
    tag_list,
)

VALIDATION_METHODS = ("DNS", "EMAIL")
KEY_ALGORITHMS = ("RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1")
_DOMAIN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def domain_name(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 253 or not _DOMAIN.match(value):
        return "is not a valid lower-case domain name (a leading '*.' is allowed)"
    return None


def idempotency_token(token: str) -> str | None:
    """ACM accepts at most 32 word characters; our tokens may carry dashes."""
    cleaned = re.sub(r"\W", "", token or "")[:32]
    return cleaned or None


class Certificate(Resource):
    type_name = "acm.Certificate"
    label = "certificate"
    arn_kind = ("acm", "certificate")
    durations = Durations(create=5, update=0, delete=1)  # the validation CNAMEs are known within seconds
    service = "acm"
    props = {
        "DomainName": P(str, required=True, validator=domain_name),
        "SubjectAlternativeNames": P(list, default=[]),
        "ValidationMethod": P(str, default="DNS", validator=one_of(*VALIDATION_METHODS)),
        "KeyAlgorithm": P(str, default="RSA_2048", validator=one_of(*KEY_ALGORITHMS)),
    }
    replace_on = frozenset(props)
    change_notes = {"ValidationMethod": "replace: ACM has no call that changes a certificate's validation method "
                                        "(RequestCertificate sets it); CloudFormation's schema lists it as updatable"}
    outputs = ("CertificateArn", "DomainName", "Status", "ValidationRecords", "DnsRecords")
    not_found = ("ResourceNotFoundException",)
    # Terraform's certificateDNSValidationAssignmentTimeout: ACM names the records within minutes.
    timeouts = {"create": 300, "update": 300, "delete": 600}

    def validate(self, props: dict[str, Any]) -> None:
        sans = props.get("SubjectAlternativeNames")
        if isinstance(sans, list):
            bad = [s for s in sans if isinstance(s, str) and domain_name(s)]
            if bad:
                raise PlanError(f"{self.type_name} {self.name!r}: SubjectAlternativeNames {bad} "
                                "are not valid lower-case domain names")
            if len(sans) > 99:
                raise PlanError(f"{self.type_name} {self.name!r}: at most 99 SubjectAlternativeNames (ACM quota)")
            if all(isinstance(s, str) for s in sans):
                props["SubjectAlternativeNames"] = sorted(set(sans))  # a set to ACM; read() sorts too

    # -- contract ----------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {
            "DomainName": props["DomainName"],
            "ValidationMethod": props["ValidationMethod"],
            "KeyAlgorithm": props["KeyAlgorithm"],
            "Tags": tag_list(ctx.tags),
        }
        sans = [s for s in props.get("SubjectAlternativeNames") or [] if s != props["DomainName"]]
        if sans:
            # ACM wants the domain itself among the SANs when SANs are given.
            params["SubjectAlternativeNames"] = [props["DomainName"], *sans]
        token = idempotency_token(ctx.token)
        if token:
            params["IdempotencyToken"] = token
        arn = ctx.client("acm").request_certificate(**params)["CertificateArn"]
        if props["ValidationMethod"] == "DNS":
            ctx.wait("acm", "CertificateValidationRecordsKnown", timeout_key="create", CertificateArn=arn)
        return arn, self.outputs_of(ctx, arn)

    def describe(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("acm").describe_certificate, CertificateArn=arn)
        return resp["Certificate"] if resp else None

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        cert = self.describe(ctx, physical_id) or {}
        records = [
            {"DomainName": o["DomainName"], **o["ResourceRecord"]}
            for o in cert.get("DomainValidationOptions", []) if o.get("ResourceRecord")
        ]
        # One CNAME per distinct record: a wildcard and its apex share theirs.
        dns = {r["Name"]: {"Name": r["Name"], "Type": r["Type"], "Value": r["Value"]} for r in records}
        return {
            "CertificateArn": physical_id,
            "DomainName": cert.get("DomainName"),
            "Status": cert.get("Status"),
            "ValidationRecords": sorted(records, key=lambda r: r["DomainName"]),
            "DnsRecords": [dns[n] for n in sorted(dns)],
        }

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        cert = self.describe(ctx, physical_id)
        if cert is None or cert.get("Status") in ("REVOKED",):
            return None
        domain = cert["DomainName"]
        methods = {o.get("ValidationMethod") for o in cert.get("DomainValidationOptions", [])} - {None}
        return {
            "DomainName": domain,
            # AWS lists the domain itself among the SANs; the declaration names only the extra ones.
            "SubjectAlternativeNames": sorted(s for s in cert.get("SubjectAlternativeNames", []) if s != domain),
            "ValidationMethod": next(iter(methods)) if len(methods) == 1 else sorted(methods),
            "KeyAlgorithm": cert.get("KeyAlgorithm", "RSA_2048").replace("-", "_"),
        }

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self.sync_tags(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def sync_tags(self, ctx: Ctx, arn: str) -> None:
        acm = ctx.client("acm")
        have = tag_dict(acm.list_tags_for_certificate(CertificateArn=arn).get("Tags"))
        stale, changed = tag_changes(have, ctx.tags)
        if stale:  # ACM removes by Key and Value
            acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": k, "Value": have[k]} for k in stale])
        if changed:
            acm.add_tags_to_certificate(CertificateArn=arn, Tags=tag_list(changed))

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        # AWS refuses (ResourceInUseException, a dependency error the executor retries)
        # while a listener still uses the certificate; the graph deletes listeners first.
        self.ignore_gone(ctx.client("acm").delete_certificate, CertificateArn=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        acm = ctx.client("acm")
        domain = self.properties.get("DomainName")
        for page in acm.get_paginator("list_certificates").paginate():
            for summary in page["CertificateSummaryList"]:
                if isinstance(domain, str) and summary.get("DomainName") != domain:
                    continue
                arn = summary["CertificateArn"]
                resp = self.ignore_gone(acm.list_tags_for_certificate, CertificateArn=arn)
                if resp and owned_by(tag_dict(resp.get("Tags")), ctx) and arn not in ctx.old_copies:
                    return arn, self.outputs_of(ctx, arn)
        return None


class CertificateValidation(Resource):
    """The wait for a DNS-validated certificate to be ISSUED once its records are published.

    A step of its own, as Terraform's aws_acm_certificate_validation: nothing
    is created in AWS (delete does nothing; the certificate goes with its own
    resource), but what uses the certificate (the HTTPS listener) takes its ARN
    from here, so it runs only after ACM has issued it. ValidationRecordFqdns
    (the published records' names) is checked against what ACM asks for before
    waiting, so a record missing from the plan fails at once, naming it,
    instead of after 75 minutes.
    """

    type_name = "acm.CertificateValidation"
    label = "certificate validation"
    service = "acm"
    # ACM checks DNS "within minutes" of the records appearing (ACM user guide, DNS validation).
    durations = Durations(create=120, update=0, delete=0)
    props = {
        "CertificateArn": P(str, required=True),
        "ValidationRecordFqdns": P(list, default=[], doc="names of the published validation CNAMEs"),
    }
    replace_on = frozenset(props)
    write_only = frozenset({"ValidationRecordFqdns"})  # AWS keeps no record of which names were published
    outputs = ("CertificateArn", "Status")
    not_found = ("ResourceNotFoundException",)
    timeouts = {"create": 4500, "update": 300, "delete": 60}  # Terraform's 75 min default

    def _cert(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("acm").describe_certificate, CertificateArn=arn)
        return resp["Certificate"] if resp else None

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        arn = props["CertificateArn"]
        cert = self._cert(ctx, arn)
        where = f"{self.type_name} {ctx.address}"
        if cert is None:
            raise ResourceError(f"{where}: certificate {arn} does not exist")
        if cert.get("Type") != "AMAZON_ISSUED":
            raise ResourceError(f"{where}: certificate {arn} has type {cert.get('Type')}, no validation needed")
        fqdns = {str(f).rstrip(".") for f in props.get("ValidationRecordFqdns") or []}
        if fqdns:
            wanted = {o["ResourceRecord"]["Name"].rstrip("."): o["DomainName"]
                      for o in cert.get("DomainValidationOptions", []) if o.get("ResourceRecord")}
            missing = sorted(f"{domain} ({name})" for name, domain in wanted.items() if name not in fqdns)
            if missing:
                raise ResourceError(f"{where}: no DNS validation record published for {', '.join(missing)}; "
                                    "ACM would wait 72 hours for it and time out")
        try:
            ctx.wait("acm", "CertificateValidated", timeout_key="create", CertificateArn=arn)
        except AwsError as exc:
            if type(exc) is not AwsError:  # a failure state keeps its class (the engine taints on it)
                raise
            # The records exist, so what is missing is that ACM cannot resolve them: most often a zone
            # made by the plan that the parent domain does not delegate to yet.
            raise AwsError(f"{exc}. ACM has not resolved the validation records of {cert.get('DomainName')}: "
                           "check that their hosted zone is public and that the parent domain delegates to "
                           "its name servers (NS records)") from exc
        return arn, self.outputs_of(ctx, arn)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        cert = self._cert(ctx, physical_id) or {}
        return {"CertificateArn": physical_id, "Status": cert.get("Status")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        """Gone unless ISSUED (as Terraform reads it): a certificate that expired or was revoked is
        validated again."""
        cert = self._cert(ctx, physical_id)
        if cert is None or cert.get("Status") != "ISSUED":
            return None
        return {"CertificateArn": physical_id}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        """Nothing to delete: the validation is a wait, not an AWS object."""

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        arn = ctx.props.get("CertificateArn")
        if not isinstance(arn, str):
            return None
        cert = self._cert(ctx, arn)
        if cert is None or cert.get("Status") != "ISSUED":
            return None
        return arn, self.outputs_of(ctx, arn)
