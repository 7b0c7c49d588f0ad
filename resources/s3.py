"""S3 buckets: versioned, encrypted with a KMS key, private, TLS-only, with lifecycle rules.

A bucket is configured by a handful of separate sub-resources (versioning,
encryption, public access block, ownership, policy, lifecycle, tags), each
with its own put/get/delete call; the table BUCKET_CONFIG below says which
property drives which call, so create, read and update walk one list.

The bucket name is global: `genai-demo-<env>-<name>-<account>-<region>`
(ctx.physical_name(global_unique=True)), cut to S3's 63 characters.

moto note (reference/moto-gaps.md): moto evaluates bucket-policy Deny
statements but ignores their Condition, so the real TLS-only deny written
here (Deny s3:* when aws:SecureTransport is false) blocks every object
write and delete under moto, even over "TLS". The policy stays the real
one; two consequences are handled rather than hidden:
  * delete() removes the bucket policy before emptying the bucket. On AWS
    this also keeps any restrictive policy from blocking the teardown, and
    the bucket is going away anyway.
  * tests that need objects create the bucket with EnforceTLS=False, write
    them, then turn EnforceTLS on through update() (which is also the
    update round trip), and read the policy back with get_bucket_policy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from core.errors import PlanError
from resources.account import as_declared, render, substitute
from resources.base import Ctx, P, Resource, ResourceError, one_of, tag_dict, tag_list

TLS_SID = "DenyInsecureTransport"
PUBLIC_ACCESS_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
IA_CLASSES = frozenset({"STANDARD_IA", "ONEZONE_IA"})
STORAGE_CLASSES = frozenset({"STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "GLACIER_IR",
                             "DEEP_ARCHIVE"})
RULE_KEYS = frozenset({"ID", "Status", "Filter", "Expiration", "Transitions", "NoncurrentVersionTransitions",
                       "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"})
RULE_ACTIONS = RULE_KEYS - {"ID", "Status", "Filter"}


def public_access_block(value: Any) -> str | None:
    if set(value) - set(PUBLIC_ACCESS_KEYS) or not all(isinstance(v, bool) for v in value.values()):
        return f"must map some of {', '.join(PUBLIC_ACCESS_KEYS)} to booleans"
    return None


def lifecycle_rules(rules: Any) -> str | None:
    """What AWS enforces on PutBucketLifecycleConfiguration and moto does not."""
    ids: set[str] = set()
    for rule in rules:
        if not isinstance(rule, dict):
            return "must be a list of rule dicts"
        rid = rule.get("ID")
        if not isinstance(rid, str) or not rid or rid in ids:
            return "needs a unique non-empty ID on every rule"
        ids.add(rid)
        if set(rule) - RULE_KEYS:
            return f"rule {rid}: unknown keys {sorted(set(rule) - RULE_KEYS)}"
        if rule.get("Status") not in ("Enabled", "Disabled"):
            return f"rule {rid}: Status must be Enabled or Disabled"
        if "Filter" not in rule:
            return f"rule {rid}: needs a Filter (use {{'Prefix': ''}} for the whole bucket)"
        if not set(rule) & RULE_ACTIONS:
            return f"rule {rid}: has no action"
        last = 0
        for t in rule.get("Transitions", []):
            if t.get("StorageClass") not in STORAGE_CLASSES or not isinstance(t.get("Days"), int):
                return f"rule {rid}: each transition needs Days and a StorageClass in {sorted(STORAGE_CLASSES)}"
            if t["StorageClass"] in IA_CLASSES and t["Days"] < 30:
                return f"rule {rid}: AWS needs at least 30 days before a transition to {t['StorageClass']}"
            if t["Days"] <= last:
                return f"rule {rid}: transitions must be in increasing Days"
            last = t["Days"]
        days = rule.get("Expiration", {}).get("Days")
        if days is not None and days <= last:
            return f"rule {rid}: Expiration Days ({days}) must come after the last transition ({last})"
    return None


def logging_configuration(value: Any) -> str | None:
    """PutBucketLogging's LoggingEnabled: a target bucket (this account, this region), a prefix, a key format."""
    if set(value) - {"TargetBucket", "TargetPrefix", "TargetObjectKeyFormat"} or "TargetBucket" not in value:
        return "takes TargetBucket and optionally TargetPrefix and TargetObjectKeyFormat"
    return None


def replication_configuration(value: Any) -> str | None:
    if set(value) != {"Role", "Rules"} or not isinstance(value.get("Rules"), list) or not value["Rules"]:
        return "takes Role (the role S3 replicates as) and a non-empty list of Rules"
    return None


def object_lock_configuration(value: Any) -> str | None:
    if value.get("ObjectLockEnabled") != "Enabled" or set(value) - {"ObjectLockEnabled", "Rule"}:
        return 'is {"ObjectLockEnabled": "Enabled"} with an optional Rule (DefaultRetention)'
    retention = (value.get("Rule") or {}).get("DefaultRetention")
    if retention is not None and (retention.get("Mode") not in ("GOVERNANCE", "COMPLIANCE")
                                  or len({"Days", "Years"} & set(retention)) != 1):
        return "DefaultRetention needs a Mode (GOVERNANCE or COMPLIANCE) and either Days or Years"
    return None


# A bucket's own ARN in its PolicyStatements: the name is generated at create, so the plan cannot
# write it (and a Ref to the bucket itself would be a cycle). Substituted on the way out, put back on
# read, as kms.py does with the account id.
SELF_ARN = "${Bucket.Arn}"


def tls_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class S3Resource(Resource):
    """S3 types share the client, not-found codes and optional sub-resource reads."""

    service = "s3"
    not_found = ("404", "NoSuchBucket")

    def optional(self, fn: Callable[..., Any], absent: tuple[str, ...], **kw: Any) -> Any:
        """Get a bucket sub-resource; None when S3 says it was never configured."""
        try:
            return fn(**kw)
        except Exception as exc:
            if self.code(exc) in absent:
                return None
            raise


class Bucket(S3Resource):
    type_name = "s3.Bucket"
    stateful = True  # a replacement destroys its data (issue 13): apply refuses it unless named
    label = "bucket"
    arn_kind = ("s3", "")
    props = {
        "Versioning": P(str, default="Enabled", validator=one_of("Enabled", "Suspended")),
        "SSEAlgorithm": P(str, default="aws:kms", validator=one_of("aws:kms", "aws:kms:dsse", "AES256")),
        "KMSMasterKeyID": P(str, doc="KMS key ARN for default encryption; AWS-managed aws/s3 key when unset"),
        "BucketKeyEnabled": P(bool, default=True),
        "PublicAccessBlockConfiguration": P(dict, default={k: True for k in PUBLIC_ACCESS_KEYS},
                                            validator=public_access_block),
        "ObjectOwnership": P(str, default="BucketOwnerEnforced",
                             validator=one_of("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")),
        "EnforceTLS": P(bool, default=True, doc="bucket policy denying any request not made over TLS"),
        "PolicyStatements": P(list, doc="extra bucket policy statements, after the TLS deny; ${Bucket.Arn} "
                                        "stands for the bucket's own ARN"),
        "LifecycleRules": P(list, validator=lifecycle_rules, doc="PutBucketLifecycleConfiguration Rules"),
        "LoggingConfiguration": P(dict, validator=logging_configuration,
                                  doc="server access logs (PutBucketLogging LoggingEnabled): TargetBucket, "
                                      "TargetPrefix, TargetObjectKeyFormat; the target's policy must let "
                                      "logging.s3.amazonaws.com put objects under the prefix"),
        "ReplicationConfiguration": P(dict, validator=replication_configuration,
                                      doc="PutBucketReplication: Role and Rules; needs versioning here and on "
                                          "the destination"),
        "ObjectLockConfiguration": P(dict, validator=object_lock_configuration,
                                     doc='PutObjectLockConfiguration: {"ObjectLockEnabled": "Enabled", "Rule": '
                                         '{"DefaultRetention": {...}}}; needs versioning; once on, S3 cannot '
                                         "turn it off"),
        "EventBridgeEnabled": P(bool, default=False,
                                doc="PutBucketNotificationConfiguration EventBridgeConfiguration: S3 sends every "
                                    "object event to the account's default event bus, where rules pick theirs; "
                                    "the type owns the bucket's whole notification configuration"),
    }
    outputs = ("Bucket", "Arn", "RegionalDomainName")
    timeouts: ClassVar[dict[str, float]] = {"create": 120, "update": 120, "delete": 600}

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        if "ObjectLockConfiguration" in changed and old.get("ObjectLockConfiguration") \
                and not new.get("ObjectLockConfiguration"):
            return ("S3 cannot turn Object Lock off on a bucket (PutObjectLockConfiguration: once enabled it stays); "
                    "only its default retention can change")
        return super().refusal(old, new, changed)

    def validate(self, props: dict[str, Any]) -> None:
        if (props.get("ReplicationConfiguration") or props.get("ObjectLockConfiguration")) \
                and props.get("Versioning") != "Enabled":
            raise PlanError(f"{self.type_name} {self.name!r}: replication and Object Lock need Versioning Enabled")
        if props.get("SSEAlgorithm") == "AES256":
            if props.get("KMSMasterKeyID"):
                raise PlanError(f"{self.type_name} {self.name!r}: KMSMasterKeyID needs SSEAlgorithm aws:kms")
            props["BucketKeyEnabled"] = False  # S3 Bucket Keys exist only for SSE-KMS; AWS reports False

    # -- naming ------------------------------------------------------------------------

    @staticmethod
    def bucket_name(ctx: Ctx) -> str:
        return ctx.physical_name(global_unique=True, max_len=63).lower()

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {
            "Bucket": physical_id,
            "Arn": f"arn:aws:s3:::{physical_id}",
            "RegionalDomainName": f"{physical_id}.s3.{ctx.region}.amazonaws.com",
        }

    # -- sub-resources -------------------------------------------------------------------

    def _policy(self, ctx: Ctx, bucket: str, props: dict[str, Any]) -> dict[str, Any] | None:
        extra = substitute(list(props.get("PolicyStatements") or []), SELF_ARN, f"arn:aws:s3:::{bucket}")
        extra = render(extra, ctx.account_id)
        statements = ([tls_statement(bucket)] if props.get("EnforceTLS") else []) + extra
        return {"Version": "2012-10-17", "Statement": statements} if statements else None

    def _apply(self, ctx: Ctx, bucket: str, props: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Put every sub-resource whose properties differ from `old` (all of them when old is None)."""
        s3 = ctx.client("s3")

        def changed(*keys: str) -> bool:
            return old is None or any(old.get(k) != props.get(k) for k in keys)

        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list(ctx.tags)})
        if changed("PublicAccessBlockConfiguration"):
            pab = {k: bool(props["PublicAccessBlockConfiguration"].get(k, False)) for k in PUBLIC_ACCESS_KEYS}
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=pab)
        if changed("ObjectOwnership"):
            s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
                "Rules": [{"ObjectOwnership": props["ObjectOwnership"]}]})
        if changed("Versioning"):
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": props["Versioning"]})
        if changed("SSEAlgorithm", "KMSMasterKeyID", "BucketKeyEnabled"):
            default: dict[str, Any] = {"SSEAlgorithm": props["SSEAlgorithm"]}
            if props.get("KMSMasterKeyID"):
                default["KMSMasterKeyID"] = props["KMSMasterKeyID"]
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": props["BucketKeyEnabled"]}]})
        if changed("LifecycleRules"):
            if props.get("LifecycleRules"):
                s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                                      LifecycleConfiguration={"Rules": props["LifecycleRules"]})
            elif old is not None:
                s3.delete_bucket_lifecycle(Bucket=bucket)
        if changed("ObjectLockConfiguration") and props.get("ObjectLockConfiguration"):
            s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=props["ObjectLockConfiguration"])
        if changed("ReplicationConfiguration"):
            if props.get("ReplicationConfiguration"):
                s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=props["ReplicationConfiguration"])
            elif old is not None:
                s3.delete_bucket_replication(Bucket=bucket)
        if changed("EventBridgeEnabled") and (props["EventBridgeEnabled"] or old is not None):
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=(
                {"EventBridgeConfiguration": {}} if props["EventBridgeEnabled"] else {}))
        if changed("EnforceTLS", "PolicyStatements"):
            policy = self._policy(ctx, bucket, props)
            if policy:
                s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
            elif old is not None:
                s3.delete_bucket_policy(Bucket=bucket)
        if changed("LoggingConfiguration"):
            status = {"LoggingEnabled": props["LoggingConfiguration"]} if props.get("LoggingConfiguration") else {}
            if status or old is not None:
                s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)

    def _owner_tags(self, ctx: Ctx, bucket: str) -> dict[str, str]:
        got = self.optional(ctx.client("s3").get_bucket_tagging, ("NoSuchTagSet",), Bucket=bucket)
        return tag_dict(got["TagSet"]) if got else {}

    def _is_ours(self, ctx: Ctx, bucket: str) -> bool:
        """Untagged counts as ours: the name is deterministic and a crash may precede tagging."""
        tags = self._owner_tags(ctx, bucket)
        return all(tags.get(k) in (None, ctx.tags[k]) for k in ("infra:address", "infra:env", "infra:project"))

    # -- contract ------------------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        s3 = ctx.client("s3")
        bucket = self.bucket_name(ctx)
        params: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": props["ObjectOwnership"]}
        if ctx.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        try:
            s3.create_bucket(**params)
        except Exception as exc:
            # Ours already (a create retried after a lost response): configure it below.
            if self.code(exc) != "BucketAlreadyOwnedByYou" or not self._is_ours(ctx, bucket):
                raise
        ctx.wait("s3", "BucketExists", timeout_key="create", Bucket=bucket)
        self._apply(ctx, bucket, props, None)
        return bucket, self.outputs_of(ctx, bucket)

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        s3 = ctx.client("s3")
        if not self.read_exists(ctx, physical_id):
            return None
        b = {"Bucket": physical_id}
        out: dict[str, Any] = {"Versioning": s3.get_bucket_versioning(**b).get("Status") or "Suspended"}
        enc = self.optional(s3.get_bucket_encryption, ("ServerSideEncryptionConfigurationNotFoundError",), **b)
        if enc:
            rule = enc["ServerSideEncryptionConfiguration"]["Rules"][0]
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            out["SSEAlgorithm"] = default.get("SSEAlgorithm")
            if default.get("KMSMasterKeyID"):
                out["KMSMasterKeyID"] = default["KMSMasterKeyID"]
            out["BucketKeyEnabled"] = bool(rule.get("BucketKeyEnabled", False))
        pab = self.optional(s3.get_public_access_block, ("NoSuchPublicAccessBlockConfiguration",), **b)
        out["PublicAccessBlockConfiguration"] = {k: bool((pab or {}).get("PublicAccessBlockConfiguration", {})
                                                         .get(k, False)) for k in PUBLIC_ACCESS_KEYS}
        own = self.optional(s3.get_bucket_ownership_controls, ("OwnershipControlsNotFoundError",), **b)
        if own:
            out["ObjectOwnership"] = own["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
        pol = self.optional(s3.get_bucket_policy, ("NoSuchBucketPolicy",), **b)
        statements = json.loads(pol["Policy"]).get("Statement", []) if pol else []
        out["EnforceTLS"] = tls_statement(physical_id) in statements
        extra = substitute([s for s in statements if s != tls_statement(physical_id)], f"arn:aws:s3:::{physical_id}",
                      SELF_ARN)
        if extra:
            out["PolicyStatements"] = as_declared(self.properties.get("PolicyStatements"), extra, ctx.account_id)
        lc = self.optional(s3.get_bucket_lifecycle_configuration, ("NoSuchLifecycleConfiguration",), **b)
        if lc and lc.get("Rules"):
            out["LifecycleRules"] = lc["Rules"]
        logging = s3.get_bucket_logging(**b).get("LoggingEnabled")
        if logging:
            out["LoggingConfiguration"] = logging
        rep = self.optional(s3.get_bucket_replication, ("ReplicationConfigurationNotFoundError",), **b)
        if rep and rep.get("ReplicationConfiguration"):
            out["ReplicationConfiguration"] = rep["ReplicationConfiguration"]
        out["EventBridgeEnabled"] = "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(**b)
        lock = self.optional(s3.get_object_lock_configuration, ("ObjectLockConfigurationNotFoundError",), **b)
        if lock and lock.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled":
            conf = lock["ObjectLockConfiguration"]
            retention = (conf.get("Rule") or {}).get("DefaultRetention")
            if retention:  # a retention is Days or Years, at least 1 (moto also answers the other one as 0)
                conf = {**conf, "Rule": {"DefaultRetention": {k: v for k, v in retention.items() if v != 0}}}
            out["ObjectLockConfiguration"] = conf
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        self._apply(ctx, physical_id, new, old)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        s3 = ctx.client("s3")
        if not self.read_exists(ctx, physical_id):
            return
        # The policy goes first: a deny (or moto's condition-blind TLS deny) must not block emptying.
        self.ignore_gone(s3.delete_bucket_policy, Bucket=physical_id)
        self.empty(ctx, physical_id)
        self.ignore_gone(s3.delete_bucket, Bucket=physical_id)
        ctx.wait("s3", "BucketNotExists", timeout_key="delete", Bucket=physical_id)

    def read_exists(self, ctx: Ctx, bucket: str) -> bool:
        """HeadBucket: True when the bucket exists (and is ours to see)."""
        return self.ignore_gone(ctx.client("s3").head_bucket, Bucket=bucket) is not None

    def empty(self, ctx: Ctx, bucket: str) -> int:
        """Delete every object version and delete marker (S3 refuses to delete a non-empty bucket)."""
        s3 = ctx.client("s3")
        deleted = 0
        # Versions under a GOVERNANCE retention go only with the bypass (as Terraform's force_destroy sends it);
        # COMPLIANCE ones stay until their date, and the error below says which.
        lock = self.optional(s3.get_object_lock_configuration, ("ObjectLockConfigurationNotFoundError",), Bucket=bucket)
        bypass = {"BypassGovernanceRetention": True} if (lock or {}).get("ObjectLockConfiguration", {}).get(
            "ObjectLockEnabled") == "Enabled" else {}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for i in range(0, len(objs), 1000):  # DeleteObjects takes at most 1000 keys
                resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": objs[i:i + 1000], "Quiet": True}, **bypass)
                if resp.get("Errors"):
                    first = resp["Errors"][0]
                    raise ResourceError(f"cannot empty bucket {bucket}: {len(resp['Errors'])} objects not deleted, "
                                        f"e.g. {first.get('Key')}: {first.get('Code')} {first.get('Message')}")
                deleted += len(objs[i:i + 1000])
        return deleted

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        bucket = self.bucket_name(ctx)
        if not self.read_exists(ctx, bucket) or not self._is_ours(ctx, bucket):
            return None
        return bucket, self.outputs_of(ctx, bucket)
