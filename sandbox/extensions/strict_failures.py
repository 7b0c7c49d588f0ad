"""Failure states on demand: a create that AWS accepts and then ends in a failed, billed resource.

AWS answers a create call at once and builds the resource afterwards; the build
can fail, and the resource then stays, in a failure state, with AWS's reason:
an EKS node group CREATE_FAILED with health issues (NodeCreationFailure...),
an MSK cluster FAILED with StateInfo, a Firehose stream CREATING_FAILED with a
FailureDescription, an RDS instance `failed` (or `incompatible-parameters`), an ElastiCache replication
group `create-failed`.
moto never fails a create, so nothing offline could show what the tool does
with a broken resource (finding 11 of audit-real-aws.md: it adopted it as
healthy and passed `None` outputs on).

Which creates fail is chosen per resource, at the moment of the create call:
- setting `names`: a regex searched in "<kind>/<name>" (e.g. "kafka.cluster/", "msk$");
- setting `next`: "<kind>=<n>,...": the next n creates of that kind fail (counted down);
- moto's state manager, for a running server: model "<kind>:fail" with a transition
  {"names": "<regex>"} or {"count": n} (POST /moto-api/state-manager/set-transition).
In process: `aws.rules.configure("failure-states", names=...)` or `fail_next(kind, n)`; the
server: INFRA_SANDBOX_FAILURE_STATES_NAMES / _NEXT, or the state manager. The failure takes the
place of the ready state at the end of the create's simulated transition (sandbox/lifecycle.py),
so with the lifecycle simulation on the resource is CREATING first, then fails.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.eks.models import Cluster as EksCluster
from moto.eks.models import EKSBackend, FargateProfile, Nodegroup
from moto.firehose.models import FirehoseBackend
from moto.kafka.models import FakeKafkaCluster
from moto.moto_api import state_manager
from moto.rds.models import DBInstance

from sandbox import lifecycle, strict

RULE = strict.rule(
    "failure-states",
    aws="A create AWS accepted can end in a failure state, the resource left behind and billed: EKS node group "
        "CREATE_FAILED (health.issues, e.g. NodeCreationFailure), EKS cluster FAILED (health.issues), Fargate "
        "profile CREATE_FAILED, MSK cluster FAILED (StateInfo Code/Message), "
        "Firehose stream CREATING_FAILED (FailureDescription Type/Details), RDS instance failed or "
        "incompatible-parameters, ElastiCache replication group create-failed. Waiters stop on these states (failure acceptors); Terraform then marks "
        "the resource tainted and replaces it on the next apply.",
    source="hashicorp/terraform-provider-aws internal/service/eks/node_group.go (waitNodegroupCreated: "
           "CREATE_FAILED is not a pending state; issues joined into the error), internal/service/kafka/"
           "cluster.go (waitClusterCreated: StateInfo in the error), internal/service/firehose/"
           "delivery_stream.go (CREATING_FAILED with FailureDescription), internal/service/rds/instance.go, "
           "internal/service/elasticache/wait.go (create-failed ends waitReplicationGroupAvailable); "
           "botocore waiters eks NodegroupActive, rds DBInstanceAvailable (failure acceptors)",
    moto="Every create succeeded (ACTIVE/available at once, or after the simulated transition).",
    names="", next="", rds_state="failed",
)

_lock = threading.Lock()


@dataclass(frozen=True)
class Kind:
    """How one kind's moto object is named, and what puts it in its failure state."""

    name: Callable[[Any], str]
    fail: Callable[[Any], None]


def _fail_nodegroup(ng: Nodegroup) -> None:
    ng.status = "CREATE_FAILED"
    asgs = [a["name"] for a in (ng.resources or {}).get("autoScalingGroups", [])]
    ng.health = {"issues": [{"code": "NodeCreationFailure",
                             "message": "Instances failed to join the kubernetes cluster (sandbox failure-states)",
                             "resourceIds": asgs}]}


def _fail_eks(cluster: EksCluster) -> None:
    cluster.status = "FAILED"
    cluster.health = {"issues": [{"code": "Ec2SubnetNotFound", "message": "One or more subnets were not found "
                                  "(sandbox failure-states)", "resourceIds": list(cluster.resources_vpc_config.get(
                                      "subnetIds", []))}]}


def _fail_fargate(profile: FargateProfile) -> None:
    profile.status = "CREATE_FAILED"  # DescribeFargateProfile has no health: AWS gives no reason there


def _fail_msk(cluster: FakeKafkaCluster) -> None:
    cluster.state = "FAILED"
    cluster.state_info = {"code": "InternalServiceError",
                          "message": "The cluster could not be created (sandbox failure-states)."}


def _fail_stream(stream: Any) -> None:
    stream.delivery_stream_status = "CREATING_FAILED"
    stream.failure_description = {"Type": "CREATE_ENI_FAILED",
                                  "Details": "Firehose could not create an ENI in the subnet (sandbox failure-states)"}


def _fail_db(db: DBInstance) -> None:
    db.status = strict.setting(RULE.id, "rds_state")


def _fail_redis(group: Any) -> None:
    group.status = "create-failed"  # DescribeReplicationGroups gives no reason: AWS puts it in the events


KINDS: dict[str, Kind] = {
    "eks.cluster": Kind(lambda o: o.name, _fail_eks),
    "eks.fargateprofile": Kind(lambda o: o.fargate_profile_name, _fail_fargate),
    "eks.nodegroup": Kind(lambda o: o.nodegroup_name, _fail_nodegroup),
    "kafka.cluster": Kind(lambda o: o.cluster_name, _fail_msk),
    "firehose.deliverystream": Kind(lambda o: o.delivery_stream_name, _fail_stream),
    "rds.dbinstance": Kind(lambda o: o.db_instance_identifier, _fail_db),
    "elasticache.replicationgroup": Kind(lambda o: o.replication_group_id, _fail_redis),
}


def _counts(raw: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        kind, _, n = part.partition("=")
        out[kind.strip()] = int(n or 1)
    return out


def fail_next(kind: str, count: int = 1) -> None:
    """The next `count` creates of `kind` (a key of KINDS) end in its failure state."""
    if kind not in KINDS:
        raise KeyError(f"failure-states knows no kind {kind!r}; it knows {', '.join(KINDS)}")
    with _lock:
        counts = _counts(strict.setting(RULE.id, "next"))
        counts[kind] = count
        strict.configure(RULE.id, next=",".join(f"{k}={n}" for k, n in counts.items() if n > 0))


def _take(kind: str, name: str) -> bool:
    """Whether this create fails; a counted selection is used up by it."""
    with _lock:
        pattern = strict.setting(RULE.id, "names")
        if pattern and re.search(pattern, f"{kind}/{name}"):
            return True
        counts = _counts(strict.setting(RULE.id, "next"))
        if counts.get(kind, 0) > 0:
            counts[kind] -= 1
            strict.configure(RULE.id, next=",".join(f"{k}={n}" for k, n in counts.items() if n > 0))
            return True
        model = f"{kind}:fail"
        cfg = state_manager.get_transition(model)
        if cfg.get("names") and re.search(str(cfg["names"]), name):
            return True
        if int(cfg.get("count", 0) or 0) > 0:
            state_manager.set_transition(model, {**cfg, "count": int(cfg["count"]) - 1})
            return True
    return False


def failure(obj: Any, kind: str) -> Callable[[], None] | None:
    """lifecycle.failure_hook: decided when the create starts, applied when it would have been ready."""
    spec = KINDS.get(kind)
    if spec is None or not strict.on(RULE.id) or not _take(kind, spec.name(obj)):
        return None

    def fail() -> None:
        strict.trip(RULE.id)
        spec.fail(obj)

    return fail


# moto keeps Firehose streams ACTIVE from the start and has no transition for them: the choice is made here.
def create_delivery_stream(self: FirehoseBackend, original: Callable[..., Any], region: str,
                           delivery_stream_name: str, *args: Any, **kw: Any) -> Any:
    result = original(self, region, delivery_stream_name, *args, **kw)
    fail = failure(self.delivery_streams[delivery_stream_name], "firehose.deliverystream")
    if fail is not None:
        fail()
    return result


def create_fargate_profile(self: EKSBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    profile = original(self, *args, **kw)
    fail = failure(profile, "eks.fargateprofile")
    if fail is not None:
        fail()
    return profile


def install() -> None:
    for kind in KINDS:
        state_manager.register_default_transition(f"{kind}:fail", {"progression": "immediate"})
    lifecycle.failure_hook = failure
    lifecycle.wrap(FirehoseBackend, "create_delivery_stream")(create_delivery_stream)
    lifecycle.wrap(EKSBackend, "create_fargate_profile")(create_fargate_profile)
