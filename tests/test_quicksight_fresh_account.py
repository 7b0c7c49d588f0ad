"""Issue 14's QuickSight must-shows: refused with a clear error before any mutating call in a region without
QuickSight (the plan's ap-east-2) and in an unsubscribed account; created from an empty account where it runs,
once the account is subscribed, and read back through boto3."""

from __future__ import annotations

import copy

import pytest

from orchestrator.aws import Clients
from orchestrator.model import Plan
from orchestrator.runs import Options, Workspace, run_changes
from plans.genai_demo import analytics, main
from plans.genai_demo.analytics import EVENT_COLUMNS, EVENTS_TABLE, dashboard_definition
from plans.genai_demo.profiles import profile
from resources.athena import WorkGroup
from resources.iam import Role
from resources.quicksight import Dashboard, DataSet, DataSource
from tests.fakes import install_plan
from tests.helpers import QUICKSIGHT_REGION, count_calls, infra, one_line, subscribe_quicksight

QS_ADMIN = "arn:aws:quicksight:eu-west-1:123456789012:user/default/genai-demo-admin"


def _genai_demo_with_quicksight(env: str) -> Plan:
    """The GenAI Demo's main and analytics stacks with the profile's QuickSight switch turned on."""
    p = copy.deepcopy(profile(env))
    p["analytics"]["quicksight"] = True
    p["analytics"]["quicksight_principals"] = [QS_ADMIN]
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    analytics.build(plan.stack("analytics"), p, main=main.build(plan.stack("main"), p))
    return plan


QS_ON = install_plan("genai_demo_fresh_quicksight_on", _genai_demo_with_quicksight)


def _refused(*region: str) -> str:
    with count_calls() as log:
        res = infra("apply", "--plan", QS_ON, "--env", "dev", "--stack", "analytics", "--auto-approve", *region,
                    ok=None)
    assert res.exit_code == 1, res.output
    assert log.mutating == []  # the state table aside, nothing was asked of AWS but reads
    return one_line(res.output)


def test_quicksight_refused_in_a_region_without_it(aws):
    text = _refused()
    assert "QuickSight has no endpoint in region ap-east-2" in text and "analytics.athena_source" in text
    assert "Turn the profile's QuickSight switch off" in text and "Nothing was changed" in text
    assert "has not been applied" not in text  # said before anything else is looked at


def test_quicksight_refused_in_an_unsubscribed_account(aws):
    text = _refused("--region", QUICKSIGHT_REGION)
    assert f"account {aws.clients.account_id} has no QuickSight subscription" in text
    assert "analytics.athena_source" in text and "this tool does not make it" in text


def _reporting_plan(env: str) -> Plan:
    """QuickSight over an Athena workgroup, as the analytics stack declares it, on its own: a workgroup, the
    role QuickSight queries with, the Athena data source, the domain-events data set and the dashboard."""
    plan = Plan(project="genai-demo", env=env, region=QUICKSIGHT_REGION)
    stack = plan.stack("reporting")
    workgroup = stack.add(WorkGroup("athena_workgroup", Name=f"genai-demo-{env}-reporting", Configuration={
        "ResultConfiguration": {"OutputLocation": "s3://genai-demo-reporting-results/athena/"},
        "EnforceWorkGroupConfiguration": True}))
    role = stack.add(Role("quicksight_athena_role", AssumeRolePolicyDocument={
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "quicksight.amazonaws.com"}}]}))
    source = stack.add(DataSource("athena_source", Name="Data lake (Athena)", Type="ATHENA", DataSourceParameters={
        "AthenaParameters": {"WorkGroup": workgroup["Name"], "RoleArn": role["Arn"]}}))
    data_set = stack.add(DataSet("events_data_set", Name="Domain events", ImportMode="DIRECT_QUERY",
                                 PhysicalTableMap={"domain-events": {"RelationalTable": {
                                     "DataSourceArn": source["Arn"], "Catalog": "AwsDataCatalog",
                                     "Schema": "genai_demo_data_lake", "Name": EVENTS_TABLE,
                                     "InputColumns": [{"Name": n, "Type": t} for n, t in EVENT_COLUMNS]}}}))
    stack.add(Dashboard("analytics_dashboard", Name="Domain events", Definition=dashboard_definition(data_set)))
    return plan


REPORTING = install_plan("quicksight_reporting", _reporting_plan)


@pytest.mark.sandbox_rules_off("iam-propagation")  # the role's propagation is test_strict_iam's matter
def test_quicksight_created_from_an_empty_account_once_subscribed(aws):
    clients = Clients(region=QUICKSIGHT_REGION, poll_delay=0.01)
    ws = Workspace(Options(env="dev", plan_name=REPORTING, region=QUICKSIGHT_REGION, poll_delay=0.01),
                   clients=clients)
    with count_calls() as log, pytest.raises(Exception, match="has no QuickSight subscription"):
        run_changes(ws, "apply")
    assert log.mutating == []

    qs = clients.client("quicksight")
    acct = clients.account_id
    subscribe_quicksight(qs, acct)  # the administrator's one-time sign-up
    _, report = run_changes(Workspace(Options(env="dev", plan_name=REPORTING, region=QUICKSIGHT_REGION,
                                              poll_delay=0.01), clients=clients), "apply")
    assert report is not None and report.ok, report.summary()
    assert len(report.summary()["created"]) == 5

    src = qs.describe_data_source(AwsAccountId=acct, DataSourceId="genai-demo-dev-athena-source")["DataSource"]
    assert src["Status"] == "CREATION_SUCCESSFUL" and src["Type"] == "ATHENA"
    assert src["DataSourceParameters"]["AthenaParameters"]["WorkGroup"] == "genai-demo-dev-reporting"
    data_set = qs.describe_data_set(AwsAccountId=acct, DataSetId="genai-demo-dev-events-data-set")["DataSet"]
    assert data_set["PhysicalTableMap"]["domain-events"]["RelationalTable"]["DataSourceArn"] == src["Arn"]
    dash = qs.describe_dashboard(AwsAccountId=acct, DashboardId="genai-demo-dev-analytics-dashboard")["Dashboard"]
    assert dash["Version"]["Status"] == "CREATION_SUCCESSFUL"

    _, gone = run_changes(Workspace(Options(env="dev", plan_name=REPORTING, region=QUICKSIGHT_REGION,
                                            poll_delay=0.01), clients=clients), "destroy", destroy=True)
    assert gone is not None and gone.ok, gone.summary()
    assert qs.list_data_sources(AwsAccountId=acct)["DataSources"] == []
    assert qs.list_dashboards(AwsAccountId=acct)["DashboardSummaryList"] == []
