"""The observability stack as declared: resources, cross-stack edges into main, profile settings (no AWS)."""

from __future__ import annotations

from collections import Counter

import pytest

from core.errors import PlanError
from orchestrator.graph import build_graph
from plans.genai_demo import build
from plans.genai_demo.profiles import profile
from resources.base import Join, Ref, walk_refs


@pytest.fixture(scope="module", params=["dev", "production"])
def planned(request):
    plan = build(request.param)
    g, _ = build_graph(plan)
    return request.param, plan, g


def obs(plan):
    return plan.stacks["observability"].resources


def test_every_kind_is_declared(planned):
    env, plan, _ = planned
    kinds = Counter(r.type_name for r in obs(plan).values())
    for kind in ("logs.LogGroup", "ec2.FlowLog", "iam.Role", "sns.Topic", "sns.TopicPolicy", "sns.Subscription",
                 "cloudwatch.MetricAlarm", "cloudwatch.Dashboard", "xray.Group", "xray.SamplingRule",
                 "opensearch.Domain", "firehose.DeliveryStream", "logs.SubscriptionFilter", "amp.Workspace",
                 "amp.RuleGroupsNamespace", "lambda.Function", "lambda.Permission", "events.Rule", "events.Target",
                 "kms.Key"):
        assert kinds[kind] >= 1, kind
    assert kinds["logs.LogGroup"] == 9 and kinds["logs.ResourcePolicy"] == 1  # 4 of the groups: OpenSearch's
    assert kinds["wafv2.LoggingConfiguration"] == 1 and kinds["sns.Topic"] == 2 and kinds["firehose.DeliveryStream"] == 2
    assert kinds["logs.SubscriptionFilter"] == 2  # the most AWS allows on one log group
    assert kinds["events.Rule"] == 3  # schedule + alarm state + EKS
    assert kinds["rds.EventSubscription"] == 2  # RDS's own notifications: instances, parameter group


@pytest.mark.parametrize("logical,main_target", [
    ("eks_cluster_logs", "main.eks_cluster"),
    ("eks_cluster_logs", "main.kms_key"),
    ("vpc_flow_log", "main.vpc"),
    ("alarm_alb_elb_5xx", "main.alb"),
    ("alarm_alb_target_latency", "main.alb"),
    ("alarm_eks_node_cpu", "main.eks_cluster"),
    ("alarm_rds_free_storage", "main.db"),
    ("alarm_msk_disk_broker_1", "main.kafka"),
    ("alarm_redis_memory_1", "main.redis"),
    ("opensearch", "main.kms_key"),
    ("opensearch", "main.opensearch_sg"),
    ("opensearch", "main.subnet_private_a"),
    ("logs_archive_stream", "main.data_lake"),
    ("logs_opensearch_stream", "main.app_sg"),
    ("eks_events_rule", "main.eks_cluster"),
    ("rds_instance_events", "main.db"),
    ("rds_parameter_group_events", "main.db_parameters"),
    ("xray_cluster", "main.eks_cluster"),
    ("dashboard", "main.alb"),
])
def test_cross_stack_edges(planned, logical, main_target):
    _, _, g = planned
    assert g.has_edge(main_target, f"observability.{logical}")


def test_references_into_main_are_refs_to_main_resources(planned):
    _, plan, _ = planned
    main = plan.stacks["main"].resources
    for r in obs(plan).values():
        for ref in walk_refs(r.properties):
            assert isinstance(ref, Ref) and not isinstance(ref.resource, str)
            assert ref.resource.stack in ("main", "observability")
            if ref.resource.stack == "main":
                assert main[ref.resource.name] is ref.resource


def test_arrows_of_the_document(planned):
    """CloudWatch -> SNS, CloudWatch -> OpenSearch/S3, Lambda -> EventBridge, EventBridge -> SNS as edges."""
    _, _, g = planned
    assert g.has_edge("observability.critical_topic", "observability.alarm_alb_elb_5xx")
    assert g.has_edge("observability.application_logs", "observability.application_logs_to_s3")
    assert g.has_edge("observability.logs_opensearch_stream", "observability.application_logs_to_opensearch")
    assert g.has_edge("observability.opensearch", "observability.logs_opensearch_stream")
    assert g.has_edge("observability.custom_metrics", "observability.custom_metrics_target")
    assert g.has_edge("observability.custom_metrics_schedule", "observability.custom_metrics_invoke")
    assert g.has_edge("observability.warning_topic", "observability.alarm_state_to_sns")


def test_profile_settings(planned):
    env, plan, _ = planned
    p = profile(env)
    o = obs(plan)
    retention = {"dev": 7, "production": 365}[env]
    for r in o.values():
        if r.type_name == "logs.LogGroup":
            assert r.properties["retentionInDays"] == retention
            assert r.properties["kmsKeyId"] == Ref(plan.stacks["main"].resources["kms_key"], "Arn")
    eks_group = o["eks_cluster_logs"].properties["logGroupName"]
    assert isinstance(eks_group, Join) and eks_group.parts[0] == "/aws/eks/" and eks_group.parts[2] == "/cluster"
    assert o["application_logs"].properties["logGroupName"] == f"/aws/genai-demo/{env}/application"

    domain = o["opensearch"].properties
    cc = domain["ClusterConfig"]
    if env == "dev":
        assert cc == {"InstanceType": "t3.small.search", "InstanceCount": 1, "ZoneAwarenessEnabled": False,
                      "DedicatedMasterEnabled": False}
        assert domain["EBSOptions"]["VolumeSize"] == 20 and len(domain["VPCOptions"]["SubnetIds"]) == 1
    else:
        assert cc["InstanceType"] == "m6g.large.search" and cc["InstanceCount"] == 3
        assert cc["ZoneAwarenessConfig"] == {"AvailabilityZoneCount": 3}
        assert cc["DedicatedMasterEnabled"] and cc["DedicatedMasterCount"] == 3
        assert len(domain["VPCOptions"]["SubnetIds"]) == 3
    assert domain["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert domain["EncryptionAtRestOptions"]["Enabled"] and domain["NodeToNodeEncryptionOptions"]["Enabled"]
    # Fine-grained access control with the delivery role as IAM master user; every log type to its own group,
    # each named by the one Logs resource policy OpenSearch writes through.
    security = domain["AdvancedSecurityOptions"]
    assert security["Enabled"] and security["InternalUserDatabaseEnabled"] is False
    assert security["MasterUserOptions"]["MasterUserARN"] == Ref(o["firehose_opensearch_role"], "Arn")
    published = domain["LogPublishingOptions"]
    assert set(published) == {"ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "AUDIT_LOGS"}
    groups = {kind: o[f"opensearch_{kind.lower()}"] for kind in published}
    assert all(v["Enabled"] and v["CloudWatchLogsLogGroupArn"] == Ref(groups[k], "LogGroupArn")
               for k, v in published.items())
    [statement] = o["opensearch_log_policy"].properties["policyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "es.amazonaws.com"}
    assert statement["Resource"] == [Ref(g, "Arn") for g in groups.values()]
    assert o["opensearch_log_policy"] in o["opensearch"].depends_on

    subs = [r for r in o.values() if r.type_name == "sns.Subscription"]
    assert len(subs) == len(p["observability"]["subscriptions"])
    emails = {r.properties["Endpoint"] for r in subs if r.properties["Protocol"] == "email"}
    assert len(emails) == (1 if env == "dev" else 3)
    for sev in ("critical", "warning"):
        assert isinstance(o[f"{sev}_topic"].properties["KmsMasterKeyId"], Ref)

    msk_alarms = [n for n in o if n.startswith("alarm_msk_disk_broker_")]
    assert len(msk_alarms) == p["msk"]["brokers"]
    redis_alarms = [n for n in o if n.startswith("alarm_redis_memory_")]
    assert len(redis_alarms) == (p["redis"]["shards"] if p["redis"]["cluster_mode"] else 1)
    assert o["custom_metrics_schedule"].properties["ScheduleExpression"] == "rate(5 minutes)"


def test_least_privilege_roles(planned):
    _, plan, _ = planned
    o = obs(plan)
    fn_policy = o["custom_metrics_role"].properties["InlinePolicies"]["custom-metrics"]
    actions = sorted(a for s in fn_policy["Statement"] for a in s["Action"])
    assert actions == ["cloudwatch:DescribeAlarms", "cloudwatch:PutMetricData", "logs:CreateLogStream",
                       "logs:PutLogEvents", "sns:Publish", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    # Publishing is for the dead-letter target only: the warning topic the function's failures go to.
    publish = next(s for s in fn_policy["Statement"] if s["Action"] == ["sns:Publish"])
    assert publish["Resource"] == o["custom_metrics"].properties["DeadLetterConfig"]["TargetArn"]
    assert publish["Resource"].resource is o["warning_topic"]
    put = next(s for s in fn_policy["Statement"] if s["Action"] == ["cloudwatch:PutMetricData"])
    assert "cloudwatch:namespace" in put["Condition"]["StringEquals"]
    for role in ("custom_metrics_role", "flow_logs_role", "firehose_s3_role", "firehose_opensearch_role",
                 "logs_to_firehose_role"):
        for doc in o[role].properties["InlinePolicies"].values():
            for s in doc["Statement"]:
                assert not any(a.endswith(":*") or a == "*" for a in s["Action"]), (role, s)
    # The topics accept publishing only from this env's alarms, rules and RDS event subscriptions.
    policy = o["critical_topic_policy"].properties["PolicyDocument"]
    assert {s["Principal"]["Service"] for s in policy["Statement"]} == {"cloudwatch.amazonaws.com",
                                                                         "events.amazonaws.com",
                                                                         "events.rds.amazonaws.com"}
    assert all("aws:SourceArn" in s["Condition"]["ArnLike"] for s in policy["Statement"])


def test_observability_alone_needs_main_applied():
    plan = build("dev")
    with pytest.raises(PlanError) as err:
        build_graph(plan, ["observability"], state_outputs={})
    text = str(err.value)
    for missing in ("main.eks_cluster", "main.alb", "main.db", "main.kafka", "main.redis", "main.kms_key"):
        assert f"needs {missing} (stack 'main')" in text
