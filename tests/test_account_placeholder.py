"""${AWS::AccountId} in IAM role and SNS topic policies on the sandbox: sent as the account id (checked through
independent boto3 calls), read back as the placeholder where the plan wrote it, and an ARN that merely
contains the account id reads as AWS holds it."""

from __future__ import annotations

import json

from resources.account import ACCOUNT_PLACEHOLDER, as_declared, render
from resources.iam import Role
from resources.sns import Topic, TopicPolicy

GUARDED = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_PLACEHOLDER}}}]}


def test_role_trust_and_inline_policy_name_the_account(aws):
    account = aws.client("sts").get_caller_identity()["Account"]
    inline = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sns:Publish",
        "Resource": f"arn:aws:sns:ap-east-2:{ACCOUNT_PLACEHOLDER}:alerts"}]}
    role = Role("crawler_role", AssumeRolePolicyDocument=GUARDED, InlinePolicies={"publish": inline})
    role.stack = "analytics"
    ctx = aws.ctx("crawler_role", stack="analytics")
    name, _ = role.create(ctx, dict(role.properties))
    iam = aws.client("iam")
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] == account
    sent = iam.get_role_policy(RoleName=name, PolicyName="publish")["PolicyDocument"]
    assert sent["Statement"][0]["Resource"] == f"arn:aws:sns:ap-east-2:{account}:alerts"
    assert role.read(ctx, name) == dict(role.properties)  # no drift: the placeholder reads back

    # Someone pins another account by hand: read shows the real value, so the plan sees the drift.
    drifted = json.loads(json.dumps(trust).replace(account, "999988887777"))
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(drifted))
    assert role.read(ctx, name)["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"][
        "aws:SourceAccount"] == "999988887777"
    role.update(ctx, name, role.read(ctx, name), dict(role.properties))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust
    role.delete(ctx, name)


def test_topic_policy_pins_the_publishing_account(aws):
    account = aws.client("sts").get_caller_identity()["Account"]
    topic = Topic("alerts")
    topic.stack = "observability"
    arn, _ = topic.create(aws.ctx("alerts", stack="observability"), dict(topic.properties))
    doc = {"Version": "2012-10-17", "Id": "alerts-publishers", "Statement": [{
        "Sid": "CloudWatchAlarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish", "Resource": arn,
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_PLACEHOLDER}}}]}
    p = TopicPolicy("alerts_policy", TopicArn=arn, PolicyDocument=doc)
    p.stack = "observability"
    ctx = aws.ctx("alerts_policy", stack="observability")
    p.create(ctx, dict(p.properties))
    held = json.loads(aws.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert held["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] == account
    assert held["Statement"][0]["Resource"] == arn  # the topic ARN holds the account id too, untouched
    assert p.read(ctx, arn)["PolicyDocument"] == doc


def test_only_declared_placeholders_are_put_back():
    declared = {"A": ACCOUNT_PLACEHOLDER, "B": "arn:aws:iam::123456789012:role/x", "C": [ACCOUNT_PLACEHOLDER]}
    seen = render(declared, "123456789012")
    assert seen == {"A": "123456789012", "B": "arn:aws:iam::123456789012:role/x", "C": ["123456789012"]}
    assert as_declared(declared, seen, "123456789012") == declared
    assert as_declared(declared, dict(seen, A="999988887777"), "123456789012")["A"] == "999988887777"
