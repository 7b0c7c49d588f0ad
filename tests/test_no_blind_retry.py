"""The needs-retry veto (orchestrator/aws.py NoBlindRetry) and the engine's own retry of a lost answer."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from core.errors import classify, is_already_exists
from orchestrator.apply import RetryPolicy
from orchestrator.aws import NoBlindRetry, makes_new
from tests.helpers import ec2_visible

EC2 = botocore.session.get_session().get_service_model("ec2")
LOST = ReadTimeoutError(endpoint_url="https://ec2.example")


def ask(op: str, params: dict, exc: BaseException | None = LOST) -> None:
    """What the veto does for one call of `op` with `params` that met `exc`."""
    veto, context = NoBlindRetry(), {}
    model = EC2.operation_model(op)
    veto.mark(params=params, model=model, context=context)
    return veto(caught_exception=exc, operation=model, request_dict={"context": context}, attempts=1)


def test_a_create_without_token_is_not_retried_blindly():
    with pytest.raises(ReadTimeoutError):
        ask("CreateVpc", {"CidrBlock": "10.0.0.0/16"})
    closed = ConnectionClosedError(endpoint_url="https://ec2.example")
    with pytest.raises(ConnectionClosedError):
        ask("AllocateAddress", {"Domain": "vpc"}, closed)
    with pytest.raises(ReadTimeoutError):
        ask("AuthorizeSecurityGroupIngress", {"GroupId": "sg-1"})


def test_what_stays_with_botocore():
    # A token in the call: AWS answers a repeat with the first result.
    assert ask("CreateRouteTable", {"VpcId": "vpc-1", "ClientToken": "t"}) is None
    # botocore fills a token member with the idempotencyToken trait itself (CreateNatGateway's).
    assert ask("CreateNatGateway", {"SubnetId": "s", "AllocationId": "a"}) is None
    # Reads, tags, and an error before anything was sent (connect phase), and AWS's own answers.
    assert ask("DescribeVpcs", {}) is None
    assert ask("CreateTags", {"Resources": ["vpc-1"], "Tags": []}) is None
    assert ask("CreateVpc", {}, EndpointConnectionError(endpoint_url="https://ec2.example")) is None
    assert ask("CreateVpc", {}, None) is None
    # A token member the model knows by name only (CreateFlowLogs' ClientToken): only when sent.
    with pytest.raises(ReadTimeoutError):
        ask("CreateFlowLogs", {"ResourceIds": ["vpc-1"], "ResourceType": "VPC"})


def test_makes_new():
    assert makes_new("CreateVpc") and makes_new("RunInstances") and makes_new("RequestCertificate")
    assert not makes_new("CreateTags") and not makes_new("PutParameter") and not makes_new("DeleteVpc")


def test_the_tool_clients_carry_the_veto(aws):
    """Through the tool's clients a lost create answer reaches the caller after one send."""
    aws.rules.configure("lost-answers", share=1.0, limit=1)
    with pytest.raises(ReadTimeoutError):
        aws.clients.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")
    assert len([v for v in aws.client("ec2").describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.9.0.0/16"]) == 1
    # With a token, botocore's retry gets the first answer (the client-token rule): still one.
    ec2 = aws.clients.client("ec2")
    vpc = aws.client("ec2").describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.9.0.0/16"]}])["Vpcs"][0]["VpcId"]
    ec2_visible(aws.client("ec2"), VpcIds=[vpc])  # EC2 consistency: the new VPC answers by id first
    aws.rules.configure("lost-answers", limit=2)
    rt = ec2.create_route_table(VpcId=vpc, ClientToken="tok")["RouteTable"]["RouteTableId"]
    tables = aws.client("ec2").describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    assert [t["RouteTableId"] for t in tables if not any(a.get("Main") for a in t["Associations"])] == [rt]


def test_retry_policy_retries_a_lost_answer_a_few_times():
    assert classify(LOST) == "lost"
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise LOST
        return "ok"

    policy = RetryPolicy(initial=0.001)
    assert policy.create(flaky, address="main.x") == "ok" and len(calls) == 3
    assert policy.counts["lost"] == 2
    assert [(r.address, r.code, r.attempts) for r in policy.records()] == [("main.x", "ReadTimeoutError", 2)]

    always = []

    def never():
        always.append(1)
        raise LOST

    with pytest.raises(ReadTimeoutError):
        RetryPolicy(initial=0.001, attempts=4).create(never)
    assert len(always) == 4


def test_already_exists_answers():
    from botocore.exceptions import ClientError

    def err(code, msg="x"):
        return ClientError({"Error": {"Code": code, "Message": msg}}, "Op")

    assert is_already_exists(err("InvalidGroup.Duplicate"))
    assert is_already_exists(err("EntityAlreadyExists"))
    assert is_already_exists(err("BucketAlreadyOwnedByYou"))
    assert is_already_exists(err("ConflictException", "A configuration named c already exists."))
    assert not is_already_exists(err("ConflictException", "Cluster is being updated"))
    assert not is_already_exists(err("InvalidParameterValue"))
