"""Kinesis Data Firehose: MSK (or direct put) into the S3 data lake, or logs into OpenSearch.

A stream's source never changes after create (type and MSK source force a
replacement); its S3 destination changes in place with UpdateDestination,
which AWS guards with optimistic concurrency: the call names the stream's
current VersionId and the DestinationId, both read just before.

moto 5.2.5 accepts DeliveryStreamType=MSKAsSource but drops the
MSKSourceConfiguration (describe reports no Source); the sandbox extension
sandbox/extensions/firehose_msk.py keeps and describes it. read() reports
whatever AWS says: a source it does not report is not taken for drift.

The OpenSearch destination uses the API's ElasticsearchDestinationConfiguration:
its DomainARN takes an OpenSearch Service domain (arn:aws:es:...), and moto
5.2.5 knows it while AmazonopensearchserviceDestinationConfiguration is
unknown there (reference/moto-gaps.md). A domain inside a VPC needs
VpcConfiguration (subnets, security groups and a role Firehose uses to make
its network interfaces).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import PlanError, Retry, on_write
from resources.base import Ctx, P, Resource, ResourceError, one_of, shaped, tag_dict, tag_list

_EXPRESSION = re.compile(r"!\{[^}]+\}")
_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,64}$")


_TF_STREAM = ("terraform-provider-aws internal/service/firehose/delivery_stream.go retryDeliveryStreamOp, around "
              "CreateDeliveryStream and UpdateDestination (propagationTimeout: 2 min)")
# What Firehose answers while a role named by the stream (every RoleARN of its source and destinations)
# has not propagated: all InvalidArgumentException, the code Firehose also gives for a plainly invalid
# request, so only these messages are retried.
STREAM_RETRIES: tuple[Retry, ...] = tuple(
    on_write("InvalidArgumentException", message, 120, _TF_STREAM) for message in (
        "Firehose is unable to assume role",
        "is not authorized to",
        "Access was denied",  # the data-format conversion role calling Glue
        "Please make sure the role specified in VpcConfiguration has permissions",
        "Verify that the IAM role has access",  # to the OpenSearch domain
    ))


class FirehoseResource(Resource):
    service = "firehose"
    not_found = ("ResourceNotFoundException",)


class DeliveryStream(FirehoseResource):
    """A delivery stream into S3 with an extended S3 destination (prefixes, buffering, GZIP, KMS).

    The physical id is the stream name (every call takes it), deterministic
    so find() can adopt a stream whose create was never recorded.
    """

    type_name = "firehose.DeliveryStream"
    created_wait = ("DeliveryStreamActive", "DeliveryStreamName")
    retries = STREAM_RETRIES
    label = "delivery stream"
    arn_kind = ("firehose", "deliverystream")
    props = {
        "DeliveryStreamName": P(str, validator=lambda v: None if _NAME.match(v) else
                                "must be 1-64 letters, digits, '.', '_' or '-'"),
        "DeliveryStreamType": P(str, default="DirectPut", validator=one_of("DirectPut", "MSKAsSource")),
        "MSKSourceConfiguration": P(dict, doc="MSKClusterARN, TopicName, AuthenticationConfiguration"),
        "ExtendedS3DestinationConfiguration": P(dict, doc="S3 destination; or ElasticsearchDestinationConfiguration"),
        "ElasticsearchDestinationConfiguration": P(dict, doc="OpenSearch domain destination (DomainARN, IndexName, "
                                                   "RoleARN, S3Configuration for failed documents, VpcConfiguration)"),
        "DeliveryStreamEncryptionConfigurationInput": P(dict, doc="server-side encryption, DirectPut only"),
    }
    replace_on = frozenset({"DeliveryStreamName", "DeliveryStreamType", "MSKSourceConfiguration"})
    change_notes = {
        "ExtendedS3DestinationConfiguration": "in place with UpdateDestination (S3BackupConfiguration goes as "
                                              "S3BackupUpdate); a key removed from the plan is reset to AWS's "
                                              "default, since UpdateDestination merges and keeps what it is not "
                                              "sent. Refused: turning S3 backup off, and turning dynamic "
                                              "partitioning on or off (AWS allows neither on an existing stream); "
                                              "switching to an OpenSearch destination (UpdateDestination refuses it)",
        "ElasticsearchDestinationConfiguration": "in place with UpdateDestination, removed keys reset; "
                                                 "CloudFormation replaces the stream for a VpcConfiguration "
                                                 "change, here a VpcConfiguration or S3BackupMode change (not "
                                                 "members of ElasticsearchDestinationUpdate) and a switch to "
                                                 "another destination type are refused: the stream's "
                                                 "producers would lose records while it is re-created "
                                                 "(--replace ADDR does it on purpose)",
        "DeliveryStreamEncryptionConfigurationInput": "in place: Start/StopDeliveryStreamEncryption",
    }
    outputs = ("DeliveryStreamName", "Arn")
    # What a destination key removed from the plan is set back to: UpdateDestination merges into the
    # destination and keeps every value it is not sent (botocore UpdateDestination), so leaving a key out
    # would leave it on AWS. The values are AWS's defaults, as terraform-provider-aws firehose/
    # delivery_stream.go expandExtendedS3DestinationUpdate / expandElasticsearchUpdate send them.
    RESETS = {
        "ExtendedS3DestinationConfiguration": {
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
            "CloudWatchLoggingOptions": {"Enabled": False},
            "CompressionFormat": "UNCOMPRESSED",
            "CustomTimeZone": "UTC",
            "DataFormatConversionConfiguration": {"Enabled": False},
            "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
            "ErrorOutputPrefix": "",
            "FileExtension": "",
            "Prefix": "",
            "ProcessingConfiguration": {"Enabled": False},
        },
        "ElasticsearchDestinationConfiguration": {
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
            "CloudWatchLoggingOptions": {"Enabled": False},
            "DocumentIdOptions": {"DefaultDocumentIdFormat": "FIREHOSE_DEFAULT"},
            "IndexRotationPeriod": "OneDay",
            "ProcessingConfiguration": {"Enabled": False},
            "RetryOptions": {"DurationInSeconds": 300},
            "TypeName": "",
        },
    }
    # Destination property -> (its Describe key, its UpdateDestination parameter).
    destinations = {
        "ExtendedS3DestinationConfiguration": ("ExtendedS3DestinationDescription", "ExtendedS3DestinationUpdate"),
        "ElasticsearchDestinationConfiguration": ("ElasticsearchDestinationDescription",
                                                  "ElasticsearchDestinationUpdate"),
    }
    timeouts = {"create": 1200, "update": 1200, "delete": 1200}
    failed_states = frozenset({"CREATING_FAILED"})
    creating_states = frozenset({"CREATING"})

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        kind, msk = props["DeliveryStreamType"], props.get("MSKSourceConfiguration")
        if kind == "MSKAsSource":
            if not isinstance(msk, dict):
                raise PlanError(f"{where}: DeliveryStreamType MSKAsSource needs MSKSourceConfiguration")
            missing = [k for k in ("MSKClusterARN", "TopicName", "AuthenticationConfiguration") if k not in msk]
            if missing:
                raise PlanError(f"{where}: MSKSourceConfiguration lacks {', '.join(missing)}")
            auth = msk["AuthenticationConfiguration"]
            if isinstance(auth, dict) and (not auth.get("RoleARN") or auth.get("Connectivity") not in
                                           ("PRIVATE", "PUBLIC")):
                raise PlanError(f"{where}: MSKSourceConfiguration.AuthenticationConfiguration needs RoleARN "
                                "and Connectivity PRIVATE or PUBLIC")
            if props.get("DeliveryStreamEncryptionConfigurationInput"):
                raise PlanError(f"{where}: server-side encryption applies to DirectPut streams only; "
                                "encrypt the S3 destination with EncryptionConfiguration instead")
        elif msk is not None:
            raise PlanError(f"{where}: MSKSourceConfiguration needs DeliveryStreamType MSKAsSource")
        given = [k for k in self.destinations if props.get(k) is not None]
        if len(given) != 1:
            raise PlanError(f"{where}: give exactly one destination: {' or '.join(self.destinations)}")
        if given[0] == "ElasticsearchDestinationConfiguration":
            self._validate_opensearch(where, props[given[0]])
            return
        dest = props["ExtendedS3DestinationConfiguration"]
        missing = [k for k in ("BucketARN", "RoleARN") if k not in dest]
        if missing:
            raise PlanError(f"{where}: ExtendedS3DestinationConfiguration lacks {', '.join(missing)}")
        prefix = dest.get("Prefix")
        if isinstance(prefix, str) and _EXPRESSION.search(prefix) and not dest.get("ErrorOutputPrefix"):
            raise PlanError(f"{where}: a Prefix with !{{...}} expressions needs an ErrorOutputPrefix (AWS rule)")
        fmt = dest.get("CompressionFormat")
        if fmt is not None and fmt not in ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"):
            raise PlanError(f"{where}: CompressionFormat {fmt!r} is not one AWS knows")

    @staticmethod
    def _validate_opensearch(where: str, dest: dict[str, Any]) -> None:
        missing = [k for k in ("RoleARN", "IndexName", "S3Configuration") if k not in dest]
        if "DomainARN" not in dest and "ClusterEndpoint" not in dest:
            missing.append("DomainARN")
        if missing:
            raise PlanError(f"{where}: ElasticsearchDestinationConfiguration lacks {', '.join(missing)}")
        s3 = dest["S3Configuration"]
        if isinstance(s3, dict) and not {"BucketARN", "RoleARN"} <= set(s3):
            raise PlanError(f"{where}: ElasticsearchDestinationConfiguration.S3Configuration needs BucketARN and "
                            "RoleARN (where documents OpenSearch refused are kept)")
        mode = dest.get("S3BackupMode")
        if mode is not None and mode not in ("FailedDocumentsOnly", "AllDocuments"):
            raise PlanError(f"{where}: S3BackupMode must be FailedDocumentsOnly or AllDocuments")
        rotation = dest.get("IndexRotationPeriod")
        if rotation is not None and rotation not in ("NoRotation", "OneHour", "OneDay", "OneWeek", "OneMonth"):
            raise PlanError(f"{where}: IndexRotationPeriod {rotation!r} is not one AWS knows")

    # -- helpers -------------------------------------------------------------------

    def destination_key(self, props: Mapping[str, Any] | None = None) -> str:
        props = props if props is not None else self.properties
        return next((k for k in self.destinations if props.get(k) is not None), "ExtendedS3DestinationConfiguration")

    @staticmethod
    def _opensearch_as_declared(desc: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any] | None:
        """The OpenSearch destination's description in the shape of its configuration.

        Describe renames S3Configuration to S3DestinationDescription and
        VpcConfiguration to VpcConfigurationDescription (adding VpcId). moto
        5.2.5 does not echo the VPC configuration at all: then None, and
        read() reports nothing for the destination rather than a difference
        AWS never showed (the declared value may still hold Refs here).
        """
        d = dict(desc)
        if "S3DestinationDescription" in d:
            d["S3Configuration"] = d.pop("S3DestinationDescription")
        if "VpcConfigurationDescription" in d:
            d["VpcConfiguration"] = d.pop("VpcConfigurationDescription")
        elif "VpcConfiguration" in declared:
            return None
        return shaped(d, declared)

    @classmethod
    def update_body(cls, key: str, old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
        """The UpdateDestination member for destination `key`: the create shape renamed where the update
        shape differs (S3Configuration -> S3Update, S3BackupConfiguration -> S3BackupUpdate), without the
        members fixed at create (an OpenSearch destination's VpcConfiguration and S3BackupMode: refusal()
        stops a change of them), and every key the plan no longer declares reset to AWS's default."""
        fixed = ("VpcConfiguration", "S3BackupMode") if key == "ElasticsearchDestinationConfiguration" else ()
        renamed = {"S3Configuration": "S3Update", "S3BackupConfiguration": "S3BackupUpdate"}
        out = {renamed.get(k, k): v for k, v in new.items() if k not in fixed}
        for k, default in cls.RESETS.get(key, {}).items():
            if k in (old or {}) and k not in new:
                out[k] = default
        return out

    def stream_name(self, ctx: Ctx, props: Mapping[str, Any] | None = None) -> str:
        name = (props or self.properties).get("DeliveryStreamName")
        return name if isinstance(name, str) else ctx.physical_name(max_len=64)

    def _describe(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        d = self.ignore_gone(ctx.client("firehose").describe_delivery_stream, DeliveryStreamName=name)
        if d is None:
            return None
        d = d["DeliveryStreamDescription"]
        return None if d.get("DeliveryStreamStatus") in ("DELETING", "DELETING_FAILED") else d

    @staticmethod
    def _outputs(d: Mapping[str, Any]) -> dict[str, Any]:
        return {"DeliveryStreamName": d["DeliveryStreamName"], "Arn": d["DeliveryStreamARN"]}

    # -- contract -------------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self.stream_name(ctx, props)
        params: dict[str, Any] = {
            "DeliveryStreamName": name,
            "DeliveryStreamType": props["DeliveryStreamType"],
            "Tags": tag_list(ctx.tags),
        }
        key = self.destination_key(props)
        params[key] = props[key]
        for key in ("MSKSourceConfiguration", "DeliveryStreamEncryptionConfigurationInput"):
            if props.get(key):
                params[key] = props[key]
        ctx.client("firehose").create_delivery_stream(**params)
        self.wait_created(ctx, name)
        return name, self.outputs_of(ctx, name)

    def state(self, ctx: Ctx, physical_id: str) -> tuple[str, str] | None:
        d = self._describe(ctx, physical_id)
        if d is None:
            return None
        why = d.get("FailureDescription") or {}
        return d.get("DeliveryStreamStatus", ""), ": ".join(x for x in (why.get("Type"), why.get("Details")) if x)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        d = self._describe(ctx, physical_id)
        return self._outputs(d) if d else {}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        d = self._describe(ctx, physical_id)
        if d is None:
            return None
        declared = self.properties
        out: dict[str, Any] = {"DeliveryStreamType": d.get("DeliveryStreamType", "DirectPut")}
        if "DeliveryStreamName" in declared:
            out["DeliveryStreamName"] = d["DeliveryStreamName"]
        msk = (d.get("Source") or {}).get("MSKSourceDescription")
        if msk is not None:
            out["MSKSourceConfiguration"] = shaped(msk, declared.get("MSKSourceConfiguration") or msk)
        key = self.destination_key(declared)
        described = self.destinations[key][0]
        dest = next((x[described] for x in d.get("Destinations", ()) if described in x), None)
        if dest is not None and key == "ElasticsearchDestinationConfiguration":
            seen = self._opensearch_as_declared(dest, declared[key])
            if seen is not None:
                out[key] = seen
        elif dest is not None:
            dest = dict(dest)
            if "S3BackupDescription" in dest:  # Describe's name for S3BackupConfiguration
                dest["S3BackupConfiguration"] = dest.pop("S3BackupDescription")
            out[key] = shaped(dest, declared[key])
        sse = d.get("DeliveryStreamEncryptionConfiguration")
        if sse and sse.get("Status", "ENABLED") in ("ENABLED", "ENABLING") and \
                "DeliveryStreamEncryptionConfigurationInput" in declared:
            out["DeliveryStreamEncryptionConfigurationInput"] = shaped(
                sse, declared["DeliveryStreamEncryptionConfigurationInput"])
        return out

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        """What UpdateDestination cannot do to an existing stream (AWS API reference, UpdateDestination and
        CreateDeliveryStream): switch to or from OpenSearch, change an OpenSearch destination's
        VpcConfiguration or S3BackupMode, turn S3 backup off, turn dynamic partitioning on or off."""
        where = f"{self.type_name} {self.address}"
        have, want = self.destination_key(old), self.destination_key(new)
        if not any(old.get(k) is not None for k in self.destinations):
            return super().refusal(old, new, changed)
        if have != want:
            return (f"{where}: Firehose cannot switch a stream from {have} to {want} (\"Switching between "
                    "Amazon OpenSearch Service and other services is not supported\"); replacing the stream "
                    "loses the records its producers send meanwhile: pass --replace ADDR to do it on purpose")
        a, b = old.get(have) or {}, new.get(want) or {}
        if have == "ElasticsearchDestinationConfiguration":
            for k in ("VpcConfiguration", "S3BackupMode"):
                if a.get(k) != b.get(k):
                    return (f"{where}: {have}.{k} is fixed when the stream is created (it is not a member of "
                            "ElasticsearchDestinationUpdate); pass --replace ADDR to re-create the stream")
        else:
            if a.get("S3BackupMode") == "Enabled" and b.get("S3BackupMode", "Disabled") != "Enabled":
                return (f"{where}: Firehose cannot turn S3 backup off once it is on (\"If backup is enabled, "
                        "you can't update the delivery stream to disable it\"); pass --replace ADDR to re-create")
            on = [bool((x.get("DynamicPartitioningConfiguration") or {}).get("Enabled")) for x in (a, b)]
            if on[0] != on[1]:
                return (f"{where}: dynamic partitioning is chosen when the stream is created; AWS cannot turn it "
                        "on or off for an existing stream; pass --replace ADDR to re-create it")
        return super().refusal(old, new, changed)

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        client = ctx.client("firehose")
        key = self.destination_key(new)
        why = self.refusal(old, new, [k for k in new if old.get(k) != new.get(k)])
        if why:
            raise ResourceError(why)
        if new[key] != old.get(key):
            d = self._describe(ctx, physical_id) or {}
            update = self.update_body(key, old.get(key), new[key])
            client.update_destination(
                DeliveryStreamName=physical_id,
                CurrentDeliveryStreamVersionId=d["VersionId"],
                DestinationId=d["Destinations"][0]["DestinationId"],
                **{self.destinations[key][1]: update})
        sse_key = "DeliveryStreamEncryptionConfigurationInput"
        if new.get(sse_key) != old.get(sse_key):
            if new.get(sse_key):
                client.start_delivery_stream_encryption(DeliveryStreamName=physical_id,
                                                        DeliveryStreamEncryptionConfigurationInput=new[sse_key])
            else:
                client.stop_delivery_stream_encryption(DeliveryStreamName=physical_id)
        ctx.wait("firehose", "DeliveryStreamActive", timeout_key="update", DeliveryStreamName=physical_id)
        client.tag_delivery_stream(DeliveryStreamName=physical_id, Tags=tag_list(ctx.tags))
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        if self.ignore_gone(ctx.client("firehose").delete_delivery_stream, DeliveryStreamName=physical_id) is None:
            return
        ctx.wait("firehose", "DeliveryStreamDeleted", timeout_key="delete", DeliveryStreamName=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        name = self.stream_name(ctx)
        d = self._describe(ctx, name)
        if d is None:
            return None
        tags = tag_dict(ctx.client("firehose").list_tags_for_delivery_stream(DeliveryStreamName=name)["Tags"])
        if tags.get("infra:address") not in (None, ctx.address):
            return None  # same name, another owner: never adopt
        return name, self._outputs(d)
