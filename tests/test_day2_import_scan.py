"""Import and orphan scan end to end on moto: hand-made resources adopted and managed, tagged orphans found.

A small plan (two buckets and a log group of the real types) keeps this fast;
everything goes through the CLI, and AWS is checked with independent clients.
"""

from __future__ import annotations

import json

import pytest

from orchestrator.model import Plan
from plans.genai_demo.profiles import profile
from resources.base import Join
from resources.logs import LogGroup
from resources.s3 import Bucket
from tests.fakes import install_plan
from tests.helpers import count_calls, infra, one_line

pytestmark = pytest.mark.slow

LOG_GROUP = "/genai-demo/dev/app"


def build_small(env: str) -> Plan:
    p = profile(env)
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    s = plan.stack("main")
    data, _ = s.add(Bucket("data", SSEAlgorithm="AES256"), Bucket("spare", SSEAlgorithm="AES256"))
    group = s.add(LogGroup("app_logs", logGroupName=LOG_GROUP, retentionInDays=30))
    s.outputs.update(data_url=Join("s3://", data["Bucket"]), logs_arn=group["Arn"])
    return plan


PLAN = install_plan("genai_demo_day2_small", build_small)


def cli(*args: str, ok: bool | None = True):
    return infra(*args, "--plan", PLAN, "--env", "dev", ok=ok)


def ours(address: str, env: str = "dev") -> dict[str, str]:
    return {"infra:project": "genai-demo", "infra:env": env, "infra:stack": "main", "infra:address": address}


def test_import_then_manage(aws):
    s3, logs = aws.client("s3"), aws.client("logs")
    region = s3.meta.region_name
    s3.create_bucket(Bucket="hand-made-data", CreateBucketConfiguration={"LocationConstraint": region})
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=7)

    # Refusals name the problem and change nothing; an undeclared address needs no AWS call at all.
    with count_calls() as log:
        out = cli("import", "main.nothing", "x", ok=None)
    assert out.exit_code == 1 and "no such address in plan genai-demo" in out.output and log.calls == []
    out = cli("import", "main.app_logs", "/no/such/group", ok=None)
    assert out.exit_code == 1 and "AWS has no logs.LogGroup" in one_line(out.output)

    with count_calls() as log:
        cli("import", "main.app_logs", LOG_GROUP)
        cli("import", "main.data", "hand-made-data")
    assert log.mutating == []
    out = cli("import", "main.data", "hand-made-data", ok=None)
    assert out.exit_code == 1 and "already in state as hand-made-data" in out.output
    shown = json.loads(cli("state", "show", "main.app_logs").output)
    assert shown["physical_id"] == LOG_GROUP and shown["props"]["retentionInDays"] == 7
    assert shown["outputs"]["LogGroupName"] == LOG_GROUP

    # The next plan shows how the imported resources differ from the code; apply brings them there.
    out = cli("plan")
    assert "main.app_logs (logs.LogGroup) update" in out.output and "retentionInDays: 7 -> 30" in out.output
    assert "main.data (s3.Bucket) update" in out.output and "main.spare (s3.Bucket) create" in out.output
    cli("apply", "--auto-approve")
    group = logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"][0]
    assert group["retentionInDays"] == 30
    assert s3.get_bucket_versioning(Bucket="hand-made-data")["Status"] == "Enabled"
    assert cli("plan", "--detailed-exitcode").exit_code == 0
    assert json.loads(cli("state", "show", "main.data").output)["physical_id"] == "hand-made-data"

    # Resource and stack outputs.
    outs = json.loads(cli("output", "--json").output)
    assert outs["main.data"]["Bucket"] == "hand-made-data"
    assert outs["main"]["data_url"] == "s3://hand-made-data" and LOG_GROUP in outs["main"]["logs_arn"]
    assert "main.data_url = s3://hand-made-data" in cli("output").output
    several = json.loads(cli("output", "--json", "main", "main.app_logs").output)
    assert set(several) == {"main", "main.app_logs"}
    out = cli("output", "main", "main.nothing", "nostack", ok=None)
    assert out.exit_code == 1 and "main.nothing, nostack" in out.output

    # state mv re-addresses a record without any AWS call; the plan follows the new address.
    with count_calls() as log:
        cli("state", "mv", "main.data", "main.archive")
    assert [c for c in log.calls if c[0] not in ("dynamodb", "sts")] == []
    out = cli("plan")
    assert "main.data (s3.Bucket) create" in out.output and "main.archive (s3.Bucket) delete" in out.output
    out = cli("state", "mv", "main.archive", "main.app_logs", ok=None)
    assert out.exit_code == 1 and "already has a state record" in out.output
    cli("state", "mv", "main.archive", "main.data")
    assert cli("plan", "--detailed-exitcode").exit_code == 0
    history = cli("state", "history", "--limit", "100").output
    assert "moved from main.data" in history and "moved to main.data" in history and "import" in history


def test_scan_finds_adopts_and_deletes_orphans(aws):
    s3, logs = aws.client("s3"), aws.client("logs")
    cli("apply", "--auto-approve")
    spare = json.loads(cli("state", "show", "main.spare").output)["physical_id"]
    assert json.loads(cli("scan", "--json").output)["orphans"] == []  # everything applied is known

    # Orphans: a crash-orphan (state lost, its address still planned), a hand-made copy carrying our tags,
    # and a resource of another env that is not ours to report.
    cli("state", "rm", "main.spare")
    logs.create_log_group(logGroupName="/genai-demo/dev/copy", tags=ours("main.app_logs"))
    logs.create_log_group(logGroupName="/genai-demo/production/app", tags=ours("main.app_logs", "production"))

    found = json.loads(cli("scan", "--json").output)
    by_arn = {o["arn"]: o for o in found["orphans"]}
    assert len(by_arn) == 2, by_arn
    bucket = next(o for o in by_arn.values() if o["service"] == "s3")
    assert bucket["adoptable_as"] == "main.spare" and bucket["type"] == "s3.Bucket" and spare in bucket["arn"]
    copy = next(o for o in by_arn.values() if o["service"] == "logs")
    assert "/genai-demo/dev/copy" in copy["arn"] and copy["adoptable_as"] is None
    text = cli("scan").output
    assert "s3:" in text and "logs:" in text and "adoptable as main.spare" in text and "2 orphan(s)" in text

    # --delete asks first: not on a terminal without --auto-approve it refuses and deletes nothing.
    out = cli("scan", "--adopt", "--delete", ok=None)
    assert out.exit_code == 1 and "--auto-approve" in out.output
    assert logs.describe_log_groups(logGroupNamePrefix="/genai-demo/dev/copy")["logGroups"]
    with count_calls() as log:
        out = cli("scan", "--adopt", "--delete", "--auto-approve", "--json")
    result = json.loads(out.stdout)
    assert result["adopted"] == [bucket["arn"]] and result["deleted"] == [copy["arn"]]
    assert ("logs", "DeleteLogGroup") in log.mutating and not [c for c in log.mutating if c[0] == "s3"]
    assert json.loads(cli("state", "show", "main.spare").output)["physical_id"] == spare
    assert s3.head_bucket(Bucket=spare)
    assert logs.describe_log_groups(logGroupNamePrefix="/genai-demo/dev/copy")["logGroups"] == []
    assert logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    assert logs.describe_log_groups(logGroupNamePrefix="/genai-demo/production/app")["logGroups"]
    assert json.loads(cli("scan", "--json").output)["orphans"] == []
    assert cli("plan", "--detailed-exitcode").exit_code == 0
