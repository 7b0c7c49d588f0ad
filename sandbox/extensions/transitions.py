"""Transitional states for slow resources moto makes ready at once.

With the lifecycle simulation on (sandbox.lifecycle.enable, the server's
default), these show what AWS shows while they are being built or torn down,
for table x scale real seconds (sandbox/latency.py):

- RDS DB instance: creating -> backing-up -> available (read replica: creating ->
  available); deleting -> gone, a second delete refused (InvalidDBInstanceState).
- Aurora DB cluster: creating -> available; deleting -> gone.
- OpenSearch domain: Processing=True, no endpoint yet -> Processing=False;
  Deleted=True, Processing=True -> gone.
- NAT gateway: pending -> available; deleting -> deleted.
- ALB/NLB: provisioning -> active.

Also: RDS modify_db_subnet_group keeps the group (moto drops it).

With the simulation off everything stays as moto does it (ready at once).
EKS, MSK and ElastiCache transitions live in their own extension modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer
from moto.opensearch.models import OpenSearchServiceBackend
from moto.rds.exceptions import DBSubnetGroupNotFoundError, RDSClientError
from moto.rds.models import DBCluster, RDSBackend

from sandbox import lifecycle

# -- RDS ----------------------------------------------------------------------------


def create_db_instance(self: RDSBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    db = original(self, *args, **kw)
    lifecycle.run(db, "rds.dbinstance", "create", ["creating", "backing-up"], "available")
    return db


def create_db_instance_read_replica(self: RDSBackend, original: Callable[..., Any], db_kwargs: dict[str, Any]) -> Any:
    """A replica is built like any instance (moto copies its source's state, `available` at once)."""
    replica = original(self, db_kwargs)
    lifecycle.run(replica, "rds.dbinstance", "create", ["creating"], "available")
    return replica


def delete_db_instance(self: RDSBackend, original: Callable[..., Any], db_instance_identifier: str,
                       *args: Any, **kw: Any) -> Any:
    db = self.databases.get(db_instance_identifier)
    if db is not None and db.status == "deleting":
        # AWS refuses a second delete; moto would pop the instance and fail to unlink it from its source.
        raise RDSClientError("InvalidDBInstanceState", f"Instance {db_instance_identifier} is already being deleted.")
    if db is not None and db.is_replica and db.source_db_instance_identifier not in self.databases \
            and not self.arn_regex.match(db.source_db_instance_identifier or ""):
        db.is_replica, db.source_db_instance_identifier = False, None  # source gone: AWS promoted it
    db = original(self, db_instance_identifier, *args, **kw)
    lifecycle.remove_later(self.databases, db_instance_identifier, db, "rds.dbinstance", ["deleting"])
    return db


def _cluster_status_get(self: DBCluster) -> str:
    """Ours when the simulation drives this cluster; moto's flip-on-first-read otherwise."""
    if self._status == "creating" and lifecycle.GEN_ATTR not in self.__dict__:
        self._status = "available"
        return "creating"
    return self._status


def _cluster_status_set(self: DBCluster, value: str) -> None:
    self._status = value


def create_db_cluster(self: RDSBackend, original: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    cluster = original(self, kwargs)
    lifecycle.run(cluster, "rds.dbcluster", "create", ["creating"], "available")
    return cluster


def delete_db_cluster(self: RDSBackend, original: Callable[..., Any], cluster_identifier: str,
                      *args: Any, **kw: Any) -> Any:
    cluster = original(self, cluster_identifier, *args, **kw)
    lifecycle.remove_later(self.clusters, cluster_identifier, cluster, "rds.dbcluster", ["deleting"])
    return cluster


def modify_db_subnet_group(self: RDSBackend, original: Callable[..., Any], subnet_name: str, *args: Any,
                           **kw: Any) -> Any:
    """moto pops the group and never puts it back (a later describe says not found)."""
    if subnet_name not in self.subnet_groups:
        raise DBSubnetGroupNotFoundError(subnet_name)
    group = original(self, subnet_name, *args, **kw)
    self.subnet_groups[subnet_name] = group
    return group


# -- OpenSearch ---------------------------------------------------------------------


def create_domain(self: OpenSearchServiceBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    domain = original(self, *args, **kw)
    endpoint, endpoints = domain.endpoint, domain.endpoints

    def phase(processing: bool) -> None:
        domain.processing = processing
        domain.endpoint = None if processing else endpoint
        domain.endpoints = None if processing else endpoints

    lifecycle.run(domain, "opensearch.domain", "create", [True], False, apply=phase)
    return domain


def delete_domain(self: OpenSearchServiceBackend, original: Callable[..., Any], domain_name: str) -> Any:
    domain = original(self, domain_name)
    lifecycle.remove_later(self.domains, domain_name, domain, "opensearch.domain", [True], attr="processing")
    return domain


# -- EC2 NAT gateway ----------------------------------------------------------------


def create_nat_gateway(self: NatGatewayBackend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    nat = original(self, *args, **kw)
    lifecycle.run(nat, "ec2.natgateway", "create", ["pending"], "available", attr="state")
    return nat


def delete_nat_gateway(self: NatGatewayBackend, original: Callable[..., Any], nat_gateway_id: str) -> Any:
    nat = original(self, nat_gateway_id)
    lifecycle.run(nat, "ec2.natgateway", "delete", ["deleting"], "deleted", attr="state")
    return nat


# -- ELBv2 --------------------------------------------------------------------------


def create_load_balancer(self: ELBv2Backend, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    lb = original(self, *args, **kw)
    if lifecycle.duration("elbv2.loadbalancer", "create") > 0:
        lb.sandbox_simulated = True
        lifecycle.run(lb, "elbv2.loadbalancer", "create", ["provisioning"], "active", attr="state")
    return lb


def activate(self: FakeLoadBalancer, original: Callable[..., Any]) -> None:
    """moto flips provisioning -> active on the first describe; the simulation decides instead."""
    if not getattr(self, "sandbox_simulated", False):
        original(self)


def install() -> None:
    DBCluster.status = property(_cluster_status_get, _cluster_status_set)
    lifecycle.wrap(RDSBackend, "create_db_instance")(create_db_instance)
    lifecycle.wrap(RDSBackend, "create_db_instance_read_replica")(create_db_instance_read_replica)
    lifecycle.wrap(RDSBackend, "delete_db_instance")(delete_db_instance)
    lifecycle.wrap(RDSBackend, "create_db_cluster")(create_db_cluster)
    lifecycle.wrap(RDSBackend, "delete_db_cluster")(delete_db_cluster)
    lifecycle.wrap(RDSBackend, "modify_db_subnet_group")(modify_db_subnet_group)
    lifecycle.wrap(OpenSearchServiceBackend, "create_domain")(create_domain)
    lifecycle.wrap(OpenSearchServiceBackend, "delete_domain")(delete_domain)
    lifecycle.wrap(NatGatewayBackend, "create_nat_gateway")(create_nat_gateway)
    lifecycle.wrap(NatGatewayBackend, "delete_nat_gateway")(delete_nat_gateway)
    lifecycle.wrap(ELBv2Backend, "create_load_balancer")(create_load_balancer)
    lifecycle.wrap(FakeLoadBalancer, "activate")(activate)
