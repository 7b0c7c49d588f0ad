"""Strict rules of a fresh account: creates AWS refuses the first time a service is used in a new account.

moto accepts every create in an empty account. AWS does not: Lambda checks that a
function with active tracing may write to X-Ray (rule `lambda-xray-permission`) and that
one with a dead-letter target may send to it (rule `lambda-dlq-permission`), and
an OpenSearch VPC domain needs the OpenSearch service-linked role, which the API,
unlike the console, does not create (rule `opensearch-vpc-slr`). QuickSight's region
and subscription are strict_quicksight.py's; snapshot keys strict_snapshot_key.py's.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator
from typing import Any

from moto.awslambda.responses import LambdaResponse
from moto.iam.exceptions import InvalidInput, NotFoundException
from moto.iam.models import IAMBackend, Role, iam_backends
from moto.opensearch.responses import OpenSearchServiceResponse
from moto.utilities.utils import get_partition

from sandbox import strict
from sandbox.extensions._base import AwsJsonError, add_methods, body, statements

TF = "hashicorp/terraform-provider-aws internal/service/"

XRAY = strict.rule(
    "lambda-xray-permission",
    aws="CreateFunction and UpdateFunctionConfiguration with TracingConfig Mode Active check that the execution "
        "role may call xray:PutTraceSegments and xray:PutTelemetryRecords, and refuse it otherwise: "
        "InvalidParameterValueException 'The provided execution role does not have permissions to call "
        "PutTraceSegments on XRAY'.",
    source="https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html (execution role permissions: "
           "AWSXRayDaemonWriteAccess); the message as reported in serverless/serverless#6931",
    moto="Created the function whatever the role allowed.",
)
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")

DLQ = strict.rule(
    "lambda-dlq-permission",
    aws="CreateFunction and UpdateFunctionConfiguration with a DeadLetterConfig check that the execution role "
        "may send to its target, and refuse it otherwise: InvalidParameterValueException 'The provided execution "
        "role does not have permissions to call Publish on SNS' (sns:Publish on the topic) or '... to call "
        "SendMessage on SQS' (sqs:SendMessage on the queue); a resource policy on the target does not count.",
    source="https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (dead-letter "
           "queues: the execution role needs sqs:SendMessage or sns:Publish); the messages as reported in "
           "aws-samples/aws-serverless-ecommerce-platform#41 and functionalone/serverless-iam-roles-per-function#5",
    moto="Ignored DeadLetterConfig: no check, and nothing stored.",
)
DLQ_ACTIONS = {"sns": ("sns:Publish", "Publish on SNS"), "sqs": ("sqs:SendMessage", "SendMessage on SQS")}

OPENSEARCH_SLR = strict.rule(
    "opensearch-vpc-slr",
    aws="CreateDomain with VPCOptions fails while the account has no AWSServiceRoleForAmazonOpenSearchService "
        "(ValidationException 'Before you can proceed, you must enable a service-linked role to give Amazon "
        "OpenSearch Service permissions to access your VPC.'); the API does not create it (the console does). "
        "IAM names service-linked roles after the service (opensearchservice.amazonaws.com -> "
        "AWSServiceRoleForAmazonOpenSearchService) and refuses a second one (InvalidInputException 'Service role "
        "name ... has been taken in this account').",
    source="https://docs.aws.amazon.com/opensearch-service/latest/developerguide/slr.html; " + TF
           + "opensearch/domain.go (domainErrorRetryable: 'enable a service-linked role'); "
           + TF + "iam/service_linked_role.go",
    moto="Created VPC domains in an account without the role, named service-linked roles AWSServiceRoleFor"
         "<first label> (AWSServiceRoleForopensearchservice) and answered a second create with EntityAlreadyExists.",
)
SLR_NAMES = {  # AWSServiceName -> the role IAM creates (IAM User Guide, "AWS services that work with IAM")
    "opensearchservice.amazonaws.com": "AWSServiceRoleForAmazonOpenSearchService",
    "es.amazonaws.com": "AWSServiceRoleForAmazonElasticsearchService",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
    "elasticache.amazonaws.com": "AWSServiceRoleForElastiCache",
    "eks.amazonaws.com": "AWSServiceRoleForAmazonEKS",
    "eks-nodegroup.amazonaws.com": "AWSServiceRoleForAmazonEKSNodegroup",
    "eks-fargate.amazonaws.com": "AWSServiceRoleForAmazonEKSForFargate",
    "kafka.amazonaws.com": "AWSServiceRoleForKafka",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
}
OPENSEARCH_SLR_NAME = SLR_NAMES["opensearchservice.amazonaws.com"]
SLR_MESSAGE = ("Before you can proceed, you must enable a service-linked role to give Amazon OpenSearch Service "
               "permissions to access your VPC.")



# --------------------------------------------------------------------------- Lambda and X-Ray


def _documents(role: Role) -> Iterator[Any]:
    """The role's inline policies and the default version of each attached managed policy."""
    yield from role.policies.values()
    for policy in role.managed_policies.values():
        yield from (v.document for v in policy.versions if v.is_default)


def _allows(role: Role, action: str, resource: str = "*") -> bool:
    """Whether an Allow statement of the role names `action` on `resource` (wildcards as IAM reads them);
    with the default "*", on every resource."""
    for doc in _documents(role):
        for st in statements(doc):
            if st.get("Effect") != "Allow":
                continue
            actions = st.get("Action", [])
            resources = st.get("Resource", [])
            actions = actions if isinstance(actions, list) else [actions]
            resources = resources if isinstance(resources, list) else [resources]
            if any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in actions) and (
                    "*" in resources if resource == "*" else
                    any(fnmatch.fnmatchcase(resource, str(r)) for r in resources)):
                return True
    return False


def _role_checks(resp: LambdaResponse, req: dict[str, Any], function: str | None) -> None:
    tracing = (req.get("TracingConfig") or {}).get("Mode") == "Active" and strict.on(XRAY.id)
    dlq = str((req.get("DeadLetterConfig") or {}).get("TargetArn") or "")
    dlq = dlq if dlq and strict.on(DLQ.id) else ""
    if not tracing and not dlq:
        return
    role = _execution_role(resp, req, function)
    if role is None:
        return
    if tracing:
        for action in XRAY_ACTIONS:
            if not _allows(role, action):
                strict.trip(XRAY.id)
                raise AwsJsonError("InvalidParameterValueException", "The provided execution role does not have "
                                   f"permissions to call {action.split(':')[1]} on XRAY")
    service = dlq.split(":")[2] if dlq.count(":") >= 5 else ""
    if service in DLQ_ACTIONS and not _allows(role, DLQ_ACTIONS[service][0], dlq):
        strict.trip(DLQ.id)
        raise AwsJsonError("InvalidParameterValueException", "The provided execution role does not have "
                           f"permissions to call {DLQ_ACTIONS[service][1]}")


def _execution_role(resp: LambdaResponse, req: dict[str, Any], function: str | None) -> Role | None:
    """The role the call names, or the function's own on an update that names none."""
    role_arn = req.get("Role")
    if role_arn is None and function:
        try:
            fn = resp.backend.get_function(function)
        except Exception:  # noqa: BLE001 - no such function: moto answers that itself
            return None
        role_arn = fn.role if fn is not None else None
    if not isinstance(role_arn, str) or ":role/" not in role_arn:
        return None
    try:
        return iam_backends[role_arn.split(":")[4]][get_partition(resp.region)].get_role(role_arn.rsplit("/", 1)[1])
    except NotFoundException:
        return None  # a role IAM has never seen: Lambda's own check refuses it


def _wrap_lambda(action: str, function_of: Callable[[LambdaResponse], str | None]) -> None:
    original = getattr(LambdaResponse, action)
    if getattr(original, "_strict_fresh", False):
        return

    def wrapper(self: LambdaResponse, *args: Any, **kwargs: Any) -> Any:
        _role_checks(self, body(self), function_of(self))
        return original(self, *args, **kwargs)

    wrapper.__name__ = action
    wrapper._strict_fresh = True  # type: ignore[attr-defined]
    setattr(LambdaResponse, action, wrapper)


# --------------------------------------------------------------------------- service-linked roles and OpenSearch


def create_service_linked_role(self: IAMBackend, service_name: str, description: str, suffix: str) -> Role:
    name = SLR_NAMES.get(service_name)
    if name is None or not strict.on(OPENSEARCH_SLR.id):
        return self._moto_create_service_linked_role(service_name, description, suffix)
    name = f"{name}_{suffix}" if suffix else name
    if name in {r.name for r in self.roles.values()}:
        strict.trip(OPENSEARCH_SLR.id)
        raise InvalidInput(f"Service role name {name} has been taken in this account, please try a "
                                    "different suffix.")
    trust = {"Version": "2012-10-17", "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow",
                                                     "Principal": {"Service": [service_name]}}]}
    return self.create_role(name, json.dumps(trust), f"/aws-service-role/{service_name}/", permissions_boundary=None,
                            description=description, tags=[], max_session_duration="3600",
                            linked_service=service_name)


def _opensearch_check(resp: OpenSearchServiceResponse) -> None:
    vpc = body(resp).get("VPCOptions") or {}
    if not vpc.get("SubnetIds") or not strict.on(OPENSEARCH_SLR.id):
        return
    iam = iam_backends[resp.current_account][get_partition(resp.region)]
    if OPENSEARCH_SLR_NAME not in {r.name for r in iam.roles.values()}:
        strict.trip(OPENSEARCH_SLR.id)
        raise AwsJsonError("ValidationException", SLR_MESSAGE)


def install() -> None:
    _wrap_lambda("create_function", lambda _resp: None)
    _wrap_lambda("update_function_configuration",
                 lambda resp: resp.path.rstrip("/").rsplit("/", 2)[-2] if resp.path else None)
    add_methods(IAMBackend, create_service_linked_role, override=True)
    original = OpenSearchServiceResponse.create_domain
    if not getattr(original, "_strict_fresh", False):
        def create_domain(self: OpenSearchServiceResponse) -> Any:
            _opensearch_check(self)
            return original(self)
        create_domain._strict_fresh = True  # type: ignore[attr-defined]
        OpenSearchServiceResponse.create_domain = create_domain  # type: ignore[method-assign]
