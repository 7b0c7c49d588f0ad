"""Sandbox EC2 fidelity: deleting a NAT gateway frees its Elastic IP for reuse.

Raw set-up only, about other behaviour than the visibility of new ids: the ec2-consistency rule is
off here (tests/test_strict_ec2.py tests it).
"""

import pytest

pytestmark = pytest.mark.sandbox_rules_off("ec2-consistency")


def test_deleted_nat_releases_its_eip(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
    assert ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0].get("AssociationId")
    ec2.delete_nat_gateway(NatGatewayId=nat)
    assert "AssociationId" not in ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]
    again = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
    assert again != nat


def test_concurrent_calls_do_not_corrupt_moto(aws):
    """Sixteen threads creating subnets and groups at once: every call succeeds."""
    from concurrent.futures import ThreadPoolExecutor

    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def work(i):
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", TagSpecifications=[
            {"ResourceType": "subnet", "Tags": [{"Key": "n", "Value": str(i)}]}])
        ec2.create_security_group(GroupName=f"g{i}", Description="d", VpcId=vpc)
        return len(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"])

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(64)))
    assert len(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]) == 64
