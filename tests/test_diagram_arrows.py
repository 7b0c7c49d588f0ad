"""Every arrow between AWS services in the architecture diagram is a real dependency edge in the production graph.

The arrows are read from the document's own Mermaid source, so a new arrow there
fails this test until the code holds a reference that stands for it. The edges
come from `infra graph --env production --format json`; each resource is given
the document's service by orchestrator/architecture.py's `service_of`, which
looks at the resource itself (so the plan is loaded for that, and its graph must
be the JSON's node for node).

How the arrows that needed work are real (arrow -> resource edge -> why it is
that relation in AWS). "EKS" resources include the roles only the cluster's
workloads can assume (architecture.is_eks_workload_role: the IRSA roles, whose
trust is the cluster's OIDC provider, and the Fargate pod execution role, whose
trust is eks-fargate-pods limited to this cluster's profiles): they are the pods'
AWS identity. The document lists "IRSA for EKS" under IAM; what authorizes them
stays IAM (the OIDC provider, the cluster's service role): that is its
IAM -> EKS "Authorizes" arrow.

| arrow | resource edge | why it is that relation |
| --- | --- | --- |
| ALB -Routes to-> EKS | tg_backend -> irsa_load_balancer_controller (policy names the target group ARN) | the target groups are of type ip: the AWS Load Balancer Controller on EKS registers pod IPs in them, and this role (kube-system/aws-load-balancer-controller) may Register/DeregisterTargets on those target groups only |
| EKS -Pulls images-> ECR | eks_fargate_pod_role -> ecr_* (repository policy names the role) | Fargate pulls a pod's images with its pod execution role; the repository policy admits that role (and the node role, for node groups) to pull |
| EKS -Connects to-> RDS | db, db_replica_* -> irsa_app (rds-db:connect on dbuser:<DbiResourceId>/genai_app) | the application connects as its own login with an IAM auth token; the grant is per instance, by the id only the instance outputs |
| EKS -Publishes to-> MSK | kafka -> irsa_app (kafka-cluster:* on the cluster ARN, topic/<cluster>/*, group/<cluster>/*) | the cluster enables IAM client authentication only: without this grant no pod can connect, publish or consume |
| EKS -Caches in-> REDIS | redis -> irsa_app (elasticache:Connect on the replication group ARN) | the pods' right to open a Redis connection as an IAM-authenticated user |
| EKS -Gets secrets-> SECRETS | app_db_secret, redis_auth_secret -> irsa_app (GetSecretValue on those ARNs) | the pods read the database login and the Redis AUTH token, and only those (was a name pattern) |
| CW -Streams to-> OPENSEARCH | application_logs_to_opensearch -> logs_opensearch_stream -> opensearch | a subscription filter is how CloudWatch Logs streams; AWS delivers it only to Kinesis, Firehose or Lambda, so the filter's destination is a Firehose stream that exists only to index these logs into the domain |
| CW -Archives to-> S3 | application_logs_to_s3 -> logs_archive_stream -> data_lake | same: the filter's Firehose stream writes the log records under logs/ in the data-lake bucket (CloudWatch Logs' own export to S3 is a one-off task, not a standing relation) |

The last two are the only arrows met through a carrier: a `logs.SubscriptionFilter`
whose destination is a Firehose stream that in turn refers to a resource of the
target service (CARRIED below). Every other arrow needs a direct edge.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import pytest

from orchestrator import architecture as arch
from plans.genai_demo import document as gdoc
from tests.helpers import infra

DOC = Path(__file__).resolve().parents[2] / "shared" / "seed" / "aws-infrastructure-architecture.md"
# Document node id -> the service our architecture map uses (the document's GRAVITON/FARGATE are platform nodes).
SERVICE = {"CW": "CW", "SECRETS": "SECRETS", "REDIS": "REDIS", "XRAY": "XRAY", "LAMBDA": "LAMBDA",
           "EVENTBRIDGE": "EVENTBRIDGE", "OPENSEARCH": "OPENSEARCH", "QUICKSIGHT": "QUICKSIGHT"}
# Arrows between AWS services (the document's CDK -> group arrows and VPC containment are structure, not edges
# between two services' resources; "Runs on" arrows are checked by the graph inspection tests).
SKIP_FROM = {"CDK"}
OFF_IN_REGION = {"QUICKSIGHT"}  # profiles.py: analytics.quicksight is False where QuickSight has no endpoint
SKIP_LABELS = {"Deploys", "Contains", "Runs on"}
# Arrows AWS can only realize through a carrier: (from, to) -> (the from side's type, the carrier's type).
CARRIED = {("CW", "OPENSEARCH"): ("logs.SubscriptionFilter", "firehose.DeliveryStream"),
           ("CW", "S3"): ("logs.SubscriptionFilter", "firehose.DeliveryStream")}


def doc_arrows() -> list[tuple[str, str, str]]:
    if not DOC.exists():
        pytest.skip(f"architecture document not found at {DOC}")
    text = DOC.read_text()
    found = re.findall(r"^\s*([A-Z0-9_]+)\s*-->\|([^|]+)\|\s*([A-Z0-9_]+)\s*$", text, re.M)
    return [(a, b, label) for a, label, b in found if a not in SKIP_FROM and label not in SKIP_LABELS]


def carried(g: nx.DiGraph, services: dict[str, str], types: dict[str, str], sa: str, sb: str) -> list[str]:
    """Chains source -> carrier -> target where the source (of service sa) names the carrier as its
    destination and the carrier refers to a resource of service sb."""
    source_type, carrier_type = CARRIED[(sa, sb)]
    chains = []
    for carrier in (n for n in g if types[n] == carrier_type):
        sources = [u for u in g.successors(carrier) if services[u] == sa and types[u] == source_type]
        targets = [t for t in g.predecessors(carrier) if services[t] == sb]
        chains += [f"{s} -> {carrier} -> {t}" for s in sources for t in targets]
    return chains


def test_document_lists_the_arrows_of_issue_5():
    arrows = {(a, b) for a, b, _ in doc_arrows()}
    assert len(arrows) == 22 and ("ALB", "EKS") in arrows and ("EVENTBRIDGE", "SNS") in arrows


def test_every_diagram_arrow_has_an_edge():
    data = json.loads(infra("graph", "--env", "production", "--format", "json").stdout)
    g = nx.node_link_graph(data, edges="edges")  # edges point from what is needed to what needs it
    _, plan_g = arch.plan_graph("genai_demo", "production")
    assert set(g) == set(plan_g)
    services = {n: gdoc.service_of(d["type"], d["resource"]) for n, d in plan_g.nodes(data=True)}
    types = {n: d["type"] for n, d in g.nodes(data=True)}
    missing, off = [], set()
    present = set(services.values())
    for a, b, label in doc_arrows():
        sa, sb = SERVICE.get(a, a), SERVICE.get(b, b)
        if not {sa, sb} <= present:
            off |= {sa, sb} - present
            continue
        edges = [(u, v) for u, v in g.edges() if {services[u], services[v]} == {sa, sb}]
        if not edges and (sa, sb) in CARRIED:
            edges = carried(g, services, types, sa, sb)
        if not edges:
            missing.append(f"{a} -{label}-> {b}")
    assert not missing, "diagram arrows with no dependency edge in the production graph: " + "; ".join(missing)
    # Where AWS and the document disagree, AWS wins: QuickSight has no endpoint in ap-east-2, the plans'
    # region, so the profiles leave it out (profiles.py) and its arrows have nothing to stand on. No other
    # service may go missing this way.
    assert off == OFF_IN_REGION, f"services of the document missing from the production graph: {sorted(off)}"


def test_the_workloads_reach_exactly_the_resources_they_use():
    """The edges above come from least-privilege grants: the app's IRSA role names the stores and secrets it
    uses (no wildcard secret pattern), the controller's names the ALB's target groups only."""
    _, g = arch.plan_graph("genai_demo", "production")
    app = set(g.predecessors("main.irsa_app"))
    assert {"main.db", "main.db_replica_1", "main.db_replica_2", "main.kafka", "main.redis", "main.app_db_secret",
            "main.redis_auth_secret", "main.kms_key", "main.eks_oidc"} <= app
    policies = g.nodes["main.irsa_app"]["resource"].properties["InlinePolicies"]
    read = {s["Sid"]: s for s in policies["app-config"]["Statement"]}["ReadSecrets"]
    assert isinstance(read["Resource"], list) and len(read["Resource"]) == 2
    assert set(g.predecessors("main.irsa_load_balancer_controller")) == {"main.tg_backend", "main.eks_oidc"}
    roles = {n: gdoc.is_eks_workload_role(d["resource"]) for n, d in g.nodes(data=True) if d["type"] == "iam.Role"}
    assert {n for n, is_eks in roles.items() if is_eks} == {
        "main.irsa_app", "main.irsa_load_balancer_controller", "main.eks_fargate_pod_role"}


def test_a_removed_grant_names_its_arrow(monkeypatch):
    """The walk fails naming the arrow when the reference that stands for it is gone."""
    from plans.genai_demo import compute

    monkeypatch.setattr(compute, "load_balancer_controller_policy", lambda tgs: {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": compute.LBC_DESCRIBE, "Resource": "*"}]})
    with pytest.raises(AssertionError, match=r"production graph: ALB -Routes to-> EKS\n"):
        test_every_diagram_arrow_has_an_edge()
