"""Issue 14's must-show: after a production apply on the strict sandbox, the workloads reach what they need.

Everything here is read back through boto3, as EC2, EKS, ELB, RDS, ElastiCache, MSK and OpenSearch
describe it, never from the plan: which security groups the node and Fargate pod network interfaces carry
(what EKS gave them: sandbox rule eks-workload-security-groups), which groups each data store and the ALB
carry, and the rules of all of them. A path is admitted when the source's groups let the packet out (an
egress rule naming a destination group or a CIDR holding its address) and the destination's groups let it
in (likewise); security groups are stateful, so the answer needs no rule.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ENV = "production"
ANYWHERE = ("0.0.0.0/0", "::/0")


class Groups:
    """The VPC's security group rules as EC2 describes them, and the question: is this path admitted?"""

    def __init__(self, ec2: Any, vpc_id: str) -> None:
        self.ids = [g["GroupId"] for g in ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]]
        pages = ec2.get_paginator("describe_security_group_rules").paginate(
            Filters=[{"Name": "group-id", "Values": self.ids}])
        self.rules = [r for page in pages for r in page["SecurityGroupRules"]]

    @staticmethod
    def _covers(rule: dict[str, Any], proto: str, port: int) -> bool:
        if rule["IpProtocol"] == "-1":
            return True
        return rule["IpProtocol"] == proto and rule["FromPort"] <= port <= rule["ToPort"]

    @staticmethod
    def _peer(rule: dict[str, Any], groups: set[str], ip: str) -> bool:
        ref = (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
        if ref:
            return ref in groups
        block = rule.get("CidrIpv4")
        return bool(block) and ipaddress.ip_address(ip) in ipaddress.ip_network(block)

    def admitted(self, src: tuple[set[str], str], dst: tuple[set[str], str], port: int, proto: str = "tcp") -> bool:
        (sg_from, ip_from), (sg_to, ip_to) = src, dst
        # A source outside AWS (no groups) sends what it likes; only the destination's groups judge it.
        out = not sg_from or any(r["IsEgress"] and r["GroupId"] in sg_from and self._covers(r, proto, port)
                                 and self._peer(r, sg_to, ip_to) for r in self.rules)
        into = any(not r["IsEgress"] and r["GroupId"] in sg_to and self._covers(r, proto, port)
                   and self._peer(r, sg_from, ip_from) for r in self.rules)
        return out and into


def _enis(ec2: Any, **filters: list[str]) -> list[dict[str, Any]]:
    return ec2.describe_network_interfaces(Filters=[{"Name": k, "Values": v} for k, v in filters.items()])[
        "NetworkInterfaces"]


def _ends(enis: list[dict[str, Any]]) -> list[tuple[set[str], str]]:
    """(its groups, its address) per interface: what a packet from or to it is judged by."""
    return [({g["GroupId"] for g in e["Groups"]}, e["PrivateIpAddress"]) for e in enis]


def _workloads(infra_sandbox: Any) -> tuple[list[tuple[set[str], str]], list[tuple[set[str], str]], str]:
    """The interfaces of the EKS nodes and of the Fargate pods, from EKS and EC2, and the VPC id."""
    eks, ec2 = infra_sandbox.client("eks"), infra_sandbox.client("ec2")
    (cluster,) = eks.list_clusters()["clusters"]
    vpc_id = eks.describe_cluster(name=cluster)["cluster"]["resourcesVpcConfig"]["vpcId"]
    nodes = [i["InstanceId"] for r in ec2.describe_instances(Filters=[
        {"Name": "tag:eks:cluster-name", "Values": [cluster]},
        {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"] for i in r["Instances"]]
    assert len(nodes) == 2, nodes  # production's node group: 2 desired
    node_enis = _enis(ec2, **{"attachment.instance-id": nodes})
    pod_enis = _enis(ec2, **{"tag:eks:cluster-name": [cluster], "tag-key": ["eks:fargate-profile"]})
    assert node_enis and pod_enis
    return _ends(node_enis), _ends(pod_enis), vpc_id


def _data_stores(infra_sandbox: Any) -> dict[str, tuple[set[str], int]]:
    """name -> (its security groups, its port), as each service describes itself."""
    c = infra_sandbox.client
    (db,) = [d for d in c("rds").describe_db_instances()["DBInstances"] if d.get("ReadReplicaSourceDBInstanceIdentifier")
             is None]
    out = {"postgres": ({g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]}, db["Endpoint"]["Port"])}
    (rg,) = c("elasticache").describe_replication_groups()["ReplicationGroups"]
    member = c("elasticache").describe_cache_clusters(CacheClusterId=rg["MemberClusters"][0])["CacheClusters"][0]
    endpoint = rg.get("ConfigurationEndpoint") or rg["NodeGroups"][0]["PrimaryEndpoint"]
    out["redis"] = ({g["SecurityGroupId"] for g in member["SecurityGroups"]}, endpoint["Port"])
    (msk,) = c("kafka").list_clusters_v2()["ClusterInfoList"]
    brokers = c("kafka").get_bootstrap_brokers(ClusterArn=msk["ClusterArn"])["BootstrapBrokerStringSaslIam"]
    out["kafka"] = (set(msk["Provisioned"]["BrokerNodeGroupInfo"]["SecurityGroups"]),
                    int(brokers.split(",")[0].rsplit(":", 1)[1]))
    (name,) = [d["DomainName"] for d in c("opensearch").list_domain_names()["DomainNames"]]
    domain = c("opensearch").describe_domain(DomainName=name)["DomainStatus"]
    out["opensearch"] = (set(domain["VPCOptions"]["SecurityGroupIds"]), 443)
    return out


def test_production_workloads_reach_their_data_stores_and_the_alb_reaches_them(infra_sandbox):
    # Every rule on, with short windows: what this test is about is where the apply ends, not its retries.
    for rule in ("ec2-consistency", "iam-propagation", "dynamodb-pitr-new-table", "waf-unavailable-entity"):
        infra_sandbox.rules.configure(rule, seconds=0.2)
    applied = infra_sandbox.apply("genai_demo", env=ENV, stacks=("main", "observability"))
    assert applied.ok, applied.summary()
    ec2 = infra_sandbox.client("ec2")
    nodes, pods, vpc_id = _workloads(infra_sandbox)
    groups = Groups(ec2, vpc_id)

    for store, (store_groups, port) in _data_stores(infra_sandbox).items():
        enis = _enis(ec2, **{"group-id": sorted(store_groups)})
        assert enis, f"{store}: no interface carries its groups"
        for dst in _ends(enis):
            for kind, srcs in (("node", nodes), ("Fargate pod", pods)):
                for src in srcs:
                    assert groups.admitted(src, dst, port), f"{kind} {src} -> {store} {dst}:{port} refused"
                    assert not groups.admitted(src, dst, 22), f"{kind} -> {store}:22 admitted"

    (alb,) = infra_sandbox.client("elbv2").describe_load_balancers()["LoadBalancers"]
    alb_ends = _ends(_enis(ec2, **{"group-id": alb["SecurityGroups"]}))
    target_ports = {tg["Port"] for tg in infra_sandbox.client("elbv2").describe_target_groups()["TargetGroups"]}
    assert alb_ends and target_ports
    for port in target_ports:  # targets are pod IPs: on the nodes (VPC CNI) and on Fargate
        for src in alb_ends:
            for dst in nodes + pods:
                assert groups.admitted(src, dst, port), f"ALB {src} -> target {dst}:{port} refused"
    internet = (set(), "203.0.113.9")
    for port in (80, 443):
        assert groups.admitted(internet, alb_ends[0], port), f"internet -> ALB:{port} refused"
    for dst in nodes + pods:
        for port in target_ports | {22, 10250}:
            assert not groups.admitted(internet, dst, port), f"internet -> workload {dst}:{port} admitted"

    # Nothing but the ALB's 80 and 443 is open to the internet, in any group of the VPC.
    open_to_all = {(r["GroupId"], r["IpProtocol"], r.get("FromPort"), r.get("ToPort")) for r in groups.rules
                   if not r["IsEgress"] and (r.get("CidrIpv4") in ANYWHERE or r.get("CidrIpv6") in ANYWHERE)}
    (alb_group,) = alb["SecurityGroups"]
    assert open_to_all == {(alb_group, "tcp", 80, 80), (alb_group, "tcp", 443, 443)}
