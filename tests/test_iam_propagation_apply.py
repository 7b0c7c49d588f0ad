"""The tool against sandbox rule iam-propagation: an apply that creates a role and, moments later, a
delivery stream Firehose must assume it for is refused by Firehose until IAM has propagated; the type's
retry catalogue (resources/firehose.py, as terraform-provider-aws retries it) carries the create over,
the run's report says so, and the stream exists once. Without the catalogue the same apply fails."""

from __future__ import annotations

import pytest

from orchestrator.apply import RetryPolicy
from orchestrator.model import Plan
from orchestrator.runs import Options, Workspace, run_changes
from resources.firehose import DeliveryStream
from resources.iam import Role
from tests.fakes import install_plan

WINDOW = 3.0  # real seconds: wider than the default (2 s) so a loaded machine still meets the window
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "firehose.amazonaws.com"}}]}
WRITE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"],
                                                "Resource": "arn:aws:s3:::genai-demo-test-lake/*"}]}


def _plan(env: str) -> Plan:
    plan = Plan(project="genai-demo", env=env, region="ap-east-2", tags={"ManagedBy": "genai-infra"})
    s = plan.stack("main")
    role = s.add(Role("delivery_role", AssumeRolePolicyDocument=TRUST, InlinePolicies={"write": WRITE}))
    s.add(DeliveryStream("events", ExtendedS3DestinationConfiguration={
        "RoleARN": role["Arn"], "BucketARN": "arn:aws:s3:::genai-demo-test-lake", "Prefix": "events/",
        "ErrorOutputPrefix": "errors/", "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
        "CompressionFormat": "GZIP"}))
    return plan


def _apply(aws):
    aws.rules.configure("iam-propagation", seconds=WINDOW)
    name = install_plan("iam_propagation_apply", _plan)
    ws = Workspace(Options(env="test", plan_name=name, stacks=["main"], retry=RetryPolicy(initial=0.01)),
                   clients=aws.clients)
    _, report = run_changes(ws, "apply")
    return report


def test_apply_retries_firehose_until_its_new_role_propagated(aws):
    report = _apply(aws)
    assert report.ok, report.summary()
    assert report.summary()["created"] == ["main.delivery_role", "main.events"]
    retried = [r for r in report.retry_log if r.address == "main.events"]
    assert [(r.phase, r.code) for r in retried] == [("create", "InvalidArgumentException")]
    assert retried[0].attempts >= 1
    assert report.retries.get("eventual", 0) >= retried[0].attempts
    assert aws.rules.trips()["iam-propagation"] >= retried[0].attempts
    # Independent boto3: one stream, with the role the apply created.
    fh = aws.client("firehose")
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == ["genai-demo-test-events"]
    dest = fh.describe_delivery_stream(DeliveryStreamName="genai-demo-test-events")[
        "DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert dest["RoleARN"] == aws.client("iam").get_role(RoleName="genai-demo-test-delivery-role")["Role"]["Arn"]


def test_without_the_catalogue_the_same_apply_fails_at_the_stream(aws, monkeypatch):
    monkeypatch.setattr(DeliveryStream, "retries", ())
    report = _apply(aws)
    assert not report.ok
    assert report.summary()["failed"] == ["main.events"]
    assert aws.client("firehose").list_delivery_streams()["DeliveryStreamNames"] == []


def test_a_plainly_invalid_request_with_the_same_code_stays_fatal(aws):
    """InvalidArgumentException is also Firehose's "your request is wrong": no retry for another message."""
    role = "arn:aws:iam::123456789012:role/x"
    fh = DeliveryStream("events", ExtendedS3DestinationConfiguration={"RoleARN": role, "BucketARN": "arn:aws:s3:::b"})
    # What validate() refuses at plan time (server-side encryption of an MSK-sourced stream), sent on purpose.
    props = dict(fh.properties, DeliveryStreamType="MSKAsSource", MSKSourceConfiguration={
        "MSKClusterARN": "arn:aws:kafka:ap-east-2:123456789012:cluster/c/abcd", "TopicName": "t",
        "AuthenticationConfiguration": {"RoleARN": role, "Connectivity": "PRIVATE"}},
        DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"})
    fh.stack = "main"
    ctx = aws.ctx("events")
    policy = RetryPolicy(initial=0.01)
    with pytest.raises(Exception) as err:
        policy.create(lambda: fh.create(ctx, props), catalogue=DeliveryStream.retries,
                      address="main.events")
    assert err.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert "Server-side encryption is not supported" in err.value.response["Error"]["Message"]
    assert policy.records() == [] and policy.counts == {}


@pytest.mark.parametrize(("module", "cls", "code", "message"), [
    ("resources.lambda_", "Function", "InvalidParameterValueException",
     "The role defined for the function cannot be assumed by Lambda."),
    ("resources.lambda_", "Function", "InvalidParameterValueException",
     "The provided execution role does not have permissions to call CreateNetworkInterface on EC2"),
    ("resources.glue", "Crawler", "InvalidInputException",
     "Service is unable to assume provided role. Please verify role's TrustPolicy."),
    ("resources.eks", "Cluster", "InvalidParameterException", "Role with arn: arn:aws:iam::1:role/c, could not be "
     "assumed because it does not exist or the trusted entity is not correct"),
    ("resources.eks", "Nodegroup", "InvalidParameterException", "Following required service principals "
     "[ec2.amazonaws.com] were not found in the trust relationships of nodeRole arn:aws:iam::1:role/n"),
    ("resources.eks", "FargateProfile", "InvalidParameterException",
     "Misconfigured PodExecutionRole Trust Policy; Please add the eks-fargate-pods.amazonaws.com Service Principal"),
    ("resources.logs", "SubscriptionFilter", "InvalidParameterException",
     "Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in "
     "ACTIVE state."),
    ("resources.opensearch", "Domain", "InvalidTypeException", 'Error setting policy: [{"Version": "2012-10-17"}]'),
    ("resources.opensearch", "Domain", "ValidationException", "The passed role has not propagated yet"),
    ("resources.opensearch", "Domain", "ValidationException", "Domain is still being deleted"),
    ("resources.ecr", "Repository", "InvalidParameterException",
     "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"),
    ("resources.iam", "Role", "MalformedPolicyDocument",
     'Invalid principal in policy: "Federated":"arn:aws:iam::1:oidc-provider/oidc.eks.ap-east-2.amazonaws.com/id/X"'),
])
def test_each_consumer_catalogue_covers_its_propagation_answer_and_not_a_neighbour(module, cls, code, message):
    import importlib

    from core.errors import matching

    class Answer(Exception):
        def __init__(self, code: str, message: str) -> None:
            super().__init__(message)
            self.response = {"Error": {"Code": code, "Message": message}}

    catalogue = getattr(importlib.import_module(module), cls).retries
    assert matching(catalogue, Answer(code, message), "create") is not None
    assert matching(catalogue, Answer(code, "1 validation error detected: Value 'x' is not valid"), "create") is None
    assert matching(catalogue, Answer(code, message), "delete") is None


def test_lambda_xray_permission_is_not_claimed_by_the_propagation_catalogue():
    """The X-Ray permission check is another issue's (a missing permission, not a slow one)."""
    from core.errors import matching
    from resources.lambda_ import Function

    class Answer(Exception):
        response = {"Error": {"Code": "InvalidParameterValueException", "Message": "The provided execution role "
                              "does not have permissions to call PutTraceSegments on XRAY"}}

    assert matching(Function.retries, Answer(), "create") is None
