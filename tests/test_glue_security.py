"""glue.SecurityConfiguration and glue.DataCatalogEncryptionSettings on the sandbox, checked through independent
boto3 calls; and the two rules that ask for them (the catalog one across resources)."""

from __future__ import annotations

from orchestrator import check
from orchestrator.model import Plan
from resources.glue import Database, DataCatalogEncryptionSettings, SecurityConfiguration

KEY = "arn:aws:kms:ap-east-2:123456789012:key/11111111-2222-3333-4444-555555555555"
ENCRYPTION = {"S3Encryption": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": KEY}],
              "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": KEY},
              "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": KEY}}
CATALOG = {"EncryptionAtRest": {"CatalogEncryptionMode": "SSE-KMS", "SseAwsKmsKeyId": KEY},
           "ConnectionPasswordEncryption": {"ReturnConnectionPasswordEncrypted": True, "AwsKmsKeyId": KEY}}


def test_security_configuration_round_trip(aws):
    sc = SecurityConfiguration("crawler_security", EncryptionConfiguration=ENCRYPTION)
    sc.stack = "analytics"
    ctx = aws.ctx("crawler_security", stack="analytics")
    name, _ = sc.create(ctx, dict(sc.properties))
    glue = aws.client("glue")
    assert glue.get_security_configuration(Name=name)["SecurityConfiguration"]["EncryptionConfiguration"] == ENCRYPTION
    assert sc.read(ctx, name) == dict(sc.properties)
    assert sc.find(ctx)[0] == name
    assert SecurityConfiguration.replace_on >= {"EncryptionConfiguration"}  # Glue has no update call
    sc.delete(ctx, name)
    sc.delete(ctx, name)
    assert sc.read(ctx, name) is None and sc.find(ctx) is None


def test_catalog_encryption_round_trip(aws):
    settings = DataCatalogEncryptionSettings("catalog_encryption", DataCatalogEncryptionSettings=CATALOG)
    settings.stack = "analytics"
    ctx = aws.ctx("catalog_encryption", stack="analytics")
    glue = aws.client("glue")
    assert settings.find(ctx) is None
    pid, _ = settings.create(ctx, dict(settings.properties))
    assert glue.get_data_catalog_encryption_settings()["DataCatalogEncryptionSettings"] == CATALOG
    assert settings.read(ctx, pid) == dict(settings.properties)
    no_passwords = dict(CATALOG, ConnectionPasswordEncryption={"ReturnConnectionPasswordEncrypted": False})
    settings.update(ctx, pid, dict(settings.properties), {"DataCatalogEncryptionSettings": no_passwords})
    assert glue.get_data_catalog_encryption_settings()["DataCatalogEncryptionSettings"][
        "ConnectionPasswordEncryption"]["ReturnConnectionPasswordEncrypted"] is False
    settings.delete(ctx, pid)
    assert glue.get_data_catalog_encryption_settings()["DataCatalogEncryptionSettings"]["EncryptionAtRest"][
        "CatalogEncryptionMode"] == "DISABLED"
    assert settings.read(ctx, pid) is None


def test_rule_glue_catalog_encryption_needs_the_settings_in_the_plan():
    plan = Plan(project="policy", env="dev")
    plan.stack("analytics").add(Database("lake"))
    rid = "glue.catalog-encryption"
    assert [f.address for f in check.evaluate(plan) if f.rule == rid] == ["analytics.lake"]
    plan.stack("analytics").add(DataCatalogEncryptionSettings("catalog", DataCatalogEncryptionSettings=CATALOG))
    assert [f for f in check.evaluate(plan) if f.rule == rid] == []
