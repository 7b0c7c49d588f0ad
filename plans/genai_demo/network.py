"""Network layer of the main stack: VPC, three subnet tiers over three AZs, egress, security groups.

Layout (inventory §2.1, without the unused transit tier):
  public   /20  MapPublicIpOnLaunch, default route to the internet gateway; ALB and NAT gateways
  private  /19  default route to a NAT gateway (the one in the same AZ, or the single dev NAT)
  database /22  local route only: data stores never reach the internet
One route table per subnet, so an AZ's egress can change without touching
the others. An S3 gateway endpoint sits on the private and database tables
(image layers, backups and the data lake stay off the NAT bill); production adds
an interface endpoint for the EC2 API in the private subnets (FSBP EC2.10).

Security groups, one per role, with rules as separate resources so groups
that refer to each other (alb -> app -> alb) never form a cycle:
  alb         443/80 from anywhere; egress only 8080 to app (upstream's ALB had
              no egress at all and could not reach its targets: defect 1)
  app         8080 from alb, all from itself; egress only to itself, 443 anywhere
              (AWS APIs, ECR, the Kubernetes API) and each data store's port. The
              node groups' launch templates put it on the nodes and their pods
              (compute.py), so the data-store rules below admit the workloads
              (defect 2); Fargate pods carry EKS's cluster security group, which
              compute.py adds to the same paths. DNS to the VPC resolver is never
              filtered by security groups; CoreDNS runs on the nodes (app to app)
  database    5432 from app          redis       6379 from app
  msk         9092/9094/9096/9098 from app (9098 is IAM auth, missing upstream)
  opensearch  443 from app
Every group loses AWS's default allow-all egress: the data stores and the ALB
only answer (security groups are stateful), the app says where it goes.

One network ACL per tier (NACL_ENTRIES): explicit entries, one explicit DENY
(below), everything else falls to the ACL's final deny. NACLs are stateless, so every allowed request
has its return entry (ephemeral 1024-65535, the NAT gateway's and Linux's
source ports both fall in it). Upstream associated a NACL without entries,
denying everything in the private tier (inventory §2.1).
  public    in  443/80 from anywhere (clients to the ALB; private hosts to the NAT)
            in  ephemeral from anywhere (returns to the NAT and to the ALB)
            out 8080 to the private tier (ALB to the app)
            out 443/80 to anywhere (the NAT forwarding the private tier's egress)
            out ephemeral to anywhere (responses to clients; the NAT's returns to private hosts)
  private   all to and from the private tier itself: EKS nodes, pods and control-plane
            ENIs, Redis (6379), MSK (9092-9098), OpenSearch and Firehose ENIs (443)
            all live in these subnets (data.py, observability.py, compute.py) and
            pod networking uses any port
            in  8080 from the public tier, then DENY everything else from it, then
            ephemeral from anywhere (returns through the NAT and from the database
            tier). Returns through the NAT carry the remote's address, never a public
            subnet's, so the deny costs nothing and keeps the internet-facing tier
            to the app port (the ephemeral range holds 6379, 9092-9098, 10250...)
            out 443/80 to anywhere, 5432 to the database tier, ephemeral to the public
            tier (responses to the ALB)
  database  in 5432 from the private tier, out ephemeral to the private tier; nothing else
Traffic to the VPC resolver, instance metadata and Time Sync is never filtered by NACLs.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from core.errors import PlanError
from orchestrator.model import Stack
from resources.ec2 import (
    Eip,
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
    Vpc,
    VpcEndpoint,
)

TIERS = ("public", "private", "database")
ALL_TRAFFIC = -1  # a rule's port: every protocol and port
AZ_LETTERS = "abcdef"
ANYWHERE = "0.0.0.0/0"

# Security groups: key -> (description, keep AWS's default allow-all egress).
SECURITY_GROUPS: dict[str, tuple[str, bool]] = {
    "alb": ("Internet-facing ALB: HTTPS/HTTP in, app port out", False),
    "app": ("EKS nodes and pods running the application", False),
    "database": ("Aurora PostgreSQL, reachable from the app only", False),
    "redis": ("ElastiCache Redis, reachable from the app only", False),
    "msk": ("MSK brokers, reachable from the app only", False),
    "opensearch": ("OpenSearch domain, reachable from the app only", False),
}

# Rules: (group, direction, port, peer, description). Peer is a CIDR or another group's key.
SG_RULES: list[tuple[str, str, int, str, str]] = [
    ("alb", "ingress", 443, ANYWHERE, "HTTPS from the internet"),
    ("alb", "ingress", 80, ANYWHERE, "HTTP from the internet (redirected to HTTPS)"),
    ("alb", "egress", 8080, "app", "ALB to application targets"),
    ("app", "ingress", 8080, "alb", "Application port from the ALB"),
    ("app", "ingress", ALL_TRAFFIC, "app", "Node to node and pod to pod"),
    ("app", "egress", ALL_TRAFFIC, "app", "Node to node and pod to pod (CoreDNS included)"),
    ("app", "egress", 443, ANYWHERE, "AWS APIs, ECR and the Kubernetes API (HTTPS)"),
    ("app", "egress", 5432, "database", "PostgreSQL"),
    ("app", "egress", 6379, "redis", "Redis"),
    ("app", "egress", 9098, "msk", "Kafka IAM auth"),
    ("app", "egress", 443, "opensearch", "OpenSearch HTTPS"),
    ("database", "ingress", 5432, "app", "PostgreSQL from the app"),
    ("redis", "ingress", 6379, "app", "Redis from the app"),
    ("msk", "ingress", 9092, "app", "Kafka plaintext from the app"),
    ("msk", "ingress", 9094, "app", "Kafka TLS from the app"),
    ("msk", "ingress", 9096, "app", "Kafka SASL/SCRAM from the app"),
    ("msk", "ingress", 9098, "app", "Kafka IAM auth from the app"),
    ("opensearch", "ingress", 443, "app", "OpenSearch HTTPS from the app"),
]

# Network ACL entries per tier: (rule number, egress, action, protocol, (from, to) or None for all ports, peer).
# The peer is ANYWHERE or a tier, which becomes one entry per subnet of that tier numbered rule, rule+1, ...
# (hence rule numbers in steps of 10, and at most 10 AZs). Protocol numbers: "6" tcp, "-1" all.
TCP, ALL = "6", "-1"
EPHEMERAL = (1024, 65535)
# Return traffic from anywhere, minus RDP (3389): an allow range from 0.0.0.0/0 that contains it fails
# CKV_AWS_231 / FSBP EC2.21 even though the security groups block it. 22 is below the range.
EPHEMERAL_LOW, EPHEMERAL_HIGH = (1024, 3388), (3390, 65535)
NACL_ENTRIES: dict[str, list[tuple[int, bool, str, str, tuple[int, int] | None, str]]] = {
    "public": [
        (100, False, "allow", TCP, (443, 443), ANYWHERE),
        (110, False, "allow", TCP, (80, 80), ANYWHERE),
        (120, False, "allow", TCP, EPHEMERAL_LOW, ANYWHERE),
        (130, False, "allow", TCP, EPHEMERAL_HIGH, ANYWHERE),
        (100, True, "allow", TCP, (8080, 8080), "private"),  # inside 130's range: kept explicit, ALB -> app
        (110, True, "allow", TCP, (443, 443), ANYWHERE),
        (120, True, "allow", TCP, (80, 80), ANYWHERE),
        (130, True, "allow", TCP, EPHEMERAL, ANYWHERE),
    ],
    "private": [
        (100, False, "allow", ALL, None, "private"),
        (110, False, "allow", TCP, (8080, 8080), "public"),
        (120, False, "deny", ALL, None, "public"),
        (130, False, "allow", TCP, EPHEMERAL_LOW, ANYWHERE),
        (140, False, "allow", TCP, EPHEMERAL_HIGH, ANYWHERE),
        (100, True, "allow", ALL, None, "private"),
        (110, True, "allow", TCP, (443, 443), ANYWHERE),
        (120, True, "allow", TCP, (80, 80), ANYWHERE),
        (130, True, "allow", TCP, (5432, 5432), "database"),
        (140, True, "allow", TCP, EPHEMERAL, "public"),
    ],
    "database": [
        (100, False, "allow", TCP, (5432, 5432), "private"),
        (100, True, "allow", TCP, EPHEMERAL, "private"),
    ],
}


def tier_cidrs(n: dict[str, Any]) -> dict[str, list[str]]:
    """Subnet CIDRs per tier from the profile: (first third octet, prefix, octet step per AZ).

    Checked here, before any AWS call: every subnet inside the VPC, none overlapping.
    """
    vpc = ipaddress.ip_network(n["vpc_cidr"])
    out: dict[str, list[str]] = {}
    for tier in TIERS:
        first, prefix, step = n["tiers"][tier]
        nets = []
        for i in range(n["azs"]):
            try:
                net = ipaddress.ip_network((int(vpc.network_address) + (first + i * step) * 256, prefix))
            except ValueError as exc:
                raise PlanError(f"network profile: {tier} subnet {i} is not a valid CIDR: {exc}") from None
            if not net.subnet_of(vpc):
                raise PlanError(f"network profile: {tier} subnet {net} lies outside the VPC {vpc}")
            nets.append(net)
        out[tier] = [str(x) for x in nets]
    every = [ipaddress.ip_network(c) for cs in out.values() for c in cs]
    for i, a in enumerate(every):
        for b in every[i + 1:]:
            if a.overlaps(b):
                raise PlanError(f"network profile: subnets {a} and {b} overlap")
    return out


def build(stack: Stack, p: dict[str, Any]) -> dict[str, Any]:
    n = p["network"]
    azs_count, nat_count = n["azs"], n["nat_gateways"]
    if not 1 <= azs_count <= len(AZ_LETTERS):
        raise PlanError(f"network profile: azs must be 1..{len(AZ_LETTERS)}, got {azs_count}")
    if not 1 <= nat_count <= azs_count:
        raise PlanError(f"network profile: nat_gateways must be 1..{azs_count} (one per AZ at most), got {nat_count}")
    letters = AZ_LETTERS[:azs_count]
    azs = [f"{p['region']}{x}" for x in letters]
    cidrs = tier_cidrs(n)

    vpc = stack.add(Vpc("vpc", CidrBlock=n["vpc_cidr"], EnableDnsSupport=True,
                        EnableDnsHostnames=n.get("dns_hostnames", True),
                        RestrictDefaultSecurityGroup=True))  # CKV2_AWS_12: nothing uses the default group
    vpc_id = vpc["VpcId"]
    igw = stack.add(InternetGateway("igw", VpcId=vpc_id))

    subnets: dict[str, list[Subnet]] = {}
    tables: dict[str, list[RouteTable]] = {}
    for tier in TIERS:
        subnets[tier], tables[tier] = [], []
        for x, az, block in zip(letters, azs, cidrs[tier], strict=True):
            sub = stack.add(Subnet(f"subnet_{tier}_{x}", VpcId=vpc_id, CidrBlock=block, AvailabilityZone=az,
                                   MapPublicIpOnLaunch=False))  # the ALB and NAT (EIP) need none: CKV_AWS_130
            rt = stack.add(RouteTable(f"rt_{tier}_{x}", VpcId=vpc_id))
            stack.add(RouteTableAssociation(f"rta_{tier}_{x}", RouteTableId=rt["RouteTableId"],
                                            SubnetId=sub["SubnetId"]))
            subnets[tier].append(sub)
            tables[tier].append(rt)

    public_routes = [
        stack.add(Route(f"route_public_{x}_default", RouteTableId=rt["RouteTableId"],
                        DestinationCidrBlock=ANYWHERE, GatewayId=igw["InternetGatewayId"]))
        for x, rt in zip(letters, tables["public"], strict=True)
    ]

    # NAT gateways in the first nat_count public subnets. A NAT needs the IGW
    # attached (AWS refuses otherwise) and is useless before its subnet's
    # default route exists, as CDK also orders it.
    nats: list[NatGateway] = []
    for i in range(nat_count):
        x = letters[i]
        eip = stack.add(Eip(f"eip_nat_{x}"))
        nats.append(stack.add(NatGateway(f"nat_{x}", SubnetId=subnets["public"][i]["SubnetId"],
                                         AllocationId=eip["AllocationId"], depends_on=[igw, public_routes[i]])))
    for i, (x, rt) in enumerate(zip(letters, tables["private"], strict=True)):
        nat = nats[i] if i < len(nats) else nats[0]
        stack.add(Route(f"route_private_{x}_default", RouteTableId=rt["RouteTableId"],
                        DestinationCidrBlock=ANYWHERE, NatGatewayId=nat["NatGatewayId"]))

    s3_endpoint = stack.add(VpcEndpoint(
        "s3_endpoint", VpcId=vpc_id, ServiceName=f"com.amazonaws.{p['region']}.s3", VpcEndpointType="Gateway",
        RouteTableIds=[rt["RouteTableId"] for rt in tables["private"] + tables["database"]]))

    groups = {
        key: stack.add(SecurityGroup(f"{key}_sg", VpcId=vpc_id, Description=desc,
                                     RevokeDefaultEgress=not keep_egress))
        for key, (desc, keep_egress) in SECURITY_GROUPS.items()
    }
    rules = []
    for key, direction, port, peer, desc in SG_RULES:
        where = "anywhere" if peer == ANYWHERE else peer
        peer_prop = {"CidrIp": peer} if peer == ANYWHERE else {"SourceSecurityGroupId": groups[peer]["GroupId"]}
        ports: dict[str, Any] = ({"IpProtocol": "-1"} if port == ALL_TRAFFIC
                                 else {"IpProtocol": "tcp", "FromPort": port, "ToPort": port})
        rules.append(stack.add(SecurityGroupRule(
            f"{key}_sg_{direction}_{'all' if port == ALL_TRAFFIC else port}_{where}", GroupId=groups[key]["GroupId"],
            Direction=direction, Description=desc, **ports, **peer_prop)))

    # Interface endpoints (FSBP EC2.10): the nodes' VPC CNI and the services that make ENIs call these APIs
    # from the private tier without going through the NAT. With private DNS (AWS's default) every host of the
    # VPC resolves the API's usual name to the endpoint's ENIs, so their group admits HTTPS from the whole VPC:
    # a host outside the app group (a Fargate pod carries EKS's cluster group) would otherwise lose the API.
    # Each endpoint is billed per AZ-hour, so the profile lists where they are worth it.
    interface_endpoints: dict[str, VpcEndpoint] = {}
    endpoint_sg = None
    if n.get("interface_endpoints"):
        endpoint_sg = stack.add(SecurityGroup("endpoints_sg", VpcId=vpc_id, RevokeDefaultEgress=True,
                                              Description="Interface VPC endpoints: HTTPS from the VPC"))
        rules.append(stack.add(SecurityGroupRule(
            "endpoints_sg_ingress_443_vpc", GroupId=endpoint_sg["GroupId"], Direction="ingress", IpProtocol="tcp",
            FromPort=443, ToPort=443, CidrIp=n["vpc_cidr"], Description="AWS API calls from the VPC")))
        for service in n["interface_endpoints"]:
            interface_endpoints[service] = stack.add(VpcEndpoint(
                f"{service}_endpoint", VpcId=vpc_id, ServiceName=f"com.amazonaws.{p['region']}.{service}",
                VpcEndpointType="Interface", SubnetIds=[s["SubnetId"] for s in subnets["private"]],
                SecurityGroupIds=[endpoint_sg["GroupId"]]))

    nacls: dict[str, NetworkAcl] = {}
    nacl_entries: list[NetworkAclEntry] = []
    for tier, entries in NACL_ENTRIES.items():
        acl = nacls[tier] = stack.add(NetworkAcl(f"nacl_{tier}", VpcId=vpc_id,
                                                 SubnetIds=[s["SubnetId"] for s in subnets[tier]]))
        for number, egress, action, protocol, ports, peer in entries:
            blocks = [ANYWHERE] if peer == ANYWHERE else cidrs[peer]
            for i, block in enumerate(blocks):
                ports_prop = {"PortRange": {"From": ports[0], "To": ports[1]}} if ports else {}
                nacl_entries.append(stack.add(NetworkAclEntry(
                    f"nacl_{tier}_{'egress' if egress else 'ingress'}_{number + i}",
                    NetworkAclId=acl["NetworkAclId"], RuleNumber=number + i, Protocol=protocol,
                    RuleAction=action, Egress=egress, CidrBlock=block, **ports_prop)))

    return {
        "vpc": vpc,
        "azs": azs,
        "igw": igw,
        "subnets": subnets,
        "route_tables": tables,
        "nat_gateways": nats,
        "s3_endpoint": s3_endpoint,
        "interface_endpoints": interface_endpoints,
        "endpoint_security_group": endpoint_sg,
        "security_groups": groups,
        "security_group_rules": rules,
        "network_acls": nacls,
        "network_acl_entries": nacl_entries,
    }
