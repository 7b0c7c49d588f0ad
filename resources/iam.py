"""IAM types: roles (with their managed and inline policies) and OIDC identity providers.

IAM is global and eventually consistent, it cannot be found through the
tagging API, and a role cannot be deleted while anything is attached to it.
So a role owns its attachments: create attaches, update diffs, delete
detaches everything (including policies and instance profiles someone else
added) before deleting. Roles are found by their deterministic name, OIDC
providers by their `infra:address` tag.

Policy documents are dicts in the plan. A document whose *keys* need a value
known only at apply time (the IRSA trust condition key
`<issuer>:sub`) cannot be a dict of Refs, because Refs are resolved in values
only; `policy_document()` turns such a document into a Join over its JSON
text, and the types accept that string form too.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from core.errors import PlanError, Retry, is_not_found, on_write
from resources.account import as_declared, render
from resources.base import (
    BatchRead,
    Ctx,
    Join,
    P,
    Ref,
    Resource,
    owned_by,
    tag_changes,
    tag_dict,
    tag_list,
    walk_refs,
)

# ------------------------------------------------------------------------- documents

_SEPARATORS = (",", ":")


def canonical(doc: Any) -> str:
    """The one JSON text this module sends and compares: compact, key order kept.

    IAM stores the text it is given, so re-encoding what it returns with the
    same settings reproduces the declared string exactly.
    """
    return json.dumps(doc, separators=_SEPARATORS)


def policy_document(doc: Mapping[str, Any]) -> dict[str, Any] | Join:
    """`doc` itself when Refs appear only as values; else a Join over its JSON text.

    Keys may be a Ref or a Join (e.g. Join(provider["Issuer"], ":sub")); values
    may be Refs/Joins that resolve to strings. The Join resolves to the same
    text `canonical()` would give for the resolved document.
    """
    holes: dict[str, Any] = {}
    counter = itertools.count()
    has_ref_key = False

    def hole(value: Any) -> str:
        token = f"\u0000{next(counter)}\u0000"
        holes[token] = value
        return token

    def encode(value: Any) -> Any:
        nonlocal has_ref_key
        if isinstance(value, Ref | Join):
            return hole(value)
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if isinstance(k, Ref | Join):
                    has_ref_key = True
                    k = hole(k)
                out[k] = encode(v)
            return out
        if isinstance(value, list | tuple):
            return [encode(v) for v in value]
        return value

    encoded = encode(doc)
    if not has_ref_key:
        return dict(doc)
    # json.dumps escapes NUL as \u0000, so look for the escaped form of each token.
    text = canonical(encoded)
    parts: list[Any] = []
    for piece in re.split(r"(\\u0000\d+\\u0000)", text):
        token = piece.replace("\\u0000", "\u0000")
        parts.append(holes[token] if token in holes else piece)
    return Join(*[p for p in parts if p != ""])


def as_dict(doc: Any) -> dict[str, Any]:
    """A resolved document (dict, or JSON text from a Join) as a dict for the API."""
    return json.loads(doc) if isinstance(doc, str) else dict(doc)


def same_shape(declared: Any, actual: dict[str, Any]) -> Any:
    """What AWS holds, in the shape the plan declared it (dict, or JSON text)."""
    return canonical(actual) if isinstance(declared, str | Join) else actual


def _is_doc(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return None
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError as exc:
            return f"is not a JSON policy document ({exc})"
        return None
    return "must be a policy document (dict, or JSON text)"


# ------------------------------------------------------------------------- base


# IAM refuses a trust policy naming a principal it created moments ago (an OIDC provider made by the same
# apply, for IRSA roles; a role) as "Invalid principal in policy", until the principal has propagated.
# A trust policy that names a principal that does not exist at all gets the same answer: it costs the
# budget, then fails, as it does under Terraform.
ROLE_RETRIES: tuple[Retry, ...] = (
    on_write("MalformedPolicyDocument", "Invalid principal in policy", 120,
             "terraform-provider-aws internal/service/iam/role.go retryCreateRole and UpdateAssumeRolePolicy "
             "(propagationTimeout: 2 min)"),
)


class IamResource(Resource):
    """IAM: NoSuchEntity means gone; tags are list-shaped; names are global to the account."""

    service = "iam"
    not_found = ("NoSuchEntity", "NoSuchEntityException")
    timeouts = {"create": 300, "update": 300, "delete": 300}


# ------------------------------------------------------------------------- role


class Role(BatchRead, IamResource):
    """An IAM role, its trust policy, attached managed policies and inline policies."""

    type_name = "iam.Role"
    retries = ROLE_RETRIES
    label = "role"
    arn_kind = ("iam", "role")
    props = {
        "RoleName": P(str, doc="default: genai-demo-<env>-<name> (64 characters at most)"),
        "AssumeRolePolicyDocument": P(object, required=True, validator=_is_doc),
        "ManagedPolicyArns": P(list, default=[]),
        "InlinePolicies": P(dict, default={}, doc="policy name -> document"),
        "Path": P(str, default="/"),
        "Description": P(str, default=""),
        "MaxSessionDuration": P(int, default=3600),
    }
    replace_on = frozenset({"RoleName", "Path"})
    outputs = ("Arn", "RoleName", "RoleId")

    @classmethod
    def list_tagged(cls, clients: Any) -> Iterator[tuple[str, dict[str, str]]]:
        """IAM is global: the regional tagging API does not return roles."""
        iam = clients.client("iam")
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                yield role["Arn"], tag_dict(iam.list_role_tags(RoleName=role["RoleName"])["Tags"])

    def validate(self, props: dict[str, Any]) -> None:
        arns = props.get("ManagedPolicyArns")
        # AWS reports attachments as a set; keep declared plain ARNs sorted so they compare.
        if isinstance(arns, list) and not any(True for _ in walk_refs(arns)):
            props["ManagedPolicyArns"] = sorted(set(arns))
        for name, doc in (props.get("InlinePolicies") or {}).items():
            msg = None if isinstance(doc, Ref | Join) else _is_doc(doc)
            if msg:
                raise PlanError(f"{self.type_name} {self.name!r}: inline policy {name!r} {msg}")
        dur = props.get("MaxSessionDuration")
        if isinstance(dur, int) and not 3600 <= dur <= 43200:
            raise PlanError(f"{self.type_name} {self.name!r}: MaxSessionDuration must be in [3600, 43200]")

    def role_name(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        name = (props or self.properties).get("RoleName")
        return name if isinstance(name, str) else ctx.physical_name(max_len=64)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        iam = ctx.client("iam")
        name = self.role_name(ctx, props)
        extra = {"Description": props["Description"]} if props.get("Description") else {}
        iam.create_role(RoleName=name, Path=props["Path"], **extra,
                        AssumeRolePolicyDocument=canonical(render(as_dict(props["AssumeRolePolicyDocument"]),
                                                                  ctx.account_id)),
                        MaxSessionDuration=props["MaxSessionDuration"], Tags=tag_list(ctx.tags))
        ctx.wait("iam", "RoleExists", RoleName=name)
        self._sync_policies(ctx, name, {}, props)
        return name, self.outputs_of(ctx, name)

    def _sync_policies(self, ctx: Ctx, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        iam = ctx.client("iam")
        have, want = set(old.get("ManagedPolicyArns") or ()), set(new.get("ManagedPolicyArns") or ())
        for arn in sorted(want - have):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        for arn in sorted(have - want):
            self.ignore_gone(iam.detach_role_policy, RoleName=name, PolicyArn=arn)
        have_inline, want_inline = old.get("InlinePolicies") or {}, new.get("InlinePolicies") or {}
        for pname, doc in want_inline.items():
            if pname not in have_inline or as_dict(have_inline[pname]) != as_dict(doc):
                iam.put_role_policy(RoleName=name, PolicyName=pname,
                                    PolicyDocument=canonical(render(as_dict(doc), ctx.account_id)))
        for pname in have_inline.keys() - want_inline.keys():
            self.ignore_gone(iam.delete_role_policy, RoleName=name, PolicyName=pname)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        role = ctx.client("iam").get_role(RoleName=physical_id)["Role"]
        return {"Arn": role["Arn"], "RoleName": role["RoleName"], "RoleId": role["RoleId"]}

    @staticmethod
    def _attached(ctx: Ctx, name: str) -> list[str]:
        pages = ctx.client("iam").get_paginator("list_attached_role_policies").paginate(RoleName=name)
        return sorted(p["PolicyArn"] for page in pages for p in page["AttachedPolicies"])

    @staticmethod
    def _inline_names(ctx: Ctx, name: str) -> list[str]:
        pages = ctx.client("iam").get_paginator("list_role_policies").paginate(RoleName=name)
        return [n for page in pages for n in page["PolicyNames"]]

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """{role name: (role, {inline policy name: document}, sorted attached ARNs)} of those that exist.

        IAM has no call that describes several named roles. One role costs GetRole, the two
        policy listings and a GetRolePolicy per inline policy (~4 calls). Several roles are read
        from the account-wide listings instead: ListRoles (description, session duration) and
        GetAccountAuthorizationDetails (trust, inline and attached policies), each up to 1,000
        roles per call, so a refresh of N roles costs 2 calls in most accounts instead of ~4N.
        """
        iam = ctx.client("iam")
        if len(ids) == 1:
            name = ids[0]
            try:
                role = iam.get_role(RoleName=name)["Role"]
                inline = {p: as_dict(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])
                          for p in cls._inline_names(ctx, name)}
                return {name: (role, inline, cls._attached(ctx, name))}
            except Exception as exc:
                if is_not_found(exc, cls.not_found):
                    return {}
                raise
        wanted, page_size = set(ids), {"PageSize": 1000}
        roles = {r["RoleName"]: r for page in iam.get_paginator("list_roles").paginate(PaginationConfig=page_size)
                 for r in page["Roles"] if r["RoleName"] in wanted}
        details = iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["Role"], PaginationConfig=page_size)
        out: dict[str, Any] = {}
        for d in (d for page in details for d in page["RoleDetailList"]):
            if d["RoleName"] in roles:  # listed by both (a role made between the two calls is left out)
                inline = {p["PolicyName"]: as_dict(p["PolicyDocument"]) for p in d.get("RolePolicyList", [])}
                attached = sorted(p["PolicyArn"] for p in d.get("AttachedManagedPolicies", []))
                out[d["RoleName"]] = ({**roles[d["RoleName"]], **d}, inline, attached)
        return out

    def props_from(self, ctx: Ctx, physical_id: str, raw: Any) -> dict[str, Any] | None:
        role, inline_docs, attached = raw
        declared_inline = self.properties.get("InlinePolicies") or {}
        inline = {pname: same_shape(declared_inline.get(pname),
                                    as_declared(declared_inline.get(pname), doc, ctx.account_id))
                  for pname, doc in inline_docs.items()}
        # The name is the physical id; report it only when the plan declared one.
        named = {"RoleName": role["RoleName"]} if "RoleName" in self.properties else {}
        return {
            **named,
            "AssumeRolePolicyDocument": same_shape(self.properties.get("AssumeRolePolicyDocument"), as_declared(
                self.properties.get("AssumeRolePolicyDocument"), as_dict(role["AssumeRolePolicyDocument"]),
                ctx.account_id)),
            "ManagedPolicyArns": attached,
            "InlinePolicies": inline,
            "Path": role["Path"],
            "Description": role.get("Description", ""),
            "MaxSessionDuration": role.get("MaxSessionDuration", 3600),
        }

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        iam = ctx.client("iam")
        if as_dict(old["AssumeRolePolicyDocument"]) != as_dict(new["AssumeRolePolicyDocument"]):
            iam.update_assume_role_policy(RoleName=physical_id,
                                          PolicyDocument=canonical(render(as_dict(new["AssumeRolePolicyDocument"]),
                                                                          ctx.account_id)))
        if (old.get("Description"), old.get("MaxSessionDuration")) != \
                (new.get("Description"), new.get("MaxSessionDuration")):
            iam.update_role(RoleName=physical_id, Description=new.get("Description") or "",
                            MaxSessionDuration=new["MaxSessionDuration"])
        self._sync_policies(ctx, physical_id, old, new)
        self._sync_tags(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def _sync_tags(self, ctx: Ctx, name: str) -> None:
        iam = ctx.client("iam")
        have = tag_dict(iam.list_role_tags(RoleName=name)["Tags"])
        stale, changed = tag_changes(have, ctx.tags)
        if stale:
            iam.untag_role(RoleName=name, TagKeys=stale)
        if changed:
            iam.tag_role(RoleName=name, Tags=tag_list(ctx.tags))

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        """Detach and delete everything hanging off the role (AWS refuses otherwise), then the role."""
        iam = ctx.client("iam")
        try:
            attached = self._attached(ctx, physical_id)
            inline = self._inline_names(ctx, physical_id)
            profiles = [p["InstanceProfileName"] for page in
                        iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=physical_id)
                        for p in page["InstanceProfiles"]]
        except Exception as exc:
            if self.gone(exc):
                return
            raise
        for arn in attached:
            self.ignore_gone(iam.detach_role_policy, RoleName=physical_id, PolicyArn=arn)
        for pname in inline:
            self.ignore_gone(iam.delete_role_policy, RoleName=physical_id, PolicyName=pname)
        for prof in profiles:
            # A profile holds one role; without it the profile is an orphan.
            self.ignore_gone(iam.remove_role_from_instance_profile, InstanceProfileName=prof, RoleName=physical_id)
            self.ignore_gone(iam.delete_instance_profile, InstanceProfileName=prof)
        self.ignore_gone(iam.delete_role, RoleName=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        """By name, and only when its tags (given at create) say it is this address's: a role of
        that name made by hand is never adopted, even after CreateRole answered EntityAlreadyExists."""
        name = self.role_name(ctx)
        try:
            tags = tag_dict(ctx.client("iam").list_role_tags(RoleName=name)["Tags"])
            return (name, self.outputs_of(ctx, name)) if owned_by(tags, ctx) else None
        except Exception as exc:
            if self.gone(exc):
                return None
            raise


# ------------------------------------------------------------------------- OIDC provider

# Thumbprint of the root CA behind every oidc.eks.<region>.amazonaws.com issuer.
# Since 2024 IAM trusts its own root CAs for EKS issuers and ignores it, but the
# API still records one, so declaring it keeps read() and the plan in agreement.
EKS_OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def _thumbprints(value: Any) -> str | None:
    if not all(isinstance(t, str) and re.fullmatch(r"[0-9a-fA-F]{40}", t) for t in value):
        return "must hold 40-hex-digit SHA-1 thumbprints"
    return None if len(value) <= 5 else "holds at most 5 thumbprints"


class OpenIDConnectProvider(IamResource):
    """The IAM identity provider for a cluster's OIDC issuer: what IRSA roles trust.

    The physical id is the provider ARN. Outputs `Issuer` (the URL without
    https://) because IRSA trust conditions are keyed `<issuer>:sub`.
    """

    type_name = "iam.OpenIDConnectProvider"
    label = "OIDC provider"
    arn_kind = ("iam", "oidc-provider")
    props = {
        "Url": P(str, required=True),
        "ClientIDList": P(list, default=["sts.amazonaws.com"]),
        "ThumbprintList": P(list, default=[EKS_OIDC_THUMBPRINT], validator=_thumbprints),
    }
    replace_on = frozenset({"Url"})
    outputs = ("Arn", "Url", "Issuer")

    @classmethod
    def list_tagged(cls, clients: Any) -> Iterator[tuple[str, dict[str, str]]]:
        """IAM is global: the regional tagging API does not return OIDC providers."""
        iam = clients.client("iam")
        for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            yield p["Arn"], tag_dict(iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=p["Arn"])["Tags"])

    @staticmethod
    def _url(url: str) -> str:
        return url if url.startswith("https://") else "https://" + url

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        arn = ctx.client("iam").create_open_id_connect_provider(
            Url=self._url(props["Url"]), ClientIDList=list(props["ClientIDList"]),
            ThumbprintList=list(props["ThumbprintList"]), Tags=tag_list(ctx.tags))["OpenIDConnectProviderArn"]
        return arn, self.outputs_of(ctx, arn)

    def _get(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        return self.ignore_gone(ctx.client("iam").get_open_id_connect_provider, OpenIDConnectProviderArn=arn)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        got = self._get(ctx, physical_id) or {}
        issuer = got.get("Url", "").removeprefix("https://")
        return {"Arn": physical_id, "Url": "https://" + issuer, "Issuer": issuer}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        got = self._get(ctx, physical_id)
        if got is None:
            return None
        return {"Url": self._url(got["Url"]), "ClientIDList": list(got.get("ClientIDList", [])),
                "ThumbprintList": list(got.get("ThumbprintList", []))}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        iam = ctx.client("iam")
        if list(old["ThumbprintList"]) != list(new["ThumbprintList"]):
            iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=physical_id,
                                                           ThumbprintList=list(new["ThumbprintList"]))
        have, want = set(old["ClientIDList"]), set(new["ClientIDList"])
        for cid in sorted(want - have):
            iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=physical_id, ClientID=cid)
        for cid in sorted(have - want):
            iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=physical_id, ClientID=cid)
        stale, changed = tag_changes(self._tags(ctx, physical_id), ctx.tags)
        if stale:
            iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=physical_id, TagKeys=stale)
        if changed:
            iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=physical_id, Tags=tag_list(ctx.tags))
        return self.outputs_of(ctx, physical_id)

    def _tags(self, ctx: Ctx, arn: str) -> dict[str, str]:
        got = self._get(ctx, arn) or {}
        return tag_dict(got.get("Tags"))

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("iam").delete_open_id_connect_provider, OpenIDConnectProviderArn=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        """Providers cannot be filtered by tag server-side; there are few per account, so look at each."""
        iam = ctx.client("iam")
        for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            if owned_by(self._tags(ctx, entry["Arn"]), ctx) and entry["Arn"] not in ctx.old_copies:
                return entry["Arn"], self.outputs_of(ctx, entry["Arn"])
        return None



# ------------------------------------------------------------------------- service-linked role

# The role IAM creates for each service (IAM User Guide, "AWS services that work with IAM", column
# "Service-linked roles"; the name is AWS's, not ours). Knowing it lets find() adopt a role that a console
# or another environment of the same account created first.
SERVICE_LINKED_ROLE_NAMES = {
    "opensearchservice.amazonaws.com": "AWSServiceRoleForAmazonOpenSearchService",
    "es.amazonaws.com": "AWSServiceRoleForAmazonElasticsearchService",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
    "elasticache.amazonaws.com": "AWSServiceRoleForElastiCache",
    "eks.amazonaws.com": "AWSServiceRoleForAmazonEKS",
    "eks-nodegroup.amazonaws.com": "AWSServiceRoleForAmazonEKSNodegroup",
    "eks-fargate.amazonaws.com": "AWSServiceRoleForAmazonEKSForFargate",
    "kafka.amazonaws.com": "AWSServiceRoleForKafka",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
}


def _linked_service(value: Any) -> str | None:
    if value in SERVICE_LINKED_ROLE_NAMES:
        return None
    return "must be one of " + ", ".join(sorted(SERVICE_LINKED_ROLE_NAMES))


class ServiceLinkedRole(IamResource):
    """The role a service assumes to act in the account: one per service per account, named by AWS.

    Some services create theirs on first use; OpenSearch does not for a VPC domain created through the API
    (CreateDomain fails until AWSServiceRoleForAmazonOpenSearchService exists), as Terraform's
    aws_iam_service_linked_role is there for. The role is the account's, not this environment's: create
    adopts the one that exists (made by the console, or by another environment of the account), and
    destroy leaves it, because every environment's domains in the account depend on it and AWS's deletion
    task fails while any does (DeleteServiceLinkedRole then GetServiceLinkedRoleDeletionStatus FAILED).
    It cannot be tagged by its creator, so it is found by its AWS-given name.
    """

    type_name = "iam.ServiceLinkedRole"
    label = "service-linked role"
    props = {
        "AWSServiceName": P(str, required=True, validator=_linked_service,
                            doc="the service's principal, e.g. opensearchservice.amazonaws.com"),
        "Description": P(str, default=""),
    }
    replace_on = frozenset({"AWSServiceName"})
    outputs = ("Arn", "RoleName")

    def role_name(self, props: Mapping[str, Any] | None = None) -> str:
        return SERVICE_LINKED_ROLE_NAMES[(props or self.properties)["AWSServiceName"]]

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.role_name(props)
        if self._get(ctx, name) is None:
            extra = {"Description": props["Description"]} if props.get("Description") else {}
            try:
                ctx.client("iam").create_service_linked_role(AWSServiceName=props["AWSServiceName"], **extra)
            except Exception as exc:
                # Another environment (or the console) made it between our look and our call: it is the one.
                if not (self.code(exc) == "InvalidInput" and "has been taken" in str(exc)):
                    raise
            ctx.wait("iam", "RoleExists", RoleName=name)
        return name, self.outputs_of(ctx, name)

    def _get(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        got = self.ignore_gone(ctx.client("iam").get_role, RoleName=name)
        return got["Role"] if got else None

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        role = self._get(ctx, physical_id) or {}
        return {"Arn": role.get("Arn"), "RoleName": physical_id}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        role = self._get(ctx, physical_id)
        if role is None:
            return None
        service = role.get("Path", "").removeprefix("/aws-service-role/").rstrip("/")
        return {"AWSServiceName": service, "Description": role.get("Description") or ""}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if old.get("Description") != new.get("Description"):
            ctx.client("iam").update_role_description(RoleName=physical_id, Description=new.get("Description") or "")
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        """Left in the account (see the class docstring): the record goes, the role stays for the next apply
        and for the other environments; `infra scan` does not report it (it carries no tags of ours)."""

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.role_name()
        return (name, self.outputs_of(ctx, name)) if self._get(ctx, name) is not None else None
