"""route53.HostedZone on moto plus the sandbox's Route 53 rule (CallerReference is single-use)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from core.errors import PlanError
from orchestrator import day2
from resources.route53 import HostedZone

NAME = "dev.genai-demo.example.com"


def _zone(name: str = NAME) -> HostedZone:
    z = HostedZone("zone", Name=name)
    z.stack = "main"
    return z


def _tags(aws, zid):
    ts = aws.client("route53").list_tags_for_resource(ResourceType="hostedzone", ResourceId=zid)["ResourceTagSet"]
    return {t["Key"]: t["Value"] for t in ts.get("Tags", [])}


def test_rule_route53_caller_reference(aws):
    r53 = aws.client("route53")
    r53.create_hosted_zone(Name="a.example.com", CallerReference="ref-1")
    with pytest.raises(ClientError) as exc:
        r53.create_hosted_zone(Name="a.example.com", CallerReference="ref-1")
    assert exc.value.response["Error"]["Code"] == "HostedZoneAlreadyExists"
    assert len(r53.list_hosted_zones_by_name(DNSName="a.example.com")["HostedZones"]) == 1
    r53.create_hosted_zone(Name="b.example.com", CallerReference="ref-2")  # a new reference is a new request


def test_hosted_zone_round_trip(aws):
    z = _zone()
    ctx = aws.ctx("zone", token="intent-1")
    zid, out = z.create(ctx, dict(z.properties))
    assert not zid.startswith("/") and out["Arn"] == f"arn:aws:route53:::hostedzone/{zid}"
    assert out["Name"] == NAME and out["NameServers"]
    assert _tags(aws, zid)["infra:address"] == "main.zone"
    assert z.read(ctx, zid) == {"Name": NAME, "Comment": "Managed by genai-infra"}
    z.update(ctx, zid, dict(z.properties), dict(z.properties, Comment="delegated from example.com"))
    assert z.read(ctx, zid)["Comment"] == "delegated from example.com"
    assert z.find(aws.ctx("zone"))[0] == zid  # by its tags, whatever the token
    z.delete(ctx, zid)
    z.delete(ctx, zid)  # gone already: nothing to do
    assert z.read(ctx, zid) is None and z.find(ctx) is None


def test_an_interrupted_create_is_found_by_its_caller_reference(aws):
    """The create call went through, the process died before tagging: the re-run reuses the intent's token,
    so CreateHostedZone would answer HostedZoneAlreadyExists; find() recognises the zone by that reference."""
    z = _zone()
    r53 = aws.client("route53")
    raw = r53.create_hosted_zone(Name=NAME, CallerReference="intent-7")["HostedZone"]["Id"].split("/")[-1]
    ctx = aws.ctx("zone", token="intent-7")
    with pytest.raises(ClientError, match="HostedZoneAlreadyExists"):
        z.create(ctx, dict(z.properties))
    zid, _ = z.find(ctx)
    assert zid == raw and _tags(aws, zid)["infra:address"] == "main.zone"  # adopted, and tagged now
    # A zone of the same name made by someone else (another reference, no tags) is never adopted.
    r53.delete_hosted_zone(Id=zid)
    r53.create_hosted_zone(Name=NAME, CallerReference="someone-else")
    assert z.find(ctx) is None


def test_zones_are_listed_for_scan_with_their_tags(aws):
    z = _zone()
    zid, _ = z.create(aws.ctx("zone", token="t"), dict(z.properties))
    aws.client("route53").create_hosted_zone(Name="untagged.example.com", CallerReference="u")
    found = dict(day2.direct_listers()["route53"](aws.clients))
    assert found[f"arn:aws:route53:::hostedzone/{zid}"]["infra:address"] == "main.zone"
    assert len(found) == 2
    assert day2.arn_parts(f"arn:aws:route53:::hostedzone/{zid}") == ("route53", "hostedzone", zid)


@pytest.mark.parametrize("name", ["Dev.example.com", "example.com.", "nodot", "-a.example.com"])
def test_names_are_checked_before_any_call(name):
    with pytest.raises(PlanError, match="domain name"):
        HostedZone("zone", Name=name)
