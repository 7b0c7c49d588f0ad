"""pyproject.toml's runtime dependencies are enough to run the tool and its sandbox.

Every other test runs with the dev extras installed (cfn-lint, jsonschema, pytest and what they pull
in), which would hide a runtime dependency the install no longer brings: moto's backends import what
their extras declare when a service is first called, and `make demo` or `pip install .` gets only the
runtime set. Here the CLI and the sandbox server it starts run with every installed distribution outside
genai-infra's runtime closure unimportable (a `sitecustomize` on PYTHONPATH, which the server inherits);
`sandbox up` calls every service the plans use before it returns, then the GenAI Demo plan is validated
and `infra init`'s starter plan applied and destroyed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

BLOCKER = '''
import sys
BLOCKED = frozenset({blocked!r})

class _NotARuntimeDependency:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{{name}} is not a runtime dependency of genai-infra (tests/test_runtime_deps.py)")
        return None

sys.meta_path.insert(0, _NotARuntimeDependency())
'''


def runtime_closure(root: str = "genai-infra") -> set[str]:
    """Canonical names of every distribution the runtime dependencies bring, extras followed."""
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    todo: list[tuple[str, str]] = [(root, "")]
    while todo:
        name, extra = todo.pop()
        if (canonicalize_name(name), extra) in seen:
            continue
        seen.add((canonicalize_name(name), extra))
        names.add(canonicalize_name(name))
        for line in metadata.distribution(name).requires or []:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({**default_environment(), "extra": extra}):
                continue
            if req.marker is None and extra:
                continue  # an unconditional requirement was taken with the "" pass
            todo.append((req.name, ""))
            todo.extend((req.name, e) for e in req.extras)
    return names


def blocked_modules(closure: set[str]) -> set[str]:
    out = set()
    for module, dists in metadata.packages_distributions().items():
        if module.isidentifier() and not any(canonicalize_name(d) in closure for d in dists):
            out.add(module)
    return out


def test_the_closure_is_what_pyproject_declares():
    closure = runtime_closure()
    assert {"boto3", "moto", "flask", "flask-cors", "networkx", "docker", "py-partiql-parser"} <= closure
    # The dev extras and what only moto's `server` extra pulled in are outside it, so they are blocked.
    assert not {"cfn-lint", "sympy", "pytest", "jsonpatch", "pydantic"} & closure
    blocked = blocked_modules(closure)
    assert {"cfnlint", "sympy", "pytest"} <= blocked and not {"moto", "boto3", "flask"} & blocked


def test_sandbox_and_cli_run_on_the_runtime_dependencies_alone(tmp_path: Path):
    blocked = blocked_modules(runtime_closure())
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=sorted(blocked)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFRA_", "AWS_", "PYTEST"))}
    env.update(PYTHONPATH=str(site), INFRA_SANDBOX_DIR=str(tmp_path / "sandbox"))
    infra = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*infra, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)

    probe = subprocess.run([sys.executable, "-c", "import cfnlint"], env=env, capture_output=True, text=True)
    assert "not a runtime dependency" in probe.stderr  # the blocker is in force in every child

    up = run("sandbox", "up")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        checks = [run("validate", "--env", "dev"), run("init", "starter"),
                  run("apply", "--sandbox", "--plan", "starter/plan.py", "--env", "dev", "--auto-approve"),
                  run("destroy", "--sandbox", "--plan", "starter/plan.py", "--env", "dev", "--auto-approve")]
        for out in checks:
            assert out.returncode == 0, out.stdout + out.stderr
    finally:
        down = run("sandbox", "down")
    log = (tmp_path / "sandbox" / "server.log").read_text()
    assert "not a runtime dependency" not in log, log[-3000:]
    assert down.returncode == 0, down.stderr
