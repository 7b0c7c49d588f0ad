"""Round trip of opensearch.Domain on moto: a production-shaped VPC domain, checked with plain boto3."""

import json

import pytest

from core.errors import PlanError
from resources.base import shaped
from resources.opensearch import Domain
from tests.helpers import ec2_visible


def _network(aws, zones=3):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])  # the next calls name it (ec2-consistency)
    azs = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:zones]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(azs)]
    sg = ec2.create_security_group(GroupName="opensearch", Description="os", VpcId=vpc)["GroupId"]
    key = aws.client("kms").create_key(Description="logs")["KeyMetadata"]["Arn"]
    # A VPC domain needs OpenSearch's service-linked role (rule opensearch-vpc-slr; the plan declares an
    # iam.ServiceLinkedRole for it, tests/test_service_linked_role.py).
    aws.client("iam").create_service_linked_role(AWSServiceName="opensearchservice.amazonaws.com")
    return subnets, sg, key


def _production(subnets, sg, key, **over):
    props = dict(
        EngineVersion="OpenSearch_2.11",
        ClusterConfig={"InstanceType": "m6g.large.search", "InstanceCount": 3,
                       "DedicatedMasterEnabled": True, "DedicatedMasterType": "m6g.medium.search",
                       "DedicatedMasterCount": 3, "ZoneAwarenessEnabled": True,
                       "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3}},
        EBSOptions={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 100},
        VPCOptions={"SubnetIds": subnets, "SecurityGroupIds": [sg]},
        EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": key},
        NodeToNodeEncryptionOptions={"Enabled": True},
        DomainEndpointOptions={"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"},
        AccessPolicies={"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "es:ESHttp*", "Resource": "arn:aws:es:ap-east-2:123456789012:domain/x/*"}]},
    )
    props.update(over)
    return props


def test_domain_round_trip(aws):
    subnets, sg, key = _network(aws)
    dom = Domain("logs", **_production(subnets, sg, key))
    dom.stack = "observability"
    ctx = aws.ctx("logs", stack="observability", env="production")
    name, out = dom.create(ctx, dict(dom.properties))

    assert name == "genai-demo-production-logs" and len(name) <= 28
    os_ = aws.client("opensearch")
    st = os_.describe_domain(DomainName=name)["DomainStatus"]
    assert st["Processing"] is False and st["EngineVersion"] == "OpenSearch_2.11"
    cc = st["ClusterConfig"]
    assert (cc["InstanceType"], cc["InstanceCount"], cc["DedicatedMasterCount"]) == ("m6g.large.search", 3, 3)
    assert cc["ZoneAwarenessConfig"] == {"AvailabilityZoneCount": 3}
    assert st["EBSOptions"]["VolumeType"] == "gp3" and st["EBSOptions"]["VolumeSize"] == 100
    assert sorted(st["VPCOptions"]["SubnetIds"]) == sorted(subnets)
    assert st["EncryptionAtRestOptions"] == {"Enabled": True, "KmsKeyId": key}
    assert st["NodeToNodeEncryptionOptions"]["Enabled"] is True
    assert st["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert st["DomainEndpointOptions"]["TLSSecurityPolicy"] == "Policy-Min-TLS-1-2-2019-07"
    assert json.loads(st["AccessPolicies"])["Statement"][0]["Action"] == "es:ESHttp*"
    tags = {t["Key"]: t["Value"] for t in os_.list_tags(ARN=st["ARN"])["TagList"]}
    assert tags["infra:address"] == "observability.logs" and tags["infra:env"] == "production"
    assert out == {"DomainName": name, "DomainId": st["DomainId"], "Arn": st["ARN"],
                   "Endpoint": st["Endpoints"]["vpc"]}

    seen = dom.read(ctx, name)
    assert seen["ClusterConfig"] == dom.properties["ClusterConfig"]
    assert seen["AccessPolicies"] == dom.properties["AccessPolicies"]
    assert seen["EncryptionAtRestOptions"] == dom.properties["EncryptionAtRestOptions"]

    # Scale data nodes 3 -> 6: the rest of ClusterConfig must survive (full object sent).
    new = dict(dom.properties, ClusterConfig=dict(dom.properties["ClusterConfig"], InstanceCount=6))
    dom.update(ctx, name, dict(dom.properties), new)
    cc = os_.describe_domain(DomainName=name)["DomainStatus"]["ClusterConfig"]
    assert cc["InstanceCount"] == 6
    assert cc["DedicatedMasterEnabled"] is True and cc["DedicatedMasterType"] == "m6g.medium.search"
    assert cc["ZoneAwarenessEnabled"] is True

    assert dom.find(ctx)[0] == name
    dom.delete(ctx, name)
    dom.delete(ctx, name)  # idempotent
    assert name not in [d["DomainName"] for d in os_.list_domain_names()["DomainNames"]]
    assert dom.read(ctx, name) is None
    assert dom.find(ctx) is None


def test_dev_domain_single_node(aws):
    subnets, sg, key = _network(aws, zones=1)
    dom = Domain("logs", ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
                 EBSOptions={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 20},
                 VPCOptions={"SubnetIds": subnets, "SecurityGroupIds": [sg]},
                 EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": key})
    dom.stack = "observability"
    ctx = aws.ctx("logs", stack="observability", env="dev")
    name, out = dom.create(ctx, dict(dom.properties))
    st = aws.client("opensearch").describe_domain(DomainName=name)["DomainStatus"]
    assert st["ClusterConfig"]["InstanceCount"] == 1
    # Defaults are the secure ones: HTTPS enforced with TLS 1.2, node-to-node encryption.
    assert st["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert st["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert out["Endpoint"] == st["Endpoints"]["vpc"]
    dom.delete(ctx, name)


def test_domain_name_is_cut_to_28(aws):
    ctx = aws.ctx("a-rather-long-logical-name", stack="observability", env="production")
    dom = Domain("a-rather-long-logical-name", ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1})
    name = dom.domain_name(ctx)
    assert len(name) == 28 and name == name.lower() and name.startswith("genai-demo-production-")


@pytest.mark.parametrize("props, message", [
    ({"Colour": "blue"}, "unknown property"),
    ({"ClusterConfig": "big"}, "must be dict"),
    ({"EngineVersion": "OpenSearch_2.9"}, "OpenSearch_2.11 or later"),
    ({"EngineVersion": "Elasticsearch_7.10"}, "OpenSearch_2.11 or later"),
    ({"DomainName": "Genai-Logs"}, "lowercase"),
    ({"ClusterConfig": {"InstanceType": "m6g.large.search", "InstanceCount": 4, "ZoneAwarenessEnabled": True,
                        "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3}}}, "multiple of the 3 zones"),
    ({"ClusterConfig": {"InstanceType": "m6g.large.search", "InstanceCount": 3, "DedicatedMasterEnabled": True,
                        "DedicatedMasterType": "m6g.medium.search", "DedicatedMasterCount": 2}}, "3 or 5"),
    ({"VPCOptions": {"SubnetIds": ["subnet-1", "subnet-2"]}}, "one subnet per zone"),
])
def test_bad_inputs_fail_at_definition(props, message):
    base = {"ClusterConfig": {"InstanceType": "t3.small.search", "InstanceCount": 1}}
    with pytest.raises(PlanError, match=message):
        Domain("logs", **{**base, **props})


def test_shaped_keeps_declared_keys_only():
    actual = {"InstanceType": "t", "InstanceCount": 1, "WarmEnabled": False,
              "ZoneAwarenessConfig": {"AvailabilityZoneCount": 2, "Extra": 1}}
    like = {"InstanceType": "x", "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3}}
    assert shaped(actual, like) == {"InstanceType": "t", "ZoneAwarenessConfig": {"AvailabilityZoneCount": 2}}
    assert shaped([{"a": 1, "b": 2}, {"a": 3, "b": 4}], [{"a": 0}]) == [{"a": 1}, {"a": 3}]


def test_update_waits_for_its_change_and_the_next_one_follows(aws):
    """async-modify: right after UpdateDomainConfig the domain still reads Processing=false; the update waits
    on its ChangeId until COMPLETED, so the domain is done with the new value and a next change is accepted."""
    from sandbox import strict

    subnets, sg, key = _network(aws, zones=1)
    dom = Domain("logs", ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
                 VPCOptions={"SubnetIds": subnets, "SecurityGroupIds": [sg]})
    dom.stack = "observability"
    ctx = aws.ctx("logs", stack="observability")
    name, _ = dom.create(ctx, dict(dom.properties))
    os_ = aws.client("opensearch")
    trips = strict.trips().get("async-modify", 0)
    new = dict(dom.properties, EBSOptions={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 40})
    dom.update(ctx, name, dict(dom.properties), new)
    st = os_.describe_domain(DomainName=name)["DomainStatus"]
    assert st["Processing"] is False and st["EBSOptions"]["VolumeSize"] == 40
    change = st["ChangeProgressDetails"]["ChangeId"]
    progress = os_.describe_domain_change_progress(DomainName=name, ChangeId=change)["ChangeProgressStatus"]
    assert progress["Status"] == "COMPLETED"
    newer = dict(new, ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 2})
    dom.update(ctx, name, new, newer)  # straight after: not refused
    assert os_.describe_domain(DomainName=name)["DomainStatus"]["ClusterConfig"]["InstanceCount"] == 2
    assert strict.trips().get("async-modify", 0) == trips
