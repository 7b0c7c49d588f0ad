"""Strict rule lingering-enis: VPC-attached services leave network interfaces behind for a while.

An ALB, an OpenSearch VPC domain, an RDS instance, an ElastiCache replication
group, an MSK cluster, an EKS cluster and a Firehose stream delivering into a
VPC each place requester-managed network interfaces in their subnets, with
their security groups. AWS removes them some time after the resource itself is
gone (minutes for an ALB, up to 45 min for Lambda), and until then the group,
the subnet, and (for an ALB's public addresses) the internet gateway's detach
are refused. moto 5.2.5 creates none of these interfaces, and deletes a
security group or subnet whatever uses it.

Here each such create makes real ENIs in moto's EC2 backend (Description,
RequesterId and InterfaceType as AWS shows them; the ALB's carry public IPs).
After the delete they stay "in-use" for half the window, "available" for the
other half, then disappear. DeleteSecurityGroup, DeleteSubnet and
DetachInternetGateway refuse while an interface (any interface, as AWS does)
holds them, and DeleteNetworkInterface refuses an in-use one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.ec2.models.elastic_network_interfaces import NetworkInterfaceBackend
from moto.ec2.models.internet_gateways import InternetGatewayBackend
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.ec2.models.subnets import SubnetBackend
from moto.ec2.utils import random_private_ip, random_public_ip
from moto.eks.models import EKSBackend
from moto.elasticache.models import ElastiCacheBackend
from moto.elbv2.models import ELBv2Backend
from moto.firehose.models import FirehoseBackend
from moto.kafka.models import KafkaBackend
from moto.opensearch.models import OpenSearchServiceBackend
from moto.rds.models import RDSBackend

from sandbox import lifecycle, strict
from sandbox.extensions._base import store

RULE = strict.rule(
    "lingering-enis",
    aws="VPC-attached services (ALB, OpenSearch VPC domain, RDS, ElastiCache, MSK, EKS, Firehose VPC delivery) "
        "put requester-managed ENIs in their subnets with their security groups; after the resource is deleted "
        "they stay (in-use, then available) for minutes. Meanwhile DeleteSecurityGroup ('resource sg-... has a "
        "dependent object'), DeleteSubnet ('has dependencies and cannot be deleted') and DetachInternetGateway "
        "('has some mapped public address(es)') fail with DependencyViolation, and an in-use ENI cannot be deleted.",
    source="hashicorp/terraform-provider-aws internal/service/ec2/vpc_security_group.go (deleteLingeringENIs, "
           "15 min delete timeout), internal/service/ec2/vpc_network_interface.go, internal/service/elbv2/"
           "load_balancer.go (cleanupALBNetworkInterfaces: 'cleanup is asynchronous ... blocks IGW, SG or VPC on "
           "deletion'); https://docs.aws.amazon.com/vpc/latest/userguide/delete-vpc.html",
    moto="no ENIs for these services; security groups, subnets and IGW detach deleted whatever used them",
    seconds=1.5,
)

# What AWS writes on the interfaces of each service (InterfaceType is "interface" for all of these).
# Verified against AWS output: ELB, EKS, RDS, ES/OpenSearch, ElastiCache. MSK and Firehose: the service's
# name in the description as AWS does; their exact wording was not verified.
REQUESTERS = {
    "elbv2": "amazon-elb", "opensearch": "amazon-elasticsearch", "rds": "amazon-rds",
    "elasticache": "amazon-elasticache", "kafka": "amazon-kafka", "eks": "amazon-eks", "firehose": "amazon-firehose",
}


def _ec2(backend: Any) -> Any:
    return ec2_backends[backend.account_id][backend.region_name]


def _owned(ec2: Any) -> dict[str, list[str]]:
    """{service/resource key: ids of the ENIs the service made for it}."""
    return store(ec2, "service_enis", dict)


def _attach(backend: Any, service: str, key: str, subnets: list[str], groups: list[str], description: str,
            public: bool = False) -> None:
    if not strict.on(RULE.id) or not subnets:
        return
    ec2 = _ec2(backend)
    ids = _owned(ec2).setdefault(f"{service}/{key}", [])
    for sid in dict.fromkeys(subnets):
        try:
            subnet = ec2.get_subnet(sid)
        except EC2ClientError:
            continue  # the service itself validates its subnets
        eni = ec2.create_network_interface(subnet, random_private_ip(subnet.cidr_block),
                                           group_ids=[g for g in groups if ec2.get_security_group_from_id(g)],
                                           description=description)
        eni.requester_managed, eni.requester_id, eni.interface_type = True, REQUESTERS[service], "interface"
        eni.status = "in-use"
        if public:
            eni.public_ip = random_public_ip()
        ids.append(eni.id)


def _release(backend: Any, service: str, key: str, kind: str | None = None) -> None:
    """The resource is deleted: its ENIs stay in-use, then available, then go (the window after its delete)."""
    ec2 = _ec2(backend)
    ids = _owned(ec2).pop(f"{service}/{key}", [])
    if not ids:
        return
    window = float(strict.setting(RULE.id, "seconds")) if strict.on(RULE.id) else 0.0
    after = (lifecycle.duration(kind, "delete") if kind else 0.0) + window

    def available() -> None:
        for i in ids:
            if i in ec2.enis:
                ec2.enis[i].status = "available"

    def gone() -> None:
        for i in ids:
            eni = ec2.enis.pop(i, None)
            if eni is not None:
                eni.public_ip = None

    if after <= 0:
        gone()
        return
    lifecycle.schedule(after - window / 2, available)
    lifecycle.schedule(after, gone)


def _wrap(cls: type, name: str, fn: Callable[..., Any]) -> None:
    lifecycle.chain(cls, name, fn, "strict_eni")


# -- the services' creates and deletes -------------------------------------------------------------


def create_load_balancer(self: Any, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    lb = original(self, *args, **kw)
    if (lb.type or "application") == "application":
        _attach(self, "elbv2", lb.arn, [s.id for s in lb.subnets], list(lb.security_groups or []),
                f"ELB {lb.arn.split(':loadbalancer/', 1)[-1]}", public=lb.scheme == "internet-facing")
    return lb


def delete_load_balancer(self: Any, original: Callable[..., Any], arn: str) -> Any:
    result = original(self, arn)
    _release(self, "elbv2", arn)
    return result


def create_domain(self: Any, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    domain = original(self, *args, **kw)
    vpc = domain.vpc_options or {}
    _attach(self, "opensearch", domain.domain_name, list(vpc.get("SubnetIds") or []),
            list(vpc.get("SecurityGroupIds") or []), f"ES {domain.domain_name}")
    return domain


def delete_domain(self: Any, original: Callable[..., Any], domain_name: str) -> Any:
    result = original(self, domain_name)
    _release(self, "opensearch", domain_name, "opensearch.domain")
    return result


def create_db_instance(self: Any, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    db = original(self, *args, **kw)
    group = getattr(db, "db_subnet_group", None)
    subnets = [s.id for s in getattr(group, "_subnets", [])][:1]  # a single-AZ instance has one interface
    _attach(self, "rds", db.db_instance_identifier, subnets, list(db.vpc_security_group_ids or []),
            "RDSNetworkInterface")
    return db


def delete_db_instance(self: Any, original: Callable[..., Any], db_instance_identifier: str,
                       *args: Any, **kw: Any) -> Any:
    result = original(self, db_instance_identifier, *args, **kw)
    _release(self, "rds", db_instance_identifier, "rds.dbinstance")
    return result


def create_replication_group(self: Any, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    group = original(self, *args, **kw)
    sng = self.cache_subnet_groups.get(group.cache_subnet_group_name or "")
    _attach(self, "elasticache", group.replication_group_id, list(getattr(sng, "subnet_ids", []) or []),
            list(group.security_group_ids or []), f"ElastiCache {group.replication_group_id}")
    return group


def delete_replication_group(self: Any, original: Callable[..., Any], replication_group_id: str,
                             *args: Any, **kw: Any) -> Any:
    result = original(self, replication_group_id, *args, **kw)
    _release(self, "elasticache", replication_group_id, "elasticache.replicationgroup")
    return result


def _msk_attach(self: Any, arn: str) -> None:
    cluster = self.clusters.get(arn)
    info = (getattr(cluster, "broker_node_group_info", None) or {}) if cluster is not None else {}
    if cluster is not None and not info and getattr(cluster, "provisioned", None):
        info = (cluster.provisioned or {}).get("brokerNodeGroupInfo", {})
    _attach(self, "kafka", arn, list(info.get("clientSubnets") or []), list(info.get("securityGroups") or []),
            f"[DO NOT DELETE] ENI managed by Amazon MSK for cluster {getattr(cluster, 'cluster_name', arn)}")


def create_cluster_msk(self: Any, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    result = original(self, *args, **kw)
    _msk_attach(self, result[0])
    return result


def delete_cluster_msk(self: Any, original: Callable[..., Any], cluster_arn: str, *args: Any, **kw: Any) -> Any:
    result = original(self, cluster_arn, *args, **kw)
    _release(self, "kafka", cluster_arn, "kafka.cluster")
    return result


def create_cluster_eks(self: Any, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    cluster = original(self, *args, **kw)
    vpc = cluster.resources_vpc_config or {}
    # The cluster security group (rule eks-workload-security-groups) and the additional groups, as AWS does.
    groups = [*([vpc["clusterSecurityGroupId"]] if vpc.get("clusterSecurityGroupId") else []),
              *(vpc.get("securityGroupIds") or [])]
    _attach(self, "eks", cluster.name, list(vpc.get("subnetIds") or []), groups, f"Amazon EKS {cluster.name}")
    return cluster


def delete_cluster_eks(self: Any, original: Callable[..., Any], name: str) -> Any:
    result = original(self, name)
    _release(self, "eks", name, "eks.cluster")
    return result


def create_delivery_stream(self: Any, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    result = original(self, *args, **kw)
    name = kw.get("delivery_stream_name") or (args[1] if len(args) > 1 else "")
    stream = self.delivery_streams.get(name)
    dest = (stream.destinations[0] if stream is not None and stream.destinations else {}).get("Elasticsearch") or {}
    vpc = dest.get("VpcConfiguration") or {}
    _attach(self, "firehose", name, list(vpc.get("SubnetIds") or []), list(vpc.get("SecurityGroupIds") or []),
            f"Amazon Data Firehose {name}")
    return result


def delete_delivery_stream(self: Any, original: Callable[..., Any], delivery_stream_name: str,
                           *args: Any, **kw: Any) -> Any:
    result = original(self, delivery_stream_name, *args, **kw)
    _release(self, "firehose", delivery_stream_name)
    return result


# -- what the interfaces hold ------------------------------------------------------------------------


def _enis_where(ec2: Any, test: Callable[[Any], bool]) -> list[Any]:
    return [e for e in list(ec2.enis.values()) if test(e)]


def delete_security_group(self: Any, original: Callable[..., Any], name: str | None = None,
                          group_id: str | None = None) -> Any:
    if strict.on(RULE.id) and group_id:
        users = _enis_where(self, lambda e: any(g.id == group_id for g in e._group_set))
        if users:
            strict.trip(RULE.id)
            raise EC2ClientError("DependencyViolation", f"resource {group_id} has a dependent object")
    return original(self, name=name, group_id=group_id)


def delete_subnet(self: Any, original: Callable[..., Any], subnet_id: str) -> Any:
    if strict.on(RULE.id) and _enis_where(self, lambda e: getattr(e.subnet, "id", None) == subnet_id):
        strict.trip(RULE.id)
        raise EC2ClientError("DependencyViolation",
                             f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
    return original(self, subnet_id)


def detach_internet_gateway(self: Any, original: Callable[..., Any], internet_gateway_id: str, vpc_id: str) -> Any:
    if strict.on(RULE.id):
        igw = self.internet_gateways.get(internet_gateway_id)
        attached = igw is not None and igw.vpc is not None and igw.vpc.id == vpc_id
        if attached and _enis_where(self, lambda e: e.public_ip and getattr(e.subnet, "vpc_id", None) == vpc_id):
            strict.trip(RULE.id)
            raise EC2ClientError("DependencyViolation",
                                 f"Network {vpc_id} has some mapped public address(es). Please unmap those "
                                 "public address(es) before detaching the gateway.")
    return original(self, internet_gateway_id, vpc_id)


def delete_network_interface(self: Any, original: Callable[..., Any], eni_id: str) -> Any:
    eni = self.enis.get(eni_id)
    if strict.on(RULE.id) and eni is not None and eni.status == "in-use":
        strict.trip(RULE.id)
        raise EC2ClientError("InvalidNetworkInterface.InUse", f"Interface: [{eni_id}] in use.")
    result = original(self, eni_id)
    for ids in _owned(self).values():
        if eni_id in ids:
            ids.remove(eni_id)
    return result


def install() -> None:
    _wrap(ELBv2Backend, "create_load_balancer", create_load_balancer)
    _wrap(ELBv2Backend, "delete_load_balancer", delete_load_balancer)
    _wrap(OpenSearchServiceBackend, "create_domain", create_domain)
    _wrap(OpenSearchServiceBackend, "delete_domain", delete_domain)
    _wrap(RDSBackend, "create_db_instance", create_db_instance)
    _wrap(RDSBackend, "delete_db_instance", delete_db_instance)
    _wrap(ElastiCacheBackend, "create_replication_group", create_replication_group)
    _wrap(ElastiCacheBackend, "delete_replication_group", delete_replication_group)
    _wrap(KafkaBackend, "create_cluster", create_cluster_msk)
    _wrap(KafkaBackend, "create_cluster_v2", create_cluster_msk)
    _wrap(KafkaBackend, "delete_cluster", delete_cluster_msk)
    _wrap(EKSBackend, "create_cluster", create_cluster_eks)
    _wrap(EKSBackend, "delete_cluster", delete_cluster_eks)
    _wrap(FirehoseBackend, "create_delivery_stream", create_delivery_stream)
    _wrap(FirehoseBackend, "delete_delivery_stream", delete_delivery_stream)
    _wrap(SecurityGroupBackend, "delete_security_group", delete_security_group)
    _wrap(SubnetBackend, "delete_subnet", delete_subnet)
    _wrap(InternetGatewayBackend, "detach_internet_gateway", detach_internet_gateway)
    _wrap(NetworkInterfaceBackend, "delete_network_interface", delete_network_interface)
