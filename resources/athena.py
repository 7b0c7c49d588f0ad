"""Athena: the analytics workgroup (encrypted results, scan limit) and its saved queries.

Both are synchronous: usable when the create call returns, so no waiter.
Athena reports "not found" as InvalidRequestException with a message (it has
no dedicated code), so this module's `gone` also reads the message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from core.errors import PlanError, error_message
from resources.base import Ctx, P, Resource, ResourceError, partition, shaped, tag_dict, tag_list

_WG_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")
MIN_SCAN_CUTOFF = 10_000_000  # bytes; AWS's minimum per-query limit (10 MB)


class AthenaResource(Resource):
    service = "athena"
    not_found = ("ResourceNotFoundException",)

    def gone(self, exc: BaseException) -> bool:
        if super().gone(exc):
            return True
        msg = error_message(exc).lower()
        return self.code(exc) == "InvalidRequestException" and ("not found" in msg or "does not exist" in msg)


class WorkGroup(AthenaResource):
    """A workgroup whose configuration is enforced on every query run in it.

    The physical id is the workgroup name (every call takes it).
    """

    type_name = "athena.WorkGroup"
    label = "Athena workgroup"
    arn_kind = ("athena", "workgroup")
    props = {
        "Name": P(str, validator=lambda v: None if _WG_NAME.match(v) else
                  "must be 1-128 letters, digits, '.', '_' or '-'"),
        "Description": P(str),
        "Configuration": P(dict, required=True,
                           doc="ResultConfiguration, BytesScannedCutoffPerQuery, EnforceWorkGroupConfiguration..."),
    }
    replace_on = frozenset({"Name"})
    change_notes = {"Configuration": "in place with UpdateWorkGroup (Remove* flags for what the plan drops, "
                                     "managed query results as ManagedQueryResultsConfigurationUpdates); "
                                     "IdentityCenterConfiguration, fixed at create, is refused"}
    outputs = ("Name", "Arn")

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        cfg = props["Configuration"]
        rc = cfg.get("ResultConfiguration") or {}
        loc = rc.get("OutputLocation")
        if isinstance(loc, str) and not (loc.startswith("s3://") and loc.endswith("/")):
            raise PlanError(f"{where}: ResultConfiguration.OutputLocation {loc!r} must be an s3:// prefix ending in /")
        enc = rc.get("EncryptionConfiguration") or {}
        if enc.get("EncryptionOption") in ("SSE_KMS", "CSE_KMS") and not enc.get("KmsKey"):
            raise PlanError(f"{where}: EncryptionOption {enc['EncryptionOption']} needs a KmsKey")
        if enc and enc.get("EncryptionOption") not in ("SSE_S3", "SSE_KMS", "CSE_KMS"):
            raise PlanError(f"{where}: EncryptionOption must be SSE_S3, SSE_KMS or CSE_KMS")
        cutoff = cfg.get("BytesScannedCutoffPerQuery")
        if isinstance(cutoff, int) and cutoff < MIN_SCAN_CUTOFF:
            raise PlanError(f"{where}: BytesScannedCutoffPerQuery must be at least {MIN_SCAN_CUTOFF} bytes (10 MB)")

    # -- helpers -------------------------------------------------------------------

    def group_name(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        name = (props or self.properties).get("Name")
        return name if isinstance(name, str) else ctx.physical_name(max_len=128)

    @staticmethod
    def arn(ctx: Ctx, name: str) -> str:
        return f"arn:{partition(ctx.region)}:athena:{ctx.region}:{ctx.account_id}:workgroup/{name}"

    def _get(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("athena").get_work_group, WorkGroup=name)
        if resp is None:
            return None
        wg = resp.get("WorkGroup")
        return wg or None  # moto answers an empty 200 for unknown workgroups

    @staticmethod
    def configuration_updates(cfg: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """UpdateWorkGroup's ConfigurationUpdates saying "make it exactly `cfg`".

        Absent settings are removed explicitly (Remove* flags), otherwise
        AWS would keep the old result encryption or scan limit.
        """
        # The create shape's members that WorkGroupConfigurationUpdates lacks (botocore): Identity Center is
        # fixed at create (refusal() stops a change), system tables are not settable later, and managed
        # query results go as ManagedQueryResultsConfigurationUpdates.
        fixed = ("ResultConfiguration", "IdentityCenterConfiguration", "SystemTableStatuses",
                 "ManagedQueryResultsConfiguration")
        up: dict[str, Any] = {k: v for k, v in cfg.items() if k not in fixed}
        if "BytesScannedCutoffPerQuery" not in cfg:
            up["RemoveBytesScannedCutoffPerQuery"] = True
        if "CustomerContentEncryptionConfiguration" in (old or {}) and "CustomerContentEncryptionConfiguration" not in cfg:
            up["RemoveCustomerContentEncryptionConfiguration"] = True
        managed = cfg.get("ManagedQueryResultsConfiguration")
        if managed is not None:
            up["ManagedQueryResultsConfigurationUpdates"] = dict(
                managed, **({} if "EncryptionConfiguration" in managed else {"RemoveEncryptionConfiguration": True}))
        rc = cfg.get("ResultConfiguration") or {}
        ru: dict[str, Any] = dict(rc)
        if "OutputLocation" not in rc:
            ru["RemoveOutputLocation"] = True
        if "EncryptionConfiguration" not in rc:
            ru["RemoveEncryptionConfiguration"] = True
        up["ResultConfigurationUpdates"] = ru
        return up

    # -- contract -------------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.group_name(ctx, props)
        params: dict[str, Any] = {"Name": name, "Configuration": props["Configuration"],
                                  "Tags": tag_list(ctx.tags)}
        if props.get("Description"):
            params["Description"] = props["Description"]
        ctx.client("athena").create_work_group(**params)
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"Name": physical_id, "Arn": self.arn(ctx, physical_id)}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        wg = self._get(ctx, physical_id)
        if wg is None:
            return None
        out: dict[str, Any] = {"Configuration": shaped(wg.get("Configuration") or {},
                                                        self.properties.get("Configuration") or {})}
        if wg.get("Description"):
            out["Description"] = wg["Description"]
        if "Name" in self.properties:
            out["Name"] = wg["Name"]
        return out

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        """A workgroup's IAM Identity Center setting is chosen at create: UpdateWorkGroup has no member for it."""
        a, b = (dict(x.get("Configuration") or {}) for x in (old, new))
        if old and a.get("IdentityCenterConfiguration") != b.get("IdentityCenterConfiguration"):
            return (f"{self.type_name} {self.address}: Configuration.IdentityCenterConfiguration is fixed when the "
                    "workgroup is created (UpdateWorkGroup cannot change it); pass --replace ADDR to re-create it")
        return super().refusal(old, new, changed)

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        athena = ctx.client("athena")
        why = self.refusal(old, new, [k for k in new if old.get(k) != new.get(k)])
        if why:
            raise ResourceError(why)
        athena.update_work_group(WorkGroup=physical_id, Description=new.get("Description") or "",
                                 ConfigurationUpdates=self.configuration_updates(new["Configuration"],
                                                                                 old.get("Configuration")))
        athena.tag_resource(ResourceARN=self.arn(ctx, physical_id), Tags=tag_list(ctx.tags))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        # Recursive: the workgroup's named queries and query history go with it.
        self.ignore_gone(ctx.client("athena").delete_work_group, WorkGroup=physical_id, RecursiveDeleteOption=True)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.group_name(ctx)
        if self._get(ctx, name) is None:
            return None
        tags = tag_dict(ctx.client("athena").list_tags_for_resource(ResourceARN=self.arn(ctx, name)).get("Tags"))
        if tags.get("infra:address") not in (None, ctx.address):
            return None  # same name, another owner: never adopt
        return name, self.outputs_of(ctx, name)


class NamedQuery(AthenaResource):
    """A saved query in a workgroup. Its id is AWS's NamedQueryId; named queries carry no
    tags, so find() looks the query up by name among the workgroup's named queries."""

    type_name = "athena.NamedQuery"
    label = "named query"
    props = {
        "Name": P(str, required=True),
        "Description": P(str),
        "Database": P(str, required=True),
        "QueryString": P(str, required=True),
        "WorkGroup": P(str, required=True),
    }
    replace_on = frozenset({"Database", "WorkGroup"})
    change_notes = {k: "in place with UpdateNamedQuery (it takes Name, Description and QueryString); "
                       "CloudFormation replaces the query" for k in ("Name", "Description", "QueryString")}
    outputs = ("NamedQueryId", "Name")

    @staticmethod
    def _token(ctx: Ctx) -> str | None:
        # ClientRequestToken must be 32-128 characters: stretch a shorter run token deterministically.
        if not ctx.token:
            return None
        return ctx.token if 32 <= len(ctx.token) <= 128 else hashlib.sha256(ctx.token.encode()).hexdigest()

    def _get(self, ctx: Ctx, query_id: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("athena").get_named_query, NamedQueryId=query_id)
        return None if resp is None else resp["NamedQuery"]

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        params = {k: props[k] for k in ("Name", "Description", "Database", "QueryString", "WorkGroup")
                  if props.get(k) is not None}
        token = self._token(ctx)
        if token:
            params["ClientRequestToken"] = token
        qid = ctx.client("athena").create_named_query(**params)["NamedQueryId"]
        return qid, {"NamedQueryId": qid, "Name": props["Name"]}

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        q = self._get(ctx, physical_id) or {}
        return {"NamedQueryId": physical_id, "Name": q.get("Name")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        q = self._get(ctx, physical_id)
        if q is None:
            return None
        out = {k: q[k] for k in ("Name", "Database", "QueryString", "WorkGroup") if k in q}
        if q.get("Description"):
            out["Description"] = q["Description"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        params = {"NamedQueryId": physical_id, "Name": new["Name"], "QueryString": new["QueryString"]}
        if new.get("Description") is not None:
            params["Description"] = new["Description"]
        ctx.client("athena").update_named_query(**params)
        return {"NamedQueryId": physical_id, "Name": new["Name"]}

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("athena").delete_named_query, NamedQueryId=physical_id)

    def _workgroups(self, ctx: Ctx) -> Iterator[str]:
        wg = self.properties.get("WorkGroup")
        if isinstance(wg, str):
            yield wg
            return
        # The workgroup is a reference not resolved yet: look in every workgroup.
        # (botocore declares no paginator for ListWorkGroups: follow NextToken.)
        kw: dict[str, Any] = {}
        while True:
            page = ctx.client("athena").list_work_groups(**kw)
            yield from (w["Name"] for w in page.get("WorkGroups", ()))
            if not page.get("NextToken"):
                return
            kw["NextToken"] = page["NextToken"]

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        athena = ctx.client("athena")
        for wg in self._workgroups(ctx):
            try:
                pages = list(athena.get_paginator("list_named_queries").paginate(WorkGroup=wg))
            except Exception as exc:
                if self.gone(exc):
                    continue
                raise
            for qid in (i for p in pages for i in p.get("NamedQueryIds", ())):
                q = self._get(ctx, qid)
                if q and q.get("Name") == self.properties["Name"]:
                    return qid, {"NamedQueryId": qid, "Name": q["Name"]}
        return None
