"""Elastic Load Balancing v2: the internet-facing ALB, its target groups,
listeners and listener rules.

Load balancers and target groups have account-unique names, so find() looks
them up by their deterministic name and confirms ownership by tag.
Listeners and rules have no name: find() walks the load balancers' listeners
(and their rules) and matches the `infra:address` tag with DescribeTags.

AWS reports actions and conditions in a fuller form than one declares them
(a forward to one target group comes back as a weighted ForwardConfig too,
a redirect with every `#{...}` placeholder spelled out, path patterns both as
Values and as PathPatternConfig). Declarations and reads both go through the
same canonical form so the planner compares like with like.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from botocore import xform_name

from core.errors import PlanError, Retry
from resources.base import (
    Ctx,
    Durations,
    P,
    Resource,
    int_range,
    one_of,
    owned_by,
    tag_changes,
    tag_dict,
    tag_list,
)

TLS13_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
_NAME = re.compile(r"^(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
_TAG_BATCH = 20  # DescribeTags accepts at most 20 ARNs


def elb_name(value: Any) -> str | None:
    if not isinstance(value, str) or not _NAME.match(value):
        return ("must be 1-32 letters, digits or hyphens, not starting or ending with a hyphen "
                "nor starting with 'internal-'")
    return None


def attr_value(value: Any) -> Any:
    """ELB attributes are strings on the wire; accept bools and ints in plans. A reference (the
    access-log bucket's name) stays one until apply resolves it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return value


# --------------------------------------------------------------------------- canonical forms

ACTION_TYPES = ("forward", "redirect", "fixed-response", "authenticate-oidc", "authenticate-cognito")
REDIRECT_DEFAULTS = {"Protocol": "#{protocol}", "Port": "#{port}", "Host": "#{host}", "Path": "/#{path}",
                     "Query": "#{query}"}
CONDITION_CONFIG = {
    "path-pattern": "PathPatternConfig",
    "host-header": "HostHeaderConfig",
    "http-header": "HttpHeaderConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "query-string": "QueryStringConfig",
    "source-ip": "SourceIpConfig",
}


def _prune(value: Any) -> Any:
    """Drop None and empty containers, recursively: AWS omits what one did not set."""
    if isinstance(value, Mapping):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def canon_actions(actions: list[Any]) -> list[dict[str, Any]]:
    out = []
    for a in sorted(actions, key=lambda a: a.get("Order", 0) if isinstance(a.get("Order"), int) else 0):
        a = _prune(dict(a))
        if len(actions) == 1:
            a.pop("Order", None)
        if a.get("Type") == "forward" and "ForwardConfig" in a:
            fc = dict(a.pop("ForwardConfig"))
            groups = [dict(g, Weight=g.get("Weight", 1)) for g in fc.get("TargetGroups", [])]
            sticky = fc.get("TargetGroupStickinessConfig", {"Enabled": False})
            if len(groups) == 1 and not sticky.get("Enabled"):
                a["TargetGroupArn"] = groups[0]["TargetGroupArn"]
            else:
                a.pop("TargetGroupArn", None)
                a["ForwardConfig"] = {"TargetGroups": groups, "TargetGroupStickinessConfig": sticky}
        if a.get("Type") == "redirect" and "RedirectConfig" in a:
            a["RedirectConfig"] = {k: v for k, v in a["RedirectConfig"].items() if REDIRECT_DEFAULTS.get(k) != v}
        out.append(a)
    return out


def canon_conditions(conditions: list[Any]) -> list[dict[str, Any]]:
    out = []
    for c in conditions:
        c = _prune(dict(c))
        field_ = c.get("Field")
        key = CONDITION_CONFIG.get(field_)
        if key is None:
            out.append(c)
            continue
        cfg = dict(c.get(key) or {})
        if "Values" in c and not cfg.get("Values"):
            cfg["Values"] = list(c["Values"])
        out.append({"Field": field_, key: cfg})
    return out


def check_actions(where: str, actions: Any) -> None:
    if not isinstance(actions, list) or not actions:
        raise PlanError(f"{where}: at least one action is required")
    for i, a in enumerate(actions):
        if not isinstance(a, Mapping) or a.get("Type") not in ACTION_TYPES:
            raise PlanError(f"{where}: action {i} needs Type, one of {', '.join(ACTION_TYPES)}")
        t = a["Type"]
        if t == "forward" and not (a.get("TargetGroupArn") or a.get("ForwardConfig")):
            raise PlanError(f"{where}: forward action {i} needs TargetGroupArn or ForwardConfig")
        if t == "redirect" and (a.get("RedirectConfig") or {}).get("StatusCode") not in ("HTTP_301", "HTTP_302"):
            raise PlanError(f"{where}: redirect action {i} needs RedirectConfig.StatusCode HTTP_301 or HTTP_302")
        if t == "fixed-response" and not re.match(r"^[245]\d\d$", str((a.get("FixedResponseConfig") or {})
                                                                     .get("StatusCode", ""))):
            raise PlanError(f"{where}: fixed-response action {i} needs a 2xx/4xx/5xx FixedResponseConfig.StatusCode")


# --------------------------------------------------------------------------- shared base


class ElbResource(Resource):
    """ELBv2 types share ARN identity, DescribeTags ownership and tag reconciliation."""

    service = "elbv2"
    not_found = ("LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound", "RuleNotFound")
    kind: ClassVar[str] = ""  # the noun in the API's calls and fields: Describe<kind>s, <kind>Arn...
    arn_key: ClassVar[str] = ""  # output naming the ARN, also the physical id

    @staticmethod
    def tags_of(ctx: Ctx, arns: Iterable[str]) -> dict[str, dict[str, str]]:
        elb, arns = ctx.client("elbv2"), list(arns)
        out: dict[str, dict[str, str]] = {}
        for i in range(0, len(arns), _TAG_BATCH):
            for d in elb.describe_tags(ResourceArns=arns[i:i + _TAG_BATCH])["TagDescriptions"]:
                out[d["ResourceArn"]] = tag_dict(d.get("Tags"))
        return out

    def first_owned(self, ctx: Ctx, arns: Iterable[str]) -> str | None:
        return next((arn for arn, tags in self.tags_of(ctx, arns).items()
                     if owned_by(tags, ctx) and arn not in ctx.old_copies), None)

    def sync_tags(self, ctx: Ctx, arn: str) -> None:
        elb = ctx.client("elbv2")
        stale, changed = tag_changes(self.tags_of(ctx, [arn]).get(arn, {}), ctx.tags)
        if stale:
            elb.remove_tags(ResourceArns=[arn], TagKeys=stale)
        if changed:
            elb.add_tags(ResourceArns=[arn], Tags=tag_list(changed))

    def describe(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        """This kind's description by ARN (Describe<kind>s), None when it is gone."""
        op = getattr(ctx.client("elbv2"), xform_name(f"Describe{self.kind}s"))
        resp = self.ignore_gone(op, **{f"{self.arn_key}s": [arn]})
        return resp[f"{self.kind}s"][0] if resp and resp[f"{self.kind}s"] else None

    def children(self, ctx: Ctx, kind: str, parent_key: str, parents: Iterable[str]) -> list[dict[str, Any]]:
        """Every <kind> under each parent ARN (listeners of load balancers, rules of listeners),
        skipping parents that went away meanwhile."""
        paginator = ctx.client("elbv2").get_paginator(xform_name(f"Describe{kind}s"))
        items: list[dict[str, Any]] = []
        for parent in parents:
            try:
                pages = list(paginator.paginate(**{parent_key: parent}))
            except Exception as exc:
                if self.gone(exc):
                    continue
                raise
            items += [item for page in pages for item in page[f"{kind}s"]]
        return items

    def listener_arns(self, ctx: Ctx, lb_arn: str | None) -> list[str]:
        """Listeners of one load balancer, or of all of them when it is not known yet."""
        if lb_arn:
            lbs = [lb_arn]
        else:
            lbs = [lb["LoadBalancerArn"] for page in ctx.client("elbv2").get_paginator("describe_load_balancers")
                   .paginate() for lb in page["LoadBalancers"]]
        return [li["ListenerArn"] for li in self.children(ctx, "Listener", "LoadBalancerArn", lbs)]

    def find_owned(self, ctx: Ctx, arns: Iterable[str]) -> tuple[str, dict[str, Any]] | None:
        arn = self.first_owned(ctx, arns)
        return (arn, self.outputs_of(ctx, arn)) if arn else None

    def declared_name(self, ctx: Ctx) -> str:
        name = self.properties.get("Name")
        return name if isinstance(name, str) else ctx.physical_name(max_len=32)

    def declared_attributes(self) -> dict[str, str]:
        return {k: attr_value(v) for k, v in (self.properties.get("Attributes") or {}).items()}

    def resolved(self, key: str) -> str | None:
        """A declared property's value when find() can use it (a plain string, not a pending Ref)."""
        value = self.properties.get(key)
        return value if isinstance(value, str) else None


class NamedElbResource(ElbResource):
    """Load balancers and target groups: an account-unique name (find() looks it up), and
    attributes (deletion protection, deregistration delay...) set with Modify<kind>Attributes."""

    def validate_attributes(self, props: dict[str, Any]) -> None:
        if isinstance(props.get("Attributes"), dict):
            props["Attributes"] = {k: attr_value(v) for k, v in props["Attributes"].items()}

    def set_attributes(self, ctx: Ctx, arn: str, attrs: Mapping[str, Any]) -> None:
        if attrs:
            getattr(ctx.client("elbv2"), xform_name(f"Modify{self.kind}Attributes"))(
                **{self.arn_key: arn}, Attributes=[{"Key": k, "Value": attr_value(v)} for k, v in attrs.items()])

    def update_attributes(self, ctx: Ctx, arn: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        before = {k: attr_value(v) for k, v in (old.get("Attributes") or {}).items()}
        self.set_attributes(ctx, arn, {k: v for k, v in (new.get("Attributes") or {}).items()
                                       if before.get(k) != attr_value(v)})

    def managed_attributes(self, ctx: Ctx, arn: str) -> dict[str, str]:
        """The attributes the plan manages, as AWS has them now (AWS reports a dozen more)."""
        op = getattr(ctx.client("elbv2"), xform_name(f"Describe{self.kind}Attributes"))
        have = {a["Key"]: attr_value(a["Value"]) for a in op(**{self.arn_key: arn})["Attributes"]}
        return {k: have[k] for k in self.declared_attributes() if k in have}

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        op = getattr(ctx.client("elbv2"), xform_name(f"Describe{self.kind}s"))
        resp = self.ignore_gone(op, Names=[self.declared_name(ctx)])
        return self.find_owned(ctx, [item[self.arn_key] for item in (resp or {}).get(f"{self.kind}s", [])])


# --------------------------------------------------------------------------- load balancer


class LoadBalancer(NamedElbResource):
    """An ALB (or NLB). Attributes such as deletion protection are set after creation
    (CreateLoadBalancer takes none) and updated in place."""

    type_name = "elbv2.LoadBalancer"
    label = "load balancer"
    arn_kind = ("elasticloadbalancing", "loadbalancer")
    durations = Durations(create=180, update=0, delete=30)
    kind = "LoadBalancer"
    arn_key = "LoadBalancerArn"
    props = {
        "Name": P(str, validator=elb_name, doc="default: genai-demo-<env>-<name>, cut to 32 characters"),
        "Subnets": P(list, required=True),
        "SecurityGroups": P(list, default=[]),
        "Scheme": P(str, default="internet-facing", validator=one_of("internet-facing", "internal")),
        "Type": P(str, default="application", validator=one_of("application", "network")),
        "IpAddressType": P(str, default="ipv4", validator=one_of("ipv4", "dualstack")),
        "Attributes": P(dict, default={}, doc="load balancer attributes, e.g. deletion_protection.enabled"),
    }
    replace_on = frozenset({"Name", "Scheme", "Type"})
    outputs = ("LoadBalancerArn", "LoadBalancerName", "LoadBalancerFullName", "DNSName", "CanonicalHostedZoneId",
               "VpcId")
    timeouts = {"create": 900, "update": 600, "delete": 900}

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        subnets = props.get("Subnets")
        if props.get("Type") == "application" and isinstance(subnets, list) and len(subnets) < 2:
            raise PlanError(f"{where}: an application load balancer needs subnets in at least two AZs")
        self.validate_attributes(props)

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        elb = ctx.client("elbv2")
        params: dict[str, Any] = {
            "Name": props.get("Name") or ctx.physical_name(max_len=32),
            "Subnets": list(props["Subnets"]),
            "Scheme": props["Scheme"],
            "Type": props["Type"],
            "IpAddressType": props["IpAddressType"],
            "Tags": tag_list(ctx.tags),
        }
        if props.get("SecurityGroups"):
            params["SecurityGroups"] = list(props["SecurityGroups"])
        # Same name and same settings returns the existing load balancer: safe to repeat.
        arn = elb.create_load_balancer(**params)["LoadBalancers"][0]["LoadBalancerArn"]
        ctx.wait("elbv2", "LoadBalancerAvailable", timeout_key="create", LoadBalancerArns=[arn])
        self.set_attributes(ctx, arn, props.get("Attributes") or {})
        return arn, self.outputs_of(ctx, arn)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        lb = self.describe(ctx, physical_id) or {}
        return {
            "LoadBalancerArn": physical_id,
            "LoadBalancerName": lb.get("LoadBalancerName"),
            # CloudWatch's LoadBalancer dimension: "app/<name>/<id>".
            "LoadBalancerFullName": physical_id.split(":loadbalancer/", 1)[-1],
            "DNSName": lb.get("DNSName"),
            "CanonicalHostedZoneId": lb.get("CanonicalHostedZoneId"),
            "VpcId": lb.get("VpcId"),
        }

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        lb = self.describe(ctx, physical_id)
        if lb is None:
            return None
        out = {
            # AWS order (by AZ), which is the order a network layer declares them in.
            "Subnets": [z["SubnetId"] for z in lb.get("AvailabilityZones", [])],
            "SecurityGroups": sorted(lb.get("SecurityGroups", [])),
            "Scheme": lb["Scheme"],
            "Type": lb["Type"],
            "IpAddressType": lb.get("IpAddressType", "ipv4"),
            "Attributes": self.managed_attributes(ctx, physical_id),
        }
        if "Name" in self.properties:
            out["Name"] = lb["LoadBalancerName"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        elb = ctx.client("elbv2")
        if sorted(old.get("Subnets") or []) != sorted(new["Subnets"]):
            elb.set_subnets(LoadBalancerArn=physical_id, Subnets=list(new["Subnets"]))
        if sorted(old.get("SecurityGroups") or []) != sorted(new.get("SecurityGroups") or []):
            elb.set_security_groups(LoadBalancerArn=physical_id, SecurityGroups=list(new.get("SecurityGroups") or []))
        if old.get("IpAddressType") != new["IpAddressType"]:
            elb.set_ip_address_type(LoadBalancerArn=physical_id, IpAddressType=new["IpAddressType"])
        self.update_attributes(ctx, physical_id, old, new)
        self.sync_tags(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        elb = ctx.client("elbv2")
        resp = self.ignore_gone(elb.describe_load_balancer_attributes, LoadBalancerArn=physical_id)
        if resp is None:
            return
        # Deletion protection guards against deletion outside this tool; reaching
        # delete() means the plan (and, for protected resources, the user) decided it.
        if {a["Key"]: a["Value"] for a in resp["Attributes"]}.get("deletion_protection.enabled") == "true":
            self.set_attributes(ctx, physical_id, {"deletion_protection.enabled": "false"})
        self.ignore_gone(elb.delete_load_balancer, LoadBalancerArn=physical_id)
        ctx.wait("elbv2", "LoadBalancersDeleted", timeout_key="delete", LoadBalancerArns=[physical_id])


# --------------------------------------------------------------------------- target group

HEALTH_CHECK = ("HealthCheckEnabled", "HealthCheckProtocol", "HealthCheckPort", "HealthCheckPath",
                "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
                "UnhealthyThresholdCount", "Matcher")


class TargetGroup(NamedElbResource):
    """A target group of ip or instance targets (the AWS Load Balancer Controller
    registers EKS pod IPs into it). Health check and attributes update in place."""

    type_name = "elbv2.TargetGroup"
    label = "target group"
    arn_kind = ("elasticloadbalancing", "targetgroup")
    kind = "TargetGroup"
    arn_key = "TargetGroupArn"
    props = {
        "Name": P(str, validator=elb_name, doc="default: genai-demo-<env>-<name>, cut to 32 characters"),
        "Protocol": P(str, default="HTTP", validator=one_of("HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP")),
        "ProtocolVersion": P(str, default="HTTP1", validator=one_of("HTTP1", "HTTP2", "GRPC")),
        "Port": P(int, required=True, validator=int_range(1, 65535)),
        "VpcId": P(str, required=True),
        "TargetType": P(str, default="ip", validator=one_of("ip", "instance")),
        "HealthCheckEnabled": P(bool, default=True),
        "HealthCheckProtocol": P(str, default="HTTP", validator=one_of("HTTP", "HTTPS", "TCP")),
        "HealthCheckPort": P(str, default="traffic-port"),
        "HealthCheckPath": P(str, default="/"),
        "HealthCheckIntervalSeconds": P(int, default=30, validator=int_range(5, 300)),
        "HealthCheckTimeoutSeconds": P(int, default=5, validator=int_range(2, 120)),
        "HealthyThresholdCount": P(int, default=5, validator=int_range(2, 10)),
        "UnhealthyThresholdCount": P(int, default=2, validator=int_range(2, 10)),
        "Matcher": P(dict, default={"HttpCode": "200"}),
        "Attributes": P(dict, default={}, doc="target group attributes, e.g. deregistration_delay.timeout_seconds"),
    }
    replace_on = frozenset({"Name", "Protocol", "ProtocolVersion", "Port", "VpcId", "TargetType"})
    outputs = ("TargetGroupArn", "TargetGroupName", "TargetGroupFullName")
    timeouts = {"create": 300, "update": 300, "delete": 600}

    def validate(self, props: dict[str, Any]) -> None:
        interval, timeout = props.get("HealthCheckIntervalSeconds"), props.get("HealthCheckTimeoutSeconds")
        if isinstance(interval, int) and isinstance(timeout, int) and timeout >= interval:
            raise PlanError(f"{self.type_name} {self.name!r}: HealthCheckTimeoutSeconds ({timeout}) must be "
                            f"smaller than HealthCheckIntervalSeconds ({interval})")
        path = props.get("HealthCheckPath")
        if isinstance(path, str) and not path.startswith("/"):
            raise PlanError(f"{self.type_name} {self.name!r}: HealthCheckPath must start with '/'")
        self.validate_attributes(props)

    def _health_params(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: props[k] for k in HEALTH_CHECK if k in props}

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        elb = ctx.client("elbv2")
        params = {
            "Name": props.get("Name") or ctx.physical_name(max_len=32),
            "Protocol": props["Protocol"], "ProtocolVersion": props["ProtocolVersion"], "Port": props["Port"],
            "VpcId": props["VpcId"], "TargetType": props["TargetType"], "Tags": tag_list(ctx.tags),
            **self._health_params(props),
        }
        if props["Protocol"] not in ("HTTP", "HTTPS"):
            params.pop("ProtocolVersion")
        arn = elb.create_target_group(**params)["TargetGroups"][0]["TargetGroupArn"]
        self.set_attributes(ctx, arn, props.get("Attributes") or {})
        return arn, self.outputs_of(ctx, arn)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        tg = self.describe(ctx, physical_id) or {}
        return {
            "TargetGroupArn": physical_id,
            "TargetGroupName": tg.get("TargetGroupName"),
            # CloudWatch's TargetGroup dimension: "targetgroup/<name>/<id>".
            "TargetGroupFullName": "targetgroup/" + physical_id.split(":targetgroup/", 1)[-1],
        }

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        tg = self.describe(ctx, physical_id)
        if tg is None:
            return None
        out: dict[str, Any] = {
            "Protocol": tg.get("Protocol"), "ProtocolVersion": tg.get("ProtocolVersion", "HTTP1"),
            "Port": tg.get("Port"), "VpcId": tg.get("VpcId"), "TargetType": tg.get("TargetType"),
            "HealthCheckEnabled": tg.get("HealthCheckEnabled"),
            "HealthCheckProtocol": tg.get("HealthCheckProtocol"),
            "HealthCheckPort": tg.get("HealthCheckPort"),
            "HealthCheckPath": tg.get("HealthCheckPath"),
            "HealthCheckIntervalSeconds": tg.get("HealthCheckIntervalSeconds"),
            "HealthCheckTimeoutSeconds": tg.get("HealthCheckTimeoutSeconds"),
            "HealthyThresholdCount": int(tg.get("HealthyThresholdCount", 0)),
            "UnhealthyThresholdCount": int(tg.get("UnhealthyThresholdCount", 0)),
            "Matcher": {k: v for k, v in (tg.get("Matcher") or {}).items() if v},
            "Attributes": self.managed_attributes(ctx, physical_id),
        }
        if "Name" in self.properties:
            out["Name"] = tg["TargetGroupName"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        changed = {k: v for k, v in self._health_params(new).items() if old.get(k) != v}
        if changed:
            ctx.client("elbv2").modify_target_group(TargetGroupArn=physical_id, **changed)
        self.update_attributes(ctx, physical_id, old, new)
        self.sync_tags(ctx, physical_id)
        return self.outputs_of(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        # ResourceInUse while a listener or rule still forwards here: a dependency
        # error the executor retries; the graph deletes listeners and rules first.
        self.ignore_gone(ctx.client("elbv2").delete_target_group, TargetGroupArn=physical_id)


# --------------------------------------------------------------------------- listener


class Listener(ElbResource):
    """A listener: HTTPS with a certificate and TLS policy, or HTTP (typically a redirect)."""

    type_name = "elbv2.Listener"
    label = "listener"
    kind = "Listener"
    arn_key = "ListenerArn"
    props = {
        "LoadBalancerArn": P(str, required=True),
        "Protocol": P(str, required=True, validator=one_of("HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP")),
        "Port": P(int, required=True, validator=int_range(1, 65535)),
        "SslPolicy": P(str, doc=f"HTTPS/TLS only; default {TLS13_POLICY} (TLS 1.3 and 1.2)"),
        "Certificates": P(list, default=[], doc='[{"CertificateArn": ...}]: the default certificate'),
        "DefaultActions": P(list, required=True),
    }
    replace_on = frozenset({"LoadBalancerArn"})
    outputs = ("ListenerArn",)
    timeouts = {"create": 300, "update": 300, "delete": 300}
    # ELB sees a certificate ACM has just issued only after a moment.
    retries: ClassVar[tuple[Retry, ...]] = (
        Retry("CertificateNotFound", seconds=300, phases=frozenset({"create", "update"}),
              why="hashicorp/terraform-provider-aws internal/service/elbv2/listener.go: CreateListener "
                  "retried 5 min on CertificateNotFound"),
    )

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        secure = props.get("Protocol") in ("HTTPS", "TLS")
        if secure:
            if not props.get("Certificates"):
                raise PlanError(f"{where}: a {props['Protocol']} listener needs Certificates")
            props.setdefault("SslPolicy", TLS13_POLICY)
        elif props.get("Certificates") or props.get("SslPolicy"):
            raise PlanError(f"{where}: Certificates and SslPolicy apply only to HTTPS/TLS listeners")
        certs = props.get("Certificates")
        if isinstance(certs, list) and any(not isinstance(c, Mapping) or "CertificateArn" not in c for c in certs):
            raise PlanError(f'{where}: Certificates must be [{{"CertificateArn": ...}}]')
        if isinstance(props.get("DefaultActions"), list):
            check_actions(where, props["DefaultActions"])
            props["DefaultActions"] = canon_actions(props["DefaultActions"])

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        params = self._params(props)
        arn = ctx.client("elbv2").create_listener(LoadBalancerArn=props["LoadBalancerArn"], Tags=tag_list(ctx.tags),
                                                  **params)["Listeners"][0]["ListenerArn"]
        return arn, {"ListenerArn": arn}

    @staticmethod
    def _params(props: Mapping[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"Protocol": props["Protocol"], "Port": props["Port"],
                                  "DefaultActions": list(props["DefaultActions"])}
        if props.get("Certificates"):
            params["Certificates"] = [{"CertificateArn": c["CertificateArn"]} for c in props["Certificates"]]
        if props.get("SslPolicy"):
            params["SslPolicy"] = props["SslPolicy"]
        return params

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"ListenerArn": physical_id}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        li = self.describe(ctx, physical_id)
        if li is None:
            return None
        out: dict[str, Any] = {
            "LoadBalancerArn": li["LoadBalancerArn"],
            "Protocol": li["Protocol"],
            "Port": li["Port"],
            "Certificates": [{"CertificateArn": c["CertificateArn"]} for c in li.get("Certificates", [])],
            "DefaultActions": canon_actions(li.get("DefaultActions", [])),
        }
        if li["Protocol"] in ("HTTPS", "TLS") and li.get("SslPolicy"):  # moto reports one on HTTP too
            out["SslPolicy"] = li["SslPolicy"]
        return out

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        ctx.client("elbv2").modify_listener(ListenerArn=physical_id, **self._params(new))
        self.sync_tags(ctx, physical_id)
        return {"ListenerArn": physical_id}

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("elbv2").delete_listener, ListenerArn=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        return self.find_owned(ctx, self.listener_arns(ctx, self.resolved("LoadBalancerArn")))


# --------------------------------------------------------------------------- listener rule


def listener_of_rule(rule_arn: str) -> str:
    """arn:...:listener-rule/app/<lb>/<lb-id>/<listener-id>/<rule-id> -> the listener's ARN."""
    return rule_arn.replace(":listener-rule/", ":listener/", 1).rsplit("/", 1)[0]


class ListenerRule(ElbResource):
    """A listener rule: conditions (path, host, header...) routed to actions, by priority."""

    type_name = "elbv2.ListenerRule"
    label = "listener rule"
    kind = "Rule"
    arn_key = "RuleArn"
    props = {
        "ListenerArn": P(str, required=True),
        "Priority": P(int, required=True, validator=int_range(1, 50000)),
        "Conditions": P(list, required=True),
        "Actions": P(list, required=True),
    }
    replace_on = frozenset({"ListenerArn"})
    outputs = ("RuleArn",)
    timeouts = {"create": 300, "update": 300, "delete": 300}

    def validate(self, props: dict[str, Any]) -> None:
        where = f"{self.type_name} {self.name!r}"
        conds = props.get("Conditions")
        if isinstance(conds, list):
            if not conds:
                raise PlanError(f"{where}: at least one condition is required")
            for c in conds:
                if not isinstance(c, Mapping) or c.get("Field") not in CONDITION_CONFIG:
                    raise PlanError(f"{where}: each condition needs Field, one of {', '.join(CONDITION_CONFIG)}")
            props["Conditions"] = canon_conditions(conds)
        if isinstance(props.get("Actions"), list):
            check_actions(where, props["Actions"])
            props["Actions"] = canon_actions(props["Actions"])

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        arn = ctx.client("elbv2").create_rule(
            ListenerArn=props["ListenerArn"], Priority=props["Priority"], Conditions=list(props["Conditions"]),
            Actions=list(props["Actions"]), Tags=tag_list(ctx.tags))["Rules"][0]["RuleArn"]
        return arn, {"RuleArn": arn}

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        return {"RuleArn": physical_id}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        rule = self.describe(ctx, physical_id)
        if rule is None:
            return None
        return {
            "ListenerArn": listener_of_rule(physical_id),
            "Priority": int(rule["Priority"]),
            "Conditions": canon_conditions(rule.get("Conditions", [])),
            "Actions": canon_actions(rule.get("Actions", [])),
        }

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        elb = ctx.client("elbv2")
        if old.get("Priority") != new["Priority"]:
            elb.set_rule_priorities(RulePriorities=[{"RuleArn": physical_id, "Priority": new["Priority"]}])
        if old.get("Conditions") != new["Conditions"] or old.get("Actions") != new["Actions"]:
            elb.modify_rule(RuleArn=physical_id, Conditions=list(new["Conditions"]), Actions=list(new["Actions"]))
        self.sync_tags(ctx, physical_id)
        return {"RuleArn": physical_id}

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(ctx.client("elbv2").delete_rule, RuleArn=physical_id)

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        listener = self.resolved("ListenerArn")
        listeners = [listener] if listener else self.listener_arns(ctx, None)
        rules = self.children(ctx, "Rule", "ListenerArn", listeners)
        return self.find_owned(ctx, [r["RuleArn"] for r in rules if not r.get("IsDefault")])

