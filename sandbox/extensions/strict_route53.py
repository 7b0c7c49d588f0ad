"""Route 53 strict rules: CreateHostedZone's CallerReference makes a retried create fail, not repeat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.route53.exceptions import Route53ClientError
from moto.route53.models import Route53Backend

from sandbox import lifecycle, strict

CALLER_REFERENCE = strict.rule(
    "route53-caller-reference",
    aws="CreateHostedZone refuses a CallerReference a zone was already created with (HostedZoneAlreadyExists): "
        "the reference is what lets a failed request be retried without creating a second zone.",
    source="https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html",
    moto="created another zone with the same CallerReference",
)


class HostedZoneAlreadyExists(Route53ClientError):
    def __init__(self, reference: str) -> None:
        super().__init__("HostedZoneAlreadyExists",
                         f"A hosted zone has already been created with the specified caller reference {reference}.")


def install() -> None:
    @lifecycle.wrap(Route53Backend, "create_hosted_zone")
    def create_hosted_zone(self: Route53Backend, original: Callable[..., Any], name: str, *args: Any,
                           **kw: Any) -> Any:
        ref = kw.get("caller_reference")
        if strict.on(CALLER_REFERENCE.id) and ref and any(z.caller_reference == ref for z in self.zones.values()):
            strict.trip(CALLER_REFERENCE.id)
            raise HostedZoneAlreadyExists(ref)
        return original(self, name, *args, **kw)
