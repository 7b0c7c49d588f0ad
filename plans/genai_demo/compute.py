"""Container platform of the main stack: EKS, its IAM roles, IRSA, and the ECR repositories.

Chain: private subnets + app security group -> EKS cluster -> node groups and
the Fargate profile; cluster OIDC issuer -> IAM OIDC provider -> IRSA roles.
The node role is what the repositories' policies let pull.

Deviations from the upstream CDK code (inventory 2.3 and 7):
- Kubernetes version is a profile setting (1.33), not 1.28 (out of standard support).
- AL2023 AMI types instead of AL2 (no AL2 AMIs past Kubernetes 1.32).
- IRSA trust names the real provider and one service account
  (`<issuer>:sub = system:serviceaccount:<ns>:<sa>`), not a wildcard provider ARN.
- A Fargate profile (namespace "batch") and the genai-demo/backend repository,
  which upstream lacks; repository tags are IMMUTABLE and KMS-encrypted.
"""

from __future__ import annotations

from typing import Any

from orchestrator.model import Stack
from resources.base import Join, Resource
from resources.ecr import Repository, keep_last_images
from resources.eks import Cluster, FargateProfile, Nodegroup
from resources.iam import OpenIDConnectProvider, Role, policy_document

MANAGED = "arn:aws:iam::aws:policy/"
CLUSTER_POLICIES = [MANAGED + "AmazonEKSClusterPolicy"]
NODE_POLICIES = [MANAGED + n for n in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                                      "AmazonEC2ContainerRegistryReadOnly", "CloudWatchAgentServerPolicy",
                                      "AWSXRayDaemonWriteAccess")]
FARGATE_POLICIES = [MANAGED + "AmazonEKSFargatePodExecutionRolePolicy"]
PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]


def _service_trust(service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service},
                            "Action": ["sts:AssumeRole", "sts:TagSession"] if service == "eks.amazonaws.com"
                            else "sts:AssumeRole"}
    if condition:
        stmt["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [stmt]}


def irsa_trust(provider: OpenIDConnectProvider, namespace: str, service_account: str) -> Any:
    """Only this service account, through this cluster's provider, may assume the role."""
    issuer = provider["Issuer"]
    return policy_document({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider["Arn"]},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            Join(issuer, ":sub"): f"system:serviceaccount:{namespace}:{service_account}",
            Join(issuer, ":aud"): "sts.amazonaws.com",
        }},
    }]})


def app_config_policy(region: str, env: str, kms_key: Resource | None) -> dict[str, Any]:
    """Read the env's SSM parameters (/genai-demo/<env>/*) and secrets (genai-demo/<env>/*), decrypt with the key.

    The account is a wildcard because no resource outputs it; region, project
    and env narrow the ARNs to this deployment's names.
    """
    stmts: list[dict[str, Any]] = [
        {"Sid": "ReadConfig", "Effect": "Allow",
         "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
         "Resource": f"arn:aws:ssm:{region}:*:parameter/genai-demo/{env}/*"},
        {"Sid": "ReadSecrets", "Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
         "Resource": f"arn:aws:secretsmanager:{region}:*:secret:genai-demo/{env}/*"},
    ]
    if kms_key is not None:
        stmts.append({"Sid": "DecryptWithMainKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"],
                      "Resource": kms_key["Arn"]})
    return {"Version": "2012-10-17", "Statement": stmts}


def build(stack: Stack, p: dict[str, Any], net: dict[str, Any], kms_key: Resource | None = None) -> dict[str, Any]:
    e, r = p["eks"], p["ecr"]
    env, region = p["tags"]["Environment"], p["region"]
    private = [s["SubnetId"] for s in net["subnets"]["private"]]

    cluster_role = stack.add(Role("eks_cluster_role", AssumeRolePolicyDocument=_service_trust("eks.amazonaws.com"),
                                  ManagedPolicyArns=CLUSTER_POLICIES,
                                  Description="EKS control plane"))
    node_role = stack.add(Role("eks_node_role", AssumeRolePolicyDocument=_service_trust("ec2.amazonaws.com"),
                               ManagedPolicyArns=NODE_POLICIES, Description="EKS managed node groups"))

    cluster = stack.add(Cluster(
        "eks_cluster",
        Version=e["version"],
        RoleArn=cluster_role["Arn"],
        ResourcesVpcConfig={"SubnetIds": private,
                            "SecurityGroupIds": [net["security_groups"]["app"]["GroupId"]],
                            "EndpointPublicAccess": e["endpoint_public"],
                            "EndpointPrivateAccess": e["endpoint_private"],
                            "PublicAccessCidrs": list(e["public_access_cidrs"])},
        EncryptionConfig=[{"Resources": ["secrets"], "Provider": {"KeyArn": kms_key["Arn"]}}] if kms_key else [],
    ))

    node_groups = {
        key: stack.add(Nodegroup(
            f"eks_{key}",
            ClusterName=cluster["Name"],
            NodeRole=node_role["Arn"],
            Subnets=private,
            InstanceTypes=list(ng["instance_types"]),
            AmiType=ng["ami_type"],
            CapacityType=ng["capacity_type"],
            DiskSize=ng["disk_gib"],
            ScalingConfig={"MinSize": ng["min"], "DesiredSize": ng["desired"], "MaxSize": ng["max"]},
            Labels={"genai-demo/node-group": key},
        ))
        for key, ng in e["node_groups"].items()
    }

    # Fargate pods assume this role only for profiles of this cluster (confused-deputy guard).
    fargate_role = stack.add(Role(
        "eks_fargate_pod_role",
        AssumeRolePolicyDocument=_service_trust("eks-fargate-pods.amazonaws.com", {"ArnLike": {
            "aws:SourceArn": Join(f"arn:aws:eks:{region}:*:fargateprofile/", cluster["Name"], "/*")}}),
        ManagedPolicyArns=FARGATE_POLICIES, Description="EKS Fargate pod execution"))
    fargate = stack.add(FargateProfile(
        "eks_fargate",
        ClusterName=cluster["Name"],
        PodExecutionRoleArn=fargate_role["Arn"],
        Subnets=private,
        Selectors=[{"Namespace": ns} for ns in e["fargate_namespaces"]],
    ))

    oidc = stack.add(OpenIDConnectProvider("eks_oidc", Url=cluster["OidcIssuer"]))
    irsa_roles = {
        key: stack.add(Role(
            f"irsa_{key}",
            AssumeRolePolicyDocument=irsa_trust(oidc, sa["namespace"], sa["service_account"]),
            InlinePolicies={"app-config": app_config_policy(region, env, kms_key)},
            Description=f"IRSA: {sa['namespace']}/{sa['service_account']}"))
        for key, sa in e["irsa"].items()
    }

    pull_policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "EksNodesPull", "Effect": "Allow", "Principal": {"AWS": node_role["Arn"]}, "Action": PULL_ACTIONS}]}
    encryption = {"EncryptionType": "KMS", "KmsKey": kms_key["Arn"]} if kms_key else {"EncryptionType": "AES256"}
    repositories = {
        name: stack.add(Repository(
            "ecr_" + name.replace("-", "_"),
            RepositoryName=f"{r['prefix']}/{name}",
            ImageTagMutability=r["tag_mutability"],
            ScanOnPush=r["scan_on_push"],
            EncryptionConfiguration=encryption,
            LifecyclePolicy=keep_last_images(r["keep_images"]),
            RepositoryPolicy=pull_policy,
        ))
        for name in r["repositories"]
    }

    return {"cluster": cluster, "cluster_role": cluster_role, "node_groups": node_groups, "node_role": node_role,
            "fargate_profile": fargate, "fargate_role": fargate_role, "oidc_provider": oidc,
            "irsa_roles": irsa_roles, "repositories": repositories}
