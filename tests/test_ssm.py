"""Round trips of ssm.Parameter on moto: a String and a SecureString whose value never comes back."""

import pytest

from core.errors import PlanError
from resources.base import digest
from resources.kms import Key
from resources.ssm import Parameter


def _param(name="param", **props):
    p = Parameter(name, **props)
    p.stack = "main"
    return p


def test_string_parameter_round_trip(aws):
    param = _param(Name="database/endpoint", Value="db.example.internal", Description="writer endpoint")
    ctx = aws.ctx("param")
    pid, out = param.create(ctx, dict(param.properties))
    assert pid == "/genai-demo/test/database/endpoint"
    assert out == {"Name": pid, "Arn": f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:parameter{pid}"}
    ssm = aws.client("ssm")
    seen = ssm.get_parameter(Name=pid)["Parameter"]
    assert seen["Value"] == "db.example.internal" and seen["Type"] == "String"
    tags = {t["Key"]: t["Value"] for t in ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=pid)["TagList"]}
    assert tags["infra:address"] == "main.param"
    assert param.read(ctx, pid) == param.properties

    new = dict(param.properties, Value="db2.example.internal")
    param.update(ctx, pid, dict(param.properties), new)
    seen = ssm.get_parameter(Name=pid)["Parameter"]
    assert seen["Value"] == "db2.example.internal" and seen["Version"] == 2
    assert param.read(ctx, pid) == new

    assert param.find(ctx)[0] == pid
    param.delete(ctx, pid)
    param.delete(ctx, pid)  # idempotent
    assert param.read(ctx, pid) is None
    assert param.find(ctx) is None


def test_secure_string_value_never_leaves_in_clear(aws):
    key = Key("key")
    key.stack = "main"
    key_arn = key.create(aws.ctx("key"), dict(key.properties))[1]["Arn"]
    param = _param("token", Name="app/api_token", Type="SecureString", Value="s3cr3t-value", KeyId=key_arn)
    assert Parameter.secret_props() == {"Value"}
    ctx = aws.ctx("token")
    pid, out = param.create(ctx, dict(param.properties))
    assert "s3cr3t-value" not in repr(out)
    ssm = aws.client("ssm")
    assert ssm.get_parameter(Name=pid, WithDecryption=True)["Parameter"]["Value"] == "s3cr3t-value"
    assert ssm.describe_parameters()["Parameters"][0]["KeyId"] == key_arn

    seen = param.read(ctx, pid)
    assert "s3cr3t-value" not in repr(seen)
    assert seen["Value"] == digest("s3cr3t-value")
    assert seen == dict(param.properties, Value=digest("s3cr3t-value"))

    new = dict(param.properties, Value="rotated")
    out = param.update(ctx, pid, dict(param.properties), new)
    assert "rotated" not in repr(out)
    assert ssm.get_parameter(Name=pid, WithDecryption=True)["Parameter"]["Value"] == "rotated"
    assert param.read(ctx, pid)["Value"] == digest("rotated")

    assert param.find(ctx)[0] == pid
    param.delete(ctx, pid)
    param.delete(ctx, pid)
    assert param.read(ctx, pid) is None and param.find(ctx) is None


def test_values_resolved_from_refs_are_stored_as_text(aws):
    """A Ref to a port resolves to an int, one to subnets or brokers to a list: SSM gets text."""
    port = _param("port", Name="database/port", Value="placeholder")
    ctx = aws.ctx("port")
    pid, _ = port.create(ctx, dict(port.properties, Value=5432))
    assert aws.client("ssm").get_parameter(Name=pid)["Parameter"]["Value"] == "5432"
    hosts = _param("hosts", Name="kafka/brokers", Type="StringList", Value="placeholder")
    pid, _ = hosts.create(aws.ctx("hosts"), dict(hosts.properties, Value=["b-1:9094", "b-2:9094"]))
    assert aws.client("ssm").get_parameter(Name=pid)["Parameter"]["Value"] == "b-1:9094,b-2:9094"


def test_find_ignores_a_parameter_of_another_address(aws):
    param = _param(Name="shared/name", Value="x")
    ctx = aws.ctx("param")
    aws.client("ssm").put_parameter(Name="/genai-demo/test/shared/name", Value="x", Type="String",
                                    Tags=[{"Key": "infra:address", "Value": "main.other"}])
    assert param.find(ctx) is None


def test_parameter_bad_inputs():
    with pytest.raises(PlanError, match="unknown property"):
        Parameter("p", Name="a", Value="b", Overwrite=True)
    with pytest.raises(PlanError, match="Name"):
        Parameter("p", Name="/genai-demo/dev/a", Value="b")
    with pytest.raises(PlanError, match="reserved"):
        Parameter("p", Name="aws/thing", Value="b")
    with pytest.raises(PlanError, match="Type"):
        Parameter("p", Name="a", Value="b", Type="Secret")
    with pytest.raises(PlanError, match="KeyId"):
        Parameter("p", Name="a", Value="b", KeyId="alias/x")
    with pytest.raises(PlanError, match="must be str"):
        Parameter("p", Name="a", Value=5)
    with pytest.raises(PlanError, match="empty"):
        Parameter("p", Name="a", Value="")
    with pytest.raises(PlanError, match="bytes"):
        Parameter("p", Name="a", Value="x" * 5000)
