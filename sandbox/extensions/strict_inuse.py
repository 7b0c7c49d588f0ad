"""Strict rule in-use: AWS refuses to delete what something else still uses; moto often does not.

Already refused before this rule, by moto or by our extensions, with AWS's codes
(the rule documents them, and tests/test_strict_eni.py proves each one):
- ElastiCache parameter group with members: InvalidCacheParameterGroupState (extensions/elasticache.py);
- MSK configuration used by a cluster: BadRequestException (extensions/kafka.py);
- WAFv2 web ACL still associated: WAFAssociatedItemException (extensions/misc.py);
- target group behind a listener or rule: ResourceInUse (moto elbv2);
- EKS cluster with node groups: ResourceInUseException (moto eks).

Added here: an RDS DB parameter group with members (InvalidDBParameterGroupState),
an ACM certificate on a listener (ResourceInUseException), an EKS cluster with
Fargate profiles (ResourceInUseException), and a security group that another
group's rule references (DependencyViolation "resource sg-... has a dependent object").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.acm.models import AWSCertificateManagerBackend
from moto.core.exceptions import AWSError
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.eks.exceptions import ResourceInUseException as EksInUse
from moto.eks.models import EKSBackend
from moto.elbv2.models import ELBv2Backend, elbv2_backends
from moto.rds.exceptions import RDSClientError
from moto.rds.models import RDSBackend
from moto.wafv2.models import WAFV2Backend

from sandbox import lifecycle, strict

RULE = strict.rule(
    "in-use",
    aws="A delete of something still in use is refused: DB parameter group with members "
        "(InvalidDBParameterGroupState), cache parameter group with members (InvalidCacheParameterGroupState), "
        "MSK configuration used by a cluster (BadRequestException), associated WAFv2 web ACL "
        "(WAFAssociatedItemException), target group behind a listener or rule (ResourceInUse), ACM certificate "
        "on a listener (ResourceInUseException), EKS cluster with node groups or Fargate profiles "
        "(ResourceInUseException), security group referenced by another group's rule (DependencyViolation).",
    source="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBParameterGroup.html; "
           "https://docs.aws.amazon.com/acm/latest/APIReference/API_DeleteCertificate.html; "
           "https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteCluster.html; "
           "https://docs.aws.amazon.com/vpc/latest/userguide/deleting-security-groups.html; "
           "hashicorp/terraform-provider-aws internal/service/wafv2/web_acl.go (retries WAFAssociatedItemException)",
    moto="deleted the DB parameter group, the certificate, the cluster with Fargate profiles and the referenced "
         "group at once (the others were already refused)",
)


WAF_UNAVAILABLE = strict.rule(
    "waf-unavailable-entity",
    aws="AssociateWebACL right after the load balancer is created answers WAFUnavailableEntityException "
        "(WAF does not see the new resource yet) for a while.",
    source="hashicorp/terraform-provider-aws internal/service/wafv2/web_acl_association.go (create retried on "
           "WAFUnavailableEntityException for 5 min)",
    moto="associated at once",
    seconds=1.0,
)
_born = strict.Clock()


class _AcmInUse(AWSError):
    TYPE = "ResourceInUseException"


def delete_db_parameter_group(self: Any, original: Callable[..., Any], db_parameter_group_name: str) -> Any:
    if strict.on(RULE.id):
        members = [d.db_instance_identifier for d in self.databases.values()
                   if getattr(d, "db_parameter_group_name", None) == db_parameter_group_name]
        members += [c.db_cluster_identifier for c in getattr(self, "clusters", {}).values()
                    if getattr(c, "db_cluster_instance_parameter_group_name", None) == db_parameter_group_name]
        if members:
            strict.trip(RULE.id)
            raise RDSClientError("InvalidDBParameterGroupState",
                                 f"One or more database instances are still members of this parameter group "
                                 f"{db_parameter_group_name}, so the group cannot be deleted")
    return original(self, db_parameter_group_name)


def delete_certificate(self: Any, original: Callable[..., Any], arn: str) -> Any:
    if strict.on(RULE.id):
        elb = elbv2_backends[self.account_id][self.region_name]
        for lb in elb.load_balancers.values():
            for listener in lb.listeners.values():
                certs = [c if isinstance(c, str) else (c or {}).get("CertificateArn")
                         for c in (listener.certificates or [])]
                if arn in certs:
                    strict.trip(RULE.id)
                    raise _AcmInUse(f"Certificate {arn} in account {self.account_id} is in use.")
    return original(self, arn)


def delete_cluster(self: Any, original: Callable[..., Any], name: str) -> Any:
    cluster = self.clusters.get(name)
    if strict.on(RULE.id) and cluster is not None and cluster.status != "DELETING" and cluster.fargate_profiles:
        strict.trip(RULE.id)
        raise EksInUse(clusterName=name, nodegroupName=None, fargateProfileName=None, addonName=None,
                       message="Cluster has fargate profiles attached")
    return original(self, name)


def delete_security_group(self: Any, original: Callable[..., Any], name: str | None = None,
                          group_id: str | None = None) -> Any:
    if strict.on(RULE.id) and group_id:
        for groups in self.groups.values():
            for group in groups.values():
                if group.id == group_id:
                    continue  # a group may reference itself
                for r in list(group.ingress_rules) + list(group.egress_rules):
                    if (r.source_group or {}).get("GroupId") == group_id:
                        strict.trip(RULE.id)
                        raise EC2ClientError("DependencyViolation", f"resource {group_id} has a dependent object")
    return original(self, name=name, group_id=group_id)


def create_load_balancer(self: Any, original: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    lb = original(self, *args, **kw)
    _born.mark(lb.arn)
    return lb


def associate_web_acl(self: Any, original: Callable[..., Any], web_acl_arn: str, resource_arn: str) -> Any:
    if strict.on(WAF_UNAVAILABLE.id) and web_acl_arn in self.wacls \
            and _born.within(resource_arn, float(strict.setting(WAF_UNAVAILABLE.id, "seconds"))):
        strict.trip(WAF_UNAVAILABLE.id)
        raise _WafUnavailable("AWS WAF couldn't retrieve the resource that you requested. Retry your request.")
    return original(self, web_acl_arn, resource_arn)


class _WafUnavailable(AWSError):
    TYPE = "WAFUnavailableEntityException"


def _wrap(cls: type, name: str, fn: Callable[..., Any]) -> None:
    lifecycle.chain(cls, name, fn, "strict_inuse")


def install() -> None:
    _wrap(RDSBackend, "delete_db_parameter_group", delete_db_parameter_group)
    _wrap(AWSCertificateManagerBackend, "delete_certificate", delete_certificate)
    _wrap(EKSBackend, "delete_cluster", delete_cluster)
    _wrap(SecurityGroupBackend, "delete_security_group", delete_security_group)
    _wrap(ELBv2Backend, "create_load_balancer", create_load_balancer)
    _wrap(WAFV2Backend, "associate_web_acl", associate_web_acl)
