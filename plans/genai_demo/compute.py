"""Container platform of the main stack: EKS, its IAM roles, IRSA, and the ECR repositories.

Chain: private subnets + app security group -> EKS cluster -> node groups and
the Fargate profile; cluster OIDC issuer -> IAM OIDC provider -> IRSA roles.
The node role and the Fargate pod execution role are what the repositories'
policies let pull.

Workload network (audit real-aws finding 2, security M1): EKS puts the app
security group given as ResourcesVpcConfig.SecurityGroupIds on the control
plane only. Managed nodes get EKS's cluster security group unless their launch
template names groups, so each node group has an ec2.LaunchTemplate with the
app group (and its disk, which EKS then refuses as DiskSize); Fargate pods
always carry the cluster group, so CLUSTER_SG_RULES give it the same paths as
the app group (ALB targets, data stores) plus EKS's node/control-plane minimum.

Workload access (the architecture document's EKS -> RDS/MSK/Redis/Secrets
Manager arrows, ALB -> EKS): the pods' AWS identity is their IRSA role, so its
policy names the actual resources the application reaches when the data layer
and the secrets are given (`data=`, `secrets=`): rds-db:connect on each DB
instance's DbiResourceId, kafka-cluster actions on the MSK cluster and its
topics/groups, elasticache:Connect on the replication group, GetSecretValue on
the two secrets; without them (a compute-only stack) it falls back to the env's
name patterns. The AWS Load Balancer Controller's IRSA role may register pod
IPs only into the ALB's target groups (`target_groups=`).

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
from resources.ec2 import LaunchTemplate, SecurityGroupRule
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


def app_config_policy(region: str, env: str, kms_key: Resource | None,
                      secrets: dict[str, Resource] | None = None) -> dict[str, Any]:
    """Read the env's SSM parameters (/genai-demo/<env>/*) and its secrets, decrypt with the key.

    The secrets are named by their ARNs when given (the app's database login
    and the Redis AUTH token: nothing else), else by the env's name pattern.
    The account is a wildcard because no resource outputs it; region, project
    and env narrow the ARNs to this deployment's names.
    """
    secret_arns: Any = ([s["Arn"] for _, s in sorted(secrets.items())] if secrets
                        else f"arn:aws:secretsmanager:{region}:*:secret:genai-demo/{env}/*")
    stmts: list[dict[str, Any]] = [
        {"Sid": "ReadConfig", "Effect": "Allow",
         "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
         "Resource": f"arn:aws:ssm:{region}:*:parameter/genai-demo/{env}/*"},
        {"Sid": "ReadSecrets", "Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
         "Resource": secret_arns},
    ]
    if kms_key is not None:
        stmts.append({"Sid": "DecryptWithMainKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"],
                      "Resource": kms_key["Arn"]})
    return {"Version": "2012-10-17", "Statement": stmts}


def data_access_policy(region: str, data: dict[str, Any], db_user: str) -> dict[str, Any]:
    """What the application does with the data stores, on those stores only (least privilege).

    - RDS: rds-db:connect as the application's login on the primary and every
      read replica (the IAM auth token; the ARN names the instance by its
      DbiResourceId, which only the instance outputs).
    - MSK (IAM client authentication is the only one the cluster enables):
      connect/describe the cluster, read/write its topics, use its consumer
      groups. Topic and group ARNs are the cluster's name and UUID plus the
      topic: `topic/<cluster>/*` covers this cluster's.
    - ElastiCache: elasticache:Connect on the replication group (IAM auth to
      Redis; the AUTH token in Secrets Manager is the other way in).
    """
    dbs = [data["db"], *data.get("db_replicas", [])]
    kafka = data["kafka"]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ConnectToDatabase", "Effect": "Allow", "Action": "rds-db:connect",
         "Resource": [Join(f"arn:aws:rds-db:{region}:*:dbuser:", db["DbiResourceId"], f"/{db_user}") for db in dbs]},
        {"Sid": "KafkaCluster", "Effect": "Allow",
         "Action": ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"], "Resource": kafka["Arn"]},
        {"Sid": "KafkaTopics", "Effect": "Allow",
         "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData", "kafka-cluster:WriteData"],
         "Resource": Join(f"arn:aws:kafka:{region}:*:topic/", kafka["ClusterName"], "/*")},
        {"Sid": "KafkaConsumerGroups", "Effect": "Allow",
         "Action": ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
         "Resource": Join(f"arn:aws:kafka:{region}:*:group/", kafka["ClusterName"], "/*")},
        {"Sid": "ConnectToRedis", "Effect": "Allow", "Action": "elasticache:Connect",
         "Resource": data["redis"]["Arn"]},
    ]}


# Paths to and from what EKS gives the cluster security group ("cluster"): the control plane's interfaces
# and the Fargate pods (docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html). The nodes carry the
# app group through their launch template, so EKS's minimum between nodes and control plane (443 to the API,
# 10250 to the kubelet) is declared here, with the Fargate pods' paths: the ALB's targets and the data stores,
# as the app group has them (network.py), and DNS to CoreDNS on the nodes.
# (group, direction, protocol, port, peer, description); groups and peers are network.py's keys or "cluster".
CLUSTER_SG_RULES: list[tuple[str, str, str, int, str, str]] = [
    ("cluster", "ingress", "tcp", 443, "app", "Kubernetes API from the nodes"),
    ("app", "ingress", "tcp", 443, "cluster", "Webhooks on the nodes from the control plane"),
    ("app", "ingress", "tcp", 10250, "cluster", "kubelet from the control plane"),
    ("app", "ingress", "tcp", 53, "cluster", "DNS (CoreDNS on the nodes) from Fargate pods"),
    ("app", "ingress", "udp", 53, "cluster", "DNS (CoreDNS on the nodes) from Fargate pods"),
    ("cluster", "ingress", "tcp", 8080, "alb", "Application port from the ALB (Fargate pods)"),
    ("alb", "egress", "tcp", 8080, "cluster", "ALB to Fargate pod targets"),
    ("database", "ingress", "tcp", 5432, "cluster", "PostgreSQL from Fargate pods"),
    ("redis", "ingress", "tcp", 6379, "cluster", "Redis from Fargate pods"),
    ("msk", "ingress", "tcp", 9098, "cluster", "Kafka IAM auth from Fargate pods"),
    ("opensearch", "ingress", "tcp", 443, "cluster", "OpenSearch HTTPS from Fargate pods"),
]

# The AWS Load Balancer Controller runs in kube-system under this service account.
LBC_SERVICE_ACCOUNT = ("kube-system", "aws-load-balancer-controller")
# Describe calls have no resource-level permissions in Elastic Load Balancing and EC2.
LBC_DESCRIBE = ["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancers", "ec2:DescribeInstances", "ec2:DescribeVpcs",
                "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces"]


def load_balancer_controller_policy(target_groups: dict[str, Resource]) -> dict[str, Any]:
    """The controller's TargetGroupBindings: register and deregister pod IPs in the ALB's target groups only."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "RegisterPodTargets", "Effect": "Allow",
         "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
         "Resource": [tg["TargetGroupArn"] for _, tg in sorted(target_groups.items())]},
        {"Sid": "Describe", "Effect": "Allow", "Action": LBC_DESCRIBE, "Resource": "*"},
    ]}


def build(stack: Stack, p: dict[str, Any], net: dict[str, Any], kms_key: Resource | None = None,
          data: dict[str, Any] | None = None, secrets: dict[str, Resource] | None = None,
          target_groups: dict[str, Resource] | None = None) -> dict[str, Any]:
    """`data` (the data layer's result), `secrets` (name -> secretsmanager.Secret) and `target_groups`
    (the edge layer's) narrow the workloads' IRSA policies to those resources; see the module docstring."""
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

    groups = {**{k: g["GroupId"] for k, g in net["security_groups"].items()},
               "cluster": cluster["ClusterSecurityGroupId"]}
    cluster_sg_rules = [
        stack.add(SecurityGroupRule(
            f"{key}_sg_{direction}_{proto}{port}_{peer}", GroupId=groups[key], Direction=direction,
            IpProtocol=proto, FromPort=port, ToPort=port, SourceSecurityGroupId=groups[peer], Description=desc))
        for key, direction, proto, port, peer, desc in CLUSTER_SG_RULES
        if key in groups and peer in groups]  # a compute-only stack has the app group only
    # Managed nodes without a launch template carry only the cluster security group: the template puts
    # the app group on them instead (and their disk, which EKS then refuses as DiskSize).
    templates = {
        key: stack.add(LaunchTemplate(
            f"eks_{key}_template", SecurityGroupIds=[groups["app"]],
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {
                "VolumeSize": ng["disk_gib"], "VolumeType": "gp3", "Encrypted": True}}],
            MetadataOptions={"HttpTokens": "required", "HttpPutResponseHopLimit": 2}))
        for key, ng in e["node_groups"].items()
    }

    node_groups = {
        key: stack.add(Nodegroup(
            f"eks_{key}",
            ClusterName=cluster["Name"],
            NodeRole=node_role["Arn"],
            Subnets=private,
            InstanceTypes=list(ng["instance_types"]),
            AmiType=ng["ami_type"],
            CapacityType=ng["capacity_type"],
            LaunchTemplate={"Id": templates[key]["LaunchTemplateId"],
                            "Version": Join(templates[key]["LatestVersionNumber"])},
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
            InlinePolicies={"app-config": app_config_policy(region, env, kms_key, secrets),
                            **({"data-access": data_access_policy(region, data, p["security"]["app_db_username"])}
                               if data is not None else {})},
            Description=f"IRSA: {sa['namespace']}/{sa['service_account']}"))
        for key, sa in e["irsa"].items()
    }
    if target_groups:
        ns, sa_name = LBC_SERVICE_ACCOUNT
        irsa_roles["load_balancer_controller"] = stack.add(Role(
            "irsa_load_balancer_controller", AssumeRolePolicyDocument=irsa_trust(oidc, ns, sa_name),
            InlinePolicies={"target-groups": load_balancer_controller_policy(target_groups)},
            Description=f"IRSA: {ns}/{sa_name} (fills the ALB's target groups with pod IPs)"))

    # Nodes pull with the node role; Fargate pods' images are pulled with the pod execution role.
    pull_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "EksNodesPull", "Effect": "Allow", "Principal": {"AWS": node_role["Arn"]}, "Action": PULL_ACTIONS},
        {"Sid": "EksFargatePull", "Effect": "Allow", "Principal": {"AWS": fargate_role["Arn"]},
         "Action": PULL_ACTIONS}]}
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
            "launch_templates": templates, "cluster_sg_rules": cluster_sg_rules,
            "fargate_profile": fargate, "fargate_role": fargate_role, "oidc_provider": oidc,
            "irsa_roles": irsa_roles, "repositories": repositories}
