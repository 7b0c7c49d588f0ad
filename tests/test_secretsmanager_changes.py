"""Issue 13 C8 on secretsmanager.Secret, on the strict sandbox: removing KmsKeyId from the plan puts the
secret back on the AWS managed key, in place (same ARN, same value), read back through boto3."""

from __future__ import annotations

from tests.test_secretsmanager import _key_arn, _secret


def test_c8_removing_the_kms_key_goes_back_to_the_aws_managed_key(aws):
    key_arn = _key_arn(aws)
    secret = _secret(Name="app", KmsKeyId=key_arn, GenerateSecretString={"PasswordLength": 24})
    ctx = aws.ctx("secret")
    arn, _ = secret.create(ctx, dict(secret.properties))
    sm = aws.client("secretsmanager")
    value = sm.get_secret_value(SecretId=arn)["SecretString"]
    assert sm.describe_secret(SecretId=arn)["KmsKeyId"] == key_arn

    old = dict(secret.properties)
    new = {k: v for k, v in old.items() if k != "KmsKeyId"}
    secret.update(ctx, arn, old, new)
    meta = sm.describe_secret(SecretId=arn)
    assert meta["ARN"] == arn and meta.get("KmsKeyId") in (None, "", "alias/aws/secretsmanager")
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == value  # the value is kept
    assert "KmsKeyId" not in secret.read(ctx, arn) or secret.read(ctx, arn)["KmsKeyId"] == "alias/aws/secretsmanager"
