"""Round trips of lambda.Function and lambda.Permission on moto (no Docker: nothing is invoked),
the deterministic zip, and the custom-metrics handler's logic."""

import base64
import datetime as dt
import hashlib
import importlib.util
import io
import json
import os
import zipfile

import pytest

from core.errors import PlanError
from orchestrator.apply import RetryPolicy
from resources.lambda_ import REPO_ROOT, Function, Permission, code_sha256, zip_source

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}


def _create(f, ctx):
    """Create as the applier does: the role was created moments ago (raw boto3), so Lambda refuses it until
    IAM has propagated (sandbox rule iam-propagation) and the type's retry catalogue carries the create over."""
    return RetryPolicy().create(lambda: f.create(ctx, dict(f.properties)), type(f).not_found,
                                catalogue=type(f).retries, address=f.address)


def _role(aws):
    return aws.client("iam").create_role(RoleName="custom-metrics",
                                         AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]


def _fn(role, **kw):
    props = dict(Handler="handler.handler", Role=role, SourceDir="plans/genai_demo/functions/custom_metrics", Timeout=30,
                 Environment={"Variables": {"ENVIRONMENT": "test"}})
    props.update(kw)
    f = Function("custom_metrics", **props)
    f.stack = "observability"
    return f


def test_zip_is_deterministic(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    (tmp_path / "pkg" / "util.py").write_text("X = 1\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "handler.cpython-312.pyc").write_bytes(b"junk")
    first = zip_source(str(tmp_path))
    os.utime(tmp_path / "handler.py", (1_000_000, 1_000_000))  # a checkout at another time
    (tmp_path / "handler.py").chmod(0o600)
    assert zip_source(str(tmp_path)) == first
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert zf.namelist() == ["handler.py", "pkg/util.py"]
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert code_sha256(first) == base64.b64encode(hashlib.sha256(first).digest()).decode()
    (tmp_path / "pkg" / "util.py").write_text("X = 2\n")
    assert zip_source(str(tmp_path)) != first


def test_function_round_trip(aws, tmp_path):
    role = _role(aws)
    f = _fn(role)
    ctx = aws.ctx("custom_metrics", stack="observability")
    name, out = _create(f, ctx)
    assert name == "genai-demo-test-custom-metrics" and out["Arn"].endswith(":function:" + name)

    lam = aws.client("lambda")
    c = lam.get_function(FunctionName=name)["Configuration"]
    assert c["Runtime"] == "python3.12" and c["Handler"] == "handler.handler" and c["Role"] == role
    assert c["Timeout"] == 30 and c["Environment"]["Variables"] == {"ENVIRONMENT": "test"}
    assert c["State"] == "Active"
    assert c["CodeSha256"] == code_sha256(zip_source("plans/genai_demo/functions/custom_metrics")) == f.properties["CodeSha256"]
    assert lam.list_tags(Resource=out["Arn"])["Tags"]["infra:address"] == "observability.custom_metrics"

    got = f.read(ctx, name)
    assert {k: got[k] for k in ("CodeSha256", "Timeout", "MemorySize", "Environment")} == \
        {"CodeSha256": f.properties["CodeSha256"], "Timeout": 30, "MemorySize": 128,
         "Environment": {"Variables": {"ENVIRONMENT": "test"}}}
    assert "SourceDir" not in got  # write-only: AWS cannot report it

    new = dict(f.properties, Timeout=60, Environment={"Variables": {"ENVIRONMENT": "test", "X": "1"}})
    f.update(ctx, name, dict(f.properties), new)
    c = lam.get_function(FunctionName=name)["Configuration"]
    assert c["Timeout"] == 60 and c["Environment"]["Variables"] == {"ENVIRONMENT": "test", "X": "1"}

    assert f.find(ctx)[0] == name
    f.delete(ctx, name)
    f.delete(ctx, name)
    assert name not in [x["FunctionName"] for x in lam.list_functions()["Functions"]]
    assert f.read(ctx, name) is None and f.find(ctx) is None


def test_function_dead_letter_key_and_reserved_concurrency(aws):
    """DLQ, environment key and reserved concurrency reach Lambda, read back, change and go away in place."""
    iam, kms, sns, lam = aws.client("iam"), aws.client("kms"), aws.client("sns"), aws.client("lambda")
    topic = sns.create_topic(Name="failed-metrics")["TopicArn"]
    role = _role(aws)
    iam.put_role_policy(RoleName="custom-metrics", PolicyName="dlq", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}]}))
    key = kms.create_key()["KeyMetadata"]["Arn"]
    f = _fn(role, DeadLetterConfig={"TargetArn": topic}, KMSKeyArn=key, ReservedConcurrentExecutions=2)
    ctx = aws.ctx("custom_metrics", stack="observability")
    name, _ = _create(f, ctx)
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["DeadLetterConfig"] == {"TargetArn": topic}
    assert got["Configuration"]["KMSKeyArn"] == key
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 2
    read = f.read(ctx, name)
    assert {k: read.get(k) for k in ("DeadLetterConfig", "KMSKeyArn", "ReservedConcurrentExecutions")} == \
        {"DeadLetterConfig": {"TargetArn": topic}, "KMSKeyArn": key, "ReservedConcurrentExecutions": 2}

    old = dict(f.properties)
    new = {**old, "ReservedConcurrentExecutions": 5}
    f.update(ctx, name, old, new)
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    bare = {k: v for k, v in new.items() if k not in ("DeadLetterConfig", "KMSKeyArn", "ReservedConcurrentExecutions")}
    f.update(ctx, name, new, bare)
    c = lam.get_function(FunctionName=name)
    assert "DeadLetterConfig" not in c["Configuration"] and not c["Configuration"].get("KMSKeyArn")
    assert "Concurrency" not in c
    assert not {"DeadLetterConfig", "KMSKeyArn", "ReservedConcurrentExecutions"} & set(f.read(ctx, name))
    # Code signing: put on, read back through GetFunctionCodeSigningConfig, taken off.
    csc = "arn:aws:lambda:ap-east-2:123456789012:code-signing-config:csc-0123456789abcdef0"
    f.update(ctx, name, bare, {**bare, "CodeSigningConfigArn": csc})
    assert lam.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"] == csc
    assert f.read(ctx, name)["CodeSigningConfigArn"] == csc
    f.update(ctx, name, {**bare, "CodeSigningConfigArn": csc}, bare)
    assert not lam.get_function_code_signing_config(FunctionName=name).get("CodeSigningConfigArn")
    with pytest.raises(PlanError, match="SQS queue or SNS topic"):
        _fn(role, DeadLetterConfig={"TargetArn": "arn:aws:lambda:x:1:function:f"})


def test_function_code_update(aws, tmp_path):
    (tmp_path / "app.py").write_text("def main(event, context):\n    return 'v1'\n")
    role = _role(aws)
    f = _fn(role, SourceDir=str(tmp_path), Handler="app.main", Environment=None)
    ctx = aws.ctx("custom_metrics", stack="observability")
    name, _ = _create(f, ctx)
    v1 = f.properties["CodeSha256"]

    (tmp_path / "app.py").write_text("def main(event, context):\n    return 'v2'\n")
    f2 = _fn(role, SourceDir=str(tmp_path), Handler="app.main", Environment=None)
    assert f2.properties["CodeSha256"] != v1  # the planner sees the edit as a property change
    f2.update(ctx, name, dict(f.properties), dict(f2.properties))
    lam = aws.client("lambda")
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == f2.properties["CodeSha256"]
    assert f2.read(ctx, name)["CodeSha256"] == f2.properties["CodeSha256"]


def test_function_rejects_bad_input(tmp_path):
    with pytest.raises(PlanError, match="not a directory"):
        _fn("arn:aws:iam::123456789012:role/r", SourceDir="functions/nope")
    with pytest.raises(PlanError, match="needs missing.py"):
        _fn("arn:aws:iam::123456789012:role/r", Handler="missing.handler")
    with pytest.raises(PlanError, match="Timeout"):
        _fn("arn:aws:iam::123456789012:role/r", Timeout=901)
    with pytest.raises(PlanError, match="Variables"):
        _fn("arn:aws:iam::123456789012:role/r", Environment={"ENVIRONMENT": "dev"})
    with pytest.raises(PlanError, match="do not set it"):
        _fn("arn:aws:iam::123456789012:role/r", CodeSha256="abc")
    with pytest.raises(PlanError, match="unknown property"):
        _fn("arn:aws:iam::123456789012:role/r", Code={"ZipFile": b""})


def test_permission_round_trip(aws):
    role = _role(aws)
    f = _fn(role)
    fctx = aws.ctx("custom_metrics", stack="observability")
    name, _ = _create(f, fctx)
    rule_arn = "arn:aws:events:ap-east-2:123456789012:rule/genai-demo-test-schedule"
    p = Permission("allow_events", FunctionName=name, Principal="events.amazonaws.com", SourceArn=rule_arn)
    p.stack = "observability"
    ctx = aws.ctx("allow_events", stack="observability")
    pid, out = p.create(ctx, dict(p.properties))
    assert pid == f"{name}|genai-demo-test-allow-events"
    assert out == {"FunctionName": name, "StatementId": "genai-demo-test-allow-events"}

    policy = aws.client("lambda").get_policy(FunctionName=name)["Policy"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    st = [s for s in policy["Statement"] if s["Sid"] == "genai-demo-test-allow-events"][0]
    assert st["Principal"] == {"Service": "events.amazonaws.com"}
    assert st["Condition"]["ArnLike"]["AWS:SourceArn"] == rule_arn

    assert p.read(ctx, pid) == {"FunctionName": name, "StatementId": "genai-demo-test-allow-events",
                                "Principal": "events.amazonaws.com", "Action": "lambda:InvokeFunction",
                                "SourceArn": rule_arn}
    assert p.update(ctx, pid, dict(p.properties), dict(p.properties)) == out
    assert p.find(ctx)[0] == pid
    p.delete(ctx, pid)
    p.delete(ctx, pid)
    assert p.read(ctx, pid) is None and p.find(ctx) is None
    f.delete(fctx, name)
    assert p.read(ctx, pid) is None  # the function went too
    p.delete(ctx, pid)


# --------------------------------------------------------------------------- the custom-metrics handler


def _handler_module():
    spec = importlib.util.spec_from_file_location("custom_metrics_handler",
                                                  REPO_ROOT / "plans" / "genai_demo" / "functions" / "custom_metrics" / "handler.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_custom_metrics_handler_publishes_alarm_counts(aws, monkeypatch):
    mod = _handler_module()
    cw = aws.client("cloudwatch")
    for n in ("genai-demo-test-a", "genai-demo-test-b", "genai-demo-test-c", "other-env-d"):
        cw.put_metric_alarm(AlarmName=n, MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
                            Period=60, EvaluationPeriods=1, Threshold=80.0,
                            ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="genai-demo-test-a", StateValue="ALARM", StateReason="test")
    cw.set_alarm_state(AlarmName="genai-demo-test-b", StateValue="OK", StateReason="test")
    # AWS starts alarms in INSUFFICIENT_DATA, moto in OK: set every state explicitly.
    cw.set_alarm_state(AlarmName="genai-demo-test-c", StateValue="INSUFFICIENT_DATA", StateReason="test")
    cw.set_alarm_state(AlarmName="other-env-d", StateValue="ALARM", StateReason="test")
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("METRIC_NAMESPACE", "GenAIDemo/test")
    monkeypatch.setenv("ALARM_NAME_PREFIX", "genai-demo-test-")

    result = mod.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    assert result["published"] == {"AlarmsInAlarm": 1.0, "AlarmsInsufficientData": 1.0, "AlarmsOk": 1.0,
                                   "Heartbeat": 1.0}

    metrics = cw.list_metrics(Namespace="GenAIDemo/test")["Metrics"]
    assert sorted(m["MetricName"] for m in metrics) == \
        ["AlarmsInAlarm", "AlarmsInsufficientData", "AlarmsOk", "Heartbeat"]
    assert all(m["Dimensions"] == [{"Name": "Environment", "Value": "test"}] for m in metrics)
    now = dt.datetime.now(dt.UTC)
    stats = cw.get_metric_statistics(Namespace="GenAIDemo/test", MetricName="AlarmsInAlarm",
                                     Dimensions=[{"Name": "Environment", "Value": "test"}],
                                     StartTime=now - dt.timedelta(minutes=5), EndTime=now + dt.timedelta(minutes=5),
                                     Period=60, Statistics=["Maximum"])["Datapoints"]
    assert [d["Maximum"] for d in stats] == [1.0]


def test_custom_metrics_batches_and_zeros():
    mod = _handler_module()
    from collections import Counter

    data = mod.build_metric_data(Counter(), "dev")
    assert [(d["MetricName"], d["Value"]) for d in data] == \
        [("AlarmsInAlarm", 0.0), ("AlarmsInsufficientData", 0.0), ("AlarmsOk", 0.0), ("Heartbeat", 1.0)]
    assert [len(b) for b in mod.chunks(list(range(45)))] == [20, 20, 5]


def test_permission_create_after_interrupted_run_adopts_or_replaces(aws):
    """find() cannot resolve a Ref'd FunctionName, so a re-run create must not add a second statement."""
    f = _fn(_role(aws))
    name, _ = _create(f, aws.ctx("custom_metrics", stack="observability"))
    p = Permission("allow_events", FunctionName=name, Principal="events.amazonaws.com",
                   SourceArn="arn:aws:events:ap-east-2:123456789012:rule/a")
    p.stack = "observability"
    ctx = aws.ctx("allow_events", stack="observability")
    pid, _ = p.create(ctx, dict(p.properties))
    assert p.create(ctx, dict(p.properties))[0] == pid
    changed = dict(p.properties, SourceArn="arn:aws:events:ap-east-2:123456789012:rule/b")
    p.create(ctx, changed)

    policy = aws.client("lambda").get_policy(FunctionName=name)["Policy"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    assert [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]] == \
        ["arn:aws:events:ap-east-2:123456789012:rule/b"]
