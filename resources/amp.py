"""Amazon Managed Service for Prometheus: a workspace and its recording/alerting rules.

A workspace's id is chosen by AWS and its alias need not be unique, so
find() looks for the workspace carrying our `infra:address` tag (the tags
come back with every workspace listing). CreateWorkspace and friends accept
a client token, so a retried create is not a second workspace.
A rule groups namespace is keyed "<workspaceId>|<name>" and its rules are a
Prometheus rules YAML document, replaced whole by PutRuleGroupsNamespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.errors import PlanError
from resources.base import Ctx, KnownProps, P, Resource, ResourceError, name_or_default

SEP = "|"


class AmpResource(KnownProps, Resource):
    service = "amp"
    not_found = ("ResourceNotFoundException",)

    @staticmethod
    def token(ctx: Ctx, op: str) -> dict[str, str]:
        """The executor's idempotency token, distinct per operation (one token means one request)."""
        return {"clientToken": f"{ctx.token}-{op}"[:64]} if ctx.token else {}


class Workspace(AmpResource):
    """A Prometheus workspace (EKS metrics are remote-written to its endpoint)."""

    type_name = "amp.Workspace"
    label = "Prometheus workspace"
    arn_kind = ("aps", "workspace")
    props = {
        "alias": P(str, doc="default genai-demo-<env>-<logical name>"),
        "kmsKeyArn": P(str, doc="customer managed key; AWS cannot change it later"),
    }
    replace_on = frozenset({"kmsKeyArn"})
    outputs = ("WorkspaceId", "Arn", "PrometheusEndpoint")

    @classmethod
    def list_tagged(cls, clients: Any) -> Iterator[tuple[str, dict[str, str]]]:
        amp = clients.client("amp")
        for page in amp.get_paginator("list_workspaces").paginate():
            for w in page["workspaces"]:
                yield w["arn"], dict(amp.list_tags_for_resource(resourceArn=w["arn"]).get("tags") or {})

    def alias_for(self, ctx: Ctx, props: dict[str, Any]) -> str:
        return props.get("alias") or ctx.physical_name(max_len=100)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"alias": self.alias_for(ctx, props), "tags": dict(ctx.tags),
                                  **self.token(ctx, "create")}
        if props.get("kmsKeyArn"):
            params["kmsKeyArn"] = props["kmsKeyArn"]
        ws_id = ctx.client("amp").create_workspace(**params)["workspaceId"]
        ctx.wait("amp", "WorkspaceActive", timeout_key="create", workspaceId=ws_id)
        return ws_id, self.outputs_of(ctx, ws_id)

    def _describe(self, ctx: Ctx, ws_id: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("amp").describe_workspace, workspaceId=ws_id)
        if resp is None:
            return None
        ws = resp["workspace"]
        return None if ws["status"]["statusCode"] == "DELETING" else ws

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        ws = self._describe(ctx, physical_id)
        if ws is None:
            raise ResourceError(f"AMP workspace {physical_id} does not exist")
        return {"WorkspaceId": physical_id, "Arn": ws["arn"], "PrometheusEndpoint": ws.get("prometheusEndpoint")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        ws = self._describe(ctx, physical_id)
        if ws is None:
            return None
        out: dict[str, Any] = {}
        if ws.get("alias"):
            out["alias"] = ws["alias"]
        if ws.get("kmsKeyArn"):
            out["kmsKeyArn"] = ws["kmsKeyArn"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        amp = ctx.client("amp")
        alias = self.alias_for(ctx, new)
        if self.alias_for(ctx, old) != alias:
            amp.update_workspace_alias(workspaceId=physical_id, alias=alias, **self.token(ctx, "alias"))
            ctx.wait("amp", "WorkspaceActive", timeout_key="update", workspaceId=physical_id)
        outputs = self.outputs_of(ctx, physical_id)
        amp.tag_resource(resourceArn=outputs["Arn"], tags=dict(ctx.tags))
        return outputs

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("amp").delete_workspace, workspaceId=physical_id, **self.token(ctx, "delete"))
        ctx.wait("amp", "WorkspaceDeleted", timeout_key="delete", workspaceId=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        for page in ctx.client("amp").get_paginator("list_workspaces").paginate():
            for ws in page["workspaces"]:
                tags = ws.get("tags") or {}
                if tags.get("infra:address") == ctx.address and tags.get("infra:env") == ctx.env \
                        and tags.get("infra:project") == ctx.project and ws["status"]["statusCode"] != "DELETING" \
                        and ws["workspaceId"] not in ctx.old_copies:
                    return ws["workspaceId"], self.outputs_of(ctx, ws["workspaceId"])
        return None


class RuleGroupsNamespace(AmpResource):
    """Prometheus recording and alerting rules of a workspace, as one YAML document."""

    type_name = "amp.RuleGroupsNamespace"
    label = "rule groups namespace"
    props = {
        "workspaceId": P(str, required=True),
        # The API's `name`; capitalised because `name` is the logical name in every type's constructor.
        "Name": P(str, doc="default genai-demo-<env>-<logical name>"),
        "data": P((str, bytes), required=True, doc="Prometheus rules YAML (groups: ...)"),
    }
    replace_on = frozenset({"workspaceId", "Name"})
    outputs = ("Name", "Arn")

    def validate(self, props: dict[str, Any]) -> None:
        data = props.get("data")
        if isinstance(data, bytes):  # state is JSON: keep text
            try:
                props["data"] = data = data.decode()
            except UnicodeDecodeError:
                raise PlanError(f"{self.type_name} {self.name!r}: data must be UTF-8 YAML") from None
        if isinstance(data, str) and "groups:" not in data:
            raise PlanError(f"{self.type_name} {self.name!r}: data must be a Prometheus rules file "
                            "with a top-level groups: list")

    @staticmethod
    def split(physical_id: str) -> tuple[str, str]:
        ws, _, name = physical_id.partition(SEP)
        return ws, name

    def name_for(self, ctx: Ctx, props: dict[str, Any]) -> str | None:
        return name_or_default(ctx, props.get("Name"), 64)

    @staticmethod
    def _bytes(data: str | bytes) -> bytes:
        return data if isinstance(data, bytes) else data.encode()

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ws, name = props["workspaceId"], self.name_for(ctx, props)
        pid = SEP.join((ws, name))
        amp = ctx.client("amp")
        if self._describe(ctx, pid) is not None:
            # Ours from an interrupted run (deterministic name in our workspace): find() cannot see it
            # while workspaceId is a Ref, so adopt it here and bring its rules up to date.
            amp.put_rule_groups_namespace(workspaceId=ws, name=name, data=self._bytes(props["data"]),
                                          **self.token(ctx, "put"))
            amp.tag_resource(resourceArn=self.outputs_of(ctx, pid)["Arn"], tags=dict(ctx.tags))
        else:
            amp.create_rule_groups_namespace(workspaceId=ws, name=name, data=self._bytes(props["data"]),
                                             tags=dict(ctx.tags), **self.token(ctx, "create"))
        ctx.wait("amp", "RuleGroupsNamespaceActive", timeout_key="create", workspaceId=ws, name=name)
        return pid, self.outputs_of(ctx, pid)

    def _describe(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        ws, name = self.split(physical_id)
        # None when the namespace or the whole workspace is gone
        resp = self.ignore_gone(ctx.client("amp").describe_rule_groups_namespace, workspaceId=ws, name=name)
        if resp is None:
            return None
        ns = resp["ruleGroupsNamespace"]
        return None if ns["status"]["statusCode"] == "DELETING" else ns

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        ns = self._describe(ctx, physical_id)
        if ns is None:
            raise ResourceError(f"AMP rule groups namespace {physical_id} does not exist")
        return {"Name": ns["name"], "Arn": ns["arn"]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        ns = self._describe(ctx, physical_id)
        if ns is None:
            return None
        data = ns["data"]
        return {"workspaceId": self.split(physical_id)[0], "Name": ns["name"],
                "data": data.decode() if isinstance(data, bytes) else data}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        ws, name = self.split(physical_id)
        amp = ctx.client("amp")
        if self._bytes(old["data"]) != self._bytes(new["data"]):
            amp.put_rule_groups_namespace(workspaceId=ws, name=name, data=self._bytes(new["data"]),
                                          **self.token(ctx, "put"))
            ctx.wait("amp", "RuleGroupsNamespaceActive", timeout_key="update", workspaceId=ws, name=name)
        outputs = self.outputs_of(ctx, physical_id)
        amp.tag_resource(resourceArn=outputs["Arn"], tags=dict(ctx.tags))
        return outputs

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        ws, name = self.split(physical_id)
        self.ignore_gone(ctx.client("amp").delete_rule_groups_namespace, workspaceId=ws, name=name,
                         **self.token(ctx, "delete"))
        ctx.wait("amp", "RuleGroupsNamespaceDeleted", timeout_key="delete", workspaceId=ws, name=name)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        ws, name = self.known_prop(ctx, "workspaceId"), self.name_for(ctx, self.properties)
        if ws is None or name is None:
            return None
        pid = SEP.join((ws, name))
        return (pid, self.outputs_of(ctx, pid)) if self._describe(ctx, pid) else None
