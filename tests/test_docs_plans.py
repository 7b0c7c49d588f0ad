"""The plan docs cannot drift from the code: the reference is generated, the complete example runs."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from resources import reference
from tests.helpers import infra

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_resource_reference_is_generated_from_the_types():
    have = (DOCS / "resource-reference.md").read_text()
    assert have == reference.markdown(), "stale: python -m resources.reference > docs/resource-reference.md"


def example_files() -> dict[str, str]:
    """The files of writing-plans.md's complete example: each block follows a `acme/<file>`: line."""
    text = (DOCS / "writing-plans.md").read_text()
    section = text.split("## A complete example outside this repository", 1)[1].split("\n## ", 1)[0]
    files = {}
    for m in re.finditer(r"`(?:~/src/acme-infra/)?(acme/[a-z_]+\.py)`:\n\n```python\n(.*?)```", section, re.S):
        files[m.group(1)] = m.group(2)
    return files


@pytest.mark.slow
def test_the_complete_example_of_writing_plans_applies_and_destroys(aws, tmp_path, monkeypatch):
    files = example_files()
    assert set(files) == {"acme/__init__.py", "acme/network.py", "acme/storage.py", "acme/profiles.py"}
    for name, code in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(code)
    monkeypatch.chdir(tmp_path)
    try:
        infra("validate", "--plan", "./acme", "--env", "dev")
        infra("apply", "--plan", "./acme", "--env", "dev", "--auto-approve")
        [vpc] = aws.client("ec2").describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.20.0.0/16"]}])["Vpcs"]
        value = aws.client("ssm").get_parameter(Name="/acme/dev/storage/vpc-id")["Parameter"]["Value"]
        assert value == vpc["VpcId"]  # the cross-stack reference resolved
        assert infra("plan", "--plan", "./acme", "--env", "dev", "--detailed-exitcode", ok=None).exit_code == 0
        infra("destroy", "--plan", "./acme", "--env", "dev", "--auto-approve")
        assert not aws.client("ec2").describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.20.0.0/16"]}])["Vpcs"]
    finally:
        for m in [m for m in sys.modules if m == "acme" or m.startswith("acme.")]:
            del sys.modules[m]
