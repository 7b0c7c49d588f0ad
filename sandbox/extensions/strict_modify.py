"""Strict rule `async-modify`: a modification takes time, shows its state late, and allows no second one.

AWS applies ModifyDBInstance (ApplyImmediately), ModifyReplicationGroup and
its shard/replica scaling, OpenSearch UpdateDomainConfig, MSK cluster
operations and EKS updates asynchronously: the resource shows its modifying
state (RDS/ElastiCache `modifying`, OpenSearch Processing / DomainProcessingStatus
"Modifying", MSK UPDATING with a cluster operation, EKS UPDATING with an
update id) for minutes, and right after the call it may still read as before
for a short moment (RDS is known for it: Terraform waits with a Delay before
its first poll). A second modification meanwhile is refused. moto applied
every modification at once, so a wait that polls at t = 0 and takes the first
"available" for done, and a next modification sent straight after, passed.

The window applies with the lifecycle simulation off (the test fixture's
default) as `seconds` real seconds, so the rule is on by default and tests
stay fast; with the simulation on it is the table's update duration
(sandbox/latency.py). `lag` is the share of the window during which the
status still reads as before. The services' extensions (elasticache.py,
kafka.py, eks.py) start their modifications through `start()`; RDS and
OpenSearch modifications are wrapped here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from moto.opensearch.models import OpenSearchDomain, OpenSearchServiceBackend
from moto.opensearch.responses import OpenSearchServiceResponse
from moto.rds.exceptions import RDSClientError
from moto.rds.models import RDSBackend

from sandbox import lifecycle, strict
from sandbox.extensions._base import AwsJsonError, add_methods, iso, now, store

RULE = strict.rule(
    "async-modify",
    aws="A modification (RDS ModifyDBInstance with ApplyImmediately, ElastiCache ModifyReplicationGroup and "
        "shard/replica scaling, OpenSearch UpdateDomainConfig, MSK cluster operations, EKS updates) runs "
        "for minutes: the resource shows its modifying state (RDS/ElastiCache `modifying`, OpenSearch "
        "Processing and DomainProcessingStatus Modifying with a ChangeId, MSK UPDATING with a cluster "
        "operation PENDING then UPDATE_IN_PROGRESS, EKS UPDATING with an update InProgress), may still read "
        "as before for a short moment right after the call, and a second modification meanwhile is refused "
        "(InvalidDBInstanceState, InvalidReplicationGroupState, ValidationException, BadRequestException, "
        "ResourceInUseException).",
    source="hashicorp/terraform-provider-aws internal/service/rds/instance.go (waitDBInstanceAvailable: Delay "
           "before the first poll, ContinuousTargetOccurence), internal/service/elasticache/wait.go "
           "(waitReplicationGroupAvailable with a delay after modify), internal/service/kafka/cluster.go "
           "(waitClusterOperationCompleted on the ClusterOperationArn), internal/service/eks/cluster.go "
           "(waitClusterUpdateSuccessful on the update id), internal/service/opensearch/domain.go "
           "(waitForDomainUpdate); EKS 'Cannot <type> because cluster currently has update in progress' "
           "(rancher/eks-operator#672, aws/containers-roadmap#1500)",
    moto="applied every modification at once: RDS and OpenSearch never left available/Processing=false; "
         "ElastiCache, MSK and EKS showed their modifying state only with the lifecycle simulation on, and "
         "never during a lag",
    seconds=0.5,
    lag=0.2,
)

BUSY = "_sandbox_modifying"


def window(kind: str) -> tuple[float, float]:
    """(real seconds the modification of `kind` takes, seconds of it during which the state reads as before)."""
    total = lifecycle.duration(kind, "update")
    if not strict.on(RULE.id):
        return total, 0.0
    if total <= 0:
        total = float(strict.setting(RULE.id, "seconds"))
    return total, total * float(strict.setting(RULE.id, "lag"))


def busy(obj: Any) -> bool:
    """A modification of `obj` is under way (whatever its status reads during the lag)."""
    return bool(obj.__dict__.get(BUSY))


def refuse_if_busy(obj: Any, error: Callable[[], Exception]) -> None:
    if strict.on(RULE.id) and busy(obj):
        strict.trip(RULE.id)
        raise error()


def start(obj: Any, kind: str, states: Sequence[Any], final: Any, apply: Callable[[Any], None]) -> None:
    """Run one modification of `obj`: as before for the lag, then `states`, then `final` (apply(state) sets each).

    What lifecycle.run does for an update, with the rule's window when the
    simulation is off and the lag in front; `obj` is busy until `final`.
    """
    total, lag = window(kind)

    def step(state: Any) -> None:
        apply(state)
        if state == final:
            obj.__dict__[BUSY] = False

    step.__name__ = getattr(apply, "__name__", "apply")  # the key lifecycle.run supersedes by
    obj.__dict__[BUSY] = total > 0
    if total <= 0 or lag <= 0:
        lifecycle.run(obj, kind, "update", states, final, apply=step, seconds=total)
        return
    gen = obj.__dict__.setdefault("_sandbox_modify_gen", [0])
    gen[0] += 1
    mine = gen[0]
    began = lifecycle.now()

    def after_lag() -> None:
        # Timed events run when the next request arrives: what is left is counted from the start, so a
        # modification lasts `total` however late that request comes (AWS's clock does not wait for calls).
        if gen[0] == mine:
            lifecycle.run(obj, kind, "update", states, final, apply=step,
                          seconds=max(0.0, total - (lifecycle.now() - began)))

    lifecycle.schedule(lag, after_lag)


# -- RDS ----------------------------------------------------------------------------

RDS_KIND = "rds.dbinstance"
# Applied at the end of the modification and shown in PendingModifiedValues until then
# (botocore's PendingModifiedValues shape); the rest moto applies at once.
_RDS_PENDING = {"db_instance_class": "DBInstanceClass", "allocated_storage": "AllocatedStorage",
                "multi_az": "MultiAZ", "engine_version": "EngineVersion", "iops": "Iops",
                "storage_type": "StorageType", "backup_retention_period": "BackupRetentionPeriod"}


def modify_db_instance(self: RDSBackend, original: Callable[..., Any], db_instance_identifier: str,
                       db_kwargs: dict[str, Any]) -> Any:
    db = self.databases.get(db_instance_identifier)
    if db is None:
        return original(self, db_instance_identifier, db_kwargs)
    refuse_if_busy(db, lambda: RDSClientError("InvalidDBInstanceState",
                                              "Database instance is not in available state."))
    total, _ = window(RDS_KIND)
    if not db_kwargs.get("apply_immediately") or total <= 0:
        return original(self, db_instance_identifier, db_kwargs)
    later = {k: db_kwargs.pop(k) for k in list(db_kwargs) if k in _RDS_PENDING and db_kwargs[k] is not None
             and db_kwargs[k] != getattr(db, k, None)}
    db = original(self, db_instance_identifier, db_kwargs)
    db.pending_modified_values = {_RDS_PENDING[k]: v for k, v in later.items()}

    def set_status(state: str) -> None:
        db.status = state
        if state == "available":
            db.update(**later)
            db.pending_modified_values = {}

    start(db, RDS_KIND, ["modifying"], "available", set_status)
    return db


# -- OpenSearch ---------------------------------------------------------------------

OS_KIND = "opensearch.domain"


def _changes(backend: OpenSearchServiceBackend) -> dict[str, dict[str, Any]]:
    """ChangeId -> ChangeProgressStatus (DescribeDomainChangeProgress), per account and region."""
    return store(backend, "opensearch_changes")


def _refuse(domain: OpenSearchDomain) -> None:
    refuse_if_busy(domain, lambda: AwsJsonError(
        "ValidationException", "A change/update is in progress. Please wait for it to complete before "
                               "requesting another change.", 400))


def update_domain_config(self: OpenSearchServiceBackend, original: Callable[..., Any], domain_name: str,
                         *args: Any, **kw: Any) -> Any:
    domain = self.domains.get(domain_name)
    if domain is not None:
        _refuse(domain)
    domain = original(self, domain_name, *args, **kw)
    change_id = str(uuid.uuid4())
    progress: dict[str, Any] = {"ChangeId": change_id, "StartTime": iso(now()), "Status": "PENDING",
                                "ConfigChangeStatus": "Pending", "InitiatedBy": "CUSTOMER",
                                "LastUpdatedTime": iso(now())}
    _changes(self)[change_id] = {"domain": domain_name, "status": progress}
    domain.sandbox_change = progress

    def phase(processing: bool) -> None:
        domain.processing = processing
        progress["Status"] = "PROCESSING" if processing else "COMPLETED"
        progress["ConfigChangeStatus"] = "ApplyingChanges" if processing else "Completed"
        progress["LastUpdatedTime"] = iso(now())

    start(domain, OS_KIND, [True], False, phase)
    return domain


def _domain_to_dict(self: OpenSearchDomain, original: Callable[..., Any]) -> dict[str, Any]:
    out = original(self)
    change = self.__dict__.get("sandbox_change")
    if change is not None:
        out["ChangeProgressDetails"] = {"ChangeId": change["ChangeId"], "ConfigChangeStatus":
                                        change["ConfigChangeStatus"], "InitiatedBy": "CUSTOMER",
                                        "StartTime": change["StartTime"], "LastUpdatedTime":
                                        change["LastUpdatedTime"]}
        if not out.get("Deleted"):
            out["DomainProcessingStatus"] = "Modifying" if self.processing else "Active"
    return out


class _OpenSearch:
    def update_domain_config(self: Any) -> str:
        out = json.loads(self._moto_update_domain_config())
        domain = self.opensearch_backend.domains[self._get_param("DomainName")]
        change = domain.sandbox_change
        out["DomainConfig"]["ChangeProgressDetails"] = {"ChangeId": change["ChangeId"],
                                                        "ConfigChangeStatus": change["ConfigChangeStatus"],
                                                        "InitiatedBy": "CUSTOMER"}
        return json.dumps(out)

    def describe_domain_change_progress(self: Any) -> str:
        backend = self.opensearch_backend
        name = self._get_param("DomainName") or self.path.split("/")[-2]
        change_id = self._get_param("changeid") or self._get_param("ChangeId")
        backend.describe_domain(name)  # ResourceNotFoundException for an unknown domain
        changes = [c for c in _changes(backend).values() if c["domain"] == name]
        rec = _changes(backend).get(change_id) if change_id else (changes[-1] if changes else None)
        if rec is None or rec["domain"] != name:
            raise AwsJsonError("ResourceNotFoundException", f"Change {change_id} not found for domain {name}.", 409)
        return json.dumps({"ChangeProgressStatus": dict(rec["status"])})


def install() -> None:
    lifecycle.wrap(RDSBackend, "modify_db_instance")(modify_db_instance)
    lifecycle.wrap(OpenSearchServiceBackend, "update_domain_config")(update_domain_config)
    lifecycle.wrap(OpenSearchDomain, "to_dict")(_domain_to_dict)
    add_methods(OpenSearchServiceResponse, *(fn for name, fn in vars(_OpenSearch).items()
                                             if not name.startswith("_")), override=True)
