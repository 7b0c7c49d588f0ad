"""The benchmark's runner in small, on moto under the latency model: outcomes and call counts only.

A plan whose slow resources outnumber the 10 slots: a VPC, two subnets, a DB subnet group and 12
PostgreSQL instances (10 AWS minutes each). The Terraform-like walk keeps a slot per waiting
instance, so it needs two rounds of 10 minutes; ours lends the slot while waiting and needs one.
That timing claim is tested exactly on a virtual clock (tests/test_bench.py,
test_twelve_databases_ours_one_round_terraform_like_two); wall-clock ratios on a shared machine
are the benchmark's to report (python -m bench, docs/performance.md), not a test's to assert.
"""

from __future__ import annotations

import pytest

from bench import demo, walks
from orchestrator.model import Plan
from resources.ec2 import Subnet, Vpc
from resources.rds import DBInstance, DBSubnetGroup
from tests.fakes import install_plan

DBS = 12
SCALE = 0.15 / 60  # 1 AWS minute = 150 ms: an instance's 10 minutes take 1.5 s


def twelve_databases(env: str) -> Plan:
    plan = Plan(project="genai-demo", env=env, region="ap-east-2", tags={"bench": "ci"})
    s = plan.stack("main")
    vpc = s.add(Vpc("vpc", CidrBlock="10.42.0.0/16"))
    subnets = [s.add(Subnet(f"db_{az}", VpcId=vpc["VpcId"], CidrBlock=f"10.42.{i}.0/24",
                            AvailabilityZone=f"ap-east-2{az}")) for i, az in enumerate("ab")]
    group = s.add(DBSubnetGroup("db_subnets", SubnetIds=[x["SubnetId"] for x in subnets]))
    for i in range(DBS):
        s.add(DBInstance(f"db{i}", Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                         MasterUsername="app", ManageMasterUserPassword=True,
                         DBSubnetGroupName=group["DBSubnetGroupName"], SkipFinalSnapshot=True))
    return plan


@pytest.mark.slow
def test_runner_on_moto_ours_near_the_bound_and_ahead_of_terraform_like():
    name = install_plan("bench_twelve_dbs", twelve_databases)
    rep = demo.run("dev", SCALE, strategies=[walks.ours(10), walks.terraform_like(10)], plan=name)
    bound_apply, path = rep.bound("apply")
    assert any(p.startswith("main.db") for p in path) and bound_apply == pytest.approx(600 * SCALE)
    ours, tf = rep.result("ours, parallelism 10"), rep.result("terraform-like")
    for r in (ours, tf):
        assert r.apply.outcome.ok and r.destroy.outcome.ok
    # No wall-clock ratio here: a busy machine (a CI job sharing the cores) stretches both walks.
    # The waits did happen: no walk can beat the bound, whatever the machine (a lower bound only).
    assert ours.apply.makespan >= 0.9 * bound_apply and tf.apply.makespan >= 0.9 * bound_apply
    # Calls: the state costs one transaction or less per write (group commit), waits poll at the
    # waiter's pace with a dense window around the usual duration (30 s delay, 10 minutes: ~20+18).
    resources = rep.resources
    assert resources == DBS + 4
    for r in (ours, tf):
        assert r.apply.calls["state"] <= 2 * resources + 2
        polls = r.apply.ops["waiter poll"]["rds.DescribeDBInstances"]
        assert DBS <= polls <= DBS * (600 / 30 + 20)
        assert r.apply.calls["mutating"] >= DBS
