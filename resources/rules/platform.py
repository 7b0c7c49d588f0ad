"""Rules on the container platform, the edge and the supporting services: EKS, ELB, ECR, KMS, S3, logs, SNS,
Secrets Manager, Lambda, IAM, Firehose."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from resources.policy import Subject, as_list, rule, statements
from resources.sns import FEEDBACK_ATTRIBUTES

EKS = {"RoleArn": "arn:aws:iam::1:role/eks",
       "ResourcesVpcConfig": {"SubnetIds": ["s-1", "s-2"], "EndpointPrivateAccess": True,
                              "EndpointPublicAccess": False}}


@rule("eks.endpoint-not-public", "high", "The EKS API is not open to the whole internet", ["eks.Cluster"],
      equivalents=["CKV_AWS_38", "CKV_AWS_39", "FSBP EKS.1", "AVD-AWS-0040", "AVD-AWS-0041"],
      fails={**EKS, "ResourcesVpcConfig": {"SubnetIds": ["s-1"], "EndpointPublicAccess": True}}, passes=EKS)
def eks_public(s: Subject) -> Iterator[str]:
    vpc = s.get("ResourcesVpcConfig", {})
    if vpc.get("EndpointPublicAccess", True):
        cidrs = vpc.get("PublicAccessCidrs") or ["0.0.0.0/0"]
        if "0.0.0.0/0" in cidrs:
            yield "the public API endpoint admits 0.0.0.0/0"


@rule("eks.secrets-encrypted", "high", "EKS encrypts Kubernetes secrets with a KMS key", ["eks.Cluster"],
      equivalents=["CKV_AWS_58", "FSBP EKS.3", "AVD-AWS-0039"],
      fails=EKS, passes={**EKS, "EncryptionConfig": [{"Resources": ["secrets"], "Provider": {"KeyArn": "k"}}]})
def eks_secrets(s: Subject) -> Iterator[str]:
    if not any("secrets" in (c.get("Resources") or c.get("resources") or [])
               for c in as_list(s.get("EncryptionConfig"))):
        yield "no EncryptionConfig for secrets"


@rule("eks.control-plane-logs", "medium", "EKS sends every control-plane log type", ["eks.Cluster"],
      equivalents=["CKV_AWS_37", "FSBP EKS.8", "AVD-AWS-0038"],
      fails={**EKS, "Logging": ["api"]}, passes=EKS)
def eks_logs(s: Subject) -> Iterator[str]:
    missing = {"api", "audit", "authenticator", "controllerManager", "scheduler"} - set(as_list(s.get("Logging")))
    if missing:
        yield f"control-plane logs off: {', '.join(sorted(missing))}"


@rule("kms.rotation", "medium", "Customer-managed keys rotate", ["kms.Key"],
      equivalents=["CKV_AWS_7", "FSBP KMS.4", "AVD-AWS-0065"],
      fails={"EnableKeyRotation": False}, passes={})
def kms_rotation(s: Subject) -> Iterator[str]:
    if s.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" and not s.get("EnableKeyRotation"):
        yield "EnableKeyRotation is false"


@rule("kms.enabled", "medium", "Customer-managed keys the plan declares are enabled", ["kms.Key"],
      equivalents=["CKV_AWS_227"], fails={"Enabled": False}, passes={})
def kms_enabled(s: Subject) -> Iterator[str]:
    if s.get("Enabled", True) is False:
        yield "Enabled is false: the key is disabled (DisableKey), and whatever it encrypts cannot be read"


@rule("kms.policy-no-open-principal", "high", "Key policies grant no '*' principal without a condition",
      ["kms.Key"], equivalents=["CKV_AWS_33", "AVD-AWS-0067"],
      fails={"Policy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}},
      passes={"Policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
                                        "Action": "kms:*", "Resource": "*"}]}})
def kms_open(s: Subject) -> Iterator[str]:
    for st in statements(s.get("Policy")):
        p = st.get("Principal")
        star = p == "*" or (isinstance(p, dict) and "*" in as_list(p.get("AWS")))
        if st.get("Effect") == "Allow" and star and not st.get("Condition"):
            yield f"statement {st.get('Sid', '?')!r} allows '*' with no condition"


@rule("s3.encryption-cmk", "medium", "Buckets are encrypted with a customer-managed KMS key", ["s3.Bucket"],
      equivalents=["CKV_AWS_145", "FSBP S3.4", "AVD-AWS-0132"],
      fails={"SSEAlgorithm": "AES256"}, passes={"KMSMasterKeyID": "arn:aws:kms:x:1:key/k"})
def s3_cmk(s: Subject) -> Iterator[str]:
    if not str(s.get("SSEAlgorithm", "")).startswith("aws:kms") or not s.get("KMSMasterKeyID"):
        yield "default encryption does not use a customer-managed KMS key"


@rule("s3.versioning", "medium", "Buckets keep object versions", ["s3.Bucket"],
      equivalents=["CKV_AWS_21", "FSBP S3.14", "AVD-AWS-0090"],
      fails={"Versioning": "Suspended"}, passes={})
def s3_versioning(s: Subject) -> Iterator[str]:
    if s.get("Versioning") != "Enabled":
        yield "versioning is not enabled"


@rule("s3.public-access-block", "high", "Buckets block every kind of public access", ["s3.Bucket"],
      equivalents=["CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "FSBP S3.8",
                   "AVD-AWS-0086", "AVD-AWS-0087", "AVD-AWS-0091", "AVD-AWS-0093", "AVD-AWS-0094"],
      fails={"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                "BlockPublicPolicy": False, "RestrictPublicBuckets": True}},
      passes={})
def s3_public(s: Subject) -> Iterator[str]:
    pab = s.get("PublicAccessBlockConfiguration", {})
    off = [k for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
           if not pab.get(k)]
    if off:
        yield f"public access block off: {', '.join(off)}"


@rule("s3.tls-only", "medium", "Buckets refuse requests not made over TLS", ["s3.Bucket"],
      equivalents=["FSBP S3.5"], fails={"EnforceTLS": False}, passes={})
def s3_tls(s: Subject) -> Iterator[str]:
    if not s.get("EnforceTLS"):
        yield "no bucket policy denies aws:SecureTransport=false"


@rule("s3.access-logging", "medium", "Buckets log every request (server access logging)", ["s3.Bucket"],
      equivalents=["CKV_AWS_18", "FSBP S3.9", "AVD-AWS-0089"],
      fails={}, passes={"LoggingConfiguration": {"TargetBucket": "logs", "TargetPrefix": "s3-access/"}})
def s3_access_logging(s: Subject) -> Iterator[str]:
    if not s.get("LoggingConfiguration.TargetBucket"):
        yield "no server access logging: who read or deleted what leaves no trace"


@rule("s3.replication", "low", "Buckets replicate to another region", ["s3.Bucket"],
      equivalents=["CKV_AWS_144", "FSBP S3.7"],
      fails={}, passes={"ReplicationConfiguration": {"Role": "arn:aws:iam::1:role/r", "Rules": [
          {"ID": "all", "Status": "Enabled", "Filter": {}, "Priority": 1,
           "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::copy"}}]}})
def s3_replication(s: Subject) -> Iterator[str]:
    rules = as_list(s.get("ReplicationConfiguration.Rules"))
    if not any(r.get("Status") == "Enabled" for r in rules):
        yield "no replication: one region's loss (or one bad delete) takes the only copy"


@rule("s3.object-lock", "low", "Buckets have Object Lock on (objects cannot be deleted or overwritten early)",
      ["s3.Bucket"], equivalents=["CKV_AWS_143", "FSBP S3.15"],
      fails={}, passes={"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule": {
          "DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}}})
def s3_object_lock(s: Subject) -> Iterator[str]:
    if s.get("ObjectLockConfiguration.ObjectLockEnabled") != "Enabled":
        yield "no Object Lock: anyone allowed to delete can destroy every version"


@rule("s3.event-notifications", "low", "Buckets send their object events somewhere (event notifications)",
      ["s3.Bucket"], equivalents=["CKV2_AWS_62", "FSBP S3.11"],
      fails={}, passes={"EventBridgeEnabled": True})
def s3_event_notifications(s: Subject) -> Iterator[str]:
    if not s.get("EventBridgeEnabled"):
        yield "no event notifications: object creations and deletions reach no rule, alarm or function"


@rule("s3.mfa-delete", "low", "Deleting object versions takes more than one credential (MFA delete)",
      ["s3.Bucket"], equivalents=["AVD-AWS-0170"],
      fails={}, passes={"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule": {
          "DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}}}})
def s3_mfa_delete(s: Subject) -> Iterator[str]:
    """MFA delete is no plan property: only the root user, with its MFA device, can turn it on (PutBucketVersioning
    with the x-amz-mfa header; S3 user guide, MultiFactorAuthenticationDelete), and then every version delete and
    versioning change needs that device, the tool's included. What a role can set to the same end is Object Lock
    in COMPLIANCE mode: within the retention no credential deletes a version or suspends versioning."""
    retention = s.get("ObjectLockConfiguration.Rule.DefaultRetention") or {}
    if s.get("ObjectLockConfiguration.ObjectLockEnabled") != "Enabled" or retention.get("Mode") != "COMPLIANCE":
        yield ("no MFA delete (which only the root user can turn on) and no COMPLIANCE Object Lock: one stolen "
               "credential can delete every version")


@rule("logs.encrypted", "medium", "Log groups are encrypted with a KMS key", ["logs.LogGroup"],
      equivalents=["CKV_AWS_158", "AVD-AWS-0017"],
      fails={"logGroupName": "/x"}, passes={"logGroupName": "/x", "kmsKeyId": "arn:aws:kms:x:1:key/k"})
def logs_kms(s: Subject) -> Iterator[str]:
    if not s.get("kmsKeyId") and not s.get("AdoptServiceCreated"):
        yield "no kmsKeyId"


@rule("logs.retention", "low", "Log groups keep logs for at least a year", ["logs.LogGroup"],
      equivalents=["CKV_AWS_338", "FSBP CloudWatch.16"],
      fails={"logGroupName": "/x", "retentionInDays": 30}, passes={"logGroupName": "/x", "retentionInDays": 365})
def logs_retention(s: Subject) -> Iterator[str]:
    days = s.get("retentionInDays")
    if isinstance(days, int) and days < 365:
        yield f"retentionInDays is {days}"


@rule("sns.encrypted", "medium", "SNS topics are encrypted with a KMS key", ["sns.Topic"],
      equivalents=["CKV_AWS_26", "FSBP SNS.1", "AVD-AWS-0095"],
      fails={}, passes={"KmsMasterKeyId": "alias/k"})
def sns_kms(s: Subject) -> Iterator[str]:
    if not s.get("KmsMasterKeyId"):
        yield "no KmsMasterKeyId"


@rule("sns.delivery-status-logging", "low", "SNS topics log the delivery status of their messages", ["sns.Topic"],
      equivalents=["FSBP SNS.2"],
      fails={}, passes={"HTTPFailureFeedbackRoleArn": "arn:aws:iam::1:role/sns-feedback"})
def sns_delivery_status(s: Subject) -> Iterator[str]:
    if not any(s.get(a) for a in FEEDBACK_ATTRIBUTES if a.endswith("RoleArn")):
        yield "no delivery status logging: a message SNS could not deliver leaves no trace"


@rule("secretsmanager.cmk", "medium", "Secrets are encrypted with a customer-managed key",
      ["secretsmanager.Secret"], equivalents=["CKV_AWS_149", "AVD-AWS-0098"],
      fails={"Name": "a/b"}, passes={"Name": "a/b", "KmsKeyId": "arn:aws:kms:x:1:key/k"})
def secret_cmk(s: Subject) -> Iterator[str]:
    if not s.get("KmsKeyId"):
        yield "no KmsKeyId: the AWS-managed aws/secretsmanager key encrypts it"


@rule("secretsmanager.rotation", "medium", "Secrets rotate automatically, at least every 90 days",
      ["secretsmanager.Secret"], equivalents=["CKV2_AWS_57", "FSBP SecretsManager.1", "CKV_AWS_304",
                                              "FSBP SecretsManager.4"], graph=True)
def secret_rotation(s: Subject) -> Iterator[str]:
    schedules = list(s.referrers("secretsmanager.RotationSchedule"))
    if not schedules:
        yield "no secretsmanager.RotationSchedule: the value never changes, whoever has read it keeps it"
    for r in schedules:
        days = r.get("RotationRules.AutomaticallyAfterDays")
        if isinstance(days, int) and days > 90:
            yield f"{r.address} rotates every {days} days (more than 90)"


@rule("elbv2.listener-https", "high", "Load balancer listeners use HTTPS, or only redirect to it",
      ["elbv2.Listener"], equivalents=["CKV_AWS_2", "CKV_AWS_103", "FSBP ELB.1", "AVD-AWS-0054"],
      fails={"LoadBalancerArn": "arn:lb", "Protocol": "HTTP", "Port": 80,
             "DefaultActions": [{"Type": "forward", "TargetGroupArn": "arn:tg"}]},
      passes={"LoadBalancerArn": "arn:lb", "Protocol": "HTTP", "Port": 80,
              "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                                                                         "StatusCode": "HTTP_301"}}]})
def listener_https(s: Subject) -> Iterator[str]:
    if s.get("Protocol") == "HTTP":
        redirects = all(a.get("Type") == "redirect" and a.get("RedirectConfig", {}).get("Protocol") == "HTTPS"
                        for a in as_list(s.get("DefaultActions")))
        if not redirects:
            yield "plain HTTP listener that does not redirect to HTTPS"
    elif s.get("Protocol") == "HTTPS" and "TLS13" not in str(s.get("SslPolicy", "")) \
            and "TLS-1-2" not in str(s.get("SslPolicy", "")):
        yield f"SslPolicy {s.get('SslPolicy')!r} allows TLS below 1.2"


@rule("elbv2.drop-invalid-headers", "medium", "ALBs drop invalid HTTP headers", ["elbv2.LoadBalancer"],
      equivalents=["CKV_AWS_131", "FSBP ELB.4", "AVD-AWS-0052"],
      fails={"Subnets": ["s-1", "s-2"]},
      passes={"Subnets": ["s-1", "s-2"], "Attributes": {"routing.http.drop_invalid_header_fields.enabled": "true"}})
def alb_headers(s: Subject) -> Iterator[str]:
    if s.get("Type", "application") == "application" and \
            str(s.get("Attributes", {}).get("routing.http.drop_invalid_header_fields.enabled")) != "true":
        yield "routing.http.drop_invalid_header_fields.enabled is not true"


@rule("elbv2.access-logs", "medium", "Load balancers write access logs", ["elbv2.LoadBalancer"],
      equivalents=["CKV_AWS_91", "FSBP ELB.5"],
      fails={"Subnets": ["s-1", "s-2"]},
      passes={"Subnets": ["s-1", "s-2"], "Attributes": {"access_logs.s3.enabled": "true"}})
def alb_logs(s: Subject) -> Iterator[str]:
    if str(s.get("Attributes", {}).get("access_logs.s3.enabled")) != "true":
        yield "access_logs.s3.enabled is not true"


@rule("ecr.scan-and-immutable", "medium", "ECR repositories scan on push and keep tags immutable",
      ["ecr.Repository"], equivalents=["CKV_AWS_163", "CKV_AWS_51", "FSBP ECR.1", "FSBP ECR.2",
                                       "AVD-AWS-0030", "AVD-AWS-0031"],
      fails={"ImageTagMutability": "MUTABLE"}, passes={})
def ecr_scan(s: Subject) -> Iterator[str]:
    if not s.get("ScanOnPush"):
        yield "ScanOnPush is off"
    if s.get("ImageTagMutability") != "IMMUTABLE":
        yield "tags are mutable"


@rule("ecr.cmk", "low", "ECR repositories are encrypted with a KMS key", ["ecr.Repository"],
      equivalents=["CKV_AWS_136", "AVD-AWS-0033"],
      fails={}, passes={"EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": "arn:aws:kms:x"}})
def ecr_kms(s: Subject) -> Iterator[str]:
    if s.get("EncryptionConfiguration", {}).get("EncryptionType") != "KMS":
        yield "EncryptionType is not KMS"


@rule("lambda.tracing", "low", "Lambda functions trace with X-Ray", ["lambda.Function"],
      equivalents=["CKV_AWS_50", "AVD-AWS-0066"],
      fails={"Handler": "handler.handler", "Role": "arn:r", "SourceDir": "plans/genai_demo/functions/custom_metrics"},
      passes={"Handler": "handler.handler", "Role": "arn:r", "SourceDir": "plans/genai_demo/functions/custom_metrics",
              "TracingConfig": {"Mode": "Active"}})
def lambda_tracing(s: Subject) -> Iterator[str]:
    if s.get("TracingConfig", {}).get("Mode") != "Active":
        yield "TracingConfig.Mode is not Active"


@rule("firehose.encrypted", "medium", "Firehose streams encrypt with a KMS key", ["firehose.DeliveryStream"],
      equivalents=["CKV_AWS_240", "CKV_AWS_241", "FSBP DataFirehose.1"],
      fails={"ExtendedS3DestinationConfiguration": {"RoleARN": "arn:aws:iam::1:role/f",
                                                    "BucketARN": "arn:aws:s3:::b"}},
      passes={"ExtendedS3DestinationConfiguration": {"RoleARN": "arn:aws:iam::1:role/f",
                                                     "BucketARN": "arn:aws:s3:::b"},
              "DeliveryStreamEncryptionConfigurationInput": {"KeyType": "CUSTOMER_MANAGED_CMK",
                                                             "KeyARN": "arn:aws:kms:x"}})
def firehose_kms(s: Subject) -> Iterator[str]:
    if s.get("DeliveryStreamType") == "MSKAsSource":
        return  # AWS refuses server-side encryption for an MSK source; the topic's data is MSK's
    if not s.get("DeliveryStreamEncryptionConfigurationInput"):
        yield "no DeliveryStreamEncryptionConfigurationInput"


@rule("iam.no-admin-policy", "critical", "No IAM policy allows every action on every resource", ["iam.Role"],
      equivalents=["CKV_AWS_62", "CKV_AWS_63", "FSBP IAM.1", "AVD-AWS-0057"],
      fails={"AssumeRolePolicyDocument": {"Statement": []},
             "InlinePolicies": {"all": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}},
      passes={"AssumeRolePolicyDocument": {"Statement": []},
              "InlinePolicies": {"s3": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                       "Resource": "arn:aws:s3:::b/*"}]}}})
def iam_admin(s: Subject) -> Iterator[str]:
    for name, doc in (s.get("InlinePolicies") or {}).items():
        for st in statements(doc):
            actions = as_list(st.get("Action"))
            if st.get("Effect") == "Allow" and ("*" in actions or "*:*" in actions) and \
                    "*" in as_list(st.get("Resource")):
                yield f"inline policy {name!r} allows every action on every resource"
    if "arn:aws:iam::aws:policy/AdministratorAccess" in as_list(s.get("ManagedPolicyArns")):
        yield "AdministratorAccess is attached"


@rule("iam.service-trust-source-account", "medium",
      "Roles that AWS services assume name the account they act for (confused deputy)", ["iam.Role"],
      equivalents=["AWS IAM confused-deputy guidance"],
      fails={"AssumeRolePolicyDocument": {"Statement": [
          {"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole"}]}},
      passes={"AssumeRolePolicyDocument": {"Statement": [
          {"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole",
           "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]}})
def iam_confused_deputy(s: Subject) -> Iterator[str]:
    # Services whose trust AWS documents with aws:SourceAccount/SourceArn (EC2, EKS and Lambda execution
    # roles are exempt: those services do not send the keys for role assumption).
    exempt = {"ec2.amazonaws.com", "eks.amazonaws.com", "lambda.amazonaws.com", "eks-fargate-pods.amazonaws.com"}
    for st in statements(s.get("AssumeRolePolicyDocument")):
        services = set(as_list((st.get("Principal") or {}).get("Service") if isinstance(st.get("Principal"), dict)
                               else None)) - exempt
        cond = str(st.get("Condition", {}))
        if services and st.get("Effect") == "Allow" and not any(
                k in cond for k in ("aws:SourceAccount", "aws:SourceArn", "sts:ExternalId")):
            yield f"trusts {', '.join(sorted(services))} without aws:SourceAccount, aws:SourceArn or sts:ExternalId"


SUPPORTED_EKS = ("1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35")  # checkov CKV_AWS_339's list


@rule("eks.supported-version", "medium", "EKS runs a Kubernetes version AWS still supports", ["eks.Cluster"],
      equivalents=["CKV_AWS_339", "FSBP EKS.2"], fails={**EKS, "Version": "1.28"}, passes={**EKS, "Version": "1.33"})
def eks_version(s: Subject) -> Iterator[str]:
    if str(s.get("Version")) not in SUPPORTED_EKS:
        yield f"Kubernetes {s.get('Version')} is out of AWS standard support"


@rule("kms.policy-defined", "low", "Customer-managed keys carry an explicit key policy", ["kms.Key"],
      equivalents=["CKV2_AWS_64"],
      fails={}, passes={"Policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
                                                  "Action": "kms:*", "Resource": "*"}]}})
def kms_policy_defined(s: Subject) -> Iterator[str]:
    if not s.get("Policy"):
        yield "no Policy: AWS's default key policy gives the whole account kms:*"


@rule("iam.no-kms-decrypt-on-all-keys", "medium", "IAM policies do not allow kms:Decrypt on every key",
      ["iam.Role"], equivalents=["FSBP KMS.1", "FSBP KMS.2"],
      fails={"AssumeRolePolicyDocument": {"Statement": []},
             "InlinePolicies": {"k": {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}}},
      passes={"AssumeRolePolicyDocument": {"Statement": []},
              "InlinePolicies": {"k": {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt",
                                                      "Resource": "arn:aws:kms:x:1:key/k"}]}}})
def iam_kms_decrypt(s: Subject) -> Iterator[str]:
    for name, doc in (s.get("InlinePolicies") or {}).items():
        for st in statements(doc):
            acts = set(as_list(st.get("Action")))
            if st.get("Effect") == "Allow" and acts & {"kms:Decrypt", "kms:ReEncryptFrom", "kms:*", "*"} \
                    and "*" in as_list(st.get("Resource")):
                yield f"inline policy {name!r} allows kms:Decrypt on every key"


@rule("s3.acls-disabled", "medium", "Buckets disable ACLs (the owner owns every object)", ["s3.Bucket"],
      equivalents=["CKV2_AWS_65", "FSBP S3.12", "CKV_AWS_20", "CKV_AWS_57", "AVD-AWS-0092"],
      fails={"ObjectOwnership": "ObjectWriter"}, passes={})
def s3_acls(s: Subject) -> Iterator[str]:
    if s.get("ObjectOwnership") != "BucketOwnerEnforced":
        yield f"ObjectOwnership is {s.get('ObjectOwnership')}: ACLs still grant access"


@rule("s3.lifecycle", "low", "Buckets have lifecycle rules that abort incomplete uploads", ["s3.Bucket"],
      equivalents=["CKV2_AWS_61", "CKV_AWS_300", "FSBP S3.10", "FSBP S3.13"],
      fails={}, passes={"LifecycleRules": [{"ID": "abort", "Status": "Enabled", "Filter": {},
                                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]})
def s3_lifecycle(s: Subject) -> Iterator[str]:
    rules = as_list(s.get("LifecycleRules"))
    if not rules:
        yield "no lifecycle rules"
    elif not any(r.get("AbortIncompleteMultipartUpload") for r in rules if r.get("Status") == "Enabled"):
        yield "no lifecycle rule aborts incomplete multipart uploads"


@rule("ecr.not-public", "critical", "ECR repository policies admit no '*' principal", ["ecr.Repository"],
      equivalents=["CKV_AWS_32", "AVD-AWS-0032"],
      fails={"RepositoryPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:*"}]}},
      passes={"RepositoryPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/n"},
                                                  "Action": "ecr:BatchGetImage"}]}})
def ecr_public(s: Subject) -> Iterator[str]:
    for st in statements(s.get("RepositoryPolicy")):
        p = st.get("Principal")
        if st.get("Effect") == "Allow" and (p == "*" or (isinstance(p, dict) and "*" in as_list(p.get("AWS")))):
            yield "the repository policy lets anyone in"


@rule("ecr.lifecycle", "low", "ECR repositories expire old images", ["ecr.Repository"],
      equivalents=["FSBP ECR.3"], fails={}, passes={"LifecyclePolicy": {"rules": [{"rulePriority": 1}]}})
def ecr_lifecycle(s: Subject) -> Iterator[str]:
    if not s.get("LifecyclePolicy"):
        yield "no LifecyclePolicy"


@rule("logs.retention-set", "low", "Log groups have a retention period", ["logs.LogGroup"],
      equivalents=["CKV_AWS_66"], fails={"logGroupName": "/x"}, passes={"logGroupName": "/x", "retentionInDays": 365})
def logs_retention_set(s: Subject) -> Iterator[str]:
    if not s.get("retentionInDays") and not s.get("AdoptServiceCreated"):
        yield "no retentionInDays: logs are kept (and billed) forever"


@rule("elbv2.deletion-protection", "low", "Load balancers have deletion protection", ["elbv2.LoadBalancer"],
      equivalents=["CKV_AWS_150", "FSBP ELB.6"],
      fails={"Subnets": ["s-1", "s-2"]},
      passes={"Subnets": ["s-1", "s-2"], "Attributes": {"deletion_protection.enabled": "true"}})
def alb_deletion(s: Subject) -> Iterator[str]:
    if str(s.get("Attributes", {}).get("deletion_protection.enabled")) != "true":
        yield "deletion_protection.enabled is not true"


@rule("elbv2.desync-mitigation", "medium", "ALBs mitigate HTTP desync (defensive or strictest)",
      ["elbv2.LoadBalancer"], equivalents=["CKV_AWS_328", "FSBP ELB.12"],
      fails={"Subnets": ["s-1", "s-2"], "Attributes": {"routing.http.desync_mitigation_mode": "monitor"}},
      passes={"Subnets": ["s-1", "s-2"]})
def alb_desync(s: Subject) -> Iterator[str]:
    mode = s.get("Attributes", {}).get("routing.http.desync_mitigation_mode", "defensive")
    if s.get("Type", "application") == "application" and mode not in ("defensive", "strictest"):
        yield f"routing.http.desync_mitigation_mode is {mode}"


@rule("elbv2.multi-az", "medium", "Load balancers span at least two AZs", ["elbv2.LoadBalancer"],
      equivalents=["FSBP ELB.13"], fails={"Subnets": ["s-1"], "Type": "network"},
      passes={"Subnets": ["s-1", "s-2"], "Type": "network"})
def alb_multi_az(s: Subject) -> Iterator[str]:
    if len(as_list(s.get("Subnets"))) < 2:
        yield "one subnet: one AZ failure takes the entry point down"


@rule("elbv2.internal", "low", "Load balancers are internal unless they are the public entry point",
      ["elbv2.LoadBalancer"], equivalents=["AVD-AWS-0053"],
      fails={"Subnets": ["s-1", "s-2"]}, passes={"Subnets": ["s-1", "s-2"], "Scheme": "internal"})
def alb_internal(s: Subject) -> Iterator[str]:
    if s.get("Scheme") == "internet-facing":
        yield "internet-facing"


@rule("elbv2.target-group-https", "medium", "Target groups talk HTTPS to their targets", ["elbv2.TargetGroup"],
      equivalents=["CKV_AWS_378"],
      fails={"Port": 8080, "VpcId": "vpc-1", "Protocol": "HTTP"},
      passes={"Port": 8443, "VpcId": "vpc-1", "Protocol": "HTTPS", "HealthCheckProtocol": "HTTPS"})
def tg_https(s: Subject) -> Iterator[str]:
    # checkov flags protocol HTTP whatever the listener: TLS that ends at the ALB leaves the hop to the targets
    # in plain text. TCP/TLS/UDP (network load balancers) are not its concern.
    if s.get("Protocol") == "HTTP":
        yield "Protocol is HTTP: the load balancer forwards requests to the targets unencrypted"


@rule("elbv2.waf", "high", "Internet-facing ALBs are protected by a WAF web ACL", ["elbv2.LoadBalancer"],
      equivalents=["CKV2_AWS_28"], graph=True)
def alb_waf(s: Subject) -> Iterator[str]:
    if s.get("Scheme") == "internet-facing" and s.get("Type", "application") == "application" and \
            not list(s.referrers("wafv2.WebACLAssociation")):
        yield "no wafv2.WebACLAssociation names this load balancer"


@rule("sns.policy-not-public", "high", "SNS topic policies let no one in without a condition",
      ["sns.TopicPolicy"], equivalents=["CKV_AWS_169", "CKV_AWS_385"],
      fails={"TopicArn": "arn:t", "PolicyDocument": {"Statement": [
          {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}]}},
      passes={"TopicArn": "arn:t", "PolicyDocument": {"Statement": [
          {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
           "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]}})
def sns_public(s: Subject) -> Iterator[str]:
    for st in statements(s.get("PolicyDocument")):
        p = st.get("Principal")
        if st.get("Effect") == "Allow" and not st.get("Condition") and \
                (p == "*" or (isinstance(p, dict) and "*" in as_list(p.get("AWS")))):
            yield f"statement {st.get('Sid', '?')!r} lets anyone {st.get('Action')}"


@rule("sns.policy-source-account", "medium", "SNS topic policies pin the account that may publish",
      ["sns.TopicPolicy"], equivalents=["AWS SNS confused-deputy guidance"],
      fails={"TopicArn": "arn:t", "PolicyDocument": {"Statement": [
          {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
           "Resource": "*", "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:x:*:alarm:a-*"}}}]}},
      passes={"TopicArn": "arn:t", "PolicyDocument": {"Statement": [
          {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
           "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]}})
def sns_source_account(s: Subject) -> Iterator[str]:
    for st in statements(s.get("PolicyDocument")):
        p = st.get("Principal")
        if st.get("Effect") == "Allow" and isinstance(p, dict) and p.get("Service") and \
                "aws:SourceAccount" not in str(st.get("Condition", {})):
            yield (f"statement {st.get('Sid', '?')!r} lets {p.get('Service')} publish for any account "
                   "(no aws:SourceAccount)")


WRITE_OR_PERMISSIONS = ("Create", "Delete", "Put", "Update", "Attach", "Detach", "Modify", "Tag", "Untag",
                        "Set", "Add", "Remove", "Pass")
# Write actions IAM cannot scope to a resource: the Service Authorization Reference lists no resource type
# for them, so "*" is the only Resource they take (checkov's CKV_AWS_355 flags restrictable actions only;
# AWS's own AWSXRayDaemonWriteAccess grants these on "*").
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
UNRESTRICTABLE = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})


@rule("iam.no-write-on-all-resources", "medium",
      "IAM policies grant no write or permissions-management action on '*' without a condition", ["iam.Role"],
      equivalents=["CKV_AWS_289", "CKV_AWS_290", "CKV_AWS_355", "AVD-AWS-0342"],
      fails={"AssumeRolePolicyDocument": {"Statement": []},
             "InlinePolicies": {"eni": {"Statement": [{"Effect": "Allow", "Action": "ec2:CreateNetworkInterface",
                                                       "Resource": "*"}]}}},
      passes={"AssumeRolePolicyDocument": {"Statement": []},
              "InlinePolicies": {"eni": {"Statement": [{"Effect": "Allow", "Action": "ec2:CreateNetworkInterface",
                                                        "Resource": "*",
                                                        "Condition": {"StringEquals": {"ec2:Vpc": "arn:v"}}}]}}})
def iam_write_star(s: Subject) -> Iterator[str]:
    for name, doc in (s.get("InlinePolicies") or {}).items():
        for st in statements(doc):
            if st.get("Effect") != "Allow" or "*" not in as_list(st.get("Resource")) or st.get("Condition"):
                continue
            acts = [a for a in as_list(st.get("Action")) if isinstance(a, str) and ":" in a
                    and a.split(":", 1)[1].startswith(WRITE_OR_PERMISSIONS) and a not in UNRESTRICTABLE]
            if acts:
                yield f"inline policy {name!r} allows {', '.join(acts)} on every resource, unconditioned"


# cloudsplaining (salesforce/cloudsplaining cloudsplaining/shared/constants.py), the library checkov's
# CKV_AWS_286/287/288 call: an action counts when a statement allows it on Resource "*" (cloudsplaining's
# "without resource constraints"; it does not weigh conditions). Its privilege-escalation table is Rhino
# Security Labs' original set: every action of a method must be allowed on "*".
ESCALATIONS: dict[str, tuple[str, ...]] = {
    "CreateAccessKey": ("iam:createaccesskey",), "CreateLoginProfile": ("iam:createloginprofile",),
    "UpdateLoginProfile": ("iam:updateloginprofile",), "AddUserToGroup": ("iam:addusertogroup",),
    "CreateNewPolicyVersion": ("iam:createpolicyversion",),
    "SetExistingDefaultPolicyVersion": ("iam:setdefaultpolicyversion",),
    "AttachUserPolicy": ("iam:attachuserpolicy",), "AttachGroupPolicy": ("iam:attachgrouppolicy",),
    "AttachRolePolicy": ("iam:attachrolepolicy",), "PutUserPolicy": ("iam:putuserpolicy",),
    "PutGroupPolicy": ("iam:putgrouppolicy",), "PutRolePolicy": ("iam:putrolepolicy",),
    "UpdateRolePolicyToAssumeIt": ("iam:updateassumerolepolicy",),
    "CreateEC2WithExistingIP": ("iam:passrole", "ec2:runinstances"),
    "PassExistingRoleToNewLambdaThenInvoke": ("iam:passrole", "lambda:createfunction", "lambda:invokefunction"),
    "PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo": ("iam:passrole", "lambda:createfunction",
                                                                 "lambda:createeventsourcemapping"),
    "PassExistingRoleToNewGlueDevEndpoint": ("iam:passrole", "glue:createdevendpoint"),
    "PassExistingRoleToCloudFormation": ("iam:passrole", "cloudformation:createstack"),
    "PassExistingRoleToNewDataPipeline": ("iam:passrole", "datapipeline:createpipeline"),
    "UpdateExistingGlueDevEndpoint": ("glue:updatedevendpoint",),
    "EditExistingLambdaFunctionWithRole": ("lambda:updatefunctioncode",),
}
# cloudsplaining ACTIONS_THAT_RETURN_CREDENTIALS (kmcquade's list of API calls that answer with credentials).
CREDENTIAL_ACTIONS = frozenset({
    "airflow:createclitoken", "airflow:createweblogintoken", "appsync:createapikey", "chime:createapikey",
    "cloud9:createenvironmenttoken", "codeartifact:getauthorizationtoken", "codepipeline:pollforjobs",
    "cognito-identity:getopenidtoken", "cognito-identity:getopenidtokenfordeveloperidentity",
    "cognito-identity:getcredentialsforidentity", "cognito-idp:getsigningcertificate", "connect:getfederationtoken",
    "connect:getfederationtokens", "ec2:getpassworddata", "ecr:getauthorizationtoken",
    "ecr-public:getauthorizationtoken", "emr-containers:getmanagedendpointsessioncredentials",
    "finspace-api:getprogrammaticaccesscredentials", "gamelift:requestuploadcredentials",
    "gamelift:getinstanceaccess", "grafana:createworkspaceapikey", "iam:createaccesskey", "iam:createloginprofile",
    "iam:createservicespecificcredential", "iam:resetservicespecificcredential", "iam:updateaccesskey",
    "license-manager:getaccesstoken", "lightsail:getinstanceaccessdetails", "lightsail:downloaddefaultkeypair",
    "lightsail:createbucketaccesskey", "lightsail:getrelationaldatabasemasteruserpassword",
    "mediapackage:rotatechannelcredentials", "mediapackage:rotateingestendpointcredentials", "rds-db:connect",
    "redshift:getclustercredentials", "redshift:getclustercredentialswithiam", "redshift-serverless:getcredentials",
    "sso:getrolecredentials", "sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity",
    "sts:getfederationtoken", "sts:getsessiontoken",
})
# cloudsplaining READ_ONLY_DATA_EXFILTRATION_ACTIONS: reads that hand out stored data or secrets.
EXFILTRATION_ACTIONS = frozenset({"s3:getobject", "ssm:getparameter", "ssm:getparameters",
                                  "ssm:getparametersbypath", "secretsmanager:getsecretvalue"})


def _on_everything(s: Subject) -> dict[str, set[str]]:
    """Inline policy name -> the actions it allows on Resource "*", as written (patterns kept)."""
    out: dict[str, set[str]] = {}
    policies: Mapping[str, Any] = s.get("InlinePolicies") or {}
    for name, doc in policies.items():
        for st in statements(doc):
            if st.get("Effect") == "Allow" and "*" in as_list(st.get("Resource")):
                out.setdefault(name, set()).update(str(a).lower() for a in as_list(st.get("Action")))
    return out


def _granted(patterns: set[str], actions: frozenset[str] | tuple[str, ...]) -> list[str]:
    """The listed actions that the statements' action patterns (iam:*, s3:Get*...) grant."""
    return sorted(a for a in actions if any(fnmatch.fnmatchcase(a, p) for p in patterns))


def _iam_role(actions: list[str], resource: str = "*") -> dict[str, Any]:
    return {"AssumeRolePolicyDocument": {"Statement": []}, "InlinePolicies": {"p": {
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}}}


@rule("iam.no-privilege-escalation", "high", "IAM policies allow no privilege-escalation path on '*'",
      ["iam.Role"], equivalents=["CKV_AWS_286", "cloudsplaining PrivilegeEscalation"],
      fails=_iam_role(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]),
      passes=_iam_role(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
                       "arn:aws:iam::123456789012:role/app-*"))
def iam_escalation(s: Subject) -> Iterator[str]:
    for name, patterns in _on_everything(s).items():
        for method, actions in ESCALATIONS.items():
            if len(_granted(patterns, actions)) == len(actions):
                yield f"inline policy {name!r} allows {', '.join(actions)} on every resource ({method})"


@rule("iam.no-credentials-exposure", "high", "IAM policies allow no credential-returning action on '*'",
      ["iam.Role"], equivalents=["CKV_AWS_287", "cloudsplaining CredentialsExposure"],
      fails=_iam_role(["sts:AssumeRole"]), passes=_iam_role(["sts:AssumeRole"], "arn:aws:iam::123456789012:role/x"))
def iam_credentials(s: Subject) -> Iterator[str]:
    for name, patterns in _on_everything(s).items():
        hit = _granted(patterns, CREDENTIAL_ACTIONS)
        if hit:
            yield f"inline policy {name!r} allows {', '.join(hit)} on every resource: its answers carry credentials"


@rule("iam.no-data-exfiltration", "medium", "IAM policies allow no bulk data or secret read on '*'",
      ["iam.Role"], equivalents=["CKV_AWS_288", "cloudsplaining DataExfiltration"],
      fails=_iam_role(["s3:Get*"]), passes=_iam_role(["s3:GetObject"], "arn:aws:s3:::bucket/*"))
def iam_exfiltration(s: Subject) -> Iterator[str]:
    for name, patterns in _on_everything(s).items():
        hit = _granted(patterns, EXFILTRATION_ACTIONS)
        if hit:
            yield f"inline policy {name!r} allows {', '.join(hit)} on every resource: every object or secret"


@rule("iam.trust-no-wildcard-principal", "critical", "Role trusts name their principals (no '*')", ["iam.Role"],
      equivalents=["CKV_AWS_60", "CKV_AWS_61"],
      fails={"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                         "Action": "sts:AssumeRole"}]}},
      passes={"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
                                                          "Principal": {"Service": "ec2.amazonaws.com"},
                                                          "Action": "sts:AssumeRole"}]}})
def iam_trust_star(s: Subject) -> Iterator[str]:
    for st in statements(s.get("AssumeRolePolicyDocument")):
        p = st.get("Principal")
        if st.get("Effect") == "Allow" and (p == "*" or (isinstance(p, dict) and "*" in as_list(p.get("AWS")))):
            yield "any AWS principal may assume this role"
