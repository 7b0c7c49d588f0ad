"""The lost-answers and client-token rules, shown with raw boto3 (no tool code)."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from sandbox import settings


def _vpcs(ec2) -> list[str]:
    return [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]]


def test_rule_lost_answers(aws):
    """The VPC exists although the client saw an error; botocore's own retry then makes a second copy."""
    ec2 = aws.client("ec2")
    once = boto3.client("ec2", region_name=aws.region, config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    aws.rules.configure("lost-answers", share=1.0, limit=1)
    with pytest.raises(ReadTimeoutError):
        once.create_vpc(CidrBlock="10.1.0.0/16")
    assert len(_vpcs(ec2)) == 1  # AWS acted: the client never heard of it

    # botocore's default (standard) retry: the first answer is lost, it retries and gets the second.
    aws.rules.configure("lost-answers", share=1.0, limit=2)
    retrying = boto3.client("ec2", region_name=aws.region, config=Config(retries={"mode": "standard"}))
    vpc = retrying.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    meta = [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.2.0.0/16"]
    assert len(meta) == 2 and vpc in {v["VpcId"] for v in meta}  # the hazard: one untracked copy
    assert aws.rules.trips()["lost-answers"] >= 2

    # Reads are never dropped, nor creates past the limit: the sandbox is otherwise reliable.
    assert retrying.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]


def test_rule_lost_answers_default_is_off(aws):
    ec2 = aws.client("ec2")
    for i in range(5):
        ec2.create_vpc(CidrBlock=f"10.{10 + i}.0.0/16")
    assert len(_vpcs(ec2)) == 5


def test_rule_lost_answers_share_is_seeded(aws):
    """The same seed drops the same calls of a sequence; a share of 0.5 drops some, not all."""
    once = boto3.client("ec2", region_name=aws.region, config=Config(retries={"mode": "standard", "total_max_attempts": 1}))

    def run(tag: str) -> list[bool]:
        aws.rules.configure("lost-answers", share=0.5, seed=7)
        out = []
        for i in range(12):
            try:
                once.create_security_group(GroupName=f"{tag}{i}", Description="x")
                out.append(False)
            except ReadTimeoutError:
                out.append(True)
        return out

    first = run("a")
    assert any(first) and not all(first)
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sts.models import sts_backends

    sts_backends[DEFAULT_ACCOUNT_ID]["aws"].__dict__.pop("_sandbox_lost_answers", None)  # counters from zero
    assert run("b") == first


@pytest.mark.sandbox_rules_off("ec2-consistency")  # raw set-up names a VPC at once; this is about tokens
def test_rule_client_token(aws):
    """A repeat with the same ClientToken answers the first result; moto alone made a second NAT."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.4.1.0/24")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    a = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip, ClientToken="tok-1")["NatGateway"]
    b = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip, ClientToken="tok-1")["NatGateway"]
    assert a["NatGatewayId"] == b["NatGatewayId"]
    nats = [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"]
    assert len(nats) == 1 and aws.rules.trips()["client-token"] >= 1
    ec2.create_route_table(VpcId=vpc, ClientToken="tok-2")
    other = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(Exception, match="IdempotentParameterMismatch"):
        ec2.create_route_table(VpcId=other, ClientToken="tok-2")

    # With the token the retry after a lost answer is safe: still one route table.
    aws.rules.configure("lost-answers", share=1.0, limit=1)
    rt = ec2.create_route_table(VpcId=vpc, ClientToken="tok-3")["RouteTable"]["RouteTableId"]
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    assert sorted(r["RouteTableId"] for r in tables if not any(a.get("Main") for a in r["Associations"])) \
        == sorted({rt, ec2.create_route_table(VpcId=vpc, ClientToken="tok-2")["RouteTable"]["RouteTableId"]})


@pytest.mark.sandbox_rules_off("client-token", "ec2-consistency")
def test_rule_client_token_off_moto_makes_two(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_route_table(VpcId=vpc, ClientToken="t")["RouteTable"]["RouteTableId"]
    b = ec2.create_route_table(VpcId=vpc, ClientToken="t")["RouteTable"]["RouteTableId"]
    assert a != b


def test_rule_lost_answers_server_closes_the_connection(monkeypatch):
    """Through the server the connection closes unanswered: botocore raises ConnectionClosedError."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from sandbox import strict
    from sandbox.extensions import install

    for k, v in settings.ENV.items():
        monkeypatch.setenv(k, v)
    install()
    strict.reset()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        cfg = Config(retries={"mode": "standard", "total_max_attempts": 1})
        ec2 = boto3.client("ec2", region_name=settings.REGION, endpoint_url=url, config=cfg)
        strict.configure("lost-answers", share=1.0, limit=1)
        with pytest.raises((ConnectionClosedError, ReadTimeoutError)):
            ec2.create_vpc(CidrBlock="10.7.0.0/16")
        assert [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.7.0.0/16"]
    finally:
        strict.reset()
        server.stop()
