"""The Secrets Manager rotation rule (sandbox/extensions/strict_secrets.py), tripped with plain boto3, then met
the way AWS documents: a function permission for secretsmanager.amazonaws.com."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from sandbox import strict

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}


def _function(aws, name: str) -> str:
    role = aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(e, c):\n    return None\n")
    return aws.client("lambda").create_function(FunctionName=name, Runtime="python3.12", Handler="handler.handler",
                                                Role=role, Code={"ZipFile": buf.getvalue()})["FunctionArn"]


def test_rule_secretsmanager_rotation_invoke(aws):
    aws.rules.off("iam-propagation")
    sm, lam = aws.client("secretsmanager"), aws.client("lambda")
    secret = sm.create_secret(Name="app/db", SecretString="s3cret")["ARN"]
    fn = _function(aws, "rotate")
    before = strict.trips().get("secretsmanager-rotation-invoke", 0)
    rotation = dict(SecretId=secret, RotationLambdaARN=fn, RotationRules={"AutomaticallyAfterDays": 30},
                    RotateImmediately=False)
    with pytest.raises(ClientError) as exc:
        sm.rotate_secret(**rotation)
    err = exc.value.response["Error"]
    assert err["Code"] == "AccessDeniedException" and "grants access to the principal secretsmanager" in err["Message"]
    assert sm.describe_secret(SecretId=secret).get("RotationEnabled") is not True
    # Another service's permission does not do.
    lam.add_permission(FunctionName="rotate", StatementId="events", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com")
    with pytest.raises(ClientError):
        sm.rotate_secret(**rotation)
    assert strict.trips()["secretsmanager-rotation-invoke"] == before + 2
    lam.add_permission(FunctionName="rotate", StatementId="secretsmanager", Action="lambda:InvokeFunction",
                       Principal="secretsmanager.amazonaws.com")
    sm.rotate_secret(**rotation)
    meta = sm.describe_secret(SecretId=secret)
    assert meta["RotationEnabled"] is True and meta["RotationLambdaARN"] == fn


def test_rotation_schedule_retries_while_the_permission_is_missing_and_says_so():
    """The type's catalogue covers the refusal on create and update only, by its message."""
    from core.errors import matching
    from resources.secretsmanager import RotationSchedule

    class Answer(Exception):
        def __init__(self, message: str) -> None:
            super().__init__(message)
            self.response = {"Error": {"Code": "AccessDeniedException", "Message": message}}

    from sandbox.extensions.strict_secrets import MESSAGE

    assert matching(RotationSchedule.retries, Answer(MESSAGE), "create") is not None
    assert matching(RotationSchedule.retries, Answer("User is not authorized to perform: "
                                                     "secretsmanager:RotateSecret"), "create") is None
    assert matching(RotationSchedule.retries, Answer(MESSAGE), "delete") is None
