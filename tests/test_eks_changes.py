"""Issue 13 findings on eks.Cluster, on the strict sandbox: what AWS ends up with, read through boto3."""

from __future__ import annotations

import pytest

from resources.base import ResourceError
from resources.eks import Cluster
from sandbox import strict
from tests.test_eks import infra  # noqa: F401 - the fixture

__all__ = ["infra"]


def _make(aws, infra, **kw):  # noqa: F811 - infra is the fixture
    c = Cluster("cluster", Version="1.32", RoleArn=infra["roles"]["cluster"],
                ResourcesVpcConfig={"SubnetIds": infra["subnets"], "SecurityGroupIds": [infra["sg"]]}, **kw)
    c.stack = "main"
    ctx = aws.ctx("cluster")
    name, out = c.create(ctx, dict(c.properties))
    return c, ctx, name, out


@pytest.fixture
def quick(aws):
    aws.rules.configure("async-modify", seconds=0.05, lag=0.01)
    return aws


def test_a4_vpc_config_goes_out_one_update_type_per_call(quick, infra):  # noqa: F811
    c, ctx, name, out = _make(quick, infra)
    trips = strict.trips().get("eks-one-update-type", 0)
    vpc = dict(c.properties["ResourcesVpcConfig"], SecurityGroupIds=[infra["sg2"]], EndpointPublicAccess=False,
               PublicAccessCidrs=["10.0.0.0/8"], SubnetIds=infra["subnets"][:2])
    new = dict(c.properties, ResourcesVpcConfig=vpc)
    c.update(ctx, name, dict(c.properties), new)
    eks = quick.client("eks")
    got = eks.describe_cluster(name=name)["cluster"]
    assert got["arn"] == out["Arn"]  # the same cluster, changed in place
    seen = got["resourcesVpcConfig"]
    assert seen["securityGroupIds"] == [infra["sg2"]] and seen["subnetIds"] == infra["subnets"][:2]
    assert seen["endpointPublicAccess"] is False and seen["publicAccessCidrs"] == ["10.0.0.0/8"]
    types = [eks.describe_update(name=name, updateId=u)["update"]["type"] for u in eks.list_updates(name=name)["updateIds"]]
    assert types == ["EndpointAccessUpdate", "VpcConfigUpdate", "VpcConfigUpdate"]
    assert strict.trips().get("eks-one-update-type", 0) == trips  # never refused
    assert c.read(ctx, name) == new


def test_b9_encryption_added_in_place_and_a_rekey_refused(quick, infra):  # noqa: F811
    c, ctx, name, out = _make(quick, infra)
    eks = quick.client("eks")
    assert not eks.describe_cluster(name=name)["cluster"].get("encryptionConfig")
    enc = [{"Resources": ["secrets"], "Provider": {"KeyArn": infra["key"]}}]
    old = dict(c.properties)
    new = dict(old, EncryptionConfig=enc)
    assert "EncryptionConfig" not in Cluster.replace_on and c.refusal(old, new, ["EncryptionConfig"]) is None
    c.update(ctx, name, old, new)
    got = eks.describe_cluster(name=name)["cluster"]
    assert got["arn"] == out["Arn"] and got["encryptionConfig"][0]["provider"]["keyArn"] == infra["key"]
    # Another key, or none: EKS cannot; the plan refuses and update() makes no call.
    other = quick.client("kms").create_key()["KeyMetadata"]["Arn"]
    rekey = dict(new, EncryptionConfig=[{"Resources": ["secrets"], "Provider": {"KeyArn": other}}])
    assert "cannot change or remove" in c.refusal(new, rekey, ["EncryptionConfig"])
    assert "cannot change or remove" in c.refusal(new, dict(new, EncryptionConfig=[]), ["EncryptionConfig"])
    with pytest.raises(ResourceError, match="cannot change or remove"):
        c.update(ctx, name, new, rekey)
    assert eks.describe_cluster(name=name)["cluster"]["encryptionConfig"][0]["provider"]["keyArn"] == infra["key"]


def test_d4_a_rerun_update_goes_on_from_where_aws_is(quick, infra):  # noqa: F811
    c, ctx, name, _ = _make(quick, infra)
    old = dict(c.properties)
    new = dict(old, Version="1.33", Logging=["api"])
    c.update(ctx, name, old, new)
    # A retry of the whole update with the same `old` (the version is already 1.33): nothing asked again.
    c.update(ctx, name, old, new)
    eks = quick.client("eks")
    updates = [eks.describe_update(name=name, updateId=u)["update"] for u in eks.list_updates(name=name)["updateIds"]]
    assert [u["type"] for u in updates] == ["VersionUpdate", "LoggingUpdate"]
    assert eks.describe_cluster(name=name)["cluster"]["version"] == "1.33"
