"""Rules across resources, which single-resource scanners cannot express: the plan's graph knows them.

- a data store reachable from 0.0.0.0/0 through any chain of security groups that all admit its port;
- a bucket or key policy that lets another account in;
- a secret whose value a role can read although the role's policy names no such secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from resources.policy import Subject, as_list, literal, rule, statements
from resources.rules.ec2 import ANYWHERE, _ports

# Data store type -> (its security-group property, its default port).
DATA_STORES = {
    "rds.DBInstance": ("VpcSecurityGroupIds", 5432),
    "elasticache.ReplicationGroup": ("SecurityGroupIds", 6379),
    "kafka.Cluster": ("BrokerNodeGroupInfo.SecurityGroups", 9098),
    "opensearch.Domain": ("VPCOptions.SecurityGroupIds", 443),
}


def _ingress(s: Subject) -> dict[object, list[tuple[object, int, int]]]:
    """Security group (the resource) -> [(peer: a CIDR string or a group resource, from, to)]."""
    out: dict[object, list[tuple[object, int, int]]] = {}
    for r in s.of_type("ec2.SecurityGroupRule"):
        if r.get("Direction") != "ingress":
            continue
        group = s.target(r.get("GroupId"))
        if group is None:
            continue
        peer = s.target(r.get("SourceSecurityGroupId")) or r.get("CidrIp")
        lo, hi = _ports(r)
        out.setdefault(group, []).append((peer, lo, hi))
    return out


def _path_from_anywhere(s: Subject, group: object, port: int) -> list[str] | None:
    """The chain 0.0.0.0/0 -> group -> ... -> `group` where every hop admits `port`, if one exists."""
    ingress = _ingress(s)
    seen = {group}
    frontier: list[tuple[object, list[str]]] = [(group, [getattr(group, "address", str(group))])]
    while frontier:
        nxt = []
        for g, path in frontier:
            for peer, lo, hi in ingress.get(g, []):
                if not lo <= port <= hi:
                    continue
                if isinstance(peer, str) and peer in ANYWHERE:
                    return [peer, *reversed(path)]
                if peer is not None and not isinstance(peer, str) and peer not in seen:
                    seen.add(peer)
                    nxt.append((peer, path + [peer.address]))
        frontier = nxt
    return None


@rule("network.data-store-reachable-from-internet", "critical",
      "No data store is reachable from 0.0.0.0/0 through any chain of security groups",
      list(DATA_STORES), equivalents=["graph rule: no single-resource scanner equivalent"], graph=True)
def data_store_reachable(s: Subject) -> Iterator[str]:
    prop, default_port = DATA_STORES[s.type]
    port = s.get("Port", default_port) if isinstance(s.get("Port", default_port), int) else default_port
    for ref in as_list(s.get(prop)):
        group = s.target(ref)
        if group is None:
            continue
        path = _path_from_anywhere(s, group, port)
        if path:
            yield f"port {port} is reachable from the internet: {' -> '.join(path)}"


ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):")


def _foreign_principals(s: Subject, policy: object) -> Iterator[str]:
    trusted = set(s.settings.get("trusted_accounts", []))
    for st in statements(policy):
        if st.get("Effect") != "Allow":
            continue
        p = st.get("Principal")
        aws = as_list(p.get("AWS")) if isinstance(p, dict) else (["*"] if p == "*" else [])
        cond = str(st.get("Condition", {}))
        for principal in aws:
            if not literal(principal):
                continue  # a Ref to a role of this plan: the same account
            if principal == "*" and not any(k in cond for k in ("aws:SourceAccount", "aws:PrincipalAccount",
                                                                 "kms:CallerAccount", "aws:PrincipalOrgID",
                                                                 "aws:SourceArn")):
                yield f"statement {st.get('Sid', '?')!r} lets any AWS account in ('*' with no account condition)"
            m = ARN_ACCOUNT.match(str(principal)) or (re.fullmatch(r"\d{12}", str(principal)) and
                                                       re.match(r"(\d{12})", str(principal)))
            if m and m.group(1) not in trusted:
                yield f"statement {st.get('Sid', '?')!r} lets account {m.group(1)} in"


@rule("policy.no-cross-account", "high", "Bucket and key policies do not let another account in",
      ["s3.Bucket", "kms.Key"], equivalents=["CKV_AWS_70", "AVD-AWS-0067", "graph rule"],
      fails={"PolicyStatements": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                                   "Action": "s3:GetObject", "Resource": "*"}]},
      passes={"PolicyStatements": [{"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                                    "Action": "s3:PutObject", "Resource": "*",
                                    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]})
def cross_account(s: Subject) -> Iterator[str]:
    policy = {"Statement": s.get("PolicyStatements", [])} if s.type == "s3.Bucket" else s.get("Policy")
    yield from _foreign_principals(s, policy)


SECRET_READ = {"secretsmanager:GetSecretValue", "secretsmanager:*", "*"}


@rule("secretsmanager.read-only-by-roles-that-name-it", "high",
      "A secret's value is readable only by roles whose policy names that secret", ["secretsmanager.Secret"],
      equivalents=["graph rule: no single-resource scanner equivalent"], graph=True)
def secret_reach(s: Subject) -> Iterator[str]:
    name = s.get("Name", "")
    for role in s.of_type("iam.Role"):
        for pname, doc in (role.get("InlinePolicies") or {}).items():
            for st in statements(doc):
                if st.get("Effect") != "Allow" or not SECRET_READ & set(as_list(st.get("Action"))):
                    continue
                for res in as_list(st.get("Resource")):
                    if not literal(res):
                        continue  # a Ref names a particular secret of the plan
                    text = str(res)
                    if text == "*" or (text.endswith("*") and ":secret:" in text
                                       and not literal_prefix_excludes(text, name)):
                        yield (f"{role.address} can read it through {pname!r} ({text}) although its policy "
                               "names no such secret")


def literal_prefix_excludes(pattern: str, name: str) -> bool:
    """True when an ARN pattern's secret-name prefix cannot match this secret's name."""
    prefix = pattern.split(":secret:", 1)[1].rstrip("*")
    return bool(prefix) and not str(name).startswith(prefix)
