"""Firehose fidelity: MSK as a delivery stream's source.

moto 5.2.5 accepts DeliveryStreamType=MSKAsSource but ignores the
MSKSourceConfiguration parameter altogether: describe reports no Source, so
nothing offline can tell which cluster and topic a stream reads. This keeps
the configuration per stream (per account and region), reports it as
`Source.MSKSourceDescription` (botocore's shape, with the DeliveryStartTimestamp
AWS adds), and checks what AWS checks at create:
- MSKAsSource needs an MSKSourceConfiguration, and only MSKAsSource takes one;
- the cluster is an MSK cluster ARN, Connectivity is PUBLIC or PRIVATE;
- server-side stream encryption is for DirectPut streams only.
Errors are InvalidArgumentException, as AWS answers.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult
from moto.firehose.exceptions import InvalidArgumentException
from moto.firehose.models import FirehoseBackend
from moto.firehose.responses import FirehoseResponse

from sandbox.extensions._base import add_methods, now, store

# AWS: cluster/<name>/<uuid>; moto 5.2.5 makes cluster/<uuid>, so both pass.
_CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster/[^/]+(/[^/]+)?$")


def _sources(backend: FirehoseBackend) -> dict[str, dict[str, Any]]:
    """Stream name -> MSKSourceDescription."""
    return store(backend, "firehose_msk_sources")


def check_request(kind: str | None, msk: dict[str, Any] | None, sse: dict[str, Any] | None) -> None:
    if kind == "MSKAsSource":
        if not msk:
            raise InvalidArgumentException("MSKSourceConfiguration is required for a MSKAsSource delivery stream.")
        missing = [k for k in ("MSKClusterARN", "TopicName", "AuthenticationConfiguration") if not msk.get(k)]
        if missing:
            raise InvalidArgumentException(f"MSKSourceConfiguration is missing {', '.join(missing)}.")
        if not _CLUSTER_ARN.match(msk["MSKClusterARN"]):
            raise InvalidArgumentException(f"MSKClusterARN {msk['MSKClusterARN']} is not an MSK cluster ARN.")
        auth = msk["AuthenticationConfiguration"]
        if not auth.get("RoleARN") or auth.get("Connectivity") not in ("PUBLIC", "PRIVATE"):
            raise InvalidArgumentException("AuthenticationConfiguration needs a RoleARN and Connectivity "
                                           "PUBLIC or PRIVATE.")
        if sse:
            raise InvalidArgumentException("Server-side encryption is not supported for delivery streams "
                                           "with MSKAsSource.")
    elif msk:
        raise InvalidArgumentException("MSKSourceConfiguration is only applicable for MSKAsSource stream type.")


class _Firehose:
    def create_delivery_stream(self: Any) -> Any:
        name, kind = self._get_param("DeliveryStreamName"), self._get_param("DeliveryStreamType")
        msk = self._get_param("MSKSourceConfiguration")
        check_request(kind, msk, self._get_param("DeliveryStreamEncryptionConfigurationInput"))
        result = self._moto_create_delivery_stream()
        sources = _sources(self.firehose_backend)
        sources.pop(name, None)
        if msk:
            sources[name] = {**msk, "DeliveryStartTimestamp": now()}
        return result

    def describe_delivery_stream(self: Any) -> ActionResult:
        name = self._get_param("DeliveryStreamName")
        result = self.firehose_backend.describe_delivery_stream(name)
        msk = _sources(self.firehose_backend).get(name)
        if msk is not None:
            result["DeliveryStreamDescription"]["Source"] = {"MSKSourceDescription": dict(msk)}
        return ActionResult(result)

    def delete_delivery_stream(self: Any) -> Any:
        result = self._moto_delete_delivery_stream()
        _sources(self.firehose_backend).pop(self._get_param("DeliveryStreamName"), None)
        return result


def install() -> None:
    add_methods(FirehoseResponse, *(fn for name, fn in vars(_Firehose).items() if not name.startswith("_")),
                override=True)
