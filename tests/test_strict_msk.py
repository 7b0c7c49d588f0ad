"""Strict MSK rules through raw boto3: multi-VPC connectivity, security updates, Firehose's private MSK source.

Each rule is tripped by the call AWS refuses, and the call AWS accepts goes
through; what the cluster ends up with is read back with DescribeCluster and
GetBootstrapBrokers.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox import strict

ROLE = "arn:aws:iam::123456789012:role/firehose"
DEST = {"BucketARN": "arn:aws:s3:::lake", "RoleARN": ROLE}
IAM_AUTH = {"Sasl": {"Iam": {"Enabled": True}}, "Unauthenticated": {"Enabled": False}}
VPC_IAM = {"VpcConnectivity": {"ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}}}}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def _cluster(kafka: Any, name: str, instance: str = "kafka.m7g.large", auth: dict | None = None,
             **brokers: Any) -> str:
    info = {"InstanceType": instance, "ClientSubnets": ["subnet-a", "subnet-b"], **brokers}
    return kafka.create_cluster(
        ClusterName=name, KafkaVersion="3.7.x", NumberOfBrokerNodes=2, BrokerNodeGroupInfo=info,
        ClientAuthentication=auth if auth is not None else IAM_AUTH,
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}})["ClusterArn"]


def _done(kafka: Any, op_arn: str, timeout: float = 10.0) -> None:
    """Wait for a cluster operation as a client would: poll DescribeClusterOperation."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = kafka.describe_cluster_operation(ClusterOperationArn=op_arn)["ClusterOperationInfo"]["OperationState"]
        if state == "UPDATE_COMPLETE":
            return
        time.sleep(0.02)
    raise AssertionError(f"operation {op_arn} did not complete")


def _version(kafka: Any, arn: str) -> str:
    return kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]


def _connect(kafka: Any, arn: str, connectivity: dict[str, Any] = VPC_IAM) -> None:
    _done(kafka, kafka.update_connectivity(ClusterArn=arn, CurrentVersion=_version(kafka, arn),
                                           ConnectivityInfo=connectivity)["ClusterOperationArn"])


@pytest.fixture
def kafka(aws: Any) -> Any:
    aws.rules.configure("async-modify", seconds=0.1)
    return aws.client("kafka")


def test_rule_msk_multi_vpc(kafka):
    before = strict.trips().get("msk-multi-vpc", 0)
    # Not at create: AWS wants every vpcConnectivity scheme disabled then.
    with pytest.raises(ClientError) as exc:
        _cluster(kafka, "at-create", ConnectivityInfo=VPC_IAM)
    assert code(exc) == "BadRequestException" and "When creating a cluster" in str(exc.value)

    # Not on t3.small brokers.
    small = _cluster(kafka, "small", instance="kafka.t3.small")
    with pytest.raises(ClientError) as exc:
        _connect(kafka, small)
    assert code(exc) == "BadRequestException" and "t3.small" in str(exc.value)

    # Only for a scheme the cluster has: SCRAM is off here, and an unauthenticated cluster has none.
    big = _cluster(kafka, "big")
    with pytest.raises(ClientError) as exc:
        _connect(kafka, big, {"VpcConnectivity": {"ClientAuthentication": {"Sasl": {"Scram": {"Enabled": True}}}}})
    assert code(exc) == "BadRequestException" and "scram" in str(exc.value)
    open_cluster = _cluster(kafka, "open", auth={"Unauthenticated": {"Enabled": True}})
    with pytest.raises(ClientError) as exc:
        _connect(kafka, open_cluster)
    assert code(exc) == "BadRequestException"
    assert strict.trips()["msk-multi-vpc"] - before == 4

    # IAM on an m7g cluster: accepted, and the cluster reports it with its private bootstrap string.
    _connect(kafka, big)
    info = kafka.describe_cluster(ClusterArn=big)["ClusterInfo"]
    vpc = info["BrokerNodeGroupInfo"]["ConnectivityInfo"]["VpcConnectivity"]
    assert vpc["ClientAuthentication"]["Sasl"]["Iam"]["Enabled"] is True
    brokers = kafka.get_bootstrap_brokers(ClusterArn=big)
    assert brokers["BootstrapBrokerStringVpcConnectivitySaslIam"].endswith(":14001")
    # ...and it holds the brokers to it: no move to t3.small, no dropping IAM while it is on.
    with pytest.raises(ClientError) as exc:
        kafka.update_broker_type(ClusterArn=big, CurrentVersion=_version(kafka, big),
                                 TargetInstanceType="kafka.t3.small")
    assert code(exc) == "BadRequestException"
    with pytest.raises(ClientError) as exc:
        kafka.update_security(ClusterArn=big, CurrentVersion=_version(kafka, big),
                              ClientAuthentication={"Sasl": {"Iam": {"Enabled": False}},
                                                    "Unauthenticated": {"Enabled": True}})
    assert code(exc) == "BadRequestException"


def test_rule_msk_security_update(kafka):
    arn = _cluster(kafka, "secure")
    before = strict.trips().get("msk-security-update", 0)
    for enc in ({"EncryptionAtRest": {"DataVolumeKMSKeyId": "arn:aws:kms:ap-east-2:123456789012:key/x"}},
                {"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": False}}):
        with pytest.raises(ClientError) as exc:
            kafka.update_security(ClusterArn=arn, CurrentVersion=_version(kafka, arn), EncryptionInfo=enc)
        assert code(exc) == "BadRequestException" and "not currently supported" in str(exc.value)
    assert strict.trips()["msk-security-update"] - before == 2

    # Client-broker encryption changes in place: same cluster, new setting read back.
    op = kafka.update_security(ClusterArn=arn, CurrentVersion=_version(kafka, arn),
                               EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT"}})
    _done(kafka, op["ClusterOperationArn"])
    info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["EncryptionInfo"]["EncryptionInTransit"] == {"ClientBroker": "TLS_PLAINTEXT", "InCluster": True}
    assert kafka.describe_cluster_operation(ClusterOperationArn=op["ClusterOperationArn"])[
        "ClusterOperationInfo"]["OperationType"] == "UPDATE_SECURITY"


def _firehose_policy(arn: str, principal: str = "firehose.amazonaws.com") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": [principal]}, "Action": ["kafka:CreateVpcConnection"],
        "Resource": arn}]})


def test_rule_firehose_msk_private(aws, kafka):
    fh = aws.client("firehose")

    def create(arn: str, connectivity: str = "PRIVATE") -> None:
        fh.create_delivery_stream(
            DeliveryStreamName=f"from-msk-{connectivity.lower()}", DeliveryStreamType="MSKAsSource",
            MSKSourceConfiguration={"MSKClusterARN": arn, "TopicName": "events",
                                    "AuthenticationConfiguration": {"RoleARN": ROLE, "Connectivity": connectivity}},
            ExtendedS3DestinationConfiguration=DEST)

    def refused(arn: str, why: str) -> None:
        with pytest.raises(ClientError) as exc:
            create(arn)
        assert code(exc) == "InvalidArgumentException" and why in str(exc.value), str(exc.value)

    before = strict.trips().get("firehose-msk-private", 0)
    refused("arn:aws:kafka:ap-east-2:123456789012:cluster/nope/1a2b-3", "does not exist")
    arn = _cluster(kafka, "source")
    refused(arn, "multi-VPC private connectivity is not turned on")
    _connect(kafka, arn)
    refused(arn, "no cluster policy")
    with pytest.raises(ClientError) as exc:  # AWS answers NotFoundException, not an empty policy
        kafka.get_cluster_policy(ClusterArn=arn)
    assert code(exc) == "NotFoundException"
    kafka.put_cluster_policy(ClusterArn=arn, Policy=_firehose_policy(arn, principal="lambda.amazonaws.com"))
    refused(arn, "no cluster policy")
    version = kafka.get_cluster_policy(ClusterArn=arn)["CurrentVersion"]
    kafka.put_cluster_policy(ClusterArn=arn, Policy=_firehose_policy(arn), CurrentVersion=version)
    assert strict.trips()["firehose-msk-private"] - before == 4

    create(arn)
    d = fh.describe_delivery_stream(DeliveryStreamName="from-msk-private")["DeliveryStreamDescription"]
    assert d["DeliveryStreamStatus"] == "ACTIVE"
    assert d["Source"]["MSKSourceDescription"]["MSKClusterARN"] == arn
    assert json.loads(kafka.get_cluster_policy(ClusterArn=arn)["Policy"])["Statement"][0]["Principal"] == {
        "Service": ["firehose.amazonaws.com"]}
    # PUBLIC connectivity is not this rule's business.
    with strict.disabled():
        create("arn:aws:kafka:ap-east-2:123456789012:cluster/other/9z9z-3", "PUBLIC")
