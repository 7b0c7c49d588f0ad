"""iam.ServiceLinkedRole on the strict sandbox: the OpenSearch role made in an empty account (then a VPC domain
is accepted), adopted when it exists, left in the account by a destroy; a bad service name fails at definition."""

from __future__ import annotations

import pytest

from core.errors import PlanError
from resources.iam import ServiceLinkedRole
from resources.opensearch import Domain
from sandbox import strict
from tests.helpers import declare, ec2_visible

OPENSEARCH = "opensearchservice.amazonaws.com"


def _slr(**kw):
    return declare(ServiceLinkedRole("opensearch_service_linked_role", AWSServiceName=OPENSEARCH, **kw),
                   stack="observability")


def _vpc_domain(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.41.1.0/24")["Subnet"]["SubnetId"]
    ec2_visible(ec2, SubnetIds=[subnet])
    return declare(Domain("opensearch", EngineVersion="OpenSearch_2.11",
                          ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
                          EBSOptions={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 10},
                          VPCOptions={"SubnetIds": [subnet]}), stack="observability")


def test_service_linked_role_round_trip_in_an_empty_account(aws, short_ec2_window):
    iam = aws.client("iam")
    dom = _vpc_domain(aws)
    dctx = aws.ctx("opensearch", stack="observability")
    refused = strict.trips().get("opensearch-vpc-slr", 0)
    with pytest.raises(Exception, match="you must enable a service-linked role"):
        dom.create(dctx, dict(dom.properties))  # what the plan did before it declared the role
    assert strict.trips()["opensearch-vpc-slr"] == refused + 1

    slr = _slr(Description="OpenSearch Service: ENIs of VPC domains")
    ctx = aws.ctx("opensearch_service_linked_role", stack="observability")
    assert slr.find(ctx) is None
    name, out = slr.create(ctx, dict(slr.properties))
    role = iam.get_role(RoleName=name)["Role"]
    assert name == "AWSServiceRoleForAmazonOpenSearchService" == out["RoleName"] and out["Arn"] == role["Arn"]
    assert role["Path"] == f"/aws-service-role/{OPENSEARCH}/"
    assert slr.read(ctx, name) == {"AWSServiceName": OPENSEARCH,
                                   "Description": "OpenSearch Service: ENIs of VPC domains"}
    assert slr.find(ctx) == (name, out)

    # Now the VPC domain is accepted (the plan orders it after the role).
    domain_name, _ = dom.create(dctx, dict(dom.properties))
    assert aws.client("opensearch").describe_domain(DomainName=domain_name)["DomainStatus"]["VPCOptions"]

    # Another environment of the account declares the same role: it adopts the one there, no second create.
    other = aws.ctx("opensearch_service_linked_role", stack="observability", env="production")
    assert _slr().create(other, dict(_slr().properties)) == (name, out)

    slr.update(ctx, name, dict(slr.properties), {**slr.properties, "Description": "changed"})
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "changed"

    # Destroy leaves it: the other environment's domain (and this one's, until it is gone) needs it.
    slr.delete(ctx, name)
    assert iam.get_role(RoleName=name)["Role"]["Arn"] == out["Arn"]


def test_service_linked_role_adopts_one_made_between_look_and_create(aws, monkeypatch):
    """The console (or a parallel run) made the role after find() looked: IAM says the name is taken,
    and the type takes that role as its own instead of failing."""
    slr = _slr()
    ctx = aws.ctx("opensearch_service_linked_role", stack="observability")
    real, looks = ServiceLinkedRole._get, []

    def late_get(self, c, n):  # the first look sees no role; later ones see what IAM has
        looks.append(n)
        return None if len(looks) == 1 else real(self, c, n)

    monkeypatch.setattr(ServiceLinkedRole, "_get", late_get)
    aws.client("iam").create_service_linked_role(AWSServiceName=OPENSEARCH)
    taken = strict.trips().get("opensearch-vpc-slr", 0)
    name, out = slr.create(ctx, dict(slr.properties))
    assert strict.trips()["opensearch-vpc-slr"] == taken + 1  # IAM refused the second create
    assert out["Arn"] == aws.client("iam").get_role(RoleName=name)["Role"]["Arn"]


def test_an_unknown_service_fails_at_definition():
    with pytest.raises(PlanError, match="AWSServiceName.*must be one of .*opensearchservice.amazonaws.com"):
        ServiceLinkedRole("slr", AWSServiceName="opensearch.amazonaws.com")
