"""Strict rule eks-workload-security-groups, with raw boto3 (the tool is not involved).

Which security groups EKS gives what it runs: the cluster security group it creates goes on the
control plane, on nodes without a launch template's groups and on Fargate pods; the groups passed as
resourcesVpcConfig.securityGroupIds reach the control plane only.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox import strict
from tests.helpers import vpc_scaffold

ROLE = "arn:aws:iam::123456789012:role/eks"


def _net(aws: Any) -> dict[str, Any]:
    aws.rules.configure("ec2-consistency", seconds=0.2)
    n = vpc_scaffold(aws, 8, "app", "unused", azs=2)
    return {"vpc": n["vpc"], "subnets": n["subnets"], "app": n["sg"]}


def _groups_of_nodes(ec2: Any, nodegroup: str) -> list[list[str]]:
    pages = ec2.describe_instances(Filters=[{"Name": "tag:eks:nodegroup-name", "Values": [nodegroup]},
                                            {"Name": "instance-state-name", "Values": ["running"]}])
    instances = [i for r in pages["Reservations"] for i in r["Instances"]]
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id",
                                                     "Values": [i["InstanceId"] for i in instances]}])
    assert len(enis["NetworkInterfaces"]) == len(instances)
    return [sorted(g["GroupId"] for g in e["Groups"]) for e in enis["NetworkInterfaces"]]


def test_rule_eks_workload_security_groups_cluster_group_on_nodes_and_pods_not_the_additional_one(aws):
    n, ec2, eks = _net(aws), aws.client("ec2"), aws.client("eks")
    cluster = eks.create_cluster(name="c", roleArn=ROLE, resourcesVpcConfig={
        "subnetIds": n["subnets"], "securityGroupIds": [n["app"]]})["cluster"]
    cluster_sg = cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
    sg = ec2.describe_security_groups(GroupIds=[cluster_sg])["SecurityGroups"][0]
    tags = {t["Key"]: t["Value"] for t in sg["Tags"]}
    assert sg["VpcId"] == n["vpc"] and sg["GroupName"].startswith("eks-cluster-sg-c-")
    assert tags["aws:eks:cluster-name"] == "c" and tags["kubernetes.io/cluster/c"] == "owned"
    assert [p["UserIdGroupPairs"][0]["GroupId"] for p in sg["IpPermissions"]] == [cluster_sg]  # itself only
    control_plane = ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": ["Amazon EKS c"]}])
    assert {tuple(sorted(g["GroupId"] for g in e["Groups"])) for e in control_plane["NetworkInterfaces"]} == \
        {tuple(sorted([cluster_sg, n["app"]]))}

    # No launch template: the nodes carry the cluster group, never the additional one.
    eks.create_nodegroup(clusterName="c", nodegroupName="plain", nodeRole=ROLE, subnets=n["subnets"],
                         scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 2})
    assert _groups_of_nodes(ec2, "plain") == [[cluster_sg], [cluster_sg]]
    update = eks.update_nodegroup_config(clusterName="c", nodegroupName="plain",
                                         scalingConfig={"desiredSize": 3})["update"]
    assert _groups_of_nodes(ec2, "plain") == [[cluster_sg]] * 3  # the Auto Scaling group follows desiredSize
    end = time.monotonic() + 10  # EKS runs one update at a time (rule async-modify)
    while eks.describe_update(name="c", nodegroupName="plain", updateId=update["id"])["update"]["status"] != \
            "Successful":
        assert time.monotonic() < end
        time.sleep(0.05)
    eks.update_nodegroup_config(clusterName="c", nodegroupName="plain", scalingConfig={"desiredSize": 1})
    assert _groups_of_nodes(ec2, "plain") == [[cluster_sg]]

    # A launch template naming groups: the nodes carry those only.
    lt = ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData={
        "SecurityGroupIds": [n["app"]]})["LaunchTemplate"]
    eks.create_nodegroup(clusterName="c", nodegroupName="templated", nodeRole=ROLE, subnets=n["subnets"],
                         launchTemplate={"id": lt["LaunchTemplateId"], "version": "1"},
                         scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 1})
    assert _groups_of_nodes(ec2, "templated") == [[n["app"]]]

    before = strict.trips().get("eks-workload-security-groups", 0)
    with pytest.raises(ClientError) as exc:
        eks.create_nodegroup(clusterName="c", nodegroupName="nowhere", nodeRole=ROLE, subnets=n["subnets"],
                             launchTemplate={"id": "lt-0123456789abcdef0", "version": "1"},
                             scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1})
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    assert strict.trips().get("eks-workload-security-groups", 0) == before + 1

    # Fargate pods carry the cluster group.
    eks.create_fargate_profile(clusterName="c", fargateProfileName="batch", podExecutionRoleArn=ROLE,
                               subnets=n["subnets"], selectors=[{"namespace": "batch"}])
    pods = ec2.describe_network_interfaces(Filters=[{"Name": "tag:eks:fargate-profile", "Values": ["batch"]}])
    assert [[g["GroupId"] for g in e["Groups"]] for e in pods["NetworkInterfaces"]] == [[cluster_sg]]

    # Everything EKS made goes with what made it.
    eks.delete_fargate_profile(clusterName="c", fargateProfileName="batch")
    for ng in ("plain", "templated"):
        eks.delete_nodegroup(clusterName="c", nodegroupName=ng)
        assert _groups_of_nodes(ec2, ng) == []
    assert not ec2.describe_network_interfaces(Filters=[{"Name": "tag:eks:fargate-profile",
                                                         "Values": ["batch"]}])["NetworkInterfaces"]
    aws.rules.configure("lingering-enis", seconds=0.0)
    eks.delete_cluster(name="c")
    ec2.describe_vpcs()  # a request: the sandbox applies what is due
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [sg["GroupName"]]}])[
        "SecurityGroups"]


@pytest.mark.sandbox_rules_off("eks-workload-security-groups")
def test_without_the_rule_eks_makes_no_security_group_and_no_nodes(aws):
    n, ec2, eks = _net(aws), aws.client("ec2"), aws.client("eks")
    cluster = eks.create_cluster(name="c", roleArn=ROLE, resourcesVpcConfig={"subnetIds": n["subnets"]})["cluster"]
    assert "clusterSecurityGroupId" not in cluster["resourcesVpcConfig"]
    eks.create_nodegroup(clusterName="c", nodegroupName="plain", nodeRole=ROLE, subnets=n["subnets"],
                         scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1})
    assert ec2.describe_instances()["Reservations"] == []
