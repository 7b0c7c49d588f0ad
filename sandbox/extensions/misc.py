"""Smaller gaps: WAFv2 associations, CloudWatch composite alarms, Logs KMS keys, AMP alert manager.

- WAFv2: list_resources_for_web_acl; delete_web_acl refuses an ACL that is
  still associated (WAFAssociatedItemException), as AWS does; one web ACL per resource (associating
  the same one again changes nothing, and a disassociate leaves none).
- CloudWatch: put_composite_alarm (moto already lists composite alarms, it
  only lacked the call); AlarmRule must reference alarms that exist.
- Logs: associate_kms_key / disassociate_kms_key.
- AMP: alert manager definitions (create/describe/put/delete), status ACTIVE.
- Lambda: a function's DeadLetterConfig (CreateFunction, UpdateFunctionConfiguration, answered in
  GetFunction's Configuration), and KMSKeyArn and TracingConfig on UpdateFunctionConfiguration, which moto
  took only at create; Put/DeleteFunctionCodeSigningConfig (moto stored CodeSigningConfigArn at create and
  answered GetFunctionCodeSigningConfig only). moto has no code signing configurations, so any ARN is taken.
- S3: PutBucketLogging's check of the target bucket's policy read every Principal as a mapping and failed
  (500) on a target whose policy has a `"Principal": "*"` statement (a TLS-only deny); such statements are
  skipped as they grant the logging service nothing; GetBucketLogging answers the TargetObjectKeyFormat
  PutBucketLogging stored (moto answered only TargetBucket, TargetPrefix and grants).
  GetBucketNotificationConfiguration answers the EventBridgeConfiguration that
  PutBucketNotificationConfiguration stored (moto kept it, and sends the events, but never answered it).
- SNS: GetTopicAttributes answers the delivery status attributes (<Protocol>SuccessFeedbackRoleArn,
  ...SampleRate, ...FailureFeedbackRoleArn) that moto stored from CreateTopic and SetTopicAttributes but
  never returned.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from moto.amp import urls as amp_urls
from moto.amp.models import PrometheusServiceBackend
from moto.amp.responses import PrometheusServiceResponse
from moto.awslambda.models import LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import camelcase_to_underscores, utcnow
from moto.logs.exceptions import ResourceNotFoundException as LogsNotFound
from moto.logs.responses import LogsResponse
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response
from moto.sns.responses import SNSResponse
from moto.wafv2.models import WAFV2Backend
from moto.wafv2.responses import WAFV2Response

from sandbox import lifecycle
from sandbox.extensions._base import AwsJsonError, add_methods, add_urls, body, store

_RESOURCE_TYPES = {
    "APPLICATION_LOAD_BALANCER": ":elasticloadbalancing:", "API_GATEWAY": ":apigateway:", "APPSYNC": ":appsync:",
    "COGNITO_USER_POOL": ":cognito-idp:", "APP_RUNNER_SERVICE": ":apprunner:",
    "VERIFIED_ACCESS_INSTANCE": ":ec2:", "AMPLIFY": ":amplify:",
}


class _Waf:
    def list_resources_for_web_acl(self: Any) -> str:
        b = body(self)
        acl = self.wafv2_backend.wacls.get(b.get("WebACLArn"))
        if acl is None:
            raise AwsJsonError("WAFNonexistentItemException", "AWS WAF couldn't perform the operation because your "
                               "resource doesn't exist.")
        rtype = b.get("ResourceType") or "APPLICATION_LOAD_BALANCER"
        if rtype not in _RESOURCE_TYPES:
            raise AwsJsonError("WAFInvalidParameterException", f"Invalid ResourceType {rtype}.")
        marker = _RESOURCE_TYPES[rtype]
        return json.dumps({"ResourceArns": [r for r in acl.associated_resources if marker in r]})


def delete_web_acl(self: WAFV2Backend, original: Callable[..., Any], name: str, scope: str, _id: str,
                   lock_token: str) -> None:
    for acl in self.wacls.values():
        if acl.name == name and acl.associated_resources and getattr(acl, "scope", scope) == scope:
            raise AwsJsonError("WAFAssociatedItemException", "AWS WAF couldn't perform the operation because your "
                               "resource is being used by another resource or it's associated with another "
                               "resource.")
    return original(self, name, scope, _id, lock_token)


def associate_web_acl(self: WAFV2Backend, original: Callable[..., Any], web_acl_arn: str, resource_arn: str) -> Any:
    """A resource has one web ACL (GetWebACLForResource answers one): the same association again changes
    nothing. moto appended the resource to the ACL's list a second time, and one DisassociateWebACL then
    left it associated."""
    acl = self.wacls.get(web_acl_arn)
    if acl is not None and resource_arn in acl.associated_resources:
        return None
    return original(self, web_acl_arn, resource_arn)


def disassociate_web_acl(self: WAFV2Backend, original: Callable[..., Any], resource_arn: str) -> Any:
    """"Disassociates the specified resource from its web ACL association, if it has one" (the API
    reference): afterwards it has none, however moto came to list it."""
    result = original(self, resource_arn)
    for acl in self.wacls.values():
        while resource_arn in acl.associated_resources:
            acl.associated_resources.remove(resource_arn)
    return result


_ALARM_REF = re.compile(r"(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*\"?([^\")]+)\"?\s*\)")


class _CloudWatch:
    def put_composite_alarm(self: Any) -> EmptyResult:
        backend = self.cloudwatch_backend
        name = self._get_param("AlarmName")
        rule = self._get_param("AlarmRule")
        if not name or not rule:
            raise ValidationError("AlarmName and AlarmRule are required.")
        refs = _ALARM_REF.findall(rule)
        if not refs and rule.strip() not in ("TRUE", "FALSE"):
            raise ValidationError(f"AlarmRule {rule!r} is not a valid composite alarm rule.")
        missing = [r for r in refs if r.split(":")[-1] not in backend.alarms and r not in backend.alarms]
        if missing:
            raise ValidationError(f"Could not find alarm(s) referenced in AlarmRule: {', '.join(missing)}.")
        existing = backend.alarms.get(name)
        if existing is not None and existing.rule is None:
            raise ValidationError(f"Alarm {name} is a metric alarm and cannot be replaced by a composite alarm.")
        alarm = backend.put_metric_alarm(
            name=name, namespace=None, metric_name=None, comparison_operator=None, evaluation_periods=None,
            period=None, threshold=None, statistic=None, description=self._get_param("AlarmDescription"),
            dimensions=[], alarm_actions=self._get_param("AlarmActions", []),
            ok_actions=self._get_param("OKActions", []),
            insufficient_data_actions=self._get_param("InsufficientDataActions", []),
            actions_enabled=self._get_param("ActionsEnabled", True), rule=rule, tags=self._get_param("Tags", []))
        alarm.alarm_rule = rule
        for param in ("ActionsSuppressor", "ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod"):
            value = self._get_param(param)
            if value is not None:
                setattr(alarm, re.sub(r"(?<!^)(?=[A-Z])", "_", param).lower(), value)
        return EmptyResult()


class _Logs:
    def associate_kms_key(self: Any) -> str:
        name = self._get_param("logGroupName")
        group = self.logs_backend.groups.get(name)
        if group is None:
            raise LogsNotFound("The specified log group does not exist.")
        key = self._get_param("kmsKeyId")
        if not key or not key.startswith("arn:"):
            raise AwsJsonError("InvalidParameterException", "kmsKeyId must be a KMS key ARN.")
        group.kms_key_id = key
        return ""

    def disassociate_kms_key(self: Any) -> str:
        name = self._get_param("logGroupName")
        group = self.logs_backend.groups.get(name)
        if group is None:
            raise LogsNotFound("The specified log group does not exist.")
        group.kms_key_id = None
        return ""


def _definitions(backend: PrometheusServiceBackend) -> dict[str, dict[str, Any]]:
    return store(backend, "amp_alert_managers")


class _Amp:
    def _workspace_id(self: Any) -> str:
        return self.uri_match.get("workspaceId") or self.parsed_url.path.split("/")[2]

    def create_alert_manager_definition(self: Any) -> tuple[int, dict[str, str], str]:
        backend = self.amp_backend
        wid = _Amp._workspace_id(self)
        backend.describe_workspace(wid)
        defs = _definitions(backend)
        if wid in defs:
            raise AwsJsonError("ConflictException", f"An alert manager definition already exists for {wid}.", 409)
        data = body(self).get("data")
        _validate_alertmanager(data)
        now = utcnow().timestamp()
        rec = {"data": data, "createdAt": now, "modifiedAt": now, "status": {"statusCode": "ACTIVE"}}
        defs[wid] = rec
        return 202, {}, json.dumps({"status": rec["status"]})

    def describe_alert_manager_definition(self: Any) -> str:
        backend = self.amp_backend
        wid = _Amp._workspace_id(self)
        backend.describe_workspace(wid)
        rec = _definitions(backend).get(wid)
        if rec is None:
            raise AwsJsonError("ResourceNotFoundException", f"Alert manager definition for {wid} not found.", 404)
        return json.dumps({"alertManagerDefinition": rec})

    def put_alert_manager_definition(self: Any) -> tuple[int, dict[str, str], str]:
        backend = self.amp_backend
        wid = _Amp._workspace_id(self)
        backend.describe_workspace(wid)
        rec = _definitions(backend).get(wid)
        if rec is None:
            raise AwsJsonError("ResourceNotFoundException", f"Alert manager definition for {wid} not found.", 404)
        data = body(self).get("data")
        _validate_alertmanager(data)
        rec["data"], rec["modifiedAt"] = data, utcnow().timestamp()
        rec["status"] = {"statusCode": "ACTIVE"}
        return 202, {}, json.dumps({"status": rec["status"]})

    def delete_alert_manager_definition(self: Any) -> tuple[int, dict[str, str], str]:
        backend = self.amp_backend
        wid = _Amp._workspace_id(self)
        backend.describe_workspace(wid)
        if _definitions(backend).pop(wid, None) is None:
            raise AwsJsonError("ResourceNotFoundException", f"Alert manager definition for {wid} not found.", 404)
        return 202, {}, ""


def _validate_alertmanager(data: str | None) -> None:
    """AWS rejects a definition without an `alertmanager_config` (or `template_files`) section."""
    try:
        text = base64.b64decode(data or "").decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise AwsJsonError("ValidationException", "data must be base64-encoded YAML.") from None
    if "alertmanager_config" not in text:
        raise AwsJsonError("ValidationException", "The alert manager definition must contain alertmanager_config.")


def _lambda_config() -> None:
    """DeadLetterConfig kept and answered; KMSKeyArn and TracingConfig changed by UpdateFunctionConfiguration.

    An empty TargetArn or KMSKeyArn removes the setting (botocore UpdateFunctionConfiguration)."""
    if getattr(LambdaFunction, "_sandbox_config", False):
        return
    init, get_configuration, update_configuration = (LambdaFunction.__init__, LambdaFunction.get_configuration,
                                                     LambdaFunction.update_configuration)

    def __init__(self: LambdaFunction, account_id: str, spec: dict[str, Any], *args: Any, **kw: Any) -> None:
        init(self, account_id, spec, *args, **kw)
        self.dead_letter_target = (spec.get("DeadLetterConfig") or {}).get("TargetArn") or None

    def configuration(self: LambdaFunction, *args: Any, **kw: Any) -> dict[str, Any]:
        config = get_configuration(self, *args, **kw)
        if getattr(self, "dead_letter_target", None):
            config["DeadLetterConfig"] = {"TargetArn": self.dead_letter_target}
        if not config.get("KMSKeyArn"):
            config.pop("KMSKeyArn", None)
        return config

    def update(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_target = (config_updates["DeadLetterConfig"] or {}).get("TargetArn") or None
        if "KMSKeyArn" in config_updates:
            self.kms_key_arn = config_updates["KMSKeyArn"] or None
        if config_updates.get("TracingConfig"):
            self.tracing_config = config_updates["TracingConfig"]
        return update_configuration(self, config_updates)

    LambdaFunction.__init__ = __init__  # type: ignore[method-assign]
    LambdaFunction.get_configuration = configuration  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update  # type: ignore[method-assign]
    LambdaFunction._sandbox_config = True  # type: ignore[attr-defined]


class _Lambda:
    def put_function_code_signing_config(self: Any) -> tuple[int, dict[str, str], str]:
        fn = self.backend.get_function(_Lambda._function(self))
        fn.code_signing_config_arn = body(self).get("CodeSigningConfigArn")
        return 200, {}, json.dumps({"CodeSigningConfigArn": fn.code_signing_config_arn,
                                    "FunctionName": fn.function_name})

    def delete_function_code_signing_config(self: Any) -> tuple[int, dict[str, str], str]:
        fn = self.backend.get_function(_Lambda._function(self))
        fn.code_signing_config_arn = None
        return 204, {}, ""

    @staticmethod
    def _function(resp: Any) -> str:
        from urllib.parse import unquote

        return unquote(resp.path.rstrip("/").rsplit("/", 2)[-2])


def _s3_logging_target_check() -> None:
    original = FakeBucket._log_permissions_enabled_policy
    if getattr(original, "_sandbox", False):
        return

    def check(target_bucket: FakeBucket, target_prefix: str | None) -> bool:
        policy = target_bucket.policy
        if not policy:
            return False
        doc = json.loads(policy.decode() if isinstance(policy, bytes) else policy)
        kept = [st for st in doc.get("Statement", []) if isinstance(st.get("Principal"), dict)]
        if len(kept) == len(doc.get("Statement", [])):
            return bool(original(target_bucket, target_prefix))
        saved = target_bucket.policy
        target_bucket.policy = json.dumps({**doc, "Statement": kept}).encode()
        try:
            return bool(original(target_bucket, target_prefix))
        finally:
            target_bucket.policy = saved

    check._sandbox = True  # type: ignore[attr-defined]
    FakeBucket._log_permissions_enabled_policy = staticmethod(check)  # type: ignore[method-assign,assignment]

    answer = S3Response.get_bucket_logging

    def get_bucket_logging(self: S3Response) -> Any:
        logging = self.backend.get_bucket_logging(self.bucket_name) or {}
        if not logging.get("TargetObjectKeyFormat") or logging.get("TargetGrants"):
            return answer(self)
        self.data["Action"] = "GetBucketLogging"
        return self.serialized(ActionResult({"LoggingEnabled": {
            "TargetBucket": logging["TargetBucket"], "TargetPrefix": logging.get("TargetPrefix") or "",
            "TargetObjectKeyFormat": logging["TargetObjectKeyFormat"]}}))

    S3Response.get_bucket_logging = get_bucket_logging  # type: ignore[method-assign]


def _s3_eventbridge_answer() -> None:
    original = S3Response.get_bucket_notification
    if getattr(original, "_sandbox", False):
        return

    def get_bucket_notification(self: S3Response) -> Any:
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or config.event_bridge is None:
            return original(self)
        def listed(items: list[Any], arn_key: str) -> list[dict[str, Any]]:
            return [{"Id": i.id, arn_key: i.arn, "Events": i.events,
                     **({"Filter": {"Key": {"FilterRules": i.filters["S3Key"]["FilterRule"]}}} if i.filters else {})}
                    for i in items]

        self.data["Action"] = "GetBucketNotificationConfiguration"
        return self.serialized(ActionResult({
            "TopicConfigurations": listed(config.topic, "TopicArn"),
            "QueueConfigurations": listed(config.queue, "QueueArn"),
            "LambdaFunctionConfigurations": listed(config.cloud_function, "LambdaFunctionArn"),
            "EventBridgeConfiguration": {}}))

    get_bucket_notification._sandbox = True  # type: ignore[attr-defined]
    S3Response.get_bucket_notification = get_bucket_notification  # type: ignore[method-assign]


_FEEDBACK = tuple(f"{p}{a}" for p in ("HTTP", "SQS", "Lambda", "Firehose", "Application")
                  for a in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn"))


def _sns_feedback_attributes() -> None:
    original = SNSResponse.get_topic_attributes
    if getattr(original, "_sandbox", False):
        return

    def get_topic_attributes(self: SNSResponse) -> Any:
        result = original(self)
        topic = self.backend.get_topic(self._get_param("TopicArn"))
        attrs = result.result["Attributes"]
        for name in _FEEDBACK:
            value = getattr(topic, camelcase_to_underscores(name), None)
            if value not in (None, ""):
                attrs[name] = value
        return result

    get_topic_attributes._sandbox = True  # type: ignore[attr-defined]
    SNSResponse.get_topic_attributes = get_topic_attributes  # type: ignore[method-assign]


def _public(cls: type) -> list[Any]:
    return [fn for name, fn in vars(cls).items() if callable(fn) and not name.startswith("_")]


def install() -> None:
    _lambda_config()
    _s3_logging_target_check()
    _s3_eventbridge_answer()
    _sns_feedback_attributes()
    add_methods(LambdaResponse, *_public(_Lambda))
    add_methods(WAFV2Response, *_public(_Waf))
    lifecycle.wrap(WAFV2Backend, "delete_web_acl")(delete_web_acl)
    lifecycle.wrap(WAFV2Backend, "associate_web_acl")(associate_web_acl)
    lifecycle.wrap(WAFV2Backend, "disassociate_web_acl")(disassociate_web_acl)
    add_methods(CloudWatchResponse, *_public(_CloudWatch))
    add_methods(LogsResponse, *_public(_Logs))
    add_methods(PrometheusServiceResponse, *_public(_Amp))
    add_urls(amp_urls, {"{0}/workspaces/(?P<workspace_id>[^/]+)/alertmanager/definition$":
                        PrometheusServiceResponse.dispatch})
