"""docs/changes.md (issue 13 item 6): what a change of each property does, next to CloudFormation.

The table is generated from the types (resources/changes.py); these tests check it is not stale, that its
CloudFormation column is what cfn-lint's schemas say, that every difference from CloudFormation carries
its reason on the type, and that the planner does for a change of each property what the table says.
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx
import pytest

from core.errors import PlanError
from orchestrator.planner import plan_apply, stored_props
from resources import changes
from resources.base import REGISTRY, P, Resource
from state.dynamodb import Record

# Types another engineer gives their change_notes on a branch merged at the same time (issue 13: RDS,
# ElastiCache, OpenSearch, MSK). Until a type declares change_notes its differences are listed in
# docs/changes.md without a reason; once it declares any, every difference must carry one (as below).
NOTES_FROM_OTHER_BRANCHES = ("rds.", "elasticache.", "opensearch.", "kafka.")


@pytest.fixture(scope="module")
def table() -> list[changes.Row]:
    return changes.rows()


def test_docs_changes_md_is_generated_from_the_types(table):
    want = changes.markdown(table)
    have = changes.OUT.read_text() if changes.OUT.exists() else ""
    assert have == want, ("docs/changes.md is stale (or was generated with another cfn-lint): "
                          "python -m resources.changes")


def test_the_cloudformation_column_is_what_cfn_lint_schemas_say(table):
    """Read each schema file again here, straight from cfn-lint's folder: a property CloudFormation
    lists in createOnlyProperties is "replace" in the table; one it lists only members of says so."""
    root = changes.schema_root()
    index = {k.lower(): v for k, v in changes.schema_index(root).items()}
    seen = 0
    for r in table:
        ct = (changes.cfn_type(r.type_name) or "").lower()
        if ct not in index:
            assert r.cfn == "-", r
            continue
        schema = json.loads((root / "resources" / f"{index[ct]}.json").read_text())
        create_only = set(schema.get("createOnlyProperties", []))
        path = changes.CFN_NAMES.get(r.type_name, {}).get(r.prop, r.prop)
        if path is None or path.split("/")[0].lower() not in {k.lower() for k in schema["properties"]}:
            assert r.cfn == "-", r
            continue
        exact = next(k for k in schema["properties"] if k.lower() == path.split("/")[0].lower())
        full = "/properties/" + "/".join([exact, *path.split("/")[1:]])
        if full in create_only or f"/properties/{exact}" in create_only:
            assert r.cfn == "replace", r
        elif any(c.startswith(full + "/") for c in create_only):
            assert r.cfn.startswith("replace for "), r
        else:
            assert r.cfn == "update", r
        seen += 1
    assert seen > 250  # nearly every property has a CloudFormation counterpart
    # Spot checks against the schemas as published: EKS's role and the Firehose stream's OpenSearch VPC.
    by = {(r.type_name, r.prop): r for r in table}
    assert by["eks.Cluster", "RoleArn"].cfn == "replace" and by["eks.Cluster", "Version"].cfn == "update"
    assert by["firehose.DeliveryStream", "ElasticsearchDestinationConfiguration"].cfn == \
        "replace for VpcConfiguration"


def test_every_difference_from_cloudformation_has_its_reason_on_the_type(table):
    missing = [f"{r.type_name}.{r.prop} (here {r.action}, CloudFormation {r.cfn})" for r in table
               if r.differs and not r.note
               and not (r.type_name.startswith(NOTES_FROM_OTHER_BRANCHES) and not REGISTRY[r.type_name].change_notes)]
    assert not missing, "differences from CloudFormation without a change_notes reason: " + "; ".join(missing)


def test_every_type_and_property_is_in_the_table(table):
    import resources  # noqa: F401 - registers every type

    assert {(r.type_name, r.prop) for r in table} == {(t, p) for t, c in REGISTRY.items() for p in c.props
                                                        if c.__module__.startswith("resources.")}
    assert {r.action for r in table} <= {"update", "replace", "refuse"}


# -- the property-change matrix: the planner, no AWS -------------------------------------------------

def _value(spec: P, second: bool) -> Any:
    """A set value of the property's type, and a different one: a change from one set value to another."""
    kind = spec.type if not isinstance(spec.type, tuple) else spec.type[0]
    word = "b" if second else "a"
    if kind is bool:
        return second
    if kind is int:
        return 2 if second else 1
    if kind is float:
        return 2.0 if second else 1.0
    if kind is list:
        return [word]
    if kind is dict:
        return {"k": word}
    if kind is bytes:
        return word.encode()
    return word


def planned(cls: type[Resource], prop: str) -> str:
    """The planner's action when only `prop` changes on a recorded resource of `cls` (no refresh)."""
    base = {name: _value(spec, False) for name, spec in cls.props.items()}
    desired = dict(base, **{prop: _value(cls.props[prop], True)})
    r = cls.ghost("x", "main", desired)
    g = nx.DiGraph()
    g.add_node(r.address, resource=r)
    rec = Record(r.address, cls.type_name, "pid-1", stored_props(cls, base), {o: f"out-{o}" for o in cls.outputs})
    try:
        plan = plan_apply(g, {r.address: rec}, stacks=["main"], allow_data_loss=True)
    except PlanError as exc:
        if prop in str(exc) or (cls.refuse_on.get(prop) or "\0") in str(exc):
            return "refuse"
        raise
    change = plan.changes[r.address]
    if change.action == "update" and r.refusal(base, desired, list(change.diff)):
        return "refuse"  # a planner that does not call refusal() yet: what apply's update() refuses
    return change.action


def test_property_change_matrix_matches_the_table(table):
    wrong = []
    for row in table:
        got = planned(REGISTRY[row.type_name], row.prop)
        if got != row.action:
            wrong.append(f"{row.type_name}.{row.prop}: planner {got}, table {row.action}")
    assert not wrong, "; ".join(wrong)
    assert len(table) > 300


def test_a_value_dependent_refusal_is_an_update_where_aws_allows_it():
    """EKS encryption: added to a cluster without it in place; changed, refused (the table's note says so)."""
    cls = REGISTRY["eks.Cluster"]
    assert changes.action(cls, "EncryptionConfig") == "refuse"
    r = cls.ghost("c", "main", {})
    key = [{"Resources": ["secrets"], "Provider": {"KeyArn": "arn:k"}}]
    assert r.refusal({"EncryptionConfig": []}, {"EncryptionConfig": key}, ["EncryptionConfig"]) is None
    assert "AssociateEncryptionConfig" in cls.change_notes["EncryptionConfig"]
