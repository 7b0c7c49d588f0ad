"""The way Python users install tools: a wheel from the repository, into a fresh virtual environment.

The wheel must carry everything the tool reads at run time (bundled plans, the starter, waiter
JSON); the venv gets the wheel only (--no-deps), its dependencies come from this environment
through a path entry, so the test needs no download and still cannot see the source tree.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(tmp / "dist"), str(ROOT)], check=True, cwd=tmp)
    [wheel] = (tmp / "dist").glob("genai_infra-*.whl")
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # Dependencies from this environment (a plain path line: its editable install of this repo is not loaded).
    Path(purelib, "deps-from-test-env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)],
                   check=True)
    return env_dir


def run(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "INFRA_", "PYTEST"))}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_wheel_runs_validate_and_version_outside_the_repository(installed: Path, tmp_path: Path):
    out = run(installed, "infra", "--version", cwd=tmp_path)
    assert out.returncode == 0 and "version 0.1.0" in out.stdout, out.stderr
    out = run(installed, "infra", "validate", "--env", "dev", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "is valid" in out.stdout
    where = run(installed, str(installed / "bin" / "python"), "-c",
                "import resources, plans; print(resources.__file__, plans.__file__)", cwd=tmp_path)
    assert str(ROOT) not in where.stdout and str(installed) in where.stdout, where.stdout


def test_init_then_pytest_with_the_plugin_from_the_wheel(installed: Path, tmp_path: Path):
    out = run(installed, "infra", "init", "starter", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "starter" / "plan.py").is_file() and "Next:" in out.stdout
    again = run(installed, "infra", "init", "starter", cwd=tmp_path)
    assert again.returncode == 1 and "already exist" in again.stderr  # never overwrites silently
    tests = run(installed, str(installed / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                cwd=tmp_path / "starter")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout
