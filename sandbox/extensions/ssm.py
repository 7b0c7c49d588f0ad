"""SSM public parameters that EKS node groups and launch templates look up.

moto ships /aws/service/ami-amazon-linux-latest/* and ECS AMIs but no EKS
optimized-AMI or Bottlerocket parameters, so `ssm.get_parameter` for
`/aws/service/eks/optimized-ami/<ver>/amazon-linux-2/recommended/image_id`
(and the arm64 / AL2023 / GPU variants) raised ParameterNotFound. They load
lazily, like moto's own public trees, and point at AMIs moto's EC2 knows
(Amazon Linux x86_64 and arm64), so describe_images on them works too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.core.utils import utcnow
from moto.ssm.models import Parameter, ParameterDict

from sandbox import lifecycle

VERSIONS = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34")
AMI = {"x86_64": "ami-04681a1dbd79675a5", "arm64": "ami-0e9271c829888680e"}
RELEASE = "20250101"

# path under /aws/service/eks/optimized-ami/<ver>/ -> (architecture, image name pattern)
_EKS_FLAVOURS = {
    "amazon-linux-2": ("x86_64", "amazon-eks-node-{v}-v{r}"),
    "amazon-linux-2-arm64": ("arm64", "amazon-eks-arm64-node-{v}-v{r}"),
    "amazon-linux-2-gpu": ("x86_64", "amazon-eks-gpu-node-{v}-v{r}"),
    "amazon-linux-2023/x86_64/standard": ("x86_64", "amazon-eks-node-al2023-x86_64-standard-{v}-v{r}"),
    "amazon-linux-2023/arm64/standard": ("arm64", "amazon-eks-node-al2023-arm64-standard-{v}-v{r}"),
    "amazon-linux-2023/x86_64/nvidia": ("x86_64", "amazon-eks-node-al2023-x86_64-nvidia-{v}-v{r}"),
}


def public_parameters() -> dict[str, tuple[str, str]]:
    """Every EKS/Bottlerocket public parameter: name -> (value, data type)."""
    out: dict[str, tuple[str, str]] = {}
    for v in VERSIONS:
        for flavour, (arch, pattern) in _EKS_FLAVOURS.items():
            base = f"/aws/service/eks/optimized-ami/{v}/{flavour}/recommended"
            name = pattern.format(v=v, r=RELEASE)
            release = f"{v}.0-{RELEASE}"
            out[f"{base}/image_id"] = (AMI[arch], "aws:ec2:image")
            out[f"{base}/image_name"] = (name, "text")
            out[f"{base}/release_version"] = (release, "text")
            out[base] = (json.dumps({"image_id": AMI[arch], "image_name": name, "release_version": release,
                                     "schema_version": "3"}), "text")
        for arch in ("x86_64", "arm64"):
            base = f"/aws/service/bottlerocket/aws-k8s-{v}/{arch}/latest"
            out[f"{base}/image_id"] = (AMI[arch], "aws:ec2:image")
            out[f"{base}/image_version"] = ("1.30.0-1a2b3c4d", "text")
    return out


def _load(params: ParameterDict) -> None:
    now = utcnow()
    for name, (value, data_type) in public_parameters().items():
        if dict.__contains__(params, name):
            continue
        dict.__setitem__(params, name, [Parameter(account_id=params.account_id, name=name, value=value,
                                                  parameter_type="String", description=None, allowed_pattern=None,
                                                  keyid=None, last_modified_date=now, version=1,
                                                  data_type=data_type)])


def _check_loading_status(self: ParameterDict, original: Callable[..., Any], key: str) -> None:
    original(self, key)
    key = str(key or "")
    if (key.startswith("/aws/service/eks") or key.startswith("/aws/service/bottlerocket")) \
            and not getattr(self, "_sandbox_eks_loaded", False):
        _load(self)
        self._sandbox_eks_loaded = True


def install() -> None:
    lifecycle.wrap(ParameterDict, "_check_loading_status")(_check_loading_status)
