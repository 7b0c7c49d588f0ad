"""QuickSight's region and subscription rules (sandbox/extensions/strict_quicksight.py), tripped with plain
boto3 as a script against a new account would trip them, then met the way AWS documents."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from sandbox import strict

QS_REGION = "eu-west-1"  # a region QuickSight runs in


def _code(exc: pytest.ExceptionInfo) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def _qs(region: str) -> object:
    # One attempt: where QuickSight has no endpoint botocore would retry the connection with backoff.
    return boto3.client("quicksight", region_name=region,
                        config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


def test_rule_quicksight_region(aws):
    acct = aws.clients.account_id
    assert aws.region == "ap-east-2"  # the plan's region: no QuickSight there
    with pytest.raises(EndpointConnectionError):
        _qs(aws.region).list_data_sources(AwsAccountId=acct)
    aws.rules.off("quicksight-subscription")
    assert _qs(QS_REGION).list_data_sources(AwsAccountId=acct)["DataSources"] == []


def test_rule_quicksight_subscription(aws):
    acct = aws.clients.account_id
    qs = _qs(QS_REGION)
    before = strict.trips().get("quicksight-subscription", 0)
    with pytest.raises(ClientError) as exc:
        qs.list_data_sources(AwsAccountId=acct)
    assert _code(exc) == ("UnsupportedUserEditionException", f"Account {acct} is not subscribed for QuickSight")
    with pytest.raises(ClientError) as exc:
        qs.create_data_source(AwsAccountId=acct, DataSourceId="a", Name="a", Type="ATHENA",
                              DataSourceParameters={"AthenaParameters": {"WorkGroup": "primary"}})
    assert _code(exc)[0] == "UnsupportedUserEditionException"
    with pytest.raises(ClientError) as exc:
        qs.describe_account_subscription(AwsAccountId=acct)
    assert _code(exc)[0] == "ResourceNotFoundException"
    assert strict.trips()["quicksight-subscription"] == before + 2
    qs.create_account_subscription(AwsAccountId=acct, Edition="ENTERPRISE", AuthenticationMethod="IAM_AND_QUICKSIGHT",
                                   AccountName="genai-demo-test", NotificationEmail="ops@example.com")
    info = qs.describe_account_subscription(AwsAccountId=acct)["AccountInfo"]
    assert info["AccountSubscriptionStatus"] == "ACCOUNT_CREATED" and info["Edition"] == "ENTERPRISE"
    qs.create_data_source(AwsAccountId=acct, DataSourceId="a", Name="a", Type="ATHENA",
                          DataSourceParameters={"AthenaParameters": {"WorkGroup": "primary"}})
    assert [d["DataSourceId"] for d in qs.list_data_sources(AwsAccountId=acct)["DataSources"]] == ["a"]


def test_rule_quicksight_opensearch_vpc(aws):
    acct = aws.clients.account_id
    qs = _qs(QS_REGION)
    qs.create_account_subscription(AwsAccountId=acct, Edition="ENTERPRISE", AuthenticationMethod="IAM_AND_QUICKSIGHT",
                                   AccountName="genai-demo-test", NotificationEmail="ops@example.com")
    ec2 = boto3.client("ec2", region_name=QS_REGION)
    aws.rules.off("ec2-consistency")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"{QS_REGION}{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    sg = ec2.create_security_group(GroupName="qs", Description="qs", VpcId=vpc)["GroupId"]
    boto3.client("iam").create_service_linked_role(AWSServiceName="opensearchservice.amazonaws.com")
    boto3.client("opensearch", region_name=QS_REGION).create_domain(
        DomainName="logs", EngineVersion="OpenSearch_2.11", VPCOptions={"SubnetIds": subnets[:1]})
    source = dict(AwsAccountId=acct, Name="logs", Type="AMAZON_OPENSEARCH",
                  DataSourceParameters={"AmazonOpenSearchParameters": {"Domain": "logs"}})
    before = strict.trips().get("quicksight-opensearch-vpc", 0)
    qs.create_data_source(DataSourceId="direct", **source)
    assert qs.describe_data_source(AwsAccountId=acct, DataSourceId="direct")["DataSource"]["Status"] == \
        "CREATION_FAILED"
    assert strict.trips()["quicksight-opensearch-vpc"] == before + 1
    conn = qs.create_vpc_connection(AwsAccountId=acct, VPCConnectionId="private", Name="private", SubnetIds=subnets,
                                    SecurityGroupIds=[sg], RoleArn=f"arn:aws:iam::{acct}:role/qs-vpc")
    described = qs.describe_vpc_connection(AwsAccountId=acct, VPCConnectionId="private")["VPCConnection"]
    assert described["VPCId"] == vpc and described["Status"] == "CREATION_SUCCESSFUL"
    qs.create_data_source(DataSourceId="through-vpc", VpcConnectionProperties={"VpcConnectionArn": conn["Arn"]},
                          **source)
    assert qs.describe_data_source(AwsAccountId=acct, DataSourceId="through-vpc")["DataSource"]["Status"] == \
        "CREATION_SUCCESSFUL"
    qs.delete_vpc_connection(AwsAccountId=acct, VPCConnectionId="private")
    with pytest.raises(ClientError) as exc:
        qs.describe_vpc_connection(AwsAccountId=acct, VPCConnectionId="private")
    assert _code(exc)[0] == "ResourceNotFoundException"
