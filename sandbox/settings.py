"""The moto settings this project needs, in one place for tests and the server."""

from __future__ import annotations

import os

REGION = "ap-east-2"

MOTO_CONFIG = {
    "iam": {"load_aws_managed_policies": True},  # EKS/Lambda roles attach AWS-managed policies
    "lambda": {"use_docker": False},  # no Docker engine on these machines
    "batch": {"use_docker": False},
    "core": {"service_whitelist": None},
}

# Environment for moto and boto3 alike; never real credentials.
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "MOTO_ACM_VALIDATION_WAIT": "0",  # ACM certificates validate at once
    "MOTO_ALLOW_NONEXISTENT_REGION": "true",
}


def apply_env() -> None:
    for k, v in ENV.items():
        os.environ[k] = v
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(k, None)
