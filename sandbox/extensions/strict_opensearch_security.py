"""OpenSearch fine-grained access control and log publishing as AWS checks them (rules
`opensearch-fine-grained-access` and `opensearch-log-publishing-policy`).

moto 5.2.5 stored AdvancedSecurityOptions and LogPublishingOptions as sent: fine-grained access control
on a domain without HTTPS or encryption, turned off again, audit logs without it, and logs published into
any group, whatever its resource policy said. It also answered the master user's ARN (or name and
password) back in DescribeDomain, which AWS never does: the master user lives in the security plugin.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from moto.logs.models import logs_backends
from moto.opensearch.models import OpenSearchDomain, OpenSearchServiceBackend

from sandbox import lifecycle, strict
from sandbox.extensions._base import AwsJsonError, as_list, statements

OWNER = "strict_opensearch_security"

FGAC = strict.rule(
    "opensearch-fine-grained-access",
    aws="CreateDomain and UpdateDomainConfig take AdvancedSecurityOptions (fine-grained access control) only "
        "with EnforceHTTPS, node-to-node encryption and encryption at rest on, and with a master user (an IAM "
        "MasterUserARN unless InternalUserDatabaseEnabled); it can be turned on for a running domain but never "
        "off again; AUDIT_LOGS publishing needs it. Each is refused with ValidationException. DescribeDomain "
        "never answers the master user (MasterUserOptions).",
    source="https://docs.aws.amazon.com/opensearch-service/latest/developerguide/fgac.html (requirements: HTTPS, "
           "encryption of data at rest, node-to-node encryption; enabling on existing domains); "
           "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/audit-logs.html (audit logs "
           "require fine-grained access control); CloudFormation AWS::OpenSearchService::Domain "
           "AdvancedSecurityOptionsInput (\"you must also enable node-to-node encryption ... encryption at rest "
           "... EnforceHTTPS\"); hashicorp/terraform-provider-aws internal/service/opensearch/domain.go "
           "(advanced_security_options.0.enabled ForceNewIf true -> false); botocore opensearch "
           "AdvancedSecurityOptions (output: no MasterUserOptions) (exact error texts not verified)",
    moto="Stored AdvancedSecurityOptions as sent whatever the encryption settings, let it be turned off, "
         "published audit logs without it, and answered MasterUserOptions back.",
)
LOG_POLICY = strict.rule(
    "opensearch-log-publishing-policy",
    aws="CreateDomain and UpdateDomainConfig with an enabled LogPublishingOptions entry check that a CloudWatch "
        "Logs resource policy of the account and region lets es.amazonaws.com call logs:CreateLogStream and "
        "logs:PutLogEvents on the group's streams, and refuse otherwise: ValidationException 'The Resource "
        "Access Policy specified for the CloudWatch Logs log group <name> does not grant sufficient permissions "
        "for Amazon OpenSearch Service to create a log stream. Please check the Resource Access Policy.'",
    source="https://docs.aws.amazon.com/opensearch-service/latest/developerguide/createdomain-configure-slow-logs"
           ".html (the resource policy for es.amazonaws.com); hashicorp/terraform-provider-aws#6606 and "
           "awsdocs/amazon-opensearch-service-developer-guide#59 (the ValidationException's text)",
    moto="Published logs into any log group, with or without a resource policy.",
)
SERVICE = "es.amazonaws.com"
NEEDED = ("logs:CreateLogStream", "logs:PutLogEvents")


def _refuse(rule: strict.Rule, message: str) -> None:
    strict.trip(rule.id)
    raise AwsJsonError("ValidationException", message)


def _on(options: Any) -> bool:
    return bool((options or {}).get("Enabled"))


def _check_fgac(domain: OpenSearchDomain | None, kw: dict[str, Any]) -> None:
    if not strict.on(FGAC.id):
        return
    def now(key: str) -> Any:
        sent = kw.get(key)
        return sent if sent is not None else (getattr(domain, key, None) if domain is not None else None)
    asked, current = kw.get("advanced_security_options"), (domain.advanced_security_options if domain else None)
    security = asked if asked is not None else current
    if domain is not None and asked is not None and _on(current) and not _on(asked):
        _refuse(FGAC, "Fine-grained access control cannot be disabled once it is enabled.")
    if _on(asked):
        if not (now("domain_endpoint_options") or {}).get("EnforceHTTPS") \
                or not _on(now("node_to_node_encryption_options")) or not _on(now("encryption_at_rest_options")):
            _refuse(FGAC, "Enable fine-grained access control requires EnforceHTTPS, node-to-node encryption and "
                          "encryption at rest.")
        master = asked.get("MasterUserOptions") or {}
        if not asked.get("InternalUserDatabaseEnabled") and not master.get("MasterUserARN"):
            _refuse(FGAC, "A MasterUserARN is required when the internal user database is not enabled.")
    logs = now("log_publishing_options") or {}
    if _on(logs.get("AUDIT_LOGS")) and not _on(security):
        _refuse(FGAC, "Audit logs can be enabled only when fine-grained access control is enabled.")


def _allows(backend: Any, group_arn: str) -> bool:
    stream = f"{group_arn.removesuffix(':*')}:log-stream:opensearch"
    for policy in backend.resource_policies.values():
        for st in statements(policy.policy_document):
            principal = st.get("Principal") or {}
            services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
            if st.get("Effect") != "Allow" or SERVICE not in services:
                continue
            actions, resources = as_list(st.get("Action")), as_list(st.get("Resource"))
            granted = all(any(fnmatch.fnmatchcase(a, str(p)) for p in actions) for a in NEEDED)
            if granted and any(fnmatch.fnmatchcase(stream, str(r)) for r in resources):
                return True
    return False


def _check_logs(backend: OpenSearchServiceBackend, kw: dict[str, Any]) -> None:
    if not strict.on(LOG_POLICY.id):
        return
    logs = logs_backends[backend.account_id][backend.region_name]
    for entry in (kw.get("log_publishing_options") or {}).values():
        arn = str((entry or {}).get("CloudWatchLogsLogGroupArn") or "")
        if _on(entry) and not _allows(logs, arn):
            name = arn.removesuffix(":*").rsplit(":log-group:", 1)[-1]
            _refuse(LOG_POLICY, f"The Resource Access Policy specified for the CloudWatch Logs log group {name} does "
                                "not grant sufficient permissions for Amazon OpenSearch Service to create a log "
                                "stream. Please check the Resource Access Policy.")


def create_domain(self: OpenSearchServiceBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    _check_fgac(None, kw)
    _check_logs(self, kw)
    return original(self, *args, **kw)


def update_domain_config(self: OpenSearchServiceBackend, original: Callable[..., Any], domain_name: str,
                         *args: Any, **kw: Any) -> Any:
    _check_fgac(self.domains.get(domain_name), kw)
    _check_logs(self, kw)
    return original(self, domain_name, *args, **kw)


def _without_master(options: Any) -> Any:
    if isinstance(options, dict) and "MasterUserOptions" in options:
        return {k: v for k, v in options.items() if k != "MasterUserOptions"}
    return options


def to_dict(self: OpenSearchDomain, original: Callable[..., Any]) -> dict[str, Any]:
    out = original(self)
    if "AdvancedSecurityOptions" in out:
        out["AdvancedSecurityOptions"] = _without_master(out["AdvancedSecurityOptions"])
    return out


def to_config_dict(self: OpenSearchDomain, original: Callable[..., Any]) -> dict[str, Any]:
    out = original(self)
    section = out.get("AdvancedSecurityOptions")
    if isinstance(section, dict) and "Options" in section:
        out["AdvancedSecurityOptions"] = dict(section, Options=_without_master(section["Options"]))
    return out


def install() -> None:
    lifecycle.chain(OpenSearchServiceBackend, "create_domain", create_domain, owner=OWNER)
    lifecycle.chain(OpenSearchServiceBackend, "update_domain_config", update_domain_config, owner=OWNER)
    lifecycle.chain(OpenSearchDomain, "to_dict", to_dict, owner=OWNER)
    lifecycle.chain(OpenSearchDomain, "to_config_dict", to_config_dict, owner=OWNER)
