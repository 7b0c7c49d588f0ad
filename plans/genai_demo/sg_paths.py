"""The security group paths of docs/architecture.md, from the plan's own groups and rules.

A path is a connection some security group lets out and the destination's group lets in: an ingress
rule whose source group has a matching egress rule (to the destination group, or to a CIDR such as
0.0.0.0/0), or whose source is a CIDR (the internet). EKS's cluster security group ("eks cluster") is
created by EKS with all egress and no rule from the plan; what carries it (control plane, Fargate pods)
is EKS's doing (sandbox rule eks-workload-security-groups), the rest is read from the resources that
name each group. Ingress rules no egress matches are listed apart: declared, but no traffic uses them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from resources.base import Ref, Resource, walk_refs

CLUSTER = "eks cluster"
CLUSTER_CARRIES = "EKS control plane, Fargate pods (EKS puts it there)"
# Groups that reach everything outside the plan's rules: EKS creates its group with all egress.
ALL_EGRESS = frozenset({CLUSTER})
# What a resource that names a group is, in the table (the node group's template is its nodes).
CARRIER = {"ec2.LaunchTemplate": "EKS managed nodes (launch template)", "elbv2.LoadBalancer": "ALB",
           "rds.DBInstance": "RDS PostgreSQL", "elasticache.ReplicationGroup": "ElastiCache Redis",
           "kafka.Cluster": "MSK brokers", "opensearch.Domain": "OpenSearch domain",
           "firehose.DeliveryStream": "Firehose (VPC delivery)", "eks.Cluster": "EKS control plane"}


def _group(value: Any) -> str | None:
    """The plan's short name for the group a property names ("app" for app_sg), or None."""
    if not isinstance(value, Ref):
        return None
    if isinstance(value.resource, str):  # another stack's: "main.app_sg"
        name = value.resource.rsplit(".", 1)[-1]
        return name.removesuffix("_sg") if name.endswith("_sg") and value.attr == "GroupId" else None
    r = value.resource
    if r.type_name == "ec2.SecurityGroup":
        return str(r.name).removesuffix("_sg")
    if r.type_name == "eks.Cluster" and value.attr == "ClusterSecurityGroupId":
        return CLUSTER
    return None


def _ports(props: dict[str, Any]) -> tuple[str, int, int]:
    proto = str(props.get("IpProtocol"))
    return (proto, 0, 65535) if proto == "-1" else (proto, int(props["FromPort"]), int(props["ToPort"]))


def _show(ports: tuple[str, int, int]) -> str:
    proto, lo, hi = ports
    return "all traffic" if proto == "-1" else f"{proto} {lo}" if lo == hi else f"{proto} {lo}-{hi}"


def _covers(out: tuple[str, int, int], into: tuple[str, int, int]) -> bool:
    return out[0] == "-1" or (out[0] == into[0] and out[1] <= into[1] and into[2] <= out[2])


def _resources(plan: Any) -> Iterable[Resource]:
    for stack in plan.stacks.values():
        yield from stack


def markdown(plan: Any) -> list[str]:
    """The section's lines for one profile."""
    rules, carriers = [], {CLUSTER: {CLUSTER_CARRIES}}
    for r in _resources(plan):
        if r.type_name == "ec2.SecurityGroupRule":
            p = r.properties
            peer = p.get("CidrIp") or _group(p.get("SourceSecurityGroupId"))
            rules.append((_group(p.get("GroupId")), p["Direction"], _ports(p), peer, p.get("Description") or ""))
            continue
        for ref in walk_refs(r.properties):
            g = _group(ref)
            if g and r.type_name != "ec2.SecurityGroup":
                carriers.setdefault(g, set()).add(CARRIER.get(r.type_name, r.type_name))
    egress = [(g, ports, peer) for g, d, ports, peer, _ in rules if d == "egress"]

    def let_out(src: str, dst: str, ports: tuple[str, int, int]) -> bool:
        return src in ALL_EGRESS or any(g == src and _covers(out, ports) and peer in (dst, "0.0.0.0/0")
                                        for g, out, peer in egress)

    paths, unused = [], []
    for g, d, ports, peer, desc in rules:
        if d != "ingress":
            continue
        from_internet = peer is not None and "/" in str(peer)
        row = f"| {peer if from_internet else f'`{peer}`'} | `{g}` | {_show(ports)} | {desc} |"
        (paths if from_internet or let_out(str(peer), str(g), ports) else unused).append(row)
    outward = [f"| `{g}` | {peer} | {_show(ports)} | {desc} |" for g, d, ports, peer, desc in rules
               if d == "egress" and "/" in str(peer)]
    lines = ["### Security group paths", "",
             "Who carries each group (from the resources that name it):", "",
             "| group | carried by |", "| --- | --- |",
             *(f"| `{g}` | {', '.join(sorted(c))} |" for g, c in sorted(carriers.items())), "",
             "Connections admitted both ways round (the source's egress and the destination's ingress; answers "
             "need no rule, security groups are stateful):", "",
             "| from | to | port | rule |", "| --- | --- | --- | --- |", *sorted(paths), *sorted(outward), ""]
    if unused:
        lines += ["Ingress declared but unused (no egress of the source matches it):", "",
                  "| from | to | port | rule |", "| --- | --- | --- | --- |", *sorted(unused), ""]
    return lines
