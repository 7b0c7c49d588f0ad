"""The fresh-account rules (sandbox/extensions/strict_fresh.py), each tripped with plain boto3 as a script
against a new account would trip it, then met the way AWS documents."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from sandbox import strict

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}
XRAY_WRITE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*",
                                                     "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]}]}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


def _code(exc: pytest.ExceptionInfo) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_rule_lambda_xray_permission(aws):
    aws.rules.off("iam-propagation")  # this test is about the permission, not about how new the role is
    iam, lam = aws.client("iam"), aws.client("lambda")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    fn = dict(FunctionName="traced", Runtime="python3.12", Handler="handler.handler", Role=role,
              Code={"ZipFile": _zip()})
    before = strict.trips().get("lambda-xray-permission", 0)
    with pytest.raises(ClientError) as exc:
        lam.create_function(**fn, TracingConfig={"Mode": "Active"})
    assert _code(exc) == ("InvalidParameterValueException",
                          "The provided execution role does not have permissions to call PutTraceSegments on XRAY")
    # PassThrough needs nothing; turning Active on later is checked the same way.
    lam.create_function(**fn, TracingConfig={"Mode": "PassThrough"})
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(FunctionName="traced", TracingConfig={"Mode": "Active"})
    assert _code(exc)[0] == "InvalidParameterValueException"
    # One of the two actions is not enough: PutTelemetryRecords is checked too.
    iam.put_role_policy(RoleName="fn", PolicyName="half", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "xray:PutTraceSegments",
                                                 "Resource": "*"}]}))
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(FunctionName="traced", TracingConfig={"Mode": "Active"})
    assert "PutTelemetryRecords on XRAY" in _code(exc)[1]
    assert strict.trips()["lambda-xray-permission"] == before + 3
    # AWS's managed policy for it (attached) or an inline grant (as the tool's plan writes) both do.
    iam.attach_role_policy(RoleName="fn", PolicyArn="arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess")
    lam.update_function_configuration(FunctionName="traced", TracingConfig={"Mode": "Active"})
    other = iam.create_role(RoleName="fn2", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName="fn2", PolicyName="xray", PolicyDocument=json.dumps(XRAY_WRITE))
    lam.create_function(**{**fn, "FunctionName": "traced2", "Role": other}, TracingConfig={"Mode": "Active"})
    assert lam.get_function(FunctionName="traced2")["Configuration"]["TracingConfig"]["Mode"] == "Active"


def test_rule_lambda_dlq_permission(aws):
    """Lambda checks the role against the dead-letter target: the topic's own policy does not count, a grant
    on another topic does not either; sns:Publish on that topic (or sqs:SendMessage on a queue) does."""
    aws.rules.off("iam-propagation")
    iam, lam, sns, sqs = aws.client("iam"), aws.client("lambda"), aws.client("sns"), aws.client("sqs")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    topic = sns.create_topic(Name="failed-events")["TopicArn"]
    queue = sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName="failed")["QueueUrl"],
                                     AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fn = dict(FunctionName="async", Runtime="python3.12", Handler="handler.handler", Role=role,
              Code={"ZipFile": _zip()})
    before = strict.trips().get("lambda-dlq-permission", 0)
    iam.put_role_policy(RoleName="fn", PolicyName="other", PolicyDocument=json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": topic + "-other"}]}))
    with pytest.raises(ClientError) as exc:
        lam.create_function(**fn, DeadLetterConfig={"TargetArn": topic})
    assert _code(exc) == ("InvalidParameterValueException",
                          "The provided execution role does not have permissions to call Publish on SNS")
    lam.create_function(**fn)
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(FunctionName="async", DeadLetterConfig={"TargetArn": queue})
    assert _code(exc)[1].endswith("to call SendMessage on SQS")
    assert strict.trips()["lambda-dlq-permission"] == before + 2
    iam.put_role_policy(RoleName="fn", PolicyName="dlq", PolicyDocument=json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "SNS:Publish", "Resource": topic},
                      {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue}]}))
    lam.update_function_configuration(FunctionName="async", DeadLetterConfig={"TargetArn": queue})
    assert lam.get_function(FunctionName="async")["Configuration"]["DeadLetterConfig"] == {"TargetArn": queue}
    lam.update_function_configuration(FunctionName="async", DeadLetterConfig={"TargetArn": topic})
    assert lam.get_function(FunctionName="async")["Configuration"]["DeadLetterConfig"] == {"TargetArn": topic}


def test_rule_opensearch_vpc_slr(aws):
    ec2, iam, es = aws.client("ec2"), aws.client("iam"), aws.client("opensearch")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    aws.rules.off("ec2-consistency")
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
    domain = dict(DomainName="logs", EngineVersion="OpenSearch_2.11",
                  ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
                  EBSOptions={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 10})
    with pytest.raises(ClientError) as exc:
        es.create_domain(**domain, VPCOptions={"SubnetIds": [subnet]})
    assert _code(exc) == ("ValidationException", "Before you can proceed, you must enable a service-linked role "
                          "to give Amazon OpenSearch Service permissions to access your VPC.")
    assert es.list_domain_names()["DomainNames"] == []
    es.create_domain(**{**domain, "DomainName": "public"})  # a public domain needs no role
    # The role, under the name IAM gives it; a second create is refused.
    role = iam.create_service_linked_role(AWSServiceName="opensearchservice.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForAmazonOpenSearchService"
    assert role["Path"] == "/aws-service-role/opensearchservice.amazonaws.com/"
    with pytest.raises(ClientError) as exc:
        iam.create_service_linked_role(AWSServiceName="opensearchservice.amazonaws.com")
    assert _code(exc)[0] == "InvalidInput" and "has been taken in this account" in _code(exc)[1]
    es.create_domain(**domain, VPCOptions={"SubnetIds": [subnet]})
    assert {d["DomainName"] for d in es.list_domain_names()["DomainNames"]} == {"logs", "public"}
