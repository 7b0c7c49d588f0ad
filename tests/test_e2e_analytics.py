"""Issue 5 end to end: the analytics stack applied on its own over an applied main stack (dev), on moto.

main is applied first (`--stack main`), then `--stack analytics` alone, which
resolves its references (MSK cluster, data lake bucket, KMS key) from main's
recorded outputs; dev analytics does not refer to the observability stack,
which is not applied here. Independent boto3 calls check what AWS holds. A
second plan of both stacks changes nothing. The QuickSight switch turned on is
refused before any change: ap-east-2 has no QuickSight (where it runs, in a
subscribed account, it is created: test_quicksight_fresh_account.py).
Destroying main alone is refused while analytics refers to it; destroying
everything leaves nothing behind.
"""

from __future__ import annotations

import copy
import json

import pytest

from orchestrator.model import Plan
from plans.genai_demo import analytics, build, main
from plans.genai_demo.profiles import profile
from tests.fakes import install_plan
from tests.helpers import count_calls, infra, one_line

pytestmark = pytest.mark.slow

ENV = "dev"
FAST = ("--parallelism", "10")


def build_quicksight_on(env: str) -> Plan:
    """The same main and analytics stacks with the profile's QuickSight switch turned on (a "code change")."""
    p = copy.deepcopy(profile(env))
    p["analytics"]["quicksight"] = True
    p["analytics"]["quicksight_principals"] = ["arn:aws:quicksight:ap-east-2:123456789012:group/default/analysts"]
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    analytics.build(plan.stack("analytics"), p, main=main.build(plan.stack("main"), p))
    return plan


QS_ON = install_plan("genai_demo_quicksight_on", build_quicksight_on)


def _analytics_leftovers(aws):
    prefix = f"genai-demo-{ENV}-"
    return {
        "firehose": aws.client("firehose").list_delivery_streams()["DeliveryStreamNames"],
        "glue_databases": [d["Name"] for d in aws.client("glue").get_databases()["DatabaseList"]],
        "crawlers": aws.client("glue").list_crawlers()["CrawlerNames"],
        "workgroups": [w["Name"] for w in aws.client("athena").list_work_groups()["WorkGroups"]
                       if w["Name"] != "primary"],
        "roles": [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"] if r["RoleName"].startswith(prefix)],
    }


def test_analytics_stack_over_main(aws):
    infra("apply", "--env", ENV, "--stack", "main", "--auto-approve", *FAST)
    state = json.loads(infra("state", "list", "--env", ENV, "--json").stdout)
    assert state and all(not str(r).startswith("analytics.") and "analytics." not in json.dumps(r) for r in state)
    # Analytics alone: its references into main come from main's state.
    infra("apply", "--env", ENV, "--stack", "analytics", "--auto-approve", *FAST)

    # -- what main holds, found independently ------------------------------------------------------
    prefix = f"genai-demo-{ENV}-"
    s3, iam = aws.client("s3"), aws.client("iam")
    lake = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(prefix + "data-lake"))
    sse = s3.get_bucket_encryption(Bucket=lake)["ServerSideEncryptionConfiguration"]["Rules"][0]
    key_arn = sse["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    assert key_arn.startswith("arn:aws:kms:")
    clusters = aws.client("kafka").list_clusters_v2()["ClusterInfoList"]
    assert len(clusters) == 1
    cluster = clusters[0]

    # -- MSK -> Firehose -> S3 ----------------------------------------------------------------------
    fh = aws.client("firehose")
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == [prefix + "domain-events-firehose"]
    d = fh.describe_delivery_stream(DeliveryStreamName=prefix + "domain-events-firehose")["DeliveryStreamDescription"]
    fh_role = iam.get_role(RoleName=prefix + "firehose-role")["Role"]
    assert d["DeliveryStreamStatus"] == "ACTIVE" and d["DeliveryStreamType"] == "MSKAsSource"
    src = d["Source"]["MSKSourceDescription"]
    assert src["MSKClusterARN"] == cluster["ClusterArn"] and src["TopicName"] == "domain-events"
    assert src["AuthenticationConfiguration"] == {"RoleARN": fh_role["Arn"], "Connectivity": "PRIVATE"}
    dest = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert dest["BucketARN"] == f"arn:aws:s3:::{lake}" and dest["RoleARN"] == fh_role["Arn"]
    assert dest["Prefix"].startswith("domain-events/year=!{timestamp:yyyy}/")
    assert dest["ErrorOutputPrefix"].startswith("errors/domain-events/")
    assert dest["CompressionFormat"] == "GZIP"
    assert dest["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": key_arn}}
    assert dest["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}
    policy = iam.get_role_policy(RoleName=fh_role["RoleName"], PolicyName="msk-to-data-lake")["PolicyDocument"]
    stmts = {s["Sid"]: s for s in policy["Statement"]}
    assert stmts["DescribeCluster"]["Resource"] == cluster["ClusterArn"]
    assert "kafka-cluster:Connect" in stmts["DescribeCluster"]["Action"]
    assert stmts["ReadTopic"]["Resource"].endswith(f":topic/{cluster['ClusterName']}/*/domain-events")
    assert f"arn:aws:s3:::{lake}" in stmts["WriteDataLake"]["Resource"]
    assert stmts["EncryptDataLake"]["Resource"] == key_arn
    trust = fh_role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}

    # -- S3 -> Glue -------------------------------------------------------------------------------------
    glue = aws.client("glue")
    db_name = f"genai_demo_{ENV}_data_lake"
    assert glue.get_database(Name=db_name)["Database"]["Name"] == db_name
    crawler = glue.get_crawler(Name=prefix + "domain-events-crawler")["Crawler"]
    crawler_role = iam.get_role(RoleName=prefix + "glue-crawler-role")["Role"]
    assert crawler["DatabaseName"] == db_name and crawler["Role"] == crawler_role["Arn"]
    assert [t["Path"] for t in crawler["Targets"]["S3Targets"]] == [f"s3://{lake}/domain-events/"]
    assert crawler["Schedule"]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"}
    attached = iam.list_attached_role_policies(RoleName=crawler_role["RoleName"])["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == ["arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"]
    read = iam.get_role_policy(RoleName=crawler_role["RoleName"], PolicyName="read-domain-events")["PolicyDocument"]
    assert {s["Sid"]: s for s in read["Statement"]}["ReadEvents"]["Resource"] == f"arn:aws:s3:::{lake}/domain-events/*"

    # -- Glue -> Athena ------------------------------------------------------------------------------------
    athena = aws.client("athena")
    wg_name = prefix + "analytics"
    cfg = athena.get_work_group(WorkGroup=wg_name)["WorkGroup"]["Configuration"]
    assert cfg["ResultConfiguration"]["OutputLocation"] == f"s3://{lake}/athena-results/"
    assert cfg["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_KMS",
                                                                      "KmsKey": key_arn}
    assert cfg["BytesScannedCutoffPerQuery"] == 10_000_000_000
    assert cfg["EnforceWorkGroupConfiguration"] is True
    ids = athena.list_named_queries(WorkGroup=wg_name)["NamedQueryIds"]
    queries = {q["Name"]: q for q in (athena.get_named_query(NamedQueryId=i)["NamedQuery"] for i in ids)}
    assert set(queries) == {"Domain events per hour", "Events by aggregate type"}
    assert all(q["Database"] == db_name and q["WorkGroup"] == wg_name for q in queries.values())
    assert "GROUP BY aggregatetype" in queries["Events by aggregate type"]["QueryString"]

    # -- QuickSight is off in dev (and ap-east-2 has none to list) -----------------------------------------
    assert not any(r.type_name.startswith("quicksight.") for r in build(ENV).stacks["analytics"])

    # -- a second plan of both stacks changes nothing, and applying it makes no mutating call ---------------
    both = ("--stack", "main", "--stack", "analytics")
    with count_calls() as log:
        out = infra("plan", "--env", ENV, *both, "--detailed-exitcode")
        infra("apply", "--env", ENV, *both, "--auto-approve", *FAST)
    assert "0 to create, 0 to update, 0 to replace, 0 to delete" in out.output
    assert log.mutating == []

    # -- the switch on: refused in ap-east-2 (no QuickSight there) before any change; nothing QuickSight exists.
    # Created where QuickSight runs, in a subscribed account: tests/test_quicksight_fresh_account.py.
    with count_calls() as log:
        refused = infra("apply", "--plan", QS_ON, "--env", ENV, "--stack", "analytics", "--auto-approve", *FAST,
                        ok=None)
    assert refused.exit_code == 1 and "QuickSight has no endpoint in region ap-east-2" in one_line(refused.output)
    assert log.mutating == []
    left = _analytics_leftovers(aws)
    assert prefix + "quicksight-athena-role" not in left["roles"]

    # -- main cannot go while analytics refers to it; everything goes together ------------------------------
    refused = infra("destroy", "--env", ENV, "--stack", "main", "--auto-approve", ok=None)
    assert refused.exit_code != 0
    text = one_line(refused.output)
    assert "analytics.domain_events_firehose" in text and "main.kafka" in text
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == [prefix + "domain-events-firehose"]

    infra("destroy", "--env", ENV, "--auto-approve", *FAST)
    assert _analytics_leftovers(aws) == {k: [] for k in _analytics_leftovers(aws)}
    assert aws.client("kafka").list_clusters_v2()["ClusterInfoList"] == []
    assert [b for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(prefix)] == []
    assert json.loads(infra("state", "list", "--env", ENV, "--json").stdout) == []
