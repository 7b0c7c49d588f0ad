"""ec2.LaunchTemplate and an eks.Nodegroup built from it: the nodes carry the template's security group.

Without a template EKS gives managed nodes the cluster security group only (sandbox rule
eks-workload-security-groups); EC2 itself, asked independently, says which group the nodes have.
"""

import pytest

from core.errors import PlanError
from resources.base import Join
from resources.ec2 import LaunchTemplate
from resources.eks import Nodegroup
from tests.test_eks import _cluster, infra  # noqa: F401 - the fixture, re-used


def _node_groups_of(aws, nodegroup):
    ec2 = aws.client("ec2")
    pages = ec2.describe_instances(Filters=[{"Name": "tag:eks:nodegroup-name", "Values": [nodegroup]},
                                            {"Name": "instance-state-name", "Values": ["running"]}])
    ids = [i["InstanceId"] for r in pages["Reservations"] for i in r["Instances"]]
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": ids}])
    return sorted(sorted(g["GroupId"] for g in e["Groups"]) for e in enis["NetworkInterfaces"]) if ids else []


def test_launch_template_round_trip_and_the_nodes_carry_its_group(aws, infra):  # noqa: F811
    _, _, cluster, out = _cluster(aws, infra)
    lt = LaunchTemplate("nodes_template", SecurityGroupIds=[infra["sg"]],
                        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 50, "VolumeType": "gp3",
                                                                                  "Encrypted": True}}],
                        MetadataOptions={"HttpTokens": "required", "HttpPutResponseHopLimit": 2})
    lt.stack = "main"
    lt_ctx = aws.ctx("nodes_template")
    lt_id, lt_out = lt.create(lt_ctx, dict(lt.properties))
    seen = aws.client("ec2").describe_launch_template_versions(LaunchTemplateId=lt_id, Versions=["$Latest"])[
        "LaunchTemplateVersions"][0]
    assert seen["LaunchTemplateData"]["SecurityGroupIds"] == [infra["sg"]]
    assert seen["LaunchTemplateData"]["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 50
    assert lt_out["LatestVersionNumber"] == 1 and lt_out["LaunchTemplateName"].startswith("genai-demo-test-")
    assert lt.read(lt_ctx, lt_id) == dict(lt.properties)
    assert lt.find(lt_ctx)[0] == lt_id

    ng = Nodegroup("nodes", ClusterName=cluster, NodeRole=infra["roles"]["node"], Subnets=infra["subnets"],
                   ScalingConfig={"MinSize": 2, "DesiredSize": 2, "MaxSize": 3},
                   LaunchTemplate={"Id": lt_id, "Version": "1"})
    ng.stack = "main"
    ctx = aws.ctx("nodes")
    pid, _ = ng.create(ctx, dict(ng.properties))
    described = aws.client("eks").describe_nodegroup(clusterName=cluster, nodegroupName=pid.split("/")[1])
    assert described["nodegroup"]["launchTemplate"]["id"] == lt_id
    assert ng.read(ctx, pid) == dict(ng.properties)
    # EC2's view of the nodes: the template's group, not the cluster security group.
    assert _node_groups_of(aws, pid.split("/")[1]) == [[infra["sg"]], [infra["sg"]]]
    assert out["ClusterSecurityGroupId"] and out["ClusterSecurityGroupId"] != infra["sg"]

    ng.delete(ctx, pid)
    assert _node_groups_of(aws, pid.split("/")[1]) == []
    lt.delete(lt_ctx, lt_id)
    assert lt.read(lt_ctx, lt_id) is None


def test_a_node_group_without_template_gets_only_the_cluster_group(aws, infra):  # noqa: F811
    _, _, cluster, out = _cluster(aws, infra)
    ng = Nodegroup("plain", ClusterName=cluster, NodeRole=infra["roles"]["node"], Subnets=infra["subnets"],
                   ScalingConfig={"MinSize": 1, "DesiredSize": 1, "MaxSize": 1})
    ng.stack = "main"
    pid, _ = ng.create(aws.ctx("plain"), dict(ng.properties))
    assert _node_groups_of(aws, pid.split("/")[1]) == [[out["ClusterSecurityGroupId"]]]


def test_bad_launch_template_input_is_refused_before_any_call():
    with pytest.raises(PlanError, match="DiskSize cannot be given with a LaunchTemplate"):
        Nodegroup("n", ClusterName="c", NodeRole="r", Subnets=["s"], DiskSize=20,
                  ScalingConfig={"MinSize": 1, "DesiredSize": 1, "MaxSize": 1},
                  LaunchTemplate={"Id": "lt-1", "Version": "1"})
    with pytest.raises(PlanError, match="LaunchTemplate is"):
        Nodegroup("n", ClusterName="c", NodeRole="r", Subnets=["s"],
                  ScalingConfig={"MinSize": 1, "DesiredSize": 1, "MaxSize": 1}, LaunchTemplate={"Name": "x"})
    with pytest.raises(PlanError, match="SecurityGroupIds must name at least one group"):
        LaunchTemplate("t", SecurityGroupIds=[])
    LaunchTemplate("t", SecurityGroupIds=[Join("sg-", "1")])  # a reference is checked at apply
