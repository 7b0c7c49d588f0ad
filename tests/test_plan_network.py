"""The network layer at declaration level: counts, CIDRs, routing targets and security-group rules per env.

No AWS here: what the plan declares, and the refs that order it.
"""

import copy
import ipaddress

import pytest

import plans
from core.errors import PlanError
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
        "public": (["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"], False),  # the ALB and NAT need no auto IP
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
    # FSBP EC2.10: production reaches the EC2 API through an interface endpoint in the private subnets
    interface = {n: e.properties for n, e in _of(plan, "ec2.VpcEndpoint").items() if n != "s3_endpoint"}
    if env == "dev":
        assert interface == {}
        return
    [(name, ec2)] = interface.items()
    assert name == "ec2_endpoint" and ec2["ServiceName"] == "com.amazonaws.ap-east-2.ec2"
    assert ec2["VpcEndpointType"] == "Interface" and [_target(g) for g in ec2["SecurityGroupIds"]] == ["endpoints_sg"]
    assert sorted(_target(s) for s in ec2["SubnetIds"]) == [f"subnet_private_{x}" for x in "abc"]


def test_security_groups_and_rules(env_plan):
    env, plan = env_plan
    groups = _of(plan, "ec2.SecurityGroup")
    endpoints = {"endpoints_sg"} if env == "production" else set()  # the EC2 API's interface endpoint
    assert set(groups) == {f"{k}_sg" for k in ("alb", "app", "database", "redis", "msk", "opensearch")} | endpoints
    # No group keeps AWS's allow-all egress: the app says where it goes, everything else just answers.
    assert not [n for n, g in groups.items() if not g.properties["RevokeDefaultEgress"]]

    def peer(p):
        return p.get("CidrIp") or _target(p["SourceSecurityGroupId"])

    rules = {(_target(r.properties["GroupId"]), r.properties["Direction"], r.properties["IpProtocol"],
              r.properties.get("FromPort"), peer(r.properties))
             for r in _of(plan, "ec2.SecurityGroupRule").values()}
    cluster = "eks_cluster"  # its ClusterSecurityGroupId: what EKS gives the control plane and Fargate pods
    assert rules == {
        ("alb_sg", "ingress", "tcp", 443, "0.0.0.0/0"),
        ("alb_sg", "ingress", "tcp", 80, "0.0.0.0/0"),
        ("alb_sg", "egress", "tcp", 8080, "app_sg"),  # defect 1: the ALB can reach its targets
        ("alb_sg", "egress", "tcp", 8080, cluster),  # ... on the nodes and on Fargate
        ("app_sg", "ingress", "tcp", 8080, "alb_sg"),
        ("app_sg", "ingress", "-1", None, "app_sg"),
        ("app_sg", "egress", "-1", None, "app_sg"),
        ("app_sg", "egress", "tcp", 443, "0.0.0.0/0"),
        ("app_sg", "egress", "tcp", 5432, "database_sg"),
        ("app_sg", "egress", "tcp", 6379, "redis_sg"),
        ("app_sg", "egress", "tcp", 9098, "msk_sg"),
        ("app_sg", "egress", "tcp", 443, "opensearch_sg"),
        ("app_sg", "ingress", "tcp", 443, cluster),
        ("app_sg", "ingress", "tcp", 10250, cluster),
        ("app_sg", "ingress", "tcp", 53, cluster),
        ("app_sg", "ingress", "udp", 53, cluster),
        (cluster, "ingress", "tcp", 443, "app_sg"),
        (cluster, "ingress", "tcp", 8080, "alb_sg"),
        ("database_sg", "ingress", "tcp", 5432, "app_sg"),
        ("database_sg", "ingress", "tcp", 5432, cluster),
        ("redis_sg", "ingress", "tcp", 6379, "app_sg"),
        ("redis_sg", "ingress", "tcp", 6379, cluster),
        ("msk_sg", "ingress", "tcp", 9092, "app_sg"),
        ("msk_sg", "ingress", "tcp", 9094, "app_sg"),
        ("msk_sg", "ingress", "tcp", 9096, "app_sg"),
        ("msk_sg", "ingress", "tcp", 9098, "app_sg"),  # IAM auth, missing upstream
        ("msk_sg", "ingress", "tcp", 9098, cluster),
        ("opensearch_sg", "ingress", "tcp", 443, "app_sg"),
        ("opensearch_sg", "ingress", "tcp", 443, cluster),
    } | ({("endpoints_sg", "ingress", "tcp", 443, "10.0.0.0/16")} if endpoints else set())
    for r in _of(plan, "ec2.SecurityGroupRule").values():
        if r.properties["IpProtocol"] != "-1":
            assert r.properties["FromPort"] == r.properties["ToPort"]
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


# -- Network ACLs: every flow the architecture needs crosses them both ways, computed from the entries ----------

EPHEMERAL_SAMPLES = (1024, 32768, 60999, 65535)  # NAT gateway range ends, Linux's default range ends
INTERNET = ipaddress.ip_address("203.0.113.10")


class NaclModel:
    """Evaluates the plan's NACL entries as AWS does: per direction, lowest rule number first, first match
    decides, no match denies; traffic between two addresses of one subnet crosses no NACL."""

    def __init__(self, plan):
        self.by_name = {r.name: r for stack in plan.stacks.values() for r in stack}
        main = _of(plan, "ec2.Subnet")
        self.cidr = {n: ipaddress.ip_network(s.properties["CidrBlock"]) for n, s in main.items()}
        self.acl_of = {}
        for acl in _of(plan, "ec2.NetworkAcl").values():
            for ref in acl.properties["SubnetIds"]:
                assert _target(ref) not in self.acl_of, f"{_target(ref)} is associated twice"
                self.acl_of[_target(ref)] = acl.name
        self.entries = {}
        for e in _of(plan, "ec2.NetworkAclEntry").values():
            self.entries.setdefault(_target(e.properties["NetworkAclId"]), []).append(e.properties)

    def host(self, subnet):
        return self.cidr[subnet].network_address + 10

    def _decide(self, subnet, egress, peer, port):
        assert subnet in self.acl_of, f"{subnet} is left on the default NACL"
        rules = sorted((e for e in self.entries[self.acl_of[subnet]] if bool(e.get("Egress")) == egress),
                       key=lambda e: e["RuleNumber"])
        for e in rules:
            pr = e.get("PortRange")
            if peer in ipaddress.ip_network(e["CidrBlock"]) and e["Protocol"] in ("-1", "6") and \
                    (e["Protocol"] == "-1" or pr["From"] <= port <= pr["To"]):
                return e["RuleAction"] == "allow"
        return False

    def hop(self, src_subnet, dst_subnet, src_ip, dst_ip, port):
        """One TCP packet to `port` leaving src_subnet (None: the internet) and entering dst_subnet."""
        if src_subnet is not None and src_subnet == dst_subnet:
            return True
        return (src_subnet is None or self._decide(src_subnet, True, dst_ip, port)) and \
            (dst_subnet is None or self._decide(dst_subnet, False, src_ip, port))

    def connection(self, src, dst, port):
        """src/dst: subnet name or None (internet). Request and every sampled return port."""
        si = INTERNET if src is None else self.host(src)
        di = INTERNET if dst is None else self.host(dst)
        return self.hop(src, dst, si, di, port) and all(self.hop(dst, src, di, si, p) for p in EPHEMERAL_SAMPLES)

    def via_nat(self, src, nat_subnet, port):
        """src subnet -> NAT gateway in nat_subnet -> internet, and the answers back."""
        si, ni = self.host(src), self.host(nat_subnet) + 1
        out = self.hop(src, nat_subnet, si, INTERNET, port) and self.hop(nat_subnet, None, ni, INTERNET, port)
        back = all(self.hop(None, nat_subnet, INTERNET, ni, p) and self.hop(nat_subnet, src, INTERNET, si, p)
                   for p in EPHEMERAL_SAMPLES)
        return out and back

    # Placement, read from where the plan puts each component.
    def subnets(self, refs):
        return [_target(r) for r in refs]

    def placement(self):
        r = self.by_name
        return {
            "alb": self.subnets(r["alb"].properties["Subnets"]),
            "app": self.subnets(r["eks_cluster"].properties["ResourcesVpcConfig"]["SubnetIds"]),
            "db": self.subnets(r[_target(r["db"].properties["DBSubnetGroupName"])].properties["SubnetIds"]),
            "redis": self.subnets(r[_target(r["redis"].properties["CacheSubnetGroupName"])].properties["SubnetIds"]),
            "kafka": self.subnets(r["kafka"].properties["BrokerNodeGroupInfo"]["ClientSubnets"]),
            "opensearch": self.subnets(r["opensearch"].properties["VPCOptions"]["SubnetIds"]),
            "firehose": self.subnets(
                r["logs_opensearch_stream"].properties["ElasticsearchDestinationConfiguration"]
                ["VpcConfiguration"]["SubnetIds"]),
        }

    def nat_for(self, subnet):
        """The public subnet of the NAT gateway the subnet's default route points at."""
        rta = next(a for a in _of_all(self.by_name, "ec2.RouteTableAssociation")
                   if _target(a.properties["SubnetId"]) == subnet)
        rt = _target(rta.properties["RouteTableId"])
        route = next(x for x in _of_all(self.by_name, "ec2.Route") if _target(x.properties["RouteTableId"]) == rt
                     and x.properties["DestinationCidrBlock"] == "0.0.0.0/0")
        return _target(self.by_name[_target(route.properties["NatGatewayId"])].properties["SubnetId"])


def _of_all(by_name, type_name):
    return [r for r in by_name.values() if r.type_name == type_name]


# (flow, from, to, port): what the architecture needs, components as placed by the plan.
NEEDED_FLOWS = [
    ("clients -> ALB (HTTPS)", None, "alb", 443),
    ("clients -> ALB (HTTP redirect)", None, "alb", 80),
    ("ALB -> app", "alb", "app", 8080),
    ("app -> PostgreSQL", "app", "db", 5432),
    ("app -> Redis", "app", "redis", 6379),
    ("app -> MSK (IAM auth)", "app", "kafka", 9098),
    ("app -> MSK (TLS)", "app", "kafka", 9094),
    ("app -> OpenSearch", "app", "opensearch", 443),
    ("Firehose ENIs -> OpenSearch", "firehose", "opensearch", 443),
]

# Traffic nothing needs: the NACLs refuse it even where a security group would too.
REFUSED_FLOWS = [
    ("internet -> PostgreSQL", None, "db", 5432),
    # (internet -> app 8080 cannot be refused by a NACL: 8080 lies in the ephemeral range the NAT's returns
    # need. The private route tables, with no internet gateway route, are what keep it out.)
    ("internet -> app SSH", None, "app", 22),
    ("ALB tier -> PostgreSQL", "alb", "db", 5432),
    ("ALB tier -> Redis", "alb", "redis", 6379),  # in the ephemeral range: refused by the private tier's DENY
    ("ALB tier -> MSK", "alb", "kafka", 9098),
    ("ALB tier -> kubelet", "alb", "app", 10250),
    ("database tier -> internet", "db", None, 443),
    ("app -> database tier, not PostgreSQL", "app", "db", 6379),
    # (database -> app on a port above 1023 looks like a PostgreSQL answer to a stateless ACL; the
    # database security group, which only answers, is what stops it.)
    ("database tier -> app, privileged port", "db", "app", 443),
]


def _endpoints(where, key):
    return [None] if key is None else where[key]


def test_nacls_admit_every_needed_flow_both_ways(env_plan):
    _, plan = env_plan
    m = NaclModel(plan)
    assert set(m.acl_of) == set(m.cidr)  # every subnet on its tier's ACL, none on the default
    assert {acl for s, acl in m.acl_of.items()} == {"nacl_public", "nacl_private", "nacl_database"}
    assert all(m.acl_of[s] == f"nacl_{s.split('_')[1]}" for s in m.cidr)
    where = m.placement()
    assert where["db"] and all(s.startswith("subnet_database_") for s in where["db"])
    for flow, src, dst, port in NEEDED_FLOWS:
        for a in _endpoints(where, src):
            for b in _endpoints(where, dst):
                assert m.connection(a, b, port), f"{flow}: {a} -> {b}:{port} or its return is refused"
    for a in where["app"]:  # egress through the NAT gateway the subnet routes to
        for port in (443, 80):
            assert m.via_nat(a, m.nat_for(a), port), f"app egress {a} -> NAT {m.nat_for(a)} :{port}"
    for flow, src, dst, port in REFUSED_FLOWS:
        for a in _endpoints(where, src):
            for b in _endpoints(where, dst):
                if a != b:
                    assert not m.hop(a, b, INTERNET if a is None else m.host(a), INTERNET if b is None else m.host(b),
                                     port), f"{flow}: {a} -> {b}:{port} is admitted"


def test_nacl_entries_are_explicit_and_numbered_in_steps(env_plan):
    _, plan = env_plan
    m = NaclModel(plan)
    denies = [(acl, e["Egress"], e["CidrBlock"]) for acl, es in m.entries.items() for e in es
              if e["RuleAction"] == "deny"]
    assert sorted(denies) == [("nacl_private", False, str(m.cidr[f"subnet_public_{x}"])) for x in "abc"]
    for acl, entries in m.entries.items():
        for egress in (False, True):
            numbers = [e["RuleNumber"] for e in entries if bool(e.get("Egress")) == egress]
            assert numbers and len(numbers) == len(set(numbers)), (acl, egress)
            # Rows in steps of 10, a row's per-subnet entries at +0, +1, +2 (one per AZ).
            assert all(n % 10 < 3 for n in numbers), (acl, egress, numbers)
    # The database tier talks to the private tier only, in both directions.
    db_peers = {e["CidrBlock"] for e in m.entries["nacl_database"]}
    assert db_peers == {str(m.cidr[f"subnet_private_{x}"]) for x in "abc"}
