"""Strict rules of sandbox/extensions/strict_updates.py, tripped in raw boto3 (issue 13)."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from sandbox import strict


def _cluster(aws):
    ec2 = aws.client("ec2")
    from tests.helpers import ec2_visible

    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{i}.0/24",
                                 AvailabilityZone=f"{aws.region}{'ab'[i]}")["Subnet"]["SubnetId"] for i in range(2)]
    sg = ec2.create_security_group(GroupName="x", Description="x", VpcId=vpc)["GroupId"]
    eks = aws.client("eks")
    eks.create_cluster(name="c", roleArn=f"arn:aws:iam::{aws.clients.account_id}:role/r",
                       resourcesVpcConfig={"subnetIds": subnets, "endpointPublicAccess": True})
    return eks, subnets, sg


def test_rule_eks_one_update_type(aws):
    aws.rules.configure("async-modify", seconds=0.05, lag=0.0)
    eks, subnets, sg = _cluster(aws)
    before = strict.trips().get("eks-one-update-type", 0)
    for kw in ({"resourcesVpcConfig": {"securityGroupIds": [sg], "endpointPublicAccess": False}},
               {"resourcesVpcConfig": {"subnetIds": subnets[:1] + subnets[1:], "publicAccessCidrs": ["10.0.0.0/8"]}},
               {"resourcesVpcConfig": {"securityGroupIds": [sg]},
                "logging": {"clusterLogging": [{"types": ["api"], "enabled": True}]}}):
        with pytest.raises(ClientError) as exc:
            eks.update_cluster_config(name="c", **kw)
        assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
        assert "Only one type of update can be allowed" in str(exc.value)
    assert strict.trips()["eks-one-update-type"] == before + 3
    assert eks.list_updates(name="c")["updateIds"] == []  # nothing was started
    # One type per call is accepted: an EndpointAccessUpdate (flags and CIDRs together), then a VpcConfigUpdate.
    upd = eks.update_cluster_config(name="c", resourcesVpcConfig={"endpointPublicAccess": True,
                                                                   "publicAccessCidrs": ["10.0.0.0/8"]})["update"]
    assert upd["type"] == "EndpointAccessUpdate"


def test_rule_firehose_destination_switch(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="lake-x", CreateBucketConfiguration={"LocationConstraint": aws.region})
    role = f"arn:aws:iam::{aws.clients.account_id}:role/fh"
    fh = aws.client("firehose")
    fh.create_delivery_stream(
        DeliveryStreamName="logs", DeliveryStreamType="DirectPut",
        ElasticsearchDestinationConfiguration={
            "RoleARN": role, "DomainARN": f"arn:aws:es:{aws.region}:{aws.clients.account_id}:domain/logs",
            "IndexName": "logs", "S3Configuration": {"RoleARN": role, "BucketARN": "arn:aws:s3:::lake-x"}})
    d = fh.describe_delivery_stream(DeliveryStreamName="logs")["DeliveryStreamDescription"]
    with pytest.raises(ClientError) as exc:
        fh.update_destination(DeliveryStreamName="logs", CurrentDeliveryStreamVersionId=d["VersionId"],
                              DestinationId=d["Destinations"][0]["DestinationId"],
                              ExtendedS3DestinationUpdate={"RoleARN": role, "BucketARN": "arn:aws:s3:::lake-x"})
    assert exc.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert "Switching between Amazon OpenSearch Service and other services" in str(exc.value)
    after = fh.describe_delivery_stream(DeliveryStreamName="logs")["DeliveryStreamDescription"]
    assert "ElasticsearchDestinationDescription" in after["Destinations"][0]  # unchanged
    assert after["VersionId"] == d["VersionId"]


def test_rule_opensearch_clear_access_policy(aws):
    aws.rules.configure("async-modify", seconds=0.05, lag=0.0)
    os_ = aws.client("opensearch")
    policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, ' \
             '"Action": "es:ESHttpGet", "Resource": "*"}]}'
    os_.create_domain(DomainName="logs", ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
                      AccessPolicies=policy)
    before = strict.trips().get("opensearch-clear-access-policy", 0)
    os_.update_domain_config(DomainName="logs", ClusterConfig={"InstanceType": "t3.small.search",
                                                                "InstanceCount": 1})
    assert os_.describe_domain(DomainName="logs")["DomainStatus"]["AccessPolicies"] == policy  # not sent: kept
    for _ in range(200):  # the first change runs for a moment (async-modify): a second one waits for it
        if not os_.describe_domain(DomainName="logs")["DomainStatus"]["Processing"]:
            break
        time.sleep(0.02)
    os_.update_domain_config(DomainName="logs", AccessPolicies="")
    assert os_.describe_domain(DomainName="logs")["DomainStatus"]["AccessPolicies"] == ""
    assert strict.trips()["opensearch-clear-access-policy"] == before + 1
