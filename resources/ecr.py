"""ECR repositories: where the platform's images live.

A repository is named, not tagged into existence: its name is its identity
(and what CI pushes to), so find() looks it up by name. Deleting a
repository must empty it first; `force=True` does both in one call.
Encryption is fixed at creation (AWS cannot re-key a repository), everything
else (tag mutability, scanning, lifecycle and repository policies, tags)
changes in place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from core.errors import PlanError, Retry, on_write
from resources.base import Ctx, P, Resource, one_of, owned_by, tag_changes, tag_dict, tag_list


def keep_last_images(count: int, description: str | None = None) -> dict[str, Any]:
    """A lifecycle policy that expires all but the newest `count` images."""
    return {"rules": [{
        "rulePriority": 1,
        "description": description or f"keep the last {count} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": count},
        "action": {"type": "expire"},
    }]}


def _repo_name(value: Any) -> str | None:
    ok = re.fullmatch(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*", value)
    return None if ok and 2 <= len(value) <= 256 else "is not a valid ECR repository name (lowercase, '/'-separated)"


# ECR checks every principal a repository policy names: a role created moments ago (the EKS node and
# Fargate pod roles of the same apply) is "Invalid repository policy provided" until it propagates.
REPOSITORY_RETRIES: tuple[Retry, ...] = (
    on_write("InvalidParameterException", "Invalid repository policy provided", 120,
             "terraform-provider-aws internal/service/ecr/repository_policy.go, around SetRepositoryPolicy "
             "(propagationTimeout: 2 min)"),
)


class Repository(Resource):
    """An ECR repository with scanning, tag immutability, KMS encryption and its two policies."""

    type_name = "ecr.Repository"
    retries = REPOSITORY_RETRIES
    label = "repository"
    arn_kind = ("ecr", "repository")
    service = "ecr"
    props = {
        "RepositoryName": P(str, validator=_repo_name, doc="default: genai-demo/<env>/<name>"),
        "ImageTagMutability": P(str, default="IMMUTABLE", validator=one_of("MUTABLE", "IMMUTABLE")),
        "ScanOnPush": P(bool, default=True),
        "EncryptionConfiguration": P(dict, default={"EncryptionType": "AES256"},
                                     doc='{"EncryptionType": "KMS", "KmsKey": <key ARN>} or AES256'),
        "LifecyclePolicy": P(dict, doc="lifecycle policy document, e.g. keep_last_images(20)"),
        "RepositoryPolicy": P(dict, doc="repository (resource) policy document"),
    }
    replace_on = frozenset({"RepositoryName", "EncryptionConfiguration"})
    outputs = ("RepositoryName", "Arn", "RepositoryUri", "RegistryId")
    not_found = ("RepositoryNotFoundException",)
    timeouts = {"create": 120, "update": 120, "delete": 300}

    @classmethod
    def list_tagged(cls, clients: Any) -> Iterator[tuple[str, dict[str, str]]]:
        ecr = clients.client("ecr")
        for page in ecr.get_paginator("describe_repositories").paginate():
            for repo in page["repositories"]:
                arn = repo["repositoryArn"]
                yield arn, tag_dict(ecr.list_tags_for_resource(resourceArn=arn)["tags"])

    def validate(self, props: dict[str, Any]) -> None:
        enc = props["EncryptionConfiguration"]
        kind = enc.get("EncryptionType")
        if kind not in ("AES256", "KMS", "KMS_DSSE") or set(enc) - {"EncryptionType", "KmsKey"} \
                or (kind == "AES256" and "KmsKey" in enc):
            raise PlanError(f"{self.type_name} {self.name!r}: EncryptionConfiguration is "
                            f'{{"EncryptionType": "AES256"}} or {{"EncryptionType": "KMS", "KmsKey": <ARN>}}, '
                            f"got {enc!r}")

    def repository_name(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        name = (props or self.properties).get("RepositoryName")
        return name if isinstance(name, str) else f"{ctx.project}/{ctx.env}/{ctx.name.replace('_', '-')}"

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.repository_name(ctx, props)
        enc = props["EncryptionConfiguration"]
        ctx.client("ecr").create_repository(
            repositoryName=name, tags=tag_list(ctx.tags), imageTagMutability=props["ImageTagMutability"],
            imageScanningConfiguration={"scanOnPush": props["ScanOnPush"]},
            encryptionConfiguration={"encryptionType": enc["EncryptionType"],
                                     **({"kmsKey": enc["KmsKey"]} if enc.get("KmsKey") else {})})
        self._put_policies(ctx, name, {}, props)
        return name, self.outputs_of(ctx, name)

    def _put_policies(self, ctx: Ctx, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        ecr = ctx.client("ecr")
        if old.get("LifecyclePolicy") != new.get("LifecyclePolicy"):
            if new.get("LifecyclePolicy"):
                ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(new["LifecyclePolicy"]))
            else:
                self._absent_ok(ecr.delete_lifecycle_policy, "LifecyclePolicyNotFoundException", repositoryName=name)
        if old.get("RepositoryPolicy") != new.get("RepositoryPolicy"):
            if new.get("RepositoryPolicy"):
                ecr.set_repository_policy(repositoryName=name, policyText=json.dumps(new["RepositoryPolicy"]))
            else:
                self._absent_ok(ecr.delete_repository_policy, "RepositoryPolicyNotFoundException",
                                repositoryName=name)

    def _absent_ok(self, fn: Any, absent: str, **kw: Any) -> Any:
        """Call fn; the named "no such policy" code means there is none (the repository still exists)."""
        try:
            return fn(**kw)
        except Exception as exc:
            if self.code(exc) == absent:
                return None
            raise

    def _describe(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        resp = self.ignore_gone(ctx.client("ecr").describe_repositories, repositoryNames=[name])
        return resp["repositories"][0] if resp and resp["repositories"] else None

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        r = self._describe(ctx, physical_id) or {}
        return {"RepositoryName": physical_id, "Arn": r.get("repositoryArn"), "RepositoryUri": r.get("repositoryUri"),
                "RegistryId": r.get("registryId")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        r = self._describe(ctx, physical_id)
        if r is None:
            return None
        ecr = ctx.client("ecr")
        try:
            lifecycle = self._absent_ok(ecr.get_lifecycle_policy, "LifecyclePolicyNotFoundException",
                                        repositoryName=physical_id)
            policy = self._absent_ok(ecr.get_repository_policy, "RepositoryPolicyNotFoundException",
                                     repositoryName=physical_id)
        except Exception as exc:
            if self.gone(exc):
                return None
            raise
        enc = r.get("encryptionConfiguration") or {"encryptionType": "AES256"}
        named = {"RepositoryName": r["repositoryName"]} if "RepositoryName" in self.properties else {}
        # Absent policies are absent keys, as in a plan that declares none.
        policies = {k: json.loads(v) for k, v in (("LifecyclePolicy", (lifecycle or {}).get("lifecyclePolicyText")),
                                                 ("RepositoryPolicy", (policy or {}).get("policyText"))) if v}
        return {
            **named,
            **policies,
            "ImageTagMutability": r.get("imageTagMutability"),
            "ScanOnPush": bool(r.get("imageScanningConfiguration", {}).get("scanOnPush")),
            "EncryptionConfiguration": {"EncryptionType": enc["encryptionType"],
                                        **({"KmsKey": enc["kmsKey"]} if enc.get("kmsKey") else {})},
        }

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        ecr = ctx.client("ecr")
        if old.get("ImageTagMutability") != new["ImageTagMutability"]:
            ecr.put_image_tag_mutability(repositoryName=physical_id, imageTagMutability=new["ImageTagMutability"])
        if old.get("ScanOnPush") != new["ScanOnPush"]:
            ecr.put_image_scanning_configuration(repositoryName=physical_id,
                                                 imageScanningConfiguration={"scanOnPush": new["ScanOnPush"]})
        self._put_policies(ctx, physical_id, old, new)
        arn = self.outputs_of(ctx, physical_id)["Arn"]
        have = tag_dict(ecr.list_tags_for_resource(resourceArn=arn).get("tags"))
        stale, changed = tag_changes(have, ctx.tags)
        if stale:
            ecr.untag_resource(resourceArn=arn, tagKeys=stale)
        if changed:
            ecr.tag_resource(resourceArn=arn, tags=tag_list(ctx.tags))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        """force=True deletes the images with the repository (AWS refuses a non-empty one otherwise)."""
        self.ignore_gone(ctx.client("ecr").delete_repository, repositoryName=physical_id, force=True)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.repository_name(ctx)
        repo = self._describe(ctx, name)
        if repo is None:
            return None
        # Tags come with CreateRepository: untagged (or another address's) is not ours to adopt.
        tags = tag_dict(ctx.client("ecr").list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags"))
        return (name, self.outputs_of(ctx, name)) if owned_by(tags, ctx) else None
