"""Glue Data Catalog: the data lake's database and the crawler that catalogues it.

Both are named resources (the name is the id every call takes). Glue tags
at create (`Tags` as a dict) and reads tags by ARN, which Glue never returns,
so the ARN is built here from account, region and partition.

Names use underscores, not hyphens: Athena queries must otherwise quote
every hyphenated database name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from core.errors import PlanError, Retry, on_write
from resources.base import Ctx, P, Resource, one_of, partition, shaped

_DB_NAME = re.compile(r"^[a-z0-9_]{1,255}$")


_TF_CRAWLER = ("terraform-provider-aws internal/service/glue/crawler.go, around CreateCrawler and UpdateCrawler "
               "(propagationTimeout: 2 min)")
# What Glue answers while the crawler's role has not reached Glue (InvalidInputException, which also
# says "your request is wrong"; only these messages are retried).
CRAWLER_RETRIES: tuple[Retry, ...] = tuple(
    on_write("InvalidInputException", message, 120, _TF_CRAWLER) for message in (
        "Service is unable to assume provided role",
        "Please verify the role's TrustPolicy",
        "Insufficient Lake Formation permission",
        "is not authorized",
    ))


class GlueResource(Resource):
    """Glue types share naming, tagging by ARN and find-by-name-then-tag."""

    service = "glue"
    not_found = ("EntityNotFoundException",)
    arn_kind: ClassVar[str] = ""  # "database" / "crawler": the ARN's resource type and the Get call's noun
    name_prop: ClassVar[str] = "Name"
    name_sep: ClassVar[str] = "-"

    def resource_name(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        name = (props or self.properties).get(self.name_prop)
        if isinstance(name, str):
            return name
        return ctx.physical_name(sep=self.name_sep, max_len=255).replace("-", self.name_sep)

    def arn(self, ctx: Ctx, name: str) -> str:
        return f"arn:{partition(ctx.region)}:glue:{ctx.region}:{ctx.account_id}:{self.arn_kind}/{name}"

    def tag(self, ctx: Ctx, name: str) -> None:
        ctx.client("glue").tag_resource(ResourceArn=self.arn(ctx, name), TagsToAdd=dict(ctx.tags))

    def get(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        """Get<Kind>(Name=...)'s item (GetDatabase -> "Database", GetCrawler -> "Crawler"), None when gone."""
        resp = self.ignore_gone(getattr(ctx.client("glue"), f"get_{self.arn_kind}"), Name=name)
        return resp[self.arn_kind.capitalize()] if resp else None

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.resource_name(ctx)
        if self.get(ctx, name) is None:
            return None
        tags = ctx.client("glue").get_tags(ResourceArn=self.arn(ctx, name)).get("Tags") or {}
        if tags.get("infra:address") not in (None, ctx.address):
            return None  # same name, another owner: never adopt
        return name, self.outputs_of(ctx, name)


class Database(GlueResource):
    """A Glue database: the catalogue namespace the crawler fills and Athena queries."""

    type_name = "glue.Database"
    label = "Glue database"
    arn_kind, name_sep = "database", "_"
    props = {
        "Name": P(str, validator=lambda v: None if _DB_NAME.match(v) else
                  "must be lowercase letters, digits and underscores (Athena-friendly)"),
        "Description": P(str),
        "LocationUri": P(str),
        "Parameters": P(dict),
    }
    replace_on = frozenset({"Name"})
    outputs = ("Name", "Arn", "CatalogId")

    def _input(self, name: str, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"Name": name, **{k: props[k] for k in ("Description", "LocationUri", "Parameters")
                                 if props.get(k) is not None}}

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.resource_name(ctx, props)
        # Synchronous: the database is usable when the call returns.
        ctx.client("glue").create_database(DatabaseInput=self._input(name, props), Tags=dict(ctx.tags))
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        db = self.get(ctx, physical_id) or {}
        return {"Name": physical_id, "Arn": self.arn(ctx, physical_id), "CatalogId": db.get("CatalogId")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        db = self.get(ctx, physical_id)
        if db is None:
            return None
        out = {k: db[k] for k in ("Description", "LocationUri", "Parameters") if db.get(k)}
        if "Name" in self.properties:
            out["Name"] = db["Name"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        ctx.client("glue").update_database(Name=physical_id, DatabaseInput=self._input(physical_id, new))
        self.tag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        # Deleting a database drops its tables' metadata too (not the S3 data).
        self.ignore_gone(ctx.client("glue").delete_database, Name=physical_id)


_UPDATE_BEHAVIOUR = one_of("LOG", "UPDATE_IN_DATABASE")
_DELETE_BEHAVIOUR = one_of("LOG", "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE")


def _cron(value: Any) -> str | None:
    return None if re.match(r"^cron\(.+\)$", value) else "must be a Glue schedule such as cron(0 2 * * ? *)"


class Crawler(GlueResource):
    """A crawler over the data lake's S3 prefixes, on a schedule, writing tables into a Database."""

    type_name = "glue.Crawler"
    retries = CRAWLER_RETRIES
    label = "crawler"
    arn_kind = ("glue", "crawler")
    arn_kind = "crawler"
    props = {
        "Name": P(str),
        "Role": P(str, required=True, doc="IAM role ARN (or name) Glue assumes"),
        "DatabaseName": P(str, required=True),
        "Description": P(str),
        "Targets": P(dict, required=True, doc="S3Targets: [{Path, Exclusions}]"),
        "Schedule": P(str, validator=_cron),
        "TablePrefix": P(str),
        "SchemaChangePolicy": P(dict, default={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"}),
        "RecrawlPolicy": P(dict),
        "Configuration": P((dict, str), doc="crawler configuration JSON (dict or text)"),
        "CrawlerSecurityConfiguration": P(str),
    }
    replace_on = frozenset({"Name"})
    outputs = ("Name", "Arn")
    passthrough = ("Role", "DatabaseName", "Description", "Targets", "Schedule", "TablePrefix",
                   "SchemaChangePolicy", "RecrawlPolicy", "Configuration", "CrawlerSecurityConfiguration")

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        targets = props["Targets"]
        s3 = targets.get("S3Targets") if isinstance(targets, dict) else None
        if isinstance(targets, dict) and not any(targets.values()):
            raise PlanError(f"{where}: Targets names no target")
        for t in s3 or ():
            path = t.get("Path") if isinstance(t, dict) else None
            if isinstance(path, str) and not path.startswith("s3://"):
                raise PlanError(f"{where}: S3 target path {path!r} must start with s3://")
        policy = props.get("SchemaChangePolicy") or {}
        for key, check in (("UpdateBehavior", _UPDATE_BEHAVIOUR), ("DeleteBehavior", _DELETE_BEHAVIOUR)):
            if key in policy and (msg := check(policy[key])):
                raise PlanError(f"{where}: SchemaChangePolicy.{key} {msg}")

    def _params(self, name: str, props: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: props[k] for k in self.passthrough if props.get(k) is not None}
        if isinstance(out.get("Configuration"), dict):
            out["Configuration"] = json.dumps(out["Configuration"])
        return {"Name": name, **out}

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.resource_name(ctx, props)
        # Synchronous: a new crawler is READY (and scheduled) when the call returns.
        ctx.client("glue").create_crawler(**self._params(name, props), Tags=dict(ctx.tags))
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"Name": physical_id, "Arn": self.arn(ctx, physical_id)}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        c = self.get(ctx, physical_id)
        if c is None:
            return None
        declared = self.properties
        out: dict[str, Any] = {"Role": c.get("Role"), "DatabaseName": c.get("DatabaseName"),
                               "Targets": shaped(c.get("Targets") or {}, declared.get("Targets") or {})}
        schedule = (c.get("Schedule") or {}).get("ScheduleExpression")
        if schedule:
            out["Schedule"] = schedule
        for key in ("Description", "TablePrefix", "CrawlerSecurityConfiguration"):
            if c.get(key):
                out[key] = c[key]
        for key in ("SchemaChangePolicy", "RecrawlPolicy"):
            if key in declared and c.get(key):
                out[key] = shaped(c[key], declared[key])
        if "Configuration" in declared and c.get("Configuration"):
            text = c["Configuration"]
            out["Configuration"] = text if isinstance(declared["Configuration"], str) else json.loads(text)
        if "Name" in declared:
            out["Name"] = c["Name"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """UpdateCrawler is refused while a crawl runs (CrawlerRunningException, botocore): the plan
        schedules the crawler nightly, so an apply can meet one. The crawl is left to finish (stopping it
        would lose its work) and the update goes out once the crawler is READY again."""
        glue = ctx.client("glue")
        for attempt in range(3):
            if (self.get(ctx, physical_id) or {}).get("State") in ("RUNNING", "STOPPING"):
                ctx.wait("glue", "CrawlerReady", timeout_key="update", Name=physical_id)
            try:
                glue.update_crawler(**self._params(physical_id, new))
                break
            except Exception as exc:
                if self.code(exc) != "CrawlerRunningException" or attempt == 2:
                    raise  # a crawl started between the wait and the call: wait for that one too
        if old.get("Schedule") and not new.get("Schedule"):
            # UpdateCrawler leaves an omitted schedule as it was; removing one is its own call.
            glue.update_crawler_schedule(CrawlerName=physical_id, Schedule="")
        self.tag(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        glue = ctx.client("glue")
        c = self.get(ctx, physical_id)
        if c is None:
            return
        if c.get("State") in ("RUNNING", "STOPPING"):
            # AWS refuses to delete a running crawler: stop it and wait for READY.
            if c["State"] == "RUNNING":
                try:
                    glue.stop_crawler(Name=physical_id)
                except Exception as exc:
                    # It may have finished (or vanished) between the read and the stop.
                    if not self.gone(exc) and self.code(exc) != "CrawlerNotRunningException":
                        raise
            ctx.wait("glue", "CrawlerReady", timeout_key="delete", Name=physical_id)
        self.ignore_gone(glue.delete_crawler, Name=physical_id)


class SecurityConfiguration(Resource):
    """How a crawler or job encrypts what it writes: S3 output, CloudWatch logs, job bookmarks (CKV_AWS_195).

    Glue has no update call for a security configuration: any change makes a new one. It carries no
    tags, so it is found by its name, which the tool makes unique per project/env/address.
    """

    type_name = "glue.SecurityConfiguration"
    label = "Glue security configuration"
    service = "glue"
    not_found = ("EntityNotFoundException",)
    props = {
        "Name": P(str, doc="default: genai-demo-<env>-<name>"),
        "EncryptionConfiguration": P(dict, required=True,
                                     doc="S3Encryption, CloudWatchEncryption, JobBookmarksEncryption"),
    }
    replace_on = frozenset({"Name", "EncryptionConfiguration"})
    change_notes = {"EncryptionConfiguration": "replace: Glue has no UpdateSecurityConfiguration (create and "
                                               "delete only; Terraform encryption_configuration ForceNew)"}
    outputs = ("Name",)

    def _name(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        name = (props or self.properties).get("Name")
        return name if isinstance(name, str) else ctx.physical_name(max_len=255)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self._name(ctx, props)
        ctx.client("glue").create_security_configuration(Name=name,
                                                         EncryptionConfiguration=props["EncryptionConfiguration"])
        return name, {"Name": name}

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"Name": physical_id}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("glue").get_security_configuration, Name=physical_id)
        conf = (resp or {}).get("SecurityConfiguration")
        if not conf:
            return None
        out = {"EncryptionConfiguration": shaped(conf.get("EncryptionConfiguration") or {},
                                                 self.properties.get("EncryptionConfiguration"))}
        if "Name" in self.properties:
            out["Name"] = physical_id
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        return {"Name": physical_id}  # every property is replace_on

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("glue").delete_security_configuration, Name=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self._name(ctx)
        return (name, {"Name": name}) if self.read(ctx, name) is not None else None


class DataCatalogEncryptionSettings(Resource):
    """The account's Data Catalog encryption in this region: table metadata and connection passwords
    (CKV_AWS_94). One per account and region, so the physical id is the catalog id (the account); a
    destroy turns the encryption off again, as AWS's own default has it."""

    type_name = "glue.DataCatalogEncryptionSettings"
    label = "Glue catalog encryption"
    service = "glue"
    props = {
        "DataCatalogEncryptionSettings": P(dict, required=True,
                                           doc="EncryptionAtRest (SSE-KMS + key), ConnectionPasswordEncryption"),
    }
    outputs = ("CatalogId",)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ctx.client("glue").put_data_catalog_encryption_settings(
            DataCatalogEncryptionSettings=props["DataCatalogEncryptionSettings"])
        return ctx.account_id, {"CatalogId": ctx.account_id}

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"CatalogId": physical_id}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        got = ctx.client("glue").get_data_catalog_encryption_settings().get("DataCatalogEncryptionSettings") or {}
        if (got.get("EncryptionAtRest") or {}).get("CatalogEncryptionMode", "DISABLED") == "DISABLED":
            return None
        return {"DataCatalogEncryptionSettings": shaped(got, self.properties.get("DataCatalogEncryptionSettings"))}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        return self.create(ctx, new)[1]

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        ctx.client("glue").put_data_catalog_encryption_settings(DataCatalogEncryptionSettings={
            "EncryptionAtRest": {"CatalogEncryptionMode": "DISABLED"},
            "ConnectionPasswordEncryption": {"ReturnConnectionPasswordEncrypted": False}})

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        return (ctx.account_id, {"CatalogId": ctx.account_id}) if self.read(ctx, ctx.account_id) else None
