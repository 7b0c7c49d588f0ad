"""Rules on the container platform, the edge and the supporting services: EKS, ELB, ECR, KMS, S3, logs, SNS,
Secrets Manager, Lambda, IAM, Firehose."""

from __future__ import annotations

from collections.abc import Iterator

from resources.policy import Subject, as_list, rule, statements

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


@rule("secretsmanager.cmk", "medium", "Secrets are encrypted with a customer-managed key",
      ["secretsmanager.Secret"], equivalents=["CKV_AWS_149", "AVD-AWS-0098"],
      fails={"Name": "a/b"}, passes={"Name": "a/b", "KmsKeyId": "arn:aws:kms:x:1:key/k"})
def secret_cmk(s: Subject) -> Iterator[str]:
    if not s.get("KmsKeyId"):
        yield "no KmsKeyId: the AWS-managed aws/secretsmanager key encrypts it"


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
      equivalents=["CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_286", "FSBP IAM.1", "AVD-AWS-0057"],
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
        if services and st.get("Effect") == "Allow" and "aws:SourceAccount" not in cond \
                and "aws:SourceArn" not in cond:
            yield f"trusts {', '.join(sorted(services))} without aws:SourceAccount or aws:SourceArn"
