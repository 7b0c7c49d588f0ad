"""Data Analytics stack: MSK -> Firehose -> S3 data lake -> Glue -> Athena -> QuickSight.

The domain events the application publishes to the main stack's MSK cluster
are read by a Kinesis Data Firehose stream (MSK as source) and written, GZIP
and KMS-encrypted, into the main stack's data lake bucket under
`domain-events/year=/month=/day=/hour=/` (Hive partitions the crawler turns
into partition columns). A Glue crawler catalogues that prefix into a Glue
database; an Athena workgroup (results encrypted in the same bucket, a scan
limit per query it enforces) and saved queries read the catalogue; QuickSight
(production; `quicksight` switch in the profile, off in dev) puts a data
source over the workgroup, one over the observability stack's OpenSearch
domain when there is one, a data set and a dashboard on top.

Every reference into the main and observability stacks is a Ref to their
resource objects, so the graph holds the cross-stack edges and applying this
stack alone resolves them from their recorded outputs.

Deviations from the upstream CDK code (inventory sections 4 and 7): the
Firehose reads MSK (upstream is DirectPut and never uses the cluster it is
given); one Glue crawler role (upstream's two stacks collide on its name);
an Athena workgroup and named queries, a QuickSight data set and dashboard,
which upstream lacks.
"""

from __future__ import annotations

from typing import Any

from core.errors import PlanError
from orchestrator.model import Stack
from resources.account import ACCOUNT_PLACEHOLDER
from resources.athena import NamedQuery, WorkGroup
from resources.base import Join, Resource
from resources.firehose import DeliveryStream
from resources.glue import Crawler, Database, SecurityConfiguration
from resources.iam import Role
from resources.kafka import ClusterPolicy, Topic
from resources.quicksight import Dashboard, DataSet, DataSource, VpcConnection

GLUE_SERVICE_ROLE = "arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"
EVENTS_PREFIX = "domain-events/"
RESULTS_PREFIX = "athena-results/"
# Hive-style partitions: the crawler makes year/month/day/hour partition columns of them.
FIREHOSE_PREFIX = EVENTS_PREFIX + "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
# Outside domain-events/, so failed records never reach the crawled tables.
FIREHOSE_ERROR_PREFIX = "errors/domain-events/!{firehose:error-output-type}/year=!{timestamp:yyyy}/" \
                        "month=!{timestamp:MM}/day=!{timestamp:dd}/"
# The crawler names the table after the crawled folder (hyphens become underscores).
EVENTS_TABLE = "domain_events"
# The application's domain event JSON (eventId, eventType, aggregateId, aggregateType, occurredOn), as the
# crawler catalogues it: Glue lowercases JSON keys; the partition columns are strings.
EVENT_COLUMNS = [("eventid", "STRING"), ("eventtype", "STRING"), ("aggregateid", "STRING"),
                 ("aggregatetype", "STRING"), ("occurredon", "STRING"),
                 ("year", "STRING"), ("month", "STRING"), ("day", "STRING"), ("hour", "STRING")]

QUERIES = {
    "query_events_per_hour": (
        "Domain events per hour",
        "Events written by Firehose per hour, newest first (last 7 days of partitions)",
        f"SELECT year, month, day, hour, count(*) AS events\nFROM {EVENTS_TABLE}\n"
        "WHERE date(concat(year, '-', month, '-', day)) >= current_date - interval '7' day\n"
        "GROUP BY year, month, day, hour\nORDER BY year DESC, month DESC, day DESC, hour DESC",
    ),
    "query_events_by_aggregate": (
        "Events by aggregate type",
        "Domain events per aggregate type and event type (last 30 days of partitions)",
        f"SELECT aggregatetype AS aggregate_type, eventtype AS event_type, count(*) AS events\nFROM {EVENTS_TABLE}\n"
        "WHERE date(concat(year, '-', month, '-', day)) >= current_date - interval '30' day\n"
        "GROUP BY aggregatetype, eventtype\nORDER BY events DESC",
    ),
}

# What QuickSight principals named in the profile may do with each kind of asset (owners).
QS_DATA_SOURCE_ACTIONS = ["quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions",
                          "quicksight:PassDataSource", "quicksight:UpdateDataSource", "quicksight:DeleteDataSource",
                          "quicksight:UpdateDataSourcePermissions"]
QS_DATA_SET_ACTIONS = ["quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions",
                       "quicksight:PassDataSet", "quicksight:DescribeIngestion", "quicksight:ListIngestions",
                       "quicksight:UpdateDataSet", "quicksight:DeleteDataSet", "quicksight:CreateIngestion",
                       "quicksight:CancelIngestion", "quicksight:UpdateDataSetPermissions"]
QS_DASHBOARD_ACTIONS = ["quicksight:DescribeDashboard", "quicksight:ListDashboardVersions",
                        "quicksight:QueryDashboard", "quicksight:UpdateDashboard", "quicksight:DeleteDashboard",
                        "quicksight:DescribeDashboardPermissions", "quicksight:UpdateDashboardPermissions",
                        "quicksight:UpdateDashboardPublishedVersion"]


# The confused-deputy guard each service documents for its role trust: Firehose passes the account as the
# external id, Glue sends aws:SourceAccount. (QuickSight's is not verified: left open, `infra check` says so.)
_GUARD = {"firehose.amazonaws.com": "sts:ExternalId", "glue.amazonaws.com": "aws:SourceAccount"}


def _trust(service: str) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if service in _GUARD:
        stmt["Condition"] = {"StringEquals": {_GUARD[service]: ACCOUNT_PLACEHOLDER}}
    return {"Version": "2012-10-17", "Statement": [stmt]}


def _s3_via(region: str) -> dict[str, Any]:
    """The main key is used for the data lake only through S3 (kms:ViaService)."""
    return {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def firehose_policy(region: str, kafka: Resource, topic: str, bucket: Resource, key: Resource) -> dict[str, Any]:
    """Read one topic of the one MSK cluster (IAM access control), write the data lake, encrypt with the key.

    Topic and group ARNs are `arn:aws:kafka:<region>:<account>:topic|group/<cluster name>/<cluster uuid>/...`;
    no output gives the uuid alone, so it is a wildcard under the cluster's name.
    """
    kafka_arn = f"arn:aws:kafka:{region}:*:"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DescribeCluster", "Effect": "Allow",
         "Action": ["kafka:GetBootstrapBrokers", "kafka:DescribeCluster", "kafka:DescribeClusterV2",
                    "kafka-cluster:Connect"],
         "Resource": kafka["Arn"]},
        {"Sid": "ReadTopic", "Effect": "Allow",
         "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:DescribeTopicDynamicConfiguration",
                    "kafka-cluster:ReadData"],
         "Resource": Join(kafka_arn, "topic/", kafka["ClusterName"], "/*/", topic)},
        {"Sid": "ConsumerGroup", "Effect": "Allow", "Action": ["kafka-cluster:DescribeGroup",
                                                               "kafka-cluster:AlterGroup"],
         "Resource": Join(kafka_arn, "group/", kafka["ClusterName"], "/*")},
        {"Sid": "WriteDataLake", "Effect": "Allow",
         "Action": ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
                    "s3:ListBucketMultipartUploads", "s3:PutObject"],
         "Resource": [bucket["Arn"], Join(bucket["Arn"], "/", EVENTS_PREFIX, "*"), Join(bucket["Arn"], "/errors/*")]},
        {"Sid": "EncryptDataLake", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": key["Arn"], "Condition": _s3_via(region)},
    ]}


def crawler_policy(region: str, bucket: Resource, key: Resource) -> dict[str, Any]:
    """Read the domain-events prefix only (the managed AWSGlueServiceRole covers the catalogue and logs)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ListEvents", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket["Arn"],
         "Condition": {"StringLike": {"s3:prefix": [EVENTS_PREFIX, EVENTS_PREFIX + "*"]}}},
        {"Sid": "ReadEvents", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": Join(bucket["Arn"], "/", EVENTS_PREFIX, "*")},
        {"Sid": "DecryptEvents", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"],
         "Condition": _s3_via(region)},
    ]}


def quicksight_athena_policy(region: str, workgroup: Resource, database: Resource, bucket: Resource,
                             key: Resource) -> dict[str, Any]:
    """What QuickSight needs to run Athena queries in the workgroup over the catalogued events."""
    glue = f"arn:aws:glue:{region}:*:"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "RunQueries", "Effect": "Allow",
         "Action": ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
                    "athena:StopQueryExecution", "athena:GetWorkGroup"],
         "Resource": workgroup["Arn"]},
        {"Sid": "ReadCatalog", "Effect": "Allow",
         "Action": ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
                    "glue:GetPartition", "glue:GetPartitions"],
         "Resource": [glue + "catalog", database["Arn"], Join(glue, "table/", database["Name"], "/*")]},
        {"Sid": "ReadEventsWriteResults", "Effect": "Allow",
         "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject", "s3:PutObject",
                    "s3:AbortMultipartUpload"],
         "Resource": [bucket["Arn"], Join(bucket["Arn"], "/", EVENTS_PREFIX, "*"),
                      Join(bucket["Arn"], "/", RESULTS_PREFIX, "*")]},
        {"Sid": "UseDataLakeKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": key["Arn"], "Condition": _s3_via(region)},
    ]}


def dashboard_definition(data_set: Resource) -> dict[str, Any]:
    """One sheet: the event count and events per aggregate type."""
    col = {"DataSetIdentifier": "events"}
    return {
        "DataSetIdentifierDeclarations": [{"Identifier": "events", "DataSetArn": data_set["Arn"]}],
        "Sheets": [{"SheetId": "domain-events", "Name": "Domain events", "Visuals": [
            {"KPIVisual": {
                "VisualId": "events-total",
                "Title": {"Visibility": "VISIBLE", "FormatText": {"PlainText": "Domain events"}},
                "ChartConfiguration": {"FieldWells": {"Values": [{"CategoricalMeasureField": {
                    "FieldId": "events-count", "Column": {**col, "ColumnName": "eventid"},
                    "AggregationFunction": "COUNT"}}]}}}},
            {"BarChartVisual": {
                "VisualId": "events-by-aggregate",
                "Title": {"Visibility": "VISIBLE", "FormatText": {"PlainText": "Events by aggregate type"}},
                "ChartConfiguration": {
                    "Orientation": "HORIZONTAL",
                    "FieldWells": {"BarChartAggregatedFieldWells": {
                        "Category": [{"CategoricalDimensionField": {
                            "FieldId": "aggregate-type", "Column": {**col, "ColumnName": "aggregatetype"}}}],
                        "Values": [{"CategoricalMeasureField": {
                            "FieldId": "events-by-aggregate-count", "Column": {**col, "ColumnName": "eventid"},
                            "AggregationFunction": "COUNT"}}]}}}}},
        ]}],
    }


def _permissions(principals: list[str], actions: list[str]) -> list[dict[str, Any]] | None:
    return [{"Principal": p, "Actions": list(actions)} for p in principals] or None


def build(stack: Stack, p: dict[str, Any], main: dict[str, Any],
          observability: dict[str, Any] | None = None) -> dict[str, Any]:
    """Declare the analytics stack over `main` (main.build's result) and, when given, `observability`
    (its result; the OpenSearch domain under "opensearch")."""
    a = p["analytics"]
    env, region = p["tags"]["Environment"], p["region"]
    kafka = main["data"]["kafka"]
    bucket = main["security"]["buckets"]["data_lake"]
    key = main["security"]["kms_key"]

    # -- MSK -> Firehose -> S3 -----------------------------------------------------------------
    firehose_role = stack.add(Role(
        "firehose_role", AssumeRolePolicyDocument=_trust("firehose.amazonaws.com"),
        InlinePolicies={"msk-to-data-lake": firehose_policy(region, kafka, a["kafka_topic"], bucket, key)},
        Description="Firehose: read the domain-events topic from MSK, write the data lake"))
    # Firehose's private MSK source needs the cluster to let the Firehose service create its VPC
    # connection (Firehose docs, "Grant Firehose access to your private Amazon MSK cluster"); the stream
    # refers to the cluster through this policy, so it is created after it.
    kafka_policy = stack.add(ClusterPolicy(
        "kafka_cluster_policy", ClusterArn=kafka["Arn"],
        Policy={"Version": "2012-10-17", "Statement": [{
            "Sid": "FirehosePrivateConnectivity", "Effect": "Allow",
            "Principal": {"Service": "firehose.amazonaws.com"},
            "Action": ["kafka:CreateVpcConnection", "kafka:GetBootstrapBrokers", "kafka:DescribeCluster",
                       "kafka:DescribeClusterV2"],
            "Resource": kafka["Arn"]}]}))
    # The brokers never create a topic on first use (auto.create.topics.enable=false): the one Firehose reads
    # is made here, with the cluster's replication, and the stream names it through this resource.
    topic = stack.add(Topic(
        "domain_events_topic", ClusterArn=kafka["Arn"], TopicName=a["kafka_topic"],
        PartitionCount=a["kafka_topic_partitions"], ReplicationFactor=p["msk"]["replication_factor"]))
    firehose = stack.add(DeliveryStream(
        "domain_events_firehose",
        DeliveryStreamType="MSKAsSource",
        MSKSourceConfiguration={
            "MSKClusterARN": kafka_policy["ClusterArn"],
            "TopicName": topic["TopicName"],
            # The brokers sit in private subnets; Firehose connects over AWS's private connectivity.
            "AuthenticationConfiguration": {"RoleARN": firehose_role["Arn"], "Connectivity": "PRIVATE"},
        },
        ExtendedS3DestinationConfiguration={
            "RoleARN": firehose_role["Arn"],
            "BucketARN": bucket["Arn"],
            "Prefix": FIREHOSE_PREFIX,
            "ErrorOutputPrefix": FIREHOSE_ERROR_PREFIX,
            "BufferingHints": {"SizeInMBs": a["firehose_buffer_mib"], "IntervalInSeconds": a["firehose_buffer_seconds"]},
            "CompressionFormat": "GZIP",
            "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": key["Arn"]}},
        },
    ))

    # -- S3 -> Glue --------------------------------------------------------------------------------
    database = stack.add(Database(
        "glue_database", Name=f"genai_demo_{env}_data_lake",
        Description="GenAI Demo data lake: domain events written by Firehose, catalogued by the crawler"))
    crawler_role = stack.add(Role(
        "glue_crawler_role", AssumeRolePolicyDocument=_trust("glue.amazonaws.com"),
        ManagedPolicyArns=[GLUE_SERVICE_ROLE],
        InlinePolicies={"read-domain-events": crawler_policy(region, bucket, key)},
        Description="Glue crawler: catalogue the data lake's domain events"))
    # What the crawler writes (its CloudWatch logs, anything to S3) is encrypted with the main key (CKV_AWS_195).
    crawler_security = stack.add(SecurityConfiguration("crawler_security", EncryptionConfiguration={
        "S3Encryption": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": key["Arn"]}],
        "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": key["Arn"]},
        "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "DISABLED"}}))
    crawler = stack.add(Crawler(
        "domain_events_crawler",
        Role=crawler_role["Arn"],
        CrawlerSecurityConfiguration=crawler_security["Name"],
        DatabaseName=database["Name"],
        Description="Catalogues the domain events Firehose writes (hourly Hive partitions)",
        Targets={"S3Targets": [{"Path": Join("s3://", bucket["Bucket"], "/", EVENTS_PREFIX)}]},
        Schedule=a["crawler_schedule"],
        SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"},
        # One table for the prefix, not one per partition folder.
        Configuration={"Version": 1.0, "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"}},
    ))

    # -- Glue -> Athena ------------------------------------------------------------------------------
    workgroup = stack.add(WorkGroup(
        "athena_workgroup", Name=f"genai-demo-{env}-analytics",
        Description="GenAI Demo analytics over the data lake catalogue",
        Configuration={
            "ResultConfiguration": {
                "OutputLocation": Join("s3://", bucket["Bucket"], "/", RESULTS_PREFIX),
                "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": key["Arn"]},
            },
            "EnforceWorkGroupConfiguration": True,  # clients cannot override location, encryption or the limit
            "PublishCloudWatchMetricsEnabled": True,
            "BytesScannedCutoffPerQuery": a["athena_scan_cutoff_gb"] * 1_000_000_000,
        },
    ))
    queries = {
        name: stack.add(NamedQuery(name, Name=title, Description=desc, QueryString=sql,
                                   Database=database["Name"], WorkGroup=workgroup["Name"]))
        for name, (title, desc, sql) in QUERIES.items()
    }

    out: dict[str, Any] = {"firehose": firehose, "firehose_role": firehose_role, "kafka_topic": topic,
                           "glue_database": database, "crawler": crawler, "crawler_role": crawler_role,
                           "workgroup": workgroup, "named_queries": queries, "quicksight": {}}
    if not a["quicksight"]:
        return out

    # -- Athena / OpenSearch -> QuickSight ---------------------------------------------------------------
    principals = list(a["quicksight_principals"])
    if not principals:
        # Assets created with no permissions are invisible to every QuickSight user (only the API sees them).
        raise PlanError(f"profile {env!r}: analytics.quicksight is on but analytics."
                        "quicksight_principals is empty, so no QuickSight user or group could see the data sources, "
                        "data set or dashboard; name at least one (arn:aws:quicksight:<region>:<account>:user/"
                        "default/<name> or :group/default/<name>), or turn the QuickSight switch off")
    qs_role = stack.add(Role(
        "quicksight_athena_role", AssumeRolePolicyDocument=_trust("quicksight.amazonaws.com"),
        InlinePolicies={"athena-data-lake": quicksight_athena_policy(region, workgroup, database, bucket, key)},
        Description="QuickSight: query the data lake through the analytics workgroup"))
    athena_source = stack.add(DataSource(
        "athena_source", Name="GenAI Demo data lake (Athena)", Type="ATHENA",
        DataSourceParameters={"AthenaParameters": {"WorkGroup": workgroup["Name"], "RoleArn": qs_role["Arn"]}},
        Permissions=_permissions(principals, QS_DATA_SOURCE_ACTIONS)))
    qs: dict[str, Any] = {"role": qs_role, "athena_source": athena_source}
    domain = (observability or {}).get("opensearch")
    if domain is not None:
        # The domain answers only inside the VPC: QuickSight reaches it through a VPC connection, ENIs in the
        # private subnets carrying the app group (which the domain's group admits on 443).
        net = main["network"]
        vpc_role = stack.add(Role(
            "quicksight_vpc_role", AssumeRolePolicyDocument=_trust("quicksight.amazonaws.com"),
            Description="QuickSight: the ENIs of its VPC connection to the OpenSearch domain",
            InlinePolicies={"vpc-connection-enis": {"Version": "2012-10-17", "Statement": [{
                "Sid": "ManageConnectionEnis", "Effect": "Allow", "Resource": "*",
                "Action": ["ec2:CreateNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute",
                           "ec2:DeleteNetworkInterface", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]}]}}))
        qs["vpc_role"] = vpc_role
        qs["vpc_connection"] = stack.add(VpcConnection(
            "quicksight_vpc_connection", Name="GenAI Demo private subnets",
            SubnetIds=[sn["SubnetId"] for sn in net["subnets"]["private"]],
            SecurityGroupIds=[net["security_groups"]["app"]["GroupId"]], RoleArn=vpc_role["Arn"]))
        qs["opensearch_source"] = stack.add(DataSource(
            "opensearch_source", Name="GenAI Demo logs (OpenSearch)", Type="AMAZON_OPENSEARCH",
            DataSourceParameters={"AmazonOpenSearchParameters": {"Domain": domain["DomainName"]}},
            VpcConnectionProperties={"VpcConnectionArn": qs["vpc_connection"]["Arn"]},
            Permissions=_permissions(principals, QS_DATA_SOURCE_ACTIONS)))
    data_set = stack.add(DataSet(
        "events_data_set", Name="Domain events",
        PhysicalTableMap={"domain-events": {"RelationalTable": {
            "DataSourceArn": athena_source["Arn"], "Catalog": "AwsDataCatalog", "Schema": database["Name"],
            "Name": EVENTS_TABLE, "InputColumns": [{"Name": n, "Type": t} for n, t in EVENT_COLUMNS]}}},
        ImportMode="DIRECT_QUERY",
        Permissions=_permissions(principals, QS_DATA_SET_ACTIONS)))
    dashboard = stack.add(Dashboard(
        "analytics_dashboard", Name="GenAI Demo domain events", Definition=dashboard_definition(data_set),
        VersionDescription="Domain events overview",
        DashboardPublishOptions={"AdHocFilteringOption": {"AvailabilityStatus": "ENABLED"}},
        Permissions=_permissions(principals, QS_DASHBOARD_ACTIONS)))
    qs.update(data_set=data_set, dashboard=dashboard)
    out["quicksight"] = qs
    return out
