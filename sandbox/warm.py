"""Pay moto's cold start before anyone waits on it: one read per service the plans use.

moto builds a service's backend, its request router and its response serializers on the first
request, and botocore loads each service model on first use: together about half a second to a
second per service, which the first apply used to pay on its critical path. `warm` makes one
harmless read per service (an operation with no required input, errors included: any answer warms
the path), builds moto's router for every protocol a request may arrive in, then freezes the heap
moto built out of the garbage collector, whose full passes over it paused every thread for up to
~0.8 s. `infra sandbox up` returns only after the server has done this (sandbox/serve.py); the
benchmark does it in-process before it times anything.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from typing import Any

from botocore import xform_name


def services(available: Iterable[str], region: str | None = None, session: Any = None) -> list[str]:
    """Every boto3 service a resource type declares, plus the state table's and STS, that botocore knows;
    with `region`, not those botocore places in other regions only (QuickSight has no ap-east-2 endpoint, and
    the strict sandbox answers it there as AWS would, by failing to connect: warming it only waits).
    `session`: the botocore session whose clients will be made, so that the service models botocore loads
    to answer the region question (whole, for their endpoint prefix) are loaded once."""
    import botocore.session

    import resources  # noqa: F401 - registers every type
    from resources.base import REGISTRY

    names = sorted(({cls.service for cls in REGISTRY.values()} | {"dynamodb", "sts"}) & set(available))
    if region is None:
        return names
    session = session or botocore.session.get_session()
    return [n for n in names if region in session.get_available_regions(n) or not session.get_available_regions(n)]


# The read to make per service: the listing the resource types use themselves (a cheap answer that
# loads the backend and the routes); other services fall back to the first read without arguments.
READS: dict[str, tuple[str, dict[str, Any]]] = {
    "acm": ("ListCertificates", {}), "amp": ("ListWorkspaces", {}), "athena": ("ListWorkGroups", {}),
    "cloudwatch": ("DescribeAlarms", {}), "dynamodb": ("ListTables", {}), "ec2": ("DescribeVpcs", {}),
    "ecr": ("DescribeRepositories", {}), "eks": ("ListClusters", {}),
    "elasticache": ("DescribeCacheClusters", {}), "elbv2": ("DescribeLoadBalancers", {}),
    "events": ("ListEventBuses", {}), "firehose": ("ListDeliveryStreams", {}), "glue": ("GetDatabases", {}),
    "iam": ("ListRoles", {}), "kafka": ("ListClustersV2", {}), "kms": ("ListKeys", {}),
    "lambda": ("ListFunctions", {}), "logs": ("DescribeLogGroups", {}), "opensearch": ("ListDomainNames", {}),
    "quicksight": ("ListDataSources", {"AwsAccountId": "{account}"}), "rds": ("DescribeDBInstances", {}),
    "s3": ("ListBuckets", {}), "secretsmanager": ("ListSecrets", {}), "sns": ("ListTopics", {}),
    "ssm": ("DescribeParameters", {}), "sts": ("GetCallerIdentity", {}),
    "wafv2": ("ListWebACLs", {"Scope": "REGIONAL"}), "xray": ("GetGroups", {}),
}
ACCOUNT = "123456789012"  # moto's default account: the sandbox's


def _one_read(client: Any, service: str, tries: int = 6) -> bool:
    """A read the backend answers (an AWS-shaped error counts; "not implemented" tries the next one)."""
    model = client.meta.service_model
    if service in READS:
        op, params = READS[service]
        candidates = [(op, {k: v.replace("{account}", ACCOUNT) for k, v in params.items()})]
    else:
        candidates = []
        for op in model.operation_names:
            shape = model.operation_model(op).input_shape
            if op.startswith(("List", "Describe", "GetCallerIdentity")) and not (shape and shape.required_members):
                candidates.append((op, {}))
    for op, params in candidates[:tries]:
        try:
            getattr(client, xform_name(op))(**params)
            return True
        except Exception as exc:  # noqa: BLE001 - an AWS-shaped error answers too
            resp = getattr(exc, "response", None) or {}
            status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if resp and status < 500 and status != 404:
                return True
    return False


def warm(client_for: Callable[[str], Any], names: Iterable[str], *, routers: bool = True,
         threads: int = 1) -> list[str]:
    """Warm each service through `client_for(service)`; returns the services that answered.

    `routers`: also build moto's routers for every protocol, in this process (in-process moto);
    a server builds its own on the requests. `threads` > 1 sends the reads concurrently (through
    a server, its work and this side's overlap).
    """
    names = list(names)
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(lambda n: warm(client_for, [n], routers=routers), names))
        return sorted(s for part in parts for s in part)
    from moto.core.routing import get_service_router
    from moto.core.utils import get_service_model

    answered = []
    for service in names:
        client = client_for(service)
        if _one_read(client, service):
            answered.append(service)
        if not routers:
            continue
        try:
            moto_model = get_service_model(service)
        except Exception:  # noqa: BLE001 - a service moto does not model has no router to build
            continue
        for protocol in moto_model.metadata.get("protocols", [moto_model.protocol]):
            try:  # one router per protocol a request may arrive in (a GET and a JSON POST differ)
                get_service_router(service)._get_router(protocol)
            except Exception:  # noqa: BLE001 - a protocol moto has no router for is never routed
                pass
    if routers:
        gc.collect()
        gc.freeze()
    return answered
