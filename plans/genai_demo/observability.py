"""Observability stack: logs, alarms, alerting, tracing, log analytics, Prometheus, custom metrics.

Everything here watches the main stack, so every reference into it is a Ref
to a main-stack resource (`main["compute"]["cluster"]["Name"]`...): the graph
draws the cross-stack edges, `apply --stack observability` alone resolves them
from main's recorded outputs, and destroying main while this stack exists is
refused.

Flows (the architecture document's arrows):
- EKS -> CloudWatch: the control-plane group /aws/eks/<cluster>/cluster and the
  application group /aws/genai-demo/<env>/application, retention per profile,
  encrypted with the main key (its policy grants logs.<region>).
- CloudWatch -> S3 and -> OpenSearch: two subscription filters on the
  application group feed two Firehose streams (logs assumes `logs_to_firehose`):
  one archives into the data-lake bucket under logs/, the other indexes into
  the OpenSearch domain (the API's Elasticsearch destination, which takes
  OpenSearch domains; failed documents go to the bucket).
- CloudWatch -> SNS: metric alarms on the ALB, EKS nodes, RDS, MSK and Redis
  send to the critical or warning topic.
- Lambda -> EventBridge -> SNS: a schedule runs the custom-metrics function;
  rules route alarm state changes and EKS/RDS events to the topics.

The alert topics use their own KMS key: CloudWatch and EventBridge publish as
service principals, which only a key policy can let use a key (the main key's
policy admits account principals through named services, and logs).
"""

from __future__ import annotations

from typing import Any

from orchestrator.model import Stack
from resources.amp import RuleGroupsNamespace, Workspace
from resources.base import Join
from resources.cloudwatch import Dashboard, MetricAlarm
from resources.ec2 import FlowLog
from resources.events import Rule, Target
from resources.firehose import DeliveryStream
from resources.iam import Role, ServiceLinkedRole
from resources.kms import ACCOUNT_PLACEHOLDER, Alias, Key
from resources.lambda_ import Function, Permission
from resources.logs import LogGroup, ResourcePolicy, SubscriptionFilter
from resources.opensearch import Domain
from resources.rds import EventSubscription
from resources.sns import Subscription, Topic, TopicPolicy
from resources.wafv2 import LoggingConfiguration as WafLogging
from resources.xray import Group, SamplingRule

GIB = 1024 ** 3
PERIOD = 300  # seconds per alarm datapoint
APP_SERVICE = "genai-demo-backend"

# Inventory 7 (infrastructure/k8s/monitoring/xray-sampling-rules.json): name -> (priority, rate, reservoir, path).
# The upstream "5xx at 1.0" rule cannot exist: sampling is decided when a request starts, before it has a
# status; the `faults` group below selects those traces instead. AWS's own Default rule is the catch-all.
SAMPLING_RULES: dict[str, tuple[int, float, int, str]] = {
    "payments": (50, 1.0, 5, "/api/payments*"),
    "orders": (100, 0.5, 5, "/api/orders*"),
    "health": (9000, 0.01, 0, "/health*"),
    "default": (9999, 0.1, 1, "*"),
}


# Firehose passes the account as the external id when it assumes a delivery role (its documented guard).
FIREHOSE_GUARD = {"StringEquals": {"sts:ExternalId": ACCOUNT_PLACEHOLDER}}


def trust(service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        stmt["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [stmt]}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(sid: str, actions: list[str], resources: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        stmt["Condition"] = condition
    return stmt


def alerts_key_policy(region: str, env: str) -> dict[str, Any]:
    """Root administers; CloudWatch alarms, EventBridge rules and RDS event subscriptions of this env may encrypt
    messages to the topics."""
    account = ACCOUNT_PLACEHOLDER
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountRootAdministers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "AlarmsAndRulesPublish", "Effect": "Allow",
         "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com", "events.rds.amazonaws.com"]},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
        {"Sid": "SnsForThisAccount", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": f"sns.{region}.amazonaws.com"}}},
    ]}


def topic_policy(topic: Topic, region: str, env: str) -> dict[str, Any]:
    """Only this env's alarms, rules and RDS event subscriptions publish (matched by their deterministic name
    prefix)."""
    prefix = f"genai-demo-{env}-"
    return {"Version": "2012-10-17", "Id": f"{prefix}alerts-publishers", "Statement": [
        {"Sid": "CloudWatchAlarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": "sns:Publish", "Resource": topic["TopicArn"],
         "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{region}:*:alarm:{prefix}*"},
                       "StringEquals": {"aws:SourceAccount": ACCOUNT_PLACEHOLDER}}},
        {"Sid": "EventBridgeRules", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
         "Action": "sns:Publish", "Resource": topic["TopicArn"],
         "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:events:{region}:*:rule/{prefix}*"},
                       "StringEquals": {"aws:SourceAccount": ACCOUNT_PLACEHOLDER}}},
        {"Sid": "RdsEventSubscriptions", "Effect": "Allow", "Principal": {"Service": "events.rds.amazonaws.com"},
         "Action": "sns:Publish", "Resource": topic["TopicArn"],
         "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:rds:{region}:*:es:{prefix}*"},
                       "StringEquals": {"aws:SourceAccount": ACCOUNT_PLACEHOLDER}}},
    ]}


def prometheus_rules(env: str) -> str:
    """Recording rules for request and error rates, alerting rules on them and on crash-looping pods."""
    return f"""groups:
  - name: genai-demo-{env}-recording
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_server_requests_seconds_count[5m]))
      - record: job:http_server_errors:ratio5m
        expr: >-
          sum by (job) (rate(http_server_requests_seconds_count{{status=~"5.."}}[5m]))
          / sum by (job) (rate(http_server_requests_seconds_count[5m]))
  - name: genai-demo-{env}-alerts
    rules:
      - alert: HighServerErrorRatio
        expr: job:http_server_errors:ratio5m > 0.05
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "More than 5% of requests to {{{{ $labels.job }}}} fail with 5xx"
      - alert: PodCrashLooping
        expr: increase(kube_pod_container_status_restarts_total{{namespace="application"}}[15m]) > 3
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "Pod {{{{ $labels.pod }}}} restarted more than 3 times in 15 minutes"
"""


def _metric_widget(title: str, region: str, metrics: list[list[Any]], stat: str = "Average") -> dict[str, Any]:
    return {"type": "metric", "width": 12, "height": 6,
            "properties": {"title": title, "region": region, "stat": stat, "period": PERIOD, "view": "timeSeries",
                           "metrics": metrics}}


def build(stack: Stack, p: dict[str, Any], main: dict[str, Any]) -> dict[str, Any]:
    o = p["observability"]
    env, region = p["tags"]["Environment"], p["region"]
    prefix = f"genai-demo-{env}"
    net, sec, edge, plat, dat = main["network"], main["security"], main["edge"], main["compute"], main["data"]
    kms_arn = sec["kms_key"]["Arn"]
    cluster, alb, db, kafka, redis = plat["cluster"], edge["alb"], dat["db"], dat["kafka"], dat["redis"]
    bucket = sec["buckets"]["data_lake"]
    retention = o["log_retention_days"]

    # -- log groups (EKS -> CloudWatch) ----------------------------------------------------------------------
    def log_group(name: str, group: Any, **kw: Any) -> LogGroup:
        return stack.add(LogGroup(name, logGroupName=group, retentionInDays=retention, kmsKeyId=kms_arn, **kw))

    # EKS makes this group itself once the control plane logs (main is applied first): adopt it.
    eks_logs = log_group("eks_cluster_logs", Join("/aws/eks/", cluster["Name"], "/cluster"),
                         AdoptServiceCreated=True)
    app_logs = log_group("application_logs", f"/aws/genai-demo/{env}/application")
    flow_logs = log_group("vpc_flow_logs", f"/aws/vpc/{prefix}/flow-logs")
    metrics_fn_name = f"{prefix}-custom-metrics"
    fn_logs = log_group("custom_metrics_logs", f"/aws/lambda/{metrics_fn_name}")
    # Every request the WAF inspects, with the rule that decided it (CKV2_AWS_31); AWS wants the aws-waf-logs- name.
    waf_logs = log_group("waf_logs", f"aws-waf-logs-{prefix}")
    stack.add(WafLogging("waf_logging", ResourceArn=edge["web_acl"]["WebACLArn"],
                         LogDestinationConfigs=[waf_logs["LogGroupArn"]],
                         RedactedFields=[{"SingleHeader": {"Name": "authorization"}},
                                         {"SingleHeader": {"Name": "cookie"}}]))

    flow_role = stack.add(Role(
        "flow_logs_role", Description="VPC flow logs deliver to their log group",
        AssumeRolePolicyDocument=trust("vpc-flow-logs.amazonaws.com", {"ArnLike": {
            "aws:SourceArn": f"arn:aws:ec2:{region}:*:vpc-flow-log/*"},
            "StringEquals": {"aws:SourceAccount": ACCOUNT_PLACEHOLDER}}),
        InlinePolicies={"deliver": policy(allow(
            "WriteFlowLogGroup", ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            flow_logs["Arn"]))}))
    flow_log = stack.add(FlowLog(
        "vpc_flow_log", ResourceId=net["vpc"]["VpcId"], ResourceType="VPC", TrafficType=o["flow_log_traffic"],
        LogDestinationType="cloud-watch-logs", LogGroupName=flow_logs["LogGroupName"],
        DeliverLogsPermissionArn=flow_role["Arn"], MaxAggregationInterval=o["flow_log_aggregation_seconds"]))

    # -- alert topics (CloudWatch -> SNS, EventBridge -> SNS) --------------------------------------------------
    alerts_key = stack.add(Key("alerts_kms_key", Description=f"{prefix} alert topics (SNS)", EnableKeyRotation=True,
                               Policy=alerts_key_policy(region, env),
                               PendingWindowInDays=p["security"]["kms_deletion_window_days"]))
    stack.add(Alias("alerts_kms_alias", AliasName="alerts", TargetKeyId=alerts_key["KeyId"]))
    topics: dict[str, Topic] = {}
    policies: dict[str, TopicPolicy] = {}
    for sev in ("critical", "warning"):
        topics[sev] = stack.add(Topic(f"{sev}_topic", Name=f"{prefix}-{sev}-alerts",
                                      DisplayName=f"GenAI Demo {env} {sev}", KmsMasterKeyId=alerts_key["Arn"]))
        policies[sev] = stack.add(TopicPolicy(f"{sev}_topic_policy", TopicArn=topics[sev]["TopicArn"],
                                              PolicyDocument=topic_policy(topics[sev], region, env)))
    subscriptions = [
        stack.add(Subscription(f"{sev}_{protocol}_{i}", TopicArn=topics[sev]["TopicArn"], Protocol=protocol,
                               Endpoint=endpoint))
        for i, (sev, protocol, endpoint) in enumerate(o["subscriptions"], start=1)
    ]

    # -- metric alarms ---------------------------------------------------------------------------------------
    t, periods = o["thresholds"], o["alarm_evaluation_periods"]
    alarms: dict[str, MetricAlarm] = {}

    def alarm(name: str, sev: str, description: str, namespace: str, metric: str, dims: dict[str, Any],
              threshold: float, comparison: str = "GreaterThanThreshold", statistic: str = "Average",
              missing: str = "notBreaching", **kw: Any) -> None:
        topic = topics[sev]["TopicArn"]
        alarms[name] = stack.add(MetricAlarm(
            f"alarm_{name}", AlarmDescription=f"[{sev}] {description}", Namespace=namespace, MetricName=metric,
            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()], Statistic=statistic, Period=PERIOD,
            EvaluationPeriods=periods, Threshold=threshold, ComparisonOperator=comparison,
            TreatMissingData=missing, AlarmActions=[topic], OKActions=[topic],
            depends_on=[policies[sev]], **kw))

    lb = {"LoadBalancer": alb["LoadBalancerFullName"]}
    alarm("alb_elb_5xx", "critical", "the ALB itself answers 5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count",
          lb, t["alb_5xx"], statistic="Sum")
    alarm("alb_target_5xx", "critical", "the backend answers 5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count",
          lb, t["alb_5xx"], statistic="Sum")
    alarms["alb_target_latency"] = stack.add(MetricAlarm(
        "alarm_alb_target_latency", AlarmDescription="[warning] p95 backend response time is high",
        Namespace="AWS/ApplicationELB", MetricName="TargetResponseTime",
        Dimensions=[{"Name": "LoadBalancer", "Value": alb["LoadBalancerFullName"]}], ExtendedStatistic="p95",
        Period=PERIOD, EvaluationPeriods=periods, Threshold=t["target_latency_s"],
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
        AlarmActions=[topics["warning"]["TopicArn"]], OKActions=[topics["warning"]["TopicArn"]],
        depends_on=[policies["warning"]]))
    eks = {"ClusterName": cluster["Name"]}
    alarm("eks_node_cpu", "warning", "EKS node CPU", "ContainerInsights", "node_cpu_utilization", eks, t["node_cpu"])
    alarm("eks_node_memory", "warning", "EKS node memory", "ContainerInsights", "node_memory_utilization", eks,
          t["node_memory"])
    rds = {"DBInstanceIdentifier": db["DBInstanceIdentifier"]}
    alarm("rds_cpu", "warning", "database CPU", "AWS/RDS", "CPUUtilization", rds, t["rds_cpu"])
    alarm("rds_free_storage", "critical", "database storage almost full", "AWS/RDS", "FreeStorageSpace", rds,
          t["rds_free_storage_gib"] * GIB, comparison="LessThanThreshold", statistic="Minimum")
    alarm("rds_connections", "warning", "database connections", "AWS/RDS", "DatabaseConnections", rds,
          t["rds_connections"], statistic="Maximum")
    for broker in range(1, p["msk"]["brokers"] + 1):
        alarm(f"msk_disk_broker_{broker}", "critical", f"Kafka broker {broker} data disk", "AWS/Kafka",
              "KafkaDataLogsDiskUsed", {"Cluster Name": kafka["ClusterName"], "Broker ID": str(broker)},
              t["msk_disk"], statistic="Maximum")
    # ElastiCache publishes per node (CacheClusterId); a group's node ids are derived from its id.
    r = p["redis"]
    nodes = [f"-{shard:04d}-001" for shard in range(1, r["shards"] + 1)] if r["cluster_mode"] else \
        [f"-{n:03d}" for n in range(1, r["num_cache_clusters"] + 1)]
    for i, suffix in enumerate(nodes, start=1):
        node = {"CacheClusterId": Join(redis["ReplicationGroupId"], suffix)}
        alarm(f"redis_memory_{i}", "critical", f"Redis node {i} memory", "AWS/ElastiCache",
              "DatabaseMemoryUsagePercentage", node, t["redis_memory"], statistic="Maximum")
        alarm(f"redis_evictions_{i}", "warning", f"Redis node {i} evictions", "AWS/ElastiCache", "Evictions", node,
              t["redis_evictions"], statistic="Sum")
    metrics_ns = f"GenAIDemo/{env}"
    alarm("custom_metrics_heartbeat", "warning", "the custom-metrics function stopped reporting", metrics_ns,
          "Heartbeat", {"Environment": env}, 1, comparison="LessThanThreshold", statistic="Sum", missing="breaching")

    # -- dashboard -------------------------------------------------------------------------------------------
    lb_full = alb["LoadBalancerFullName"]
    widgets = [
        {"type": "text", "width": 24, "height": 2,
         "properties": {"markdown": f"# GenAI Demo {env}\nALB, EKS, data services and alarm counts."}},
        _metric_widget("ALB requests and 5xx", region, [
            ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb_full],
            ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb_full],
            ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb_full]], stat="Sum"),
        _metric_widget("ALB p95 target response time", region, [
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb_full]], stat="p95"),
        _metric_widget("EKS nodes", region, [
            ["ContainerInsights", "node_cpu_utilization", "ClusterName", cluster["Name"]],
            ["ContainerInsights", "node_memory_utilization", "ClusterName", cluster["Name"]]]),
        _metric_widget("RDS", region, [
            ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", db["DBInstanceIdentifier"]],
            ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db["DBInstanceIdentifier"]]]),
        _metric_widget("Alarms by state", region, [
            [metrics_ns, "AlarmsInAlarm", "Environment", env],
            [metrics_ns, "AlarmsInsufficientData", "Environment", env]], stat="Maximum"),
    ]
    dashboard = stack.add(Dashboard("dashboard", DashboardName=f"{prefix}-overview",
                                    DashboardBody={"widgets": widgets}))

    # -- X-Ray (EKS -> X-Ray) --------------------------------------------------------------------------------
    xray_groups = {
        "app": stack.add(Group("xray_group", GroupName=prefix, FilterExpression=f'service("{APP_SERVICE}")')),
        "faults": stack.add(Group("xray_faults", GroupName=f"{prefix}-faults",
                                  FilterExpression=f'service("{APP_SERVICE}") {{ fault = true }}')),
        # Segments the backend annotates with the cluster it runs in (from /genai-demo/<env>/eks/cluster-name).
        "cluster": stack.add(Group("xray_cluster", GroupName=f"{prefix}-eks",
                                   FilterExpression=Join('annotation.eks_cluster = "', cluster["Name"], '"'))),
    }
    sampling = {
        name: stack.add(SamplingRule(f"xray_sampling_{name}", RuleName=f"{prefix}-{name}"[:32], Priority=prio,
                                     FixedRate=rate, ReservoirSize=reservoir, ServiceName=APP_SERVICE, URLPath=path))
        for name, (prio, rate, reservoir, path) in SAMPLING_RULES.items()
    }

    # -- OpenSearch (log analytics) -----------------------------------------------------------------------------
    s = o["opensearch"]
    domain_name = f"genai-demo-logs-{env}"
    cluster_config: dict[str, Any] = {"InstanceType": s["instance_type"], "InstanceCount": s["instance_count"],
                                      "ZoneAwarenessEnabled": s["azs"] > 1,
                                      "DedicatedMasterEnabled": bool(s["master_count"])}
    if s["azs"] > 1:
        cluster_config["ZoneAwarenessConfig"] = {"AvailabilityZoneCount": s["azs"]}
    if s["master_count"]:
        cluster_config.update(DedicatedMasterType=s["master_type"], DedicatedMasterCount=s["master_count"])
    private = net["subnets"]["private"]
    app_sg = net["security_groups"]["app"]["GroupId"]

    # Firehose writes into the domain from ENIs in the private subnets carrying the app security group
    # (the opensearch group admits HTTPS from it); its role is named by the domain's access policy.
    domain_arn = f"arn:aws:es:{region}:*:domain/{domain_name}"  # by name: the domain's policy names this role
    to_opensearch_role = stack.add(Role(
        "firehose_opensearch_role", Description="Firehose indexes application logs into OpenSearch",
        AssumeRolePolicyDocument=trust("firehose.amazonaws.com", FIREHOSE_GUARD),
        InlinePolicies={"deliver": policy(
            allow("DescribeDomain", ["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"],
                  domain_arn),
            allow("IndexDocuments", ["es:ESHttpPost", "es:ESHttpPut", "es:ESHttpGet"],
                  [domain_arn, f"{domain_arn}/*"]),
            allow("FailedDocumentsToS3", ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject",
                                          "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"],
                  [bucket["Arn"], Join(bucket["Arn"], "/logs/*")]),
            allow("EncryptBucketObjects", ["kms:GenerateDataKey", "kms:Decrypt"], kms_arn,
                  {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}),
            # The describe calls have no resource-level scope; the ENI writes are held to this VPC
            # (ec2:Vpc is set on every resource those calls touch: the ENI, its subnet, its groups).
            allow("VpcDescribe", ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets",
                                  "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces"], "*"),
            allow("VpcDeliveryEnis", ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                                      "ec2:DeleteNetworkInterface"], "*",
                  {"ArnLike": {"ec2:Vpc": Join(f"arn:aws:ec2:{region}:*:vpc/", net["vpc"]["VpcId"])}}))}))
    # A VPC domain needs OpenSearch's service-linked role, which CreateDomain does not make (the console does).
    slr = stack.add(ServiceLinkedRole("opensearch_service_linked_role",
                                      AWSServiceName="opensearchservice.amazonaws.com",
                                      Description="OpenSearch Service: ENIs of VPC domains"))
    # Error, slow-query and audit logs (FSBP Opensearch.4/.5), one group per type, which OpenSearch writes only
    # through a Logs resource policy naming it (CreateDomain refuses the options otherwise).
    os_logs = {kind: log_group(f"opensearch_{kind.lower()}", f"/aws/opensearch/{domain_name}/{kind.lower()}")
               for kind in ("ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "AUDIT_LOGS")}
    os_log_policy = stack.add(ResourcePolicy("opensearch_log_policy", policyDocument={
        "Version": "2012-10-17", "Statement": [{
            "Sid": "OpenSearchPublishesItsLogs", "Effect": "Allow", "Principal": {"Service": "es.amazonaws.com"},
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": [g["Arn"] for g in os_logs.values()],
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_PLACEHOLDER},
                          "ArnLike": {"aws:SourceArn": f"arn:aws:es:{region}:{ACCOUNT_PLACEHOLDER}:domain/"
                                                       f"{domain_name}"}}}]}))
    domain = stack.add(Domain(
        "opensearch", DomainName=domain_name, EngineVersion=s["engine_version"], ClusterConfig=cluster_config,
        EBSOptions={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": s["volume_gib"]},
        VPCOptions={"SubnetIds": [sn["SubnetId"] for sn in private[:s["azs"]]],
                    "SecurityGroupIds": [net["security_groups"]["opensearch"]["GroupId"]]},
        EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": kms_arn},
        NodeToNodeEncryptionOptions={"Enabled": True},
        DomainEndpointOptions={"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"},
        AccessPolicies={"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": [to_opensearch_role["Arn"]]},
            "Action": ["es:ESHttpPost", "es:ESHttpPut", "es:ESHttpGet"], "Resource": f"{domain_arn}/*"}]},
        # Fine-grained access control (FSBP Opensearch.7): the delivery role is the IAM master user. The access
        # policy admits that role alone, so who reaches the domain is unchanged, and Firehose needs no role
        # mapping inside the cluster (made through the domain's REST API, which no AWS call reaches); the
        # security plugin now checks every request, and writes the audit log.
        AdvancedSecurityOptions={"Enabled": True, "InternalUserDatabaseEnabled": False,
                                 "MasterUserOptions": {"MasterUserARN": to_opensearch_role["Arn"]}},
        LogPublishingOptions={kind: {"CloudWatchLogsLogGroupArn": g["LogGroupArn"], "Enabled": True}
                              for kind, g in os_logs.items()},
        depends_on=[slr, os_log_policy]))

    # -- CloudWatch Logs -> Firehose -> S3 / OpenSearch -----------------------------------------------------------
    to_s3_role = stack.add(Role(
        "firehose_s3_role", Description="Firehose archives application logs into the data lake",
        AssumeRolePolicyDocument=trust("firehose.amazonaws.com", FIREHOSE_GUARD),
        InlinePolicies={"deliver": policy(
            allow("ArchiveToS3", ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
                                  "s3:ListBucketMultipartUploads", "s3:PutObject"],
                  [bucket["Arn"], Join(bucket["Arn"], "/logs/*")]),
            allow("EncryptBucketObjects", ["kms:GenerateDataKey", "kms:Decrypt"], kms_arn,
                  {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}))}))
    buffering = {"IntervalInSeconds": o["firehose_buffer_seconds"], "SizeInMBs": 5}
    # Records wait in Firehose's buffer encrypted with the main key too (CKV_AWS_240/241), not only in S3.
    stream_sse = {"KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": kms_arn}
    archive = stack.add(DeliveryStream(
        "logs_archive_stream", DeliveryStreamName=f"{prefix}-logs-archive",
        ExtendedS3DestinationConfiguration={
            "BucketARN": bucket["Arn"], "RoleARN": to_s3_role["Arn"],
            "Prefix": "logs/application/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/",
            "ErrorOutputPrefix": "logs/errors/!{firehose:error-output-type}/!{timestamp:yyyy}/!{timestamp:MM}/",
            "BufferingHints": buffering,
            # CloudWatch Logs already gzips what it sends: compressing again would only cost.
            "CompressionFormat": "UNCOMPRESSED",
            "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": kms_arn}}},
        DeliveryStreamEncryptionConfigurationInput=stream_sse))
    to_opensearch = stack.add(DeliveryStream(
        "logs_opensearch_stream", DeliveryStreamName=f"{prefix}-logs-opensearch",
        DeliveryStreamEncryptionConfigurationInput=stream_sse,
        ElasticsearchDestinationConfiguration={
            "RoleARN": to_opensearch_role["Arn"], "DomainARN": domain["Arn"], "IndexName": "application-logs",
            "IndexRotationPeriod": "OneDay", "BufferingHints": buffering, "RetryOptions": {"DurationInSeconds": 300},
            "S3BackupMode": "FailedDocumentsOnly",
            "S3Configuration": {"RoleARN": to_opensearch_role["Arn"], "BucketARN": bucket["Arn"],
                                "Prefix": "logs/opensearch-failed/", "CompressionFormat": "GZIP"},
            "VpcConfiguration": {"SubnetIds": [sn["SubnetId"] for sn in private[:s["azs"]]],
                                 "SecurityGroupIds": [app_sg], "RoleARN": to_opensearch_role["Arn"]}}))
    logs_role = stack.add(Role(
        "logs_to_firehose_role", Description="CloudWatch Logs puts subscription records into Firehose",
        AssumeRolePolicyDocument=trust(f"logs.{region}.amazonaws.com", {"ArnLike": {
            "aws:SourceArn": app_logs["Arn"]}}),
        InlinePolicies={"put-records": policy(allow(
            "PutToLogStreams", ["firehose:PutRecord", "firehose:PutRecordBatch"],
            [archive["Arn"], to_opensearch["Arn"]]))}))
    filters = {
        name: stack.add(SubscriptionFilter(
            f"application_logs_to_{name}", logGroupName=app_logs["LogGroupName"], filterName=f"{prefix}-to-{name}",
            filterPattern="", destinationArn=stream["Arn"], roleArn=logs_role["Arn"]))
        for name, stream in (("s3", archive), ("opensearch", to_opensearch))
    }

    # -- Amazon Managed Prometheus ---------------------------------------------------------------------------------
    workspace = stack.add(Workspace("prometheus", alias=f"{prefix}-prometheus"))
    rules = stack.add(RuleGroupsNamespace("prometheus_rules", workspaceId=workspace["WorkspaceId"],
                                          Name=f"{prefix}-rules", data=prometheus_rules(env)))

    # -- custom metrics Lambda on a schedule (Lambda -> EventBridge) -----------------------------------------------
    fn_role = stack.add(Role(
        "custom_metrics_role", Description="Custom metrics function: count alarms, publish metrics",
        AssumeRolePolicyDocument=trust("lambda.amazonaws.com"),
        InlinePolicies={"custom-metrics": policy(
            allow("PublishOwnNamespace", ["cloudwatch:PutMetricData"], "*",
                  {"StringEquals": {"cloudwatch:namespace": metrics_ns}}),
            allow("ReadAlarms", ["cloudwatch:DescribeAlarms"], "*"),
            allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], fn_logs["Arn"]),
            # Active tracing: Lambda refuses the function unless its role may send segments (X-Ray has no
            # resource-level permissions for these two actions, hence "*").
            allow("WriteTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
            # Its dead-letter target: Lambda refuses the function unless the role may publish there.
            allow("PublishFailedEvents", ["sns:Publish"], topics["warning"]["TopicArn"]))}))
    function = stack.add(Function(
        "custom_metrics", FunctionName=metrics_fn_name, Handler="handler.handler", Role=fn_role["Arn"],
        SourceDir="plans/genai_demo/functions/custom_metrics", Description="Counts this env's alarms by state; publishes a heartbeat",
        Timeout=60, MemorySize=128, TracingConfig={"Mode": "Active"},
        Environment={"Variables": {"ENVIRONMENT": env, "METRIC_NAMESPACE": metrics_ns,
                                   "ALARM_NAME_PREFIX": f"{prefix}-"}},
        KMSKeyArn=kms_arn,
        # A scheduled run that still fails after Lambda's two retries reaches the on-call as a warning.
        DeadLetterConfig={"TargetArn": topics["warning"]["TopicArn"]},
        ReservedConcurrentExecutions=o["custom_metrics_reserved_concurrency"],
        depends_on=[fn_logs]))  # the group exists (retention, key) before the first invocation makes one
    schedule = stack.add(Rule("custom_metrics_schedule", Name=f"{prefix}-custom-metrics",
                              ScheduleExpression=o["custom_metrics_schedule"],
                              Description="Run the custom metrics function"))
    invoke = stack.add(Permission("custom_metrics_invoke", FunctionName=function["FunctionName"],
                                  Principal="events.amazonaws.com", SourceArn=schedule["Arn"]))
    schedule_target = stack.add(Target("custom_metrics_target", Rule=schedule["Name"], Id="custom-metrics",
                                       Arn=function["Arn"], depends_on=[invoke]))

    # -- EventBridge -> SNS ------------------------------------------------------------------------------------
    event_rules = {
        "alarm_state": ("warning", "CloudWatch alarm state changes of this env", {
            "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": [{"prefix": f"{prefix}-"}]}}),
        "eks_events": ("critical", "Events of the EKS cluster", {
            "source": ["aws.eks"], "resources": [cluster["Arn"]]}),
    }
    routes: dict[str, tuple[Rule, Target]] = {}
    for name, (sev, description, pattern) in event_rules.items():
        rule = stack.add(Rule(f"{name}_rule", Name=f"{prefix}-{name.replace('_', '-')}", EventPattern=pattern,
                              Description=description))
        target = stack.add(Target(f"{name}_to_sns", Rule=rule["Name"], Id=f"{sev}-alerts",
                                  Arn=topics[sev]["TopicArn"], depends_on=[policies[sev]]))
        routes[name] = (rule, target)

    # RDS's own event notifications (FSBP RDS.20/RDS.21) to the critical topic: what goes wrong with this env's
    # instances (failover, failure, storage, maintenance, configuration changes), and its parameter group's
    # changes. (An EventBridge rule carried the instance events before; the subscription is what RDS and the
    # control look for, and one route means one page per event.)
    db_events = {
        "rds_instance_events": stack.add(EventSubscription(
            "rds_instance_events", SnsTopicArn=topics["critical"]["TopicArn"], SourceType="db-instance",
            SourceIds=[i["DBInstanceIdentifier"] for i in (db, *dat["db_replicas"])],
            EventCategories=["availability", "configuration change", "failover", "failure", "low storage",
                             "maintenance", "notification"], depends_on=[policies["critical"]])),
        "rds_parameter_group_events": stack.add(EventSubscription(
            "rds_parameter_group_events", SnsTopicArn=topics["critical"]["TopicArn"],
            SourceType="db-parameter-group", SourceIds=[dat["db_parameters"]["Name"]],
            EventCategories=["configuration change"], depends_on=[policies["critical"]])),
    }

    stack.outputs.update({"opensearch_endpoint": domain["Endpoint"],
                          "prometheus_endpoint": workspace["PrometheusEndpoint"]})
    return {"log_groups": {"eks": eks_logs, "application": app_logs, "vpc_flow": flow_logs,
                           "custom_metrics": fn_logs},
            "flow_log": flow_log, "flow_logs_role": flow_role, "alerts_kms_key": alerts_key, "topics": topics,
            "topic_policies": policies, "subscriptions": subscriptions, "alarms": alarms, "dashboard": dashboard,
            "xray_groups": xray_groups, "sampling_rules": sampling, "opensearch": domain,
            "opensearch_service_linked_role": slr, "opensearch_log_groups": os_logs,
            "opensearch_log_policy": os_log_policy, "rds_event_subscriptions": db_events,
            "delivery_streams": {"s3": archive, "opensearch": to_opensearch},
            "roles": {"firehose_s3": to_s3_role, "firehose_opensearch": to_opensearch_role,
                      "logs_to_firehose": logs_role, "custom_metrics": fn_role},
            "subscription_filters": filters, "prometheus": workspace, "prometheus_rules": rules,
            "custom_metrics": function, "schedule": schedule, "schedule_target": schedule_target,
            "event_rules": routes}

