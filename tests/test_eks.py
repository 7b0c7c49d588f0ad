"""Round trips of eks.Cluster, eks.Nodegroup and eks.FargateProfile on moto (with the sandbox extensions)."""

import pytest

from core.errors import PlanError
from orchestrator.aws import is_mutating
from resources.base import ResourceError
from resources.eks import LOG_TYPES, Cluster, FargateProfile, Nodegroup, is_graviton
from tests.helpers import ec2_visible


@pytest.fixture
def infra(aws):
    """A VPC with three private subnets, two security groups, role ARNs and a KMS key."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])  # the next calls name it (ec2-consistency)
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{64 + 32 * i}.0/19",
                                 AvailabilityZone=f"{aws.region}{'abc'[i]}")["Subnet"]["SubnetId"] for i in range(3)]
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    sg2 = ec2.create_security_group(GroupName="app2", Description="app2", VpcId=vpc)["GroupId"]
    # Role ARNs only: EKS on moto does not resolve them, and IAM (with its managed policies) is slow to load.
    roles = {n: f"arn:aws:iam::{aws.clients.account_id}:role/{n}" for n in ("cluster", "node", "pods")}
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    return {"subnets": subnets, "sg": sg, "sg2": sg2, "roles": roles, "key": key}


def _cluster(aws, infra, **kw):
    c = Cluster("cluster", Version="1.32", RoleArn=infra["roles"]["cluster"],
                ResourcesVpcConfig={"SubnetIds": infra["subnets"], "SecurityGroupIds": [infra["sg"]]},
                EncryptionConfig=[{"Resources": ["secrets"], "Provider": {"KeyArn": infra["key"]}}], **kw)
    c.stack = "main"
    ctx = aws.ctx("cluster")
    name, out = c.create(ctx, dict(c.properties))
    return c, ctx, name, out


def test_cluster_round_trip(aws, infra):
    c, ctx, name, out = _cluster(aws, infra)
    assert name == "genai-demo-test-cluster"
    seen = aws.client("eks").describe_cluster(name=name)["cluster"]
    assert seen["status"] == "ACTIVE" and seen["version"] == "1.32"
    assert seen["resourcesVpcConfig"]["subnetIds"] == infra["subnets"]
    assert seen["resourcesVpcConfig"]["endpointPublicAccess"] and seen["resourcesVpcConfig"]["endpointPrivateAccess"]
    assert seen["encryptionConfig"][0]["provider"]["keyArn"] == infra["key"]
    assert {t for e in seen["logging"]["clusterLogging"] if e["enabled"] for t in e["types"]} == set(LOG_TYPES)
    assert seen["tags"]["infra:address"] == "main.cluster"
    assert out["Arn"] == seen["arn"] and out["OidcIssuer"].startswith("https://oidc.eks.")
    assert out["Endpoint"] == seen["endpoint"] and out["CertificateAuthority"]

    assert c.read(ctx, name) == dict(c.properties)

    # In place: logging down to two types, then the VPC config (a new security group, private endpoint only).
    new = dict(c.properties, Logging=["api", "audit"])
    c.update(ctx, name, dict(c.properties), new)
    seen = aws.client("eks").describe_cluster(name=name)["cluster"]
    assert {t for e in seen["logging"]["clusterLogging"] if e["enabled"] for t in e["types"]} == {"api", "audit"}
    newer = dict(new, ResourcesVpcConfig=dict(new["ResourcesVpcConfig"], SecurityGroupIds=[infra["sg2"]],
                                              EndpointPublicAccess=False))
    c.update(ctx, name, new, newer)
    vpc = aws.client("eks").describe_cluster(name=name)["cluster"]["resourcesVpcConfig"]
    # The whole object went over: subnets are still there (moto replaces the config wholesale).
    assert vpc["securityGroupIds"] == [infra["sg2"]] and vpc["subnetIds"] == infra["subnets"]
    assert vpc["endpointPublicAccess"] is False
    assert c.read(ctx, name) == newer
    # A plan tag added later reaches the cluster; nothing else is called for.
    c.update(aws.ctx("cluster", plan_tags={"Team": "platform"}), name, newer, newer)
    assert aws.client("eks").describe_cluster(name=name)["cluster"]["tags"]["Team"] == "platform"

    assert c.find(ctx)[0] == name
    assert c.find(aws.ctx("cluster", env="other")) is None  # another env's address is not ours
    c.delete(ctx, name)
    c.delete(ctx, name)
    assert c.read(ctx, name) is None
    assert c.find(ctx) is None


def test_cluster_version_upgrade_steps_one_minor_at_a_time(aws, infra):
    c, ctx, name, _ = _cluster(aws, infra)
    assert c._upgrade_path("1.31", "1.33") == ["1.32", "1.33"]
    with pytest.raises(ResourceError, match="downgrade"):
        c._upgrade_path("1.33", "1.32")
    c.update(ctx, name, dict(c.properties), dict(c.properties, Version="1.34"))
    assert aws.client("eks").describe_cluster(name=name)["cluster"]["version"] == "1.34"
    assert c.read(ctx, name)["Version"] == "1.34"


def test_cluster_rejects_bad_input():
    vpc = {"SubnetIds": ["subnet-1", "subnet-2"]}
    with pytest.raises(PlanError, match="unknown property"):
        Cluster("c", RoleArn="arn", ResourcesVpcConfig=vpc, KubernetesVersion="1.33")
    with pytest.raises(PlanError, match="Version"):
        Cluster("c", RoleArn="arn", ResourcesVpcConfig=vpc, Version="latest")
    with pytest.raises(PlanError, match="unknown keys"):
        Cluster("c", RoleArn="arn", ResourcesVpcConfig={**vpc, "VpcId": "vpc-1"})
    with pytest.raises(PlanError, match="log types"):
        Cluster("c", RoleArn="arn", ResourcesVpcConfig=vpc, Logging=["api", "kubelet"])
    with pytest.raises(PlanError, match="must be dict"):
        Cluster("c", RoleArn="arn", ResourcesVpcConfig=["subnet-1"])
    c = Cluster("c", RoleArn="arn", ResourcesVpcConfig=vpc, Logging=["scheduler", "api"])
    assert c.properties["Logging"] == ["api", "scheduler"]
    assert c.properties["ResourcesVpcConfig"]["EndpointPrivateAccess"] is True


def test_nodegroup_round_trip(aws, infra):
    c, _, cluster, _ = _cluster(aws, infra)
    ng = Nodegroup("nodes", ClusterName=cluster, NodeRole=infra["roles"]["node"], Subnets=infra["subnets"],
                   InstanceTypes=["m6g.large"], AmiType="AL2023_ARM_64_STANDARD",
                   ScalingConfig={"MinSize": 2, "DesiredSize": 2, "MaxSize": 10}, Labels={"tier": "app"})
    ng.stack = "main"
    ctx = aws.ctx("nodes")
    pid, out = ng.create(ctx, dict(ng.properties))
    assert pid == f"{cluster}/genai-demo-test-nodes"
    eks = aws.client("eks")
    seen = eks.describe_nodegroup(clusterName=cluster, nodegroupName="genai-demo-test-nodes")["nodegroup"]
    assert seen["instanceTypes"] == ["m6g.large"] and seen["amiType"] == "AL2023_ARM_64_STANDARD"
    assert seen["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 10}
    assert seen["capacityType"] == "ON_DEMAND" and seen["tags"]["infra:address"] == "main.nodes"
    assert out["Arn"] == seen["nodegroupArn"] and out["AutoScalingGroupName"]
    assert ng.read(ctx, pid) == dict(ng.properties)

    new = dict(ng.properties, ScalingConfig={"MinSize": 2, "DesiredSize": 4, "MaxSize": 10},
               Labels={"tier": "web", "pool": "main"})
    ng.update(ctx, pid, dict(ng.properties), new)
    seen = eks.describe_nodegroup(clusterName=cluster, nodegroupName="genai-demo-test-nodes")["nodegroup"]
    assert seen["scalingConfig"]["desiredSize"] == 4 and seen["labels"] == {"tier": "web", "pool": "main"}
    assert ng.read(ctx, pid) == new

    assert ng.find(ctx)[0] == pid
    ng.delete(ctx, pid)
    ng.delete(ctx, pid)
    assert ng.read(ctx, pid) is None
    assert ng.find(ctx) is None


def test_nodegroup_rejects_bad_input():
    base = {"ClusterName": "c", "NodeRole": "arn", "Subnets": ["s"],
            "ScalingConfig": {"MinSize": 1, "DesiredSize": 1, "MaxSize": 3}}
    with pytest.raises(PlanError, match="ScalingConfig must satisfy"):
        Nodegroup("n", **dict(base, ScalingConfig={"MinSize": 3, "DesiredSize": 1, "MaxSize": 3}))
    with pytest.raises(PlanError, match="ScalingConfig needs exactly"):
        Nodegroup("n", **dict(base, ScalingConfig={"MinSize": 1, "MaxSize": 3}))
    with pytest.raises(PlanError, match="AmiType"):
        Nodegroup("n", **base, AmiType="AL2_ARM64")
    with pytest.raises(PlanError, match="Graviton"):
        Nodegroup("n", **base, InstanceTypes=["m6g.large"], AmiType="AL2023_x86_64_STANDARD")
    with pytest.raises(PlanError, match="ARM64 but"):
        Nodegroup("n", **base, InstanceTypes=["t3.medium"], AmiType="AL2023_ARM_64_STANDARD")
    assert [is_graviton(t) for t in ("m6g.large", "c7gn.xlarge", "t4g.small", "g5.xlarge", "t3.medium",
                                     "m6i.large")] == [True, True, True, False, False, False]


def test_fargate_profile_round_trip(aws, infra):
    _, _, cluster, _ = _cluster(aws, infra)
    fp = FargateProfile("batch", ClusterName=cluster, PodExecutionRoleArn=infra["roles"]["pods"],
                        Subnets=infra["subnets"], Selectors=[{"Namespace": "batch"}])
    fp.stack = "main"
    ctx = aws.ctx("batch")
    pid, out = fp.create(ctx, dict(fp.properties))
    eks = aws.client("eks")
    seen = eks.describe_fargate_profile(clusterName=cluster, fargateProfileName="genai-demo-test-batch")
    seen = seen["fargateProfile"]
    assert seen["selectors"] == [{"namespace": "batch"}] and seen["subnets"] == infra["subnets"]
    assert seen["podExecutionRoleArn"] == infra["roles"]["pods"] and out["Arn"] == seen["fargateProfileArn"]
    assert fp.read(ctx, pid) == dict(fp.properties)

    # Nothing but tags changes in place; with the tags already right, update makes no mutating call.
    # (moto 5.2.5 tags clusters only, so a tag change on a profile cannot be exercised here.)
    calls = []
    aws.clients.add_hook("before-call.eks", lambda model, **_: calls.append(model.name))
    assert fp.update(ctx, pid, dict(fp.properties), dict(fp.properties)) == out
    assert calls and not [c for c in calls if is_mutating(c)]

    assert fp.find(ctx)[0] == pid
    fp.delete(ctx, pid)
    fp.delete(ctx, pid)
    assert fp.read(ctx, pid) is None
    assert fp.find(ctx) is None


def test_fargate_profile_rejects_bad_selectors():
    with pytest.raises(PlanError, match="selector"):
        FargateProfile("f", ClusterName="c", PodExecutionRoleArn="arn", Subnets=["s"], Selectors=[{"ns": "x"}])
    with pytest.raises(PlanError, match="1 to 5"):
        FargateProfile("f", ClusterName="c", PodExecutionRoleArn="arn", Subnets=["s"], Selectors=[])


def test_updates_wait_for_their_update_id_and_follow_one_another(aws, infra):
    """async-modify: the cluster may read ACTIVE while an update is InProgress; the tool waits on each
    update id, so a version upgrade, a logging change and a VPC change in one update are all accepted."""
    from sandbox import strict

    c, ctx, name, _ = _cluster(aws, infra)
    eks = aws.client("eks")
    trips = strict.trips().get("async-modify", 0)
    vpc = dict(c.properties["ResourcesVpcConfig"], EndpointPublicAccess=False)
    new = dict(c.properties, Version="1.33", Logging=["api"], ResourcesVpcConfig=vpc)
    c.update(ctx, name, dict(c.properties), new)
    got = eks.describe_cluster(name=name)["cluster"]
    assert got["status"] == "ACTIVE" and got["version"] == "1.33"
    assert got["resourcesVpcConfig"]["endpointPublicAccess"] is False
    updates = [eks.describe_update(name=name, updateId=u)["update"] for u in eks.list_updates(name=name)["updateIds"]]
    assert [u["status"] for u in updates] == ["Successful"] * 3
    eks.update_cluster_config(name=name, logging={"clusterLogging": [{"types": ["audit"], "enabled": True}]})
    assert strict.trips().get("async-modify", 0) == trips
