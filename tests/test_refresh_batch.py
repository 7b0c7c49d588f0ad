"""read_many of every type that batches its reads: the same answers as read(), in fewer calls.

Refresh (Workspace.refresh) reads each type's recorded resources with one read_many. For each
type with its own read_many: create three resources (two where the type allows no more in
one VPC) through the type's create(), check that read_many costs fewer calls than one read()
each and answers exactly what read() answers, then delete one behind the tool's back with an
independent client and check again: None for the deleted one, the others unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resources.base import Resource
from resources.cloudwatch import MetricAlarm
from resources.ec2 import (
    Eip,
    FlowLog,
    InternetGateway,
    NatGateway,
    NetworkAcl,
    NetworkAclEntry,
    Route,
    RouteTable,
    RouteTableAssociation,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    VpcEndpoint,
)
from resources.iam import Role
from resources.ssm import Parameter
from resources.xray import Group, SamplingRule
from tests.helpers import CallLog, ec2_visible

# Raw set-up waits for its new EC2 ids before naming them (the ec2-consistency rule), in a short window.
pytestmark = pytest.mark.usefixtures("short_ec2_window")

Made = list[tuple[Resource, Any, str]]


def _make(aws, cls: type[Resource], decls: list[dict[str, Any]], stack: str = "main") -> Made:
    """Declare and create one resource per property dict, through the type's own create()."""
    made: Made = []
    for i, props in enumerate(decls):
        r = cls(f"{cls.__name__.lower()}_{i}", **props)
        r.stack = stack
        ctx = aws.ctx(r.name, stack=stack)
        pid, _ = r.create(ctx, dict(r.properties))
        made.append((r, ctx, pid))
    return made


def _vpc(ec2, cidr: str = "10.0.0.0/16") -> str:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])
    return vpc


def _subnet(ec2, vpc_id: str, cidr: str) -> str:
    sid = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone="ap-east-2a")["Subnet"]["SubnetId"]
    ec2_visible(ec2, SubnetIds=[sid])
    return sid


def _route_tables(ec2, vpc_id: str, n: int) -> list[str]:
    rts = [ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"] for _ in range(n)]
    ec2_visible(ec2, RouteTableIds=rts)
    return rts


def _igw(ec2, vpc_id: str) -> str:
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    return igw


# Each builder creates the resources and returns them with a function deleting the last one
# through an independent client (never the tool's code).
Builder = Callable[[Any], tuple[Made, Callable[[str], None]]]


def subnets(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    made = _make(aws, Subnet, [dict(VpcId=vpc, CidrBlock=f"10.0.{16 * i}.0/20", AvailabilityZone="ap-east-2a",
                                    MapPublicIpOnLaunch=i == 0) for i in range(3)])
    return made, lambda pid: ec2.delete_subnet(SubnetId=pid)


def internet_gateways(aws):
    ec2 = aws.client("ec2")
    made = _make(aws, InternetGateway, [dict(VpcId=_vpc(ec2)), dict(VpcId=_vpc(ec2, "10.1.0.0/16")), {}])
    return made, lambda pid: ec2.delete_internet_gateway(InternetGatewayId=pid)


def eips(aws):
    ec2 = aws.client("ec2")
    return _make(aws, Eip, [{}, {}, {}]), lambda pid: ec2.release_address(AllocationId=pid)


def nat_gateways(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    _igw(ec2, vpc)
    sub = _subnet(ec2, vpc, "10.0.0.0/24")
    allocs = [ec2.allocate_address(Domain="vpc")["AllocationId"] for _ in range(3)]
    ec2_visible(ec2, AllocationIds=allocs)
    made = _make(aws, NatGateway, [dict(SubnetId=sub, AllocationId=a) for a in allocs])
    return made, lambda pid: ec2.delete_nat_gateway(NatGatewayId=pid)


def route_tables(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    made = _make(aws, RouteTable, [dict(VpcId=vpc)] * 3)
    return made, lambda pid: ec2.delete_route_table(RouteTableId=pid)


def routes(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    igw = _igw(ec2, vpc)
    rt1, rt2 = _route_tables(ec2, vpc, 2)
    made = _make(aws, Route, [dict(RouteTableId=rt1, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw),
                              dict(RouteTableId=rt2, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw),
                              dict(RouteTableId=rt2, DestinationCidrBlock="192.168.0.0/16", GatewayId=igw)])

    def remove(pid: str) -> None:
        rt, dest = Route.split(pid)
        ec2.delete_route(RouteTableId=rt, DestinationCidrBlock=dest)

    return made, remove


def route_table_associations(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    rt1, rt2 = _route_tables(ec2, vpc, 2)
    subs = [_subnet(ec2, vpc, f"10.0.{i}.0/24") for i in range(3)]
    made = _make(aws, RouteTableAssociation, [dict(RouteTableId=rt1 if i else rt2, SubnetId=s)
                                              for i, s in enumerate(subs)])

    def remove(subnet_id: str) -> None:
        tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])
        assoc = next(a for t in tables["RouteTables"] for a in t["Associations"] if a.get("SubnetId") == subnet_id)
        ec2.disassociate_route_table(AssociationId=assoc["RouteTableAssociationId"])

    return made, remove


def security_groups(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    made = _make(aws, SecurityGroup, [dict(VpcId=vpc, RevokeDefaultEgress=i == 1, Description=f"group {i}")
                                      for i in range(3)])
    return made, lambda pid: ec2.delete_security_group(GroupId=pid)


def security_group_rules(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    gid = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    peer = ec2.create_security_group(GroupName="p", Description="p", VpcId=vpc)["GroupId"]
    ec2_visible(ec2, GroupIds=[gid, peer])
    made = _make(aws, SecurityGroupRule, [
        dict(GroupId=gid, Direction="ingress", IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="10.0.0.0/16",
             Description="https"),
        dict(GroupId=gid, Direction="ingress", IpProtocol="tcp", FromPort=5432, ToPort=5432,
             SourceSecurityGroupId=peer),
        dict(GroupId=gid, Direction="egress", IpProtocol="-1", CidrIp="10.1.0.0/16")])
    return made, lambda pid: ec2.revoke_security_group_egress(GroupId=gid, SecurityGroupRuleIds=[pid])


def network_acls(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    subs = [_subnet(ec2, vpc, f"10.0.{i}.0/24") for i in range(2)]
    made = _make(aws, NetworkAcl, [dict(VpcId=vpc, SubnetIds=subs), dict(VpcId=vpc), dict(VpcId=vpc)])
    return made, lambda pid: ec2.delete_network_acl(NetworkAclId=pid)


def network_acl_entries(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    acl1, acl2 = (ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"] for _ in range(2))
    made = _make(aws, NetworkAclEntry, [
        dict(NetworkAclId=acl1, RuleNumber=100, Protocol="6", RuleAction="allow", CidrBlock="0.0.0.0/0",
             PortRange={"From": 443, "To": 443}),
        dict(NetworkAclId=acl1, RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=True,
             CidrBlock="10.0.0.0/16"),
        dict(NetworkAclId=acl2, RuleNumber=200, Protocol="17", RuleAction="deny", CidrBlock="10.9.0.0/16",
             PortRange={"From": 53, "To": 53})])

    def remove(pid: str) -> None:
        acl, egress, number = NetworkAclEntry.split(pid)
        ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Egress=egress)

    return made, remove


def vpc_endpoints(aws):
    ec2 = aws.client("ec2")
    vpc = _vpc(ec2)
    rt = _route_tables(ec2, vpc, 1)[0]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                      "Resource": "*"}]}
    made = _make(aws, VpcEndpoint, [
        dict(VpcId=vpc, ServiceName=f"com.amazonaws.{aws.region}.s3", RouteTableIds=[rt], PolicyDocument=policy),
        dict(VpcId=vpc, ServiceName=f"com.amazonaws.{aws.region}.dynamodb", RouteTableIds=[rt])])
    return made, lambda pid: ec2.delete_vpc_endpoints(VpcEndpointIds=[pid])


def flow_logs(aws):
    ec2 = aws.client("ec2")
    aws.client("s3").create_bucket(Bucket="flow-logs",
                                   CreateBucketConfiguration={"LocationConstraint": aws.region})
    made = _make(aws, FlowLog, [dict(ResourceId=_vpc(ec2, f"10.{i}.0.0/16"), LogDestinationType="s3",
                                     LogDestination="arn:aws:s3:::flow-logs", TrafficType=t)
                                for i, t in enumerate(("ALL", "REJECT", "ACCEPT"))])
    return made, lambda pid: ec2.delete_flow_logs(FlowLogIds=[pid])


def metric_alarms(aws):
    cw = aws.client("cloudwatch")
    made = _make(aws, MetricAlarm, [dict(MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
                                         Period=60 * (i + 1), EvaluationPeriods=i + 1, Threshold=80 + i,
                                         ComparisonOperator="GreaterThanThreshold",
                                         AlarmDescription=f"alarm {i}" if i else None)
                                    for i in range(3)], stack="observability")
    return made, lambda name: cw.delete_alarms(AlarmNames=[name])


TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"}]}


def roles(aws):
    iam = aws.client("iam")
    made = _make(aws, Role, [
        dict(AssumeRolePolicyDocument=TRUST, InlinePolicies={"read": READ, "more": READ}, Description="with inline",
             ManagedPolicyArns=["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"], MaxSessionDuration=7200),
        dict(AssumeRolePolicyDocument=TRUST, RoleName="genai-demo-test-named", Path="/svc/"),
        dict(AssumeRolePolicyDocument=TRUST, InlinePolicies={"read": READ})])

    def remove(name: str) -> None:
        for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=p)
        iam.delete_role(RoleName=name)

    return made, remove


def parameters(aws):
    ssm = aws.client("ssm")
    made = _make(aws, Parameter, [dict(Name="app/plain", Value="v1", Description="plain text"),
                                  dict(Name="app/secret", Value="s3cret", Type="SecureString"),
                                  dict(Name="app/list", Value="a,b", Type="StringList")], stack="config")
    return made, lambda name: ssm.delete_parameter(Name=name)


def xray_groups(aws):
    xray = aws.client("xray")
    made = _make(aws, Group, [dict(FilterExpression=f'service("svc-{i}")') for i in range(3)], stack="observability")
    return made, lambda name: xray.delete_group(GroupName=name)


def sampling_rules(aws):
    xray = aws.client("xray")
    made = _make(aws, SamplingRule, [dict(Priority=100 + i, FixedRate=0.1 * (i + 1), ReservoirSize=i, ServiceName=f"s{i}")
                                     for i in range(3)], stack="observability")
    return made, lambda name: xray.delete_sampling_rule(RuleName=name)


BUILDERS = [subnets, internet_gateways, eips, nat_gateways, route_tables, routes, route_table_associations,
            security_groups, security_group_rules, network_acls, network_acl_entries, vpc_endpoints, flow_logs,
            metric_alarms, roles, parameters, xray_groups, sampling_rules]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_read_many_equals_read_in_fewer_calls(aws, build: Builder):
    made, remove = build(aws)
    cls = type(made[0][0])
    assert cls.read_many.__func__ is not Resource.read_many.__func__, f"{cls.type_name} does not batch"
    log = CallLog()
    aws.clients.add_hook("before-call", log)

    def one_each() -> dict[str, Any]:
        return {pid: r.read(ctx, pid) for r, ctx, pid in made}

    single = one_each()
    singles = len(log.calls)
    assert all(v is not None for v in single.values())
    log.calls.clear()
    assert cls.read_many(made) == single
    assert 0 < len(log.calls) < min(singles, len(made)), (cls.type_name, log.calls)

    gone = made[-1][2]
    remove(gone)
    after = one_each()
    assert after[gone] is None and all(after[pid] == single[pid] for _, _, pid in made[:-1])
    assert cls.read_many(made) == after
    assert cls.read_many([]) == {}
