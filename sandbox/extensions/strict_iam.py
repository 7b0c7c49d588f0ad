"""Strict IAM: a role is not assumable by other services the moment IAM says it exists.

IAM is eventually consistent: CreateRole returns at once, but the services that
assume the role (Lambda, Firehose, Glue, EKS, CloudWatch Logs, OpenSearch) see
it, its trust policy and its permissions only seconds later, and refuse it until
then, each with its own code and message. The Terraform provider wraps every one
of those calls in a retry on exactly that code and message (its propagationTimeout,
2 minutes; Lambda 5). moto accepts the role at once, so a tool that does not retry
passes on moto and fails its first real apply. Policies that name a principal are
checked the same way: an ECR repository policy naming a new role, and IAM's own
trust policies naming a role or OIDC provider (IRSA) created moments ago.

Rule `iam-propagation`: a role created, or whose trust policy or policies changed
(or an OIDC provider created), less than `seconds` ago is refused by those calls
with the real answer. A role IAM has never seen (an ARN made up by a test) is out
of this rule's scope (Lambda's own check still refuses it, as moto always did).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from moto.awslambda.responses import LambdaResponse
from moto.ecr.exceptions import InvalidParameterException as EcrInvalidParameter
from moto.ecr.models import ECRBackend
from moto.eks.responses import EKSResponse
from moto.firehose.responses import FirehoseResponse
from moto.glue.responses import GlueResponse
from moto.iam.exceptions import MalformedPolicyDocument
from moto.iam.models import IAMBackend, iam_backends
from moto.logs.responses import LogsResponse
from moto.opensearch.responses import OpenSearchServiceResponse
from moto.utilities.utils import get_partition

from sandbox import strict
from sandbox.extensions._base import AwsJsonError, body, statements, store

TF = "hashicorp/terraform-provider-aws internal/service/"
RULE = strict.rule(
    "iam-propagation",
    aws="A role just created, or whose trust policy or policies just changed, cannot be assumed yet by the "
        "services that assume it: Lambda CreateFunction/UpdateFunctionConfiguration (InvalidParameterValueException "
        "'cannot be assumed by Lambda'), Firehose CreateDeliveryStream (InvalidArgumentException 'Firehose is "
        "unable to assume role'), Glue CreateCrawler/UpdateCrawler (InvalidInputException 'Service is unable to "
        "assume provided role'), EKS CreateCluster/CreateNodegroup/CreateFargateProfile (InvalidParameterException), "
        "Logs PutSubscriptionFilter (InvalidParameterException 'Could not deliver test message'), OpenSearch "
        "CreateDomain/UpdateDomainConfig with an access policy naming the role (InvalidTypeException 'Error "
        "setting policy'), ECR SetRepositoryPolicy naming the role (InvalidParameterException 'Invalid repository "
        "policy provided'), and IAM itself: CreateRole/UpdateAssumeRolePolicy whose trust policy names a role or "
        "OIDC provider created moments ago (MalformedPolicyDocument 'Invalid principal in policy'). IAM changes "
        "typically take seconds to propagate.",
    source="https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual"
           "-consistency; " + TF + "lambda/function.go (retryFunctionOp), firehose/delivery_stream.go "
           "(retryDeliveryStreamOp), glue/crawler.go, eks/cluster.go, eks/fargate_profile.go, "
           "logs/subscription_filter.go, opensearch/domain.go (domainErrorRetryable), ecr/repository_policy.go, "
           "iam/role.go (retryCreateRole, UpdateAssumeRolePolicy)",
    moto="Every consumer accepted a role the instant CreateRole (or a policy change) returned.",
    seconds=2.0,
)


# --------------------------------------------------------------------------- when roles changed


def _clock(backend: IAMBackend) -> strict.Clock:
    return store(backend, "iam_propagation", strict.Clock)


def _marking(method: str, role_arg: str | None, check: Callable[[IAMBackend, dict[str, Any]], None] | None = None,
             ) -> Callable[..., Any]:
    """Wrap an IAM backend method: `check` its arguments first (a trust policy naming a principal IAM
    itself has not propagated), then mark the role it changed (or the OIDC provider it made) as new."""
    original = getattr(IAMBackend, method)
    signature = inspect.signature(original)

    def wrapper(self: IAMBackend, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        if check is not None:
            check(self, bound)
        result = original(self, *args, **kwargs)
        _clock(self).mark(str(bound[role_arg]) if role_arg else result.arn)
        return result

    wrapper.__name__ = method
    wrapper.__doc__ = original.__doc__
    wrapper._iam_propagation = True  # type: ignore[attr-defined]
    return wrapper


def _trust_check(document_arg: str) -> Callable[[IAMBackend, dict[str, Any]], None]:
    """IAM refuses a trust policy whose principal (a role, an OIDC provider) it created moments ago."""
    def check(backend: IAMBackend, bound: dict[str, Any]) -> None:
        if not strict.on(RULE.id):
            return
        window = float(strict.setting(RULE.id, "seconds"))
        for kind, arn in _principals(bound.get(document_arg)):
            key = _role_name(arn) if kind == "AWS" else arn
            if _clock(backend).within(key, window):
                strict.trip(RULE.id)
                # (the principal type's spelling in AWS's message is not confirmed; the phrase is.)
                raise MalformedPolicyDocument(f'Invalid principal in policy: "{kind}":"{arn}"')
    return check


CHANGES: dict[str, tuple[str | None, Callable[[IAMBackend, dict[str, Any]], None] | None]] = {
    # IAM backend method -> (the argument naming the role, or None: the result's ARN; a check first)
    "create_role": ("role_name", _trust_check("assume_role_policy_document")),
    "update_assume_role_policy": ("role_name", _trust_check("policy_document")),
    "put_role_policy": ("role_name", None),
    "delete_role_policy": ("role_name", None),
    "attach_role_policy": ("role_name", None),
    "detach_role_policy": ("role_name", None),
    "create_open_id_connect_provider": (None, None),
}


def _role_name(arn_or_name: str) -> str:
    """The role's name from its ARN (arn:aws:iam::123:role/path/name) or the name itself (Glue takes both)."""
    return arn_or_name.rsplit("/", 1)[-1] if ":role/" in arn_or_name else arn_or_name


def _fresh(resp: Any, role: Any) -> bool:
    """Whether `role` is one IAM changed less than the rule's window ago (in the caller's account)."""
    return _fresh_in(resp.current_account, resp.region, role)


def _fresh_in(caller: str, region: str, role: Any) -> bool:
    if not strict.on(RULE.id) or not isinstance(role, str) or not role:
        return False
    account = role.split(":")[4] if role.startswith("arn:") else caller
    backend = iam_backends[account][get_partition(region)]
    return _clock(backend).within(_role_name(role), float(strict.setting(RULE.id, "seconds")))


# --------------------------------------------------------------------------- the consumers


def _refuse(code: str, message: str, status: int = 400) -> None:
    strict.trip(RULE.id)
    raise AwsJsonError(code, message, status)


def _role_arns(node: Any, keys: tuple[str, ...] = ("RoleARN",)) -> Iterator[str]:
    """Every role ARN under `keys` anywhere in a request (Firehose has one per configuration block)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in keys and isinstance(v, str):
                yield v
            else:
                yield from _role_arns(v, keys)
    elif isinstance(node, list):
        for v in node:
            yield from _role_arns(v, keys)


def _principals(document: Any) -> Iterator[tuple[str, str]]:
    """(type, ARN) of every role (AWS) and OIDC provider (Federated) a policy's statements name."""
    for st in statements(document):
        principal = st.get("Principal")
        if not isinstance(principal, dict):
            continue
        for kind, marker in (("AWS", ":role/"), ("Federated", ":oidc-provider/")):
            names = principal.get(kind)
            for p in names if isinstance(names, list) else [names]:
                if isinstance(p, str) and marker in p:
                    yield kind, p


def _policy_roles(document: Any) -> Iterator[str]:
    """The role ARNs a resource policy's statements name as AWS principals."""
    return (arn for kind, arn in _principals(document) if kind == "AWS")


def _lambda(resp: Any, req: dict[str, Any]) -> None:
    if _fresh(resp, req.get("Role")):
        _refuse("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")


def _firehose(resp: Any, req: dict[str, Any]) -> None:
    for arn in _role_arns(req):
        if _fresh(resp, arn):
            _refuse("InvalidArgumentException", f"Firehose is unable to assume role {arn}. Please check the role "
                                                 "provided.")


def _glue(resp: Any, req: dict[str, Any]) -> None:
    if _fresh(resp, req.get("Role")):
        _refuse("InvalidInputException", "Service is unable to assume provided role. Please verify role's "
                                         "TrustPolicy.")


def _eks_cluster(resp: Any, req: dict[str, Any]) -> None:
    arn = req.get("roleArn")
    if _fresh(resp, arn):
        _refuse("InvalidParameterException", f"Role with arn: {arn}, could not be assumed because it does not exist "
                                             "or the trusted entity is not correct")


def _eks_nodegroup(resp: Any, req: dict[str, Any]) -> None:
    arn = req.get("nodeRole")
    if _fresh(resp, arn):
        _refuse("InvalidParameterException", "Following required service principals [ec2.amazonaws.com] were not "
                                             f"found in the trust relationships of nodeRole {arn}")


def _eks_fargate(resp: Any, req: dict[str, Any]) -> None:
    if _fresh(resp, req.get("podExecutionRoleArn")):
        _refuse("InvalidParameterException", "Misconfigured PodExecutionRole Trust Policy; Please add the "
                                             "eks-fargate-pods.amazonaws.com Service Principal")


def _logs(resp: Any, req: dict[str, Any]) -> None:
    if _fresh(resp, req.get("roleArn")):
        service = str(req.get("destinationArn", "")).split(":")[2:3]
        kind = "Kinesis stream" if service == ["kinesis"] else "Firehose stream"
        _refuse("InvalidParameterException", f"Could not deliver test message to specified {kind}. Check if the "
                                             f"given {kind} is in ACTIVE state.")


def _opensearch(resp: Any, req: dict[str, Any]) -> None:
    policy = req.get("AccessPolicies")
    if any(_fresh(resp, arn) for arn in _policy_roles(policy)):
        _refuse("InvalidTypeException", f"Error setting policy: [{policy}]", status=409)


def _ecr_set_repository_policy(self: ECRBackend, original: Callable[..., Any], registry_id: str,
                               repository_name: str, policy_text: str) -> Any:
    if any(_fresh_in(self.account_id, self.region_name, arn) for arn in _policy_roles(policy_text)):
        strict.trip(RULE.id)
        raise EcrInvalidParameter("Invalid parameter at 'PolicyText' failed to satisfy constraint: "
                                  "'Invalid repository policy provided'")
    return original(self, registry_id, repository_name, policy_text)


CONSUMERS: tuple[tuple[type, str, Callable[[Any, dict[str, Any]], None]], ...] = (
    (LambdaResponse, "create_function", _lambda),
    (LambdaResponse, "update_function_configuration", _lambda),
    (FirehoseResponse, "create_delivery_stream", _firehose),
    (GlueResponse, "create_crawler", _glue),
    (GlueResponse, "update_crawler", _glue),
    (EKSResponse, "create_cluster", _eks_cluster),
    (EKSResponse, "create_nodegroup", _eks_nodegroup),
    (EKSResponse, "create_fargate_profile", _eks_fargate),
    (LogsResponse, "put_subscription_filter", _logs),
    (OpenSearchServiceResponse, "create_domain", _opensearch),
    (OpenSearchServiceResponse, "update_domain_config", _opensearch),
)


def _checked(cls: type, action: str, check: Callable[[Any, dict[str, Any]], None]) -> None:
    """Put `check` (on the JSON request) in front of the response method that serves `action`."""
    original = getattr(cls, action)
    if getattr(original, "_iam_propagation", False):
        return

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        check(self, body(self))
        return original(self, *args, **kwargs)

    wrapper.__name__ = action
    wrapper.__doc__ = original.__doc__
    wrapper._iam_propagation = True  # type: ignore[attr-defined]
    setattr(cls, action, wrapper)


def install() -> None:
    for method, (arg, check) in CHANGES.items():
        if not getattr(getattr(IAMBackend, method), "_iam_propagation", False):
            setattr(IAMBackend, method, _marking(method, arg, check))
    original = ECRBackend.set_repository_policy
    if not getattr(original, "_iam_propagation", False):
        def set_repository_policy(self: ECRBackend, *args: Any, **kwargs: Any) -> Any:
            return _ecr_set_repository_policy(self, original, *args, **kwargs)
        set_repository_policy._iam_propagation = True  # type: ignore[attr-defined]
        ECRBackend.set_repository_policy = set_repository_policy  # type: ignore[method-assign]
    for cls, action, check in CONSUMERS:
        _checked(cls, action, check)
