"""OpenSearch Service: the log analytics domain of the observability stack.

A domain takes 15-30 minutes to create and every configuration change is a
blue/green deployment, so create and update wait on our own
`DomainAvailable` waiter (resources/waiters/opensearch.json: AWS ships none)
until `Processing` is false. UpdateDomainConfig is sent whole objects
(ClusterConfig, EBSOptions...): AWS merges partial ones, moto replaces the
section, and a full object means the same thing to both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from core.errors import PlanError, Retry, on_write
from resources.base import Ctx, Durations, P, Ref, Resource, shaped_declared, tag_dict, tag_list

_DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]{2,27}$")
_ENGINE = re.compile(r"^OpenSearch_(\d+)\.(\d+)$")
MIN_ENGINE = (2, 11)


def _domain_name(value: Any) -> str | None:
    return None if _DOMAIN_NAME.match(value) else \
        "must be 3-28 characters: a lowercase letter, then lowercase letters, digits or hyphens"


def _engine_version(value: Any) -> str | None:
    m = _ENGINE.match(value)
    if not m or (int(m.group(1)), int(m.group(2))) < MIN_ENGINE:
        return f"must be OpenSearch_{MIN_ENGINE[0]}.{MIN_ENGINE[1]} or later (OpenSearch_<major>.<minor>)"
    return None


_TF_DOMAIN = ("terraform-provider-aws internal/service/opensearch/domain.go domainErrorRetryable, around CreateDomain "
              "and UpdateDomainConfig (propagationTimeout: 2 min)")
# What OpenSearch answers while a role its access policy names (or the role it is passed) has not
# propagated, while the service-linked role is being created, and while a domain of the same name is
# still being deleted. ValidationException is also "your request is wrong": only these messages retry.
DOMAIN_RETRIES: tuple[Retry, ...] = (
    on_write("InvalidTypeException", "Error setting policy", 120, _TF_DOMAIN),
    *(on_write("ValidationException", message, 120, _TF_DOMAIN) for message in (
        "enable a service-linked role to give Amazon (ES|OpenSearch Service) permissions",
        "Domain is still being deleted",
        "Amazon OpenSearch Service must be allowed to use the passed role",
        "The passed role has not propagated yet",
        "Authentication error",
        "Unauthorized Operation: OpenSearch Service must be authorised to describe",
        "The passed role must authorize Amazon OpenSearch Service to describe",
    )),
)


# What a section or key removed from the plan goes back to (issue 13 C7): without a value for it,
# UpdateDomainConfig leaves the domain as it was. An empty AccessPolicies takes the policy off (Terraform's
# aws_opensearch_domain_policy does so on delete); an advanced option goes back to the default the API
# documents (botocore opensearch UpdateDomainConfig.AdvancedOptions).
NO_ACCESS_POLICY = ""
ADVANCED_DEFAULTS = {
    "rest.action.multi.allow_explicit_index": "true",
    "indices.query.bool.max_clause_count": "1024",
    "override_main_response_version": "false",  # the default of a created domain (AdvancedOptionsStatus)
}


class OpenSearchResource(Resource):
    """OpenSearch types share the service, its not-found code and ARN tagging (AddTags/ListTags)."""

    service = "opensearch"
    not_found = ("ResourceNotFoundException",)

    def tags_of(self, ctx: Ctx, arn: str) -> dict[str, str]:
        return tag_dict(ctx.client("opensearch").list_tags(ARN=arn).get("TagList"))


class Domain(OpenSearchResource):
    """An OpenSearch domain in the VPC's private subnets, encrypted, HTTPS only.

    The physical id is the domain name: every OpenSearch call takes it, and it
    is deterministic (`genai-demo-<env>-<name>`, cut to 28 characters), which
    is how find() locates a domain whose create was never recorded.
    """

    type_name = "opensearch.Domain"
    stateful = True  # a replacement destroys its data (issue 13): apply refuses it unless named
    retries = DOMAIN_RETRIES
    label = "OpenSearch domain"
    arn_kind = ("es", "domain")
    durations = Durations(create=900, update=900, delete=600)
    props = {
        "DomainName": P(str, validator=_domain_name, doc="default: genai-demo-<env>-<name>, max 28"),
        "EngineVersion": P(str, default="OpenSearch_2.11", validator=_engine_version),
        "ClusterConfig": P(dict, required=True),
        "EBSOptions": P(dict, default={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 20}),
        "VPCOptions": P(dict, doc="SubnetIds (one per AZ when zone aware) and SecurityGroupIds"),
        "EncryptionAtRestOptions": P(dict, default={"Enabled": True}),
        "NodeToNodeEncryptionOptions": P(dict, default={"Enabled": True}),
        "DomainEndpointOptions": P(dict, default={"EnforceHTTPS": True,
                                                  "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"}),
        "AccessPolicies": P((dict, str), doc="IAM policy document (dict or JSON text)"),
        "AdvancedOptions": P(dict),
        # Fine-grained access control (FSBP Opensearch.7): the security plugin checks every request against
        # roles, and an IAM master user (MasterUserOptions.MasterUserARN) holds all of them. AWS never answers
        # the master user back: read() keeps the declared one.
        "AdvancedSecurityOptions": P(dict, doc="Enabled, InternalUserDatabaseEnabled, MasterUserOptions "
                                               "{MasterUserARN}; needs HTTPS and both encryptions"),
        "LogPublishingOptions": P(dict, doc="{INDEX_SLOW_LOGS|SEARCH_SLOW_LOGS|ES_APPLICATION_LOGS|AUDIT_LOGS: "
                                            "{CloudWatchLogsLogGroupArn, Enabled}}; the groups need a "
                                            "logs.ResourcePolicy for es.amazonaws.com, AUDIT_LOGS needs "
                                            "fine-grained access control"),
    }
    # AWS cannot rename a domain. Encryption at rest is enabled in place (UpdateDomainConfig, every OpenSearch
    # version); what AWS cannot do to a running domain is refused at plan time (refusal()): the indices
    # would go with a replacement.
    replace_on = frozenset({"DomainName"})
    stateful = True
    change_notes = {
        "AccessPolicies": "removing it: in place, UpdateDomainConfig with an empty policy takes it off",
        "AdvancedOptions": "removing an option: in place, back to its documented default; an option with no "
                           "settable default (indices.fielddata.cache.size, unbounded) is refused",
        "EncryptionAtRestOptions": "enabling: in place (Terraform domain.go); disabling or a new KmsKeyId: "
                                   "refused (a new domain; CloudFormation createOnly is DomainName only)",
        "NodeToNodeEncryptionOptions": "enabling: in place; disabling: refused (Terraform ForceNewIf)",
        "VPCOptions": "subnets and groups of a VPC domain: in place; into or out of a VPC: refused "
                      "(Terraform ForceNew)",
        "AdvancedSecurityOptions": "enabling and the master user: in place; disabling: refused (Terraform "
                                   "ForceNewIf true -> false)",
    }
    outputs = ("DomainName", "DomainId", "Arn", "Endpoint")
    # Sections sent whole on every UpdateDomainConfig.
    updatable = ("ClusterConfig", "EBSOptions", "VPCOptions", "EncryptionAtRestOptions",
                 "NodeToNodeEncryptionOptions", "DomainEndpointOptions", "AccessPolicies", "AdvancedOptions",
                 "AdvancedSecurityOptions", "LogPublishingOptions")
    timeouts = {"create": 3600, "update": 3600, "delete": 2400}

    @classmethod
    def list_tagged(cls, clients: Any) -> Iterator[tuple[str, dict[str, str]]]:
        os_ = clients.client("opensearch")
        for d in os_.list_domain_names()["DomainNames"]:
            arn = os_.describe_domain(DomainName=d["DomainName"])["DomainStatus"]["ARN"]
            yield arn, tag_dict(os_.list_tags(ARN=arn)["TagList"])

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        cc = props["ClusterConfig"]
        if isinstance(cc, Ref):
            return
        if "InstanceType" not in cc or "InstanceCount" not in cc:
            raise PlanError(f"{where}: ClusterConfig needs InstanceType and InstanceCount")
        count = cc["InstanceCount"]
        azs = 1
        if cc.get("ZoneAwarenessEnabled"):
            azs = (cc.get("ZoneAwarenessConfig") or {}).get("AvailabilityZoneCount", 2)
            if azs not in (2, 3):
                raise PlanError(f"{where}: ZoneAwarenessConfig.AvailabilityZoneCount must be 2 or 3, got {azs}")
            if isinstance(count, int) and count % azs:
                raise PlanError(f"{where}: InstanceCount {count} must be a multiple of the {azs} zones "
                                "so every zone holds the same share of the data")
        if cc.get("DedicatedMasterEnabled"):
            if not cc.get("DedicatedMasterType") or cc.get("DedicatedMasterCount") not in (3, 5):
                raise PlanError(f"{where}: dedicated masters need DedicatedMasterType and "
                                "DedicatedMasterCount 3 or 5 (a quorum survives one zone)")
        subnets = (props.get("VPCOptions") or {}).get("SubnetIds")
        if isinstance(subnets, list | tuple) and len(subnets) != azs:
            raise PlanError(f"{where}: VPCOptions.SubnetIds must name one subnet per zone "
                            f"({azs}), got {len(subnets)}")
        ebs = props.get("EBSOptions") or {}
        if ebs.get("EBSEnabled") and not ebs.get("VolumeSize"):
            raise PlanError(f"{where}: EBSOptions.VolumeSize is required when EBS is enabled")
        security = props.get("AdvancedSecurityOptions") or {}
        if security.get("Enabled"):
            if not ((props.get("DomainEndpointOptions") or {}).get("EnforceHTTPS")
                    and (props.get("NodeToNodeEncryptionOptions") or {}).get("Enabled")
                    and (props.get("EncryptionAtRestOptions") or {}).get("Enabled")):
                raise PlanError(f"{where}: fine-grained access control needs DomainEndpointOptions.EnforceHTTPS, "
                                "node-to-node encryption and encryption at rest (OpenSearch refuses it otherwise)")
            if not security.get("InternalUserDatabaseEnabled") and \
                    not (security.get("MasterUserOptions") or {}).get("MasterUserARN"):
                raise PlanError(f"{where}: fine-grained access control without the internal user database needs "
                                "MasterUserOptions.MasterUserARN (the IAM role that administers the domain)")
        logs = props.get("LogPublishingOptions") or {}
        unknown = sorted(set(logs) - {"INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS"})
        if unknown:
            raise PlanError(f"{where}: LogPublishingOptions has unknown log types {unknown}")
        if (logs.get("AUDIT_LOGS") or {}).get("Enabled") and not security.get("Enabled"):
            raise PlanError(f"{where}: AUDIT_LOGS needs fine-grained access control (AdvancedSecurityOptions)")

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        """What UpdateDomainConfig cannot do to a running domain (Terraform's ForceNew and ForceNewIf in
        opensearch/domain.go), refused rather than replaced: a new domain starts without the indices."""
        changed = set(changed)
        where = f"{self.type_name} {self.name!r}"
        fix = ("; name it with --replace to rebuild it (its indices are lost), or keep the current setting")
        rest, new_rest = old.get("EncryptionAtRestOptions") or {}, new.get("EncryptionAtRestOptions") or {}
        if "EncryptionAtRestOptions" in changed and rest.get("Enabled"):
            if not new_rest.get("Enabled"):
                return f"{where}: OpenSearch cannot disable encryption at rest on a running domain{fix}"
            if rest.get("KmsKeyId") != new_rest.get("KmsKeyId"):
                return (f"{where}: OpenSearch cannot change the KMS key of a domain encrypted at rest "
                        f"({rest.get('KmsKeyId')} -> {new_rest.get('KmsKeyId')}){fix}")
        n2n, new_n2n = old.get("NodeToNodeEncryptionOptions") or {}, new.get("NodeToNodeEncryptionOptions") or {}
        if "NodeToNodeEncryptionOptions" in changed and n2n.get("Enabled") and not new_n2n.get("Enabled"):
            return f"{where}: OpenSearch cannot disable node-to-node encryption on a running domain{fix}"
        was, now = old.get("AdvancedSecurityOptions") or {}, new.get("AdvancedSecurityOptions") or {}
        if "AdvancedSecurityOptions" in changed and was.get("Enabled") and not now.get("Enabled"):
            return f"{where}: OpenSearch cannot turn fine-grained access control off on a running domain{fix}"
        if "VPCOptions" in changed and bool(old.get("VPCOptions")) != bool(new.get("VPCOptions")):
            return f"{where}: OpenSearch cannot move a running domain into or out of a VPC{fix}"
        if "AdvancedOptions" in changed and not isinstance(old.get("AdvancedOptions"), Ref):
            stuck = sorted(set(old.get("AdvancedOptions") or {}) - set(new.get("AdvancedOptions") or {})
                           - set(ADVANCED_DEFAULTS))
            if stuck:
                return (f"{where}: advanced option(s) {', '.join(stuck)} cannot be taken out: OpenSearch documents "
                        "no value that puts them back to their default (the domain would keep them); declare "
                        "the value you want instead")
        return super().refusal(old, new, changed)

    # -- helpers -------------------------------------------------------------------

    def domain_name(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        name = (props or self.properties).get("DomainName")
        return name if isinstance(name, str) else ctx.physical_name(max_len=28).lower()

    @staticmethod
    def _policy_text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    def _params(self, props: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
        out = {k: props[k] for k in keys if props.get(k) is not None}
        if "AccessPolicies" in out:
            out["AccessPolicies"] = self._policy_text(out["AccessPolicies"])
        return out

    def _update_params(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """The sections to send, with what resets the ones the plan no longer declares: a section left out
        of UpdateDomainConfig is kept as it is, so removing it from the plan alone would change nothing."""
        out = self._params(new, self.updatable)
        if old.get("AccessPolicies") and not new.get("AccessPolicies"):
            out["AccessPolicies"] = NO_ACCESS_POLICY
        removed = {k: ADVANCED_DEFAULTS[k] for k in (old.get("AdvancedOptions") or {})
                   if k in ADVANCED_DEFAULTS and k not in (new.get("AdvancedOptions") or {})}
        if removed:
            out["AdvancedOptions"] = {**removed, **(new.get("AdvancedOptions") or {})}
        dropped = {kind: dict(entry, Enabled=False) for kind, entry in (old.get("LogPublishingOptions") or {}).items()
                   if kind not in (new.get("LogPublishingOptions") or {})}
        if dropped:  # a log type left out keeps publishing: it is turned off
            out["LogPublishingOptions"] = {**dropped, **(new.get("LogPublishingOptions") or {})}
        return out

    def _status(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("opensearch").describe_domain, DomainName=name)
        if resp is None:
            return None
        st = resp["DomainStatus"]
        return None if st.get("Deleted") else st

    @staticmethod
    def _outputs(st: Mapping[str, Any]) -> dict[str, Any]:
        # A VPC domain has no public Endpoint; its address is Endpoints["vpc"].
        endpoint = (st.get("Endpoints") or {}).get("vpc") or st.get("Endpoint")
        return {"DomainName": st["DomainName"], "DomainId": st.get("DomainId"), "Arn": st["ARN"],
                "Endpoint": endpoint}

    # -- contract -------------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.domain_name(ctx, props)
        params = self._params(props, ("EngineVersion",) + self.updatable)
        ctx.client("opensearch").create_domain(DomainName=name, TagList=tag_list(ctx.tags), **params)
        ctx.wait("opensearch", "DomainAvailable", timeout_key="create", DomainName=name)
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        st = self._status(ctx, physical_id)
        return self._outputs(st) if st else {}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        st = self._status(ctx, physical_id)
        if st is None:
            return None
        declared = self.properties
        out: dict[str, Any] = {"EngineVersion": st.get("EngineVersion")}
        if "DomainName" in declared:
            out["DomainName"] = st["DomainName"]
        out |= shaped_declared(st, declared, ("ClusterConfig", "EBSOptions", "VPCOptions", "EncryptionAtRestOptions",
                                              "NodeToNodeEncryptionOptions", "DomainEndpointOptions",
                                              "AdvancedOptions", "AdvancedSecurityOptions", "LogPublishingOptions"))
        # DescribeDomain never answers the master user: the one recorded (ctx.props, resolved: the plan names
        # a role by Ref), else the declared one, stands for it.
        security = ctx.props.get("AdvancedSecurityOptions") or declared.get("AdvancedSecurityOptions")
        if isinstance(security, Mapping) and "MasterUserOptions" in security and "AdvancedSecurityOptions" in out:
            out["AdvancedSecurityOptions"] = dict(out["AdvancedSecurityOptions"],
                                                  MasterUserOptions=security["MasterUserOptions"])
        if "AccessPolicies" in declared:
            text = st.get("AccessPolicies") or ""
            out["AccessPolicies"] = json.loads(text) if text and not isinstance(declared["AccessPolicies"], str) \
                else text
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        client = ctx.client("opensearch")
        if new.get("EngineVersion") != old.get("EngineVersion"):
            # An in-place blue/green upgrade; AWS refuses downgrades itself.
            ctx.wait("opensearch", "DomainAvailable", timeout_key="update", DomainName=physical_id)
            resp = client.upgrade_domain(DomainName=physical_id, TargetVersion=new["EngineVersion"])
            self._settle(ctx, physical_id, resp.get("ChangeProgressDetails"))
        changed = tuple(k for k in self.updatable if new.get(k) != old.get(k))
        if changed:
            # Whole objects for every section we manage, not only the changed
            # ones: moto replaces a section with whatever is sent.
            ctx.wait("opensearch", "DomainAvailable", timeout_key="update", DomainName=physical_id)
            resp = client.update_domain_config(DomainName=physical_id, **self._update_params(old, new))
            self._settle(ctx, physical_id, (resp.get("DomainConfig") or {}).get("ChangeProgressDetails"))
        out = self.outputs_of(ctx, physical_id)
        client.add_tags(ARN=out["Arn"], TagList=tag_list(ctx.tags))
        return out

    @staticmethod
    def _settle(ctx: Ctx, name: str, progress: Mapping[str, Any] | None) -> None:
        """Wait for the change AWS started, by its ChangeId, then for the domain to be usable.

        Right after the call the domain may still read Processing=false: that
        is the state before the change, not after it (AWS refuses a second
        change meanwhile: "A change/update is in progress")."""
        change = (progress or {}).get("ChangeId")
        if change:
            ctx.wait("opensearch", "DomainChangeCompleted", timeout_key="update", DomainName=name, ChangeId=change)
        ctx.wait("opensearch", "DomainAvailable", timeout_key="update", DomainName=name)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        if self.ignore_gone(ctx.client("opensearch").delete_domain, DomainName=physical_id) is None:
            return
        ctx.wait("opensearch", "DomainDeleted", timeout_key="delete", DomainName=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.domain_name(ctx)
        st = self._status(ctx, name)
        if st is None:
            return None
        owner = self.tags_of(ctx, st["ARN"]).get("infra:address")
        if owner not in (None, ctx.address):
            return None  # same name, someone else's domain: never adopt it
        return name, self._outputs(st)
