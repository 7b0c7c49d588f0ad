"""Kill-anywhere inside a create-first replacement (issue 13 item 3): the new copy is made under the next name
of the replacement scheme (`-r1`), what refers to the resource is re-pointed to it, then the old copy is
deleted. A real CLI process is SIGKILLed at each point between those steps (tests/faults.py); after
`state unlock --force` the next apply must converge: one copy left, the new one, recorded with no old copy
still to delete, everything that refers to it naming it, nothing orphaned, and the plan shows no change.

The plan is tests/faults.replace_plan: a VPC, a security group whose Description the variant changes (a
replacement), a rule on the group (replaced with it) and an SSM parameter holding the group's id (updated
in place: the re-pointed dependent).
"""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import ClientError

from tests import faults
from tests.faults import Cli as Run

pytestmark = pytest.mark.slow
sandbox = faults.sandbox_fixture()

PLAN = ("--plan", "faults_replace", "--env", "dev")
VARIANT = {"INFRA_FAULTS_VARIANT": "1"}
ADDRS = {"main.vpc", "main.app_sg", "main.app_sg_ingress_8080", "main.param_app_sg"}

# In the variant's apply the group's create is the first CreateSecurityGroup, the parameter's update the
# first PutParameter and the old group's delete the first DeleteSecurityGroup. A case costs four CLI runs,
# so the default set is the three points between the steps; INFRA_CRASH_ALL=1 adds the two around a call.
POINTS = [
    ("after:ec2.CreateSecurityGroup:1", "new copy made, not recorded (its intent names the old copy)"),
    ("before:ssm.PutParameter:1", "new copy recorded, dependents not yet re-pointed"),
    ("before:ec2.DeleteSecurityGroup:1", "dependents re-pointed and recorded, old copy not yet deleted"),
] + ([
    ("after:ssm.PutParameter:1", "dependent re-pointed, not recorded"),
    ("after:ec2.DeleteSecurityGroup:1", "old copy deleted, the record still lists it"),
] if os.environ.get("INFRA_CRASH_ALL") == "1" else [])


@pytest.mark.parametrize("point,what", POINTS, ids=[p for p, _ in POINTS])
def test_replacement_killed_then_next_apply_converges(sandbox, point, what):
    run = Run(sandbox)
    run.ok("apply", *PLAN, "--auto-approve")
    old = run.records()["main.app_sg"].physical_id
    run.killed("apply", *PLAN, "--auto-approve", kill=point, env=VARIANT)
    run.unlock(cli=False)
    run.ok("apply", *PLAN, "--auto-approve", env=VARIANT)
    recs = run.records()
    faults.check_converged(run.client, recs, ADDRS)  # one copy per address, nothing untracked
    sg = recs["main.app_sg"]
    assert sg.physical_id != old and sg.generation == "r1" and sg.retiring == [], (sg.physical_id, sg.retiring)
    ec2, ssm = run.client("ec2"), run.client("ssm")
    live = ec2.describe_security_groups(GroupIds=[sg.physical_id])["SecurityGroups"][0]
    assert live["GroupName"] == "genai-demo-dev-app-sg-r1"
    assert live["Description"] == faults.VARIANT_APP_SG_DESCRIPTION
    with pytest.raises(ClientError) as gone:
        ec2.describe_security_groups(GroupIds=[old])
    assert gone.value.response["Error"]["Code"] == "InvalidGroup.NotFound"
    vpc = recs["main.vpc"].physical_id
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    assert sorted(g["GroupName"] for g in groups) == ["default", "genai-demo-dev-app-sg-r1"]
    # Everything that refers to the group names the new copy.
    assert ssm.get_parameter(Name="/genai-demo/dev/network/app-sg")["Parameter"]["Value"] == sg.physical_id
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg.physical_id]}])
    assert any(r.get("FromPort") == 8080 and not r["IsEgress"] for r in rules["SecurityGroupRules"])
    assert recs["main.app_sg_ingress_8080"].props["GroupId"] == sg.physical_id
    again = run.ok("plan", *PLAN, "--detailed-exitcode", env=VARIANT)
    assert "0 to create, 0 to update, 0 to replace, 0 to delete" in again.stdout
