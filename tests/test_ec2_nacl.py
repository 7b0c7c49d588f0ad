"""Round trips of ec2.NetworkAcl and ec2.NetworkAclEntry on moto."""

import pytest

from core.errors import PlanError
from resources.ec2 import NetworkAcl, NetworkAclEntry
from tests.helpers import ec2_visible

pytestmark = pytest.mark.usefixtures("short_ec2_window")  # raw set-up waits out a short window

def _declare(cls, name, **props):
    r = cls(name, **props)
    r.stack = "main"
    return r


def _acl_of(ec2, subnet_id):
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])
    return [a["NetworkAclId"] for a in acls["NetworkAcls"]]


def test_network_acl_round_trip(aws):
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc_id])
    s1, s2 = (ec2.create_subnet(VpcId=vpc_id, CidrBlock=c, AvailabilityZone="ap-east-2a")["Subnet"]["SubnetId"]
              for c in ("10.0.160.0/22", "10.0.164.0/22"))
    ec2_visible(ec2, SubnetIds=[s1, s2])
    default = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                 {"Name": "default", "Values": ["true"]}])["NetworkAcls"][0]
    acl = _declare(NetworkAcl, "nacl_database", VpcId=vpc_id, SubnetIds=[s1])
    ctx = aws.ctx("nacl_database", token="tok-acl")
    acl_id, out = acl.create(ctx, dict(acl.properties))
    assert out == {"NetworkAclId": acl_id}
    seen = ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"][0]
    assert {t["Key"]: t["Value"] for t in seen["Tags"]}["infra:address"] == "main.nacl_database"
    assert _acl_of(ec2, s1) == [acl_id] and _acl_of(ec2, s2) == [default["NetworkAclId"]]
    assert acl.read(ctx, acl_id) == {"VpcId": vpc_id, "SubnetIds": [s1]}

    acl.update(ctx, acl_id, dict(acl.properties), {"VpcId": vpc_id, "SubnetIds": [s2]})
    assert _acl_of(ec2, s2) == [acl_id]
    assert _acl_of(ec2, s1) == [default["NetworkAclId"]]  # back on the default, never without an ACL
    acl.update(ctx, acl_id, {"VpcId": vpc_id, "SubnetIds": [s2]}, {"VpcId": vpc_id, "SubnetIds": [s1, s2]})
    assert sorted(acl.read(ctx, acl_id)["SubnetIds"]) == sorted([s1, s2])

    assert acl.find(ctx)[0] == acl_id
    acl.delete(ctx, acl_id)  # re-associates both subnets with the default first
    acl.delete(ctx, acl_id)
    assert _acl_of(ec2, s1) == [default["NetworkAclId"]] and _acl_of(ec2, s2) == [default["NetworkAclId"]]
    assert acl.read(ctx, acl_id) is None
    assert acl.find(ctx) is None


def test_network_acl_entry_round_trip(aws):
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc_id])
    acl_id = ec2.create_network_acl(VpcId=vpc_id)["NetworkAcl"]["NetworkAclId"]
    entry = _declare(NetworkAclEntry, "nacl_db_in_pg", NetworkAclId=acl_id, RuleNumber=100, Protocol="6",
                     RuleAction="allow", CidrBlock="10.0.64.0/18", PortRange={"From": 5432, "To": 5432})
    ctx = aws.ctx("nacl_db_in_pg")
    pid, out = entry.create(ctx, dict(entry.properties))
    assert pid == f"{acl_id}|ingress|100" and out == {"NetworkAclId": acl_id, "RuleNumber": 100}
    entries = ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"][0]["Entries"]
    assert [(e["RuleNumber"], e["Egress"], e["Protocol"], e["RuleAction"], e["PortRange"]) for e in entries] == \
        [(100, False, "6", "allow", {"From": 5432, "To": 5432})]
    assert entry.read(ctx, pid) == dict(entry.properties)

    # Stateless: the return path is a separate egress entry with the same number.
    ret = _declare(NetworkAclEntry, "nacl_db_out_eph", NetworkAclId=acl_id, RuleNumber=100, Protocol="6",
                   RuleAction="allow", Egress=True, CidrBlock="10.0.64.0/18", PortRange={"From": 1024, "To": 65535})
    rpid, _ = ret.create(aws.ctx("nacl_db_out_eph"), dict(ret.properties))
    assert rpid == f"{acl_id}|egress|100" and ret.read(aws.ctx("nacl_db_out_eph"), rpid)["Egress"] is True

    new = dict(entry.properties, CidrBlock="10.0.0.0/16", PortRange={"From": 5432, "To": 5433})
    entry.update(ctx, pid, dict(entry.properties), new)
    assert entry.read(ctx, pid) == new
    assert entry.create(ctx, dict(entry.properties))[0] == pid  # a crash's leftover is made right, not duplicated
    assert entry.read(ctx, pid) == dict(entry.properties)

    assert entry.find(ctx)[0] == pid
    entry.delete(ctx, pid)
    entry.delete(ctx, pid)
    assert entry.read(ctx, pid) is None
    assert entry.find(ctx) is None
    assert ret.read(aws.ctx("nacl_db_out_eph"), rpid) is not None  # the other direction is untouched


def test_network_acl_entry_rejects_bad_inputs():
    base = {"NetworkAclId": "acl-1", "RuleNumber": 100, "RuleAction": "allow", "CidrBlock": "10.0.0.0/16"}
    with pytest.raises(PlanError, match="needs PortRange"):
        NetworkAclEntry("e", **base, Protocol="6")
    with pytest.raises(PlanError, match="Protocol"):
        NetworkAclEntry("e", **base, Protocol="tcp", PortRange={"From": 1, "To": 2})
    with pytest.raises(PlanError, match="PortRange"):
        NetworkAclEntry("e", **base, Protocol="6", PortRange={"From": 2, "To": 1})
    with pytest.raises(PlanError, match="RuleNumber"):
        NetworkAclEntry("e", **dict(base, RuleNumber=32767), Protocol="-1")
    with pytest.raises(PlanError, match="RuleAction"):
        NetworkAclEntry("e", **dict(base, RuleAction="permit"), Protocol="-1")
