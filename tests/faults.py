"""Fault injection for the crash and fault-tolerance suites.

Three faults, all botocore event hooks registered through
orchestrator.aws.GLOBAL_HOOKS so every client the tool builds carries them:

- kill:      SIGKILL this process right before or right after the n-th call
             of one operation ("before:ec2.CreateVpc:1",
             "after:dynamodb.TransactWriteItems:4"). "after" fires once the
             response is parsed and before the tool sees it: the call was
             made, nothing of it is recorded yet.
- throttle:  answer a share of calls with a throttling error at the wire
             (before-send), so botocore's own retry handling sees it exactly
             as it would see AWS's answer; counts what it injected.
- fail:      answer one operation (optionally only for requests naming a
             given value) with a fatal error, to fail one resource on purpose.

`python -m tests.faults <infra args>` is the CLI with the faults named in
the environment (INFRA_FAULT_KILL_AT, INFRA_FAULT_THROTTLE, INFRA_FAULT_BACKOFF_SCALE,
INFRA_FAULT_FAIL, INFRA_FAULT_DELAY) installed, plus the small test plans registered, so a
test can run and kill a real CLI process. Nothing here is imported by the
tool itself.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from orchestrator import aws as aws_mod
from sandbox import server, settings
from state.dynamodb import DynamoStateStore

# --------------------------------------------------------------------------- kill


class KillAt:
    """SIGKILL at the n-th call of `service.Operation`, before it is sent or after its answer."""

    def __init__(self, spec: str) -> None:
        try:
            when, op, n = spec.rsplit(":", 2)
            self.service, self.operation = op.split(".", 1)
            self.n = int(n)
        except ValueError:
            raise ValueError(f"bad kill spec {spec!r}: expected before|after:<service>.<Operation>:<n>") from None
        if when not in ("before", "after"):
            raise ValueError(f"bad kill spec {spec!r}: expected before or after")
        self.when = when
        self.seen = 0
        self.lock = threading.Lock()

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        event = "before-call" if self.when == "before" else "after-call"
        return [(f"{event}.{self.service}.{self.operation}", self)]

    def __call__(self, model: Any = None, **_: Any) -> None:
        with self.lock:
            self.seen += 1
            if self.seen == self.n:
                sys.stderr.write(f"FAULT: SIGKILL {self.when} {self.service}.{self.operation} #{self.n}\n")
                sys.stderr.flush()
                os.kill(os.getpid(), signal.SIGKILL)


# --------------------------------------------------------------------------- throttle


THROTTLE_CODES = {
    # The code each API family uses for "slow down", and the HTTP status it comes with.
    "query": ("Throttling", 400),  # iam, sts, rds, elasticache, elbv2, sns, cloudformation...
    "ec2": ("RequestLimitExceeded", 503),
    "json": ("ThrottlingException", 400),
    "rest-json": ("TooManyRequestsException", 429),
    "rest-xml": ("SlowDown", 503),
}


def _error_body(protocol: str, code: str) -> bytes:
    msg = "Rate exceeded (injected by tests.faults)"
    if protocol == "ec2":
        return (f"<Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors>"
                "<RequestID>fault</RequestID></Response>").encode()
    if protocol in ("query", "rest-xml"):
        if protocol == "rest-xml":
            return f"<Error><Code>{code}</Code><Message>{msg}</Message><RequestId>fault</RequestId></Error>".encode()
        return (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error>"
                "<RequestId>fault</RequestId></ErrorResponse>").encode()
    return json.dumps({"__type": code, "message": msg}).encode()


class Throttle:
    """Answer `rate` of the calls with the service's throttling error, before they reach the wire.

    Seeded, so a run is reproducible; `skip` names services left alone (the
    state table, when a test wants to throttle only the resources' APIs).
    """

    def __init__(self, rate: float, seed: int = 7, skip: frozenset[str] = frozenset()) -> None:
        self.rate, self.skip = rate, skip
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.calls = 0
        self.injected = 0
        self.by_service: dict[str, int] = {}

        self.current = threading.local()  # the operation this thread is calling (before-send lacks it)

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [("before-call", self.remember), ("before-send", self)]

    def remember(self, model: Any = None, **_: Any) -> None:
        self.current.model = model

    def __call__(self, request: Any = None, **_: Any) -> AWSResponse | None:
        model = getattr(self.current, "model", None)
        service = model.service_model.service_name if model is not None else ""
        if service in self.skip or request is None:
            return None
        with self.lock:
            self.calls += 1
            if self.rng.random() >= self.rate:
                return None
            self.injected += 1
            self.by_service[service] = self.by_service.get(service, 0) + 1
        protocol = model.metadata.get("protocol", "json") if model is not None else "json"
        code, status = THROTTLE_CODES.get(protocol, THROTTLE_CODES["json"])
        body = _error_body(protocol, code)
        ctype = "application/x-amz-json-1.1" if protocol == "json" else (
            "application/json" if protocol == "rest-json" else "text/xml")
        return AWSResponse(request.url, status, {"Content-Type": ctype, "x-amzn-RequestId": "fault"},
                           _Raw(body))


class _Raw:
    """The raw body botocore's AWSResponse reads from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


class RetryCount:
    """botocore retries seen in responses (ResponseMetadata.RetryAttempts), per service."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.retries = 0

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [("after-call", self)]

    def __call__(self, parsed: Any = None, **_: Any) -> None:
        n = (parsed or {}).get("ResponseMetadata", {}).get("RetryAttempts", 0) if isinstance(parsed, dict) else 0
        if n:
            with self.lock:
                self.retries += n


# --------------------------------------------------------------------------- fail one resource


class Fail:
    """A fatal error for `service.Operation` (only requests whose params mention `match`, if given)."""

    def __init__(self, spec: str) -> None:
        op, _, self.match = spec.partition(":")
        self.service, self.operation = op.split(".", 1)
        self.count = 0

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [(f"before-call.{self.service}.{self.operation}", self)]

    def __call__(self, params: Any = None, **_: Any) -> Any:
        if self.match and self.match not in json.dumps(params, default=str):
            return None
        self.count += 1
        err = {"Error": {"Code": "InjectedFailure", "Message": f"{self.operation} failed (injected by tests.faults)"},
               "ResponseMetadata": {"HTTPStatusCode": 400}}
        return _Status(400), err


class _Status:
    def __init__(self, code: int) -> None:
        self.status_code = code
        self.headers: dict[str, str] = {}


# --------------------------------------------------------------------------- a slow call


class Delay:
    """Hold the first call of `service.Operation` for `seconds` before sending it, touching `mark` when it
    starts: a test then knows a change is in flight and can signal the process at that moment."""

    def __init__(self, spec: str) -> None:
        op, seconds, *mark = spec.split(":", 2)
        self.service, self.operation = op.split(".", 1)
        self.seconds = float(seconds)
        self.mark = mark[0] if mark else None
        self.done = False
        self.lock = threading.Lock()

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [(f"before-call.{self.service}.{self.operation}", self)]

    def __call__(self, **_: Any) -> None:
        with self.lock:
            if self.done:
                return
            self.done = True
        if self.mark:
            with open(self.mark, "w") as f:
                f.write(f"{self.service}.{self.operation}\n")
        time.sleep(self.seconds)


# --------------------------------------------------------------------------- installing


def install(*faults: Any) -> Callable[[], None]:
    """Register the faults' hooks on every Clients created from now on; returns the undo."""
    added = [h for f in faults for h in f.hooks()]
    aws_mod.GLOBAL_HOOKS.extend(added)

    def undo() -> None:
        for h in added:
            aws_mod.GLOBAL_HOOKS.remove(h)

    return undo


def compress_backoff(scale: float) -> None:
    """botocore's backoff between retries of a throttled call, on a compressed clock.

    The throttle tests check that every injected throttle is retried and the run still converges, not how
    long botocore sleeps (its own schedule: rand(0, 1) * min(2 ** i, 20) s). At 30% throttled those sleeps
    were 45 s of an idle CI core per run; the retries, their count and their order are unchanged."""
    from botocore.retries import standard

    original = standard.ExponentialBackoff.delay_amount
    if getattr(original, "compressed", False):
        return

    def delay_amount(self: Any, context: Any) -> float:
        return float(original(self, context)) * scale

    delay_amount.compressed = True  # type: ignore[attr-defined]
    standard.ExponentialBackoff.delay_amount = delay_amount  # type: ignore[method-assign]


def from_env() -> list[Any]:
    faults: list[Any] = []
    if os.environ.get("INFRA_FAULT_BACKOFF_SCALE"):
        compress_backoff(float(os.environ["INFRA_FAULT_BACKOFF_SCALE"]))
    if os.environ.get("INFRA_FAULT_KILL_AT"):
        faults.append(KillAt(os.environ["INFRA_FAULT_KILL_AT"]))
    if os.environ.get("INFRA_FAULT_THROTTLE"):
        skip = frozenset(s for s in os.environ.get("INFRA_FAULT_THROTTLE_SKIP", "").split(",") if s)
        faults.append(Throttle(float(os.environ["INFRA_FAULT_THROTTLE"]), skip=skip))
        faults.append(RetryCount())
    if os.environ.get("INFRA_FAULT_FAIL"):
        faults.append(Fail(os.environ["INFRA_FAULT_FAIL"]))
    if os.environ.get("INFRA_FAULT_DELAY"):
        faults.append(Delay(os.environ["INFRA_FAULT_DELAY"]))
    return faults


def main(argv: list[str]) -> None:
    import cli

    register_plans()
    active = from_env()
    install(*active)
    throttle = next((f for f in active if isinstance(f, Throttle)), None)
    counter = next((f for f in active if isinstance(f, RetryCount)), None)
    if throttle is not None and counter is not None:
        import atexit

        atexit.register(lambda: sys.stderr.write(
            f"FAULT: throttled {throttle.injected} of {throttle.calls} calls "
            f"{json.dumps(throttle.by_service, sort_keys=True)}; botocore retried {counter.retries}\n"))
    cli.main(argv, prog_name="infra")



# --------------------------------------------------------------------------- small real plans


def small_plan(env: str) -> Any:
    """The real network and security layers plus a few config parameters: every kind of resource
    the crash suite needs (tagged, named, untaggable children, waited-for NAT gateways, generated
    secrets) at a fraction of the full main stack's apply time."""
    from orchestrator.model import Plan
    from plans.genai_demo import config, network, security
    from plans.genai_demo.profiles import profile

    p = profile(env)
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    stack = plan.stack("main")
    net = network.build(stack, p)
    sec = security.build(stack, p)
    config.build(stack, p, outputs={"s3/data-lake-bucket": sec["buckets"]["data_lake"]["Bucket"],
                                    "network/vpc-id": net["vpc"]["VpcId"]})
    if os.environ.get("INFRA_FAULTS_VARIANT"):
        # A code change: one in-place update and one replacement (with the rules that refer to the group).
        stack.resources["vpc"].properties["EnableDnsHostnames"] = False
        stack.resources["app_sg"].properties["Description"] = VARIANT_APP_SG_DESCRIPTION
    return plan


VARIANT_APP_SG_DESCRIPTION = "application pods (changed by the crash suite)"


def tiny_plan(env: str) -> Any:
    """Eight resources of five services, for suites that run an apply under heavy fault load."""
    from orchestrator.model import Plan
    from resources.ec2 import SecurityGroup, SecurityGroupRule, Subnet, Vpc
    from resources.s3 import Bucket
    from resources.secretsmanager import Secret
    from resources.ssm import Parameter

    plan = Plan(project="genai-demo", env=env, region=settings.REGION, tags={"ManagedBy": "genai-infra"})
    s = plan.stack("main")
    vpc = s.add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    for i, az in enumerate("ab"):
        s.add(Subnet(f"subnet_{az}", VpcId=vpc["VpcId"], CidrBlock=f"10.0.{i}.0/24",
                     AvailabilityZone=f"{settings.REGION}{az}"))
    sg = s.add(SecurityGroup("app_sg", VpcId=vpc["VpcId"], Description="application"))
    s.add(SecurityGroupRule("app_sg_ingress_8080", GroupId=sg["GroupId"], Direction="ingress", IpProtocol="tcp",
                            FromPort=8080, ToPort=8080, CidrIp="10.0.0.0/16"))
    s.add(Secret("db_secret", Name="database/app-user", GenerateSecretString={"PasswordLength": 24}))
    s.add(Bucket("logs", Versioning="Enabled"))
    s.add(Parameter("param_vpc_id", Name="network/vpc-id", Type="String", Value=vpc["VpcId"]))
    return plan


def replace_plan(env: str) -> Any:
    """A create-first replacement and what refers to it, for the crash points inside one: a security group
    (its Description replaces it; the variant changes it), a rule on it (replaced with it) and a parameter
    naming it (re-pointed in place by PutParameter)."""
    from orchestrator.model import Plan
    from resources.ec2 import SecurityGroup, SecurityGroupRule, Vpc
    from resources.ssm import Parameter

    plan = Plan(project="genai-demo", env=env, region=settings.REGION, tags={"ManagedBy": "genai-infra"})
    s = plan.stack("main")
    vpc = s.add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    sg = s.add(SecurityGroup("app_sg", VpcId=vpc["VpcId"], Description=VARIANT_APP_SG_DESCRIPTION
                             if os.environ.get("INFRA_FAULTS_VARIANT") else "application"))
    s.add(SecurityGroupRule("app_sg_ingress_8080", GroupId=sg["GroupId"], Direction="ingress", IpProtocol="tcp",
                            FromPort=8080, ToPort=8080, CidrIp="10.0.0.0/16"))
    s.add(Parameter("param_app_sg", Name="network/app-sg", Type="String", Value=sg["GroupId"]))
    return plan


def small_addrs() -> set[str]:
    return {r.address for r in small_plan("dev").resources()}


def register_plans() -> None:
    from tests.fakes import install_plan

    install_plan("faults_small", small_plan)
    install_plan("faults_tiny", tiny_plan)
    install_plan("faults_replace", replace_plan)



# --------------------------------------------------------------------------- what AWS holds vs the state


# Services the Resource Groups Tagging API does not answer for (in moto as in parts of AWS): listed one by one.
def _iam_roles(c: Callable[[str], Any]) -> list[tuple[str, dict[str, str]]]:
    iam, out = c("iam"), []
    for page in iam.get_paginator("list_roles").paginate():
        for r in page["Roles"]:
            tags = iam.list_role_tags(RoleName=r["RoleName"]).get("Tags", [])
            out.append((r["Arn"], {t["Key"]: t["Value"] for t in tags}))
    for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        tags = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"]).get("Tags", [])
        out.append((p["Arn"], {t["Key"]: t["Value"] for t in tags}))
    return out


def _eks(c: Callable[[str], Any]) -> list[tuple[str, dict[str, str]]]:
    eks, out = c("eks"), []
    for name in eks.list_clusters()["clusters"]:
        cl = eks.describe_cluster(name=name)["cluster"]
        if cl["status"] != "DELETING":
            out.append((cl["arn"], cl.get("tags", {})))
        for ng in eks.list_nodegroups(clusterName=name)["nodegroups"]:
            d = eks.describe_nodegroup(clusterName=name, nodegroupName=ng)["nodegroup"]
            out.append((d["nodegroupArn"], d.get("tags", {})))
        for fp in eks.list_fargate_profiles(clusterName=name)["fargateProfileNames"]:
            d = eks.describe_fargate_profile(clusterName=name, fargateProfileName=fp)["fargateProfile"]
            out.append((d["fargateProfileArn"], d.get("tags", {})))
    return out


def _ecr(c: Callable[[str], Any]) -> list[tuple[str, dict[str, str]]]:
    ecr, out = c("ecr"), []
    for r in ecr.describe_repositories()["repositories"]:
        tags = ecr.list_tags_for_resource(resourceArn=r["repositoryArn"]).get("tags", [])
        out.append((r["repositoryArn"], {t["Key"]: t["Value"] for t in tags}))
    return out


def _wafv2(c: Callable[[str], Any]) -> list[tuple[str, dict[str, str]]]:
    waf, out = c("wafv2"), []
    for acl in waf.list_web_acls(Scope="REGIONAL")["WebACLs"]:
        info = waf.list_tags_for_resource(ResourceARN=acl["ARN"]).get("TagInfoForResource", {})
        out.append((acl["ARN"], {t["Key"]: t["Value"] for t in info.get("TagList", [])}))
    return out


EXTRA_LISTERS = (_iam_roles, _eks, _ecr, _wafv2)


def _gone(c: Callable[[str], Any], arn: str) -> bool:
    """Listed, but on its way out: AWS keeps these visible for a while after a delete."""
    svc, rest = arn.split(":")[2], arn.split(":", 5)[-1]
    if svc == "kms" and rest.startswith("key/"):
        return c("kms").describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] in ("PendingDeletion", "Disabled")
    if svc == "secretsmanager":
        try:
            return "DeletedDate" in c("secretsmanager").describe_secret(SecretId=arn)
        except Exception:  # noqa: BLE001 - already gone
            return True
    if svc == "ec2" and rest.startswith("natgateway/"):
        nat = c("ec2").describe_nat_gateways(NatGatewayIds=[rest.split("/", 1)[1]])["NatGateways"]
        return not nat or nat[0]["State"] in ("deleted", "deleting")
    if svc == "ec2" and rest.startswith("vpc-endpoint/"):
        ep = c("ec2").describe_vpc_endpoints(VpcEndpointIds=[rest.split("/", 1)[1]])["VpcEndpoints"]
        return not ep or ep[0]["State"].lower() in ("deleted", "deleting")
    return False


def tagged_resources(c: Callable[[str], Any], project: str, env: str) -> list[tuple[str, str]]:
    """(infra:address, ARN) of every live resource tagged for this project and env, in every service."""
    tagging = c("resourcegroupstaggingapi")
    found: dict[str, dict[str, str]] = {}
    for page in tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": "infra:env", "Values": [env]}, {"Key": "infra:project", "Values": [project]}]):
        for m in page["ResourceTagMappingList"]:
            found[m["ResourceARN"]] = {t["Key"]: t["Value"] for t in m["Tags"]}
    for lister in EXTRA_LISTERS:
        for arn, tags in lister(c):
            if tags.get("infra:env") == env and tags.get("infra:project") == project:
                found.setdefault(arn, tags)
    return sorted((tags["infra:address"], arn) for arn, tags in found.items()
                  if "infra:address" in tags and not _gone(c, arn))


def _arn_kind(arn: str) -> str:
    """The resource kind inside an ARN (vpc, subnet, key, secret...), to tell siblings apart."""
    rest = arn.split(":", 5)[-1]
    return arn.split(":")[2] + ":" + rest.split("/")[0].split(":")[0]


def _matches(arn: str, rec: Any) -> bool:
    pid = rec.physical_id or ""
    if pid and (pid == arn or pid in arn.split(":", 5)[-1] or arn.endswith(pid)):
        return True
    return arn in {str(v) for v in rec.outputs.values()}


def check_converged(c: Callable[[str], Any], records: dict[str, Any], expected: set[str], project: str = "genai-demo",
                    env: str = "dev") -> dict[str, Any]:
    """Zero duplicates, zero untracked, nothing pending: raise AssertionError naming what is wrong.

    - every expected address has a finished record (status created, a physical id);
    - every live tagged resource of this env is the one its address's record names, and an address
      has at most one live resource of each kind (no duplicate from a retried create);
    - untaggable children (routes, associations, security group rules, aliases) are counted against
      the records of their parents, which is where a duplicate would show.
    """
    problems: list[str] = []
    pending = sorted(f"{a} [{r.status}]" for a, r in records.items() if r.pending or not r.physical_id)
    if pending:
        problems.append(f"unfinished records: {pending}")
    missing = sorted(expected - set(records))
    if missing:
        problems.append(f"not in state: {missing}")
    extra = sorted(set(records) - expected)
    if extra:
        problems.append(f"in state but not in the plan: {extra}")
    live = tagged_resources(c, project, env)
    kinds: dict[tuple[str, str], list[str]] = {}
    for addr, arn in live:
        kinds.setdefault((addr, _arn_kind(arn)), []).append(arn)
    for (addr, kind), arns in sorted(kinds.items()):
        if len(arns) > 1:
            problems.append(f"duplicate {kind} for {addr}: {arns}")
        rec = records.get(addr)
        for arn in arns:
            if rec is None or not _matches(arn, rec):
                if not any(_matches(arn, r) for r in records.values()):
                    problems.append(f"untracked {arn} (tagged {addr}; state has "
                                    f"{rec.physical_id if rec else 'no record'})")
    tracked_addrs = {a for a, _ in live}
    problems += _untagged(c, records)
    if problems:
        raise AssertionError("not converged:\n  " + "\n  ".join(problems))
    return {"tagged": len(live), "addresses": len(tracked_addrs), "records": len(records)}


def _untagged(c: Callable[[str], Any], records: dict[str, Any]) -> list[str]:
    """Children AWS cannot tag, counted per parent: routes, route table associations, SG rules, aliases."""
    out: list[str] = []
    ec2 = c("ec2")
    by_type: dict[str, list[Any]] = {}
    for r in records.values():
        by_type.setdefault(r.type, []).append(r)
    rtb_ids = [r.physical_id for r in by_type.get("ec2.RouteTable", [])]
    if rtb_ids:
        tables = {t["RouteTableId"]: t for t in ec2.describe_route_tables(RouteTableIds=rtb_ids)["RouteTables"]}
        routes = {(rt, r.get("DestinationCidrBlock") or r.get("DestinationPrefixListId"))
                  for rt, t in tables.items() for r in t["Routes"] if r.get("GatewayId") != "local"
                  and r.get("Origin") != "CreateRouteTable" and not r.get("DestinationPrefixListId")}
        recorded = {(r.props.get("RouteTableId"), r.props.get("DestinationCidrBlock"))
                    for r in by_type.get("ec2.Route", [])}
        if routes != recorded:
            out.append(f"routes in AWS {sorted(routes - recorded)} untracked, {sorted(recorded - routes)} missing")
        assoc = sorted(a["SubnetId"] for t in tables.values() for a in t.get("Associations", []) if a.get("SubnetId"))
        rec_assoc = sorted(r.props.get("SubnetId") for r in by_type.get("ec2.RouteTableAssociation", []))
        if assoc != rec_assoc:
            out.append(f"route table associations in AWS for subnets {assoc}, in state {rec_assoc}")
    sg_ids = [r.physical_id for r in by_type.get("ec2.SecurityGroup", [])]
    if sg_ids:
        rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": sg_ids}])[
            "SecurityGroupRules"]
        rec_rules = [r for r in by_type.get("ec2.SecurityGroupRule", [])]
        # Rules the plan adds to groups it does not own (EKS's cluster security group): looked up too.
        foreign = sorted({str(r.props.get("GroupId")) for r in rec_rules} - set(sg_ids) - {"None"})
        if foreign:
            rules += [x for x in ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": foreign}])[
                "SecurityGroupRules"] if any(str(x["SecurityGroupRuleId"]) in str(r.physical_id) for r in rec_rules)]
        ids = {r["SecurityGroupRuleId"] for r in rules}
        gone = sorted(r.address for r in rec_rules if not (set(str(r.physical_id).split(",")) & ids))
        if gone:
            out.append(f"security group rules recorded but not in AWS: {gone}")
        # Each recorded rule accounts for its own AWS rule ids; the rest must be AWS's defaults (egress all).
        own = {i for r in rec_rules for i in str(r.physical_id).split(",")}
        stray = sorted(r["SecurityGroupRuleId"] for r in rules if r["SecurityGroupRuleId"] not in own
                       and not (r["IsEgress"] and r.get("CidrIpv4") == "0.0.0.0/0" and r["IpProtocol"] == "-1"))
        if stray:
            out.append(f"security group rules in AWS that no record accounts for: {stray}")
    aliases = [r for r in by_type.get("kms.Alias", [])]
    if aliases:
        names = {a["AliasName"] for a in c("kms").list_aliases()["Aliases"]}
        lost = sorted(r.physical_id for r in aliases if r.physical_id not in names)
        if lost:
            out.append(f"aliases recorded but not in AWS: {lost}")
    return out




# --------------------------------------------------------------------------- secrets never in state


def secret_values(c: Callable[[str], Any]) -> dict[str, str]:
    """Every secret value in the account, read back: Secrets Manager strings (and the string fields of
    JSON ones: a generated password inside {"username", "password"}) and SSM SecureString parameters."""
    out: dict[str, str] = {}
    sm = c("secretsmanager")
    for page in sm.get_paginator("list_secrets").paginate():
        for s in page["SecretList"]:
            value = sm.get_secret_value(SecretId=s["ARN"]).get("SecretString")
            if not value:
                continue
            out[s["Name"]] = value
            try:
                doc = json.loads(value)
            except ValueError:
                continue
            if isinstance(doc, dict):
                for k, v in doc.items():
                    if isinstance(v, str) and len(v) >= 8 and k not in ("username", "engine", "host", "dbname"):
                        out[f"{s['Name']}:{k}"] = v
    ssm = c("ssm")
    for page in ssm.get_paginator("describe_parameters").paginate(
            ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}]):
        for p in page["Parameters"]:
            out[p["Name"]] = ssm.get_parameter(Name=p["Name"], WithDecryption=True)["Parameter"]["Value"]
    return out


def secrets_in_state(c: Callable[[str], Any], table: str) -> list[str]:
    """(secret, state item) pairs where a secret value appears anywhere in any item of the state table
    (records, lock, metadata, history), by a full scan."""
    secrets = secret_values(c)
    leaks = []
    for page in c("dynamodb").get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            text = json.dumps(item)
            for name, value in secrets.items():
                if value in text or json.dumps(value)[1:-1] in text:
                    leaks.append(f"{name} in {item['pk']['S']}/{item['sk']['S']}")
    return leaks


# --------------------------------------------------------------------------- subprocess harness


ROOT = Path(__file__).resolve().parent.parent
TABLE = "genai-infra-state-faults"


@contextmanager
def sandbox_dir(directory: str) -> Iterator[None]:
    """INFRA_SANDBOX_DIR naming the suite's server while a module uses it (and the server's own calls)."""
    old = os.environ.get("INFRA_SANDBOX_DIR")
    os.environ["INFRA_SANDBOX_DIR"] = directory
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("INFRA_SANDBOX_DIR", None)
        else:
            os.environ["INFRA_SANDBOX_DIR"] = old


def session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """One sandbox server per xdist worker for every fault module: (its directory, its endpoint).

    Starting one warms every service (about 10 s of CPU) and each case resets it anyway (Cli), so a
    server per module paid that start five times per worker for nothing."""
    directory = str(tmp_path_factory.mktemp("sandbox"))
    with sandbox_dir(directory):
        st = server.up()
    try:
        yield directory, st.endpoint_url
    finally:
        with sandbox_dir(directory):
            server.down()


def sandbox_fixture() -> Any:
    """A module-scoped fixture: the worker's fault server (conftest's `faults_server`), reset before each
    case, with INFRA_SANDBOX_DIR naming it for the module's duration only."""

    @pytest.fixture(scope="module")
    def sandbox(faults_server: tuple[str, str]) -> Iterator[str]:
        directory, endpoint = faults_server
        with sandbox_dir(directory):
            yield endpoint

    return sandbox


class Cli:
    """The CLI as a subprocess against the module's sandbox (reset first), with faults from the environment."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        server.reset()

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=settings.REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The subprocess environment: sandbox credentials, fast polling, this suite's state table."""
        e = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_FAULT")}
        e.update(settings.ENV)
        e.update({"PYTHONPATH": str(ROOT), "INFRA_STATE_TABLE": TABLE, "INFRA_POLL_DELAY": "0.01",
                  "INFRA_RETRY_INITIAL": "0.01"})
        e.pop("AWS_ENDPOINT_URL", None)
        e.update(extra or {})
        return e

    def infra(self, *args: str, kill: str | None = None, env: dict[str, str] | None = None,
              timeout: float = 900) -> subprocess.CompletedProcess[str]:
        # A bound against a hung run, not a speed claim: on a loaded 2-core machine the full dev main stack's
        # killed destroy was measured at 208 s and 235 s and once passed 300 s.
        e = self.env(env)
        if kill:
            e["INFRA_FAULT_KILL_AT"] = kill
        return subprocess.run([sys.executable, "-m", "tests.faults", *args, "--endpoint-url", self.endpoint],
                              cwd=ROOT, env=e, capture_output=True, text=True, timeout=timeout)

    def records(self) -> dict[str, Any]:
        store = DynamoStateStore(self.client("dynamodb"), "genai-demo", "dev", TABLE)
        return store.read(["main"])

    def killed(self, *args: str, kill: str, env: dict[str, str] | None = None) -> None:
        r = self.infra(*args, kill=kill, env=env)
        assert r.returncode == -signal.SIGKILL, \
            f"kill point {kill} never fired (exit {r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"

    def unlock(self, cli: bool = True) -> None:
        """What an operator does after a crash: `infra state unlock --force` (or the same call in-process)."""
        if cli:
            r = self.infra("state", "unlock", "--force", "--env", "dev")
            assert r.returncode == 0 and "was held by" in r.stdout, r.stdout + r.stderr
            return
        held = DynamoStateStore(self.client("dynamodb"), "genai-demo", "dev", TABLE).force_unlock()
        assert held is not None and held["operation"] in ("apply", "destroy"), held

    def ok(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        r = self.infra(*args, env=env)
        assert r.returncode == 0, f"infra {' '.join(args)} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        return r


if __name__ == "__main__":
    main(sys.argv[1:])
