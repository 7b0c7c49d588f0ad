"""SSM Parameter Store: the configuration the application reads at start-up.

Every parameter lives under `/<project>/<env>/` (`/genai-demo/dev/...`), so
an env's configuration is one GetParametersByPath and an IAM policy can
grant exactly that prefix. The `Name` property is the part below the prefix
(`database/endpoint`); the resource adds the prefix, never the plan.

`Value` is declared secret, so the state table keeps only its digest. For a
SecureString read() also reports `digest(value)` instead of the value, so
the decrypted value leaves AWS only to be hashed; a String parameter reads
back in clear, which is what the application will see anyway.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from core.errors import PlanError, is_not_found
from resources.base import (
    BatchRead,
    Ctx,
    P,
    Resource,
    ResourceError,
    digest,
    fetch_in_chunks,
    one_of,
    tag_dict,
    tag_list,
)

NAME_PART = re.compile(r"^[a-zA-Z0-9_.-]+$")
VALUE_LIMITS = {"Standard": 4096, "Advanced": 8192, "Intelligent-Tiering": 8192}
DEFAULT_KEY = "alias/aws/ssm"


def relative_name(value: Any) -> str | None:
    parts = value.split("/") if isinstance(value, str) else []
    if not parts or value.startswith("/") or not all(NAME_PART.match(p) for p in parts):
        return ("must be a path below /genai-demo/<env>/ such as 'database/endpoint': "
                "segments of letters, digits, _ . -, no leading /")
    if parts[0].lower().startswith(("aws", "ssm")):
        return "must not start with aws or ssm (reserved by AWS)"
    if len(parts) + 2 > 15:
        return "is too deep: SSM allows 15 levels including /genai-demo/<env>"
    return None


def as_text(value: Any, where: str = "") -> str:
    """A Ref may resolve to a port number or a list of brokers; SSM stores text (lists comma-joined).

    None is no value at all (an output of a resource that failed or is not built yet: MSK brokers
    before the cluster is ACTIVE): storing the text "None" would hand clients a broken address.
    """
    if value is None:
        raise ResourceError(f"{where or 'ssm.Parameter'}: Value resolved to no value (None): the output it refers "
                            "to is empty, because that resource failed or is not ready. Nothing was written")
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return value if isinstance(value, str) else str(value)


class SsmResource(Resource):
    service = "ssm"
    not_found = ("ParameterNotFound",)


class Parameter(BatchRead, SsmResource):
    type_name = "ssm.Parameter"
    label = "parameter"
    arn_kind = ("ssm", "parameter")
    props = {
        "Name": P(str, required=True, validator=relative_name, doc="path below /<project>/<env>/"),
        "Type": P(str, default="String", validator=one_of("String", "StringList", "SecureString")),
        "Value": P(str, required=True, secret=True),
        "Description": P(str),
        "KeyId": P(str, doc="KMS key for a SecureString; alias/aws/ssm when unset"),
        "Tier": P(str, default="Standard", validator=one_of(*VALUE_LIMITS)),
    }
    replace_on = frozenset({"Name", "Type"})
    change_notes = {"Type": "replace: whether PutParameter(Overwrite) accepts another Type is not verified "
                            "on AWS (audit open item 5), so a new parameter is made; CloudFormation updates it"}
    outputs = ("Name", "Arn")
    timeouts: ClassVar[dict[str, float]] = {"create": 60, "update": 60, "delete": 60}

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        if props.get("KeyId") and props.get("Type") != "SecureString":
            raise PlanError(f"{where}: KeyId applies only to Type SecureString")
        value = props.get("Value")
        if isinstance(value, str):
            if not value:
                raise PlanError(f"{where}: Value must not be empty (SSM rejects empty values)")
            limit = VALUE_LIMITS[props.get("Tier", "Standard")]
            if len(value.encode()) > limit:
                raise PlanError(f"{where}: Value is {len(value.encode())} bytes; tier {props.get('Tier')} "
                                f"allows {limit}")

    # -- naming ------------------------------------------------------------------------

    @staticmethod
    def prefix(ctx: Ctx) -> str:
        return f"/{ctx.project}/{ctx.env}/"

    def full_name(self, ctx: Ctx, props: dict[str, Any] | None = None) -> str:
        return self.prefix(ctx) + (props or self.properties)["Name"]

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"Name": physical_id,
                "Arn": f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:parameter{physical_id}"}

    @classmethod
    def _current(cls, ctx: Ctx, name: str, *, decrypt: bool = False) -> dict[str, Any] | None:
        """The current version of one parameter, with its metadata (Description, KeyId, Tier).

        GetParameterHistory is per parameter; DescribeParameters would scan the
        whole account (and moto's scan breaks when another thread deletes meanwhile).
        """
        current: dict[str, Any] | None = None
        try:
            for page in ctx.client("ssm").get_paginator("get_parameter_history").paginate(
                    Name=name, WithDecryption=decrypt):
                for version in page.get("Parameters", []):
                    if current is None or version["Version"] > current["Version"]:
                        current = version
        except Exception as exc:
            if is_not_found(exc, cls.not_found):
                return None
            raise
        return current

    @classmethod
    def fetch(cls, ctx: Ctx, ids: list[str]) -> dict[str, Any]:
        """{name: the current version with its value (decrypted) and metadata} of those that exist.

        One parameter is one GetParameterHistory. Several are GetParameters (values, 10 names per
        call) plus DescribeParameters filtered on those names (metadata, 50 per call): 2 calls for
        up to 10 parameters instead of 10.
        """
        if len(ids) == 1:
            current = cls._current(ctx, ids[0], decrypt=True)
            return {} if current is None else {ids[0]: current}
        ssm = ctx.client("ssm")

        def values(chunk: list[str]) -> dict[str, Any]:  # unknown names come back as InvalidParameters
            return {p["Name"]: p for p in ssm.get_parameters(Names=chunk, WithDecryption=True)["Parameters"]}

        def metadata(chunk: list[str]) -> dict[str, Any]:
            # A filtered describe may answer in partial pages; stop once every name is found
            # (moto always sets a NextToken on a full page, as if more could follow).
            out: dict[str, Any] = {}
            for page in ssm.get_paginator("describe_parameters").paginate(
                    ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": chunk}],
                    PaginationConfig={"PageSize": 50}):
                out.update((p["Name"], p) for p in page["Parameters"])
                if len(out) == len(chunk):
                    break
            return out

        got = fetch_in_chunks(ids, 10, values, lambda exc: False)
        meta = fetch_in_chunks(list(got), 50, metadata, lambda exc: False)
        return {n: {**meta[n], **got[n]} for n in got if n in meta}

    # -- contract ------------------------------------------------------------------------

    def _put(self, ctx: Ctx, name: str, props: dict[str, Any], overwrite: bool) -> None:
        params: dict[str, Any] = {"Name": name, "Value": as_text(props["Value"], ctx.address), "Type": props["Type"],
                                  "Tier": props["Tier"]}
        if props.get("Description") is not None or overwrite:
            params["Description"] = props.get("Description") or ""
        if props.get("KeyId"):
            params["KeyId"] = props["KeyId"]
        if overwrite:
            params["Overwrite"] = True  # AWS refuses Tags together with Overwrite
        else:
            params["Tags"] = tag_list(ctx.tags)
        ctx.client("ssm").put_parameter(**params)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.full_name(ctx, props)
        self._put(ctx, name, props, overwrite=False)
        return name, self.outputs_of(ctx, name)

    def props_from(self, ctx: Ctx, physical_id: str, param: dict[str, Any]) -> dict[str, Any] | None:
        meta = param
        secure = param["Type"] == "SecureString"
        out: dict[str, Any] = {
            "Name": physical_id[len(self.prefix(ctx)):] if physical_id.startswith(self.prefix(ctx)) else physical_id,
            "Type": param["Type"],
            "Value": digest(param["Value"]) if secure else param["Value"],
            "Tier": meta.get("Tier", "Standard"),
        }
        if meta.get("Description"):
            out["Description"] = meta["Description"]
        if secure and meta.get("KeyId") and meta["KeyId"] != DEFAULT_KEY:
            out["KeyId"] = meta["KeyId"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self._put(ctx, physical_id, new, overwrite=True)
        ctx.client("ssm").add_tags_to_resource(ResourceType="Parameter", ResourceId=physical_id,
                                               Tags=tag_list(ctx.tags))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("ssm").delete_parameter, Name=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        """By the deterministic name; tags come with the create call, so an untagged one is not ours."""
        name = self.full_name(ctx)
        if self._current(ctx, name) is None:
            return None
        tags = tag_dict(ctx.client("ssm").list_tags_for_resource(ResourceType="Parameter",
                                                                 ResourceId=name).get("TagList"))
        if tags.get("infra:address") != ctx.address or tags.get("infra:env") != ctx.env:
            return None
        return name, self.outputs_of(ctx, name)

