"""One botocore data loader for moto in this process, and its region lists computed once.

moto reads botocore's service models through loaders of its own: `moto.core.utils.create_loader()` makes a
new one per model it loads, and the region list of every backend comes from boto3's
`Session.get_available_regions`, which loads the whole service model (for its endpoint prefix) through
that session's own loader; moto.ec2 builds three new Sessions for it as it is imported. Each service's
model JSON (ec2's alone is several MB) was parsed two to four times: about a second of the server's
start, paid in every `infra sandbox up` and every in-process sandbox. Here moto's loader is one
instance, the region lists come from one session over that same loader, and they are kept (the data
under them does not change while the process runs). Nothing about what moto answers changes.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3.session
import botocore.session
import moto.core.utils as moto_utils
from moto.core.loaders import create_loader


@functools.cache
def _loader() -> Any:
    return create_loader()


@functools.cache
def _session() -> boto3.session.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", _loader())
    return boto3.session.Session(botocore_session=core)


@functools.cache
def _regions(service_name: str, partition_name: str, allow_non_regional: bool) -> tuple[str, ...]:
    original = boto3.session.Session.get_available_regions.__wrapped__  # type: ignore[attr-defined]
    return tuple(original(_session(), service_name, partition_name, allow_non_regional))


def _get_available_regions(self: Any, service_name: str, partition_name: str = "aws",
                           allow_non_regional: bool = False) -> list[str]:
    return list(_regions(service_name, partition_name, allow_non_regional))


def install() -> None:
    """Before moto.ec2 is imported: its module body asks for the region lists."""
    moto_utils.create_loader = _loader  # type: ignore[assignment]
    current = boto3.session.Session.get_available_regions
    if getattr(current, "__wrapped__", None) is None:
        _get_available_regions.__wrapped__ = current  # type: ignore[attr-defined]
        boto3.session.Session.get_available_regions = _get_available_regions  # type: ignore[method-assign]
