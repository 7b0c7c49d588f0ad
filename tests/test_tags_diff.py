"""Issue 13, item 2 (audit C10/M7): tags are part of the diff.

A plan-wide tag change reaches every resource: plan shows each as an update ("tags changed", the diff
names "(tags)"), apply brings them there, and boto3 reads the new tags back from each service. A tag
removed behind the tool's back shows as drift (read through the tagging API) and apply repairs it. After it, an apply makes zero mutating calls (item 5).
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.model import Plan
from resources.ec2 import SecurityGroup, Vpc
from resources.elbv2 import TargetGroup
from resources.rds import DBParameterGroup
from resources.s3 import Bucket
from sandbox import settings
from tests.fakes import install_plan
from tests.helpers import count_calls, infra, one_line

TAGS: dict[str, str] = {"owner": "team-a"}
ADDRS = ("main.vpc", "main.sg", "main.pg", "main.tg", "main.bucket")


def build(env: str) -> Plan:
    plan = Plan(project="genai-demo", env=env, region=settings.REGION, tags=dict(TAGS))
    s = plan.stack("main")
    vpc = s.add(Vpc("vpc", CidrBlock="10.41.0.0/16"))
    s.add(SecurityGroup("sg", VpcId=vpc["VpcId"], Description="tags test"))
    s.add(DBParameterGroup("pg", Family="postgres16"))
    s.add(TargetGroup("tg", Port=8080, VpcId=vpc["VpcId"]))
    s.add(Bucket("bucket"))
    return plan


PLAN = install_plan("tags_diff", build)


def cli(*args: str, ok: bool | None = True) -> Any:
    return infra(*args, "--plan", PLAN, "--env", "dev", ok=ok)


@pytest.fixture
def tags():
    TAGS.clear()
    TAGS.update(owner="team-a")
    yield TAGS
    TAGS.clear()
    TAGS.update(owner="team-a")


def live_tags(aws: Any) -> dict[str, dict[str, str]]:
    """Each resource's tags as its own service reports them."""
    ec2, rds, elb, s3 = aws.client("ec2"), aws.client("rds"), aws.client("elbv2"), aws.client("s3")

    def ec2_tags(item: dict[str, Any]) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in item.get("Tags", [])}

    out: dict[str, dict[str, str]] = {}
    for v in ec2.describe_vpcs()["Vpcs"]:
        if ec2_tags(v).get("infra:address") == "main.vpc":
            out["main.vpc"] = ec2_tags(v)
    for g in ec2.describe_security_groups()["SecurityGroups"]:
        if ec2_tags(g).get("infra:address") == "main.sg":
            out["main.sg"] = ec2_tags(g)
    pg = rds.describe_db_parameter_groups(DBParameterGroupName="genai-demo-dev-pg")["DBParameterGroups"][0]
    out["main.pg"] = {t["Key"]: t["Value"] for t in
                      rds.list_tags_for_resource(ResourceName=pg["DBParameterGroupArn"])["TagList"]}
    tg = elb.describe_target_groups(Names=["genai-demo-dev-tg"])["TargetGroups"][0]["TargetGroupArn"]
    out["main.tg"] = {t["Key"]: t["Value"] for t in
                      elb.describe_tags(ResourceArns=[tg])["TagDescriptions"][0]["Tags"]}
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("genai-demo-dev-bucket")]
    out["main.bucket"] = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    return out


def test_plan_wide_tag_change_reaches_every_resource_and_the_no_op_apply_calls_nothing(aws, tags):
    cli("apply", "--auto-approve")
    assert {a: t.get("owner") for a, t in live_tags(aws).items()} == dict.fromkeys(ADDRS, "team-a")

    tags.update(owner="team-b", costcenter="42")
    shown = one_line(cli("plan").output)
    for addr in ADDRS:
        assert f"~ {addr} (" in shown and f"{addr} (" in shown
    assert shown.count("update: tags changed") == len(ADDRS)
    assert "(tags):" in shown
    cli("apply", "--auto-approve")
    seen = live_tags(aws)
    for addr in ADDRS:
        assert seen[addr]["owner"] == "team-b" and seen[addr]["costcenter"] == "42", (addr, seen[addr])
        assert seen[addr]["infra:address"] == addr

    # A tag removed behind the tool's back is drift: drift and plan say so, apply puts it back.
    ec2 = aws.client("ec2")
    (sg,) = [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]
             if {"Key": "infra:address", "Value": "main.sg"} in g.get("Tags", [])]
    ec2.delete_tags(Resources=[sg], Tags=[{"Key": "costcenter"}])
    out = cli("drift", ok=None)
    assert out.exit_code == 2 and "main.sg" in out.output, out.output
    shown = one_line(cli("plan").output)
    assert "drift (tags): recorded" in shown and "~ main.sg (ec2.SecurityGroup) update: drift repair" in shown
    cli("apply", "--auto-approve")
    assert live_tags(aws)["main.sg"]["costcenter"] == "42"

    with count_calls() as log:
        out = cli("apply", "--auto-approve")
    assert "No changes" in out.output
    assert log.mutating == []
