"""Issue 2 end to end: the GenAI Demo network layer applied, re-planned, changed and destroyed on moto.

A plan holding only the network layer of the real plan (same code, same
profiles), so these tests prove the engine on the first real workload
without waiting for the rest of the main stack.
"""

from __future__ import annotations

import json
import threading

import pytest

from orchestrator.model import Plan
from plans.genai_demo import network
from plans.genai_demo.profiles import profile
from tests.fakes import install_plan
from tests.helpers import count_calls, infra

pytestmark = pytest.mark.slow


OVERRIDES: dict[str, dict] = {}  # address -> property overrides: a test's "code change"


def build_network_only(env: str) -> Plan:
    p = profile(env)
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    network.build(plan.stack("main"), p)
    for name, props in OVERRIDES.items():
        plan.stack("main").resources[name].properties.update(props)
    return plan


PLAN = install_plan("genai_demo_network", build_network_only)


def tagged(ec2, describe, key, env):
    return getattr(ec2, describe)(Filters=[{"Name": "tag:infra:env", "Values": [env]}])[key]


def by_name(items):
    out = {}
    for i in items:
        tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
        out[tags["infra:address"]] = i
    return out


@pytest.mark.parametrize("env,nats", [("dev", 1), ("production", 3)])
def test_apply_noop_destroy(aws, env, nats):
    infra("apply", "--plan", PLAN, "--env", env, "--auto-approve")
    ec2 = aws.client("ec2")
    vpcs = tagged(ec2, "describe_vpcs", "Vpcs", env)
    assert len(vpcs) == 1 and vpcs[0]["CidrBlock"] == "10.0.0.0/16"
    vpc_id = vpcs[0]["VpcId"]
    subnets = by_name(tagged(ec2, "describe_subnets", "Subnets", env))
    assert len(subnets) == 9
    tiers = {"public": [], "private": [], "database": []}
    for addr, s in subnets.items():
        tier = next(t for t in tiers if t in addr)
        tiers[tier].append(s)
    assert all(len(v) == 3 for v in tiers.values())
    assert len({s["AvailabilityZone"] for s in tiers["private"]}) == 3
    assert not any(s["MapPublicIpOnLaunch"] for t in tiers.values() for s in t)  # the ALB and NAT need none
    nat = [n for n in ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NatGateways"]
           if n["State"] == "available"]
    assert len(nat) == nats
    igw = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    assert len(igw["InternetGateways"]) == 1
    # Routes: public subnets -> IGW, private -> NAT, database: no default route.
    rts = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    subnet_rt = {a["SubnetId"]: rt for rt in rts for a in rt.get("Associations", []) if a.get("SubnetId")}

    def default_route(subnet):
        rt = subnet_rt[subnet["SubnetId"]]
        return next((r for r in rt["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"), None)

    assert all(default_route(s)["GatewayId"].startswith("igw-") for s in tiers["public"])
    assert all(default_route(s)["NatGatewayId"].startswith("nat-") for s in tiers["private"])
    assert all(default_route(s) is None for s in tiers["database"])
    # Security groups: the ALB reaches the app, the app reaches the database.
    sgs = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "tag:infra:env", "Values": [env]}])["SecurityGroups"]}
    by_role = {role: next(g for n, g in sgs.items() if n.endswith(f"-{role}") or n.endswith(f"-{role}-sg"))
               for role in ("alb", "app", "database", "redis", "msk")}
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [
        g["GroupId"] for g in by_role.values()]}])["SecurityGroupRules"]

    def has(group, egress, port, source_group=None, cidr=None):
        return any(r["GroupId"] == by_role[group]["GroupId"] and r["IsEgress"] == egress and r["FromPort"] <= port
                   <= r["ToPort"] and (source_group is None or r.get("ReferencedGroupInfo", {}).get("GroupId")
                                       == by_role[source_group]["GroupId"]) and (cidr is None or r.get("CidrIpv4") == cidr)
                   for r in rules)

    assert has("alb", False, 443, cidr="0.0.0.0/0") and has("alb", False, 80, cidr="0.0.0.0/0")
    assert has("alb", True, 8080, source_group="app")
    assert has("app", False, 8080, source_group="alb")
    assert has("database", False, 5432, source_group="app")
    assert has("redis", False, 6379, source_group="app")
    # Network ACLs: each tier's subnets on that tier's ACL, holding exactly the table's entries.
    acls = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkAcls"]
    acl_of = {a["SubnetId"]: acl for acl in acls for a in acl.get("Associations", [])}
    tier_cidrs = {t: [s["CidrBlock"] for _, s in sorted((a, s) for a, s in subnets.items() if f"_{t}_" in a)]
                  for t in tiers}
    for tier, subs in tiers.items():
        ids = {acl_of[s["SubnetId"]]["NetworkAclId"] for s in subs}
        assert len(ids) == 1, (tier, ids)
        acl = acl_of[subs[0]["SubnetId"]]
        assert not acl["IsDefault"]
        assert {t["Key"]: t["Value"] for t in acl["Tags"]}["infra:address"] == f"main.nacl_{tier}"
        seen = {(e["Egress"], e["RuleNumber"], e["RuleAction"], e["Protocol"], e["CidrBlock"],
                 tuple(e["PortRange"].values()) if e.get("PortRange") else None)
                for e in acl["Entries"] if e["RuleNumber"] != 32767}  # AWS's final deny
        want = {(egress, number + i, action, proto, block, ports)
                for number, egress, action, proto, ports, peer in network.NACL_ENTRIES[tier]
                for i, block in enumerate(["0.0.0.0/0"] if peer == "0.0.0.0/0" else tier_cidrs[peer])}
        assert seen == want, tier
    db_acl = acl_of[tiers["database"][0]["SubnetId"]]
    assert {(e["CidrBlock"], e["PortRange"]["From"]) for e in db_acl["Entries"] if not e["Egress"]
            and e["RuleNumber"] != 32767} == {(c, 5432) for c in tier_cidrs["private"]}

    # A second apply plans nothing and makes no mutating call.
    with count_calls() as log:
        out = infra("plan", "--plan", PLAN, "--env", env, "--detailed-exitcode")
        infra("apply", "--plan", PLAN, "--env", env, "--auto-approve")
    assert "0 to create, 0 to update, 0 to replace, 0 to delete" in out.output
    assert log.mutating == []

    # Destroy removes everything carrying the env's tags, and the state is empty.
    infra("destroy", "--plan", PLAN, "--env", env, "--auto-approve")
    assert tagged(ec2, "describe_vpcs", "Vpcs", env) == []
    assert tagged(ec2, "describe_subnets", "Subnets", env) == []
    assert [n for n in tagged(ec2, "describe_nat_gateways", "NatGateways", env) if n["State"] != "deleted"] == []
    assert tagged(ec2, "describe_internet_gateways", "InternetGateways", env) == []
    assert tagged(ec2, "describe_route_tables", "RouteTables", env) == []
    assert tagged(ec2, "describe_security_groups", "SecurityGroups", env) == []
    assert tagged(ec2, "describe_network_acls", "NetworkAcls", env) == []
    assert ec2.describe_addresses(Filters=[{"Name": "tag:infra:env", "Values": [env]}])["Addresses"] == []
    listing = infra("state", "list", "--plan", PLAN, "--env", env, "--json")
    assert json.loads(listing.stdout) == []


def test_change_updates_in_place_or_replaces_in_graph_order(aws, monkeypatch):
    infra("apply", "--plan", PLAN, "--env", "dev", "--auto-approve")
    ec2 = aws.client("ec2")
    # In place: the VPC's DNS hostnames flag.
    prof = profile("dev")
    monkeypatch.setitem(OVERRIDES, "vpc", {"EnableDnsHostnames": False})
    vpc_id = tagged(ec2, "describe_vpcs", "Vpcs", "dev")[0]["VpcId"]
    out = infra("apply", "--plan", PLAN, "--env", "dev", "--auto-approve")
    assert "main.vpc (ec2.Vpc) update" in out.output
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is False
    assert tagged(ec2, "describe_vpcs", "Vpcs", "dev")[0]["VpcId"] == vpc_id
    # Replacement: a new VPC CIDR replaces the VPC and, before it, everything in it.
    monkeypatch.setitem(prof["network"], "vpc_cidr", "10.20.0.0/16")
    monkeypatch.setitem(OVERRIDES, "vpc", {"EnableDnsHostnames": False})
    events = []
    import orchestrator.apply as ap

    real = ap.Applier.do_create

    def spy(self, change):
        events.append(("create", change.address))
        return real(self, change)

    real_del = ap.Applier.do_delete

    def spy_del(self, change):
        events.append(("delete", change.address))
        return real_del(self, change)

    monkeypatch.setattr(ap.Applier, "do_create", spy)
    monkeypatch.setattr(ap.Applier, "do_delete", spy_del)
    out = infra("apply", "--plan", PLAN, "--env", "dev", "--auto-approve")
    assert "main.vpc (ec2.Vpc) replace" in out.output
    vpcs = tagged(ec2, "describe_vpcs", "Vpcs", "dev")
    assert [v["CidrBlock"] for v in vpcs] == ["10.20.0.0/16"]
    pos = {e: i for i, e in enumerate(events)}
    subnets = [a for k, a in events if "subnet" in a and k == "create"]
    assert subnets and all(pos[("create", "main.vpc")] < pos[("create", s)] for s in subnets)
    assert all(pos[("delete", s)] < pos[("delete", "main.vpc")] for s in subnets)
    infra("destroy", "--plan", PLAN, "--env", "dev", "--auto-approve")


def test_two_concurrent_applies_exactly_one_runs(aws):
    # The first run holds the lock while it applies; the second must fail at once naming it.
    from state.dynamodb import DynamoStateStore

    store = DynamoStateStore(aws.client("dynamodb"), "genai-demo", "dev", "genai-infra-state-test")
    store.ensure_table()
    store.acquire("apply", owner="ci@runner-1:4242")
    try:
        out = infra("apply", "--plan", PLAN, "--env", "dev", "--auto-approve", ok=False)
        assert out.exit_code == 1 and "locked by ci@runner-1:4242" in out.output
        assert aws.client("ec2").describe_vpcs(Filters=[{"Name": "tag:infra:env", "Values": ["dev"]}])["Vpcs"] == []
    finally:
        store.release()
    # Two real concurrent runs: exactly one applies, the other fails at once naming the holder.
    from core.errors import LockError
    from orchestrator.runs import Options, Workspace, run_changes

    barrier = threading.Barrier(2)
    results: list = []

    def run(i):
        ws = Workspace(Options(env="dev", plan_name=PLAN))
        _ = ws.store  # table and credentials checked before the race
        barrier.wait()
        try:
            _, report = run_changes(ws, "apply")
            results.append(("ok", report.ok))
        except LockError as exc:
            results.append(("locked", str(exc)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kinds = sorted(k for k, _ in results)
    assert kinds == ["locked", "ok"], results
    assert "locked by" in next(v for k, v in results if k == "locked")
    infra("destroy", "--plan", PLAN, "--env", "dev", "--auto-approve")
