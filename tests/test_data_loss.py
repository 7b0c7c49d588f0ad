"""Issue 13, item 4: a replacement that destroys data is never silent.

A dev database (rds.DBInstance, stateful) whose DBName changes must be replaced: plan shows the
replacement marked DESTROYS DATA, apply refuses it before any mutating call, and `--replace ADDR`
(the user naming it) lets it proceed. What AWS ends up with is read back through boto3. Drift on a
replace_on property of a stateful type is reported as drift, never turned into a replacement, and a
change a type refuses (refuse_on) is a plan error naming address, property and reason unless named.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from orchestrator.model import Plan
from resources.base import P, Resource
from resources.rds import DBInstance
from sandbox import settings
from tests.fakes import install_plan
from tests.helpers import count_calls, infra, one_line

CODE: dict[str, Any] = {"db_name": "app"}
ADDR = "main.db"
IDENT = "genai-demo-dev-db"


def build(env: str) -> Plan:
    plan = Plan(project="genai-demo", env=env, region=settings.REGION, tags={"owner": "tests"})
    stack = plan.stack("main")
    stack.add(DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="u",
                         DBName=CODE["db_name"], BackupRetentionPeriod=1))
    return plan


PLAN = install_plan("data_loss_db", build)


def cli(*args: str, ok: bool | None = True) -> Any:
    return infra(*args, "--plan", PLAN, "--env", "dev", ok=ok)


@pytest.fixture
def code():
    CODE.update(db_name="app")
    yield CODE
    CODE.update(db_name="app")


def instances(aws: Any) -> dict[str, dict[str, Any]]:
    return {d["DBInstanceIdentifier"]: d for d in aws.client("rds").describe_db_instances()["DBInstances"]}


def test_dev_database_replacement_refused_without_replace_then_proceeds_with_it(aws, code):
    cli("apply", "--auto-approve")
    old = instances(aws)[IDENT]
    assert old["DBName"] == "app"

    code["db_name"] = "app2"  # DBName cannot change in place: only a new, empty database has it
    shown = one_line(cli("plan").output)
    assert f"{ADDR} (rds.DBInstance) replace: DBName cannot change in place [DESTROYS DATA]" in shown

    with count_calls() as log:
        out = cli("apply", "--auto-approve", ok=None)
    assert out.exit_code == 1, out.output
    msg = one_line(out.output)
    assert f"{ADDR} (rds.DBInstance {IDENT}) must be replaced" in msg and "DESTROYS its data" in msg
    assert f"--replace {ADDR}" in msg
    assert log.mutating == []  # refused before any mutating call
    assert list(instances(aws)) == [old["DBInstanceIdentifier"]]
    assert instances(aws)[IDENT]["DbiResourceId"] == old["DbiResourceId"]

    out = cli("apply", "--replace", ADDR, "--auto-approve")
    assert "[DESTROYS DATA]" in out.output
    now = instances(aws)
    assert len(now) == 1, sorted(now)  # the old instance is gone, one new one exists
    (new,) = now.values()
    # DBName is not a ModifyDBInstance member: AWS reporting the new one proves a new instance (moto derives
    # DbiResourceId from the identifier, so it cannot tell the two copies apart).
    assert new["DBName"] == "app2" and new["DBInstanceIdentifier"].startswith(IDENT)
    assert cli("plan", "--detailed-exitcode", ok=None).exit_code == 0


def test_allow_data_loss_flag_lets_every_stateful_replacement_go(aws, code):
    cli("apply", "--auto-approve")
    code["db_name"] = "other"
    cli("apply", "--allow-data-loss", "--auto-approve")
    (new,) = instances(aws).values()
    assert new["DBName"] == "other"


class Refusing(Resource):
    """A test type: `Zone` can neither change in place nor safely by replacement."""

    type_name = "test.Refusing"
    service = "sts"
    props: ClassVar[dict[str, P]] = {"Zone": P(str), "Size": P(int)}
    refuse_on: ClassVar[dict[str, str]] = {"Zone": "AWS moves it only by hand (a test's reason)"}


def test_refused_change_names_address_property_and_reason_and_replace_overrides_it():
    import networkx as nx

    from core.errors import PlanError
    from orchestrator.planner import plan_apply
    from state.dynamodb import Record

    r = Refusing("thing", Zone="b", Size=1)
    r.stack = "main"
    g = nx.DiGraph()
    g.add_node("main.thing", resource=r, type=r.type_name)
    recs = {"main.thing": Record("main.thing", "test.Refusing", "t-1", props={"Zone": "a", "Size": 1})}
    with pytest.raises(PlanError) as exc:
        plan_apply(g, recs, stacks=["main"])
    assert "main.thing (test.Refusing): cannot change Zone: AWS moves it only by hand" in str(exc.value)
    assert "--replace main.thing" in str(exc.value)
    p = plan_apply(g, recs, stacks=["main"], replace=["main.thing"])
    assert p.changes["main.thing"].action == "replace"


def test_drift_on_a_replace_on_property_of_a_stateful_type_is_reported_not_replaced():
    import networkx as nx

    from orchestrator.planner import plan_apply
    from state.dynamodb import Record

    db = DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="u", DBName="app")
    db.stack = "main"
    g = nx.DiGraph()
    g.add_node(ADDR, resource=db, type=db.type_name)
    props = dict(db.properties)
    recs = {ADDR: Record(ADDR, "rds.DBInstance", IDENT, props=props)}
    p = plan_apply(g, recs, stacks=["main"], live={ADDR: dict(props, DBName="renamed")})
    c = p.changes[ADDR]
    assert c.action == "noop" and c.drift == {"DBName": ("app", "renamed")} and not c.destroys_data
    assert "drift on DBName not repaired" in c.reason
    # A change the code asks for still plans the replacement (and marks it).
    db2 = DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="u", DBName="new")
    db2.stack = "main"
    g.nodes[ADDR]["resource"] = db2
    p = plan_apply(g, recs, stacks=["main"], live={ADDR: props}, allow_data_loss=True)
    assert p.changes[ADDR].action == "replace" and p.changes[ADDR].destroys_data
