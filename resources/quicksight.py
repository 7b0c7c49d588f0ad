"""QuickSight: data sources over Athena and OpenSearch, a data set, a dashboard.

Every QuickSight call names the account (`AwsAccountId`, from ctx) and the
resource's own id, which we choose: `genai-demo-<env>-<name>`, so find()
can adopt after a crash. Data sources and dashboard versions are built
asynchronously; our waiters (resources/waiters/quicksight.json) wait for
them. Permissions are granted at create and reconciled on update with
Grant/Revoke lists, which is the only way AWS lets them change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import botocore.session

from core.errors import PlanError, error_code
from resources.base import Ctx, P, Resource, one_of, shaped, shaped_declared, tag_dict, tag_list


def _permissions(value: Any) -> str | None:
    ok = isinstance(value, list) and all(isinstance(p, dict) and "Principal" in p and p.get("Actions")
                                         for p in value)
    return None if ok else "must be a list of {Principal, Actions}"


QUICKSIGHT_REGIONS_DOC = "https://docs.aws.amazon.com/quicksight/latest/user/regions.html"


def quicksight_regions() -> frozenset[str]:
    """Where QuickSight has an endpoint, from botocore's endpoint data (offline; the regions doc agrees)."""
    session = botocore.session.get_session()
    return frozenset(r for partition in session.get_available_partitions()
                     for r in session.get_available_regions("quicksight", partition_name=partition))


def _subscription_refusal(clients: Any, addresses: list[str]) -> str | None:
    """Why the account cannot hold QuickSight assets in the clients' region yet, or None."""
    what = f"{len(addresses)} QuickSight resource(s) ({', '.join(addresses[:3])}{', ...' if len(addresses) > 3 else ''})"
    region = clients.region
    if region not in quicksight_regions():
        return (f"{what} cannot be created: QuickSight has no endpoint in region {region} (it runs in "
                f"{', '.join(sorted(quicksight_regions()))}; {QUICKSIGHT_REGIONS_DOC}). Turn the profile's "
                "QuickSight switch off for this region, or deploy where QuickSight runs. Nothing was changed.")
    account = clients.account_id
    try:
        info = clients.client("quicksight").describe_account_subscription(AwsAccountId=account)["AccountInfo"]
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        info = {"AccountSubscriptionStatus": "not signed up"}
    status = info.get("AccountSubscriptionStatus")
    if status != "ACCOUNT_CREATED":
        return (f"{what} cannot be created: account {account} has no QuickSight subscription (status: {status}). "
                "QuickSight is a paid sign-up an administrator makes once per account (the console, or "
                "CreateAccountSubscription with the Enterprise edition); this tool does not make it. Subscribe, "
                "or turn the profile's QuickSight switch off. Nothing was changed.")
    return None


class QuickSightResource(Resource):
    """QuickSight types share account/id parameters, tagging, permissions and find-by-id-then-tag."""

    service = "quicksight"
    not_found = ("ResourceNotFoundException",)

    @classmethod
    def preflight(cls, clients: Any, resources: list[Resource]) -> None:
        """Region and subscription first: without either, every QuickSight call fails (no endpoint;
        UnsupportedUserEditionException), so the run stops before it changes anything anywhere."""
        refusal = _subscription_refusal(clients, [r.address for r in resources])
        if refusal:
            raise PlanError(refusal)
    id_param: ClassVar[str] = ""  # "DataSourceId"...
    kind: ClassVar[str] = ""  # snake_case stem of the API: "data_source", "data_set", "dashboard"
    body_key: ClassVar[str] = ""  # key of the describe response: "DataSource"...

    def ident(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        value = (props or self.properties).get(self.id_param)
        return value if isinstance(value, str) else ctx.physical_name(max_len=128)

    def ids(self, ctx: Ctx, physical_id: str) -> dict[str, str]:
        return {"AwsAccountId": ctx.account_id, self.id_param: physical_id}

    def display_name(self, ctx: Ctx, props: Mapping[str, Any]) -> str:
        return props.get("Name") or ctx.physical_name()

    def describe(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        op = getattr(ctx.client("quicksight"), f"describe_{self.kind}")
        resp = self.ignore_gone(op, **self.ids(ctx, physical_id))
        if resp is None:
            return None
        body = resp.get(self.body_key)
        status = (body or {}).get("Status") or ((body or {}).get("Version") or {}).get("Status")
        return None if not body or status == "DELETED" else body

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        body = self.describe(ctx, physical_id) or {}
        return {self.id_param: physical_id, "Arn": body.get("Arn")}

    def sync_permissions(self, ctx: Ctx, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        before = {p["Principal"]: set(p["Actions"]) for p in old.get("Permissions") or ()}
        after = {p["Principal"]: set(p["Actions"]) for p in new.get("Permissions") or ()}
        if before == after:
            return
        grant = [{"Principal": k, "Actions": sorted(v - before.get(k, set()))} for k, v in after.items()
                 if v - before.get(k, set())]
        revoke = [{"Principal": k, "Actions": sorted(v - after.get(k, set()))} for k, v in before.items()
                  if v - after.get(k, set())]
        kw: dict[str, Any] = {k: v for k, v in (("GrantPermissions", grant), ("RevokePermissions", revoke)) if v}
        getattr(ctx.client("quicksight"), f"update_{self.kind}_permissions")(**self.ids(ctx, physical_id), **kw)

    def retag(self, ctx: Ctx, arn: str) -> None:
        ctx.client("quicksight").tag_resource(ResourceArn=arn, Tags=tag_list(ctx.tags))

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(getattr(ctx.client("quicksight"), f"delete_{self.kind}"), **self.ids(ctx, physical_id))

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        pid = self.ident(ctx)
        body = self.describe(ctx, pid)
        if body is None:
            return None
        tags = tag_dict(ctx.client("quicksight").list_tags_for_resource(ResourceArn=body["Arn"]).get("Tags"))
        if tags.get("infra:address") not in (None, ctx.address):
            return None  # same id, another owner: never adopt
        return pid, self.outputs_of(ctx, pid)


class DataSource(QuickSightResource):
    """A data source: Athena (through a workgroup) or an OpenSearch domain."""

    type_name = "quicksight.DataSource"
    label = "QuickSight data source"
    id_param, kind, body_key = "DataSourceId", "data_source", "DataSource"
    props = {
        "DataSourceId": P(str),
        "Name": P(str),
        "Type": P(str, required=True, validator=one_of("ATHENA", "AMAZON_OPENSEARCH")),
        "DataSourceParameters": P(dict, required=True),
        "VpcConnectionProperties": P(dict),
        "SslProperties": P(dict),
        "Permissions": P(list, validator=_permissions),
    }
    replace_on = frozenset({"DataSourceId", "Type"})
    outputs = ("DataSourceId", "Arn")
    _param_key = {"ATHENA": ("AthenaParameters", "WorkGroup"),
                  "AMAZON_OPENSEARCH": ("AmazonOpenSearchParameters", "Domain")}

    def validate(self, props: dict[str, Any]) -> None:
        key, field = self._param_key[props["Type"]]
        params = props["DataSourceParameters"]
        if set(params) != {key} or not isinstance(params[key], dict) or field not in params[key]:
            raise PlanError(f"{self.type_name} {self.name!r}: Type {props['Type']} needs DataSourceParameters "
                            f"{{{key}: {{{field}: ...}}}} and nothing else")

    def _params(self, ctx: Ctx, physical_id: str, props: Mapping[str, Any]) -> dict[str, Any]:
        out = {**self.ids(ctx, physical_id), "Name": self.display_name(ctx, props),
               "DataSourceParameters": props["DataSourceParameters"]}
        out.update({k: props[k] for k in ("VpcConnectionProperties", "SslProperties") if props.get(k)})
        return out

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        pid = self.ident(ctx, props)
        extra = {"Permissions": props["Permissions"]} if props.get("Permissions") else {}
        ctx.client("quicksight").create_data_source(**self._params(ctx, pid, props), Type=props["Type"],
                                                    Tags=tag_list(ctx.tags), **extra)
        ctx.wait("quicksight", "DataSourceReady", timeout_key="create", **self.ids(ctx, pid))
        return pid, self.outputs_of(ctx, pid)

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        ds = self.describe(ctx, physical_id)
        if ds is None:
            return None
        declared = self.properties
        out: dict[str, Any] = {"Type": ds.get("Type"),
                               "DataSourceParameters": shaped(ds.get("DataSourceParameters") or {},
                                                              declared.get("DataSourceParameters") or {})}
        return out | shaped_declared(ds, declared, ("DataSourceId", "Name", "VpcConnectionProperties", "SslProperties"))

    # QuickSight reports permissions through a separate call with its own
    # action spellings; they are reconciled on update, not diffed on read.
    write_only = frozenset({"Permissions"})

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        keys = ("Name", "DataSourceParameters", "VpcConnectionProperties", "SslProperties")
        if any(new.get(k) != old.get(k) for k in keys):
            ctx.client("quicksight").update_data_source(**self._params(ctx, physical_id, new))
            ctx.wait("quicksight", "DataSourceReady", timeout_key="update", **self.ids(ctx, physical_id))
        self.sync_permissions(ctx, physical_id, old, new)
        out = self.outputs_of(ctx, physical_id)
        self.retag(ctx, out["Arn"])
        return out


class VpcConnection(QuickSightResource):
    """A QuickSight VPC connection: ENIs QuickSight puts in the VPC's subnets to reach private endpoints.

    An OpenSearch domain in a VPC (or any data source without a public endpoint) is reachable from
    QuickSight only through one, named by the data source's VpcConnectionProperties; the security
    groups must be admitted by the domain's, and RoleArn is a role quicksight.amazonaws.com assumes to
    create and delete those ENIs. Its id is ours (genai-demo-<env>-<name>), so find() can adopt it.
    """

    type_name = "quicksight.VpcConnection"
    label = "QuickSight VPC connection"
    id_param, kind, body_key = "VPCConnectionId", "vpc_connection", "VPCConnection"
    props = {
        "VPCConnectionId": P(str),
        "Name": P(str),
        "SubnetIds": P(list, required=True, doc="private subnets, two or more AZs"),
        "SecurityGroupIds": P(list, required=True, doc="groups the data source's security group admits"),
        "RoleArn": P(str, required=True, doc="role quicksight.amazonaws.com assumes to manage the ENIs"),
        "DnsResolvers": P(list),
    }
    replace_on = frozenset({"VPCConnectionId"})
    outputs = ("VPCConnectionId", "Arn")

    def validate(self, props: dict[str, Any]) -> None:
        subnets = props.get("SubnetIds")
        if isinstance(subnets, list) and len(subnets) < 2:
            raise PlanError(f"{self.type_name} {self.name!r}: SubnetIds needs at least two subnets (two AZs), "
                            f"got {len(subnets)}")

    def describe(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("quicksight").describe_vpc_connection, **self.ids(ctx, physical_id))
        body = (resp or {}).get("VPCConnection")
        return None if not body or body.get("Status") == "DELETED" else body

    def _params(self, ctx: Ctx, physical_id: str, props: Mapping[str, Any]) -> dict[str, Any]:
        out = {**self.ids(ctx, physical_id), "Name": self.display_name(ctx, props),
               "SubnetIds": list(props["SubnetIds"]), "SecurityGroupIds": list(props["SecurityGroupIds"]),
               "RoleArn": props["RoleArn"]}
        if props.get("DnsResolvers"):
            out["DnsResolvers"] = list(props["DnsResolvers"])
        return out

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        pid = self.ident(ctx, props)
        ctx.client("quicksight").create_vpc_connection(**self._params(ctx, pid, props), Tags=tag_list(ctx.tags))
        ctx.wait("quicksight", "VpcConnectionAvailable", timeout_key="create", **self.ids(ctx, pid))
        return pid, self.outputs_of(ctx, pid)

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        conn = self.describe(ctx, physical_id)
        if conn is None:
            return None
        subnets = [n["SubnetId"] for n in conn.get("NetworkInterfaces") or [] if n.get("SubnetId")]
        out: dict[str, Any] = {"SubnetIds": subnets, "SecurityGroupIds": list(conn.get("SecurityGroupIds") or []),
                               "RoleArn": conn.get("RoleArn")}
        if conn.get("DnsResolvers"):
            out["DnsResolvers"] = list(conn["DnsResolvers"])
        return out | shaped_declared(conn, self.properties, ("VPCConnectionId", "Name"))

    unordered = frozenset({"SubnetIds", "SecurityGroupIds"})

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        ctx.client("quicksight").update_vpc_connection(**self._params(ctx, physical_id, new))
        ctx.wait("quicksight", "VpcConnectionAvailable", timeout_key="update", **self.ids(ctx, physical_id))
        out = self.outputs_of(ctx, physical_id)
        self.retag(ctx, out["Arn"])
        return out


class DataSet(QuickSightResource):
    """A data set over a data source: a relational table or custom SQL, queried directly.

    DIRECT_QUERY only: a SPICE data set is usable after an ingestion this
    type does not manage.
    """

    type_name = "quicksight.DataSet"
    label = "QuickSight data set"
    id_param, kind, body_key = "DataSetId", "data_set", "DataSet"
    props = {
        "DataSetId": P(str),
        "Name": P(str),
        "PhysicalTableMap": P(dict, required=True),
        "LogicalTableMap": P(dict),
        "ImportMode": P(str, default="DIRECT_QUERY", validator=one_of("DIRECT_QUERY")),
        "Permissions": P(list, validator=_permissions),
    }
    replace_on = frozenset({"DataSetId"})
    outputs = ("DataSetId", "Arn")
    write_only = frozenset({"Permissions"})

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        for table_id, table in props["PhysicalTableMap"].items():
            kinds = [k for k in ("RelationalTable", "CustomSql") if k in table] if isinstance(table, dict) else []
            if len(kinds) != 1 or len(table) != 1:
                raise PlanError(f"{where}: physical table {table_id!r} must be exactly one of RelationalTable "
                                "or CustomSql")
            spec = table[kinds[0]]
            need = ("DataSourceArn", "Name", "InputColumns") if kinds[0] == "RelationalTable" else \
                ("DataSourceArn", "Name", "SqlQuery", "Columns")
            missing = [k for k in need if k not in spec]
            if missing:
                raise PlanError(f"{where}: {kinds[0]} {table_id!r} lacks {', '.join(missing)}")

    def _params(self, ctx: Ctx, physical_id: str, props: Mapping[str, Any]) -> dict[str, Any]:
        out = {**self.ids(ctx, physical_id), "Name": self.display_name(ctx, props),
               "PhysicalTableMap": props["PhysicalTableMap"], "ImportMode": props["ImportMode"]}
        if props.get("LogicalTableMap"):
            out["LogicalTableMap"] = props["LogicalTableMap"]
        return out

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        pid = self.ident(ctx, props)
        extra = {"Permissions": props["Permissions"]} if props.get("Permissions") else {}
        # Synchronous for DIRECT_QUERY: the data set is usable when the call returns.
        resp = ctx.client("quicksight").create_data_set(**self._params(ctx, pid, props), Tags=tag_list(ctx.tags),
                                                        **extra)
        return pid, {"DataSetId": pid, "Arn": resp["Arn"]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        ds = self.describe(ctx, physical_id)
        if ds is None:
            return None
        declared = self.properties
        out: dict[str, Any] = {"ImportMode": ds.get("ImportMode"),
                               "PhysicalTableMap": shaped(ds.get("PhysicalTableMap") or {},
                                                          declared.get("PhysicalTableMap") or {})}
        return out | shaped_declared(ds, declared, ("DataSetId", "Name", "LogicalTableMap"))

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if any(new.get(k) != old.get(k) for k in ("Name", "PhysicalTableMap", "LogicalTableMap", "ImportMode")):
            ctx.client("quicksight").update_data_set(**self._params(ctx, physical_id, new))
        self.sync_permissions(ctx, physical_id, old, new)
        out = self.outputs_of(ctx, physical_id)
        self.retag(ctx, out["Arn"])
        return out


class Dashboard(QuickSightResource):
    """A published dashboard, built from a Definition (sheets and visuals over data sets) or
    from a template (SourceEntity).

    Every update makes a new version; it is published once built, as the
    QuickSight console does. The definition is write-only here:
    DescribeDashboardDefinition answers with every default filled in, which
    would read as drift forever.
    """

    type_name = "quicksight.Dashboard"
    label = "QuickSight dashboard"
    id_param, kind, body_key = "DashboardId", "dashboard", "Dashboard"
    props = {
        "DashboardId": P(str),
        "Name": P(str),
        "Definition": P(dict),
        "SourceEntity": P(dict),
        "VersionDescription": P(str),
        "DashboardPublishOptions": P(dict),
        "Permissions": P(list, validator=_permissions),
    }
    replace_on = frozenset({"DashboardId"})
    outputs = ("DashboardId", "Arn")
    write_only = frozenset({"Definition", "SourceEntity", "DashboardPublishOptions", "Permissions"})

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        if ("Definition" in props) == ("SourceEntity" in props):
            raise PlanError(f"{where}: give exactly one of Definition or SourceEntity")
        d = props.get("Definition")
        if isinstance(d, dict) and not d.get("DataSetIdentifierDeclarations"):
            raise PlanError(f"{where}: Definition needs DataSetIdentifierDeclarations (the data sets it shows)")

    def _params(self, ctx: Ctx, physical_id: str, props: Mapping[str, Any]) -> dict[str, Any]:
        out = {**self.ids(ctx, physical_id), "Name": self.display_name(ctx, props)}
        out.update({k: props[k] for k in ("Definition", "SourceEntity", "VersionDescription",
                                          "DashboardPublishOptions") if props.get(k)})
        return out

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        pid = self.ident(ctx, props)
        extra = {"Permissions": props["Permissions"]} if props.get("Permissions") else {}
        ctx.client("quicksight").create_dashboard(**self._params(ctx, pid, props), Tags=tag_list(ctx.tags), **extra)
        ctx.wait("quicksight", "DashboardVersionReady", timeout_key="create", **self.ids(ctx, pid))
        return pid, self.outputs_of(ctx, pid)

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        d = self.describe(ctx, physical_id)
        if d is None:
            return None
        out: dict[str, Any] = {}
        for key in ("DashboardId", "Name"):
            if key in self.properties:
                out[key] = d.get(key)
        desc = (d.get("Version") or {}).get("Description")
        if "VersionDescription" in self.properties and desc:
            out["VersionDescription"] = desc
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        qs = ctx.client("quicksight")
        keys = ("Name", "Definition", "SourceEntity", "VersionDescription", "DashboardPublishOptions")
        if any(new.get(k) != old.get(k) for k in keys):
            resp = qs.update_dashboard(**self._params(ctx, physical_id, new))
            version = int(resp["VersionArn"].rsplit("/", 1)[-1])
            ctx.wait("quicksight", "DashboardVersionReady", timeout_key="update", VersionNumber=version,
                     **self.ids(ctx, physical_id))
            qs.update_dashboard_published_version(**self.ids(ctx, physical_id), VersionNumber=version)
        self.sync_permissions(ctx, physical_id, old, new)
        out = self.outputs_of(ctx, physical_id)
        self.retag(ctx, out["Arn"])
        return out
