"""Lambda types: functions whose code lives in this repository, and invoke permissions.

A function's code is a directory of the repo (`SourceDir`, e.g.
plans/genai_demo/functions/custom_metrics, relative to the directory holding resources/: the
repository, or site-packages once installed; or an absolute path). The type zips it deterministically (sorted
entries, fixed timestamps and modes, no bytecode caches) so the same source
always gives the same bytes and the same CodeSha256 as AWS computes it. That
digest is computed when the plan is built and kept as the `CodeSha256`
property, so an edit to the code is a property change the planner sees, and
drift (someone uploaded other code) shows in read().
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from core.errors import PlanError, Retry, error_code, on_write
from resources.base import Ctx, KnownProps, P, Resource, ResourceError, int_range, name_or_default

REPO_ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
SKIP_SUFFIXES = (".pyc", ".pyo")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
SEP = "|"


def source_path(source_dir: str) -> Path:
    p = Path(source_dir)
    return p if p.is_absolute() else REPO_ROOT / p


def zip_source(source_dir: str) -> bytes:
    """The directory as a zip whose bytes depend only on file names and contents."""
    root = source_path(source_dir)
    files = sorted(
        p for p in root.rglob("*")
        if p.is_file() and not (set(p.relative_to(root).parts[:-1]) & SKIP_DIRS) and not p.name.endswith(SKIP_SUFFIXES)
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in files:
            info = zipfile.ZipInfo(p.relative_to(root).as_posix(), date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # readable by the Lambda runtime user, whatever the checkout says
            info.create_system = 3  # unix, so external_attr is read as a mode everywhere
            zf.writestr(info, p.read_bytes(), compresslevel=9)
    return buf.getvalue()


def code_sha256(data: bytes) -> str:
    """What Lambda reports as CodeSha256: base64 of the SHA-256 of the zip."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@cache
def _cached_sha(source_dir: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    return code_sha256(zip_source(source_dir))


def source_sha256(source_dir: str) -> str:
    """CodeSha256 of a source dir, cached on (path, size, mtime) of its files."""
    root = source_path(source_dir)
    stamp = tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()))
    return _cached_sha(source_dir, stamp)


_TF_FUNCTION = ("terraform-provider-aws internal/service/lambda/function.go retryFunctionOp, around CreateFunction "
                "and UpdateFunctionConfiguration (lambdaPropagationTimeout: 5 min)")
# What Lambda keeps unreserved of an account's concurrent executions: 100, or all of a quota below 100
# (docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html; sandbox rule lambda-concurrency-quota).
CONCURRENCY_KEPT_UNRESERVED = 100

# What Lambda answers while the execution role (its trust policy, its permissions) has not reached Lambda
# yet, and while an earlier update is still being applied. Each message is one Lambda gives only in that
# case: an invalid runtime or handler (the same InvalidParameterValueException) stays fatal.
FUNCTION_RETRIES: tuple[Retry, ...] = (
    on_write("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda",
             300, _TF_FUNCTION),
    # A VPC function's role: AWSLambdaVPCAccessExecutionRole attached moments ago (X-Ray is another matter).
    on_write("InvalidParameterValueException", r"The provided execution role does not have permissions to call "
             r"\w+ on EC2", 300, _TF_FUNCTION),
    on_write("InvalidParameterValueException", "throttled by EC2", 300, _TF_FUNCTION),
    on_write("InvalidParameterValueException", "Lambda was unable to configure access to your environment "
             "variables because the KMS key is invalid for CreateGrant", 300, _TF_FUNCTION),
    on_write("ResourceConflictException", "update is in progress|operation cannot be performed at this time",
             300, _TF_FUNCTION),
)


def dead_letter_config(value: Any) -> str | None:
    """CreateFunction takes one key, TargetArn, naming an SQS queue or an SNS topic (botocore DeadLetterConfig)."""
    if set(value) - {"TargetArn"}:
        return f"takes only TargetArn, got {sorted(value)}"
    arn = value.get("TargetArn")
    if isinstance(arn, str) and not arn.startswith(("arn:aws:sqs:", "arn:aws:sns:")):
        return "TargetArn must be an SQS queue or SNS topic ARN"
    return None


class LambdaResource(KnownProps, Resource):
    service = "lambda"
    not_found = ("ResourceNotFoundException",)

    def get_function(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.ignore_gone(ctx.client("lambda").get_function, FunctionName=name)


class Function(LambdaResource):
    """A zip-packaged function (python3.12 by default) built from a repo directory.

    Configuration changes go through UpdateFunctionConfiguration and code
    changes through UpdateFunctionCode; each is followed by the
    FunctionUpdatedV2 waiter because Lambda refuses a second update while
    the first is in progress.
    """

    type_name = "lambda.Function"
    retries = FUNCTION_RETRIES
    label = "Lambda function"
    arn_kind = ("lambda", "function")
    props = {
        "FunctionName": P(str, doc="default genai-demo-<env>-<logical name> (64 characters at most)"),
        "Runtime": P(str, default="python3.12"),
        "Handler": P(str, required=True, doc="module.function, e.g. handler.handler"),
        "Role": P(str, required=True, doc="execution role ARN"),
        "SourceDir": P(str, required=True, doc="directory of this repo holding the code"),
        "CodeSha256": P(str, doc="computed from SourceDir when the plan is built; not set by hand"),
        "Description": P(str),
        "Timeout": P(int, default=3),
        "MemorySize": P(int, default=128),
        "Environment": P(dict, doc='{"Variables": {...}}'),
        "Architectures": P(list, default=["x86_64"]),
        "TracingConfig": P(dict, default={"Mode": "PassThrough"}),
        "VpcConfig": P(dict, doc="{SubnetIds, SecurityGroupIds}"),
        "DeadLetterConfig": P(dict, validator=dead_letter_config,
                              doc='{"TargetArn": SQS queue or SNS topic ARN}: where Lambda sends an asynchronous '
                                  "event it failed to process after its retries; the role needs sqs:SendMessage "
                                  "or sns:Publish on it"),
        "KMSKeyArn": P(str, doc="customer-managed key encrypting the environment variables at rest; the "
                                "AWS-managed aws/lambda key when unset"),
        "ReservedConcurrentExecutions": P(int, validator=int_range(0, 1000),
                                          doc="concurrency reserved for (and capped at) this function "
                                              "(PutFunctionConcurrency); 0 stops every invocation"),
        "CodeSigningConfigArn": P(str, doc="code signing configuration: Lambda checks the signature of every "
                                           "code upload against its signing profiles"),
    }
    replace_on = frozenset({"FunctionName"})
    outputs = ("FunctionName", "Arn")
    write_only = frozenset({"SourceDir"})
    config_keys = ("Runtime", "Handler", "Role", "Description", "Timeout", "MemorySize", "Environment",
                   "TracingConfig", "VpcConfig", "DeadLetterConfig", "KMSKeyArn")

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        src = props.get("SourceDir")
        if isinstance(src, str):
            root = source_path(src)
            if not root.is_dir():
                raise PlanError(f"{where}: SourceDir {src!r} is not a directory of the repository")
            handler = props.get("Handler")
            if isinstance(handler, str) and props.get("Runtime", "").startswith("python"):
                module = handler.rpartition(".")[0].replace(".", "/")
                if not module or not (root / f"{module}.py").is_file():
                    raise PlanError(f"{where}: Handler {handler!r} needs {module or '<module>'}.py in {src}")
            sha = source_sha256(src)
            if props.get("CodeSha256") not in (None, sha):
                raise PlanError(f"{where}: CodeSha256 is computed from SourceDir ({sha}); do not set it")
            props["CodeSha256"] = sha
        for key in ("Timeout", "MemorySize"):
            bounds = {"Timeout": (1, 900), "MemorySize": (128, 10240)}[key]
            v = props.get(key)
            if isinstance(v, int) and not bounds[0] <= v <= bounds[1]:
                raise PlanError(f"{where}: {key}={v} must be in [{bounds[0]}, {bounds[1]}]")
        env = props.get("Environment")
        if isinstance(env, dict) and set(env) - {"Variables"}:
            raise PlanError(f'{where}: Environment is {{"Variables": {{...}}}}, got keys {sorted(env)}')

    def name_for(self, ctx: Ctx, props: dict[str, Any]) -> str | None:
        return name_or_default(ctx, props.get("FunctionName"), 64)

    @classmethod
    def preflight(cls, clients: Any, resources: list[Resource]) -> None:
        """Reserved concurrency the account can give, before anything is created.

        Lambda keeps 100 of the account's concurrent executions unreserved (all of them in an account whose
        quota is below 100, as a new account's 10 is), and refuses a PutFunctionConcurrency that would leave
        less: the function would already exist by then, and the run stop half done. GetAccountSettings
        says what is left; what the plan's functions already hold (a re-apply) is part of it. A function
        whose name is not known before it is created is left to that call's own refusal.
        """
        wanted = {r: r.properties.get("ReservedConcurrentExecutions") for r in resources}
        wanted = {r: v for r, v in wanted.items() if isinstance(v, int) and v > 0}
        if not wanted:
            return
        lam = clients.client("lambda")
        try:
            limit = lam.get_account_settings()["AccountLimit"]
        except Exception as exc:  # noqa: BLE001 - a role without lambda:GetAccountSettings: the call decides
            if error_code(exc) in ("AccessDeniedException", "AccessDenied"):
                return
            raise
        need = 0
        for r, v in wanted.items():
            name = r.properties.get("FunctionName")
            if not isinstance(name, str):
                continue
            try:
                held = lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") or 0
            except Exception as exc:  # noqa: BLE001 - not created yet: it holds nothing
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                held = 0
            need += v - int(held)
        quota, unreserved = int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"])
        keep = min(CONCURRENCY_KEPT_UNRESERVED, quota)
        if need > 0 and unreserved - need < keep:
            what = ", ".join(f"{r.address} {v}" for r, v in sorted(wanted.items(), key=lambda i: i[0].address))
            raise PlanError(
                f"Lambda reserved concurrency ({what}) needs {need} more of the account's concurrent executions "
                f"in {clients.region}, and would leave {unreserved - need} unreserved, below the {keep} Lambda "
                f"keeps for functions without a reservation (the account's quota is {quota}; "
                f"{unreserved} unreserved now). Ask for a higher quota (Service Quotas: AWS Lambda, Concurrent "
                "executions; a new account starts at 10), or take ReservedConcurrentExecutions out of the plan.")

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.name_for(ctx, props)
        params = {k: props[k] for k in self.config_keys if props.get(k) is not None}
        if props.get("CodeSigningConfigArn"):
            params["CodeSigningConfigArn"] = props["CodeSigningConfigArn"]
        ctx.client("lambda").create_function(
            FunctionName=name, Code={"ZipFile": zip_source(props["SourceDir"])}, PackageType="Zip",
            Architectures=props["Architectures"], Publish=False, Tags=dict(ctx.tags), **params)
        ctx.wait("lambda", "FunctionActiveV2", timeout_key="create", FunctionName=name)
        if props.get("ReservedConcurrentExecutions") is not None:
            ctx.client("lambda").put_function_concurrency(
                FunctionName=name, ReservedConcurrentExecutions=props["ReservedConcurrentExecutions"])
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        fn = self.get_function(ctx, physical_id)
        if fn is None:
            raise ResourceError(f"Lambda function {physical_id} does not exist")
        return {"FunctionName": physical_id, "Arn": fn["Configuration"]["FunctionArn"]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        fn = self.get_function(ctx, physical_id)
        if fn is None:
            return None
        c = fn["Configuration"]
        out: dict[str, Any] = {"FunctionName": c["FunctionName"], "CodeSha256": c["CodeSha256"],
                               "Architectures": c.get("Architectures", ["x86_64"]),
                               "TracingConfig": {"Mode": c.get("TracingConfig", {}).get("Mode", "PassThrough")}}
        for key in ("Runtime", "Handler", "Role", "Timeout", "MemorySize"):
            out[key] = c.get(key)
        if c.get("Description"):
            out["Description"] = c["Description"]
        variables = (c.get("Environment") or {}).get("Variables")
        if variables:
            out["Environment"] = {"Variables": variables}
        vpc = c.get("VpcConfig") or {}
        if vpc.get("SubnetIds"):
            out["VpcConfig"] = {"SubnetIds": vpc["SubnetIds"], "SecurityGroupIds": vpc.get("SecurityGroupIds", [])}
        if (c.get("DeadLetterConfig") or {}).get("TargetArn"):
            out["DeadLetterConfig"] = {"TargetArn": c["DeadLetterConfig"]["TargetArn"]}
        if c.get("KMSKeyArn"):
            out["KMSKeyArn"] = c["KMSKeyArn"]
        reserved = (fn.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        if reserved is not None:
            out["ReservedConcurrentExecutions"] = int(reserved)
        signing = self.ignore_gone(ctx.client("lambda").get_function_code_signing_config, FunctionName=physical_id)
        if (signing or {}).get("CodeSigningConfigArn"):
            out["CodeSigningConfigArn"] = signing["CodeSigningConfigArn"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        lam = ctx.client("lambda")
        # What UpdateFunctionConfiguration takes to remove a setting (botocore: an empty TargetArn, an empty
        # KMSKeyArn goes back to the AWS-managed key).
        empty = {"Description": "", "Environment": {"Variables": {}},
                 "VpcConfig": {"SubnetIds": [], "SecurityGroupIds": []}, "DeadLetterConfig": {"TargetArn": ""},
                 "KMSKeyArn": ""}
        changed = {k: (new[k] if new.get(k) is not None else empty.get(k))
                   for k in self.config_keys if old.get(k) != new.get(k)}
        changed = {k: v for k, v in changed.items() if v is not None}
        if changed:
            lam.update_function_configuration(FunctionName=physical_id, **changed)
            ctx.wait("lambda", "FunctionUpdatedV2", timeout_key="update", FunctionName=physical_id)
        if old.get("ReservedConcurrentExecutions") != new.get("ReservedConcurrentExecutions"):
            if new.get("ReservedConcurrentExecutions") is None:
                lam.delete_function_concurrency(FunctionName=physical_id)
            else:
                lam.put_function_concurrency(FunctionName=physical_id,
                                             ReservedConcurrentExecutions=new["ReservedConcurrentExecutions"])
        if old.get("CodeSigningConfigArn") != new.get("CodeSigningConfigArn"):
            if new.get("CodeSigningConfigArn"):
                lam.put_function_code_signing_config(FunctionName=physical_id,
                                                     CodeSigningConfigArn=new["CodeSigningConfigArn"])
            else:
                lam.delete_function_code_signing_config(FunctionName=physical_id)
        data = zip_source(new["SourceDir"])
        live = (self.get_function(ctx, physical_id) or {}).get("Configuration", {})
        if live.get("CodeSha256") != code_sha256(data) or old.get("Architectures") != new.get("Architectures"):
            lam.update_function_code(FunctionName=physical_id, ZipFile=data, Architectures=new["Architectures"])
            ctx.wait("lambda", "FunctionUpdatedV2", timeout_key="update", FunctionName=physical_id)
        outputs = self.outputs_of(ctx, physical_id)
        lam.tag_resource(Resource=outputs["Arn"], Tags=dict(ctx.tags))
        return outputs

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("lambda").delete_function, FunctionName=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.name_for(ctx, self.properties)
        if name is None or self.get_function(ctx, name) is None:
            return None
        return name, self.outputs_of(ctx, name)


class Permission(LambdaResource):
    """Lets a service invoke a function (EventBridge -> Lambda, CloudWatch Logs -> Lambda).

    A statement cannot be edited in place: every property replaces it.
    The physical id is "<function>|<statement id>".
    """

    type_name = "lambda.Permission"
    label = "Lambda permission"
    props = {
        "FunctionName": P(str, required=True),
        "StatementId": P(str, doc="default genai-demo-<env>-<logical name>"),
        "Action": P(str, default="lambda:InvokeFunction"),
        "Principal": P(str, required=True, doc="service (events.amazonaws.com), account or ARN"),
        "SourceArn": P(str),
        "SourceAccount": P(str),
    }
    replace_on = frozenset(props)
    outputs = ("FunctionName", "StatementId")

    def sid_for(self, ctx: Ctx, props: dict[str, Any]) -> str | None:
        return name_or_default(ctx, props.get("StatementId"), 100)

    @staticmethod
    def split(physical_id: str) -> tuple[str, str]:
        fn, _, sid = physical_id.rpartition(SEP)
        return fn, sid

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Add the statement; one already there under our deterministic id is ours from an interrupted run.

        find() cannot see it when FunctionName is a Ref (find has no resolved
        props), so create looks first: the same statement is adopted, a
        different one is replaced rather than failing with a conflict.
        """
        sid = self.sid_for(ctx, props)
        pid = SEP.join((props["FunctionName"], sid))
        lam = ctx.client("lambda")
        existing = self.read(ctx, pid)
        if existing is not None:
            if all(existing.get(k) == props.get(k) for k in ("Action", "Principal", "SourceArn", "SourceAccount")):
                return pid, self.outputs_of(ctx, pid)
            lam.remove_permission(FunctionName=props["FunctionName"], StatementId=sid)
        params = {k: props[k] for k in ("Action", "Principal", "SourceArn", "SourceAccount") if props.get(k)}
        lam.add_permission(FunctionName=props["FunctionName"], StatementId=sid, **params)
        return pid, self.outputs_of(ctx, pid)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        fn, sid = self.split(physical_id)
        return {"FunctionName": fn, "StatementId": sid}

    def _statement(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        fn, sid = self.split(physical_id)
        # None when there is no function, or no policy at all
        resp = self.ignore_gone(ctx.client("lambda").get_policy, FunctionName=fn)
        if resp is None:
            return None
        policy = resp["Policy"]
        if isinstance(policy, str):
            policy = json.loads(policy)
        return next((s for s in policy.get("Statement", []) if s.get("Sid") == sid), None)

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        st = self._statement(ctx, physical_id)
        if st is None:
            return None
        fn, sid = self.split(physical_id)
        principal = st.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("Service") or principal.get("AWS")
        action = st.get("Action")
        out: dict[str, Any] = {"FunctionName": fn, "StatementId": sid, "Principal": principal,
                               "Action": action[0] if isinstance(action, list) and len(action) == 1 else action}
        cond = st.get("Condition") or {}
        if cond.get("ArnLike", {}).get("AWS:SourceArn"):
            out["SourceArn"] = cond["ArnLike"]["AWS:SourceArn"]
        if cond.get("StringEquals", {}).get("AWS:SourceAccount"):
            out["SourceAccount"] = cond["StringEquals"]["AWS:SourceAccount"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        return self.outputs_of(ctx, physical_id)  # every property replaces; nothing changes in place

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        fn, sid = self.split(physical_id)
        self.ignore_gone(ctx.client("lambda").remove_permission, FunctionName=fn, StatementId=sid)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        fn, sid = self.known_prop(ctx, "FunctionName"), self.sid_for(ctx, self.properties)
        if fn is None or sid is None:
            return None
        pid = SEP.join((fn, sid))
        return (pid, self.outputs_of(ctx, pid)) if self._statement(ctx, pid) else None

