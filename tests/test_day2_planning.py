"""Day-2 planning without AWS: target closures, targeted plans, lifecycle in state, plan files, ARN forms."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from core.errors import InfraError, PlanError
from orchestrator import day2
from orchestrator.graph import build_graph, deps_graph, target_closure
from orchestrator.model import Plan
from orchestrator.planner import plan_apply, plan_destroy
from resources.base import Lifecycle
from state.dynamodb import Record
from tests.fakes import Thing


def diamond(protect_d: bool = False, ignore: tuple[str, ...] | None = None) -> Plan:
    """a <- b <- c, and d on its own."""
    p = Plan("proj", "dev")
    s = p.stack("main")
    a = s.add(Thing("a", Name="a"))
    b = s.add(Thing("b", Parent=a["Id"], Size=2))
    s.add(Thing("c", Name=b["Arn"]))
    s.add(Thing("d", Name="d", lifecycle=Lifecycle(protect=protect_d or None, ignore_changes=ignore)))
    return p


def rec(addr: str, props: dict, deps=(), **kw) -> Record:
    pid = "id-" + addr.split(".")[1]
    return Record(addr, "test.Thing", pid, props, {"Id": pid, "Arn": f"arn:{pid}"}, deps=list(deps), **kw)


def applied() -> dict[str, Record]:
    return {"main.a": rec("main.a", {"Name": "a", "Size": 1}),
            "main.b": rec("main.b", {"Parent": "id-a", "Size": 2}, deps=["main.a"]),
            "main.c": rec("main.c", {"Name": "arn:id-b", "Size": 1}, deps=["main.b"]),
            "main.d": rec("main.d", {"Name": "d", "Size": 1})}


def test_target_closure_follows_needs_on_apply_and_dependents_on_destroy():
    g, _ = build_graph(diamond())
    assert target_closure(g) is None
    assert target_closure(g, ["main.c"]) == {"main.a", "main.b", "main.c"}
    assert target_closure(g, ["main.a"], destroy=True) == {"main.a", "main.b", "main.c"}
    assert target_closure(g, exclude=["main.b"]) == {"main.a", "main.d"}  # c needs b: out too
    assert target_closure(g, ["main.c"], exclude=["main.c"]) == {"main.a", "main.b"}
    assert target_closure(g, exclude=["main.b"], destroy=True) == {"main.c", "main.d"}  # b needs a: a stays
    with pytest.raises(PlanError, match=r"unknown address --target main\.nope, --exclude main\.zz"):
        target_closure(g, ["main.nope"], ["main.zz"])
    # Resources only in state (removed from the code) are addresses too.
    g2 = deps_graph({"main.gone": ["main.a"]}, g)
    assert target_closure(g2, ["main.a"], destroy=True) == {"main.a", "main.b", "main.c", "main.gone"}


def test_targeted_plan_keeps_only_the_selection():
    g, _ = build_graph(diamond())
    recs = applied()
    recs["main.d"].props["Size"] = 9  # d changed too, but is not targeted
    recs["main.c"].props["Size"] = 7
    p = plan_apply(g, recs, stacks=["main"], selection=target_closure(g, ["main.c"]))
    assert set(p.changes) == {"main.a", "main.b", "main.c"}
    assert p.changes["main.c"].action == "update" and p.order == ["main.a", "main.b", "main.c"]


def test_forced_replacement_takes_its_repointed_dependents_along():
    g, _ = build_graph(diamond())
    sel = target_closure(g, ["main.a"])
    p = plan_apply(g, applied(), stacks=["main"], replace=["main.a"], selection=sel)
    # b's Parent (replace_on) refers to a's new id: replaced; c's Name follows b's new ARN: updated.
    assert {a: c.action for a, c in p.changes.items()} == {"main.a": "replace", "main.b": "replace",
                                                           "main.c": "update"}
    assert "--replace" in p.changes["main.a"].reason


def test_protection_holds_from_state_and_only_for_what_is_kept():
    g, _ = build_graph(diamond())
    recs = applied()
    recs["main.old"] = rec("main.old", {}, lifecycle=Lifecycle(protect=True).to_dict())
    with pytest.raises(PlanError, match=r"main\.old .*protected \(prevent_destroy\).*removed from the code"):
        plan_apply(g, recs, stacks=["main"])
    # A run targeting something else does not touch it, so it is not refused.
    p = plan_apply(g, recs, stacks=["main"], selection=target_closure(deps_graph({"main.old": []}, g), ["main.c"]))
    assert "main.old" not in p.changes
    with pytest.raises(PlanError, match="main.old .*protected"):
        plan_destroy(recs, stacks=["main"], selection={"main.old"})
    assert set(plan_destroy(recs, stacks=["main"], selection={"main.c"}).changes) == {"main.c"}
    # Replacing a resource protected in the code is refused too.
    g2, _ = build_graph(diamond(protect_d=True))
    with pytest.raises(PlanError, match="main.d must be replaced .* protected"):
        plan_apply(g2, applied(), stacks=["main"], replace=["main.d"])


def test_lifecycle_changes_reach_the_state_and_ignore_changes_hides_drift():
    g, _ = build_graph(diamond(protect_d=True, ignore=("Size",)))
    recs = applied()
    p = plan_apply(g, recs, stacks=["main"], live={"main.d": {"Name": "d", "Size": 50}})
    assert not p.has_changes and p.changes["main.d"].drift == {}
    assert p.lifecycle_updates == {"main.d": {"protect": True, "ignore_changes": ["Size"]}}
    assert p.changes["main.d"].to_json()["lifecycle"]["protect"] is True
    recs["main.d"].lifecycle = p.lifecycle_updates["main.d"]
    assert plan_apply(g, recs, stacks=["main"]).lifecycle_updates == {}


def fake_ws() -> SimpleNamespace:
    return SimpleNamespace(plan=SimpleNamespace(project="proj"), opts=SimpleNamespace(plan_name="x", env="dev"),
                           stacks=["main"])


def test_plan_file_round_trip_and_tamper_check(tmp_path):
    g, _ = build_graph(diamond())
    recs = applied()
    recs["main.c"].props["Size"] = 7
    p = plan_apply(g, recs, stacks=["main"], serial=41)
    doc = day2.plan_document(fake_ws(), p, destroy=False, options={})
    path = tmp_path / "p.json"
    day2.write_plan(path, doc)
    back = day2.read_plan(path)
    assert back["serial"] == 41 and back["hash"] == doc["hash"]
    saved = day2.saved_plan(fake_ws(), back, recs, g, {})
    assert {a: c.action for a, c in saved.changes.items()} == {"main.c": "update"}
    # The code moved since the plan: refused, naming what differs.
    g2, _ = build_graph(diamond())
    g2.nodes["main.c"]["resource"].properties["Size"] = 3
    with pytest.raises(day2.StalePlan, match="main.c: the code's properties differ"):
        day2.saved_plan(fake_ws(), back, recs, g2, {})
    # An edited file is refused.
    edited = json.loads(path.read_text())
    edited["serial"] = 42
    path.write_text(json.dumps(edited))
    with pytest.raises(InfraError, match="modified after"):
        day2.read_plan(path)
    path.write_text("{}")
    with pytest.raises(InfraError, match="not a plan file"):
        day2.read_plan(path)


def test_arn_forms():
    assert day2.arn_parts("arn:aws:ec2:us-east-1:1:vpc/vpc-1") == ("ec2", "vpc", "vpc-1")
    assert day2.arn_parts("arn:aws:s3:::my-bucket") == ("s3", "", "my-bucket")
    assert day2.id_candidates("arn:aws:logs:r:1:log-group:/app/x:*")[0] == "/app/x"
    assert "c1/ng1" in day2.id_candidates("arn:aws:eks:r:1:nodegroup/c1/ng1/uuid")
    assert day2.id_candidates("arn:aws:iam::1:role/genai-demo-dev-x")[0] == "genai-demo-dev-x"
    assert day2.id_candidates("arn:aws:iam::1:oidc-provider/oidc.eks/id/X")[-1].startswith("arn:")
