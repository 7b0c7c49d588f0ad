"""Round trip of ecr.Repository on moto: create, read, update, find, delete (with images), gone."""

import json

import pytest

from core.errors import PlanError
from resources.ecr import Repository, keep_last_images


def _pull_policy(role_arn):
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "NodesPull", "Effect": "Allow", "Principal": {"AWS": role_arn},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]}]}


def test_repository_round_trip(aws):
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    role = "arn:aws:iam::123456789012:role/genai-demo-test-node-role"
    repo = Repository("backend", RepositoryName="genai-demo/backend",
                      EncryptionConfiguration={"EncryptionType": "KMS", "KmsKey": key},
                      LifecyclePolicy=keep_last_images(20), RepositoryPolicy=_pull_policy(role))
    repo.stack = "main"
    ctx = aws.ctx("backend")
    name, out = repo.create(ctx, dict(repo.properties))
    assert name == "genai-demo/backend"
    ecr = aws.client("ecr")
    seen = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    assert seen["imageTagMutability"] == "IMMUTABLE" and seen["imageScanningConfiguration"] == {"scanOnPush": True}
    assert seen["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key}
    assert out["RepositoryUri"] == seen["repositoryUri"] and out["Arn"] == seen["repositoryArn"]
    rule = json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])["rules"][0]
    assert rule["selection"]["countNumber"] == 20 and rule["action"]["type"] == "expire"
    assert json.loads(ecr.get_repository_policy(repositoryName=name)["policyText"]) == _pull_policy(role)
    tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=out["Arn"])["tags"]}
    assert tags["infra:address"] == "main.backend"
    assert repo.read(ctx, name) == dict(repo.properties)

    # In place: keep 10, no repository policy, scanning off; a new plan tag.
    new = {k: v for k, v in repo.properties.items() if k != "RepositoryPolicy"}
    new.update(LifecyclePolicy=keep_last_images(10), ScanOnPush=False)
    repo.update(aws.ctx("backend", plan_tags={"Component": "backend"}), name, dict(repo.properties), new)
    rule = json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])["rules"][0]
    assert rule["selection"]["countNumber"] == 10
    with pytest.raises(ecr.exceptions.RepositoryPolicyNotFoundException):
        ecr.get_repository_policy(repositoryName=name)
    seen = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    assert seen["imageScanningConfiguration"] == {"scanOnPush": False}
    tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=out["Arn"])["tags"]}
    assert tags["Component"] == "backend"
    assert repo.read(ctx, name) == new

    assert repo.find(ctx)[0] == name
    # A repository with an image in it still deletes.
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {}, "layers": []})
    ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag="v1")
    repo.delete(ctx, name)
    repo.delete(ctx, name)
    assert repo.read(ctx, name) is None
    assert repo.find(ctx) is None


def test_repository_default_name_is_per_env(aws):
    repo = Repository("cmc_frontend")
    repo.stack = "main"
    name, _ = repo.create(aws.ctx("cmc_frontend"), dict(repo.properties))
    assert name == "genai-demo/test/cmc-frontend"
    assert repo.read(aws.ctx("cmc_frontend"), name)["EncryptionConfiguration"] == {"EncryptionType": "AES256"}
    repo.delete(aws.ctx("cmc_frontend"), name)


def test_repository_rejects_bad_input():
    with pytest.raises(PlanError, match="unknown property"):
        Repository("r", ImageScanningConfiguration={"scanOnPush": True})
    with pytest.raises(PlanError, match="valid ECR repository name"):
        Repository("r", RepositoryName="GenAI/Backend")
    with pytest.raises(PlanError, match="must be one of"):
        Repository("r", ImageTagMutability="SOMETIMES")
    with pytest.raises(PlanError, match="EncryptionConfiguration"):
        Repository("r", EncryptionConfiguration={"EncryptionType": "AES256", "KmsKey": "arn"})
    with pytest.raises(PlanError, match="ScanOnPush must be bool"):
        Repository("r", ScanOnPush="yes")
