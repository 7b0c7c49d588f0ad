"""What a change of each property of each type does, beside CloudFormation's createOnlyProperties.

docs/changes.md is generated from the types' declarations (`python -m resources.changes`; a test fails
when it is stale): for every type and every property, whether a change is made in place (update), by a
new resource (replace) or refused at plan time (refuse), and why (the type's `change_notes`), next to
what CloudFormation does for the same property (its resource provider schema's createOnlyProperties, as
the cfn-lint package ships them). Every difference from CloudFormation carries its reason.

The action comes from the type's data, the same data the planner reads: `refuse_on` -> refuse,
`replace_on` -> replace, any other property -> update (tests/test_changes.py changes each property once
and checks that the planner agrees). A type whose refusal() depends on the values (EKS encryption added
is an update, changed is refused) is described by its note.

CloudFormation's names are mostly the types' own (the types use the API's names, which CloudFormation
shares); where they differ, CFN_NAMES maps a type or property to CloudFormation's, and a property
CloudFormation does not have (a tool-only setting, or one it keeps in another resource type) is shown
as "-" and compared with nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resources.base import REGISTRY, Resource

OUT = Path(__file__).resolve().parents[1] / "docs" / "changes.md"
REGION = "us-east-1"  # the region whose schema list cfn-lint's providers/ folder is read from

# CloudFormation's service part of a type name, by boto3 service.
CFN_SERVICES = {
    "acm": "CertificateManager", "amp": "APS", "athena": "Athena", "cloudwatch": "CloudWatch", "ec2": "EC2",
    "ecr": "ECR", "eks": "EKS", "elasticache": "ElastiCache", "elbv2": "ElasticLoadBalancingV2",
    "events": "Events", "firehose": "KinesisFirehose", "glue": "Glue", "iam": "IAM", "kafka": "MSK", "kms": "KMS",
    "lambda": "Lambda", "logs": "Logs", "opensearch": "OpenSearchService", "quicksight": "QuickSight", "rds": "RDS",
    "route53": "Route53", "s3": "S3", "secretsmanager": "SecretsManager", "sns": "SNS", "ssm": "SSM",
    "wafv2": "WAFv2", "xray": "XRay",
}
# Where CloudFormation names a type differently from AWS::<service>::<class> (None: it has no such type).
CFN_TYPES: dict[str, str | None] = {
    "cloudwatch.MetricAlarm": "AWS::CloudWatch::Alarm",
    "ec2.RouteTableAssociation": "AWS::EC2::SubnetRouteTableAssociation",
    "ec2.SecurityGroupRule": None,  # AWS::EC2::SecurityGroupIngress and ...Egress, one per direction
    "events.Target": None,  # the Targets property of AWS::Events::Rule
    "iam.OpenIDConnectProvider": "AWS::IAM::OIDCProvider",
}
# Where CloudFormation names a property differently: its path in the CloudFormation type ("A/B" for a
# member of an object), or None where it has none.
CFN_NAMES: dict[str, dict[str, str | None]] = {
    "amp.RuleGroupsNamespace": {"workspaceId": "Workspace"},
    "athena.WorkGroup": {"Configuration": "WorkGroupConfiguration"},
    "ec2.InternetGateway": {"VpcId": None},  # AWS::EC2::VPCGatewayAttachment
    "ec2.NetworkAcl": {"SubnetIds": None},  # AWS::EC2::SubnetNetworkAclAssociation
    "ec2.SecurityGroup": {"Description": "GroupDescription", "RevokeDefaultEgress": None},
    "ecr.Repository": {"ScanOnPush": "ImageScanningConfiguration", "RepositoryPolicy": "RepositoryPolicyText"},
    "elasticache.ParameterGroup": {"Parameters": "Properties"},
    "elasticache.ReplicationGroup": {"AuthTokenSecretArn": "AuthToken", "SkipFinalSnapshot": None},
    "elasticache.SubnetGroup": {"CacheSubnetGroupDescription": "Description"},
    "elbv2.LoadBalancer": {"Attributes": "LoadBalancerAttributes"},
    "elbv2.TargetGroup": {"Attributes": "TargetGroupAttributes"},
    "glue.Database": {"Name": "DatabaseName", "Description": "DatabaseInput/Description",
                      "LocationUri": "DatabaseInput/LocationUri", "Parameters": "DatabaseInput/Parameters"},
    "iam.Role": {"InlinePolicies": "Policies"},
    "kafka.Configuration": {"KafkaVersions": "KafkaVersionsList"},
    "kms.Key": {"Policy": "KeyPolicy"},
    "lambda.Function": {"SourceDir": "Code", "CodeSha256": "Code"},
    "lambda.Permission": {"StatementId": None},
    "logs.LogGroup": {"AdoptServiceCreated": None},
    "rds.DBInstance": {"MasterUserSecretKmsKeyId": "MasterUserSecret/KmsKeyId",
                       "VpcSecurityGroupIds": "VPCSecurityGroups", "SkipFinalSnapshot": None},
    "route53.HostedZone": {"Comment": "HostedZoneConfig/Comment"},
    "s3.Bucket": {"Versioning": "VersioningConfiguration", "SSEAlgorithm": "BucketEncryption",
                  "KMSMasterKeyID": "BucketEncryption", "BucketKeyEnabled": "BucketEncryption",
                  "ObjectOwnership": "OwnershipControls", "LifecycleRules": "LifecycleConfiguration",
                  "EventBridgeEnabled": "NotificationConfiguration/EventBridgeConfiguration",
                  "EnforceTLS": None, "PolicyStatements": None},  # the last two: AWS::S3::BucketPolicy
    "secretsmanager.Secret": {"RecoveryWindowInDays": None},
    "sns.Subscription": {"Attributes": None},  # one CloudFormation property per attribute
    "sns.Topic": {"Name": "TopicName"},
    "sns.TopicPolicy": {"TopicArn": "Topics"},
    "ssm.Parameter": {"KeyId": None},  # CloudFormation cannot make a SecureString
    "xray.SamplingRule": {k: f"SamplingRule/{k}" for k in (
        "RuleName", "Priority", "FixedRate", "ReservoirSize", "ResourceARN", "ServiceName", "ServiceType", "Host",
        "HTTPMethod", "URLPath", "Version", "Attributes")},
}


@dataclass(frozen=True)
class Row:
    type_name: str
    prop: str
    action: str  # update | replace | refuse
    cfn: str  # replace | update | "replace for A/B, ..." (some members createOnly) | "-" (no such property)
    note: str

    @property
    def differs(self) -> bool:
        """CloudFormation would do otherwise (a partly createOnly property always differs in part)."""
        if self.cfn == "-":
            return False
        return self.cfn != self.action


def action(cls: type[Resource], prop: str) -> str:
    """What a change of `prop` does, from the type's data (the planner reads the same)."""
    if prop in cls.refuse_on:
        return "refuse"
    if prop in cls.replace_on:
        return "replace"
    return "update"


def cfn_type(type_name: str) -> str | None:
    if type_name in CFN_TYPES:
        return CFN_TYPES[type_name]
    service, name = type_name.split(".", 1)
    return f"AWS::{CFN_SERVICES.get(service, service)}::{name}"


def schema_root() -> Path:
    import cfnlint  # noqa: PLC0415 - a dev dependency, needed only to generate and check docs/changes.md

    return Path(cfnlint.__file__).resolve().parent / "data" / "schemas"


def cfn_lint_version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("cfn-lint")


def schema_index(root: Path) -> dict[str, str]:
    """CloudFormation type -> schema file id, from cfn-lint's providers/ folder: a JSON index
    (providers/us-east-1.json, cfn-lint 1.5x from about 1.53) or a Python module with a `types` dict
    (providers/us_east_1.py, cfn-lint 1.51)."""
    index = root / "providers" / f"{REGION}.json"
    if index.exists():
        return dict(json.loads(index.read_text()))
    module = root / "providers" / f"{REGION.replace('-', '_')}.py"
    space: dict[str, Any] = {}
    exec(compile(module.read_text(), str(module), "exec"), space)  # noqa: S102 - cfn-lint's own data module
    return dict(space["types"])


def load_schemas(names: Iterable[str], root: Path | None = None) -> dict[str, dict[str, Any]]:
    """CloudFormation type -> its resource provider schema, as the cfn-lint package ships them
    (the providers/ index maps a type to a schema file in resources/). cfn-lint is a test dependency
    (the dev extra): only generating and checking docs/changes.md needs it."""
    root = schema_root() if root is None else root
    index = schema_index(root)
    by_lower = {k.lower(): k for k in index}
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        real = by_lower.get(name.lower())
        if real is not None:
            out[name] = json.loads((root / "resources" / f"{index[real]}.json").read_text())
    return out


def cfn_behaviour(schema: Mapping[str, Any] | None, path: str | None) -> str:
    """What CloudFormation does when the property at `path` changes: replace, update, "replace for ..."
    (some members createOnly), or "-" (no such type or property)."""
    if schema is None or path is None:
        return "-"
    top = path.split("/", 1)[0]
    props = {k.lower(): k for k in schema.get("properties", {})}
    if top.lower() not in props:
        return "-"
    path = "/".join([props[top.lower()], *path.split("/")[1:]])
    create_only = [p.removeprefix("/properties/") for p in schema.get("createOnlyProperties", [])]
    parts = path.split("/")
    if any("/".join(parts[:i]) in create_only for i in range(1, len(parts) + 1)):
        return "replace"
    inner = sorted(p[len(path) + 1:] for p in create_only if p.startswith(path + "/"))
    return f"replace for {', '.join(inner)}" if inner else "update"


def rows(schemas: Mapping[str, Mapping[str, Any]] | None = None) -> list[Row]:
    """One row per (type, property), every type this package defines (not one a test or a user's plan
    registers in the same process: the table would then depend on what else was imported)."""
    import resources  # noqa: F401 - importing the package registers every type

    types = sorted((n, c) for n, c in REGISTRY.items() if c.__module__.startswith("resources."))
    if schemas is None:
        schemas = load_schemas(t for t in (cfn_type(n) for n, _ in types) if t)
    out: list[Row] = []
    for name, cls in types:
        ct = cfn_type(name)
        schema = schemas.get(ct) if ct else None
        names = CFN_NAMES.get(name, {})
        for prop in cls.props:
            path = names.get(prop, prop) if prop in names else prop
            out.append(Row(name, prop, action(cls, prop), cfn_behaviour(schema, path), cls.change_notes.get(prop, "")))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(table: list[Row] | None = None) -> str:
    table = rows() if table is None else table
    lines = [
        "# What a change does",
        "",
        "Generated by `python -m resources.changes` from the resource types' declarations (`replace_on`,",
        "`refuse_on`, `change_notes` in resources/) and CloudFormation's resource provider schemas as the",
        f"cfn-lint package ships them (cfn-lint {cfn_lint_version()}); a test fails when this file is stale,",
        "and another changes every property once and checks that the planner does what this table says.",
        "",
        "- **update**: changed in place, the resource keeps its id and ARN.",
        "- **replace**: a new resource is made and the old one deleted (a stateful type's replacement",
        "  destroys data and needs `--replace ADDR`).",
        "- **refuse**: AWS cannot change it in place and a replacement would not be safe: the plan stops",
        "  with the reason, before any call (`--replace ADDR` replaces on purpose).",
        "- CloudFormation: what a change of the same property does in CloudFormation (replace when the",
        "  schema lists it in createOnlyProperties, \"replace for X\" when only members X are; \"-\": no such",
        "  property or type there).",
        "",
        "## Differences from CloudFormation",
        "",
        "| type | property | here | CloudFormation | why |",
        "|---|---|---|---|---|",
    ]
    for r in table:
        if r.differs:
            why = r.note or "**no reason given** (the type declares no change_notes entry for it)"
            lines.append(f"| `{r.type_name}` | `{r.prop}` | {r.action} | {_cell(r.cfn)} | {_cell(why)} |")
    lines += ["", "## Every property"]
    current = ""
    for r in table:
        if r.type_name != current:
            current = r.type_name
            ct = cfn_type(current) or "-"
            lines += ["", f"### `{current}`", "", f"CloudFormation: `{ct}`", "",
                      "| property | a change | CloudFormation | why |", "|---|---|---|---|"]
        lines.append(f"| `{r.prop}` | {r.action} | {_cell(r.cfn)} | {_cell(r.note)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = markdown()
    if args == ["--check"]:
        return 0 if OUT.exists() and OUT.read_text() == text else 1
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
