"""The security and config layers (KMS key + alias, generated secrets, S3 buckets, SSM parameters).

The declaration test needs no AWS. The apply test runs the real engine
through the CLI on moto: both layers applied, checked with independent
boto3 calls, re-planned with a refresh from AWS (no change: every read()
reports what was declared), then destroyed.
"""

from __future__ import annotations

import json
import string

import networkx as nx
import pytest
from click.testing import CliRunner

import cli
from orchestrator.graph import build_graph
from orchestrator.model import Plan
from plans.genai_demo import config, security
from plans.genai_demo.profiles import profile
from resources.base import Join, Ref
from tests.fakes import install_plan


def build_security_config(env: str) -> Plan:
    p = profile(env)
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    stack = plan.stack("main")
    sec = security.build(stack, p)
    config.build(stack, p, outputs={
        "s3/data-lake-bucket": sec["buckets"]["data_lake"]["Bucket"],
        "s3/backups-bucket": sec["buckets"]["backups"]["Bucket"],
        "kms/main-key-arn": sec["kms_key"]["Arn"],
        "redis/auth-secret-arn": sec["secrets"]["redis_auth"]["Arn"],
        "s3/data-lake-uri": Join("s3://", sec["buckets"]["data_lake"]["Bucket"], "/"),
    })
    return plan


PLAN = install_plan("genai_demo_security_config", build_security_config)


# moto 5.2.5 is not thread-safe here: every Secrets Manager call walks the whole secrets dict
# (SecretsStore.__getitem__/__contains__), so two secrets created in parallel can fail with
# "RuntimeError: dictionary changed size during iteration". AWS has no such limit; until the sandbox
# serialises those calls, this layer test applies one change at a time.
SERIAL = ("--parallelism", "1")


def infra(*args: str) -> int:
    result = CliRunner().invoke(cli.main, [*args, *SERIAL], catch_exceptions=False)
    assert result.exit_code in (0, 2), f"infra {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.exit_code


@pytest.mark.parametrize("env", ["dev", "production"])
def test_security_layer_declares_and_orders(env):
    p = profile(env)
    plan = Plan(project="genai-demo", env=env, region=p["region"])
    out = security.build(plan.stack("main"), p)
    assert set(out) == {"kms_key", "kms_alias", "buckets", "secrets"}
    assert set(out["buckets"]) == {"data_lake", "backups"} and set(out["secrets"]) == {"redis_auth", "app_db"}

    key = out["kms_key"].properties
    assert key["EnableKeyRotation"] is True
    assert key["PendingWindowInDays"] == (7 if env == "dev" else 30)
    stmts = {s["Sid"]: s for s in key["Policy"]["Statement"]}
    assert stmts["AccountRootAdministers"]["Principal"] == {"AWS": "arn:aws:iam::${AWS::AccountId}:root"}
    via = stmts["AwsServicesOfThisAccount"]["Condition"]["StringEquals"]["kms:ViaService"]
    for svc in ("rds", "s3", "secretsmanager", "kafka", "eks", "firehose"):
        assert f"{svc}.ap-east-2.amazonaws.com" in via
    assert stmts["CloudWatchLogsEncryptsLogGroups"]["Principal"] == {"Service": "logs.ap-east-2.amazonaws.com"}
    assert out["kms_alias"].properties["TargetKeyId"] == Ref(out["kms_key"], "KeyId")

    for b in out["buckets"].values():
        props = b.properties
        assert props["KMSMasterKeyID"] == Ref(out["kms_key"], "Arn")
        assert (props["Versioning"], props["SSEAlgorithm"], props["EnforceTLS"]) == ("Enabled", "aws:kms", True)
        assert all(props["PublicAccessBlockConfiguration"].values())
    lake = out["buckets"]["data_lake"].properties["LifecycleRules"][0]
    assert lake["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}]
    assert "Expiration" not in lake
    backups = out["buckets"]["backups"].properties["LifecycleRules"][0]
    if env == "dev":  # expire after 35 days: a Glacier move at 90 would never happen (and AWS rejects it)
        assert backups["Expiration"] == {"Days": 35}
        assert backups["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    else:
        assert backups["Expiration"] == {"Days": 2555}
        assert [t["StorageClass"] for t in backups["Transitions"]] == ["STANDARD_IA", "GLACIER"]

    redis = out["secrets"]["redis_auth"].properties
    assert redis["GenerateSecretString"] == {"PasswordLength": 32, "ExcludePunctuation": True, "IncludeSpace": False}
    assert redis["KmsKeyId"] == Ref(out["kms_key"], "Arn")
    assert redis["RecoveryWindowInDays"] == (0 if env == "dev" else 30)


def test_config_layer_one_parameter_per_output():
    p = profile("dev")
    stack = Plan(project="genai-demo", env="dev").stack("main")
    sec = security.build(stack, p)
    out = config.build(stack, p, outputs={"database/endpoint": "db.internal",
                                          "s3/backups-bucket": sec["buckets"]["backups"]["Bucket"]})
    params = out["parameters"]
    assert set(params) == {"database/endpoint", "s3/backups-bucket", "app/environment", "app/log-level"}
    assert params["s3/backups-bucket"].name == "param_s3_backups_bucket"
    assert params["s3/backups-bucket"].properties["Value"] == Ref(sec["buckets"]["backups"], "Bucket")
    assert params["database/endpoint"].properties["Type"] == "String"


def test_config_layer_refuses_clashing_keys():
    from core.errors import PlanError

    p = profile("dev")
    with pytest.raises(PlanError, match="app/environment"):
        config.build(Plan(project="genai-demo", env="dev").stack("main"), p, outputs={"app/environment": "x"})
    with pytest.raises(PlanError, match="same address"):
        config.build(Plan(project="genai-demo", env="dev").stack("main"), p,
                     outputs={"db/endpoint": "a", "db-endpoint": "b"})


def test_graph_orders_security_before_config():
    plan = build_security_config("production")
    g, _ = build_graph(plan, None, state_outputs=None)

    def needs(a, b):
        return nx.has_path(g, f"main.{b}", f"main.{a}")

    assert needs("kms_alias", "kms_key") and needs("data_lake", "kms_key") and needs("redis_auth_secret", "kms_key")
    assert needs("param_s3_data_lake_bucket", "data_lake") and needs("param_s3_data_lake_uri", "data_lake")
    assert needs("param_kms_main_key_arn", "kms_key") and needs("param_redis_auth_secret_arn", "redis_auth_secret")


@pytest.mark.slow
@pytest.mark.parametrize("env", ["dev", "production"])
def test_security_config_apply_noop_destroy(aws, env):
    infra("apply", "--plan", PLAN, "--env", env, "--auto-approve")
    kms, s3, sm, ssm = (aws.client(s) for s in ("kms", "s3", "secretsmanager", "ssm"))
    account = aws.client("sts").get_caller_identity()["Account"]

    alias = f"alias/genai-demo-{env}-main"
    meta = kms.describe_key(KeyId=alias)["KeyMetadata"]
    key_id, key_arn = meta["KeyId"], meta["Arn"]
    assert meta["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::{account}:root"
    assert "${AWS::AccountId}" not in json.dumps(policy)

    for name, expire in (("data-lake", None), ("backups", 35 if env == "dev" else 2555)):
        bucket = f"genai-demo-{env}-{name}-{account}-ap-east-2"
        enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert enc["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
        assert enc["BucketKeyEnabled"] is True
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
        deny = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
        assert rule["Transitions"][0] == {"Days": 30, "StorageClass": "STANDARD_IA"}
        assert rule.get("Expiration", {}).get("Days") == expire

    redis = sm.describe_secret(SecretId=f"genai-demo/{env}/redis/auth-token")
    assert redis["KmsKeyId"] == key_arn
    token = sm.get_secret_value(SecretId=redis["ARN"])["SecretString"]
    assert len(token) == 32 and set(token) <= set(string.ascii_letters + string.digits)
    db = json.loads(sm.get_secret_value(SecretId=f"genai-demo/{env}/database/app-user")["SecretString"])
    assert db["username"] == "genai_app" and len(db["password"]) == 32
    assert not set(db["password"]) & set("/@\" '\\")

    params = {x["Name"]: x["Value"] for x in ssm.get_parameters_by_path(Path=f"/genai-demo/{env}",
                                                                           Recursive=True)["Parameters"]}
    lake = f"genai-demo-{env}-data-lake-{account}-ap-east-2"
    assert params[f"/genai-demo/{env}/s3/data-lake-bucket"] == lake
    assert params[f"/genai-demo/{env}/s3/data-lake-uri"] == f"s3://{lake}/"
    assert params[f"/genai-demo/{env}/kms/main-key-arn"] == key_arn
    assert params[f"/genai-demo/{env}/redis/auth-secret-arn"] == redis["ARN"]
    assert params[f"/genai-demo/{env}/app/environment"] == env
    assert token not in json.dumps(params)

    # The state table never holds a secret value.
    ddb = aws.client("dynamodb")
    tables = ddb.list_tables()["TableNames"]
    assert tables
    state = json.dumps([ddb.scan(TableName=t)["Items"] for t in tables], default=str)
    assert lake in state  # the scan does see the recorded outputs...
    assert token not in state and db["password"] not in state  # ...and never a secret value

    # A second plan, refreshed from AWS, finds nothing to change.
    assert infra("plan", "--plan", PLAN, "--env", env, "--detailed-exitcode") == 0

    infra("destroy", "--plan", PLAN, "--env", env, "--auto-approve")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert not [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == alias]
    assert [b for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(f"genai-demo-{env}-")] == []
    assert ssm.get_parameters_by_path(Path=f"/genai-demo/{env}", Recursive=True)["Parameters"] == []
    live = [s for s in sm.list_secrets()["SecretList"] if not s.get("DeletedDate")]
    assert live == []  # dev: deleted at once; production: inside its 30-day recovery window
