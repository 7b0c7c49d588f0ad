"""Issue 13, opensearch.Domain (B8, A7): encryption at rest enabled in place; what AWS cannot do to a running
domain refused at plan time, never a silent replacement of the indices."""

from __future__ import annotations

import json

from resources.opensearch import Domain
from sandbox import strict
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


def test_c7_removed_sections_go_back_to_aws_defaults(aws):
    """AccessPolicies and advanced options taken out of the plan are reset on the same domain, not left as they
    were (UpdateDomainConfig keeps what it is not sent; rule opensearch-clear-access-policy: moto kept an
    emptied policy)."""
    aws.rules.configure("async-modify", seconds=0.2, lag=0.05)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                      "Action": "es:ESHttpGet", "Resource": "*"}]}
    advanced = {"rest.action.multi.allow_explicit_index": "false", "indices.query.bool.max_clause_count": "2048"}
    dom = declare(Domain("logs", ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
                         AccessPolicies=policy, AdvancedOptions=advanced))
    ctx = aws.ctx("logs")
    name, out = dom.create(ctx, dict(dom.properties))
    os_ = aws.client("opensearch")
    st = os_.describe_domain(DomainName=name)["DomainStatus"]
    assert json.loads(st["AccessPolicies"]) == policy and st["AdvancedOptions"]["indices.query.bool.max_clause_count"] \
        == "2048"
    old = dict(dom.properties)
    new = {k: v for k, v in old.items() if k not in ("AccessPolicies", "AdvancedOptions")}
    assert dom.refusal(old, new, ["AccessPolicies", "AdvancedOptions"]) is None
    before = strict.trips().get("opensearch-clear-access-policy", 0)
    dom.update(ctx, name, old, new)
    st = os_.describe_domain(DomainName=name)["DomainStatus"]
    assert st["ARN"] == out["Arn"] and st["DomainId"] == out["DomainId"]
    assert st["AccessPolicies"] == ""
    assert st["AdvancedOptions"]["rest.action.multi.allow_explicit_index"] == "true"
    assert st["AdvancedOptions"]["indices.query.bool.max_clause_count"] == "1024"
    assert strict.trips()["opensearch-clear-access-policy"] == before + 1
    # One option of two removed: it goes back to its default, the other stays as declared.
    both = dict(new, AdvancedOptions={"indices.query.bool.max_clause_count": "4096",
                                      "rest.action.multi.allow_explicit_index": "false"})
    dom.update(ctx, name, new, both)
    dom.update(ctx, name, both, dict(new, AdvancedOptions={"indices.query.bool.max_clause_count": "4096"}))
    opts = os_.describe_domain(DomainName=name)["DomainStatus"]["AdvancedOptions"]
    assert opts["indices.query.bool.max_clause_count"] == "4096"
    assert opts["rest.action.multi.allow_explicit_index"] == "true"


def test_c7_an_advanced_option_without_a_settable_default_is_refused():
    dom = Domain("logs", ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
                 AdvancedOptions={"indices.fielddata.cache.size": "40"})
    old = dict(dom.properties)
    msg = dom.refusal(old, {k: v for k, v in old.items() if k != "AdvancedOptions"}, ["AdvancedOptions"])
    assert msg and "indices.fielddata.cache.size" in msg and "declare the value" in msg
    assert dom.refusal(old, dict(old, AdvancedOptions={"indices.fielddata.cache.size": "60"}),
                       ["AdvancedOptions"]) is None
