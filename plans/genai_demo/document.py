"""The GenAI Demo architecture document's view of this plan: its groups, its service nodes, its arrows.

The architecture document (shared/seed/aws-infrastructure-architecture.md)
draws the platform as seven groups of AWS services joined by labelled
arrows, and promises that its diagram "is automatically updated as the
infrastructure evolves". This module is that document as data: which node
each resource type is drawn as, the group of each node, the arrows with their
labels, and the sizes from the plan shown in the labels. The engine's generic
renderer (orchestrator/diagram.py, render.py) draws it, and
orchestrator/architecture.py writes docs/architecture.md from it:

    python -m orchestrator.architecture > docs/architecture.md
    infra graph --doc > docs/architecture.md          (same text)

It knows resource *types* and a few of their properties, never AWS itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.diagram import OTHER, Document, Group, Service, plural
from plans.genai_demo import sg_paths
from resources.base import Join, Ref, Resource, walk_refs

# In the document's order, with its colours.
GROUPS: tuple[Group, ...] = (
    Group("network", "Networking & Security", "fill:#2196f3,stroke:#0d47a1,stroke-width:2px", "#e3f2fd"),
    Group("container", "Container Platform", "fill:#4caf50,stroke:#1b5e20,stroke-width:2px", "#e8f5e9"),
    Group("data", "Data Services", "fill:#9c27b0,stroke:#4a148c,stroke-width:2px", "#f3e5f5"),
    Group("observability", "Observability Services", "fill:#ff5722,stroke:#bf360c,stroke-width:2px", "#fbe9e7"),
    Group("analytics", "Analytics & BI", "fill:#607d8b,stroke:#263238,stroke-width:2px", "#eceff1"),
    Group("config", "Configuration & Secrets", "fill:#795548,stroke:#3e2723,stroke-width:2px", "#efebe9"),
    Group("monitoring", "Monitoring & Alerting", "fill:#e91e63,stroke:#880e4f,stroke-width:2px", "#fce4ec"),
    OTHER,
)
GROUP = {g.key: g for g in GROUPS}

# The document's nodes, plus four it leaves out although the plan needs them (ACM, Route 53, KMS, x86 nodes).
SERVICES: dict[str, Service] = {s.key: s for s in (
    Service("VPC", "network", "VPC", "Multi-AZ Setup"),
    Service("ALB", "network", "Application Load Balancer", "SSL Termination"),
    Service("ACM", "network", "AWS Certificate Manager", "TLS Certificates"),
    Service("ROUTE53", "network", "Amazon Route 53", "DNS Validation Records"),
    Service("WAF", "network", "AWS WAF", "Security Rules"),
    Service("SG", "network", "Security Groups", "Network ACLs"),
    Service("EKS", "container", "Amazon EKS", "Kubernetes"),
    Service("ECR", "container", "Amazon ECR", "Container Registry"),
    Service("FARGATE", "container", "Fargate Nodes", "Serverless Compute"),
    Service("GRAVITON", "container", "Graviton Nodes", "ARM64 Instances"),
    Service("NODES", "container", "Managed Nodes", "x86_64 Instances"),
    Service("RDS", "data", "RDS PostgreSQL", "Multi-AZ, Encrypted"),
    Service("MSK", "data", "Amazon MSK", "Kafka Cluster"),
    Service("REDIS", "data", "ElastiCache Redis", "Session & Cache"),
    Service("S3", "data", "S3 Buckets", "Data Lake & Backups"),
    Service("CW", "observability", "CloudWatch", "Logs & Metrics"),
    Service("XRAY", "observability", "AWS X-Ray", "Distributed Tracing"),
    Service("OPENSEARCH", "observability", "OpenSearch Service", "Log Analytics"),
    Service("PROMETHEUS", "observability", "Managed Prometheus", "Metrics Storage"),
    Service("FIREHOSE", "analytics", "Kinesis Data Firehose", "Data Streaming"),
    Service("GLUE", "analytics", "AWS Glue", "Data Catalog & ETL"),
    Service("ATHENA", "analytics", "Amazon Athena", "Serverless Queries"),
    Service("QUICKSIGHT", "analytics", "QuickSight", "Business Intelligence"),
    Service("SSM", "config", "Systems Manager", "Parameter Store"),
    Service("SECRETS", "config", "Secrets Manager", "Database Credentials"),
    Service("IAM", "config", "IAM Roles & Policies", "IRSA for EKS"),
    Service("KMS", "config", "AWS KMS", "Encryption Keys"),
    Service("SNS", "monitoring", "SNS Topics", "Alert Notifications"),
    Service("LAMBDA", "monitoring", "Lambda Functions", "Custom Metrics & Automation"),
    Service("EVENTBRIDGE", "monitoring", "EventBridge", "Event Routing"),
)}

# boto3 service of a type -> the document's node; BY_TYPE refines where one service spans two nodes.
BY_SERVICE: dict[str, str] = {
    "ec2": "VPC", "elbv2": "ALB", "acm": "ACM", "wafv2": "WAF", "eks": "EKS", "ecr": "ECR", "rds": "RDS",
    "kafka": "MSK", "elasticache": "REDIS", "s3": "S3", "logs": "CW", "cloudwatch": "CW", "xray": "XRAY",
    "opensearch": "OPENSEARCH", "amp": "PROMETHEUS", "firehose": "FIREHOSE", "glue": "GLUE",
    "athena": "ATHENA", "quicksight": "QUICKSIGHT", "ssm": "SSM", "secretsmanager": "SECRETS", "iam": "IAM",
    "kms": "KMS", "sns": "SNS", "lambda": "LAMBDA", "events": "EVENTBRIDGE", "route53": "ROUTE53",
}
BY_TYPE: dict[str, str] = {
    "ec2.SecurityGroup": "SG", "ec2.SecurityGroupRule": "SG", "ec2.NetworkAcl": "SG",
    "ec2.NetworkAclEntry": "SG", "eks.FargateProfile": "FARGATE",
    "ec2.LaunchTemplate": "SG",  # what it holds for the nodes is their security group
}

# The document's arrows (from, to) -> label. A service edge whose ends match one, in either direction,
# is drawn the document's way round with its label.
RELATIONS: dict[tuple[str, str], str] = {
    ("ALB", "EKS"): "Routes to", ("WAF", "ALB"): "Protects", ("ROUTE53", "ACM"): "DNS-validates",
    ("VPC", "EKS"): "Contains", ("VPC", "RDS"): "Contains", ("VPC", "MSK"): "Contains", ("VPC", "REDIS"): "Contains",
    ("EKS", "ECR"): "Pulls images", ("EKS", "FARGATE"): "Runs on", ("EKS", "GRAVITON"): "Runs on",
    ("EKS", "NODES"): "Runs on",
    ("EKS", "RDS"): "Connects to", ("EKS", "MSK"): "Publishes to", ("EKS", "REDIS"): "Caches in",
    ("MSK", "FIREHOSE"): "Streams to",
    ("EKS", "CW"): "Logs to", ("EKS", "XRAY"): "Traces to", ("CW", "OPENSEARCH"): "Streams to",
    ("CW", "S3"): "Archives to",
    ("FIREHOSE", "S3"): "Stores in", ("S3", "GLUE"): "Catalogs with", ("GLUE", "ATHENA"): "Queries via",
    ("ATHENA", "QUICKSIGHT"): "Visualizes in", ("OPENSEARCH", "QUICKSIGHT"): "Dashboards in",
    ("EKS", "SSM"): "Reads config", ("EKS", "SECRETS"): "Gets secrets", ("IAM", "EKS"): "Authorizes",
    ("CW", "SNS"): "Triggers", ("LAMBDA", "EVENTBRIDGE"): "Processes", ("EVENTBRIDGE", "SNS"): "Routes events",
}

# Who may assume a role whose trust names only these belongs to the cluster's workloads (see service_of).
EKS_WORKLOAD_PRINCIPALS = frozenset({"eks-fargate-pods.amazonaws.com", "pods.eks.amazonaws.com"})


def _trusted_principals(role: Resource) -> tuple[set[str], set[str]]:
    """(service principals, types of the resources federated principals refer to) of a role's trust policy."""
    doc = role.properties.get("AssumeRolePolicyDocument")
    services: set[str] = set()
    if isinstance(doc, Mapping):
        for stmt in doc.get("Statement") or []:
            svc = (stmt.get("Principal") or {}).get("Service") if isinstance(stmt, Mapping) else None
            services.update([svc] if isinstance(svc, str) else svc or [])
    federated = {ref.resource.type_name for ref in walk_refs(doc) if isinstance(ref.resource, Resource)
                 and ref.resource.type_name == "iam.OpenIDConnectProvider"}
    return services, federated


def is_eks_workload_role(resource: Resource | None) -> bool:
    """A role only the cluster's workloads can assume: IRSA (federated through the cluster's OIDC provider),
    EKS Pod Identity, or the Fargate pod execution role. The node role is EC2's (any instance could carry it).
    """
    if resource is None or resource.type_name != "iam.Role":
        return False
    services, federated = _trusted_principals(resource)
    return bool(federated and not services) or bool(services and services <= EKS_WORKLOAD_PRINCIPALS)


def service_of(type_name: str, resource: Resource | None = None) -> str:
    """The document's node for a resource (node groups: Graviton when ARM, managed x86 nodes otherwise).

    A role only the cluster's workloads can assume (is_eks_workload_role) is drawn as EKS: it is the pods'
    AWS identity, so what its policy names is what the workloads on EKS reach (the document's EKS -> RDS,
    MSK, Redis, Secrets Manager and ECR arrows; the load balancer controller's, ALB -> EKS). The document
    lists "IRSA for EKS" under IAM: what authorizes those identities stays there (the OIDC provider they
    federate through, the cluster's service role), which is its IAM -> EKS "Authorizes" arrow.
    """
    if type_name == "eks.Nodegroup":
        ami = str(_plain(resource.properties.get("AmiType")) or "") if resource is not None else ""
        return "GRAVITON" if "ARM" in ami.upper() else "NODES"
    if is_eks_workload_role(resource):
        return "EKS"
    if type_name in BY_TYPE:
        return BY_TYPE[type_name]
    return BY_SERVICE.get(type_name.split(".", 1)[0], type_name.split(".", 1)[0].upper())


def group_of(service: str) -> str:
    s = SERVICES.get(service)
    return s.group if s else "other"


# --------------------------------------------------------------------------- labels from the plan


def _plain(v: Any) -> Any:
    """A property value when the plan states it; None when only AWS will know it (a Ref)."""
    if isinstance(v, (Ref, Join)) or any(True for _ in walk_refs(v)):
        return None
    return v


def _props(rs: list[Resource], type_name: str) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in r.properties.items()} for r in rs if r.type_name == type_name]


def _vpc(rs: list[Resource]) -> str:
    subnets = _props(rs, "ec2.Subnet")
    azs = {s.get("AvailabilityZone") for s in subnets if s.get("AvailabilityZone")}
    nats = len(_props(rs, "ec2.NatGateway"))
    parts = [f"{len(azs)} AZs" if azs else "Multi-AZ Setup", f"{len(subnets)} subnets" if subnets else ""]
    parts.append(plural(nats, "NAT gateway") if nats else "")
    return ", ".join(p for p in parts if p)


def _alb(rs: list[Resource]) -> str:
    ls = sorted(_props(rs, "elbv2.Listener"), key=lambda p: p.get("Port") or 0)
    return ", ".join(f"{p.get('Protocol')} {p.get('Port')}" for p in ls) or SERVICES["ALB"].note


def _sg(rs: list[Resource]) -> str:
    n = Counter(r.type_name for r in rs)
    parts = [f"{n['ec2.SecurityGroup']} groups" if n["ec2.SecurityGroup"] else "",
             f"{n['ec2.SecurityGroupRule']} rules" if n["ec2.SecurityGroupRule"] else "",
             f"{n['ec2.NetworkAcl']} network ACLs" if n["ec2.NetworkAcl"] else ""]
    return ", ".join(p for p in parts if p) or SERVICES["SG"].note


def _eks(rs: list[Resource]) -> str:
    versions = sorted({str(p["Version"]) for p in _props(rs, "eks.Cluster") if p.get("Version")})
    return f"Kubernetes {', '.join(versions)}" if versions else SERVICES["EKS"].note


def _nodes(rs: list[Resource]) -> str:
    out = []
    for p in _props(rs, "eks.Nodegroup"):
        types = "/".join(p.get("InstanceTypes") or []) or "nodes"
        sc = p.get("ScalingConfig") or {}
        out.append(f"{types} x{sc.get('MinSize')}-{sc.get('MaxSize')}" if sc else types)
    return ", ".join(out)


def _fargate(rs: list[Resource]) -> str:
    ns = sorted({s.get("Namespace") for p in _props(rs, "eks.FargateProfile") for s in (p.get("Selectors") or [])
                 if isinstance(s, dict) and s.get("Namespace")})
    return f"Serverless, namespace {', '.join(ns)}" if ns else SERVICES["FARGATE"].note


def _rds(rs: list[Resource]) -> str:
    dbs = [r for r in rs if r.type_name == "rds.DBInstance"]
    replicas = [r for r in dbs if "SourceDBInstanceIdentifier" in r.properties]
    primary = _props([r for r in dbs if "SourceDBInstanceIdentifier" not in r.properties], "rds.DBInstance")
    if not primary:
        return SERVICES["RDS"].note
    p = primary[0]
    parts = [str(p.get("DBInstanceClass") or ""), "Multi-AZ" if p.get("MultiAZ") else "Single-AZ"]
    if p.get("StorageEncrypted"):
        parts.append("Encrypted")
    if replicas:
        parts.append(plural(len(replicas), "read replica"))
    return ", ".join(x for x in parts if x)


def _msk(rs: list[Resource]) -> str:
    for p in _props(rs, "kafka.Cluster"):
        itype = (p.get("BrokerNodeGroupInfo") or {}).get("InstanceType")
        return f"{p.get('NumberOfBrokerNodes')} brokers" + (f", {itype}" if itype else "")
    return SERVICES["MSK"].note


def _redis(rs: list[Resource]) -> str:
    for p in _props(rs, "elasticache.ReplicationGroup"):
        parts = [str(p.get("CacheNodeType") or ""),
                 "cluster mode" if str(p.get("ClusterMode") or "").lower() == "enabled" else "",
                 "Multi-AZ" if p.get("MultiAZEnabled") else "single node" if p.get("NumCacheClusters") == 1 else ""]
        return ", ".join(x for x in parts if x)
    return SERVICES["REDIS"].note


def _count(type_name: str, noun: str, nouns: str = "") -> Callable[[list[Resource]], str]:
    def label(rs: list[Resource]) -> str:
        n = sum(1 for r in rs if r.type_name == type_name)
        return plural(n, noun, nouns) if n else ""
    return label


DETAIL: dict[str, Callable[[list[Resource]], str]] = {
    "VPC": _vpc, "ALB": _alb, "SG": _sg, "EKS": _eks, "GRAVITON": _nodes, "NODES": _nodes,
    "FARGATE": _fargate, "RDS": _rds, "MSK": _msk, "REDIS": _redis,
    "ECR": _count("ecr.Repository", "repository", "repositories"), "S3": _count("s3.Bucket", "bucket"),
    "SSM": _count("ssm.Parameter", "parameter"), "SECRETS": _count("secretsmanager.Secret", "secret"),
    "IAM": _count("iam.Role", "role"),
}


def detail(service: str, resources: list[Resource]) -> str:
    """The second label line from the plan's own values ("" leaves the document's note)."""
    fn = DETAIL.get(service)
    return fn(resources) if fn else ""


INTRO = """\
This is the architecture document's diagram drawn from the code: every resource the plan
`plans/{plan}` declares, folded into one node per AWS service and grouped the way
the architecture document groups them (networking & security, container platform, data
services, observability, analytics, configuration & secrets, monitoring & alerting), per
stack and environment profile. Sizes in the labels are the profile's own values.

Reading the arrows: a labelled arrow is one of the architecture document's relations
(`WAF -->|Protects| ALB`), found because some resource of one service refers to a resource of
the other; an unlabelled arrow `A --> B` means a resource of B refers to one of A (B is built
on A). Services the document does not draw but the plan needs (ACM certificates, KMS keys, x86
managed nodes in dev) have nodes of their own.

Other views of the same graph:

- `infra graph --env production --format mermaid` (one node per resource, same groups)
- `infra graph --env production --format mermaid --level service` (this diagram)
- `infra graph --env production --format svg > graph.svg` (needs Graphviz's `dot`)
- `infra graph --env production --critical-path` (the longest chain, with durations)
"""

DOCUMENT = Document(groups=GROUPS, services=SERVICES, service_of=service_of, relations=RELATIONS, detail=detail,
                    title="GenAI Demo infrastructure architecture", intro=INTRO, envs=("dev", "production"),
                    sections=sg_paths.markdown)
