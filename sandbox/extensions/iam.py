"""IAM: AWS-managed policies parsed once per process, not once per backend.

With load_aws_managed_policies on (EKS and Lambda roles attach AWS-managed
policies), moto json-parses its 1 MB policy catalogue for every IAM backend
it builds, about a dozen per test: ~2 s of every test. The catalogue never
changes, so it is parsed once and each backend gets fresh policy objects.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from moto.iam import models as iam_models
from moto.iam.aws_managed_policies import aws_managed_policies_data


@cache
def _catalogue() -> tuple[tuple[str, Any, Any, str, datetime, datetime], ...]:
    data = json.loads(aws_managed_policies_data)
    return tuple((name, d.get("DefaultVersionId"), d.get("Path"), json.dumps(d.get("Document")),
                  datetime.fromisoformat(d["CreateDate"]), datetime.fromisoformat(d["UpdateDate"]))
                 for name, d in data.items())


def _init_aws_policies(self: Any) -> list[Any]:
    if not iam_models.load_iam_aws_managed_policies():
        return []
    return [iam_models.AWSManagedPolicy(name, account_id=self.account_id, region=self.region_name,
                                        default_version_id=version, path=path, document=document,
                                        create_date=created, update_date=updated)
            for name, version, path, document, created, updated in _catalogue()]


def install() -> None:
    iam_models.IAMBackend._init_aws_policies = _init_aws_policies
