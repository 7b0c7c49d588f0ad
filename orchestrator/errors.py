"""One table classifies AWS error codes; nothing else inspects ClientError.

botocore's standard retry mode already retries transient wire errors; this
table covers what the orchestrator decides itself: "gone" (delete succeeded,
read returns None), throttling (back off), eventual consistency (retry a
little), dependency violations (wait for dependents to drain) and fatal.
"""

from __future__ import annotations

from collections.abc import Iterable


class InfraError(Exception):
    """Base of every error the CLI prints as one clear paragraph (exit 1)."""


class PlanError(InfraError):
    """The plan is wrong: bad property, cycle, dangling reference... No AWS call was made."""


class StateError(InfraError):
    """The state table is unusable: corrupt record, wrong schema, serial moved."""


class LockError(InfraError):
    """Someone else holds the lock."""


class AwsError(InfraError):
    """AWS refused or could not be reached; the message names the resource and call."""


THROTTLING = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
    "TooManyRequestsException", "SlowDown", "RequestThrottled", "RequestThrottledException",
    "ProvisionedThroughputExceededException", "LimitExceededException", "PriorRequestNotComplete",
})

# Codes that, right after a create, mean "not visible yet" rather than "wrong".
EVENTUAL = frozenset({
    "InvalidParameterValue", "InvalidParameterValueException", "InvalidParameterException",
    "MalformedPolicyDocument", "InvalidRequestException",  # IAM role not yet assumable
})

DEPENDENCY = frozenset({
    "DependencyViolation", "ResourceInUse", "ResourceInUseException", "InvalidDBSubnetGroupStateFault",
    "ResourceInUseFault", "DeleteConflict", "InvalidCacheClusterState", "InvalidReplicationGroupState",
    "ConflictException", "InvalidStateException", "OperationAborted", "IncorrectState",
})

GENERIC_NOT_FOUND = frozenset({
    "ResourceNotFoundException", "NotFoundException", "NoSuchEntity", "NoSuchBucket", "NotFound",
    "WAFNonexistentItemException", "EntityNotFoundException", "ParameterNotFound",
})


def error_code(exc: BaseException) -> str | None:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return resp.get("Error", {}).get("Code")
    return None


def error_message(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return resp.get("Error", {}).get("Message") or str(exc)
    return str(exc)


def is_not_found(exc: BaseException, codes: Iterable[str] = ()) -> bool:
    code = error_code(exc)
    if code is None:
        return False
    return code in GENERIC_NOT_FOUND or code in set(codes) or code.endswith(".NotFound") \
        or code.endswith("NotFound") or code.endswith("NotFoundFault")


def is_throttle(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLING


def is_dependency(exc: BaseException) -> bool:
    return error_code(exc) in DEPENDENCY


def is_eventual(exc: BaseException) -> bool:
    return error_code(exc) in EVENTUAL


def classify(exc: BaseException, not_found: Iterable[str] = ()) -> str:
    """One of: not_found, throttle, dependency, eventual, fatal."""
    if is_not_found(exc, not_found):
        return "not_found"
    if is_throttle(exc):
        return "throttle"
    if is_dependency(exc):
        return "dependency"
    if is_eventual(exc):
        return "eventual"
    return "fatal"
