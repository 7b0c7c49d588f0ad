"""Day-2 operations end to end on the real network and compute layers (dev), through the CLI on moto.

One test walks the whole story, because each apply of this plan costs
seconds: a targeted apply, the full apply, drift made behind the tool's back
(a security-group rule revoked, the node group resized) found and repaired,
saved plan files (stale refused, fresh applied exactly), a forced replacement
that re-points dependents, lifecycle settings that outlive the code, a
targeted destroy.
"""

from __future__ import annotations

import copy
import json

import pytest

from orchestrator.graph import build_graph, requirements
from orchestrator.model import Plan
from plans.genai_demo import compute, network
from plans.genai_demo.profiles import profile
from resources.base import Lifecycle
from resources.kms import Key
from tests.fakes import install_plan
from tests.helpers import count_calls, infra, one_line

pytestmark = pytest.mark.slow

CODE: dict = {"desired": None, "lifecycle": {}, "removed": set()}  # the test's "code changes"
RULE = "main.alb_sg_ingress_443_anywhere"
NODES = "main.eks_nodes"


def build_day2(env: str) -> Plan:
    p = copy.deepcopy(profile(env))
    if CODE["desired"] is not None:
        p["eks"]["node_groups"]["nodes"]["desired"] = CODE["desired"]
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    stack = plan.stack("main")
    net = network.build(stack, p)
    key = stack.add(Key("kms_key", Description="day2 key"))
    compute.build(stack, p, net=net, kms_key=key)
    for name, lc in CODE["lifecycle"].items():
        stack.resources[name].lifecycle = stack.resources[name].lifecycle.merge(lc)
    for name in CODE["removed"]:
        del stack.resources[name]
    return plan


PLAN = install_plan("genai_demo_day2", build_day2)


def cli(*args: str, ok: bool | None = True):
    return infra(*args, "--plan", PLAN, "--env", "dev", ok=ok)


def addresses() -> set[str]:
    return {r["address"] for r in json.loads(cli("state", "list", "--json").stdout)}


def pid(address: str) -> str:
    return json.loads(cli("state", "show", address).output)["physical_id"]


@pytest.fixture
def code():
    CODE.update(desired=None, lifecycle={}, removed=set())
    yield CODE
    CODE.update(desired=None, lifecycle={}, removed=set())


def test_day2_story(aws, code, tmp_path):
    ec2, eks, ecr = aws.client("ec2"), aws.client("eks"), aws.client("ecr")
    cluster_name = "genai-demo-dev-eks-cluster"

    # -- targets: an unknown one is named before any AWS resource call ------------------------
    with count_calls() as log:
        out = cli("apply", "--target", "main.nope", "--auto-approve", ok=None)
    assert out.exit_code == 1 and "unknown address --target main.nope" in one_line(out.output)
    assert [c for c in log.calls if c[0] not in ("dynamodb", "sts")] == []

    # A targeted apply of the node group creates exactly it and what it needs.
    needed = requirements(build_graph(build_day2("dev"))[0], NODES) | {NODES}
    cli("apply", "--target", NODES, "--auto-approve")
    assert addresses() == needed
    assert "main.nat_a" not in needed and "main.ecr_backend" not in needed
    assert eks.list_nodegroups(clusterName=cluster_name)["nodegroups"] == ["genai-demo-dev-eks-nodes"]
    assert ecr.describe_repositories()["repositories"] == []
    assert eks.list_fargate_profiles(clusterName=cluster_name)["fargateProfileNames"] == []

    cli("apply", "--auto-approve")
    assert cli("plan", "--detailed-exitcode").exit_code == 0
    assert json.loads(cli("scan", "--json").stdout)["orphans"] == []  # every tagged resource is known

    # -- drift behind the tool's back ---------------------------------------------------------
    alb_sg, rule_id = pid("main.alb_sg"), pid(RULE)

    def revoke_rule() -> None:
        ec2.revoke_security_group_ingress(GroupId=alb_sg, SecurityGroupRuleIds=[rule_id])

    revoke_rule()
    eks.update_nodegroup_config(clusterName=cluster_name, nodegroupName="genai-demo-dev-eks-nodes",
                                scalingConfig={"minSize": 1, "desiredSize": 3, "maxSize": 3})
    out = cli("drift", "--json", ok=None)
    assert out.exit_code == 2
    drifted = {r["address"]: r for r in json.loads(out.stdout)["resources"]}
    assert set(drifted) == {RULE, NODES}
    assert drifted[NODES]["drift"]["ScalingConfig"][1]["DesiredSize"] == 3
    assert "(resource)" in drifted[RULE]["drift"]
    text = cli("plan").output
    assert "Drift: 2 resource(s) changed outside the tool" in text
    assert f"{NODES} (eks.Nodegroup) update: drift repair" in text and "drift ScalingConfig" in text
    assert f"{RULE} (ec2.SecurityGroupRule) create: deleted outside the tool" in text
    stale = str(tmp_path / "stale.plan")
    cli("plan", "--out", stale)

    cli("apply", "--auto-approve")
    assert cli("drift").exit_code == 0
    ng = eks.describe_nodegroup(clusterName=cluster_name, nodegroupName="genai-demo-dev-eks-nodes")["nodegroup"]
    assert ng["scalingConfig"]["desiredSize"] == 1
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [alb_sg]}])["SecurityGroupRules"]
    assert any(not r["IsEgress"] and r["FromPort"] == 443 and r.get("CidrIpv4") == "0.0.0.0/0" for r in rules)

    # -- plan files: a stale one is refused, a fresh one is applied exactly -------------------------
    out = infra("apply", stale, "--auto-approve", ok=None)
    assert out.exit_code == 1 and "stale" in out.output and "serial" in out.output

    code["desired"] = 2
    fresh = str(tmp_path / "fresh.plan")
    cli("plan", "--out", fresh)
    rule_id = pid(RULE)
    revoke_rule()  # after the plan: not in it, so applying the file must not touch it
    with count_calls() as log:
        out = infra("apply", fresh, "--auto-approve")  # env and plan come from the file
    assert ("eks", "UpdateNodegroupConfig") in log.mutating
    assert not [c for c in log.mutating if c[0] == "ec2"], log.mutating
    ng = eks.describe_nodegroup(clusterName=cluster_name, nodegroupName="genai-demo-dev-eks-nodes")["nodegroup"]
    assert ng["scalingConfig"]["desiredSize"] == 2
    out = cli("drift", "--json", ok=None)
    assert out.exit_code == 2 and [r["address"] for r in json.loads(out.stdout)["resources"]] == [RULE]
    out = infra("apply", fresh, "--auto-approve", ok=None)  # applied once: the serial moved
    assert out.exit_code == 1 and "stale" in out.output
    cli("apply", "--auto-approve")

    # -- --replace re-points what refers to the replaced resource -------------------------------
    old_msk = pid("main.msk_sg")
    out = cli("apply", "--replace", "main.msk_sg", "--target", "main.msk_sg", "--auto-approve")
    assert "main.msk_sg (ec2.SecurityGroup) replace: replacement requested" in out.output
    assert "main.msk_sg_ingress_9092_app (ec2.SecurityGroupRule) replace" in out.output
    new_msk = pid("main.msk_sg")
    assert new_msk != old_msk
    assert ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [old_msk]}])["SecurityGroups"] == []
    msk_rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [new_msk]}])["SecurityGroupRules"]
    # 9098 twice: from the app group (nodes) and from EKS's cluster group (Fargate pods).
    assert sorted(r["FromPort"] for r in msk_rules if not r["IsEgress"]) == [9092, 9094, 9096, 9098, 9098]
    assert cli("plan", "--detailed-exitcode").exit_code == 0

    # -- lifecycle settings are recorded and hold once the resources leave the code --------------
    code["lifecycle"] = {"ecr_backend": Lifecycle(protect=True), "ecr_cmc_frontend": Lifecycle(retain_on_delete=True)}
    with count_calls() as log:
        out = cli("apply", "--auto-approve")
    assert log.mutating == [] and "main.ecr_backend lifecycle recorded in state" in out.output
    assert json.loads(cli("state", "show", "main.ecr_backend").output)["lifecycle"]["protect"] is True
    code["lifecycle"], code["removed"] = {}, {"ecr_backend", "ecr_cmc_frontend"}
    out = cli("apply", "--auto-approve", ok=None)
    assert out.exit_code == 1 and "main.ecr_backend" in out.output and "prevent_destroy" in out.output
    out = cli("destroy", "--target", "main.ecr_backend", "--auto-approve", ok=None)
    assert out.exit_code == 1 and "protected (prevent_destroy)" in out.output
    assert {"main.ecr_backend", "main.ecr_cmc_frontend"} <= addresses()
    out = cli("apply", "--target", "main.ecr_cmc_frontend", "--auto-approve")
    assert "retain_on_delete" in out.output
    assert "main.ecr_cmc_frontend" not in addresses()
    repos = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    assert "genai-demo/dev/cmc-frontend" in repos  # retained in AWS
    orphans = json.loads(cli("scan", "--json").stdout)["orphans"]
    assert [(o["service"], o["type"], o["address"]) for o in orphans] == [
        ("ecr", "ecr.Repository", "main.ecr_cmc_frontend")]

    # -- a targeted destroy takes what depends on the target, and nothing it needs ----------------
    code["removed"] = set()
    # The repositories' policies name the Fargate pod role, which only the cluster's pods may assume: they
    # depend on the cluster, so the protected one blocks the targeted destroy until protection is lifted.
    out = cli("destroy", "--target", "main.eks_cluster", "--auto-approve", ok=None)
    assert out.exit_code == 1 and "main.ecr_backend" in out.output and "prevent_destroy" in out.output
    code["lifecycle"] = {"ecr_backend": Lifecycle(protect=False)}
    cli("apply", "--target", "main.ecr_backend", "--auto-approve")  # cmc-frontend was retained: not re-created
    cli("destroy", "--target", "main.eks_cluster", "--auto-approve")
    assert eks.list_clusters()["clusters"] == []
    left = addresses()
    assert NODES not in left and "main.eks_fargate" not in left and "main.eks_oidc" not in left
    assert {"main.vpc", "main.kms_key", "main.eks_cluster_role"} <= left and "main.ecr_backend" not in left
