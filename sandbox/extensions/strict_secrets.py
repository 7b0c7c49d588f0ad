"""Secrets Manager rotation as AWS starts it (rule `secretsmanager-rotation-invoke`).

RotateSecret with a rotation function first checks that Secrets Manager may invoke it: the
function's resource policy must grant lambda:InvokeFunction to secretsmanager.amazonaws.com
(lambda.Permission). moto invoked any function it knew, permission or not.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from moto.awslambda.utils import get_backend
from moto.secretsmanager.responses import SecretsManagerResponse

from sandbox import strict
from sandbox.extensions._base import AwsJsonError, as_list

RULE = strict.rule(
    "secretsmanager-rotation-invoke",
    aws="RotateSecret with a RotationLambdaARN fails with AccessDeniedException 'Secrets Manager cannot invoke the "
        "specified Lambda function. Ensure that the function policy grants access to the principal "
        "secretsmanager.amazonaws.com.' unless the function's resource policy lets secretsmanager.amazonaws.com "
        "call lambda:InvokeFunction (a permission added moments ago may not count yet).",
    source="https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-required-permissions-"
           "function.html; hashicorp/terraform-provider-aws internal/service/secretsmanager/secret_rotation.go "
           "(RotateSecret retried on AccessDeniedException 'Secrets Manager cannot invoke the specified Lambda "
           "function' for 1 minute)",
    moto="Invoked any function it knew, whatever the function's policy said.",
)
SERVICE = "secretsmanager.amazonaws.com"
MESSAGE = ("Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants "
           f"access to the principal {SERVICE}.")


def _may_invoke(statements: list[dict[str, Any]]) -> bool:
    for st in statements:
        principal = st.get("Principal")
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else as_list(principal)
        actions = as_list(st.get("Action"))
        if st.get("Effect", "Allow") == "Allow" and SERVICE in services and any(
                fnmatch.fnmatchcase("lambda:invokefunction", str(a).lower()) for a in actions):
            return True
    return False


def _check(resp: SecretsManagerResponse) -> None:
    arn = resp._get_param("RotationLambdaARN")
    if not arn or not strict.on(RULE.id):
        return
    try:
        fn = get_backend(resp.current_account, resp.region).get_function(arn)
    except Exception:  # noqa: BLE001 - no such function: moto answers that itself
        return
    if not _may_invoke(fn.policy.statements if fn.policy is not None else []):
        strict.trip(RULE.id)
        raise AwsJsonError("AccessDeniedException", MESSAGE)


def install() -> None:
    original = SecretsManagerResponse.rotate_secret
    if getattr(original, "_strict", False):
        return

    def rotate_secret(self: SecretsManagerResponse) -> Any:
        _check(self)
        return original(self)

    rotate_secret._strict = True  # type: ignore[attr-defined]
    SecretsManagerResponse.rotate_secret = rotate_secret  # type: ignore[method-assign]
