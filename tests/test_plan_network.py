"""The network layer at declaration level: counts, CIDRs, routing targets and security-group rules per env.

No AWS here: what the plan declares, and the refs that order it.
"""

import copy
import ipaddress

import pytest

import plans
from orchestrator.errors import PlanError
from orchestrator.graph import build_graph
from orchestrator.model import Stack
from plans.genai_demo import network
from plans.genai_demo.profiles import profile
from resources.base import Ref


def _of(plan, type_name):
    return {r.name: r for r in plan.stacks["main"] if r.type_name == type_name}


def _target(value):
    assert isinstance(value, Ref), value
    return value.resource.name


@pytest.fixture(params=["dev", "production"])
def env_plan(request):
    return request.param, plans.load("genai_demo", request.param)


def test_vpc_and_subnets(env_plan):
    env, plan = env_plan
    vpc = _of(plan, "ec2.Vpc")["vpc"]
    assert vpc.properties["CidrBlock"] == "10.0.0.0/16"
    assert vpc.properties["EnableDnsSupport"] and vpc.properties["EnableDnsHostnames"]
    subnets = _of(plan, "ec2.Subnet")
    assert len(subnets) == 9
    want = {
        "public": (["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"], True),
        "private": (["10.0.64.0/19", "10.0.96.0/19", "10.0.128.0/19"], False),
        "database": (["10.0.160.0/22", "10.0.164.0/22", "10.0.168.0/22"], False),
    }
    for tier, (cidrs, public) in want.items():
        for x, block in zip("abc", cidrs, strict=True):
            s = subnets[f"subnet_{tier}_{x}"].properties
            assert (s["CidrBlock"], s["AvailabilityZone"], s["MapPublicIpOnLaunch"]) == \
                (block, f"ap-east-2{x}", public)
            assert _target(s["VpcId"]) == "vpc"
    blocks = [ipaddress.ip_network(s.properties["CidrBlock"]) for s in subnets.values()]
    assert all(b.subnet_of(ipaddress.ip_network("10.0.0.0/16")) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])


def test_routing(env_plan):
    env, plan = env_plan
    nats, eips = _of(plan, "ec2.NatGateway"), _of(plan, "ec2.Eip")
    expected_nats = {"dev": 1, "production": 3}[env]
    assert len(nats) == len(eips) == expected_nats
    for x, nat in zip("abc", nats.values(), strict=False):
        assert _target(nat.properties["SubnetId"]) == f"subnet_public_{x}"
        assert _target(nat.properties["AllocationId"]) == f"eip_nat_{x}"
        assert {d.name for d in nat.depends_on} == {"igw", f"route_public_{x}_default"}

    igw = _of(plan, "ec2.InternetGateway")["igw"]
    assert _target(igw.properties["VpcId"]) == "vpc"
    tables, assocs = _of(plan, "ec2.RouteTable"), _of(plan, "ec2.RouteTableAssociation")
    assert len(tables) == len(assocs) == 9  # one table per subnet
    for name, a in assocs.items():
        suffix = name.removeprefix("rta_")
        assert (_target(a.properties["RouteTableId"]), _target(a.properties["SubnetId"])) == \
            (f"rt_{suffix}", f"subnet_{suffix}")

    routes = _of(plan, "ec2.Route")
    assert len(routes) == 6  # database tables keep only the local route
    for x in "abc":
        pub = routes[f"route_public_{x}_default"].properties
        assert (_target(pub["RouteTableId"]), pub["DestinationCidrBlock"], _target(pub["GatewayId"])) == \
            (f"rt_public_{x}", "0.0.0.0/0", "igw")
        priv = routes[f"route_private_{x}_default"].properties
        same_az_nat = f"nat_{x}" if env == "production" else "nat_a"
        assert (_target(priv["RouteTableId"]), _target(priv["NatGatewayId"])) == (f"rt_private_{x}", same_az_nat)
    assert not any("database" in name for name in routes)

    ep = _of(plan, "ec2.VpcEndpoint")["s3_endpoint"].properties
    assert ep["ServiceName"] == "com.amazonaws.ap-east-2.s3" and ep["VpcEndpointType"] == "Gateway"
    assert sorted(_target(r) for r in ep["RouteTableIds"]) == \
        sorted(f"rt_{t}_{x}" for t in ("private", "database") for x in "abc")


def test_security_groups_and_rules(env_plan):
    _, plan = env_plan
    groups = _of(plan, "ec2.SecurityGroup")
    assert set(groups) == {f"{k}_sg" for k in ("alb", "app", "database", "redis", "msk", "opensearch")}
    # Only the app initiates traffic to anywhere; everything else just answers.
    assert {n for n, g in groups.items() if not g.properties["RevokeDefaultEgress"]} == {"app_sg"}

    def peer(p):
        return p.get("CidrIp") or _target(p["SourceSecurityGroupId"])

    rules = {(_target(r.properties["GroupId"]), r.properties["Direction"], r.properties["FromPort"], peer(r.properties))
             for r in _of(plan, "ec2.SecurityGroupRule").values()}
    assert rules == {
        ("alb_sg", "ingress", 443, "0.0.0.0/0"),
        ("alb_sg", "ingress", 80, "0.0.0.0/0"),
        ("alb_sg", "egress", 8080, "app_sg"),  # defect 1: the ALB can reach its targets
        ("app_sg", "ingress", 8080, "alb_sg"),
        ("database_sg", "ingress", 5432, "app_sg"),
        ("redis_sg", "ingress", 6379, "app_sg"),
        ("msk_sg", "ingress", 9092, "app_sg"),
        ("msk_sg", "ingress", 9094, "app_sg"),
        ("msk_sg", "ingress", 9096, "app_sg"),
        ("msk_sg", "ingress", 9098, "app_sg"),  # IAM auth, missing upstream
        ("opensearch_sg", "ingress", 443, "app_sg"),
    }
    for r in _of(plan, "ec2.SecurityGroupRule").values():
        assert r.properties["IpProtocol"] == "tcp" and r.properties["FromPort"] == r.properties["ToPort"]
        assert r.properties.get("Description")


def test_returned_net_shape():
    stack = Stack("main")
    net = network.build(stack, profile("production"))
    assert net["vpc"].name == "vpc" and net["igw"].name == "igw"
    assert {t: [s.name for s in subs] for t, subs in net["subnets"].items()} == \
        {t: [f"subnet_{t}_{x}" for x in "abc"] for t in ("public", "private", "database")}
    assert set(net["security_groups"]) == {"alb", "app", "database", "redis", "msk", "opensearch"}
    assert [n.name for n in net["nat_gateways"]] == ["nat_a", "nat_b", "nat_c"]
    assert net["azs"] == ["ap-east-2a", "ap-east-2b", "ap-east-2c"]
    assert {t: len(v) for t, v in net["route_tables"].items()} == {"public": 3, "private": 3, "database": 3}


def test_graph_orders_the_network(env_plan):
    _, plan = env_plan
    g, _ = build_graph(plan)
    assert g.has_edge("main.vpc", "main.subnet_private_a")
    assert g.has_edge("main.igw", "main.nat_a") and g.has_edge("main.route_public_a_default", "main.nat_a")
    assert g.has_edge("main.nat_a", "main.route_private_b_default") or \
        g.has_edge("main.nat_b", "main.route_private_b_default")
    # Mutual references between groups go through rules, so the groups form no cycle.
    assert g.has_edge("main.app_sg", "main.alb_sg_egress_8080_app") and \
        g.has_edge("main.alb_sg", "main.app_sg_ingress_8080_alb")


@pytest.mark.parametrize("change, message", [
    ({"nat_gateways": 4}, "nat_gateways must be 1..3"),
    ({"nat_gateways": 0}, "nat_gateways must be 1..3"),
    ({"tiers": {"public": (0, 20, 16), "private": (64, 19, 32), "database": (0, 22, 4)}}, "overlap"),
    ({"vpc_cidr": "10.0.0.0/17"}, "outside the VPC"),
])
def test_bad_network_profile_is_a_plan_error(change, message):
    p = copy.deepcopy(profile("dev"))
    p["network"].update(change)
    with pytest.raises(PlanError, match=message):
        network.build(Stack("main"), p)
