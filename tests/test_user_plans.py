"""Plans from the user's own repository: a file, a package with relative imports, a dotted module.

Each goes through `infra --plan PATH` on the sandbox: validate, plan, apply, a re-plan with no
changes, destroy, with what AWS holds checked through independent boto3 calls. Two plans applied
into one account keep separate state (records are keyed by the plan's project).
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from core.errors import PlanError
from tests.helpers import infra

FILE_PLAN = '''
from orchestrator.model import Plan
from resources.ec2 import Vpc
from resources.ssm import Parameter


def build(env):
    plan = Plan(project="{project}", env=env, region="ap-east-2", tags={{"Project": "{project}"}})
    main = plan.stack("main")
    vpc = main.add(Vpc("vpc", CidrBlock="{cidr}"))
    main.add(Parameter("vpc_id", Name="network/vpc-id", Value=vpc["VpcId"]))
    return plan
'''


def write_file_plan(tmp: Path, project: str, cidr: str) -> Path:
    path = tmp / f"{project.replace('-', '_')}_plan.py"
    path.write_text(FILE_PLAN.format(project=project, cidr=cidr))
    return path


def write_package_plan(tmp: Path) -> Path:
    pkg = tmp / "acme_infra"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from orchestrator.model import Plan

        from . import network
        from .settings import PROFILES


        def build(env):
            p = PROFILES[env]
            plan = Plan(project="acme", env=env, region="ap-east-2", tags={"Project": "acme"})
            network.build(plan.stack("main"), p)
            return plan
    '''))
    (pkg / "settings.py").write_text('PROFILES = {"dev": {"cidr": "10.61.0.0/16"}, "production": {"cidr": "10.62.0.0/16"}}\n')
    (pkg / "network.py").write_text(textwrap.dedent('''
        from resources.ec2 import Subnet, Vpc


        def build(stack, p):
            vpc = stack.add(Vpc("vpc", CidrBlock=p["cidr"]))
            stack.add(Subnet("subnet_a", VpcId=vpc["VpcId"], CidrBlock=p["cidr"].replace("0.0/16", "1.0/24"),
                             AvailabilityZone="ap-east-2a"))
    '''))
    return pkg


def vpcs(aws, cidr: str) -> list[dict]:
    return aws.client("ec2").describe_vpcs(Filters=[{"Name": "cidr", "Values": [cidr]}])["Vpcs"]


@pytest.fixture
def clean_modules():
    before = set(sys.modules)
    path = list(sys.path)
    yield
    for m in set(sys.modules) - before:
        if m.startswith(("acme_infra", "team_a_plan", "team_b_plan")):
            del sys.modules[m]
    sys.path[:] = path


def lifecycle(aws, plan: str, cidr: str) -> None:
    infra("validate", "--plan", plan, "--env", "dev")
    out = infra("plan", "--plan", plan, "--env", "dev", "--detailed-exitcode", ok=None)
    assert out.exit_code == 2, out.output
    infra("apply", "--plan", plan, "--env", "dev", "--auto-approve")
    assert len(vpcs(aws, cidr)) == 1
    again = infra("plan", "--plan", plan, "--env", "dev", "--detailed-exitcode", ok=None)
    assert again.exit_code == 0, again.output
    infra("destroy", "--plan", plan, "--env", "dev", "--auto-approve")
    assert vpcs(aws, cidr) == []


@pytest.mark.slow
def test_plan_file_and_package_outside_the_repository(aws, tmp_path, clean_modules):
    lifecycle(aws, str(write_file_plan(tmp_path, "team-a", "10.51.0.0/16")), "10.51.0.0/16")
    pkg = write_package_plan(tmp_path)
    lifecycle(aws, str(pkg), "10.61.0.0/16")
    # the subnet came from the package's relative import
    infra("apply", "--plan", str(pkg), "--env", "dev", "--auto-approve")
    [vpc] = vpcs(aws, "10.61.0.0/16")
    subnets = aws.client("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    assert [s["CidrBlock"] for s in subnets] == ["10.61.1.0/24"]
    infra("destroy", "--plan", str(pkg), "--env", "dev", "--auto-approve")


@pytest.mark.slow
def test_two_plans_in_one_account_keep_separate_state(aws, tmp_path, clean_modules, monkeypatch):
    a = str(write_file_plan(tmp_path, "team-a", "10.51.0.0/16"))
    b = str(write_file_plan(tmp_path, "team-b", "10.52.0.0/16"))
    infra("apply", "--plan", a, "--env", "dev", "--auto-approve")
    monkeypatch.setenv("INFRA_PLAN", b)  # the env variable names the plan as well as --plan does
    infra("apply", "--env", "dev", "--auto-approve")
    listed_a = json.loads(infra("state", "list", "--plan", a, "--env", "dev", "--json").output)
    listed_b = json.loads(infra("state", "list", "--env", "dev", "--json").output)
    addrs = lambda listed: sorted(r["address"] for r in listed)  # noqa: E731
    assert addrs(listed_a) == addrs(listed_b) == ["main.vpc", "main.vpc_id"]
    assert {r["physical_id"] for r in listed_a}.isdisjoint({r["physical_id"] for r in listed_b})
    # destroying one plan leaves the other's resources alone
    infra("destroy", "--plan", a, "--env", "dev", "--auto-approve")
    assert vpcs(aws, "10.51.0.0/16") == [] and len(vpcs(aws, "10.52.0.0/16")) == 1
    assert aws.client("ssm").get_parameter(Name="/team-b/dev/network/vpc-id")["Parameter"]["Value"] == \
        vpcs(aws, "10.52.0.0/16")[0]["VpcId"]
    infra("destroy", "--env", "dev", "--auto-approve")


def test_broken_user_plans_are_plan_errors(tmp_path, clean_modules):
    import plans

    (tmp_path / "nobuild.py").write_text("X = 1\n")
    (tmp_path / "syntax.py").write_text("def build(env:\n")
    (tmp_path / "noinit").mkdir()
    cases = {
        str(tmp_path / "nobuild.py"): "has no build",
        str(tmp_path / "syntax.py"): "is malformed",
        str(tmp_path / "noinit"): "without __init__.py",
        str(tmp_path / "missing.py"): "no such file",
        "no_such_module_anywhere": "no plan named",
    }
    for name, message in cases.items():
        with pytest.raises(PlanError, match=message):
            plans.load(name, "dev")


def test_dotted_module_name(tmp_path, clean_modules, monkeypatch):
    import plans

    write_file_plan(tmp_path, "team-a", "10.51.0.0/16")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert plans.load("team_a_plan", "dev").project == "team-a"
    assert plans.load("plans.genai_demo", "dev").project == "genai-demo"
