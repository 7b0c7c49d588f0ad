"""Round trips of secretsmanager.Secret on moto: AWS generates the value, nothing of ours ever holds it."""

import json
import string

import pytest

from core.errors import PlanError
from resources.kms import Key
from resources.secretsmanager import Secret

TOKEN = "0f8fad5b-d9cb-469f-a165-70867728950e"


def _secret(name="secret", **props):
    s = Secret(name, **props)
    s.stack = "main"
    return s


def _key_arn(aws, name="key"):
    key = Key(name)
    key.stack = "main"
    return key.create(aws.ctx(name), dict(key.properties))[1]["Arn"]


def test_generated_secret_round_trip(aws):
    key_arn = _key_arn(aws)
    secret = _secret(Name="redis-auth", Description="Redis AUTH token", KmsKeyId=key_arn,
                     GenerateSecretString={"PasswordLength": 32, "ExcludePunctuation": True})
    ctx = aws.ctx("secret", token=TOKEN)
    arn, out = secret.create(ctx, dict(secret.properties))
    assert out == {"Arn": arn, "Name": "genai-demo/test/redis-auth"}

    sm = aws.client("secretsmanager")
    meta = sm.describe_secret(SecretId=arn)
    assert meta["KmsKeyId"] == key_arn and meta["Description"] == "Redis AUTH token"
    assert {t["Key"]: t["Value"] for t in meta["Tags"]}["infra:address"] == "main.secret"
    got = sm.get_secret_value(SecretId=arn)
    value = got["SecretString"]
    assert got["VersionId"] == TOKEN  # ctx.token is the ClientRequestToken
    assert len(value) == 32 and set(value) <= set(string.ascii_letters + string.digits)
    # The value is AWS's alone: not in outputs, not in what read() reports.
    seen = secret.read(ctx, arn)
    assert value not in repr(out) and value not in repr(seen)
    assert seen == {"Name": "redis-auth", "Description": "Redis AUTH token", "KmsKeyId": key_arn}

    # Description updates in place and keeps the value; new generation rules make a new value.
    new = dict(secret.properties, Description="changed")
    secret.update(ctx, arn, dict(secret.properties), new)
    assert sm.describe_secret(SecretId=arn)["Description"] == "changed"
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == value
    newer = dict(new, GenerateSecretString={"PasswordLength": 40, "ExcludePunctuation": True})
    out = secret.update(ctx, arn, new, newer)
    rotated = sm.get_secret_value(SecretId=arn)["SecretString"]
    assert len(rotated) == 40 and rotated not in repr(out)
    # The executor hands every update the create's token: a second rotation must still work.
    newest = dict(newer, GenerateSecretString={"PasswordLength": 48, "ExcludePunctuation": True})
    secret.update(ctx, arn, newer, newest)
    assert len(sm.get_secret_value(SecretId=arn)["SecretString"]) == 48

    assert secret.find(ctx) == (arn, {"Arn": arn, "Name": "genai-demo/test/redis-auth"})
    secret.delete(ctx, arn)
    secret.delete(ctx, arn)  # idempotent
    with pytest.raises(Exception, match="ResourceNotFound"):
        sm.describe_secret(SecretId=arn)  # dev default: no recovery window
    assert secret.read(ctx, arn) is None
    assert secret.find(ctx) is None


def test_json_template_secret(aws):
    secret = _secret("db", Name="database/master",
                     GenerateSecretString={"SecretStringTemplate": json.dumps({"username": "genai_admin"}),
                                           "GenerateStringKey": "password", "PasswordLength": 24,
                                           "ExcludeCharacters": "/@\" "})
    ctx = aws.ctx("db")
    arn, _ = secret.create(ctx, dict(secret.properties))
    doc = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    assert doc["username"] == "genai_admin" and len(doc["password"]) == 24
    assert not set(doc["password"]) & set("/@\" ")


def test_secret_without_value_and_recovery_window(aws):
    secret = _secret("app", Name="app/credentials", RecoveryWindowInDays=7)
    ctx = aws.ctx("app")
    arn, _ = secret.create(ctx, dict(secret.properties))
    sm = aws.client("secretsmanager")
    assert "SecretVersionsToStages" not in sm.describe_secret(SecretId=arn) or \
        not sm.describe_secret(SecretId=arn)["SecretVersionsToStages"]
    secret.delete(ctx, arn)
    assert sm.describe_secret(SecretId=arn)["DeletedDate"]  # scheduled, recoverable
    secret.delete(ctx, arn)  # already scheduled: nothing to do
    assert secret.read(ctx, arn) is None and secret.find(ctx) is None
    # Re-creating inside the window restores our own secret instead of failing on the taken name.
    arn2, out = secret.create(ctx, dict(secret.properties))
    assert arn2 == arn and "DeletedDate" not in sm.describe_secret(SecretId=arn)
    assert secret.find(ctx)[0] == arn


def test_secret_bad_inputs():
    with pytest.raises(PlanError, match="unknown property"):
        Secret("s", Name="a", SecretString="hunter2")
    with pytest.raises(PlanError, match="Name"):
        Secret("s")
    with pytest.raises(PlanError, match="unknown keys"):
        Secret("s", Name="a", GenerateSecretString={"Length": 10})
    with pytest.raises(PlanError, match="PasswordLength"):
        Secret("s", Name="a", GenerateSecretString={"PasswordLength": 2})
    with pytest.raises(PlanError, match="together"):
        Secret("s", Name="a", GenerateSecretString={"GenerateStringKey": "password"})
    with pytest.raises(PlanError, match="RecoveryWindowInDays"):
        Secret("s", Name="a", RecoveryWindowInDays=3)
    with pytest.raises(PlanError, match="six characters"):
        Secret("s", Name="redis-abcdef")


def test_rotation_schedule_round_trip(aws):
    """RotateSecret with a function and a schedule (no rotation now), read back through DescribeSecret, a new
    schedule in place, CancelRotateSecret on delete; the secret and its value stay."""
    import io
    import zipfile

    from resources.secretsmanager import RotationSchedule

    aws.rules.off("iam-propagation")
    secret = Secret("app_db", Name="database/app-user", GenerateSecretString={"PasswordLength": 20})
    secret.stack = "main"
    arn, _ = secret.create(aws.ctx("app_db"), dict(secret.properties))
    sm, lam = aws.client("secretsmanager"), aws.client("lambda")
    value = sm.get_secret_value(SecretId=arn)["SecretString"]
    role = aws.client("iam").create_role(RoleName="rotate", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(e, c):\n    return None\n")
    fn = lam.create_function(FunctionName="rotate", Runtime="python3.12", Handler="handler.handler", Role=role,
                             Code={"ZipFile": buf.getvalue()})["FunctionArn"]

    lam.add_permission(FunctionName="rotate", StatementId="secretsmanager", Action="lambda:InvokeFunction",
                       Principal="secretsmanager.amazonaws.com")
    rot = RotationSchedule("app_db_rotation", SecretId=arn, RotationLambdaARN=fn,
                           RotationRules={"AutomaticallyAfterDays": 30})
    rot.stack = "main"
    ctx = aws.ctx("app_db_rotation")
    pid, out = rot.create(ctx, dict(rot.properties))
    assert pid == arn and out == {"SecretId": arn}
    meta = sm.describe_secret(SecretId=arn)
    assert meta["RotationEnabled"] is True and meta["RotationLambdaARN"] == fn
    assert meta["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == value  # not rotated at once
    assert rot.read(ctx, pid) == {"SecretId": arn, "RotationLambdaARN": fn,
                                  "RotationRules": {"AutomaticallyAfterDays": 30}}
    rot.update(ctx, pid, dict(rot.properties), {**rot.properties, "RotationRules": {"AutomaticallyAfterDays": 7}})
    assert sm.describe_secret(SecretId=arn)["RotationRules"]["AutomaticallyAfterDays"] == 7
    assert rot.find(ctx)[0] == arn
    # As the plan declares it (Refs) and as a create resumed after a crash sees it (the run's resolved values):
    # found, so RotateSecret, which would start a rotation, is not sent again.
    from resources.base import Ref

    by_ref = RotationSchedule("app_db_rotation", SecretId=Ref("main.app_db", "Arn"),
                              RotationLambdaARN=Ref("main.rotate", "Arn"), RotationRules={"AutomaticallyAfterDays": 7})
    by_ref.stack = "main"
    assert by_ref.find(aws.ctx("app_db_rotation", props={"SecretId": arn, "RotationLambdaARN": fn}))[0] == arn
    assert by_ref.find(aws.ctx("app_db_rotation")) is None
    rot.delete(ctx, pid)
    assert sm.describe_secret(SecretId=arn)["RotationEnabled"] is False and rot.read(ctx, pid) is None
    rot.delete(ctx, pid)  # idempotent
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == value
    with pytest.raises(PlanError, match="exactly one"):
        RotationSchedule("r", SecretId=arn, RotationLambdaARN=fn, RotationRules={})
