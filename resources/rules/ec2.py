"""Rules on VPCs, subnets, security groups and network ACLs (checkov, trivy and FSBP equivalents named)."""

from __future__ import annotations

from collections.abc import Iterator

from resources.policy import Subject, rule

ANYWHERE = ("0.0.0.0/0", "::/0")
ADMIN_PORTS = {20: "FTP data", 21: "FTP", 22: "SSH", 3389: "RDP"}


def _ports(s: Subject) -> tuple[int, int]:
    if s.type == "ec2.NetworkAclEntry":
        pr = s.get("PortRange") or {}
        if str(s.get("Protocol")) in ("-1", "all"):
            return 0, 65535
        return int(pr.get("From", 0)), int(pr.get("To", 65535))
    if str(s.get("IpProtocol")) in ("-1", "all"):
        return 0, 65535
    return int(s.get("FromPort", 0)), int(s.get("ToPort", 65535))


def open_ingress(s: Subject) -> bool:
    if s.type == "ec2.NetworkAclEntry":
        return not s.get("Egress") and s.get("RuleAction") == "allow" and s.get("CidrBlock") in ANYWHERE
    return s.get("Direction") == "ingress" and s.get("CidrIp") in ANYWHERE


@rule("ec2.vpc-flow-logs", "medium", "Every VPC has a flow log", ["ec2.Vpc"],
      equivalents=["CKV2_AWS_11", "FSBP EC2.6", "AVD-AWS-0178"], graph=True)
def vpc_flow_logs(s: Subject) -> Iterator[str]:
    if not any(s.target(f.get("ResourceId")) is s.resource for f in s.of_type("ec2.FlowLog")):
        yield "no ec2.FlowLog records this VPC's traffic"


@rule("ec2.subnet-no-public-ip", "medium", "Subnets do not assign public IPs on launch", ["ec2.Subnet"],
      equivalents=["CKV_AWS_130", "FSBP EC2.15", "AVD-AWS-0164"],
      fails={"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24", "AvailabilityZone": "ap-east-2a",
             "MapPublicIpOnLaunch": True},
      passes={"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24", "AvailabilityZone": "ap-east-2a"})
def subnet_public_ip(s: Subject) -> Iterator[str]:
    if s.get("MapPublicIpOnLaunch"):
        yield "MapPublicIpOnLaunch is true: every instance launched here gets a public address"


@rule("ec2.nacl-no-admin-ports-from-anywhere", "medium",
      "Network ACLs admit no FTP, SSH or RDP from 0.0.0.0/0", ["ec2.NetworkAclEntry"],
      equivalents=["CKV_AWS_229", "CKV_AWS_230", "CKV_AWS_231", "CKV_AWS_232", "FSBP EC2.21", "AVD-AWS-0105"],
      fails={"NetworkAclId": "acl-1", "RuleNumber": 100, "Protocol": "6", "RuleAction": "allow",
             "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 1024, "To": 65535}},
      passes={"NetworkAclId": "acl-1", "RuleNumber": 100, "Protocol": "6", "RuleAction": "allow",
              "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 443, "To": 443}})
def nacl_admin(s: Subject) -> Iterator[str]:
    if open_ingress(s):
        lo, hi = _ports(s)
        hit = [f"{p} ({n})" for p, n in ADMIN_PORTS.items() if lo <= p <= hi]
        if hit:
            yield f"allows {lo}-{hi} from {s.get('CidrBlock')}, which includes {', '.join(hit)}"


@rule("ec2.sg-rule-description", "low", "Every security group rule says what it is for",
      ["ec2.SecurityGroupRule"], equivalents=["CKV_AWS_23", "AVD-AWS-0124"],
      fails={"GroupId": "sg-1", "Direction": "ingress", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "CidrIp": "10.0.0.0/8"},
      passes={"GroupId": "sg-1", "Direction": "ingress", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
              "CidrIp": "10.0.0.0/8", "Description": "HTTPS from the VPC"})
def sg_rule_description(s: Subject) -> Iterator[str]:
    if not s.get("Description"):
        yield "the rule has no Description"


@rule("ec2.sg-no-admin-ports-from-anywhere", "critical", "No security group admits SSH or RDP from anywhere",
      ["ec2.SecurityGroupRule"], equivalents=["CKV_AWS_24", "CKV_AWS_25", "FSBP EC2.13", "FSBP EC2.14",
                                              "FSBP EC2.19", "AVD-AWS-0107"],
      fails={"GroupId": "sg-1", "Direction": "ingress", "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "CidrIp": "0.0.0.0/0", "Description": "ssh"},
      passes={"GroupId": "sg-1", "Direction": "ingress", "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
              "CidrIp": "10.0.0.0/8", "Description": "ssh from the VPN"})
def sg_admin(s: Subject) -> Iterator[str]:
    if open_ingress(s):
        lo, hi = _ports(s)
        hit = [f"{p} ({n})" for p, n in ADMIN_PORTS.items() if p in (22, 3389) and lo <= p <= hi]
        if hit:
            yield f"admits {', '.join(hit)} from {s.get('CidrIp')}"


@rule("ec2.sg-no-all-ports-from-anywhere", "critical", "No security group admits every port from anywhere",
      ["ec2.SecurityGroupRule"], equivalents=["CKV_AWS_277", "FSBP EC2.18"],
      fails={"GroupId": "sg-1", "Direction": "ingress", "IpProtocol": "-1", "CidrIp": "0.0.0.0/0",
             "Description": "all"},
      passes={"GroupId": "sg-1", "Direction": "ingress", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
              "CidrIp": "0.0.0.0/0", "Description": "HTTPS"})
def sg_all_ports(s: Subject) -> Iterator[str]:
    if open_ingress(s):
        lo, hi = _ports(s)
        if (lo, hi) == (0, 65535) or hi - lo >= 1000:
            yield f"admits ports {lo}-{hi} from {s.get('CidrIp')}"


@rule("ec2.sg-no-http-from-anywhere", "medium", "No security group admits plain HTTP (80) from anywhere",
      ["ec2.SecurityGroupRule"], equivalents=["CKV_AWS_260"],
      fails={"GroupId": "sg-1", "Direction": "ingress", "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
             "CidrIp": "0.0.0.0/0", "Description": "http"},
      passes={"GroupId": "sg-1", "Direction": "ingress", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
              "CidrIp": "0.0.0.0/0", "Description": "https"})
def sg_http(s: Subject) -> Iterator[str]:
    if open_ingress(s):
        lo, hi = _ports(s)
        if lo <= 80 <= hi:
            yield f"admits port 80 from {s.get('CidrIp')}"


@rule("ec2.sg-no-open-egress", "medium", "Security groups do not keep AWS's allow-all egress",
      ["ec2.SecurityGroup"], equivalents=["CKV_AWS_382", "AVD-AWS-0104"],
      fails={"VpcId": "vpc-1", "RevokeDefaultEgress": False},
      passes={"VpcId": "vpc-1", "RevokeDefaultEgress": True})
def sg_open_egress(s: Subject) -> Iterator[str]:
    if not s.get("RevokeDefaultEgress"):
        yield "keeps the default egress rule: all protocols and ports to 0.0.0.0/0"


@rule("ec2.sg-description", "low", "Every security group says what it is for", ["ec2.SecurityGroup"],
      equivalents=["CKV_AWS_23", "AVD-AWS-0099"],
      fails={"VpcId": "vpc-1", "Description": "Managed by genai-infra", "RevokeDefaultEgress": True},
      passes={"VpcId": "vpc-1", "Description": "Database: PostgreSQL from the app", "RevokeDefaultEgress": True})
def sg_description(s: Subject) -> Iterator[str]:
    # The type's default description says who made the group, not what it admits.
    if not s.get("Description") or s.get("Description") == "Managed by genai-infra":
        yield "the group has no Description of its own"


@rule("ec2.nacl-attached", "low", "Every network ACL is attached to subnets", ["ec2.NetworkAcl"],
      equivalents=["CKV2_AWS_1"], fails={"VpcId": "vpc-1"}, passes={"VpcId": "vpc-1", "SubnetIds": ["subnet-1"]})
def nacl_attached(s: Subject) -> Iterator[str]:
    if not s.get("SubnetIds"):
        yield "no SubnetIds: the ACL filters nothing"


@rule("ec2.nacl-ingress-names-ports", "low", "Network ACL allow entries name a protocol and port range",
      ["ec2.NetworkAclEntry"], equivalents=["CKV_AWS_352", "AVD-AWS-0102"],
      fails={"NetworkAclId": "acl-1", "RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow",
             "CidrBlock": "10.0.1.0/24"},
      passes={"NetworkAclId": "acl-1", "RuleNumber": 100, "Protocol": "-1", "RuleAction": "deny",
              "CidrBlock": "10.0.1.0/24"})
def nacl_all_protocols(s: Subject) -> Iterator[str]:
    # A deny of everything is what a deny is for (checkov flags it too: a false positive not kept here).
    if s.get("RuleAction") == "allow" and str(s.get("Protocol")) in ("-1", "all"):
        yield f"allows every protocol and port {'to' if s.get('Egress') else 'from'} {s.get('CidrBlock')}"


@rule("ec2.sg-attached", "low", "Every security group is attached to something", ["ec2.SecurityGroup"],
      equivalents=["CKV2_AWS_5"], graph=True)
def sg_attached(s: Subject) -> Iterator[str]:
    users = [r for r in s.referrers(*{r.type_name for r in s.everything.values()} - {"ec2.SecurityGroupRule"})
             if r.resource is not s.resource]
    if not users:
        yield "no resource of the plan uses this group"


@rule("ec2.eip-attached", "low", "Every Elastic IP is attached", ["ec2.Eip"], equivalents=["CKV2_AWS_19"],
      graph=True)
def eip_attached(s: Subject) -> Iterator[str]:
    if not list(s.referrers("ec2.NatGateway")):
        yield "no NAT gateway uses this address: an idle EIP is billed and an unowned public address"


@rule("ec2.default-sg-restricted", "medium", "Every VPC's default security group admits and sends nothing",
      ["ec2.Vpc"], equivalents=["CKV2_AWS_12", "FSBP EC2.2", "AVD-AWS-0173"],
      fails={"CidrBlock": "10.0.0.0/16"}, passes={"CidrBlock": "10.0.0.0/16", "RestrictDefaultSecurityGroup": True})
def default_sg_restricted(s: Subject) -> Iterator[str]:
    if not s.get("RestrictDefaultSecurityGroup"):
        yield ("the default security group keeps AWS's rules (all from itself, all egress): anything launched "
               "without a group lands in it")


@rule("ec2.vpc-endpoint-ec2", "low", "VPCs reach the EC2 API through an interface endpoint", ["ec2.Vpc"],
      equivalents=["FSBP EC2.10"], graph=True)
def vpc_ec2_endpoint(s: Subject) -> Iterator[str]:
    # The nodes' VPC CNI and every ENI-making service call the EC2 API; without the endpoint those calls leave
    # through the NAT gateway to the public endpoint. FSBP checks the VPC for a com.amazonaws.<region>.ec2 one.
    if not any(s.target(e.get("VpcId")) is s.resource and str(e.get("ServiceName", "")).endswith(".ec2")
               and e.get("VpcEndpointType") == "Interface" for e in s.of_type("ec2.VpcEndpoint")):
        yield "no interface VPC endpoint for com.amazonaws.<region>.ec2: EC2 API calls go out through the NAT"
