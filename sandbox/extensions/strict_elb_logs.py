"""ALB access logs as AWS accepts them (rule `elbv2-access-logs-bucket`).

When ModifyLoadBalancerAttributes turns access_logs.s3.enabled on, Elastic Load
Balancing writes a test object into the bucket and refuses the change if it
cannot: the bucket must exist in the load balancer's region, its policy must let
ELB's log delivery put objects under <prefix>/AWSLogs/<account>/, and its
default encryption must be SSE-S3 (the only one ELB's delivery supports). In
the regions opened since August 2022 (ap-east-2, the plans' region, among them)
the policy names the service principal logdelivery.elasticloadbalancing.amazonaws.com;
older regions name the regional ELB account, which the sandbox accepts too.
moto stored the attributes whatever the bucket said.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

from moto.elbv2.exceptions import InvalidConfigurationRequest
from moto.elbv2.models import ELBv2Backend
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from sandbox import lifecycle, strict
from sandbox.extensions._base import as_list

RULE = strict.rule(
    "elbv2-access-logs-bucket",
    aws="ModifyLoadBalancerAttributes with access_logs.s3.enabled=true writes a test file to the bucket and fails "
        "with InvalidConfigurationRequest 'Access Denied for bucket: <name>. Please check S3bucket permission' "
        "unless the bucket is in the load balancer's region, its policy allows s3:PutObject on "
        "<prefix>/AWSLogs/<account>/* to ELB's log delivery (logdelivery.elasticloadbalancing.amazonaws.com in "
        "regions opened since August 2022, else the regional ELB account), and its default encryption is SSE-S3.",
    source="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html "
           "(bucket requirements: same Region, SSE-S3 the only supported encryption; the policy for Regions "
           "available as of August 2022 or later); hashicorp/terraform-provider-aws internal/service/elbv2/"
           "load_balancer.go (access_logs set through ModifyLoadBalancerAttributes)",
    moto="Stored access_logs.s3.* whatever the bucket: missing, without a policy, or encrypted with KMS.",
)
SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


def _denied(bucket: str) -> InvalidConfigurationRequest:
    strict.trip(RULE.id)
    return InvalidConfigurationRequest(f"Access Denied for bucket: {bucket}. Please check S3bucket permission")


def _allows(policy: dict[str, Any], key: str) -> bool:
    """Whether a statement lets ELB's log delivery put `key` (an object ARN) in the bucket."""
    for st in as_list(policy.get("Statement")):
        if st.get("Effect") != "Allow":
            continue
        p = st.get("Principal") or {}
        principals = as_list(p.get("Service")) + as_list(p.get("AWS")) if isinstance(p, dict) else []
        if not any(x == SERVICE or str(x).startswith("arn:aws:iam::") for x in principals):
            continue
        if not any(a in ("s3:PutObject", "s3:*", "*") for a in as_list(st.get("Action"))):
            continue
        if any(fnmatch.fnmatchcase(key, str(r)) for r in as_list(st.get("Resource"))):
            return True
    return False


def _check(backend: ELBv2Backend, attrs: dict[str, Any], current: dict[str, Any]) -> None:
    merged = {**current, **attrs}
    if str(merged.get("access_logs.s3.enabled", "false")).lower() != "true" or not strict.on(RULE.id):
        return
    name = str(merged.get("access_logs.s3.bucket") or "")
    prefix = str(merged.get("access_logs.s3.prefix") or "")
    bucket = s3_backends[backend.account_id][get_partition(backend.region_name)].buckets.get(name)
    if bucket is None or bucket.region_name != backend.region_name or bucket.policy is None:
        raise _denied(name)
    rules = as_list((bucket.encryption or {}).get("Rule") or {})
    if any((r.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") not in (None, "AES256")
           for r in rules):
        raise _denied(name)
    key = f"arn:aws:s3:::{name}/{prefix + '/' if prefix else ''}AWSLogs/{backend.account_id}/test"
    if not _allows(json.loads(bucket.policy), key):
        raise _denied(name)


def modify_load_balancer_attributes(self: ELBv2Backend, original: Callable[..., Any], arn: str,
                                    attrs: dict[str, Any]) -> Any:
    balancer = self.load_balancers.get(arn)
    if balancer is not None:
        _check(self, attrs, dict(balancer.attrs))
    return original(self, arn, attrs)


def install() -> None:
    lifecycle.chain(ELBv2Backend, "modify_load_balancer_attributes", modify_load_balancer_attributes)
