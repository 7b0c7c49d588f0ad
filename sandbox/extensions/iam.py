"""IAM: AWS-managed policies built cheaply, once parsed per process.

With load_aws_managed_policies on (EKS and Lambda roles attach AWS-managed
policies), moto json-parses its 1 MB policy catalogue and draws a random id
for each of its ~1,600 policies for every IAM backend it builds (several per
test, lazily, even inside unrelated calls): about 0.25 s each, which also
made the first call of a test slow enough to skip past short lifecycle
transitions. The catalogue never changes, so it is parsed once; each backend
still gets its own policy objects (attachment counts are per account), with a
stable id per policy name, as AWS-managed policies have in AWS.
"""

from __future__ import annotations

import gc
import hashlib
import json
from datetime import datetime
from functools import cache
from typing import Any

from moto.iam import models as iam_models
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.utilities.utils import get_partition


@cache
def _catalogue() -> tuple[tuple[str, str, str, str, str, datetime, datetime], ...]:
    data = json.loads(aws_managed_policies_data)
    out = []
    for name, d in data.items():
        pid = "ANPA" + hashlib.sha1(name.encode()).hexdigest().upper()[:17]
        out.append((name, pid, d.get("DefaultVersionId") or "v1", d.get("Path") or "/",
                    json.dumps(d.get("Document")), datetime.fromisoformat(d["CreateDate"]),
                    datetime.fromisoformat(d["UpdateDate"])))
    return tuple(out)


def _without_gc(build: Any) -> Any:
    """16,000 small objects (and the ARN index of them) would otherwise trigger full collections of a
    large heap: most of a new IAM backend's cost in a test process."""
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        return build()
    finally:
        if gc_was_on:
            gc.enable()


def _init_aws_policies(self: Any) -> list[Any]:
    if not iam_models.load_iam_aws_managed_policies():
        return []
    partition = get_partition(self.region_name)
    policies: list[Any] = []
    _without_gc(lambda: _build(policies, self.account_id, partition))
    return policies


def _init_managed_policies(self: Any) -> dict[str, Any]:
    return _without_gc(lambda: {p.arn: p for p in self.aws_managed_policies})


def _build(policies: list[Any], account_id: str, partition: str) -> None:
    for name, pid, version, path, document, created, updated in _catalogue():
        policy = object.__new__(iam_models.AWSManagedPolicy)
        policy.__dict__.update(name=name, account_id=account_id, attachment_count=0, description="", id=pid,
                               path=path, tags={}, partition=partition, default_version_id=version,
                               next_version_num=int(version.lstrip("v")) + 1, create_date=created,
                               update_date=updated)
        policy.versions = [iam_models.PolicyVersion(policy.arn, document, True, version, updated)]
        policies.append(policy)


def install() -> None:
    iam_models.IAMBackend._init_aws_policies = _init_aws_policies
    iam_models.IAMBackend._init_managed_policies = _init_managed_policies
