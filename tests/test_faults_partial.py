"""Injected failure of one resource: its dependents are skipped, independent work completes, exit 1, and
the next apply finishes the job."""

from __future__ import annotations

import json

from tests import faults
from tests.fakes import install_plan
from tests.helpers import count_calls, infra

TINY = install_plan("faults_partial_tiny", faults.tiny_plan)


def test_one_failed_resource_skips_its_dependents_only_then_next_apply_completes(aws):
    fail = faults.Fail("ec2.CreateSecurityGroup")
    undo = faults.install(fail)
    try:
        out = infra("apply", "--plan", TINY, "--env", "dev", "--auto-approve", "--json", ok=False)
    finally:
        undo()
    assert out.exit_code == 1, out.output
    assert fail.count >= 1
    report = json.loads(out.stdout)
    assert report["ok"] is False
    assert report["failed"] == ["main.app_sg"]
    assert report["skipped"] == ["main.app_sg_ingress_8080"]  # the rule needs the group
    assert sorted(report["created"]) == ["main.db_secret", "main.logs", "main.param_vpc_id", "main.subnet_a",
                                         "main.subnet_b", "main.vpc"]
    assert "InjectedFailure" in report["errors"]["main.app_sg"]

    ec2 = aws.client("ec2")
    groups = ec2.describe_security_groups(Filters=[{"Name": "tag:infra:env", "Values": ["dev"]}])["SecurityGroups"]
    assert groups == []  # nothing half-made
    with count_calls() as log:
        again = infra("apply", "--plan", TINY, "--env", "dev", "--auto-approve")
    assert "Apply complete: 2 created." in again.output
    made = [op for _, op in log.mutating]
    assert made.count("CreateSecurityGroup") == 1 and "CreateVpc" not in made and "CreateSubnet" not in made
    listing = json.loads(infra("state", "list", "--plan", TINY, "--env", "dev", "--json").stdout)
    assert len(listing) == 8 and all(r["status"] == "created" for r in listing)
