"""The moto settings this project needs, in one place for tests and the server."""

from __future__ import annotations

import copy
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
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",  # same as MOTO_CONFIG, for the server process
}

# Where `infra sandbox` keeps its pid/port file; INFRA_SANDBOX_DIR overrides.
DEFAULT_STATE_DIR = "~/.genai-infra/sandbox"


def state_dir() -> str:
    return os.path.expanduser(os.environ.get("INFRA_SANDBOX_DIR") or DEFAULT_STATE_DIR)


def apply_env() -> None:
    for k, v in ENV.items():
        os.environ[k] = v
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(k, None)


def apply_moto_config() -> None:
    """Make MOTO_CONFIG moto's default (the server has no mock_aws(config=...) to pass it to)."""
    import moto.settings
    from moto.core import config

    for section, values in MOTO_CONFIG.items():
        config.default_user_config.setdefault(section, {}).update(copy.deepcopy(values))  # type: ignore[misc]
    moto.settings.ACM_VALIDATION_WAIT = 0
