"""Print a pip constraints file pinning every direct dependency to its declared lower bound.

CI installs with it (`pip install -c <(python scripts/lowest_constraints.py) -e '.[dev]'`) and runs a
fast subset, so the floors in pyproject.toml are true: the lowest allowed versions work.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def floors(pyproject: Path) -> list[str]:
    data = tomllib.loads(pyproject.read_text())
    deps = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        deps.extend(extra)
    out = []
    for dep in deps:
        m = re.match(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*>=\s*([^,;\s]+)", dep)
        if m is None:
            raise SystemExit(f"{dep!r} has no >= lower bound: every direct dependency declares one")
        out.append(f"{m.group(1)}=={m.group(3)}")
    return out


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    print("\n".join(floors(root / "pyproject.toml")))
