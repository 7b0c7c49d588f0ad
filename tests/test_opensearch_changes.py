"""Issue 13, opensearch.Domain (B8, A7): encryption at rest enabled in place; what AWS cannot do to a running
domain refused at plan time, never a silent replacement of the indices."""

from __future__ import annotations

from resources.opensearch import Domain
from tests.helpers import declare


def test_b8_encryption_at_rest_enabled_in_place(aws):
    aws.rules.configure("async-modify", seconds=0.2, lag=0.05)
    key = aws.client("kms").create_key(Description="logs")["KeyMetadata"]["Arn"]
    dom = declare(Domain("logs", ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
                         EncryptionAtRestOptions={"Enabled": False}))
    ctx = aws.ctx("logs")
    name, out = dom.create(ctx, dict(dom.properties))
    assert "EncryptionAtRestOptions" not in Domain.replace_on and Domain.stateful
    new = dict(dom.properties, EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": key})
    assert dom.refusal(dict(dom.properties), new, ["EncryptionAtRestOptions"]) is None
    dom.update(ctx, name, dict(dom.properties), new)
    st = aws.client("opensearch").describe_domain(DomainName=name)["DomainStatus"]
    assert st["ARN"] == out["Arn"] and st["DomainId"] == out["DomainId"]
    assert st["EncryptionAtRestOptions"]["Enabled"] is True and st["EncryptionAtRestOptions"]["KmsKeyId"] == key


def test_a7_what_opensearch_cannot_change_is_refused_with_the_reason():
    dom = Domain("logs", ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1})
    base = dict(dom.properties, EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": "k1"})
    cases = [({"EncryptionAtRestOptions": {"Enabled": False}}, "cannot disable encryption at rest"),
             ({"EncryptionAtRestOptions": {"Enabled": True, "KmsKeyId": "k2"}}, "cannot change the KMS key"),
             ({"NodeToNodeEncryptionOptions": {"Enabled": False}}, "node-to-node"),
             ({"VPCOptions": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}}, "into or out of a VPC")]
    for change, text in cases:
        msg = dom.refusal(base, dict(base, **change), list(change))
        assert msg and text in msg and "'logs'" in msg and "--replace" in msg
    vpc = dict(base, VPCOptions={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]})
    assert dom.refusal(vpc, dict(vpc, VPCOptions={"SubnetIds": ["subnet-2"], "SecurityGroupIds": ["sg-1"]}),
                       ["VPCOptions"]) is None  # subnets of a VPC domain change in place
