"""ACM DNS validation as AWS does it (rules `acm-dns-validation`, `elbv2-certificate-not-issued` and
`elbv2-certificate-propagation`).

ACM issues a DNS-validated certificate only once it can resolve, for every
name on it, the CNAME record it handed out in DomainValidationOptions; until
then the certificate stays PENDING_VALIDATION (and after 72 hours it times
out). moto issued every certificate after MOTO_ACM_VALIDATION_WAIT seconds
(0 here), records or not, which hid that nothing published them. The sandbox
resolves a name through the account's public Route 53 hosted zones: the
record must exist, with ACM's value, in a public zone whose name contains it.
(On AWS the zone must also be delegated from its parent domain; the sandbox
has no parent domain to delegate from.)

An HTTPS listener (CreateListener, ModifyListener, AddListenerCertificates)
refuses a certificate that is not ISSUED with UnsupportedCertificate, the
same misleading message AWS gives ("must have a fully-qualified domain name,
a supported signature, and a supported key size"); moto accepted it. For a
moment after it is issued, ELB does not see it yet (CertificateNotFound).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto.acm.models import AWSCertificateManagerBackend, CertBundle, acm_backends
from moto.acm.responses import AWSCertificateManagerResponse
from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import ELBv2Backend
from moto.route53.models import route53_backends
from moto.utilities.utils import get_partition

from sandbox import lifecycle, strict

DNS_VALIDATION = strict.rule(
    "acm-dns-validation",
    aws="A DNS-validated public certificate stays PENDING_VALIDATION until ACM finds, for every name on it, the "
        "CNAME record of its DomainValidationOptions in DNS; only then is it ISSUED (Terraform's "
        "aws_acm_certificate_validation waits for that, up to 75 min, after the records are created).",
    source="https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html; hashicorp/terraform-provider-aws "
           "internal/service/acm/certificate_validation.go (waitCertificateIssued)",
    moto="Issued every certificate after MOTO_ACM_VALIDATION_WAIT seconds (0 in the sandbox), records or not.",
)

NOT_ISSUED = strict.rule(
    "elbv2-certificate-not-issued",
    aws="CreateListener, ModifyListener and AddListenerCertificates refuse an ACM certificate that is not ISSUED "
        "(still PENDING_VALIDATION) with UnsupportedCertificate \"The certificate '<arn>' must have a "
        "fully-qualified domain name, a supported signature, and a supported key size.\"",
    source="hashicorp/terraform-provider-aws issues #26245 and #41789 (UnsupportedCertificate from CreateListener "
           "and ModifyListener on a certificate not yet validated; the code is missing from the ELBv2 API model); "
           "https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html",
    moto="Accepted any existing certificate on a listener, whatever its status.",
)

PROPAGATION = strict.rule(
    "elbv2-certificate-propagation",
    aws="Right after ACM issues a certificate, ELB may not see it yet: CreateListener (and AddListenerCertificates, "
        "ModifyListener) answer CertificateNotFound for a short while; Terraform retries the listener create on "
        "it for 5 minutes.",
    source="hashicorp/terraform-provider-aws internal/service/elbv2/listener.go (create retried on "
           "CertificateNotFound; the older resource_aws_lb_listener.go: resource.Retry(5*time.Minute, ...))",
    moto="Saw an issued certificate at once.",
    seconds=1.0,
)
_issued = strict.Clock()  # certificate ARN -> when the sandbox issued it

UNSUPPORTED = ("The certificate '{arn}' must have a fully-qualified domain name, a supported signature, "
               "and a supported key size.")


def _fqdn(name: str) -> str:
    return name.lower().rstrip(".")


def _published(account_id: str, region: str, name: str, value: str) -> bool:
    """Whether a public hosted zone of the account that contains `name` holds the CNAME `name` -> `value`."""
    backend = route53_backends[account_id][get_partition(region)]
    want, target = _fqdn(name), _fqdn(value)
    for zone in list(backend.zones.values()):
        zone_name = _fqdn(zone.name)
        if zone.private_zone or not (want == zone_name or want.endswith("." + zone_name)):
            continue
        for rrset in list(zone.rrsets):
            if rrset.type == "CNAME" and _fqdn(rrset.name) == want \
                    and any(_fqdn(str(v)) == target for v in rrset.records or []):
                return True
    return False


def _records(cert: CertBundle) -> list[dict[str, str]]:
    options = cert.describe()["Certificate"].get("DomainValidationOptions") or []
    return [o["ResourceRecord"] for o in options if o.get("ResourceRecord")]


def _validated_by_dns(cert: CertBundle) -> bool:
    return getattr(cert, "sandbox_validation_method", None) == "DNS"


def check(self: CertBundle, original: Callable[..., Any]) -> Any:
    """moto's check() issues a pending certificate once its wait is over; a DNS one also needs its records."""
    if self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION" and _validated_by_dns(self) \
            and strict.on(DNS_VALIDATION.id):
        records = _records(self)
        region, account_id = self.arn.split(":")[3:5]
        if not records or not all(_published(account_id, region, r["Name"], r["Value"])
                                  for r in records):
            strict.trip(DNS_VALIDATION.id)
            return None
    was = self.status
    result = original(self)
    if was != "ISSUED" and self.status == "ISSUED":
        _issued.mark(self.arn)
    return result


def request_certificate(self: AWSCertificateManagerResponse, original: Callable[..., Any]) -> Any:
    """Remember how the certificate is validated (moto's model does not keep it)."""
    result = original(self)
    method = self._get_param("ValidationMethod") or "EMAIL"  # EMAIL is ACM's default
    cert = self.acm_backend._certificates.get(result.result["CertificateArn"])
    if cert is not None and getattr(cert, "sandbox_validation_method", None) is None:
        cert.sandbox_validation_method = method
    return result


def _refuse_unissued(backend: ELBv2Backend, arns: Iterable[str | None]) -> None:
    if not strict.on(NOT_ISSUED.id) and not strict.on(PROPAGATION.id):
        return
    acm: AWSCertificateManagerBackend = acm_backends[backend.account_id][backend.region_name]
    for arn in arns:
        if not arn or ":acm:" not in arn:
            continue  # IAM server certificates are issued by whoever uploaded them
        cert = acm._certificates.get(arn)
        if cert is None:
            continue  # moto answers CertificateNotFound itself
        cert.check()
        if cert.status != "ISSUED" and strict.on(NOT_ISSUED.id):
            strict.trip(NOT_ISSUED.id)
            raise ELBClientError("UnsupportedCertificate", UNSUPPORTED.format(arn=arn))
        if strict.on(PROPAGATION.id) and _issued.within(arn, float(strict.setting(PROPAGATION.id, "seconds"))):
            strict.trip(PROPAGATION.id)
            raise ELBClientError("CertificateNotFound", f"Certificate '{arn}' not found")


def _arns(certificates: Iterable[Any] | None) -> list[str | None]:
    return [c.get("CertificateArn") if isinstance(c, dict) else c for c in certificates or []]


def create_listener(self: ELBv2Backend, original: Callable[..., Any], load_balancer_arn: str, protocol: str,
                    port: str, ssl_policy: str, certificate: str | None, *args: Any, **kw: Any) -> Any:
    _refuse_unissued(self, [certificate])
    return original(self, load_balancer_arn, protocol, port, ssl_policy, certificate, *args, **kw)


def modify_listener(self: ELBv2Backend, original: Callable[..., Any], arn: str, port: str | None = None,
                    protocol: str | None = None, ssl_policy: str | None = None,
                    certificates: list[dict[str, Any]] | None = None, *args: Any, **kw: Any) -> Any:
    _refuse_unissued(self, _arns(certificates))
    return original(self, arn, port, protocol, ssl_policy, certificates, *args, **kw)


def add_listener_certificates(self: ELBv2Backend, original: Callable[..., Any], arn: str,
                              certificates: list[dict[str, Any]]) -> Any:
    _refuse_unissued(self, _arns(certificates))
    return original(self, arn, certificates)


def install() -> None:
    lifecycle.chain(CertBundle, "check", check)
    lifecycle.chain(AWSCertificateManagerResponse, "request_certificate", request_certificate)
    lifecycle.chain(ELBv2Backend, "create_listener", create_listener)
    lifecycle.chain(ELBv2Backend, "modify_listener", modify_listener)
    lifecycle.chain(ELBv2Backend, "add_listener_certificates", add_listener_certificates)
