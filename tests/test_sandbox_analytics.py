"""Glue, Athena and QuickSight extensions: the update/delete calls and not-found errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.helpers import QUICKSIGHT_REGION, subscribe_quicksight

ACCOUNT = "123456789012"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def _table(sql: str) -> dict[str, Any]:
    return {"t": {"CustomSql": {"DataSourceArn": f"arn:aws:quicksight:{QUICKSIGHT_REGION}:{ACCOUNT}:datasource/ds",
                                "Name": "q", "SqlQuery": sql, "Columns": [{"Name": "a", "Type": "STRING"}]}}}


def quicksight(client: Callable[[str], Any]) -> Any:
    """A QuickSight client where QuickSight runs (the same sandbox, another region), the account subscribed."""
    url = client("quicksight").meta.endpoint_url
    where = {} if url.endswith("amazonaws.com") else {"endpoint_url": url}
    qs = boto3.client("quicksight", region_name=QUICKSIGHT_REGION, aws_access_key_id="testing",
                      aws_secret_access_key="testing", aws_session_token="testing", **where)
    subscribe_quicksight(qs, ACCOUNT)
    return qs


def check_analytics(client: Callable[[str], Any]) -> None:
    glue = client("glue")
    glue.create_database(DatabaseInput={"Name": "db"})
    glue.create_crawler(Name="c", Role="r", DatabaseName="db", Targets={"S3Targets": [{"Path": "s3://b/p"}]})
    glue.update_crawler(Name="c", Schedule="cron(0 1 * * ? *)", Description="nightly")
    crawler = glue.get_crawler(Name="c")["Crawler"]
    assert crawler["Schedule"]["ScheduleExpression"] == "cron(0 1 * * ? *)" and crawler["Version"] == 2
    glue.create_job(Name="j", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://b/a.py"},
                    GlueVersion="4.0", WorkerType="G.1X", NumberOfWorkers=2)
    assert glue.update_job(JobName="j", JobUpdate={"Role": "r2", "GlueVersion": "4.0", "WorkerType": "G.1X",
                                                   "NumberOfWorkers": 5, "Command": {
                                                       "Name": "glueetl", "ScriptLocation": "s3://b/b.py"}}
                           )["JobName"] == "j"
    job = glue.get_job(JobName="j")["Job"]
    assert (job["Role"], job["NumberOfWorkers"], job["Command"]["ScriptLocation"]) == ("r2", 5, "s3://b/b.py")
    for call in (lambda: glue.update_crawler(Name="nope", Description="x"),
                 lambda: glue.update_job(JobName="nope", JobUpdate={"Role": "r", "Command": {"Name": "glueetl"}})):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "EntityNotFoundException"

    athena = client("athena")
    athena.create_work_group(Name="wg", Configuration={"ResultConfiguration": {"OutputLocation": "s3://b/"}})
    athena.update_work_group(WorkGroup="wg", Description="genai", State="DISABLED", ConfigurationUpdates={
        "ResultConfigurationUpdates": {"OutputLocation": "s3://c/"}, "BytesScannedCutoffPerQuery": 10_000_000})
    wg = athena.get_work_group(WorkGroup="wg")["WorkGroup"]
    assert (wg["State"], wg["Description"]) == ("DISABLED", "genai")
    assert wg["Configuration"]["ResultConfiguration"]["OutputLocation"] == "s3://c/"
    assert wg["Configuration"]["BytesScannedCutoffPerQuery"] == 10_000_000
    qid = athena.create_named_query(Name="q", Database="db", QueryString="select 1", WorkGroup="wg")["NamedQueryId"]
    athena.update_named_query(NamedQueryId=qid, Name="q2", QueryString="select 2", Description="d")
    assert athena.get_named_query(NamedQueryId=qid)["NamedQuery"]["QueryString"] == "select 2"
    with pytest.raises(ClientError) as exc:
        athena.delete_work_group(WorkGroup="wg")  # holds a named query
    assert code(exc) == "InvalidRequestException"
    athena.delete_named_query(NamedQueryId=qid)
    athena.delete_work_group(WorkGroup="wg")
    for call in (lambda: athena.get_named_query(NamedQueryId=qid), lambda: athena.get_work_group(WorkGroup="wg"),
                 lambda: athena.update_work_group(WorkGroup="wg", Description="x"),
                 lambda: athena.delete_named_query(NamedQueryId=qid)):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "InvalidRequestException"

    qs = quicksight(client)
    qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId="ds", Name="orders", ImportMode="SPICE",
                       PhysicalTableMap=_table("select 1"))
    got = qs.describe_data_set(AwsAccountId=ACCOUNT, DataSetId="ds")["DataSet"]
    assert (got["Name"], got["ImportMode"]) == ("orders", "SPICE")
    assert got["OutputColumns"] == [{"Name": "a", "Type": "STRING"}]
    qs.update_data_set(AwsAccountId=ACCOUNT, DataSetId="ds", Name="orders2", ImportMode="DIRECT_QUERY",
                       PhysicalTableMap=_table("select 2"))
    got = qs.describe_data_set(AwsAccountId=ACCOUNT, DataSetId="ds")["DataSet"]
    assert (got["Name"], got["PhysicalTableMap"]["t"]["CustomSql"]["SqlQuery"]) == ("orders2", "select 2")
    assert [d["DataSetId"] for d in qs.list_data_sets(AwsAccountId=ACCOUNT)["DataSetSummaries"]] == ["ds"]
    qs.delete_data_set(AwsAccountId=ACCOUNT, DataSetId="ds")
    with pytest.raises(ClientError) as exc:
        qs.describe_data_set(AwsAccountId=ACCOUNT, DataSetId="ds")
    assert code(exc) == "ResourceNotFoundException"

    source = {"SourceTemplate": {"Arn": f"arn:aws:quicksight:{QUICKSIGHT_REGION}:{ACCOUNT}:template/t", "DataSetReferences": [
        {"DataSetPlaceholder": "p", "DataSetArn": f"arn:aws:quicksight:{QUICKSIGHT_REGION}:{ACCOUNT}:dataset/ds"}]}}
    qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="d", Name="ops", SourceEntity=source)
    upd = qs.update_dashboard(AwsAccountId=ACCOUNT, DashboardId="d", Name="ops2", SourceEntity=source)
    assert upd["VersionArn"].endswith("/version/2")
    qs.update_dashboard_published_version(AwsAccountId=ACCOUNT, DashboardId="d", VersionNumber=2)
    assert qs.describe_dashboard(AwsAccountId=ACCOUNT, DashboardId="d")["Dashboard"]["Name"] == "ops2"
    qs.delete_dashboard(AwsAccountId=ACCOUNT, DashboardId="d")
    for call in (lambda: qs.describe_dashboard(AwsAccountId=ACCOUNT, DashboardId="d"),
                 lambda: qs.delete_dashboard(AwsAccountId=ACCOUNT, DashboardId="d")):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "ResourceNotFoundException"


def test_analytics_in_process(aws):
    check_analytics(aws.client)
