"""KMS types: the customer-managed key every data service encrypts with, and its alias.

A key cannot be deleted at once: AWS schedules it for deletion after a
waiting period, during which it still exists but is unusable. For this tool
a key in PendingDeletion is gone: read() returns None, find() skips it, and
delete() of such a key does nothing.

The account id is unknown when a plan is written, yet a key policy must name
the account root. A policy may therefore say `${AWS::AccountId}` (as in
CloudFormation); the key substitutes it at create/update, and read() writes
the real account id back as the placeholder so the policy diffs cleanly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from core.errors import PlanError
from resources.account import ACCOUNT_PLACEHOLDER, render, substitute
from resources.base import Ctx, P, Resource, ResourceError, int_range, one_of, owned_by, tag_list

GONE_STATES = frozenset({"PendingDeletion", "PendingReplicaDeletion"})


def render_policy(policy: Any, account_id: str) -> Any:
    """Policy with ${AWS::AccountId} replaced by the account id, however deeply nested."""
    return render(policy, account_id)


def templatize_policy(policy: Any, account_id: str) -> Any:
    """The inverse of render_policy, for read(): the account id becomes the placeholder."""
    return substitute(policy, account_id, ACCOUNT_PLACEHOLDER) if account_id else policy


def policy_document(value: Any) -> str | None:
    if not isinstance(value, dict) or "Statement" not in value:
        return "must be a policy document: a dict with Version and Statement"
    if not isinstance(value["Statement"], list) or not value["Statement"]:
        return "must have a non-empty Statement list"
    return None


class KmsResource(Resource):
    """KMS types share the client and the not-found code."""

    service = "kms"
    not_found = ("NotFoundException",)

    def describe(self, ctx: Ctx, key_id: str) -> dict[str, Any] | None:
        """KeyMetadata of a live key; None when it does not exist or is pending deletion."""
        resp = self.ignore_gone(ctx.client("kms").describe_key, KeyId=key_id)
        if resp is None:
            return None
        meta = resp["KeyMetadata"]
        return None if meta.get("KeyState") in GONE_STATES else meta


def backups_encrypted_with(ctx: Ctx, key: set[str]) -> list[str]:
    """The RDS snapshots, retained RDS automated backups and ElastiCache snapshots of the account and region
    that `key` (its ARN and id) encrypts, by kind and name."""
    found: list[str] = []
    rds = ctx.client("rds")
    for page in rds.get_paginator("describe_db_snapshots").paginate():
        found += [f"RDS snapshot {s['DBSnapshotIdentifier']}" for s in page["DBSnapshots"]
                  if s.get("KmsKeyId") in key]
    for page in rds.get_paginator("describe_db_instance_automated_backups").paginate():
        found += [f"RDS automated backups of {b['DBInstanceIdentifier']}" for b in page["DBInstanceAutomatedBackups"]
                  if b.get("KmsKeyId") in key]
    for page in ctx.client("elasticache").get_paginator("describe_snapshots").paginate():
        found += [f"ElastiCache snapshot {s['SnapshotName']}" for s in page["Snapshots"] if s.get("KmsKeyId") in key]
    return found


class Key(KmsResource):
    """A customer-managed KMS key with rotation and a key policy.

    PendingWindowInDays is used only by delete() (7 to 30 days, AWS's bounds).
    """

    type_name = "kms.Key"
    stateful = True  # a replacement destroys its data (issue 13): apply refuses it unless named
    label = "KMS key"
    arn_kind = ("kms", "key")
    props = {
        "Description": P(str, default="genai-demo customer-managed key"),
        "KeySpec": P(str, default="SYMMETRIC_DEFAULT",
                     validator=one_of("SYMMETRIC_DEFAULT", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256",
                                      "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "HMAC_224", "HMAC_256",
                                      "HMAC_384", "HMAC_512")),
        "KeyUsage": P(str, default="ENCRYPT_DECRYPT",
                      validator=one_of("ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC")),
        "EnableKeyRotation": P(bool, default=True),
        "Policy": P(dict, validator=policy_document,
                    doc="key policy document; ${AWS::AccountId} is replaced by the account id"),
        "PendingWindowInDays": P(int, default=7, validator=int_range(7, 30)),
        # Modelled so a key disabled outside the tool (which breaks every service it encrypts) shows as drift
        # and the next apply enables it again (issue 13 C9); CloudFormation models it the same way.
        "Enabled": P(bool, default=True, doc="False disables the key (DisableKey); drift shows a key disabled "
                                              "outside the tool"),
    }
    replace_on = frozenset({"KeySpec", "KeyUsage"})
    change_notes = {k: "replace: no KMS call changes a key's spec or usage (terraform-provider-aws "
                       "kms/key.go: ForceNew); CloudFormation's schema has them updatable and its handler "
                       "replaces the key" for k in ("KeySpec", "KeyUsage")}
    outputs = ("KeyId", "Arn")
    write_only = frozenset({"PendingWindowInDays"})
    timeouts: ClassVar[dict[str, float]] = {"create": 120, "update": 120, "delete": 120}

    def validate(self, props: dict[str, Any]) -> None:
        # AWS rotates only symmetric encryption keys; catching it here saves a failed apply.
        if props.get("EnableKeyRotation") and props.get("KeySpec") != "SYMMETRIC_DEFAULT":
            raise PlanError(f"{self.type_name} {self.name!r}: EnableKeyRotation requires KeySpec SYMMETRIC_DEFAULT, "
                            f"got {props.get('KeySpec')}")

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kms = ctx.client("kms")
        params: dict[str, Any] = {
            "Description": props["Description"],
            "KeySpec": props["KeySpec"],
            "KeyUsage": props["KeyUsage"],
            "Tags": tag_list(ctx.tags, "TagKey", "TagValue"),
        }
        if props.get("Policy"):
            params["Policy"] = json.dumps(render_policy(props["Policy"], ctx.account_id))
        meta = kms.create_key(**params)["KeyMetadata"]
        key_id = meta["KeyId"]
        ctx.wait("kms", "KeyEnabled", timeout_key="create", KeyId=key_id)
        if props["EnableKeyRotation"]:
            kms.enable_key_rotation(KeyId=key_id)
        if not props.get("Enabled", True):
            kms.disable_key(KeyId=key_id)
        return key_id, {"KeyId": key_id, "Arn": meta["Arn"]}

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        meta = self.describe(ctx, physical_id)
        if meta is None:
            raise ResourceError(f"KMS key {physical_id} does not exist or is pending deletion")
        return {"KeyId": meta["KeyId"], "Arn": meta["Arn"]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        meta = self.describe(ctx, physical_id)
        if meta is None:
            return None
        kms = ctx.client("kms")
        policy = json.loads(kms.get_key_policy(KeyId=physical_id, PolicyName="default")["Policy"])
        rotation = kms.get_key_rotation_status(KeyId=physical_id)["KeyRotationEnabled"]
        return {
            "Description": meta.get("Description", ""),
            "KeySpec": meta.get("KeySpec", "SYMMETRIC_DEFAULT"),
            "KeyUsage": meta.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "EnableKeyRotation": rotation,
            "Policy": templatize_policy(policy, ctx.account_id),
            "Enabled": meta.get("KeyState", "Enabled") == "Enabled",
        }

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        kms = ctx.client("kms")
        enabled = new.get("Enabled", True)
        if enabled and old.get("Enabled") is not True:  # first: rotation needs an enabled key
            kms.enable_key(KeyId=physical_id)
        if old.get("Description") != new.get("Description"):
            kms.update_key_description(KeyId=physical_id, Description=new.get("Description") or "")
        if old.get("EnableKeyRotation") != new.get("EnableKeyRotation"):
            if new.get("EnableKeyRotation"):
                kms.enable_key_rotation(KeyId=physical_id)
            else:
                kms.disable_key_rotation(KeyId=physical_id)
        if new.get("Policy") and old.get("Policy") != new.get("Policy"):
            kms.put_key_policy(KeyId=physical_id, PolicyName="default",
                               Policy=json.dumps(render_policy(new["Policy"], ctx.account_id)))
        if not enabled and old.get("Enabled") is not False:  # last: the other changes need it enabled
            kms.disable_key(KeyId=physical_id)
        kms.tag_resource(KeyId=physical_id, Tags=tag_list(ctx.tags, "TagKey", "TagValue"))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> str | None:
        """Schedule the deletion, unless backups a destroy keeps are encrypted with the key.

        RDS and ElastiCache need the key to restore a snapshot: one pending deletion (or deleted) makes
        the final snapshots of the same destroy unrestorable. Such a key is left enabled, with its tags,
        so the next apply adopts it (find) and the snapshots stay usable; the destroy says which.
        """
        # Already pending deletion: AWS would refuse a second schedule (KMSInvalidStateException).
        meta = self.describe(ctx, physical_id)
        if meta is None:
            return None
        kept = backups_encrypted_with(ctx, {meta["Arn"], meta["KeyId"]})
        if kept:
            return (f"key {meta['Arn']} kept enabled, not scheduled for deletion: it encrypts "
                    f"{len(kept)} backup(s) kept by this destroy ({', '.join(kept)}); delete those, then "
                    "schedule the key's deletion")
        window = int(self.properties.get("PendingWindowInDays") or 7)
        self.ignore_gone(ctx.client("kms").schedule_key_deletion, KeyId=physical_id, PendingWindowInDays=window)
        return None

    def _tagged_keys(self, ctx: Ctx) -> Iterator[str]:
        """Key ids whose tags say this project/env/address; AWS has no tag filter on ListKeys."""
        kms = ctx.client("kms")
        for page in kms.get_paginator("list_keys").paginate():
            for key in page["Keys"]:
                tags: dict[str, str] = {}
                try:
                    for tpage in kms.get_paginator("list_resource_tags").paginate(KeyId=key["KeyId"]):
                        tags.update({t["TagKey"]: t["TagValue"] for t in tpage.get("Tags", [])})
                except Exception as exc:
                    # AWS-managed keys and keys deleted meanwhile cannot be ours.
                    if self.gone(exc) or self.code(exc) == "AccessDeniedException":
                        continue
                    raise
                if owned_by(tags, ctx) and key["KeyId"] not in ctx.old_copies:
                    yield key["KeyId"]

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        for key_id in self._tagged_keys(ctx):
            meta = self.describe(ctx, key_id)
            if meta is not None:
                return key_id, {"KeyId": meta["KeyId"], "Arn": meta["Arn"]}
        return None


ALIAS_SUFFIX = re.compile(r"^[a-zA-Z0-9/-]{1,200}$")


def alias_suffix(value: Any) -> str | None:
    if not isinstance(value, str) or not ALIAS_SUFFIX.match(value) or value.startswith(("alias/", "aws/")):
        return ("must be the <name> part of alias/genai-demo-<env>-<name> (letters, digits, / and -), "
                "without the alias/ prefix")
    return None


class Alias(KmsResource):
    """alias/genai-demo-<env>-<AliasName> pointing at a key.

    AliasName holds only the <name> part so the env is never written twice
    (no underscores: physical names turn them into dashes); the physical id
    is the full alias name.
    Aliases cannot be tagged, so find() goes by that deterministic name.
    TargetKeyId should be a key's KeyId (list_aliases reports ids, not ARNs).
    """

    type_name = "kms.Alias"
    label = "KMS alias"
    props = {
        "AliasName": P(str, required=True, validator=alias_suffix),
        "TargetKeyId": P(str, required=True),
    }
    replace_on = frozenset({"AliasName"})
    outputs = ("AliasName", "AliasArn", "TargetKeyId")
    timeouts: ClassVar[dict[str, float]] = {"create": 60, "update": 60, "delete": 60}

    def full_name(self, ctx: Ctx, props: dict[str, Any] | None = None) -> str:
        return "alias/" + ctx.physical_name((props or self.properties)["AliasName"])

    def _lookup(self, ctx: Ctx, alias_name: str) -> dict[str, Any] | None:
        for page in ctx.client("kms").get_paginator("list_aliases").paginate():
            for alias in page["Aliases"]:
                if alias["AliasName"] == alias_name and alias.get("TargetKeyId"):
                    return alias
        return None

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.full_name(ctx, props)
        ctx.client("kms").create_alias(AliasName=name, TargetKeyId=props["TargetKeyId"])
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        alias = self._lookup(ctx, physical_id)
        if alias is None:
            raise ResourceError(f"KMS alias {physical_id} does not exist")
        return {"AliasName": alias["AliasName"], "AliasArn": alias["AliasArn"], "TargetKeyId": alias["TargetKeyId"]}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        alias = self._lookup(ctx, physical_id)
        if alias is None:
            return None
        prefix = f"alias/{ctx.project}-{ctx.env}-"
        suffix = alias["AliasName"][len(prefix):] if alias["AliasName"].startswith(prefix) else alias["AliasName"]
        return {"AliasName": suffix, "TargetKeyId": alias["TargetKeyId"]}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if old.get("TargetKeyId") != new.get("TargetKeyId"):
            ctx.client("kms").update_alias(AliasName=physical_id, TargetKeyId=new["TargetKeyId"])
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        if self._lookup(ctx, physical_id) is None:
            return
        self.ignore_gone(ctx.client("kms").delete_alias, AliasName=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.full_name(ctx)
        if self._lookup(ctx, name) is None:
            return None
        return name, self.outputs_of(ctx, name)
