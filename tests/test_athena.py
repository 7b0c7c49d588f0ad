"""Round trips of athena.WorkGroup and athena.NamedQuery on moto, checked with plain boto3."""

import pytest

from core.errors import PlanError
from resources.athena import NamedQuery, WorkGroup
from tests.helpers import backend_supports

RESULTS = "s3://genai-demo-test-data-lake/athena-results/"


def _config(key, cutoff=10 * 1024**3):
    return {"ResultConfiguration": {"OutputLocation": RESULTS,
                                    "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": key}},
            "BytesScannedCutoffPerQuery": cutoff, "EnforceWorkGroupConfiguration": True,
            "PublishCloudWatchMetricsEnabled": True}


def _key(aws):
    return aws.client("kms").create_key(Description="athena")["KeyMetadata"]["Arn"]


def test_workgroup_round_trip(aws):
    key = _key(aws)
    wg = WorkGroup("analytics", Description="GenAI Demo analytics", Configuration=_config(key))
    wg.stack = "analytics"
    ctx = aws.ctx("analytics", stack="analytics", env="dev")
    name, out = wg.create(ctx, dict(wg.properties))

    assert name == "genai-demo-dev-analytics"
    athena = aws.client("athena")
    seen = athena.get_work_group(WorkGroup=name)["WorkGroup"]
    cfg = seen["Configuration"]
    assert cfg["ResultConfiguration"]["OutputLocation"] == RESULTS
    assert cfg["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_KMS", "KmsKey": key}
    assert cfg["BytesScannedCutoffPerQuery"] == 10 * 1024**3 and cfg["EnforceWorkGroupConfiguration"] is True
    arn = f"arn:aws:athena:{aws.region}:{aws.clients.account_id}:workgroup/{name}"
    assert out == {"Name": name, "Arn": arn}
    tags = {t["Key"]: t["Value"] for t in athena.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags["infra:address"] == "analytics.analytics"

    assert wg.read(ctx, name) == {"Configuration": wg.properties["Configuration"],
                                  "Description": "GenAI Demo analytics"}

    # Update needs athena.update_work_group (absent from moto 5.2.5; see test_workgroup_update_needs_backend).
    if backend_supports(athena, "update_work_group", WorkGroup="genai-demo-probe-missing"):
        new = dict(wg.properties, Configuration=_config(key, cutoff=100 * 1024**3))
        wg.update(ctx, name, dict(wg.properties), new)
        assert athena.get_work_group(WorkGroup=name)["WorkGroup"]["Configuration"][
            "BytesScannedCutoffPerQuery"] == 100 * 1024**3

    assert wg.find(ctx)[0] == name
    athena.create_named_query(Name="q", Database="db", QueryString="SELECT 1", WorkGroup=name)
    wg.delete(ctx, name)  # recursive: its named queries go too
    wg.delete(ctx, name)  # idempotent
    assert name not in [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]
    assert wg.read(ctx, name) is None
    assert wg.find(ctx) is None


def test_workgroup_update_needs_backend(aws):
    athena = aws.client("athena")
    if not backend_supports(athena, "update_work_group", WorkGroup="genai-demo-probe-missing"):
        pytest.skip("athena.update_work_group is not implemented by moto 5.2.5; waiting for the sandbox extension")
    key = _key(aws)
    wg = WorkGroup("analytics", Configuration=_config(key))
    wg.stack = "analytics"
    ctx = aws.ctx("analytics", stack="analytics")
    name, _ = wg.create(ctx, dict(wg.properties))
    cfg = {"ResultConfiguration": {"OutputLocation": "s3://other/athena-results/"},
           "EnforceWorkGroupConfiguration": True}
    wg.update(ctx, name, dict(wg.properties), dict(wg.properties, Configuration=cfg, Description="now"))
    seen = athena.get_work_group(WorkGroup=name)["WorkGroup"]
    assert seen["Description"] == "now"
    assert seen["Configuration"]["ResultConfiguration"]["OutputLocation"] == "s3://other/athena-results/"
    # Settings the new configuration no longer has are removed, not kept.
    assert "EncryptionConfiguration" not in seen["Configuration"]["ResultConfiguration"]
    assert "BytesScannedCutoffPerQuery" not in seen["Configuration"]


def test_configuration_updates_remove_what_is_gone():
    up = WorkGroup.configuration_updates({"ResultConfiguration": {"OutputLocation": RESULTS},
                                          "EnforceWorkGroupConfiguration": True})
    assert up == {"EnforceWorkGroupConfiguration": True, "RemoveBytesScannedCutoffPerQuery": True,
                  "ResultConfigurationUpdates": {"OutputLocation": RESULTS, "RemoveEncryptionConfiguration": True}}


QUERY = ("SELECT date_trunc('hour', from_iso8601_timestamp(occurred_on)) AS hour, count(*) AS events "
         "FROM domain_events GROUP BY 1 ORDER BY 1 DESC")


def test_named_query_round_trip(aws):
    athena = aws.client("athena")
    athena.create_work_group(Name="genai-demo-test-analytics", Configuration={})
    nq = NamedQuery("events_per_hour", Name="domain events per hour", Database="genai_demo_test_data_lake",
                    QueryString=QUERY, WorkGroup="genai-demo-test-analytics", Description="hourly volume")
    nq.stack = "analytics"
    ctx = aws.ctx("events_per_hour", stack="analytics", token="run-1")
    qid, out = nq.create(ctx, dict(nq.properties))

    seen = athena.get_named_query(NamedQueryId=qid)["NamedQuery"]
    assert seen["QueryString"] == QUERY and seen["WorkGroup"] == "genai-demo-test-analytics"
    assert seen["Database"] == "genai_demo_test_data_lake" and seen["Name"] == "domain events per hour"
    assert out == {"NamedQueryId": qid, "Name": "domain events per hour"}
    assert qid in athena.list_named_queries(WorkGroup="genai-demo-test-analytics")["NamedQueryIds"]

    assert nq.read(ctx, qid) == nq.properties
    assert nq.find(ctx)[0] == qid
    # With the workgroup still a reference, find searches every workgroup.
    nq.properties["WorkGroup"] = object()
    assert nq.find(ctx)[0] == qid
    nq.properties["WorkGroup"] = "genai-demo-test-analytics"

    if backend_supports(athena, "update_named_query", NamedQueryId="00000000-0000-0000-0000-000000000000",
                        Name="probe", QueryString="SELECT 1"):
        nq.update(ctx, qid, dict(nq.properties), dict(nq.properties, QueryString="SELECT 2"))
        assert athena.get_named_query(NamedQueryId=qid)["NamedQuery"]["QueryString"] == "SELECT 2"
    if not backend_supports(athena, "delete_named_query", NamedQueryId="00000000-0000-0000-0000-000000000000"):
        pytest.skip("athena.update/delete_named_query are not implemented by moto 5.2.5; "
                    "waiting for the sandbox extension")
    nq.delete(ctx, qid)
    nq.delete(ctx, qid)  # idempotent
    assert qid not in athena.list_named_queries(WorkGroup="genai-demo-test-analytics")["NamedQueryIds"]
    assert nq.read(ctx, qid) is None
    assert nq.find(ctx) is None


def test_named_query_token_is_long_enough():
    class C:
        token = "run-1"

    assert len(NamedQuery._token(C())) == 64
    C.token = ""
    assert NamedQuery._token(C()) is None


@pytest.mark.parametrize("cls, props, message", [
    (WorkGroup, {"Colour": "blue"}, "unknown property"),
    (WorkGroup, {"Configuration": {"ResultConfiguration": {"OutputLocation": "s3://lake/athena-results"}}},
     "ending in /"),
    (WorkGroup, {"Configuration": {"ResultConfiguration": {"OutputLocation": "s3://l/r/", "EncryptionConfiguration": {
        "EncryptionOption": "SSE_KMS"}}}}, "needs a KmsKey"),
    (WorkGroup, {"Configuration": {"BytesScannedCutoffPerQuery": 1000}}, "at least 10000000"),
    (WorkGroup, {"Name": "has space"}, "letters, digits"),
    (NamedQuery, {"QueryString": None}, "missing required property QueryString"),
    (NamedQuery, {"Database": 3}, "must be str"),
])
def test_bad_inputs_fail_at_definition(cls, props, message):
    base = {"Configuration": {}} if cls is WorkGroup else {
        "Name": "q", "Database": "db", "QueryString": "SELECT 1", "WorkGroup": "wg"}
    with pytest.raises(PlanError, match=message):
        cls("x", **{**base, **props})
