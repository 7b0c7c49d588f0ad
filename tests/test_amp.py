"""Round trips of amp.Workspace and amp.RuleGroupsNamespace on moto."""

import pytest

from core.errors import PlanError
from resources.amp import RuleGroupsNamespace, Workspace

RULES = """groups:
  - name: genai-demo
    rules:
      - alert: PodCrashLooping
        expr: rate(kube_pod_container_status_restarts_total[5m]) > 0
        for: 10m
"""


def _workspace(aws):
    w = Workspace("prometheus")
    w.stack = "observability"
    ws_id, _ = w.create(aws.ctx("prometheus", stack="observability"), dict(w.properties))
    return ws_id


def test_workspace_round_trip(aws):
    w = Workspace("prometheus")
    w.stack = "observability"
    ctx = aws.ctx("prometheus", stack="observability", token="tok-1")
    ws_id, out = w.create(ctx, dict(w.properties))
    assert ws_id.startswith("ws-") and out["Arn"].endswith("workspace/" + ws_id)
    assert out["PrometheusEndpoint"].endswith(f"/workspaces/{ws_id}/")

    amp = aws.client("amp")
    seen = amp.describe_workspace(workspaceId=ws_id)["workspace"]
    assert seen["alias"] == "genai-demo-test-prometheus" and seen["status"]["statusCode"] == "ACTIVE"
    assert amp.list_tags_for_resource(resourceArn=out["Arn"])["tags"]["infra:address"] == "observability.prometheus"

    assert w.read(ctx, ws_id) == {"alias": "genai-demo-test-prometheus"}
    w.update(ctx, ws_id, dict(w.properties), dict(w.properties, alias="genai-demo-test-metrics"))
    assert amp.describe_workspace(workspaceId=ws_id)["workspace"]["alias"] == "genai-demo-test-metrics"

    assert w.find(ctx)[0] == ws_id
    other = Workspace("other")
    other.stack = "observability"
    assert other.find(aws.ctx("other", stack="observability")) is None  # the tag decides, not the alias

    w.delete(ctx, ws_id)
    w.delete(ctx, ws_id)
    assert amp.list_workspaces()["workspaces"] == []
    assert w.read(ctx, ws_id) is None and w.find(ctx) is None


def test_rule_groups_namespace_round_trip(aws):
    ws_id = _workspace(aws)
    n = RuleGroupsNamespace("rules", workspaceId=ws_id, Name="genai-demo", data=RULES)
    n.stack = "observability"
    ctx = aws.ctx("rules", stack="observability")
    pid, out = n.create(ctx, dict(n.properties))
    assert pid == f"{ws_id}|genai-demo" and out["Name"] == "genai-demo"

    amp = aws.client("amp")
    seen = amp.describe_rule_groups_namespace(workspaceId=ws_id, name="genai-demo")["ruleGroupsNamespace"]
    assert seen["data"] == RULES.encode() and seen["status"]["statusCode"] == "ACTIVE"
    assert n.read(ctx, pid) == {"workspaceId": ws_id, "Name": "genai-demo", "data": RULES}

    rules2 = RULES.replace("10m", "15m")
    default = RuleGroupsNamespace("alerts", workspaceId=ws_id, data=RULES)
    default.stack = "observability"
    dctx = aws.ctx("alerts", stack="observability")
    assert default.create(dctx, dict(default.properties))[0] == f"{ws_id}|genai-demo-test-alerts"
    assert default.find(dctx)[0] == f"{ws_id}|genai-demo-test-alerts"
    default.delete(dctx, f"{ws_id}|genai-demo-test-alerts")

    n.update(ctx, pid, dict(n.properties), dict(n.properties, data=rules2))
    seen = amp.describe_rule_groups_namespace(workspaceId=ws_id, name="genai-demo")["ruleGroupsNamespace"]
    assert seen["data"] == rules2.encode()

    assert n.find(ctx)[0] == pid
    n.delete(ctx, pid)
    n.delete(ctx, pid)
    assert amp.list_rule_groups_namespaces(workspaceId=ws_id)["ruleGroupsNamespaces"] == []
    assert n.read(ctx, pid) is None and n.find(ctx) is None


def test_rule_groups_namespace_accepts_bytes_and_rejects_non_rules():
    n = RuleGroupsNamespace("r", workspaceId="ws-1", Name="n", data=RULES.encode())
    assert n.properties["data"] == RULES  # kept as text: state is JSON
    with pytest.raises(PlanError, match="groups"):
        RuleGroupsNamespace("r", workspaceId="ws-1", Name="n", data="alert: x")
    with pytest.raises(PlanError, match="property data must be"):
        RuleGroupsNamespace("r", workspaceId="ws-1", Name="n", data={"groups": []})


def test_rule_groups_namespace_create_after_interrupted_run_adopts(aws):
    """find() cannot resolve a Ref'd workspaceId, so a re-run create adopts the namespace of that name."""
    ws_id = _workspace(aws)
    n = RuleGroupsNamespace("rules", workspaceId=ws_id, data=RULES)
    n.stack = "observability"
    ctx = aws.ctx("rules", stack="observability")
    pid, _ = n.create(ctx, dict(n.properties))
    rules2 = RULES.replace("10m", "20m")
    assert n.create(ctx, dict(n.properties, data=rules2))[0] == pid
    amp = aws.client("amp")
    assert [x["name"] for x in amp.list_rule_groups_namespaces(workspaceId=ws_id)["ruleGroupsNamespaces"]] == \
        ["genai-demo-test-rules"]
    seen = amp.describe_rule_groups_namespace(workspaceId=ws_id, name="genai-demo-test-rules")
    assert seen["ruleGroupsNamespace"]["data"] == rules2.encode()
