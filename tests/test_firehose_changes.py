"""Issue 13 findings on firehose.DeliveryStream, on the strict sandbox: what AWS ends up with (boto3 reads)."""

from __future__ import annotations

import pytest

from resources.base import ResourceError
from resources.firehose import DeliveryStream
from tests.helpers import count_calls
from tests.test_firehose import _destination, _lake, _opensearch_destination


def _stream(aws, name, **props):
    fh = DeliveryStream(name, **props)
    fh.stack = "analytics"
    ctx = aws.ctx(name, stack="analytics")
    pid, out = fh.create(ctx, dict(fh.properties))
    return fh, ctx, pid, out


def _s3_dest(aws, pid):
    d = aws.client("firehose").describe_delivery_stream(DeliveryStreamName=pid)["DeliveryStreamDescription"]
    return d, d["Destinations"][0].get("ExtendedS3DestinationDescription")


def test_c6_removed_destination_keys_are_reset_and_changes_applied(aws):
    bucket, role, key = _lake(aws)
    processing = {"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}]}
    fh, ctx, pid, out = _stream(aws, "events", ExtendedS3DestinationConfiguration=_destination(
        bucket, role, key, ProcessingConfiguration=processing))
    old = dict(fh.properties)
    dest = dict(old["ExtendedS3DestinationConfiguration"], Prefix="events/v2/")
    for removed in ("EncryptionConfiguration", "ProcessingConfiguration", "BufferingHints"):
        dest.pop(removed)
    new = dict(old, ExtendedS3DestinationConfiguration=dest)
    fh.update(ctx, pid, old, new)
    d, seen = _s3_dest(aws, pid)
    assert d["DeliveryStreamARN"] == out["Arn"]  # the same stream, changed in place
    assert seen["Prefix"] == "events/v2/"
    assert seen["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}  # not the old KMS key
    assert seen["ProcessingConfiguration"]["Enabled"] is False
    assert seen["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}


def test_a8a_s3_backup_configuration_goes_as_s3_backup_update(aws):
    bucket, role, key = _lake(aws)
    backup = {"BucketARN": bucket, "RoleARN": role, "Prefix": "backup/"}
    fh, ctx, pid, out = _stream(aws, "backed", ExtendedS3DestinationConfiguration=_destination(
        bucket, role, key, S3BackupMode="Enabled", S3BackupConfiguration=backup))
    assert fh.read(ctx, pid) == dict(fh.properties)  # Describe's S3BackupDescription read back as declared
    old = dict(fh.properties)
    new = dict(old, ExtendedS3DestinationConfiguration=dict(
        old["ExtendedS3DestinationConfiguration"], S3BackupConfiguration=dict(backup, Prefix="backup/v2/")))
    fh.update(ctx, pid, old, new)  # botocore refused S3BackupConfiguration in ExtendedS3DestinationUpdate
    d, seen = _s3_dest(aws, pid)
    assert d["DeliveryStreamARN"] == out["Arn"] and seen["S3BackupDescription"]["Prefix"] == "backup/v2/"
    # Turning backup off is refused before any call (AWS: "you can't update the delivery stream to disable it").
    off = dict(old, ExtendedS3DestinationConfiguration=dict(old["ExtendedS3DestinationConfiguration"],
                                                            S3BackupMode="Disabled"))
    assert "cannot turn S3 backup off" in fh.refusal(new, off, ["ExtendedS3DestinationConfiguration"])


def test_a6_switching_destination_type_is_refused_before_any_call(aws):
    bucket, role, key = _lake(aws)
    plain = {k: v for k, v in _opensearch_destination(bucket, role).items() if k != "VpcConfiguration"}
    fh, ctx, pid, out = _stream(aws, "logs", ElasticsearchDestinationConfiguration=plain)
    old = dict(fh.properties)
    new = {k: v for k, v in old.items() if k != "ElasticsearchDestinationConfiguration"}
    new["ExtendedS3DestinationConfiguration"] = _destination(bucket, role, key)
    changed = ["ElasticsearchDestinationConfiguration", "ExtendedS3DestinationConfiguration"]
    assert "cannot switch a stream" in fh.refusal(old, new, changed)
    with count_calls() as log, pytest.raises(ResourceError, match="cannot switch a stream"):
        fh.update(aws.ctx("logs", stack="analytics"), pid, old, new)
    assert log.mutating == []
    d = aws.client("firehose").describe_delivery_stream(DeliveryStreamName=pid)["DeliveryStreamDescription"]
    assert "ElasticsearchDestinationDescription" in d["Destinations"][0]  # still the OpenSearch destination


def test_c5_opensearch_vpc_and_backup_mode_changes_are_refused_other_keys_applied(aws):
    bucket, role, _ = _lake(aws)
    plain = {k: v for k, v in _opensearch_destination(bucket, role).items() if k != "VpcConfiguration"}
    fh, ctx, pid, out = _stream(aws, "logs2", ElasticsearchDestinationConfiguration=plain)
    old = dict(fh.properties)
    mode = dict(old, ElasticsearchDestinationConfiguration=dict(plain, S3BackupMode="AllDocuments"))
    assert "S3BackupMode is fixed" in fh.refusal(old, mode, ["ElasticsearchDestinationConfiguration"])
    vpc = dict(old, ElasticsearchDestinationConfiguration=_opensearch_destination(bucket, role))
    assert "VpcConfiguration is fixed" in fh.refusal(old, vpc, ["ElasticsearchDestinationConfiguration"])
    with pytest.raises(ResourceError, match="S3BackupMode is fixed"):
        fh.update(ctx, pid, old, mode)
    # Everything else changes in place; a removed key (RetryOptions) is reset to AWS's default.
    rest = {k: v for k, v in plain.items() if k != "RetryOptions"} | {"IndexName": "app-logs-v2"}
    fh.update(ctx, pid, old, dict(old, ElasticsearchDestinationConfiguration=rest))
    d = aws.client("firehose").describe_delivery_stream(DeliveryStreamName=pid)["DeliveryStreamDescription"]
    seen = d["Destinations"][0]["ElasticsearchDestinationDescription"]
    assert d["DeliveryStreamARN"] == out["Arn"] and seen["IndexName"] == "app-logs-v2"
    assert seen["S3BackupMode"] == "FailedDocumentsOnly" and seen["RetryOptions"] == {"DurationInSeconds": 300}
