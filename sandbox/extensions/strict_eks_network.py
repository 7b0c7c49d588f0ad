"""Strict rule eks-workload-security-groups: which security groups EKS gives the nodes and the pods.

EKS creates a security group for every cluster (the "cluster security group")
and puts it on the control plane's network interfaces, on every managed node
that has no launch template naming groups of its own, and on every Fargate
pod (unless Kubernetes security groups for pods say otherwise, which the AWS
API cannot). The groups a plan passes as ResourcesVpcConfig.SecurityGroupIds
go on the control plane's interfaces only. So a data store that admits only
such an "additional" group admits no workload at all, though every create
succeeds. moto 5.2.5 creates no cluster security group (clusterSecurityGroupId
is absent) and starts no nodes and no pods, so nothing in EC2 could show what
groups the workloads carry.

Here, as in AWS:
- CreateCluster creates `eks-cluster-sg-<name>-<digits>` in the cluster's VPC,
  tagged `aws:eks:cluster-name` and `kubernetes.io/cluster/<name>=owned`, with
  all traffic from itself and all egress, answers it as
  resourcesVpcConfig.clusterSecurityGroupId, puts it on the control-plane
  ENIs (rule lingering-enis makes those), and deletes it with the cluster.
- CreateNodegroup starts desiredSize EC2 instances over its subnets, tagged
  `eks:cluster-name`, `eks:nodegroup-name`, carrying the launch template's
  SecurityGroupIds when it names some, else the cluster security group; an
  unknown launch template is refused. A new desiredSize (UpdateNodegroupConfig)
  starts or terminates nodes; DeleteNodegroup terminates them.
- CreateFargateProfile: the sandbox runs no Kubernetes, so one network
  interface per profile stands for the pods it selects, in its first subnet,
  with the cluster security group (what AWS gives a Fargate pod); it goes with
  the profile.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.ec2.utils import random_private_ip
from moto.eks.exceptions import InvalidParameterException
from moto.eks.models import EKSBackend

from sandbox import lifecycle, strict
from sandbox.extensions._base import store

RULE = strict.rule(
    "eks-workload-security-groups",
    aws="CreateCluster creates the cluster security group (eks-cluster-sg-<name>-<id>, tagged aws:eks:cluster-name "
        "and kubernetes.io/cluster/<name>=owned; all traffic from itself, all egress), answered as "
        "resourcesVpcConfig.clusterSecurityGroupId. It goes on the control-plane ENIs with the additional groups; "
        "managed nodes carry it unless their launch template names security groups (then only those); Fargate "
        "pods carry it. The additional SecurityGroupIds reach no node and no pod.",
    source="https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html (\"Amazon EKS creates a "
           "cluster security group ... associates it with ... managed node groups and Fargate\"); "
           "https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html (security groups in the launch "
           "template replace the cluster security group on the nodes); EKS API VpcConfigResponse."
           "clusterSecurityGroupId (\"Managed node groups use this security group\")",
    moto="no cluster security group (clusterSecurityGroupId absent), no node instances, no pod interfaces: "
         "EC2 showed nothing of what the workloads carry",
)

CLUSTER_SG_DESCRIPTION = ("EKS created security group applied to ENI that is attached to EKS Control Plane master "
                          "nodes, as well as any managed workloads.")
NODE_IMAGE = "ami-12c6146b"  # any id: moto does not check AMIs unless told to


def _ec2(backend: Any) -> Any:
    return ec2_backends[backend.account_id][backend.region_name]


def _owned(backend: Any) -> dict[str, list[str]]:
    """{cluster/<name> | nodegroup/<cluster>/<name> | fargate/<cluster>/<name>: ids EKS made for it}."""
    return store(backend, "eks_workload_network", dict)


def _vpc_of(ec2: Any, subnet_ids: list[str]) -> str | None:
    for sid in subnet_ids:
        try:
            return str(ec2.get_subnet(sid).vpc_id)
        except EC2ClientError:
            continue  # EKS itself validates its subnets
    return None


def cluster_group(backend: Any, cluster_name: str) -> str | None:
    cluster = backend.clusters.get(cluster_name)
    return ((cluster.resources_vpc_config or {}).get("clusterSecurityGroupId")) if cluster is not None else None


# -- the cluster -----------------------------------------------------------------------------------------


def create_cluster(self: EKSBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    cluster = original(self, *args, **kw)
    if not strict.on(RULE.id):
        return cluster
    ec2 = _ec2(self)
    vpc_config = cluster.resources_vpc_config or {}
    vpc_id = _vpc_of(ec2, list(vpc_config.get("subnetIds") or []))
    if vpc_id is None:
        return cluster
    name = f"eks-cluster-sg-{cluster.name}-{random.randint(10**9, 10**10 - 1)}"
    sg = ec2.create_security_group(name, CLUSTER_SG_DESCRIPTION, vpc_id=vpc_id, tags={
        "Name": name, "aws:eks:cluster-name": cluster.name, f"kubernetes.io/cluster/{cluster.name}": "owned"})
    ec2.authorize_security_group_ingress(sg.id, "-1", None, None, [], source_groups=[{"GroupId": sg.id}])
    cluster.resources_vpc_config = {**vpc_config, "clusterSecurityGroupId": sg.id, "vpcId": vpc_id}
    _owned(self)[f"cluster/{cluster.name}"] = [sg.id]
    return cluster


def delete_cluster(self: EKSBackend, original: Callable[..., Any], name: str) -> Any:
    result = original(self, name)
    ids = _owned(self).pop(f"cluster/{name}", [])
    if ids:
        ec2 = _ec2(self)
        # EKS deletes its group once the cluster and the control plane's interfaces are gone.
        window = float(strict.setting("lingering-enis", "seconds")) if strict.on("lingering-enis") else 0.0
        after = lifecycle.duration("eks.cluster", "delete") + window

        def gone() -> None:
            for gid in ids:
                for groups in ec2.groups.values():
                    groups.pop(gid, None)

        if after <= 0:
            gone()
        else:
            lifecycle.schedule(after, gone)
    return result


# -- node groups -------------------------------------------------------------------------------------------


def _template_groups(self: EKSBackend, template: dict[str, Any]) -> list[str]:
    """The launch template's SecurityGroupIds (the version the node group names, else the default)."""
    ec2 = _ec2(self)
    try:
        if template.get("id"):
            lt = ec2.describe_launch_templates(template_ids=[template["id"]])[0]
        else:
            lt = ec2.describe_launch_templates(template_names=[template.get("name")])[0]
    except Exception:  # noqa: BLE001 - moto raises its EC2 not-found; EKS answers its own error
        strict.trip(RULE.id)
        raise InvalidParameterException(
            message=f"The launch template {template.get('id') or template.get('name')} does not exist.") from None
    version = str(template.get("version") or "$Default")
    if version == "$Latest":
        v = lt.latest_version()
    elif version == "$Default":
        v = lt.default_version()
    else:
        v = lt.get_version(version)
    return list((v.data or {}).get("SecurityGroupIds") or [])


def create_nodegroup(self: EKSBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    template = kw.get("launch_template")
    groups: list[str] = []
    if strict.on(RULE.id) and template:
        groups = _template_groups(self, template)
    ng = original(self, *args, **kw)
    if not strict.on(RULE.id):
        return ng
    groups = groups or [g for g in [cluster_group(self, ng.cluster_name)] if g]
    if not groups:
        return ng
    ng.__dict__["_sandbox_node_groups"] = list(groups)
    _owned(self)[f"nodegroup/{ng.cluster_name}/{ng.nodegroup_name}"] = []
    _scale(self, ng)
    return ng


def _scale(self: EKSBackend, ng: Any) -> None:
    """Start or terminate nodes until the group runs desiredSize of them (the Auto Scaling group's work)."""
    ids = _owned(self).get(f"nodegroup/{ng.cluster_name}/{ng.nodegroup_name}")
    groups = ng.__dict__.get("_sandbox_node_groups")
    if ids is None or not groups:
        return
    ec2 = _ec2(self)
    subnets = list(ng.subnets or [])
    want = int((ng.scaling_config or {}).get("desiredSize") or 0)
    while len(ids) < want:
        reservation = ec2.run_instances(
            NODE_IMAGE, 1, None, [], security_group_ids=list(groups), subnet_id=subnets[len(ids) % len(subnets)],
            instance_type=(ng.instance_types or ["t3.medium"])[0], is_instance_type_default=False,
            tags={"instance": {"eks:cluster-name": ng.cluster_name, "eks:nodegroup-name": ng.nodegroup_name,
                               f"kubernetes.io/cluster/{ng.cluster_name}": "owned"}})
        ids += [inst.id for inst in reservation.instances]
    if len(ids) > want:
        _terminate(ec2, ids[want:])
        del ids[want:]


def update_nodegroup_config(self: EKSBackend, original: Callable[..., Any], cluster_name: str,
                            nodegroup_name: str, **kw: Any) -> Any:
    result = original(self, cluster_name, nodegroup_name, **kw)
    cluster = self.clusters.get(cluster_name)
    ng = cluster.nodegroups.get(nodegroup_name) if cluster is not None else None
    if ng is not None and kw.get("scaling_config"):
        _scale(self, ng)
    return result


def _terminate(ec2: Any, instance_ids: list[str]) -> None:
    """Terminate the nodes and drop their interfaces (AWS deletes a node's primary ENI with it)."""
    live = [i for i in instance_ids if i in {x.id for x in ec2.all_instances()}]
    if not live:
        return
    for inst in ec2.get_multi_instances_by_id(live):
        nics = list(inst.nics.values())
        inst.terminate()
        for nic in nics:
            ec2.enis.pop(nic.id, None)


def delete_nodegroup(self: EKSBackend, original: Callable[..., Any], cluster_name: str, nodegroup_name: str) -> Any:
    result = original(self, cluster_name, nodegroup_name)
    ids = _owned(self).pop(f"nodegroup/{cluster_name}/{nodegroup_name}", [])
    if ids:
        _terminate(_ec2(self), ids)
    return result


# -- Fargate ------------------------------------------------------------------------------------------------


def create_fargate_profile(self: EKSBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    profile = original(self, *args, **kw)
    group = cluster_group(self, profile.cluster_name) if strict.on(RULE.id) else None
    subnets = list(profile.subnets or [])
    if group is None or not subnets:
        return profile
    ec2 = _ec2(self)
    subnet = ec2.get_subnet(subnets[0])
    eni = ec2.create_network_interface(subnet, random_private_ip(subnet.cidr_block), group_ids=[group],
                                       description=f"[EKS Fargate] pod of profile {profile.fargate_profile_name}")
    eni.requester_managed, eni.interface_type, eni.status = True, "interface", "in-use"
    eni.add_tags({"eks:cluster-name": profile.cluster_name, "eks:fargate-profile": profile.fargate_profile_name})
    _owned(self)[f"fargate/{profile.cluster_name}/{profile.fargate_profile_name}"] = [eni.id]
    return profile


def delete_fargate_profile(self: EKSBackend, original: Callable[..., Any], cluster_name: str,
                           fargate_profile_name: str) -> Any:
    result = original(self, cluster_name, fargate_profile_name)
    ec2 = _ec2(self)
    for eni_id in _owned(self).pop(f"fargate/{cluster_name}/{fargate_profile_name}", []):
        ec2.enis.pop(eni_id, None)  # the pods stop with their profile
    return result


def _wrap(name: str, fn: Callable[..., Any]) -> None:
    lifecycle.chain(EKSBackend, name, fn, "strict_eks_network")


def install() -> None:
    # Installed before strict_eni (module order), so its control-plane ENIs see clusterSecurityGroupId.
    _wrap("create_cluster", create_cluster)
    _wrap("delete_cluster", delete_cluster)
    _wrap("create_nodegroup", create_nodegroup)
    _wrap("delete_nodegroup", delete_nodegroup)
    _wrap("update_nodegroup_config", update_nodegroup_config)
    _wrap("create_fargate_profile", create_fargate_profile)
    _wrap("delete_fargate_profile", delete_fargate_profile)
