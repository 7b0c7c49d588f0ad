"""The analytics stack as declared by the real plan: resources, cross-stack edges, profile switch.

No AWS: the graph and the declarations are checked, and every create
request the stack will send is validated against botocore's model (with
references replaced by placeholders), so a misspelt QuickSight visual or
Firehose field fails here rather than against AWS.
"""

from __future__ import annotations

import copy

import botocore.session
import networkx as nx
import pytest
from botocore.validate import ParamValidator

from core.errors import PlanError
from orchestrator.graph import build_graph
from orchestrator.model import Plan
from plans.genai_demo import analytics, build, main
from plans.genai_demo.profiles import profile
from resources.base import Join, Ref, resolve
from resources.opensearch import Domain

QS_TYPES = {"quicksight.DataSource", "quicksight.DataSet", "quicksight.Dashboard"}
ANALYSTS = "arn:aws:quicksight:ap-east-2:123456789012:group/default/analysts"
KIB = "arn:aws:x:ap-east-2:123456789012:"


def graph(plan):
    g, _ = build_graph(plan, None, state_outputs=None)
    return g


def is_ref(value, address, attr):
    return isinstance(value, Ref) and value.address == address and value.attr == attr


def refs_in(value):
    from resources.base import walk_refs
    return {(r.address, r.attr) for r in walk_refs(value)}


def custom_plan(env, *, quicksight=None, with_opensearch=False):
    """The real main stack plus analytics, with the profile's QuickSight switch overridden."""
    p = copy.deepcopy(profile(env))
    if quicksight is not None:
        p["analytics"]["quicksight"] = quicksight
        p["analytics"]["quicksight_principals"] = [ANALYSTS]
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    main_out = main.build(plan.stack("main"), p)
    obs = None
    if with_opensearch:
        obs = {"opensearch": plan.stack("observability").add(Domain(
            "opensearch", ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1}))}
    out = analytics.build(plan.stack("analytics"), p, main=main_out, observability=obs)
    return plan, out


@pytest.mark.parametrize("env,cutoff_gb", [("dev", 10), ("production", 100)])
def test_declarations_and_cross_stack_edges(env, cutoff_gb):
    plan = build(env)
    g = graph(plan)
    r = plan.stacks["analytics"].resources

    def edge(src, dst):
        return g.has_edge(src, f"analytics.{dst}")

    # MSK -> Firehose -> S3, encrypted with the main key: direct edges from main-stack resources. The stream
    # reaches the cluster through its cluster policy (Firehose's private connectivity needs it first).
    assert edge("main.kafka", "kafka_cluster_policy") and edge("analytics.kafka_cluster_policy", "domain_events_firehose")
    assert edge("main.data_lake", "domain_events_firehose")
    assert edge("main.kms_key", "domain_events_firehose") and edge("analytics.firehose_role", "domain_events_firehose")
    assert edge("main.kafka", "firehose_role") and edge("main.data_lake", "firehose_role")
    # S3 -> Glue -> Athena.
    assert edge("main.data_lake", "domain_events_crawler") and edge("analytics.glue_database", "domain_events_crawler")
    assert edge("analytics.glue_crawler_role", "domain_events_crawler") and edge("main.data_lake", "glue_crawler_role")
    assert edge("main.data_lake", "athena_workgroup") and edge("main.kms_key", "athena_workgroup")
    for q in analytics.QUERIES:
        assert edge("analytics.athena_workgroup", q) and edge("analytics.glue_database", q)
    # Nothing in main depends on analytics: main applies (and is destroyed after) on its own.
    assert not any(nx.has_path(g, f"analytics.{a}", m) for a in r for m in g if m.startswith("main."))
    assert nx.is_directed_acyclic_graph(g)
    # Only QuickSight (off in both profiles) would read the observability stack: analytics applies without it.
    from_obs = {v for u, v in g.edges if u.startswith("observability.") and v.startswith("analytics.")}
    assert from_obs == set()

    fh = r["domain_events_firehose"].properties
    assert fh["DeliveryStreamType"] == "MSKAsSource"
    msk = fh["MSKSourceConfiguration"]
    assert is_ref(msk["MSKClusterARN"], "analytics.kafka_cluster_policy", "ClusterArn")
    assert msk["AuthenticationConfiguration"]["Connectivity"] == "PRIVATE"
    # The stream reads the topic the plan makes, on the same cluster, with the cluster's replication.
    assert is_ref(msk["TopicName"], "analytics.domain_events_topic", "TopicName")
    topic = r["domain_events_topic"].properties
    assert is_ref(topic["ClusterArn"], "main.kafka", "Arn") and topic["TopicName"] == "domain-events"
    assert topic["ReplicationFactor"] == profile(env)["msk"]["replication_factor"]
    assert edge("analytics.domain_events_topic", "domain_events_firehose")
    policy = r["kafka_cluster_policy"].properties
    assert is_ref(policy["ClusterArn"], "main.kafka", "Arn")
    assert policy["Policy"]["Statement"][0]["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert is_ref(msk["AuthenticationConfiguration"]["RoleARN"], "analytics.firehose_role", "Arn")
    dest = fh["ExtendedS3DestinationConfiguration"]
    assert is_ref(dest["BucketARN"], "main.data_lake", "Arn")
    assert dest["Prefix"].startswith("domain-events/year=!{timestamp:yyyy}/") and dest["Prefix"].endswith("hour=!{timestamp:HH}/")
    assert dest["ErrorOutputPrefix"].startswith("errors/domain-events/")
    assert dest["CompressionFormat"] == "GZIP"
    assert is_ref(dest["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"], "main.kms_key", "Arn")

    # The Firehose role reads only this cluster (and its topic/group ARNs) and writes the lake.
    stmts = {s["Sid"]: s for s in r["firehose_role"].properties["InlinePolicies"]["msk-to-data-lake"]["Statement"]}
    assert {"kafka-cluster:Connect", "kafka:GetBootstrapBrokers", "kafka:DescribeCluster",
            "kafka:DescribeClusterV2"} <= set(stmts["DescribeCluster"]["Action"])
    assert is_ref(stmts["DescribeCluster"]["Resource"], "main.kafka", "Arn")
    assert {"kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"} <= set(stmts["ReadTopic"]["Action"])
    assert ("main.kafka", "ClusterName") in refs_in(stmts["ReadTopic"]["Resource"])
    assert "s3:PutObject" in stmts["WriteDataLake"]["Action"]
    assert is_ref(stmts["EncryptDataLake"]["Resource"], "main.kms_key", "Arn")

    crawler_role = r["glue_crawler_role"].properties
    assert crawler_role["ManagedPolicyArns"] == [analytics.GLUE_SERVICE_ROLE]
    read = {s["Sid"]: s for s in crawler_role["InlinePolicies"]["read-domain-events"]["Statement"]}
    assert read["ReadEvents"]["Action"] == "s3:GetObject"
    assert isinstance(read["ReadEvents"]["Resource"], Join) and "domain-events/" in read["ReadEvents"]["Resource"].parts
    crawler = r["domain_events_crawler"].properties
    assert is_ref(crawler["DatabaseName"], "analytics.glue_database", "Name")
    assert is_ref(crawler["Role"], "analytics.glue_crawler_role", "Arn")
    path = crawler["Targets"]["S3Targets"][0]["Path"]
    assert path.parts[0] == "s3://" and is_ref(path.parts[1], "main.data_lake", "Bucket") and \
        path.parts[-1] == "domain-events/"
    assert r["glue_database"].properties["Name"] == f"genai_demo_{env}_data_lake"

    wg = r["athena_workgroup"].properties
    cfg = wg["Configuration"]
    assert wg["Name"] == f"genai-demo-{env}-analytics"
    assert cfg["BytesScannedCutoffPerQuery"] == cutoff_gb * 1_000_000_000
    assert cfg["EnforceWorkGroupConfiguration"] is True
    enc = cfg["ResultConfiguration"]["EncryptionConfiguration"]
    assert enc["EncryptionOption"] == "SSE_KMS" and is_ref(enc["KmsKey"], "main.kms_key", "Arn")
    loc = cfg["ResultConfiguration"]["OutputLocation"]
    assert is_ref(loc.parts[1], "main.data_lake", "Bucket") and loc.parts[-1] == "athena-results/"
    names = {r[q].properties["Name"] for q in analytics.QUERIES}
    assert names == {"Domain events per hour", "Events by aggregate type"}
    assert all("FROM domain_events" in r[q].properties["QueryString"] for q in analytics.QUERIES)


def test_quicksight_follows_the_profile_switch():
    # Defaults: off in both (the plan's ap-east-2 has no QuickSight; it is a paid subscription).
    assert profile("dev")["analytics"]["quicksight"] is False
    assert profile("production")["analytics"]["quicksight"] is False
    for env in ("dev", "production"):
        assert not {x.type_name for x in build(env).stacks["analytics"]} & QS_TYPES
    qs_production, _ = custom_plan("production", quicksight=True)
    prod = qs_production.stacks["analytics"].resources
    assert {x.type_name for x in prod.values()} >= QS_TYPES
    # The switch, not the env name, decides.
    on, _ = custom_plan("dev", quicksight=True)
    off, _ = custom_plan("production", quicksight=False)
    assert {x.type_name for x in on.stacks["analytics"]} >= QS_TYPES
    assert not {x.type_name for x in off.stacks["analytics"]} & QS_TYPES
    assert "quicksight_athena_role" not in off.stacks["analytics"].resources

    # Production: Athena -> QuickSight chain by references.
    g = graph(qs_production)
    src = prod["athena_source"].properties
    assert src["Type"] == "ATHENA"
    assert is_ref(src["DataSourceParameters"]["AthenaParameters"]["WorkGroup"], "analytics.athena_workgroup", "Name")
    table = prod["events_data_set"].properties["PhysicalTableMap"]["domain-events"]["RelationalTable"]
    assert is_ref(table["DataSourceArn"], "analytics.athena_source", "Arn")
    assert is_ref(table["Schema"], "analytics.glue_database", "Name") and table["Name"] == "domain_events"
    decl = prod["analytics_dashboard"].properties["Definition"]["DataSetIdentifierDeclarations"]
    assert is_ref(decl[0]["DataSetArn"], "analytics.events_data_set", "Arn")
    assert nx.has_path(g, "main.data_lake", "analytics.analytics_dashboard")
    assert g.has_edge("analytics.athena_workgroup", "analytics.athena_source")
    # OpenSearch -> QuickSight: the observability stack's domain, by reference (once that stack is in the plan).
    if "observability" in qs_production.stacks:
        src = prod["opensearch_source"].properties["DataSourceParameters"]["AmazonOpenSearchParameters"]
        assert is_ref(src["Domain"], "observability.opensearch", "DomainName")
        assert g.has_edge("observability.opensearch", "analytics.opensearch_source")
    else:
        assert "opensearch_source" not in prod
    # Without an observability stack there is no OpenSearch source.
    _, out = custom_plan("production")
    assert "opensearch_source" not in out["quicksight"]


def test_opensearch_source_refers_to_the_observability_domain():
    plan, out = custom_plan("production", quicksight=True, with_opensearch=True)
    src = out["quicksight"]["opensearch_source"].properties
    assert src["Type"] == "AMAZON_OPENSEARCH"
    assert is_ref(src["DataSourceParameters"]["AmazonOpenSearchParameters"]["Domain"],
                  "observability.opensearch", "DomainName")
    assert graph(plan).has_edge("observability.opensearch", "analytics.opensearch_source")
    # The domain is in the VPC: QuickSight reaches it through a VPC connection in the private subnets with the
    # app group (the group the domain admits), whose ENIs a role of QuickSight's own makes.
    assert is_ref(src["VpcConnectionProperties"]["VpcConnectionArn"], "analytics.quicksight_vpc_connection", "Arn")
    conn = out["quicksight"]["vpc_connection"].properties
    assert [r.address for r in conn["SubnetIds"]] == ["main.subnet_private_a", "main.subnet_private_b",
                                                      "main.subnet_private_c"]
    assert is_ref(conn["SecurityGroupIds"][0], "main.app_sg", "GroupId")
    assert is_ref(conn["RoleArn"], "analytics.quicksight_vpc_role", "Arn")
    trust = out["quicksight"]["vpc_role"].properties["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "quicksight.amazonaws.com"}
    # QuickSight off: the domain is not referred to at all.
    plan, out = custom_plan("dev", with_opensearch=True)
    assert out["quicksight"] == {} and not any(a.startswith("analytics.") for a in
                                                graph(plan).successors("observability.opensearch"))


def _placeholder(ref):
    return KIB + ref.attr if "Arn" in ref.attr else f"placeholder-{ref.attr.lower()}"


@pytest.mark.parametrize("env", ["dev", "production"])
def test_create_requests_match_the_aws_model(env):
    """Each resource's create request, references filled in, is valid for botocore."""
    plan, _ = custom_plan(env, quicksight=True, with_opensearch=True)
    r = plan.stacks["analytics"].resources
    model = botocore.session.get_session()
    acct = {"AwsAccountId": "123456789012"}
    requests = [
        ("firehose", "CreateDeliveryStream", "domain_events_firehose", {"DeliveryStreamName": "x"}),
        ("athena", "CreateWorkGroup", "athena_workgroup", {}),
        ("athena", "CreateNamedQuery", "query_events_per_hour", {}),
        ("quicksight", "CreateDataSource", "athena_source", {**acct, "DataSourceId": "x"}),
        ("quicksight", "CreateDataSource", "opensearch_source", {**acct, "DataSourceId": "y"}),
        ("quicksight", "CreateVPCConnection", "quicksight_vpc_connection", {**acct, "VPCConnectionId": "z"}),
        ("quicksight", "CreateDataSet", "events_data_set", {**acct, "DataSetId": "x"}),
        ("quicksight", "CreateDashboard", "analytics_dashboard", {**acct, "DashboardId": "x"}),
    ]
    for service, op, name, extra in requests:
        params = {k: v for k, v in resolve(r[name].properties, _placeholder).items() if v is not None}
        params.update(extra)
        shape = model.get_service_model(service).operation_model(op).input_shape
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"


def test_quicksight_on_needs_principals_that_can_see_the_assets():
    """Assets created without permissions are visible to no QuickSight user: refused when the plan is built."""
    p = copy.deepcopy(profile("dev"))
    p["analytics"]["quicksight"] = True
    plan = Plan(project="genai-demo", env="dev", region=p["region"], tags=dict(p["tags"]), settings=p)
    with pytest.raises(PlanError, match="quicksight_principals is empty, so no QuickSight user or group could see"):
        analytics.build(plan.stack("analytics"), p, main=main.build(plan.stack("main"), p))
    on, out = custom_plan("dev", quicksight=True)
    for asset in ("athena_source", "data_set", "dashboard"):
        assert [x["Principal"] for x in out["quicksight"][asset].properties["Permissions"]] == [ANALYSTS], asset
