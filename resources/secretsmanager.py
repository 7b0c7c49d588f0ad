"""Secrets Manager secrets whose values AWS generates and nobody writes down.

The value of a secret is never a property, never an output and never in
state: with `GenerateSecretString` the resource asks AWS for a random
password (GetRandomPassword) and stores it in the same CreateSecret call,
so a secret never exists without its value; without it the secret is
created empty for someone else to fill. Resources that need the value
(an ElastiCache auth token, a database password) take the secret's ARN and
read it themselves.

Names are `<project>/<env>/<Name>` (`genai-demo/dev/redis-auth`). Deleting
with a recovery window leaves the name taken until the window ends, so a
create that meets its own secret pending deletion restores it instead of
failing; RecoveryWindowInDays 0 (the dev setting) deletes at once.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, ClassVar

from core.errors import Retry, on_write
from resources.base import Ctx, P, Resource, ResourceError, tag_dict, tag_list

NAME = re.compile(r"^[a-zA-Z0-9/_+=.@-]{1,400}$")
PASSWORD_OPTIONS = {  # GetRandomPassword parameters and their types
    "PasswordLength": int, "ExcludeCharacters": str, "ExcludeNumbers": bool, "ExcludePunctuation": bool,
    "ExcludeUppercase": bool, "ExcludeLowercase": bool, "IncludeSpace": bool, "RequireEachIncludedType": bool,
}
TEMPLATE_OPTIONS = {"SecretStringTemplate": str, "GenerateStringKey": str}  # as in CloudFormation


def secret_name(value: Any) -> str | None:
    if not isinstance(value, str) or not NAME.match(value) or value.startswith("/"):
        return "must be the part below genai-demo/<env>/: letters, digits and / _ + = . @ -"
    if re.search(r"-[a-zA-Z0-9]{6}$", value):
        # AWS appends -XXXXXX to the ARN; a name ending like that makes partial-ARN lookups ambiguous.
        return "must not end with a hyphen and six characters (AWS reserves that shape for ARN suffixes)"
    return None


def generate_options(value: Any) -> str | None:
    allowed = PASSWORD_OPTIONS | TEMPLATE_OPTIONS
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        return f"has unknown keys {unknown}; allowed: {', '.join(sorted(allowed))}"
    for k, v in value.items():
        if not isinstance(v, allowed[k]) or (allowed[k] is int and isinstance(v, bool)):
            return f"{k} must be {allowed[k].__name__}"
    if not 4 <= value.get("PasswordLength", 32) <= 4096:
        return "PasswordLength must be in [4, 4096]"
    if ("SecretStringTemplate" in value) != ("GenerateStringKey" in value):
        return "needs SecretStringTemplate and GenerateStringKey together"
    if "SecretStringTemplate" in value:
        try:
            template = json.loads(value["SecretStringTemplate"])
        except ValueError:
            return "SecretStringTemplate must be a JSON object"
        if not isinstance(template, dict):
            return "SecretStringTemplate must be a JSON object"
    return None


def recovery_window(value: Any) -> str | None:
    if isinstance(value, int) and (value == 0 or 7 <= value <= 30):
        return None
    return "must be 0 (delete without recovery) or 7 to 30 days"


class SecretsManagerResource(Resource):
    service = "secretsmanager"
    not_found = ("ResourceNotFoundException",)

    def describe(self, ctx: Ctx, secret_id: str, *, include_deleted: bool = False) -> dict[str, Any] | None:
        meta = self.ignore_gone(ctx.client("secretsmanager").describe_secret, SecretId=secret_id)
        if meta is None:
            return None
        if meta.get("DeletedDate") and not include_deleted:
            return None
        return meta

    @staticmethod
    def request_token(ctx: Ctx) -> str | None:
        """ctx.token where AWS accepts it (32-64 characters); else a UUID derived from it, still deterministic."""
        if not ctx.token:
            return None
        if 32 <= len(ctx.token) <= 64:
            return ctx.token
        return str(uuid.uuid5(uuid.NAMESPACE_URL, ctx.token))


class Secret(SecretsManagerResource):
    type_name = "secretsmanager.Secret"
    stateful = True  # a replacement destroys its data (issue 13): apply refuses it unless named
    label = "secret"
    arn_kind = ("secretsmanager", "secret")
    props = {
        "Name": P(str, required=True, validator=secret_name, doc="part below <project>/<env>/"),
        "Description": P(str),
        "KmsKeyId": P(str, doc="KMS key (ARN) encrypting the value; aws/secretsmanager when unset"),
        "GenerateSecretString": P(dict, validator=generate_options,
                                  doc="GetRandomPassword options, plus SecretStringTemplate/GenerateStringKey "
                                      "to embed the password in a JSON document; omit to create no value"),
        "RecoveryWindowInDays": P(int, default=0, validator=recovery_window),
    }
    replace_on = frozenset({"Name"})
    outputs = ("Arn", "Name")
    write_only = frozenset({"GenerateSecretString", "RecoveryWindowInDays"})
    timeouts: ClassVar[dict[str, float]] = {"create": 60, "update": 60, "delete": 60}

    def full_name(self, ctx: Ctx, props: dict[str, Any] | None = None) -> str:
        return f"{ctx.project}/{ctx.env}/{(props or self.properties)['Name']}"

    @staticmethod
    def outputs_from(meta: dict[str, Any]) -> dict[str, Any]:
        return {"Arn": meta["ARN"], "Name": meta["Name"]}

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        meta = self.describe(ctx, physical_id)
        if meta is None:
            raise ResourceError(f"secret {physical_id} does not exist or is scheduled for deletion")
        return self.outputs_from(meta)

    def generate(self, ctx: Ctx, options: dict[str, Any]) -> str:
        """A fresh value from AWS's generator; only ever passed straight back to AWS."""
        opts = {k: v for k, v in options.items() if k in PASSWORD_OPTIONS}
        password = ctx.client("secretsmanager").get_random_password(**opts)["RandomPassword"]
        if "GenerateStringKey" in options:
            doc = json.loads(options["SecretStringTemplate"])
            doc[options["GenerateStringKey"]] = password
            return json.dumps(doc)
        return password

    # -- contract ------------------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        sm = ctx.client("secretsmanager")
        name = self.full_name(ctx, props)
        pending = self.describe(ctx, name, include_deleted=True)
        if pending and pending.get("DeletedDate") and tag_dict(pending.get("Tags")).get("infra:address") == ctx.address:
            # Our own secret inside its recovery window: bring it (and its value) back.
            sm.restore_secret(SecretId=pending["ARN"])
            self.update(ctx, pending["ARN"], {}, dict(props, GenerateSecretString=None))
            return pending["ARN"], self.outputs_of(ctx, pending["ARN"])
        params: dict[str, Any] = {"Name": name, "Tags": tag_list(ctx.tags)}
        if props.get("Description") is not None:
            params["Description"] = props["Description"]
        if props.get("KmsKeyId"):
            params["KmsKeyId"] = props["KmsKeyId"]
        if props.get("GenerateSecretString") is not None:
            params["SecretString"] = self.generate(ctx, props["GenerateSecretString"])
            token = self.request_token(ctx)
            if token:
                params["ClientRequestToken"] = token  # becomes the version id: a retried create is recognised
        arn = sm.create_secret(**params)["ARN"]
        return arn, self.outputs_of(ctx, arn)

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        meta = self.describe(ctx, physical_id)
        if meta is None:
            return None
        prefix = f"{ctx.project}/{ctx.env}/"
        out: dict[str, Any] = {"Name": meta["Name"][len(prefix):] if meta["Name"].startswith(prefix) else meta["Name"]}
        if meta.get("Description"):
            out["Description"] = meta["Description"]
        if meta.get("KmsKeyId"):
            out["KmsKeyId"] = meta["KmsKeyId"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        sm = ctx.client("secretsmanager")
        changes: dict[str, Any] = {}
        if old.get("Description") != new.get("Description"):
            changes["Description"] = new.get("Description") or ""
        if old.get("KmsKeyId") != new.get("KmsKeyId"):
            # AWS re-encrypts the current versions with the new key; an empty string (the key removed from
            # the plan) goes back to the AWS managed key aws/secretsmanager (botocore UpdateSecret.KmsKeyId).
            changes["KmsKeyId"] = new.get("KmsKeyId") or ""
        if changes:
            sm.update_secret(SecretId=physical_id, **changes)
        if new.get("GenerateSecretString") is not None and old.get("GenerateSecretString") != new["GenerateSecretString"]:
            # New generation rules mean a new value (as a changed random_password would in Terraform).
            # No ClientRequestToken: the executor reuses the create token for every update, and AWS refuses a
            # known version id with a different value; boto3 generates a fresh one.
            sm.put_secret_value(SecretId=physical_id, SecretString=self.generate(ctx, new["GenerateSecretString"]))
        sm.tag_resource(SecretId=physical_id, Tags=tag_list(ctx.tags))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        if self.describe(ctx, physical_id) is None:  # gone, or already scheduled for deletion
            return
        window = int(self.properties.get("RecoveryWindowInDays") or 0)
        params: dict[str, Any] = {"RecoveryWindowInDays": window} if window else {"ForceDeleteWithoutRecovery": True}
        self.ignore_gone(ctx.client("secretsmanager").delete_secret, SecretId=physical_id, **params)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        meta = self.describe(ctx, self.full_name(ctx))
        if meta is None or tag_dict(meta.get("Tags")).get("infra:address") != ctx.address:
            return None
        return meta["ARN"], self.outputs_from(meta)



# The function's permission for secretsmanager.amazonaws.com, added moments before, takes a while to count.
ROTATION_RETRIES: tuple[Retry, ...] = (
    on_write("AccessDeniedException", "Secrets Manager cannot invoke the specified Lambda function", 60,
             "terraform-provider-aws internal/service/secretsmanager/secret_rotation.go: RotateSecret retried on "
             "AccessDeniedException for 1 minute"),
)


def rotation_rules(value: Any) -> str | None:
    """RotateSecret's RotationRules: every N days (1-1000) or a schedule expression, and an optional window."""
    if set(value) - {"AutomaticallyAfterDays", "ScheduleExpression", "Duration"}:
        return "takes AutomaticallyAfterDays or ScheduleExpression, and optionally Duration"
    if ("AutomaticallyAfterDays" in value) == ("ScheduleExpression" in value):
        return "needs exactly one of AutomaticallyAfterDays and ScheduleExpression"
    days = value.get("AutomaticallyAfterDays")
    if days is not None and not (isinstance(days, int) and 1 <= days <= 1000):
        return "AutomaticallyAfterDays must be an integer in [1, 1000]"
    return None


class RotationSchedule(SecretsManagerResource):
    """Automatic rotation of a secret by a rotation function (RotateSecret), as CloudFormation's
    AWS::SecretsManager::RotationSchedule and Terraform's aws_secretsmanager_secret_rotation.

    A separate resource, not a property of the secret: the function needs the secret's ARN in its role,
    so it is created after the secret, and the schedule after both. The physical id is the secret's ARN.
    The first rotation is not started at once (RotateImmediately false): Secrets Manager runs only the
    function's testSecret step then, and rotates on the schedule. Deleting it cancels the rotation
    (CancelRotateSecret); the secret and its value stay.
    """

    type_name = "secretsmanager.RotationSchedule"
    label = "secret rotation"
    retries = ROTATION_RETRIES
    props = {
        "SecretId": P(str, required=True, doc="the secret's ARN"),
        "RotationLambdaARN": P(str, required=True, doc="the rotation function; its resource policy must let "
                                                       "secretsmanager.amazonaws.com invoke it"),
        "RotationRules": P(dict, required=True, validator=rotation_rules,
                           doc="AutomaticallyAfterDays or ScheduleExpression, optional Duration"),
        "RotateImmediately": P(bool, default=False, doc="rotate once now rather than at the first scheduled time"),
    }
    replace_on = frozenset({"SecretId"})
    outputs = ("SecretId",)
    write_only = frozenset({"RotateImmediately"})
    timeouts: ClassVar[dict[str, float]] = {"create": 60, "update": 60, "delete": 60}

    def _rotate(self, ctx: Ctx, props: dict[str, Any], immediately: bool) -> None:
        ctx.client("secretsmanager").rotate_secret(
            SecretId=props["SecretId"], RotationLambdaARN=props["RotationLambdaARN"],
            RotationRules=props["RotationRules"], RotateImmediately=immediately)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self._rotate(ctx, props, bool(props.get("RotateImmediately")))
        meta = self.describe(ctx, props["SecretId"])
        if meta is None:
            raise ResourceError(f"secret {props['SecretId']} does not exist or is scheduled for deletion")
        return meta["ARN"], {"SecretId": meta["ARN"]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        meta = self.describe(ctx, physical_id)
        if meta is None or not meta.get("RotationEnabled"):
            return None
        rules = {k: v for k, v in (meta.get("RotationRules") or {}).items() if v not in (None, 0, "")}
        return {"SecretId": meta["ARN"], "RotationLambdaARN": meta.get("RotationLambdaARN"), "RotationRules": rules}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self._rotate(ctx, {**new, "SecretId": physical_id}, False)  # a new schedule, not a rotation now
        return {"SecretId": physical_id}

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        if self.read(ctx, physical_id) is None:
            return
        self.ignore_gone(ctx.client("secretsmanager").cancel_rotate_secret, SecretId=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        secret = self.known_prop(ctx, "SecretId")
        if not isinstance(secret, str) or self.read(ctx, secret) is None:
            return None  # not known yet, or no rotation on it
        return secret, {"SecretId": secret}
