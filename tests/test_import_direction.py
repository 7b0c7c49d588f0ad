"""Which way imports point (docs/architecture-of-the-code.md), read from the source with ast.

- orchestrator/ (the engine) imports core/, state/, resources/base.py, the policy framework
  (resources/policy.py, resources/rules/, which it runs without knowing what they check) and itself: never a service
  module of resources/, never sandbox/ or plans/, and it names no AWS service: no service name passed
  to client() as a literal (but the engine's own: STS, the tagging API, the state's DynamoDB), no
  resource type name ("ec2.Vpc") or CloudFormation type name ("AWS::EC2::VPC") in its strings;
- resources/, core/ and state/ never import orchestrator/ (nor plans/ or sandbox/);
- core/ imports nothing of the project but core/; state/ only core/;
- nothing of the tool imports sandbox/ (tests and bench do, and cli.py for `infra sandbox`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from resources.base import REGISTRY, lookup_type

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "state", "resources", "orchestrator", "plans", "sandbox", "bench", "tests")

# Services the engine itself talks to, not a resource type's: who the caller is (sts), the one
# cross-service search for tagged resources (`infra scan`), the state store's table.
ENGINE_SERVICES = frozenset({"sts", "resourcegroupstaggingapi", "dynamodb"})

# layer -> the project packages it must not import
FORBIDDEN: dict[str, frozenset[str]] = {
    "orchestrator": frozenset({"sandbox", "plans", "bench", "tests"}),
    "resources": frozenset({"orchestrator", "state", "plans", "sandbox", "bench", "tests"}),
    "state": frozenset({"orchestrator", "resources", "plans", "sandbox", "bench", "tests"}),
    "core": frozenset({"orchestrator", "resources", "state", "plans", "sandbox", "bench", "tests"}),
    "plans": frozenset({"sandbox", "bench", "tests"}),
}


def sources(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import, at any depth (imports inside functions count too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for a in node.names:  # `from resources import ec2` imports resources.ec2
                yield node.lineno, f"{node.module}.{a.name}"


def import_violations(folder: str) -> list[str]:
    out = []
    for path in sources(folder):
        for line, mod in imported(ast.parse(path.read_text(), str(path))):
            top = mod.split(".")[0]
            if top in FORBIDDEN[folder]:
                out.append(f"{path.relative_to(ROOT)}:{line} imports {mod}")
            generic = ("resources", "resources.base", "resources.policy", "resources.rules")  # no service in them
            if folder == "orchestrator" and top == "resources" and mod not in generic \
                    and not mod.startswith(("resources.base.", "resources.policy.")):
                out.append(f"{path.relative_to(ROOT)}:{line} imports the service module {mod}")
    return out


def service_name_violations(source: str, where: str) -> list[str]:
    """Literal service names passed to client(), type names and CloudFormation type names in strings."""
    lookup_type("ec2.Vpc")  # registers every type
    types = {t for t in REGISTRY if not t.startswith("test.")}
    services = {cls.service for t, cls in REGISTRY.items() if not t.startswith("test.")}
    type_like = re.compile(rf"\b({'|'.join(map(re.escape, sorted(services)))})\.[A-Z]\w+")
    out = []
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if name == "client" and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and node.args[0].value not in ENGINE_SERVICES:
                out.append(f"{where}:{node.lineno} calls client({node.args[0].value!r})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for m in type_like.finditer(node.value):
                if m.group(0) in types:
                    out.append(f"{where}:{node.lineno} names the type {m.group(0)}")
            for m in re.finditer(r"AWS::\w+::\w+", node.value):
                out.append(f"{where}:{node.lineno} names the AWS type {m.group(0)}")
    return out


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_imports_point_down(folder):
    bad = import_violations(folder)
    assert not bad, "imports against the direction in docs/architecture-of-the-code.md:\n  " + "\n  ".join(bad)


def test_the_engine_names_no_aws_service():
    bad = [v for p in sources("orchestrator") for v in service_name_violations(p.read_text(), str(p.relative_to(ROOT)))]
    assert not bad, "orchestrator/ knows an AWS service; declare it on the resource type instead:\n  " + \
        "\n  ".join(bad)


def test_the_checks_catch_what_they_forbid():
    """The rules trip on what they are for (else a rename would turn them into tests that cannot fail)."""
    src = ("from sandbox import latency\nimport plans\nfrom resources import ec2\n"
           "def f(c):\n    from resources.eks import Cluster\n    c.client('eks')\n    c.client('sts')\n"
           "    return {'ec2.NatGateway': 1, 'x': 'AWS::EC2::VPC', 'y': 'ec2.vpc'}\n")
    mods = {m for _, m in imported(ast.parse(src))}
    assert {"sandbox", "plans", "resources.ec2", "resources.eks"} <= mods
    found = service_name_violations(src, "probe.py")
    assert sorted(found) == ["probe.py:6 calls client('eks')", "probe.py:8 names the AWS type AWS::EC2::VPC",
                             "probe.py:8 names the type ec2.NatGateway"]


def test_every_folder_is_known():
    """A new top-level package needs a line in the rules and in docs/architecture-of-the-code.md."""
    pkgs = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert pkgs <= set(PACKAGES), sorted(pkgs - set(PACKAGES))
    doc = (ROOT / "docs" / "architecture-of-the-code.md").read_text()
    for folder in (*PACKAGES, "cli.py"):
        assert f"{folder}" in doc, folder
