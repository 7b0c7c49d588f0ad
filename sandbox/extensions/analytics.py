"""Glue, Athena and QuickSight: the update/delete calls the analytics stack needs.

moto 5.2.5 can create crawlers, jobs, work groups, named queries, data sets
and dashboards but not change or (partly) delete them, and answers an unknown
Athena work group or named query with an empty 200 (or a crash) instead of
InvalidRequestException. Shapes and errors follow botocore's models.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from botocore import xform_name
from moto.athena.models import WorkGroup
from moto.athena.responses import AthenaResponse
from moto.glue.exceptions import CrawlerNotFoundException, CrawlerRunningException, EntityNotFoundException
from moto.glue.responses import GlueResponse
from moto.quicksight import urls as qs_urls
from moto.quicksight.responses import QuickSightResponse

from sandbox.extensions._base import AwsJsonError, add_methods, add_urls, body

# -- Glue ---------------------------------------------------------------------------

_CRAWLER_FIELDS = {"Role": "role", "DatabaseName": "database_name", "Description": "description",
                   "Targets": "targets", "Schedule": "schedule", "Classifiers": "classifiers",
                   "TablePrefix": "table_prefix", "SchemaChangePolicy": "schema_change_policy",
                   "RecrawlPolicy": "recrawl_policy", "LineageConfiguration": "lineage_configuration",
                   "Configuration": "configuration", "CrawlerSecurityConfiguration": "crawler_security_configuration"}

_JOB_FIELDS = ("Description", "LogUri", "Role", "ExecutionProperty", "Command", "DefaultArguments",
               "NonOverridableArguments", "Connections", "MaxRetries", "AllocatedCapacity", "Timeout", "MaxCapacity",
               "WorkerType", "NumberOfWorkers", "SecurityConfiguration", "NotificationProperty", "GlueVersion",
               "CodeGenConfigurationNodes", "ExecutionClass", "SourceControlDetails")


class _Glue:
    def update_crawler(self: Any) -> str:
        params = self.parameters
        name = params.get("Name")
        crawler = self.glue_backend.crawlers.get(name)
        if crawler is None:
            raise CrawlerNotFoundException(name)
        if crawler.crawls and crawler.crawls[-1].status == "RUNNING":
            raise CrawlerRunningException(f"Crawler with name {name} is running and cannot be updated")
        for param, attr in _CRAWLER_FIELDS.items():
            if param in params:
                setattr(crawler, attr, params[param])
        crawler.version += 1
        crawler.last_updated = datetime.now()
        return "{}"

    def update_job(self: Any) -> str:
        params = self.parameters
        name = params.get("JobName")
        job = self.glue_backend.jobs.get(name)
        if job is None:
            raise EntityNotFoundException(f"Job {name} not found.")
        update = params.get("JobUpdate") or {}
        if "Role" not in update or "Command" not in update:
            raise AwsJsonError("InvalidInputException", "JobUpdate must include Role and Command.")
        # AWS overwrites the whole definition with JobUpdate: fields left out go back to their defaults.
        for field in _JOB_FIELDS:
            value = update.get(field)
            if value is None and field in ("ExecutionProperty", "DefaultArguments"):
                value = {}
            if value is None and field == "ExecutionClass":
                value = "STANDARD"
            setattr(job, xform_name(field), value)
        job.last_modified_on = datetime.now()
        return json.dumps({"JobName": name})


# -- Athena -------------------------------------------------------------------------


def _athena_error(message: str) -> AwsJsonError:
    return AwsJsonError("InvalidRequestException", message)


class _Athena:
    def get_work_group(self: Any) -> str:
        name = self._get_param("WorkGroup")
        wg = self.athena_backend.work_groups.get(name)
        if wg is None:
            raise _athena_error(f"WorkGroup {name} is not found.")
        out = self.athena_backend.get_work_group(name)
        out["State"] = wg.state
        out["CreationTime"] = getattr(wg, "sandbox_created", None) or out["CreationTime"]
        return json.dumps({"WorkGroup": out})

    def update_work_group(self: Any) -> str:
        name = self._get_param("WorkGroup")
        wg: WorkGroup | None = self.athena_backend.work_groups.get(name)
        if wg is None:
            raise _athena_error(f"WorkGroup {name} is not found.")
        state = self._get_param("State")
        if state is not None:
            if state not in ("ENABLED", "DISABLED"):
                raise _athena_error(f"Invalid State {state}.")
            wg.state = state
        description = self._get_param("Description")
        if description is not None:
            wg.description = description
        _apply_config_updates(wg.configuration, self._get_param("ConfigurationUpdates") or {})
        return "{}"

    def delete_work_group(self: Any) -> str:
        name = self._get_param("WorkGroup")
        backend = self.athena_backend
        if name not in backend.work_groups:
            raise _athena_error(f"WorkGroup {name} is not found.")
        if name == "primary":
            raise _athena_error("The primary workgroup cannot be deleted.")
        queries = [q for q in backend.named_queries.values() if q.workgroup.name == name]
        if queries and not self._get_param("RecursiveDeleteOption"):
            raise _athena_error(f"WorkGroup {name} is not empty: set RecursiveDeleteOption to delete it with "
                                "its named queries.")
        for q in queries:
            backend.named_queries.pop(q.id, None)
        backend.delete_work_group(name)
        return "{}"

    def get_named_query(self: Any) -> str:
        query_id = self._get_param("NamedQueryId")
        nq = self.athena_backend.named_queries.get(query_id)
        if nq is None:
            raise _athena_error(f"NamedQuery {query_id} was not found.")
        return json.dumps({"NamedQuery": {"Name": nq.name, "Description": nq.description, "Database": nq.database,
                                          "QueryString": nq.query_string, "NamedQueryId": nq.id,
                                          "WorkGroup": nq.workgroup.name}})

    def update_named_query(self: Any) -> str:
        query_id = self._get_param("NamedQueryId")
        nq = self.athena_backend.named_queries.get(query_id)
        if nq is None:
            raise _athena_error(f"NamedQuery {query_id} was not found.")
        name, query = self._get_param("Name"), self._get_param("QueryString")
        if not name or not query:
            raise _athena_error("Name and QueryString are required.")
        nq.name, nq.query_string = name, query
        description = self._get_param("Description")
        if description is not None:
            nq.description = description
        return "{}"

    def delete_named_query(self: Any) -> str:
        query_id = self._get_param("NamedQueryId")
        if self.athena_backend.named_queries.pop(query_id, None) is None:
            raise _athena_error(f"NamedQuery {query_id} was not found.")
        return "{}"

    def delete_data_catalog(self: Any) -> str:
        name = self._get_param("Name")
        dc = self.athena_backend.data_catalogs.pop(name, None)
        if dc is None:
            raise _athena_error(f"DataCatalog {name} was not found.")
        return json.dumps({"DataCatalog": {"Name": dc.name, "Description": dc.description, "Type": dc.type,
                                           "Parameters": dc.parameters, "Status": "DELETE_COMPLETE"}})


def _apply_config_updates(config: dict[str, Any], updates: dict[str, Any]) -> None:
    """ConfigurationUpdates -> WorkGroupConfiguration, including the Remove* switches."""
    for key in ("EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled", "BytesScannedCutoffPerQuery",
                "RequesterPaysEnabled", "EngineVersion", "AdditionalConfiguration", "ExecutionRole",
                "CustomerContentEncryptionConfiguration", "EnableMinimumEncryptionConfiguration",
                "QueryResultsS3AccessGrantsConfiguration"):
        if key in updates:
            config[key] = updates[key]
    if updates.get("RemoveBytesScannedCutoffPerQuery"):
        config.pop("BytesScannedCutoffPerQuery", None)
    if updates.get("RemoveCustomerContentEncryptionConfiguration"):
        config.pop("CustomerContentEncryptionConfiguration", None)
    managed = updates.get("ManagedQueryResultsConfigurationUpdates")
    if managed:  # the update shape's name for ManagedQueryResultsConfiguration (botocore athena)
        cur = config.setdefault("ManagedQueryResultsConfiguration", {})
        cur.update({k: v for k, v in managed.items() if k != "RemoveEncryptionConfiguration"})
        if managed.get("RemoveEncryptionConfiguration"):
            cur.pop("EncryptionConfiguration", None)
    rc_updates = updates.get("ResultConfigurationUpdates")
    if rc_updates:
        rc = config.setdefault("ResultConfiguration", {})
        for key in ("OutputLocation", "EncryptionConfiguration", "ExpectedBucketOwner", "AclConfiguration"):
            if key in rc_updates:
                rc[key] = rc_updates[key]
            if rc_updates.get(f"Remove{key}"):
                rc.pop(key, None)


# -- QuickSight ---------------------------------------------------------------------

_DATA_SET_FIELDS = ("Name", "PhysicalTableMap", "LogicalTableMap", "ImportMode", "ColumnGroups", "FieldFolders",
                    "RowLevelPermissionDataSet", "RowLevelPermissionTagConfiguration", "ColumnLevelPermissionRules",
                    "DataSetUsageConfiguration", "DatasetParameters", "PerformanceConfiguration")
_TYPES = {"STRING": "STRING", "INTEGER": "INTEGER", "DECIMAL": "DECIMAL", "DATETIME": "DATETIME", "BIT": "INTEGER",
          "BOOLEAN": "INTEGER", "JSON": "STRING"}


def _qs_not_found(kind: str, ident: str) -> AwsJsonError:
    return AwsJsonError("ResourceNotFoundException", f"{kind} {ident} does not exist.", 404)


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _output_columns(spec: dict[str, Any]) -> list[dict[str, str]]:
    cols: list[dict[str, str]] = []
    for table in (spec.get("PhysicalTableMap") or {}).values():
        for source in table.values():
            if not isinstance(source, dict):
                continue
            # RelationalTable and S3Source list InputColumns; CustomSql lists Columns.
            for col in source.get("InputColumns") or source.get("Columns") or []:
                cols.append({"Name": col["Name"], "Type": _TYPES.get(col.get("Type", "STRING"), "STRING")})
    return cols


def _data_set(resp: Any) -> Any:
    ds_id = resp._get_param("DataSetId")
    ds = resp.quicksight_backend.data_sets.get(ds_id)
    if ds is None:
        raise _qs_not_found("Data set", ds_id)
    return ds


def _dashboard(resp: Any) -> Any:
    d_id = resp._get_param("DashboardId")
    dash = resp.quicksight_backend.dashboards.get(d_id)
    if dash is None:
        raise _qs_not_found("Dashboard", d_id)
    return dash


def _ingestion(ds: Any) -> dict[str, str]:
    if (ds.spec.get("ImportMode") or "SPICE") != "SPICE":
        return {}
    ing = str(uuid.uuid4())
    return {"IngestionArn": f"{ds.arn}/ingestion/{ing}", "IngestionId": ing}


def _permissions(current: list[dict[str, Any]], grant: list[dict[str, Any]] | None,
                 revoke: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    perms = {p["Principal"]: set(p["Actions"]) for p in current}
    for p in grant or []:
        perms.setdefault(p["Principal"], set()).update(p["Actions"])
    for p in revoke or []:
        if p["Principal"] in perms:
            perms[p["Principal"]].difference_update(p["Actions"])
    return [{"Principal": k, "Actions": sorted(v)} for k, v in perms.items() if v]


class _QuickSight:
    def create_data_set(self: Any) -> str:
        params = body(self)
        backend = self.quicksight_backend
        ds_id = params.get("DataSetId")
        if ds_id in backend.data_sets:
            raise AwsJsonError("ResourceExistsException", f"Data set {ds_id} already exists.", 409)
        if not params.get("PhysicalTableMap") or not params.get("ImportMode"):
            raise AwsJsonError("InvalidParameterValueException", "PhysicalTableMap and ImportMode are required.")
        ds = backend.create_data_set(ds_id, params.get("Name"), params.get("Tags"))
        ds.spec = {k: params[k] for k in _DATA_SET_FIELDS if k in params}
        ds.permissions = params.get("Permissions") or []
        ds.created = ds.updated = datetime.now()
        return json.dumps({"Arn": ds.arn, "DataSetId": ds_id, **_ingestion(ds), "Status": 201,
                           "RequestId": str(uuid.uuid4())})

    def describe_data_set(self: Any) -> str:
        ds = _data_set(self)
        spec = getattr(ds, "spec", {"Name": ds.name})
        out = {"Arn": ds.arn, "DataSetId": ds._id, **spec, "OutputColumns": _output_columns(spec),
               "CreatedTime": _ts(getattr(ds, "created", datetime.now())),
               "LastUpdatedTime": _ts(getattr(ds, "updated", datetime.now())), "ConsumedSpiceCapacityInBytes": 0}
        return json.dumps({"DataSet": out, "RequestId": str(uuid.uuid4()), "Status": 200})

    def update_data_set(self: Any) -> str:
        ds = _data_set(self)
        params = body(self)
        if not params.get("Name") or not params.get("PhysicalTableMap") or not params.get("ImportMode"):
            raise AwsJsonError("InvalidParameterValueException", "Name, PhysicalTableMap and ImportMode are required.")
        ds.spec = {k: params[k] for k in _DATA_SET_FIELDS if k in params}
        ds.name = params["Name"]
        ds.updated = datetime.now()
        return json.dumps({"Arn": ds.arn, "DataSetId": ds._id, **_ingestion(ds), "Status": 200,
                           "RequestId": str(uuid.uuid4())})

    def delete_data_set(self: Any) -> str:
        ds = _data_set(self)
        del self.quicksight_backend.data_sets[ds._id]
        return json.dumps({"Arn": ds.arn, "DataSetId": ds._id, "Status": 200, "RequestId": str(uuid.uuid4())})

    def list_data_sets(self: Any) -> str:
        summaries = [{"Arn": ds.arn, "DataSetId": ds._id, "Name": ds.name,
                      "ImportMode": getattr(ds, "spec", {}).get("ImportMode", "SPICE"),
                      "CreatedTime": _ts(getattr(ds, "created", datetime.now())),
                      "LastUpdatedTime": _ts(getattr(ds, "updated", datetime.now()))}
                     for ds in self.quicksight_backend.data_sets.values()]
        return json.dumps({"DataSetSummaries": summaries, "Status": 200, "RequestId": str(uuid.uuid4())})

    def describe_data_set_permissions(self: Any) -> str:
        ds = _data_set(self)
        return json.dumps({"DataSetArn": ds.arn, "DataSetId": ds._id, "Permissions": getattr(ds, "permissions", []),
                           "Status": 200, "RequestId": str(uuid.uuid4())})

    def update_data_set_permissions(self: Any) -> str:
        ds = _data_set(self)
        b = body(self)
        ds.permissions = _permissions(getattr(ds, "permissions", []), b.get("GrantPermissions"),
                                      b.get("RevokePermissions"))
        return json.dumps({"DataSetArn": ds.arn, "DataSetId": ds._id, "Status": 200, "RequestId": str(uuid.uuid4())})

    def update_dashboard(self: Any) -> str:
        dash = _dashboard(self)
        b = body(self)
        if not b.get("Name") or not (b.get("SourceEntity") or b.get("Definition")):
            raise AwsJsonError("InvalidParameterValueException", "Name and SourceEntity or Definition are required.")
        for key in ("Name", "SourceEntity", "Parameters", "VersionDescription", "DashboardPublishOptions",
                    "ThemeArn", "Definition", "ValidationStrategy"):
            if key in b:
                setattr(dash, xform_name(key), b[key])
        dash.version_number += 1
        dash.last_updated_time = datetime.now()
        dash.status = "CREATION_SUCCESSFUL"
        return json.dumps({"Arn": dash.arn, "VersionArn": dash.version_arn, "DashboardId": dash.dashboard_id,
                           "CreationStatus": dash.status, "Status": 202, "RequestId": str(uuid.uuid4())})

    def update_dashboard_published_version(self: Any) -> str:
        dash = _dashboard(self)
        version = int(self._get_param("VersionNumber"))
        if not 1 <= version <= dash.version_number:
            raise _qs_not_found(f"Version {version} of dashboard", dash.dashboard_id)
        dash.published_version = version
        dash.last_published_time = datetime.now()
        return json.dumps({"DashboardId": dash.dashboard_id, "DashboardArn": dash.arn, "Status": 200,
                           "RequestId": str(uuid.uuid4())})

    def delete_dashboard(self: Any) -> str:
        dash = _dashboard(self)
        del self.quicksight_backend.dashboards[dash.dashboard_id]
        return json.dumps({"Status": 200, "Arn": dash.arn, "DashboardId": dash.dashboard_id,
                           "RequestId": str(uuid.uuid4())})

    def describe_dashboard_permissions(self: Any) -> str:
        dash = _dashboard(self)
        return json.dumps({"DashboardId": dash.dashboard_id, "DashboardArn": dash.arn,
                           "Permissions": dash.permissions or [], "Status": 200, "RequestId": str(uuid.uuid4())})

    def update_dashboard_permissions(self: Any) -> str:
        dash = _dashboard(self)
        b = body(self)
        dash.permissions = _permissions(dash.permissions or [], b.get("GrantPermissions"), b.get("RevokePermissions"))
        return json.dumps({"DashboardId": dash.dashboard_id, "DashboardArn": dash.arn,
                           "Permissions": dash.permissions, "Status": 200, "RequestId": str(uuid.uuid4())})


def _public(cls: type) -> list[Any]:
    return [fn for name, fn in vars(cls).items() if callable(fn) and not name.startswith("_")]


def install() -> None:
    add_methods(GlueResponse, *_public(_Glue))
    add_methods(AthenaResponse, *_public(_Athena), override=True)
    add_methods(QuickSightResponse, *_public(_QuickSight), override=True)
    acct = r"(?P<account_id>[^/]+)"
    add_urls(qs_urls, {
        rf"{{0}}/accounts/{acct}/data-sets/(?P<datasetid>[^/]+)$": QuickSightResponse.dispatch,
        rf"{{0}}/accounts/{acct}/data-sets/(?P<datasetid>[^/]+)/permissions$": QuickSightResponse.dispatch,
        rf"{{0}}/accounts/{acct}/dashboards/(?P<dashboard_id>[^/]+)/permissions$": QuickSightResponse.dispatch,
        rf"{{0}}/accounts/{acct}/dashboards/(?P<dashboard_id>[^/]+)/versions/(?P<version>[^/]+)$":
            QuickSightResponse.dispatch,
    })
