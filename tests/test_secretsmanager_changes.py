"""Issue 13 C8: a KmsKeyId removed from the plan puts the secret back on the AWS managed key."""

from __future__ import annotations

from resources.kms import Key
from resources.secretsmanager import Secret
from tests.helpers import declare


def test_c8_removed_kms_key_goes_back_to_the_aws_managed_key(aws):
    key = declare(Key("key"))
    key_arn = key.create(aws.ctx("key"), dict(key.properties))[1]["Arn"]
    secret = declare(Secret("secret", Name="db/app", KmsKeyId=key_arn, GenerateSecretString={"PasswordLength": 20}))
    ctx = aws.ctx("secret")
    pid, out = secret.create(ctx, dict(secret.properties))
    sm = aws.client("secretsmanager")
    assert sm.describe_secret(SecretId=pid)["KmsKeyId"] == key_arn
    new = {k: v for k, v in secret.properties.items() if k != "KmsKeyId"}
    secret.update(ctx, pid, dict(secret.properties), new)
    seen = sm.describe_secret(SecretId=pid)
    assert seen["ARN"] == out["Arn"] and seen.get("KmsKeyId") in (None, "", "alias/aws/secretsmanager")
    assert "KmsKeyId" not in secret.read(ctx, pid)
