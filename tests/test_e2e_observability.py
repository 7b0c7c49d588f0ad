"""Issue 5 end to end: the observability stack applied alone over an applied main stack (dev), on moto.

One test, because a main apply is the expensive part: observability before
main fails cleanly, main then observability alone, independent boto3 checks
of every kind of resource with the dev profile's settings, a second plan with
no change, destroying main refused while observability refers to it, then
destroy everything.
"""

from __future__ import annotations

import json

import pytest

from orchestrator.runs import Options, Workspace
from plans.genai_demo.profiles import profile
from tests.helpers import count_calls, infra, one_line

pytestmark = pytest.mark.slow

ENV = "dev"


def _state(stack: str) -> dict[str, dict]:
    """The recorded resources of a stack (address -> type, physical id, outputs), read from the state table."""
    recs = Workspace(Options(env=ENV, stacks=[stack])).store.read([stack])
    return {a: {"type": r.type, "physical_id": r.physical_id, "outputs": r.outputs} for a, r in recs.items()}


def test_observability_alone_after_main(aws):
    p = profile(ENV)
    o = p["observability"]

    # -- before main: a clear refusal naming main's resources, and no mutating call ------------------------------
    with count_calls() as log:
        res = infra("apply", "--env", ENV, "--stack", "observability", "--auto-approve", ok=None)
    assert res.exit_code == 1
    text = one_line(res.output)
    for missing in ("main.eks_cluster", "main.alb", "main.db", "main.kafka", "main.redis", "main.kms_key",
                    "main.data_lake", "main.vpc"):
        assert f"needs {missing} (stack 'main'), which has not been applied" in text, missing
    assert log.mutating == []

    # -- main, then observability alone ---------------------------------------------------------------------------
    infra("apply", "--env", ENV, "--stack", "main", "--auto-approve", "--parallelism", "10")
    infra("apply", "--env", ENV, "--stack", "observability", "--auto-approve", "--parallelism", "10")
    main = _state("main")
    obs = _state("observability")
    main_out = {a: r["outputs"] for a, r in main.items()}
    cluster = main_out["main.eks_cluster"]["Name"]
    assert cluster == f"genai-demo-{ENV}-eks-cluster"
    kms_arn = main_out["main.kms_key"]["Arn"]

    # Log groups: names, retention, the main key.
    logs = aws.client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    for name in (f"/aws/eks/{cluster}/cluster", f"/aws/genai-demo/{ENV}/application",
                 f"/aws/vpc/genai-demo-{ENV}/flow-logs", f"/aws/lambda/genai-demo-{ENV}-custom-metrics"):
        assert groups[name]["retentionInDays"] == o["log_retention_days"] == 7, name
        assert groups[name]["kmsKeyId"] == kms_arn, name

    # VPC flow logs into their group through their role.
    ec2 = aws.client("ec2")
    vpc_id = main_out["main.vpc"]["VpcId"]
    fl = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    assert len(fl) == 1 and fl[0]["LogGroupName"] == f"/aws/vpc/genai-demo-{ENV}/flow-logs"
    assert fl[0]["TrafficType"] == "ALL" and fl[0]["MaxAggregationInterval"] == 600
    iam = aws.client("iam")
    flow_role = iam.get_role(RoleName=fl[0]["DeliverLogsPermissionArn"].rsplit("/", 1)[1])["Role"]
    assert flow_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] == \
        "vpc-flow-logs.amazonaws.com"

    # SNS: two encrypted topics, the dev subscription(s), a policy for CloudWatch and EventBridge.
    sns = aws.client("sns")
    topics = {}
    for sev in ("critical", "warning"):
        arn = obs[f"observability.{sev}_topic"]["physical_id"]
        attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        assert arn.endswith(f":genai-demo-{ENV}-{sev}-alerts")
        assert attrs["KmsMasterKeyId"] == obs["observability.alerts_kms_key"]["outputs"]["Arn"]
        publishers = {s["Principal"]["Service"] for s in json.loads(attrs["Policy"])["Statement"]}
        assert publishers == {"cloudwatch.amazonaws.com", "events.amazonaws.com", "events.rds.amazonaws.com"}
        topics[sev] = arn
    subs = [s for arn in topics.values() for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subs) == \
        sorted((proto, ep) for _, proto, ep in o["subscriptions"])
    assert {s["SubscriptionArn"] for s in subs if s["Protocol"] == "email"} == {"PendingConfirmation"}

    # Alarms: dimensions are main's real identifiers, actions the topics.
    cw = aws.client("cloudwatch")
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix=f"genai-demo-{ENV}-")["MetricAlarms"]}

    def alarm(logical):
        return alarms[f"genai-demo-{ENV}-alarm-{logical.replace('_', '-')}"]

    def dims(a):
        return {d["Name"]: d["Value"] for d in a["Dimensions"]}

    assert dims(alarm("alb_elb_5xx")) == {"LoadBalancer": main_out["main.alb"]["LoadBalancerFullName"]}
    assert alarm("alb_elb_5xx")["AlarmActions"] == [topics["critical"]]
    assert alarm("alb_target_latency")["ExtendedStatistic"] == "p95"
    assert alarm("alb_target_latency")["Threshold"] == o["thresholds"]["target_latency_s"]
    assert dims(alarm("eks_node_cpu")) == {"ClusterName": cluster}
    assert alarm("eks_node_memory")["Namespace"] == "ContainerInsights"
    db_id = main_out["main.db"]["DBInstanceIdentifier"]
    for name in ("rds_cpu", "rds_free_storage", "rds_connections"):
        assert dims(alarm(name)) == {"DBInstanceIdentifier": db_id}
    assert alarm("rds_free_storage")["Threshold"] == 2 * 1024 ** 3
    assert alarm("rds_free_storage")["ComparisonOperator"] == "LessThanThreshold"
    msk = [a for n, a in alarms.items() if "msk-disk" in n]
    assert len(msk) == p["msk"]["brokers"]
    assert {dims(a)["Cluster Name"] for a in msk} == {main_out["main.kafka"]["ClusterName"]}
    rg = main_out["main.redis"]["ReplicationGroupId"]
    assert dims(alarm("redis_memory_1")) == {"CacheClusterId": f"{rg}-001"}
    assert alarm("redis_evictions_1")["MetricName"] == "Evictions"
    assert alarm("rds_cpu")["EvaluationPeriods"] == o["alarm_evaluation_periods"]

    # Dashboard with main's identifiers in it.
    body = cw.get_dashboard(DashboardName=f"genai-demo-{ENV}-overview")["DashboardBody"]
    assert cluster in body and main_out["main.alb"]["LoadBalancerFullName"] in body

    # X-Ray groups and sampling rules.
    xray = aws.client("xray")
    xgroups = {g["GroupName"]: g for g in xray.get_groups()["Groups"]}
    assert xgroups[f"genai-demo-{ENV}"]["FilterExpression"] == 'service("genai-demo-backend")'
    assert cluster in xgroups[f"genai-demo-{ENV}-eks"]["FilterExpression"]
    rules = {r["SamplingRule"]["RuleName"]: r["SamplingRule"] for r in xray.get_sampling_rules()["SamplingRuleRecords"]}
    assert rules[f"genai-demo-{ENV}-payments"]["FixedRate"] == 1.0
    assert rules[f"genai-demo-{ENV}-health"]["Priority"] == 9000

    # OpenSearch: one small node in one private subnet, encrypted with the main key, HTTPS only.
    dom = aws.client("opensearch").describe_domain(DomainName=f"genai-demo-logs-{ENV}")["DomainStatus"]
    cc = dom["ClusterConfig"]
    assert cc["InstanceType"] == "t3.small.search" and cc["InstanceCount"] == 1
    assert not cc.get("DedicatedMasterEnabled") and not cc.get("ZoneAwarenessEnabled")
    assert dom["EBSOptions"]["VolumeSize"] == 20
    private = {main_out[f"main.{a.split('.', 1)[1]}"]["SubnetId"] for a in main if "private" in a
               and main[a]["type"] == "ec2.Subnet"}
    assert set(dom["VPCOptions"]["SubnetIds"]) <= private and len(dom["VPCOptions"]["SubnetIds"]) == 1
    assert dom["VPCOptions"]["SecurityGroupIds"] == [main_out["main.opensearch_sg"]["GroupId"]]
    assert dom["EncryptionAtRestOptions"]["Enabled"] and dom["NodeToNodeEncryptionOptions"]["Enabled"]
    assert dom["DomainEndpointOptions"]["EnforceHTTPS"] is True

    # Logs -> Firehose -> S3 (logs/ of the data lake) and -> OpenSearch; subscription filters through a role.
    fh = aws.client("firehose")
    lake = main_out["main.data_lake"]["Arn"]
    archive = fh.describe_delivery_stream(DeliveryStreamName=f"genai-demo-{ENV}-logs-archive")[
        "DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert archive["BucketARN"] == lake and archive["Prefix"].startswith("logs/")
    to_os = fh.describe_delivery_stream(DeliveryStreamName=f"genai-demo-{ENV}-logs-opensearch")[
        "DeliveryStreamDescription"]["Destinations"][0]["ElasticsearchDestinationDescription"]
    assert to_os["DomainARN"] == dom["ARN"] and to_os["S3DestinationDescription"]["BucketARN"] == lake
    filters = logs.describe_subscription_filters(logGroupName=f"/aws/genai-demo/{ENV}/application")[
        "subscriptionFilters"]
    streams = {f["destinationArn"].rsplit("/", 1)[1] for f in filters}
    assert streams == {f"genai-demo-{ENV}-logs-archive", f"genai-demo-{ENV}-logs-opensearch"}
    logs_role = iam.get_role(RoleName=filters[0]["roleArn"].rsplit("/", 1)[1])["Role"]
    assert logs_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] == \
        f"logs.{p['region']}.amazonaws.com"

    # AMP workspace and its rules.
    amp = aws.client("amp")
    ws_id = obs["observability.prometheus"]["physical_id"]
    assert amp.describe_workspace(workspaceId=ws_id)["workspace"]["alias"] == f"genai-demo-{ENV}-prometheus"
    ns = amp.describe_rule_groups_namespace(workspaceId=ws_id, name=f"genai-demo-{ENV}-rules")["ruleGroupsNamespace"]
    assert b"HighServerErrorRatio" in ns["data"]

    # Custom metrics Lambda: least-privilege role, 5-minute schedule, invoke permission for EventBridge.
    lam = aws.client("lambda")
    fn = lam.get_function(FunctionName=f"genai-demo-{ENV}-custom-metrics")["Configuration"]
    assert fn["Environment"]["Variables"]["METRIC_NAMESPACE"] == f"GenAIDemo/{ENV}"
    role_name = fn["Role"].rsplit("/", 1)[1]
    doc = iam.get_role_policy(RoleName=role_name, PolicyName="custom-metrics")["PolicyDocument"]
    actions = sorted(a for s in doc["Statement"] for a in s["Action"])
    assert actions == ["cloudwatch:DescribeAlarms", "cloudwatch:PutMetricData", "logs:CreateLogStream",
                       "logs:PutLogEvents", "sns:Publish", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    # Failed scheduled runs reach the warning topic (the role may publish only there); the environment is
    # encrypted with the main key; two executions are reserved.
    assert fn["DeadLetterConfig"] == {"TargetArn": topics["warning"]}
    assert [st["Resource"] for st in doc["Statement"] if st["Action"] == ["sns:Publish"]] == [topics["warning"]]
    assert fn["KMSKeyArn"] == kms_arn
    assert lam.get_function_concurrency(FunctionName=fn["FunctionName"])["ReservedConcurrentExecutions"] == 2
    events = aws.client("events")
    assert events.describe_rule(Name=f"genai-demo-{ENV}-custom-metrics")["ScheduleExpression"] == "rate(5 minutes)"
    assert events.list_targets_by_rule(Rule=f"genai-demo-{ENV}-custom-metrics")["Targets"][0]["Arn"] == \
        fn["FunctionArn"]
    statement = json.loads(lam.get_policy(FunctionName=fn["FunctionName"])["Policy"])["Statement"][0]
    assert statement["Principal"]["Service"] == "events.amazonaws.com"

    # EventBridge rules route alarm changes and EKS events to the topics; RDS sends its own (FSBP RDS.20/21).
    for rule, topic in (("alarm-state", "warning"), ("eks-events", "critical")):
        name = f"genai-demo-{ENV}-{rule}"
        assert events.list_targets_by_rule(Rule=name)["Targets"][0]["Arn"] == topics[topic]
    subs = {s["CustSubscriptionId"]: s for s in aws.client("rds").describe_event_subscriptions()[
        "EventSubscriptionsList"] if s["CustSubscriptionId"].startswith(f"genai-demo-{ENV}-")}
    instance, group = subs[f"genai-demo-{ENV}-rds-instance-events"], subs[f"genai-demo-{ENV}-rds-parameter-group-events"]
    assert instance["SnsTopicArn"] == group["SnsTopicArn"] == topics["critical"] and instance["Enabled"]
    assert db_id in instance["SourceIdsList"] and {"failure", "maintenance"} <= set(instance["EventCategoriesList"])
    assert group["SourceType"] == "db-parameter-group" and group["EventCategoriesList"] == ["configuration change"]

    # -- a second plan of the stack changes nothing and calls nothing mutating ----------------------------------------
    with count_calls() as log:
        out = infra("plan", "--env", ENV, "--stack", "observability", "--detailed-exitcode")
    assert "0 to create, 0 to update, 0 to replace, 0 to delete" in out.output
    assert log.mutating == []

    # -- main cannot go while observability refers to it -------------------------------------------------------------
    with count_calls() as log:
        res = infra("destroy", "--env", ENV, "--stack", "main", "--auto-approve", ok=None)
    assert res.exit_code == 1
    assert "still referred to by applied stack(s) observability" in one_line(res.output)
    assert log.mutating == []

    # -- destroy everything ----------------------------------------------------------------------------------------
    infra("destroy", "--env", ENV, "--auto-approve", "--parallelism", "10")
    assert _state("observability") == {} and _state("main") == {}
    assert [g for g in logs.describe_log_groups()["logGroups"] if "genai-demo" in g["logGroupName"]] == []
    assert sns.list_topics()["Topics"] == []
    # The email subscriptions were never confirmed (AWS refuses to unsubscribe them): they went with their topics.
    assert sns.list_subscriptions()["Subscriptions"] == []
    assert cw.describe_alarms(AlarmNamePrefix="genai-demo-")["MetricAlarms"] == []
    assert aws.client("opensearch").list_domain_names()["DomainNames"] == []
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == []
    assert [w for w in amp.list_workspaces()["workspaces"] if w["status"]["statusCode"] != "DELETING"] == []
    assert ec2.describe_flow_logs()["FlowLogs"] == []
