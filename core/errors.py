"""One table classifies AWS error codes; nothing else inspects ClientError.

botocore's standard retry mode already retries transient wire errors; this
table covers what the orchestrator decides itself: "gone" (delete succeeded,
read returns None), quotas (fail at once, naming the quota), throttling (back
off), eventual consistency (retry a little), dependency violations (wait for
dependents to drain) and fatal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from botocore.exceptions import HTTPClientError


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


class FailedState(AwsError):
    """A wait met a failure state (MSK FAILED, node group CREATE_FAILED...): the resource exists,
    AWS gave up building it, and waiting longer cannot help. The engine records it as tainted."""


THROTTLING = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
    "TooManyRequestsException", "SlowDown", "RequestThrottled", "RequestThrottledException",
    "ProvisionedThroughputExceededException", "PriorRequestNotComplete", "EC2ThrottledException",
    "BandwidthLimitExceeded",
})

# Quotas: the account is at a limit (VPCs per region, policies per role, keys...). The same call fails
# until someone raises the quota, so retrying it as throttling only delays the failure by minutes
# (botocore's standard mode counts LimitExceededException as throttling). Named codes, plus every
# "<Thing>LimitExceeded" EC2 code and "...Quota...Exceeded" RDS/ElastiCache code that is not a throttle,
# and the "TooMany<Things>" of ELB.
QUOTA = frozenset({
    "ServiceQuotaExceededException", "QuotaExceededException", "ServiceLimitExceeded", "TooManyBuckets",
    "ResourceLimitExceededException", "ResourceNumberLimitExceededException", "WAFLimitsExceededException",
    "VcpuLimitExceeded", "MaxSpotInstanceCountExceeded",
})
_QUOTA_CODE = re.compile(r"(LimitExceeded|Quota\w*Exceeded(Fault)?)$|^TooMany(?!Requests|Updates)\w+$")
# Codes AWS uses for both: IAM's LimitExceeded ("Cannot exceed quota for PoliciesPerRole: 10") and
# LimitExceededException, a quota for KMS, Logs, Firehose, ACM, OpenSearch, and a rate for Kinesis
# ("Rate exceeded for shard"). Only the message tells them apart.
LIMIT_AMBIGUOUS = frozenset({"LimitExceeded", "LimitExceededException"})
_RATE_MESSAGE = re.compile(r"rate exceeded|throttl|too many requests|slow down|simultaneous|concurrent", re.I)
_QUOTA_MESSAGE = re.compile(r"quota|limit|maximum|cannot exceed|too many|reached", re.I)

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


# Answers that say the thing a create was making is there already (a retry of a create AWS carried
# out, or a resumed run): the engine adopts it when find() shows it carries its own address tag.
ALREADY_EXISTS = frozenset({
    "EntityAlreadyExists", "BucketAlreadyOwnedByYou", "InvalidGroup.Duplicate", "InvalidPermission.Duplicate",
    "AlreadyExistsException", "ResourceAlreadyExistsException", "ParameterAlreadyExists", "RouteAlreadyExists",
    "NetworkAclEntryAlreadyExists", "DBInstanceAlreadyExists", "DBSubnetGroupAlreadyExists",
    "DBParameterGroupAlreadyExists", "CacheSubnetGroupAlreadyExists", "CacheParameterGroupAlreadyExists",
    "ReplicationGroupAlreadyExists", "DuplicateLoadBalancerName", "DuplicateTargetGroupName", "DuplicateListener",
    "WAFDuplicateItemException", "RepositoryAlreadyExistsException", "InvalidKeyPair.Duplicate",
})
# Codes AWS also gives for other conflicts: "already exists" only when the message says so.
ALREADY_EXISTS_BY_MESSAGE = frozenset({
    "ConflictException", "ResourceInUseException", "ResourceInUse", "InvalidRequestException",
    "ResourceExistsException", "InvalidParameterException", "ValidationException",
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


def is_quota(exc: BaseException) -> bool:
    """The account is at a quota: retrying changes nothing until someone raises it."""
    resp = getattr(exc, "response", None)
    message = (resp.get("Error", {}).get("Message") or "") if isinstance(resp, dict) else ""
    return quota_answer(error_code(exc), message)  # AWS's message only: str(exc) repeats the code


def quota_answer(code: str | None, message: str) -> bool:
    """is_quota on a raw answer (a code and its message): botocore's retry hook has no exception yet."""
    if not code or code in THROTTLING:
        return False
    if code in LIMIT_AMBIGUOUS:
        return not _RATE_MESSAGE.search(message or "") and bool(_QUOTA_MESSAGE.search(message or ""))
    return code in QUOTA or _QUOTA_CODE.search(code) is not None


def is_throttle(exc: BaseException) -> bool:
    code = error_code(exc)
    return code in THROTTLING or (code in LIMIT_AMBIGUOUS and not is_quota(exc))


def error_service(exc: BaseException) -> str | None:
    """The boto3 service that answered (orchestrator.aws stamps it on every error answer)."""
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return resp.get("ResponseMetadata", {}).get("Service")
    return None


def quota_name(exc: BaseException) -> str:
    """The quota an answer names: IAM spells it out ("quota for PoliciesPerRole"), EC2 in the code."""
    m = re.search(r"quota for ([\w-]+)", error_message(exc), re.I)
    return m.group(1) if m else (error_code(exc) or "unknown")


def quota_message(exc: BaseException, address: str = "") -> str:
    """What the CLI prints for a quota: which quota of which service, and what to do about it."""
    service = error_service(exc) or "the service"
    op = getattr(exc, "operation_name", None)
    return (f"{address + ': ' if address else ''}AWS quota reached: {quota_name(exc)} of {service}"
            f"{f' ({op})' if op else ''}: {error_code(exc)}: {error_message(exc)}. Retrying does not help: "
            f"raise the quota in Service Quotas (service {service}) or free some, then run again")


def is_dependency(exc: BaseException) -> bool:
    return error_code(exc) in DEPENDENCY


def is_eventual(exc: BaseException) -> bool:
    return error_code(exc) in EVENTUAL


def is_already_exists(exc: BaseException) -> bool:
    code = error_code(exc)
    if code is None:
        return False
    if code in ALREADY_EXISTS or code.endswith(("AlreadyExists", "AlreadyExistsException", "AlreadyExistsFault")):
        return True
    return code in ALREADY_EXISTS_BY_MESSAGE and re.search(r"already exists", error_message(exc), re.I) is not None


def is_lost_answer(exc: BaseException) -> bool:
    """The request may have reached AWS and been carried out, but no answer came back (a read
    timeout, a connection closed mid-call): botocore's HTTPClientError family. Connect-phase
    errors (botocore's ConnectionError family) never sent the request and are not this."""
    return isinstance(exc, HTTPClientError)


def classify(exc: BaseException, not_found: Iterable[str] = ()) -> str:
    """One of: lost (no answer to a sent request), not_found, quota, throttle, dependency, eventual, fatal."""
    if is_lost_answer(exc):
        return "lost"
    if is_not_found(exc, not_found):
        return "not_found"
    if is_quota(exc):
        return "quota"
    if is_throttle(exc):
        return "throttle"
    if is_dependency(exc):
        return "dependency"
    if is_eventual(exc):
        return "eventual"
    return "fatal"


# --------------------------------------------------------------------------- the retry catalogue


@dataclass(frozen=True)
class Retry:
    """One answer AWS gives while something is not ready yet, and how long it may go on.

    Declared per resource type (as the Terraform provider's per-resource
    files do with tfresource.RetryWhen...): the error code, a pattern its
    message must contain (case-insensitive regular expression; empty matches
    any message), the AWS seconds AWS may keep answering so, and the phases
    it applies to. A code alone is never enough where AWS reuses it for
    plainly invalid requests (InvalidParameterValueException says both "the
    role cannot be assumed yet" and "the runtime does not exist"): only the
    message tells them apart, so only the matching message is retried.
    """

    code: str
    message: str = ""
    seconds: float = 120.0
    phases: frozenset[str] = field(default_factory=lambda: frozenset({"create", "update"}))
    why: str = ""  # where AWS documents it, or the Terraform provider file that retries it

    def matches(self, exc: BaseException, phase: str) -> bool:
        if phase not in self.phases or error_code(exc) != self.code:
            return False
        return not self.message or re.search(self.message, error_message(exc), re.IGNORECASE) is not None


def on_create(code: str, message: str = "", seconds: float = 120.0, why: str = "") -> Retry:
    return Retry(code, message, seconds, frozenset({"create"}), why)


def on_delete(code: str, message: str = "", seconds: float = 300.0, why: str = "") -> Retry:
    return Retry(code, message, seconds, frozenset({"delete"}), why)


def on_write(code: str, message: str = "", seconds: float = 120.0, why: str = "") -> Retry:
    """Create and update alike (a role named by an update is as new as one named by a create)."""
    return Retry(code, message, seconds, frozenset({"create", "update"}), why)


def matching(catalogue: Iterable[Retry], exc: BaseException, phase: str) -> Retry | None:
    """The first entry of a type's catalogue that covers `exc` in `phase`, if any."""
    for entry in catalogue:
        if entry.matches(exc, phase):
            return entry
    return None
