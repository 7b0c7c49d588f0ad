"""Firehose extension: MSK as source is kept, described and validated as AWS does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

CLUSTER = "arn:aws:kafka:ap-east-2:123456789012:cluster/genai-demo-dev-kafka/1a2b3c4d-5678-90ab-cdef-1234567890ab-2"
ROLE = "arn:aws:iam::123456789012:role/genai-demo-dev-firehose"
DEST = {"BucketARN": "arn:aws:s3:::lake", "RoleARN": ROLE, "Prefix": "domain-events/"}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def _msk(**over: Any) -> dict[str, Any]:
    # PUBLIC: this cluster ARN names no cluster, and PRIVATE needs a real one set up for it
    # (rule firehose-msk-private, tests/test_strict_msk.py).
    auth = {"RoleARN": ROLE, "Connectivity": "PUBLIC"}
    return {"MSKClusterARN": CLUSTER, "TopicName": "domain-events", "AuthenticationConfiguration": auth, **over}


def check_firehose_msk(client: Callable[[str], Any]) -> None:
    fh = client("firehose")
    fh.create_delivery_stream(DeliveryStreamName="from-msk", DeliveryStreamType="MSKAsSource",
                              MSKSourceConfiguration=_msk(), ExtendedS3DestinationConfiguration=DEST)
    d = fh.describe_delivery_stream(DeliveryStreamName="from-msk")["DeliveryStreamDescription"]
    assert d["DeliveryStreamType"] == "MSKAsSource"
    src = d["Source"]["MSKSourceDescription"]
    assert (src["MSKClusterARN"], src["TopicName"]) == (CLUSTER, "domain-events")
    assert src["AuthenticationConfiguration"] == {"RoleARN": ROLE, "Connectivity": "PUBLIC"}
    assert isinstance(src["DeliveryStartTimestamp"], datetime)
    assert d["Destinations"][0]["ExtendedS3DestinationDescription"]["BucketARN"] == "arn:aws:s3:::lake"

    # A DirectPut stream has no MSK source; re-creating a deleted name starts clean.
    fh.create_delivery_stream(DeliveryStreamName="direct", ExtendedS3DestinationConfiguration=DEST)
    assert "Source" not in fh.describe_delivery_stream(DeliveryStreamName="direct")["DeliveryStreamDescription"]
    fh.delete_delivery_stream(DeliveryStreamName="from-msk")
    with pytest.raises(ClientError) as exc:
        fh.describe_delivery_stream(DeliveryStreamName="from-msk")
    assert code(exc) == "ResourceNotFoundException"
    fh.create_delivery_stream(DeliveryStreamName="from-msk", ExtendedS3DestinationConfiguration=DEST)
    assert "Source" not in fh.describe_delivery_stream(DeliveryStreamName="from-msk")["DeliveryStreamDescription"]

    bad = [
        {"DeliveryStreamType": "MSKAsSource"},  # no source configuration
        {"MSKSourceConfiguration": _msk()},  # a source on a DirectPut stream
        {"DeliveryStreamType": "MSKAsSource", "MSKSourceConfiguration": _msk(MSKClusterARN="arn:aws:s3:::x")},
        {"DeliveryStreamType": "MSKAsSource", "MSKSourceConfiguration": _msk(
            AuthenticationConfiguration={"RoleARN": ROLE, "Connectivity": "SOMETIMES"})},
        {"DeliveryStreamType": "MSKAsSource", "MSKSourceConfiguration": _msk(),
         "DeliveryStreamEncryptionConfigurationInput": {"KeyType": "AWS_OWNED_CMK"}},
    ]
    for i, kw in enumerate(bad):
        with pytest.raises(ClientError) as exc:
            fh.create_delivery_stream(DeliveryStreamName=f"bad-{i}", ExtendedS3DestinationConfiguration=DEST, **kw)
        assert code(exc) == "InvalidArgumentException", kw
    assert sorted(fh.list_delivery_streams()["DeliveryStreamNames"]) == ["direct", "from-msk"]


def test_firehose_msk_in_process(aws):
    check_firehose_msk(aws.client)
