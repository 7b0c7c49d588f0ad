"""Graph building and planning without AWS: errors name the culprits; diffs pick the right action."""

import pytest

from core.errors import PlanError
from orchestrator.graph import build_graph, creation_waves, dependents, destroy_waves, why
from orchestrator.model import Plan
from orchestrator.planner import plan_apply, plan_destroy
from resources.base import UNKNOWN, Lifecycle, digest
from state.dynamodb import Record
from tests.fakes import Thing


def chain_plan():
    p = Plan("proj", "dev")
    s = p.stack("main")
    a = s.add(Thing("a", Name="a"))
    b = s.add(Thing("b", Parent=a["Id"], Size=2))
    s.add(Thing("c", Name=b["Arn"]))
    return p


def rec(addr, pid, props, outputs=None, deps=(), **kw):
    return Record(addr, "test.Thing", pid, props, outputs or {"Id": pid, "Arn": f"arn:{pid}"}, deps=list(deps), **kw)


def test_edges_waves_and_queries():
    g, _ = build_graph(chain_plan())
    assert set(g.edges()) == {("main.a", "main.b"), ("main.b", "main.c")}
    assert creation_waves(g) == [["main.a"], ["main.b"], ["main.c"]]
    assert destroy_waves(g)[0] == ["main.c"]
    assert dependents(g, "main.a") == {"main.b", "main.c"}
    assert why(g, "main.c", "main.a") == ["main.a", "main.b", "main.c"]


def test_cycle_is_reported_with_its_members():
    p = Plan("proj", "dev")
    s = p.stack("main")
    a = Thing("a")
    b = Thing("b", Name=a["Id"])
    a.depends_on.append(b)
    s.add(a, b)
    with pytest.raises(PlanError, match=r"cycle: main\.(a|b) -> main\.(a|b) -> main\.(a|b)"):
        build_graph(p)


def test_dangling_reference_names_both_ends():
    p = Plan("proj", "dev")
    orphan = Thing("orphan")
    p.stack("main").add(Thing("user", Name=orphan["Id"]))
    with pytest.raises(PlanError, match="main.user refers to test.Thing 'orphan', which is not added"):
        build_graph(p)


def test_unknown_property_missing_output_bad_cidr_and_type():
    with pytest.raises(PlanError, match="'x': unknown property Colour"):
        Thing("x", Colour="red")
    with pytest.raises(PlanError, match="has no output 'Nope'"):
        Thing("x").ref("Nope")
    with pytest.raises(PlanError, match=r"Cidr='10.0.0.0/33' is not a valid CIDR"):
        Thing("x", Cidr="10.0.0.0/33")
    with pytest.raises(PlanError, match="Size must be int, got str"):
        Thing("x", Size="big")


def test_duplicate_address():
    p = Plan("proj", "dev")
    p.stack("main").add(Thing("a"))
    with pytest.raises(PlanError, match="duplicate address main.a"):
        p.stack("main").add(Thing("a"))


def test_first_plan_creates_all_with_unknowns():
    g, _ = build_graph(chain_plan())
    p = plan_apply(g, {}, stacks=["main"])
    assert {c.action for c in p.changes.values()} == {"create"}
    assert p.changes["main.b"].after["Parent"] is UNKNOWN


def applied_records():
    return {"main.a": rec("main.a", "id-a", {"Name": "a", "Size": 1}),
            "main.b": rec("main.b", "id-b", {"Parent": "id-a", "Size": 2}, deps=["main.a"]),
            "main.c": rec("main.c", "id-c", {"Name": "arn:id-b", "Size": 1}, deps=["main.b"])}


def test_no_changes_update_and_replace_ripple():
    g, _ = build_graph(chain_plan())
    recs = applied_records()
    assert not plan_apply(g, recs, stacks=["main"]).has_changes
    recs["main.b"].props["Size"] = 5
    p = plan_apply(g, recs, stacks=["main"])
    assert p.changes["main.b"].action == "update" and p.changes["main.b"].diff == {"Size": (5, 2)}
    recs = applied_records()
    recs["main.a"].props["Zone"] = "old"  # Zone is replace_on
    p = plan_apply(g, recs, stacks=["main"])
    assert p.changes["main.a"].action == "replace"
    # b's Parent (replace_on) refers to a's new id: b is replaced too; c's Name (in place) is updated.
    assert p.changes["main.b"].action == "replace"
    assert p.changes["main.c"].action == "update"


def test_drift_is_told_apart_from_code_changes():
    g, _ = build_graph(chain_plan())
    recs = applied_records()
    live = {"main.a": {"Name": "a", "Size": 3}, "main.b": {"Parent": "id-a", "Size": 2}, "main.c": None}
    p = plan_apply(g, recs, stacks=["main"], live=live)
    assert p.changes["main.a"].drift == {"Size": (1, 3)} and p.changes["main.a"].action == "update"
    assert p.changes["main.c"].action == "create" and "deleted outside" in p.changes["main.c"].reason
    assert p.has_drift


def test_secrets_compare_by_digest_and_never_in_plan():
    p = Plan("proj", "dev")
    p.stack("main").add(Thing("s", Token="hunter2"))
    g, _ = build_graph(p)
    plan = plan_apply(g, {}, stacks=["main"])
    assert plan.changes["main.s"].after["Token"] == digest("hunter2")
    assert "hunter2" not in str(plan.changes["main.s"].to_json())
    recs = {"main.s": rec("main.s", "id-s", {"Token": digest("hunter2"), "Size": 1})}
    assert not plan_apply(g, recs, stacks=["main"]).has_changes


def test_removed_from_code_is_deleted_and_protected_is_refused():
    g, _ = build_graph(chain_plan())
    recs = applied_records()
    recs["main.old"] = rec("main.old", "id-old", {})
    assert plan_apply(g, recs, stacks=["main"]).changes["main.old"].action == "delete"
    recs["main.old"].lifecycle = Lifecycle(protect=True).to_dict()
    with pytest.raises(PlanError, match="main.old .* is protected"):
        plan_apply(g, recs, stacks=["main"])
    d = plan_destroy(recs, stacks=["main"], allow_protected=True)
    assert {c.action for c in d.changes.values()} == {"delete"}


def test_retain_on_delete_forgets():
    recs = {"main.keep": rec("main.keep", "id", {}, lifecycle=Lifecycle(retain_on_delete=True).to_dict())}
    assert plan_destroy(recs, stacks=["main"]).changes["main.keep"].action == "forget"


def test_unordered_list_properties_compare_as_sets():
    from orchestrator.planner import diff_props

    assert diff_props({"Ids": ["b", "a"]}, {"Ids": ["a", "b"]}, unordered={"Ids"}) == {}
    assert diff_props({"Ids": ["b", "a"]}, {"Ids": ["a", "b"]}) == {"Ids": (["b", "a"], ["a", "b"])}
    assert diff_props({"Ids": ["a"]}, {"Ids": ["a", "b"]}, unordered={"Ids"}) != {}
