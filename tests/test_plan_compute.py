"""The compute layer (EKS, IAM roles, OIDC/IRSA, ECR) composed into a tiny stack.

The graph test needs no AWS. The apply test runs the real engine through the
CLI on moto: a small network (VPC, three private subnets, the app security
group) and a KMS key plus the compute layer; applied, checked through
independent boto3 calls, re-planned (no change), resized in place, destroyed.
"""

from __future__ import annotations

import copy
import json

import networkx as nx
import pytest
from click.testing import CliRunner

import cli
from orchestrator.graph import build_graph
from orchestrator.model import Plan
from plans.genai_demo import compute
from plans.genai_demo.profiles import profile
from resources.base import Join
from resources.ec2 import SecurityGroup, Subnet, Vpc
from resources.kms import Key
from tests.fakes import install_plan

OVERRIDES: dict[str, dict] = {}  # env -> node group "nodes" overrides, for the in-place update step


def tiny_network(stack, p):
    """The network layer's contract, as small as the compute layer needs."""
    vpc = stack.add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    private = [stack.add(Subnet(f"private_{az}", VpcId=vpc["VpcId"], CidrBlock=f"10.0.{64 + i * 32}.0/19",
                                AvailabilityZone=f"{p['region']}{az}")) for i, az in enumerate("abc")]
    app_sg = stack.add(SecurityGroup("app_sg", VpcId=vpc["VpcId"], Description="app"))
    return {"vpc": vpc, "subnets": {"public": [], "private": private, "database": []},
            "security_groups": {"app": app_sg}}


def build_compute_only(env: str, with_key: bool = True) -> Plan:
    p = copy.deepcopy(profile(env))
    p["eks"]["node_groups"]["nodes"].update(OVERRIDES.get(env, {}))
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    stack = plan.stack("main")
    key = stack.add(Key("kms_key", Description="test key")) if with_key else None
    compute.build(stack, p, net=tiny_network(stack, p), kms_key=key)
    return plan


PLAN = install_plan("genai_demo_compute_only", build_compute_only)


def infra(*args: str) -> int:
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 2), f"infra {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.exit_code


@pytest.mark.parametrize("env,types,ami,sizes", [
    ("dev", ["t3.medium"], "AL2023_x86_64_STANDARD", (1, 1, 3)),
    ("production", ["m6g.large"], "AL2023_ARM_64_STANDARD", (2, 2, 10)),
])
def test_compute_layer_declares_and_orders(env, types, ami, sizes):
    plan = build_compute_only(env)
    g, _ = build_graph(plan, None, state_outputs=None)

    def needs(a, b):
        return nx.has_path(g, f"main.{b}", f"main.{a}")

    assert needs("eks_nodes", "eks_cluster") and needs("eks_cluster", "private_a") and needs("eks_cluster", "vpc")
    assert needs("eks_cluster", "eks_cluster_role") and needs("eks_cluster", "kms_key")
    assert needs("eks_cluster", "app_sg") and needs("eks_nodes", "eks_node_role")
    assert needs("eks_fargate", "eks_fargate_pod_role") and needs("eks_fargate", "eks_cluster")
    assert needs("irsa_app", "eks_oidc") and needs("eks_oidc", "eks_cluster")
    assert needs("ecr_backend", "eks_node_role") and needs("ecr_backend", "kms_key")

    r = plan.stacks["main"].resources
    ng = r["eks_nodes"].properties
    assert (ng["InstanceTypes"], ng["AmiType"]) == (types, ami)
    assert tuple(ng["ScalingConfig"][k] for k in ("MinSize", "DesiredSize", "MaxSize")) == sizes
    c = r["eks_cluster"].properties
    assert c["Version"] == "1.33" and c["Logging"] == ["api", "audit", "authenticator", "controllerManager",
                                                       "scheduler"]
    assert len(c["ResourcesVpcConfig"]["SubnetIds"]) == 3
    assert not c["ResourcesVpcConfig"]["EndpointPublicAccess"] and c["ResourcesVpcConfig"]["EndpointPrivateAccess"]
    assert set(r["eks_node_role"].properties["ManagedPolicyArns"]) == set(compute.NODE_POLICIES)
    assert r["eks_fargate"].properties["Selectors"] == [{"Namespace": "batch", "Labels": {}}]
    assert isinstance(r["irsa_app"].properties["AssumeRolePolicyDocument"], Join)
    assert {name for name in r if name.startswith("ecr_")} == {"ecr_backend", "ecr_consumer_frontend",
                                                               "ecr_cmc_frontend"}
    repo = r["ecr_backend"].properties
    assert repo["RepositoryName"] == f"genai-demo/{env}/backend" and repo["ImageTagMutability"] == "IMMUTABLE"
    assert repo["LifecyclePolicy"]["rules"][0]["selection"]["countNumber"] == 20


def test_compute_layer_without_a_key_encrypts_with_aws_keys():
    r = build_compute_only("dev", with_key=False).stacks["main"].resources
    assert r["eks_cluster"].properties["EncryptionConfig"] == []
    assert r["ecr_backend"].properties["EncryptionConfiguration"] == {"EncryptionType": "AES256"}
    assert "kms_key" not in r


@pytest.mark.slow
def test_compute_apply_noop_resize_destroy(aws):
    env = "production"
    OVERRIDES.pop(env, None)
    infra("apply", "--plan", PLAN, "--env", env, "--auto-approve")

    eks, iam, ecr, kms = aws.client("eks"), aws.client("iam"), aws.client("ecr"), aws.client("kms")
    key_arn = next(k["KeyArn"] for k in kms.list_keys()["Keys"]
                   if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["Description"] == "test key")
    assert eks.list_clusters()["clusters"] == ["genai-demo-production-eks-cluster"]
    cluster = eks.describe_cluster(name="genai-demo-production-eks-cluster")["cluster"]
    assert cluster["version"] == "1.33" and cluster["status"] == "ACTIVE"
    assert cluster["encryptionConfig"][0]["provider"]["keyArn"] == key_arn
    assert len(cluster["resourcesVpcConfig"]["subnetIds"]) == 3
    assert cluster["roleArn"].endswith(":role/genai-demo-production-eks-cluster-role")
    ng = eks.describe_nodegroup(clusterName=cluster["name"], nodegroupName="genai-demo-production-eks-nodes")
    ng = ng["nodegroup"]
    assert ng["instanceTypes"] == ["m6g.large"] and ng["amiType"] == "AL2023_ARM_64_STANDARD"
    assert ng["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 10}
    assert ng["subnets"] == cluster["resourcesVpcConfig"]["subnetIds"]
    node_role = iam.get_role(RoleName="genai-demo-production-eks-node-role")["Role"]
    assert ng["nodeRole"] == node_role["Arn"]
    attached = {a["PolicyArn"] for a in iam.list_attached_role_policies(RoleName=node_role["RoleName"])[
        "AttachedPolicies"]}
    assert attached == set(compute.NODE_POLICIES)
    assert eks.list_fargate_profiles(clusterName=cluster["name"])["fargateProfileNames"] == [
        "genai-demo-production-eks-fargate"]

    # IRSA: the provider is the cluster's issuer, the trust names one service account.
    issuer = cluster["identity"]["oidc"]["issuer"].removeprefix("https://")
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [pr["Arn"].split(":oidc-provider/")[1] for pr in providers] == [issuer]
    trust = iam.get_role(RoleName="genai-demo-production-irsa-app")["Role"]["AssumeRolePolicyDocument"]
    stmt = trust["Statement"][0]
    assert stmt["Principal"]["Federated"] == providers[0]["Arn"]
    assert stmt["Condition"]["StringEquals"] == {
        f"{issuer}:sub": "system:serviceaccount:application:genai-demo-backend", f"{issuer}:aud": "sts.amazonaws.com"}
    app = iam.get_role_policy(RoleName="genai-demo-production-irsa-app", PolicyName="app-config")["PolicyDocument"]
    assert {s["Sid"]: s["Resource"] for s in app["Statement"]}["ReadConfig"] == \
        "arn:aws:ssm:ap-east-2:*:parameter/genai-demo/production/*"

    repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
    assert set(repos) == {f"genai-demo/production/{n}" for n in ("backend", "consumer-frontend", "cmc-frontend")}
    for name, repo in repos.items():
        assert repo["imageTagMutability"] == "IMMUTABLE" and repo["imageScanningConfiguration"]["scanOnPush"]
        assert repo["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key_arn}
        policy = json.loads(ecr.get_repository_policy(repositoryName=name)["policyText"])
        assert policy["Statement"][0]["Principal"]["AWS"] == node_role["Arn"]

    # A second plan, refreshed from AWS, finds nothing to change.
    assert infra("plan", "--plan", PLAN, "--env", env, "--detailed-exitcode") == 0

    # A new desired size updates the node group in place (same ARN).
    OVERRIDES[env] = {"desired": 4}
    try:
        infra("apply", "--plan", PLAN, "--env", env, "--auto-approve")
        again = eks.describe_nodegroup(clusterName=cluster["name"], nodegroupName=ng["nodegroupName"])["nodegroup"]
        assert again["scalingConfig"]["desiredSize"] == 4 and again["nodegroupArn"] == ng["nodegroupArn"]
        assert infra("plan", "--plan", PLAN, "--env", env, "--detailed-exitcode") == 0

        infra("destroy", "--plan", PLAN, "--env", env, "--auto-approve")
    finally:
        OVERRIDES.pop(env, None)
    assert eks.list_clusters()["clusters"] == []
    assert ecr.describe_repositories()["repositories"] == []
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("genai-demo-")]
