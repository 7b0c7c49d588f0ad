"""Rules on the supporting services: Lambda, SSM parameters, CloudWatch alarms, Glue and Athena."""

from __future__ import annotations

import re
from collections.abc import Iterator

from resources.policy import Subject, as_list, rule

FN = {"Handler": "handler.handler", "Role": "arn:r", "SourceDir": "plans/genai_demo/functions/custom_metrics"}
SUPPORTED_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13", "nodejs20.x", "nodejs22.x",
                      "java17", "java21", "provided.al2023")
SECRETISH = re.compile(r"(?i)(password|passwd|secret|token|api[_-]?key|private[_-]?key)")
AWS_KEY = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")


@rule("lambda.supported-runtime", "medium", "Lambda functions run a supported runtime", ["lambda.Function"],
      equivalents=["CKV_AWS_363", "FSBP Lambda.2"], fails={**FN, "Runtime": "python3.7"}, passes=FN)
def lambda_runtime(s: Subject) -> Iterator[str]:
    if s.get("Runtime") not in SUPPORTED_RUNTIMES:
        yield f"runtime {s.get('Runtime')} is deprecated: no more security patches"


@rule("lambda.no-secrets-in-environment", "high", "Lambda environment variables hold no secrets",
      ["lambda.Function"], equivalents=["CKV_AWS_45"],
      fails={**FN, "Environment": {"Variables": {"DB_PASSWORD": "hunter2"}}},
      passes={**FN, "Environment": {"Variables": {"ALARM_PREFIX": "genai-demo-dev-"}}})
def lambda_secrets(s: Subject) -> Iterator[str]:
    for k, v in (s.get("Environment", {}).get("Variables") or {}).items():
        if SECRETISH.search(str(k)) or AWS_KEY.search(str(v)):
            yield f"environment variable {k} looks like a secret: read it from Secrets Manager instead"


@rule("lambda.in-vpc", "low", "Lambda functions run in a VPC", ["lambda.Function"],
      equivalents=["CKV_AWS_117", "FSBP Lambda.3"],
      fails=FN, passes={**FN, "VpcConfig": {"SubnetIds": ["s-1"], "SecurityGroupIds": ["sg-1"]}})
def lambda_vpc(s: Subject) -> Iterator[str]:
    if not s.get("VpcConfig"):
        yield "no VpcConfig"


@rule("lambda.permission-scoped", "high", "Lambda permissions for a service name the source (SourceArn)",
      ["lambda.Permission"], equivalents=["CKV_AWS_301", "CKV_AWS_364", "FSBP Lambda.1", "AVD-AWS-0067"],
      fails={"FunctionName": "f", "Principal": "events.amazonaws.com"},
      passes={"FunctionName": "f", "Principal": "events.amazonaws.com", "SourceArn": "arn:aws:events:x:1:rule/r"})
def lambda_permission(s: Subject) -> Iterator[str]:
    principal = str(s.get("Principal"))
    if principal == "*":
        yield "anyone may invoke the function"
    elif principal.endswith(".amazonaws.com") and not s.get("SourceArn") and not s.get("SourceAccount"):
        yield f"{principal} may invoke it on behalf of any account or resource (no SourceArn)"


@rule("lambda.dead-letter", "low", "Asynchronously invoked functions keep the events they fail (dead-letter target)",
      ["lambda.Function"], equivalents=["CKV_AWS_116"],
      fails=FN, passes={**FN, "DeadLetterConfig": {"TargetArn": "arn:aws:sns:x:1:failed"}})
def lambda_dlq(s: Subject) -> Iterator[str]:
    if not s.get("DeadLetterConfig.TargetArn"):
        yield "no DeadLetterConfig: an event that still fails after Lambda's retries is dropped unseen"


@rule("lambda.reserved-concurrency", "low", "Lambda functions reserve (and cap) their concurrency",
      ["lambda.Function"], equivalents=["CKV_AWS_115"],
      fails=FN, passes={**FN, "ReservedConcurrentExecutions": 2})
def lambda_concurrency(s: Subject) -> Iterator[str]:
    if s.get("ReservedConcurrentExecutions") is None:
        yield "no ReservedConcurrentExecutions: a runaway function can take the account's whole concurrency"


@rule("lambda.environment-cmk", "low", "Lambda environment variables are encrypted with a customer-managed key",
      ["lambda.Function"], equivalents=["CKV_AWS_173"],
      fails={**FN, "Environment": {"Variables": {"ENVIRONMENT": "dev"}}},
      passes={**FN, "Environment": {"Variables": {"ENVIRONMENT": "dev"}}, "KMSKeyArn": "arn:aws:kms:x:1:key/k"})
def lambda_env_cmk(s: Subject) -> Iterator[str]:
    if (s.get("Environment.Variables") or {}) and not s.get("KMSKeyArn"):
        yield "environment variables without KMSKeyArn: the AWS-managed aws/lambda key encrypts them"


@rule("lambda.code-signing", "low", "Lambda functions accept only signed code", ["lambda.Function"],
      equivalents=["CKV_AWS_272"],
      fails=FN, passes={**FN, "CodeSigningConfigArn": "arn:aws:lambda:x:1:code-signing-config:csc-0123456789abcdef0"})
def lambda_code_signing(s: Subject) -> Iterator[str]:
    if not s.get("CodeSigningConfigArn"):
        yield "no CodeSigningConfigArn: Lambda runs whatever code is uploaded under the function's name"


@rule("ssm.secure-string", "low", "SSM parameters are SecureString", ["ssm.Parameter"],
      equivalents=["CKV2_AWS_34"],
      fails={"Name": "app/endpoint", "Value": "x"}, passes={"Name": "app/token", "Value": "x", "Type": "SecureString"})
def ssm_secure(s: Subject) -> Iterator[str]:
    if s.get("Type") != "SecureString":
        yield f"Type is {s.get('Type')}: the value is stored and shown in plain text"


@rule("ssm.secure-string-cmk", "low", "SecureString parameters use a customer-managed key", ["ssm.Parameter"],
      equivalents=["CKV_AWS_337"],
      fails={"Name": "app/token", "Value": "x", "Type": "SecureString"},
      passes={"Name": "app/token", "Value": "x", "Type": "SecureString", "KeyId": "arn:aws:kms:x:1:key/k"})
def ssm_cmk(s: Subject) -> Iterator[str]:
    if s.get("Type") == "SecureString" and not s.get("KeyId"):
        yield "no KeyId: the AWS-managed alias/aws/ssm key encrypts it"


ALARM = {"AlarmName": "a", "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
         "MetricName": "CPUUtilization", "Namespace": "AWS/RDS", "Period": 60, "Statistic": "Average",
         "Threshold": 80}


@rule("cloudwatch.alarm-actions", "low", "Alarms act when they fire", ["cloudwatch.MetricAlarm"],
      equivalents=["CKV_AWS_319", "FSBP CloudWatch.15", "FSBP CloudWatch.17"],
      fails=ALARM, passes={**ALARM, "AlarmActions": ["arn:aws:sns:x:1:t"]})
def alarm_actions(s: Subject) -> Iterator[str]:
    if not s.get("ActionsEnabled"):
        yield "ActionsEnabled is false"
    elif not as_list(s.get("AlarmActions")):
        yield "no AlarmActions: the alarm fires and nobody hears"


WG = {"Configuration": {"ResultConfiguration": {"OutputLocation": "s3://b/"}}}


@rule("athena.results-encrypted", "medium", "Athena workgroups encrypt query results", ["athena.WorkGroup"],
      equivalents=["CKV_AWS_159", "AVD-AWS-0006"],
      fails=WG, passes={"Configuration": {"ResultConfiguration": {
          "OutputLocation": "s3://b/", "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": "k"}}}})
def athena_encrypted(s: Subject) -> Iterator[str]:
    if not s.get("Configuration.ResultConfiguration.EncryptionConfiguration.EncryptionOption"):
        yield "query results are written unencrypted"


@rule("athena.enforce-configuration", "medium", "Athena workgroups enforce their configuration on clients",
      ["athena.WorkGroup"], equivalents=["CKV_AWS_82", "AVD-AWS-0007"],
      fails={"Configuration": {**WG["Configuration"], "EnforceWorkGroupConfiguration": False}},
      passes={"Configuration": {**WG["Configuration"], "EnforceWorkGroupConfiguration": True}})
def athena_enforce(s: Subject) -> Iterator[str]:
    if not s.get("Configuration.EnforceWorkGroupConfiguration"):
        yield "EnforceWorkGroupConfiguration is off: a client can write results elsewhere, unencrypted"


CRAWLER = {"Role": "arn:aws:iam::1:role/c", "DatabaseName": "lake", "Targets": {"S3Targets": [{"Path": "s3://b/"}]}}


@rule("glue.crawler-security-configuration", "medium", "Glue crawlers encrypt what they write",
      ["glue.Crawler"], equivalents=["CKV_AWS_195"],
      fails=CRAWLER, passes={**CRAWLER, "CrawlerSecurityConfiguration": "genai-demo-dev-crawler"})
def glue_crawler_sc(s: Subject) -> Iterator[str]:
    if not s.get("CrawlerSecurityConfiguration"):
        yield "no CrawlerSecurityConfiguration: its CloudWatch logs and S3 output use no KMS key of ours"


@rule("glue.catalog-encryption", "medium", "The Glue Data Catalog is encrypted with a KMS key", ["glue.Database"],
      equivalents=["CKV_AWS_94"], graph=True)
def glue_catalog(s: Subject) -> Iterator[str]:
    modes = [c.get("DataCatalogEncryptionSettings.EncryptionAtRest.CatalogEncryptionMode")
             for c in s.of_type("glue.DataCatalogEncryptionSettings")]
    if not any(str(m).startswith("SSE-KMS") for m in modes):
        yield "no glue.DataCatalogEncryptionSettings with SSE-KMS: table metadata is stored unencrypted"
