"""OpenSearch fine-grained access control and log publishing (FSBP Opensearch.4/.5/.7, CKV2_AWS_52, CKV_AWS_84,
CKV_AWS_317): strict rules opensearch-fine-grained-access and opensearch-log-publishing-policy with raw boto3,
then opensearch.Domain and logs.ResourcePolicy through the tool, read back with independent boto3 calls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from core.errors import PlanError
from resources.logs import LogGroup, ResourcePolicy
from resources.opensearch import Domain
from tests.helpers import declare

SECURE = {"EncryptionAtRestOptions": {"Enabled": True}, "NodeToNodeEncryptionOptions": {"Enabled": True},
          "DomainEndpointOptions": {"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"}}
CLUSTER = {"InstanceType": "t3.small.search", "InstanceCount": 1}
EBS = {"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 10}
ROLE = "arn:aws:iam::123456789012:role/search-admin"
FGAC = {"Enabled": True, "InternalUserDatabaseEnabled": False, "MasterUserOptions": {"MasterUserARN": ROLE}}


def _refused(exc: pytest.ExceptionInfo[ClientError], text: str) -> None:
    err = exc.value.response["Error"]
    assert err["Code"] == "ValidationException" and text in err["Message"], err


def _create(aws: Any, name: str, **kw: Any) -> dict[str, Any]:
    return aws.client("opensearch").create_domain(DomainName=name, EngineVersion="OpenSearch_2.11",
                                                  ClusterConfig=CLUSTER, EBSOptions=EBS, **kw)["DomainStatus"]


def _es_policy(resource: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "es.amazonaws.com"},
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": resource}]})


def test_rule_opensearch_fine_grained_access(aws):
    aws.rules.configure("async-modify", seconds=0.2, lag=0.0)
    with pytest.raises(ClientError) as exc:  # no HTTPS enforced
        _create(aws, "fgac-http", AdvancedSecurityOptions=FGAC,
                **dict(SECURE, DomainEndpointOptions={"EnforceHTTPS": False}))
    _refused(exc, "requires EnforceHTTPS")
    with pytest.raises(ClientError) as exc:  # no master user
        _create(aws, "fgac-nobody", AdvancedSecurityOptions={"Enabled": True}, **SECURE)
    _refused(exc, "MasterUserARN")
    st = _create(aws, "fgac-ok", AdvancedSecurityOptions=FGAC, **SECURE)
    assert st["AdvancedSecurityOptions"]["Enabled"] is True and "MasterUserOptions" not in st["AdvancedSecurityOptions"]
    os_ = aws.client("opensearch")
    seen = os_.describe_domain(DomainName="fgac-ok")["DomainStatus"]["AdvancedSecurityOptions"]
    assert seen["Enabled"] is True and seen["InternalUserDatabaseEnabled"] is False and "MasterUserOptions" not in seen
    with pytest.raises(ClientError) as exc:  # never off again
        os_.update_domain_config(DomainName="fgac-ok", AdvancedSecurityOptions={"Enabled": False})
    _refused(exc, "cannot be disabled")
    group = aws.client("logs")
    group.create_log_group(logGroupName="/aws/opensearch/audit")
    arn = group.describe_log_groups(logGroupNamePrefix="/aws/opensearch/audit")["logGroups"][0]["arn"]
    group.put_resource_policy(policyName="es", policyDocument=_es_policy(arn))
    _create(aws, "plain", **SECURE)
    with pytest.raises(ClientError) as exc:  # audit logs need fine-grained access control
        os_.update_domain_config(DomainName="plain", LogPublishingOptions={
            "AUDIT_LOGS": {"CloudWatchLogsLogGroupArn": arn.removesuffix(":*"), "Enabled": True}})
    _refused(exc, "Audit logs")
    assert "AUDIT_LOGS" not in (os_.describe_domain(DomainName="plain")["DomainStatus"].get("LogPublishingOptions")
                                or {})


def test_rule_opensearch_log_publishing_policy(aws):
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="/aws/opensearch/app")
    arn = logs.describe_log_groups(logGroupNamePrefix="/aws/opensearch/app")["logGroups"][0]["arn"]
    publish = {"ES_APPLICATION_LOGS": {"CloudWatchLogsLogGroupArn": arn.removesuffix(":*"), "Enabled": True}}
    with pytest.raises(ClientError) as exc:
        _create(aws, "logs-none", LogPublishingOptions=publish, **SECURE)
    _refused(exc, "The Resource Access Policy specified for the CloudWatch Logs log group /aws/opensearch/app "
                  "does not grant sufficient permissions")
    logs.put_resource_policy(policyName="elsewhere", policyDocument=_es_policy("arn:aws:logs:*:*:log-group:/other:*"))
    with pytest.raises(ClientError) as exc:
        _create(aws, "logs-other", LogPublishingOptions=publish, **SECURE)
    _refused(exc, "does not grant sufficient permissions")
    logs.put_resource_policy(policyName="es", policyDocument=_es_policy(arn))
    st = _create(aws, "logs-ok", LogPublishingOptions=publish, **SECURE)
    assert st["LogPublishingOptions"]["ES_APPLICATION_LOGS"]["Enabled"] is True


def test_log_resource_policy_round_trip(aws):
    doc = json.loads(_es_policy("arn:aws:logs:ap-east-2:${AWS::AccountId}:log-group:/aws/opensearch/*"))
    pol = declare(ResourcePolicy("es_logs", policyDocument=doc), "observability")
    ctx = aws.ctx("es_logs", stack="observability")
    name, out = pol.create(ctx, dict(pol.properties))
    assert name == "genai-demo-test-es-logs" and out == {"PolicyName": name}
    account = aws.client("sts").get_caller_identity()["Account"]
    [seen] = [p for p in aws.client("logs").describe_resource_policies()["resourcePolicies"] if p["policyName"] == name]
    assert json.loads(seen["policyDocument"])["Statement"][0]["Resource"] == \
        f"arn:aws:logs:ap-east-2:{account}:log-group:/aws/opensearch/*"
    assert pol.read(ctx, name) == {"policyDocument": doc}  # the placeholder put back where the plan wrote it
    assert pol.find(ctx) == (name, out)
    wider = json.loads(json.dumps(doc).replace("/aws/opensearch/*", "/aws/*"))
    pol.update(ctx, name, dict(pol.properties), {"policyDocument": wider})
    assert declare(ResourcePolicy("es_logs", policyDocument=wider), "observability").read(ctx, name) == \
        {"policyDocument": wider}
    assert pol.find(ctx) is None  # the document is not the declared one: someone else's, never overwritten
    pol.delete(ctx, name)
    pol.delete(ctx, name)
    assert pol.read(ctx, name) is None


def test_domain_with_fine_grained_access_and_logs_through_the_tool(aws):
    key = aws.client("kms").create_key(Description="logs")["KeyMetadata"]["Arn"]
    groups = {}
    for kind in ("application", "audit"):
        g = declare(LogGroup(f"{kind}_logs", logGroupName=f"/aws/opensearch/fgac/{kind}"), "observability")
        groups[kind] = g.create(aws.ctx(f"{kind}_logs", stack="observability"), dict(g.properties))[1]
    pol = declare(ResourcePolicy("es_logs", policyDocument=json.loads(_es_policy(
        "arn:aws:logs:*:*:log-group:/aws/opensearch/fgac/*"))), "observability")
    pol.create(aws.ctx("es_logs", stack="observability"), dict(pol.properties))
    app = {"ES_APPLICATION_LOGS": {"CloudWatchLogsLogGroupArn": groups["application"]["LogGroupArn"], "Enabled": True}}
    props = dict(SECURE, EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": key}, ClusterConfig=CLUSTER,
                 EBSOptions=EBS, AdvancedSecurityOptions=FGAC, LogPublishingOptions=app)
    dom = declare(Domain("search", **props), "observability")
    ctx = aws.ctx("search", stack="observability", props=dom.properties)
    name, _ = dom.create(ctx, dict(dom.properties))
    st = aws.client("opensearch").describe_domain(DomainName=name)["DomainStatus"]
    assert st["AdvancedSecurityOptions"]["Enabled"] is True
    assert st["LogPublishingOptions"]["ES_APPLICATION_LOGS"]["CloudWatchLogsLogGroupArn"] == \
        groups["application"]["LogGroupArn"]
    seen = dom.read(ctx, name)
    assert seen["AdvancedSecurityOptions"] == FGAC and seen["LogPublishingOptions"] == app
    # Audit logs added in place (fine-grained access control is on).
    audit = dict(app, AUDIT_LOGS={"CloudWatchLogsLogGroupArn": groups["audit"]["LogGroupArn"], "Enabled": True})
    dom.update(ctx, name, dict(props), dict(props, LogPublishingOptions=audit))
    st = aws.client("opensearch").describe_domain(DomainName=name)["DomainStatus"]
    assert st["LogPublishingOptions"]["AUDIT_LOGS"]["Enabled"] is True
    assert st["AdvancedSecurityOptions"]["Enabled"] is True  # the whole section was sent again, unchanged
    # A log type removed from the plan is turned off (AWS merges the section: left out, it would keep publishing).
    dom.update(ctx, name, dict(props, LogPublishingOptions=audit), dict(props))
    st = aws.client("opensearch").describe_domain(DomainName=name)["DomainStatus"]
    assert st["LogPublishingOptions"]["AUDIT_LOGS"]["Enabled"] is False
    assert st["LogPublishingOptions"]["ES_APPLICATION_LOGS"]["Enabled"] is True
    assert dom.read(ctx, name)["LogPublishingOptions"] == app
    # Turning it off is refused at plan time; turning it on a running domain is not.
    off = dict(props, AdvancedSecurityOptions={"Enabled": False})
    assert "fine-grained access control off" in dom.refusal(props, off, ["AdvancedSecurityOptions"])
    plain = {k: v for k, v in props.items() if k != "AdvancedSecurityOptions"}
    assert dom.refusal(plain, props, ["AdvancedSecurityOptions"]) is None
    dom.delete(ctx, name)


@pytest.mark.parametrize("props, message", [
    ({"AdvancedSecurityOptions": FGAC, "DomainEndpointOptions": {"EnforceHTTPS": False}}, "EnforceHTTPS"),
    ({"AdvancedSecurityOptions": {"Enabled": True}}, "MasterUserARN"),
    ({"LogPublishingOptions": {"AUDIT_LOGS": {"CloudWatchLogsLogGroupArn": "arn:g", "Enabled": True}}},
     "AUDIT_LOGS needs fine-grained"),
    ({"LogPublishingOptions": {"SLOW_LOGS": {}}}, "unknown log types"),
])
def test_security_and_logs_bad_inputs_fail_at_definition(props, message):
    with pytest.raises(PlanError, match=message):
        Domain("logs", ClusterConfig=CLUSTER, **props)
