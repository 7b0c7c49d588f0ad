"""X-Ray fidelity: groups, sampling rules, encryption config and tags.

moto 5.2.5 only stores traces. X-Ray is REST-JSON with PascalCase wire names
(botocore's xray model); every not-found is InvalidRequestException except on
the tagging calls (ResourceNotFoundException). AWS accounts come with a
"Default" group and a "Default" sampling rule (priority 10000, 5 %, reservoir 1)
that cannot be deleted; both are here too.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from moto.core.responses import BaseResponse
from moto.xray import urls as xray_urls
from moto.xray.models import XRayBackend, xray_backends
from moto.xray.responses import XRayResponse

from sandbox.extensions._base import AwsJsonError, body, store


class InvalidRequest(AwsJsonError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestException", message, 400)


class NotFound(AwsJsonError):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message, 404)


_RULE_FIELDS = ("ResourceARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType", "Host",
                "HTTPMethod", "URLPath", "Attributes", "SamplingRateBoost")


class XRayState:
    """Per-account/region X-Ray resources this extension adds."""

    def __init__(self, backend: XRayBackend) -> None:
        self.prefix = f"arn:aws:xray:{backend.region_name}:{backend.account_id}"
        self.groups: dict[str, dict[str, Any]] = {
            "Default": {"GroupName": "Default", "GroupARN": f"{self.prefix}:group/Default",
                        "InsightsConfiguration": {"InsightsEnabled": False, "NotificationsEnabled": False}}}
        t = time.time()
        self.rules: dict[str, dict[str, Any]] = {
            "Default": {"SamplingRule": {"RuleName": "Default", "RuleARN": f"{self.prefix}:sampling-rule/Default",
                                         "ResourceARN": "*", "Priority": 10000, "FixedRate": 0.05,
                                         "ReservoirSize": 1, "ServiceName": "*", "ServiceType": "*", "Host": "*",
                                         "HTTPMethod": "*", "URLPath": "*", "Version": 1, "Attributes": {}},
                        "CreatedAt": 0.0, "ModifiedAt": t}}
        self.encryption: dict[str, Any] = {"Status": "ACTIVE", "Type": "NONE"}
        self.tags: dict[str, list[dict[str, str]]] = {}

    def group(self, name: str | None, arn: str | None) -> dict[str, Any]:
        for g in self.groups.values():
            if (name and g["GroupName"] == name) or (arn and g["GroupARN"] == arn):
                return g
        raise InvalidRequest("Group not found")

    def rule(self, name: str | None, arn: str | None) -> dict[str, Any]:
        for r in self.rules.values():
            rule = r["SamplingRule"]
            if (name and rule["RuleName"] == name) or (arn and rule["RuleARN"] == arn):
                return r
        raise InvalidRequest("Sampling rule does not exist")

    def arn_exists(self, arn: str) -> bool:
        return any(g["GroupARN"] == arn for g in self.groups.values()) or \
            any(r["SamplingRule"]["RuleARN"] == arn for r in self.rules.values())


def _state(resp: Any) -> XRayState:
    backend = xray_backends[resp.current_account][resp.region]
    return store(backend, "xray", lambda: XRayState(backend))


def _tag(state: XRayState, arn: str, tags: list[dict[str, str]]) -> None:
    current = {t["Key"]: t["Value"] for t in state.tags.get(arn, [])}
    current.update({t["Key"]: t["Value"] for t in tags or []})
    if len(current) > 50:
        raise AwsJsonError("TooManyTagsException", "A resource can have at most 50 tags.", 400)
    state.tags[arn] = [{"Key": k, "Value": v} for k, v in current.items()]


def _validate_rule(rule: dict[str, Any], partial: bool = False) -> None:
    required = ("RuleName", "ResourceARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType",
                "Host", "HTTPMethod", "URLPath", "Version")
    missing = [k for k in required if k not in rule and not partial]
    if missing:
        raise InvalidRequest(f"Missing required sampling rule fields: {', '.join(missing)}")
    if "Priority" in rule and not 1 <= int(rule["Priority"]) <= 9999:
        raise InvalidRequest("Priority must be between 1 and 9999")
    if "FixedRate" in rule and not 0 <= float(rule["FixedRate"]) <= 1:
        raise InvalidRequest("FixedRate must be between 0 and 1")
    if "Version" in rule and rule["Version"] != 1:
        raise InvalidRequest("Version must be 1")
    if len(rule.get("RuleName", "x")) > 32:
        raise InvalidRequest("RuleName must be at most 32 characters")


class XRayExtResponse(XRayResponse):
    """X-Ray calls moto lacks. Actions come from botocore's router (moto's XRayResponse guesses from the path)."""

    def _get_action(self) -> str:
        return BaseResponse._get_action(self)

    def create_group(self) -> str:
        b, st = body(self), _state(self)
        name = b.get("GroupName") or ""
        if not name or len(name) > 32:
            raise InvalidRequest("GroupName must be 1 to 32 characters")
        if name in st.groups:
            raise InvalidRequest("Group already exists")
        group = {"GroupName": name, "GroupARN": f"{st.prefix}:group/{name}/{uuid.uuid4().hex[:26].upper()}",
                 "FilterExpression": b.get("FilterExpression"),
                 "InsightsConfiguration": {"InsightsEnabled": False, "NotificationsEnabled": False,
                                           **(b.get("InsightsConfiguration") or {})}}
        if group["FilterExpression"] is None:
            group.pop("FilterExpression")
        st.groups[name] = group
        if b.get("Tags"):
            _tag(st, group["GroupARN"], b["Tags"])
        return json.dumps({"Group": group})

    def get_group(self) -> str:
        b = body(self)
        return json.dumps({"Group": _state(self).group(b.get("GroupName"), b.get("GroupARN"))})

    def get_groups(self) -> str:
        return json.dumps({"Groups": list(_state(self).groups.values())})

    def update_group(self) -> str:
        b = body(self)
        group = _state(self).group(b.get("GroupName"), b.get("GroupARN"))
        if "FilterExpression" in b:
            group["FilterExpression"] = b["FilterExpression"]
        if b.get("InsightsConfiguration"):
            group["InsightsConfiguration"] = {**group["InsightsConfiguration"], **b["InsightsConfiguration"]}
        return json.dumps({"Group": group})

    def delete_group(self) -> str:
        b, st = body(self), _state(self)
        group = st.group(b.get("GroupName"), b.get("GroupARN"))
        if group["GroupName"] == "Default":
            raise InvalidRequest("The Default group cannot be deleted")
        del st.groups[group["GroupName"]]
        st.tags.pop(group["GroupARN"], None)
        return "{}"

    def create_sampling_rule(self) -> str:
        b, st = body(self), _state(self)
        rule = dict(b.get("SamplingRule") or {})
        _validate_rule(rule)
        if rule["RuleName"] in st.rules:
            raise InvalidRequest("Sampling rule already exists")
        if len(st.rules) >= 25:
            raise AwsJsonError("RuleLimitExceededException", "You have reached the maximum number of sampling "
                               "rules.", 400)
        rule["RuleARN"] = f"{st.prefix}:sampling-rule/{rule['RuleName']}"
        rule.setdefault("Attributes", {})
        t = time.time()
        record = {"SamplingRule": rule, "CreatedAt": t, "ModifiedAt": t}
        st.rules[rule["RuleName"]] = record
        if b.get("Tags"):
            _tag(st, rule["RuleARN"], b["Tags"])
        return json.dumps({"SamplingRuleRecord": record})

    def get_sampling_rules(self) -> str:
        records = sorted(_state(self).rules.values(), key=lambda r: r["SamplingRule"]["Priority"])
        return json.dumps({"SamplingRuleRecords": records})

    def update_sampling_rule(self) -> str:
        upd = dict(body(self).get("SamplingRuleUpdate") or {})
        record = _state(self).rule(upd.get("RuleName"), upd.get("RuleARN"))
        rule = record["SamplingRule"]
        changes = {k: v for k, v in upd.items() if k in _RULE_FIELDS}
        if rule["RuleName"] == "Default" and set(changes) - {"FixedRate", "ReservoirSize"}:
            raise InvalidRequest("Only FixedRate and ReservoirSize of the Default rule can be changed")
        _validate_rule(changes, partial=True)
        rule.update(changes)
        record["ModifiedAt"] = time.time()
        return json.dumps({"SamplingRuleRecord": record})

    def delete_sampling_rule(self) -> str:
        b, st = body(self), _state(self)
        record = st.rule(b.get("RuleName"), b.get("RuleARN"))
        name = record["SamplingRule"]["RuleName"]
        if name == "Default":
            raise InvalidRequest("The Default sampling rule cannot be deleted")
        del st.rules[name]
        st.tags.pop(record["SamplingRule"]["RuleARN"], None)
        return json.dumps({"SamplingRuleRecord": record})

    def put_encryption_config(self) -> str:
        b, st = body(self), _state(self)
        etype = b.get("Type")
        if etype not in ("NONE", "KMS"):
            raise InvalidRequest("Type must be NONE or KMS")
        if etype == "KMS" and not b.get("KeyId"):
            raise InvalidRequest("KeyId is required when Type is KMS")
        st.encryption = {"Status": "ACTIVE", "Type": etype}
        if etype == "KMS":
            key = b["KeyId"]
            st.encryption["KeyId"] = key if key.startswith("arn:") else \
                f"arn:aws:kms:{self.region}:{self.current_account}:{key if key.startswith('alias/') else 'key/' + key}"
        return json.dumps({"EncryptionConfig": st.encryption})

    def get_encryption_config(self) -> str:
        return json.dumps({"EncryptionConfig": _state(self).encryption})

    def tag_resource(self) -> str:
        b, st = body(self), _state(self)
        if not st.arn_exists(b.get("ResourceARN", "")):
            raise NotFound(f"Resource {b.get('ResourceARN')} not found")
        _tag(st, b["ResourceARN"], b.get("Tags") or [])
        return "{}"

    def untag_resource(self) -> str:
        b, st = body(self), _state(self)
        arn = b.get("ResourceARN", "")
        if not st.arn_exists(arn):
            raise NotFound(f"Resource {arn} not found")
        drop = set(b.get("TagKeys") or [])
        st.tags[arn] = [t for t in st.tags.get(arn, []) if t["Key"] not in drop]
        return "{}"

    def list_tags_for_resource(self) -> str:
        b, st = body(self), _state(self)
        arn = b.get("ResourceARN", "")
        if not st.arn_exists(arn):
            raise NotFound(f"Resource {arn} not found")
        return json.dumps({"Tags": st.tags.get(arn, [])})


PATHS = ("CreateGroup", "GetGroup", "Groups", "UpdateGroup", "DeleteGroup", "CreateSamplingRule",
         "GetSamplingRules", "UpdateSamplingRule", "DeleteSamplingRule", "PutEncryptionConfig", "EncryptionConfig",
         "TagResource", "UntagResource", "ListTagsForResource")


def install() -> None:
    xray_urls.url_paths.update({f"{{0}}/{p}$": XRayExtResponse.dispatch for p in PATHS})
