"""Bad input beyond tests/test_bad_input.py: each refused with a clear message, exit 1, no mutating call.

Covers the rest of issue 6's list: unknown --target, a property of the
wrong type, a subnet CIDR outside its VPC in a hand-written plan, a corrupt
or hand-edited state record, a state table of the wrong schema, and a saved
plan file applied after the state moved on.
"""

from __future__ import annotations

import json

import pytest

from core.errors import PlanError
from orchestrator.model import Plan
from resources.ec2 import Subnet, Vpc
from tests.fakes import install_plan
from tests.helpers import count_calls, infra, one_line


def small(env: str) -> Plan:
    p = Plan("genai-demo", env)
    vpc = p.stack("main").add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    p.stack("main").add(Subnet("subnet_a", VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24",
                               AvailabilityZone="ap-east-2a"))
    return p


def outside(env: str) -> Plan:
    p = Plan("genai-demo", env)
    vpc = p.stack("main").add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    p.stack("main").add(Subnet("subnet_a", VpcId=vpc["VpcId"], CidrBlock="10.1.0.0/24",
                               AvailabilityZone="ap-east-2a"))
    return p


def wrong_type(env: str) -> Plan:
    p = Plan("genai-demo", env)
    p.stack("main").add(Vpc("vpc", CidrBlock="10.0.0.0/16", EnableDnsHostnames="yes"))
    return p


SMALL = install_plan("faults_bad_small", small)


def refused(*args: str, pattern: str, calls_allowed: bool = True) -> str:
    """Run the CLI; assert exit 1, an 'Error: ' paragraph matching `pattern`, and no mutating call."""
    with count_calls() as log:
        out = infra(*args, ok=False)
    text = one_line(out.output)
    assert out.exit_code == 1, out.output
    assert out.output.startswith("Error: ") or "\nError: " in out.output, out.output
    import re

    assert re.search(pattern, text), out.output
    assert log.mutating == [], log.mutating
    if not calls_allowed:
        assert log.calls == []
    return text


@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_wrong_type_and_cidr_outside_the_vpc_refused_before_any_call(aws, command):
    extra = ["--auto-approve"] if command == "apply" else []
    refused(command, "--plan", install_plan("faults_bad_type", wrong_type), "--env", "dev", *extra,
            pattern=r"ec2.Vpc 'vpc': property EnableDnsHostnames must be bool, got str 'yes'", calls_allowed=False)
    refused(command, "--plan", install_plan("faults_bad_outside", outside), "--env", "dev", *extra,
            pattern=r"main.subnet_a: CidrBlock 10.1.0.0/24 is not inside its VPC main.vpc \(10.0.0.0/16\)",
            calls_allowed=False)


def test_unknown_target_refused(aws):
    refused("plan", "--plan", SMALL, "--env", "dev", "--target", "main.nope", pattern=r"unknown address --target main.nope: not declared")
    refused("apply", "--plan", SMALL, "--env", "dev", "--auto-approve", "--target", "main.nope",
            pattern=r"unknown address --target main.nope: not declared")


def put_raw(aws, item: dict) -> None:
    aws.client("dynamodb").put_item(TableName="genai-infra-state-test", Item=item)


def test_corrupt_and_hand_edited_state_records_refused(aws):
    infra("apply", "--plan", SMALL, "--env", "dev", "--auto-approve")
    base = {"pk": {"S": "genai-demo#dev#main"}, "type": {"S": "ec2.Vpc"}, "physical_id": {"S": "vpc-1"},
            "outputs": {"S": "{}"}, "status": {"S": "created"}}
    # Not JSON where JSON belongs.
    put_raw(aws, {**base, "sk": {"S": "main.broken"}, "props": {"S": "{not json"}})
    for cmd in (["plan"], ["apply", "--auto-approve"], ["destroy", "--auto-approve"]):
        refused(*cmd, "--plan", SMALL, "--env", "dev", pattern=r"state record genai-demo#dev#main/main.broken is "
                r"corrupt .* fix or remove it with `infra state rm`")
    aws.client("dynamodb").delete_item(TableName="genai-infra-state-test",
                                       Key={"pk": {"S": "genai-demo#dev#main"}, "sk": {"S": "main.broken"}})
    # Hand-edited: a type this tool does not know, and props that are not an object.
    put_raw(aws, {**base, "sk": {"S": "main.edited"}, "type": {"S": "ec2.Vpcc"}, "props": {"S": "{}"}})
    for cmd in (["plan"], ["destroy", "--auto-approve"]):
        refused(*cmd, "--plan", SMALL, "--env", "dev", pattern=r"main.edited names resource type 'ec2.Vpcc', which "
                r"this tool does not know")
    put_raw(aws, {**base, "sk": {"S": "main.edited"}, "props": {"S": json.dumps(["a", "list"])}})
    refused("plan", "--plan", SMALL, "--env", "dev", pattern=r"main.edited is corrupt \(wrong shape: props\)")
    put_raw(aws, {**base, "sk": {"S": "main.edited"}, "props": {"S": "{}"}, "status": {"S": "half-done"}})
    refused("apply", "--plan", SMALL, "--env", "dev", "--auto-approve",
            pattern=r"main.edited is corrupt \(wrong shape: status 'half-done'\)")


def test_state_table_of_the_wrong_schema_refused(aws):
    aws.client("dynamodb").create_table(
        TableName="somebody-elses", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    for cmd in (["plan"], ["apply", "--auto-approve"], ["state", "list"]):
        refused(*cmd, "--plan", SMALL, "--env", "dev", "--state-table", "somebody-elses",
                pattern=r"state table 'somebody-elses' exists but has key schema .* not a genai-infra state table")


def test_plan_file_applied_after_the_state_moved_on_is_refused(aws, tmp_path):
    saved = tmp_path / "plan.json"
    infra("plan", "--plan", SMALL, "--env", "dev", "--out", str(saved))
    infra("apply", "--plan", SMALL, "--env", "dev", "--auto-approve")  # the state moves on
    refused("apply", "--plan", SMALL, "--env", "dev", "--auto-approve", str(saved),
            pattern=r"the saved plan is stale: it was made at state serial 0 and the state is now at serial \d+")


def test_cidr_check_accepts_what_is_inside():
    from orchestrator.graph import build_graph
    from orchestrator.runs import check_static

    g, _ = build_graph(small("dev"), None, state_outputs=None)
    check_static(g)
    g, _ = build_graph(outside("dev"), None, state_outputs=None)
    with pytest.raises(PlanError, match="not inside its VPC"):
        check_static(g)
