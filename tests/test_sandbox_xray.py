"""X-Ray extension: groups, sampling rules, encryption config, tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

RULE = {"RuleName": "genai", "ResourceARN": "*", "Priority": 100, "FixedRate": 0.1, "ReservoirSize": 2,
        "ServiceName": "api", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": 1}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def check_xray(client: Callable[[str], Any]) -> None:
    x = client("xray")
    group = x.create_group(GroupName="genai", FilterExpression='service("api")',
                           Tags=[{"Key": "infra:stack", "Value": "main"}])["Group"]
    assert group["GroupARN"].startswith("arn:aws:xray:") and ":group/genai/" in group["GroupARN"]
    assert x.get_group(GroupName="genai")["Group"]["FilterExpression"] == 'service("api")'
    assert x.update_group(GroupARN=group["GroupARN"], FilterExpression='service("web")')["Group"][
        "FilterExpression"] == 'service("web")'
    assert {g["GroupName"] for g in x.get_groups()["Groups"]} == {"Default", "genai"}
    assert x.list_tags_for_resource(ResourceARN=group["GroupARN"])["Tags"] == [
        {"Key": "infra:stack", "Value": "main"}]
    x.delete_group(GroupName="genai")
    with pytest.raises(ClientError) as exc:
        x.get_group(GroupName="genai")
    assert code(exc) == "InvalidRequestException"

    rec = x.create_sampling_rule(SamplingRule=RULE)["SamplingRuleRecord"]
    assert rec["SamplingRule"]["RuleARN"].endswith(":sampling-rule/genai")
    upd = x.update_sampling_rule(SamplingRuleUpdate={"RuleName": "genai", "FixedRate": 0.2})["SamplingRuleRecord"]
    assert upd["SamplingRule"]["FixedRate"] == 0.2 and upd["SamplingRule"]["ServiceName"] == "api"
    assert [r["SamplingRule"]["RuleName"] for r in x.get_sampling_rules()["SamplingRuleRecords"]] == \
        ["genai", "Default"]
    x.delete_sampling_rule(RuleName="genai")
    with pytest.raises(ClientError) as exc:
        x.update_sampling_rule(SamplingRuleUpdate={"RuleName": "genai", "FixedRate": 0.3})
    assert code(exc) == "InvalidRequestException"

    assert x.get_encryption_config()["EncryptionConfig"]["Type"] == "NONE"
    cfg = x.put_encryption_config(Type="KMS", KeyId="alias/genai")["EncryptionConfig"]
    assert cfg["Type"] == "KMS" and cfg["KeyId"].endswith(":alias/genai") and cfg["Status"] == "ACTIVE"
    assert x.get_encryption_config()["EncryptionConfig"] == cfg


def test_xray_in_process(aws):
    check_xray(aws.client)


def test_xray_rejects_invalid(aws):
    x = aws.client("xray")
    for bad in ({**RULE, "Version": 2}, {**RULE, "FixedRate": 1.5}):
        with pytest.raises(ClientError) as exc:
            x.create_sampling_rule(SamplingRule=bad)
        assert code(exc) == "InvalidRequestException"
    with pytest.raises(ClientError) as exc:
        x.delete_sampling_rule(RuleName="Default")
    assert code(exc) == "InvalidRequestException"
    with pytest.raises(ClientError) as exc:
        x.list_tags_for_resource(ResourceARN="arn:aws:xray:ap-east-2:123456789012:group/nope/X")
    assert code(exc) == "ResourceNotFoundException"
