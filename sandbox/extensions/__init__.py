"""Fidelity extensions: what moto 5.2.5 lacks for GenAI Demo, in moto's own layout.

Each module adds methods to moto's backend and response classes (moto
dispatches an API action to the snake_case method of the same name) and, where
needed, URL patterns to the service's urls module. Because they live on the
classes moto registers through BackendDict, they work in-process under
mock_aws and through moto's server alike. `install()` is idempotent.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

MODULES = ("serialize", "core", "dynamodb", "ec2", "iam", "kafka", "elasticache", "eks", "xray", "analytics", "firehose_msk", "misc", "ssm", "transitions")



def strict_modules() -> tuple[str, ...]:
    """The strict rules' extensions (strict_<family>.py, sandbox/strict.py), loaded after the others."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("strict_")))


_lock = threading.Lock()
_installed = False


def install() -> None:
    """Load every extension (once per process), and the lifecycle hooks they rely on."""
    global _installed
    with _lock:
        if _installed:
            return
        from sandbox.extensions import botocore_data

        botocore_data.install()  # first: moto.ec2 reads region lists as it is imported
        from sandbox import lifecycle

        lifecycle.register_defaults()
        lifecycle.install_tick()
        for name in MODULES + strict_modules():
            try:
                module = importlib.import_module(f"sandbox.extensions.{name}")
            except ModuleNotFoundError as exc:
                if exc.name == f"sandbox.extensions.{name}":
                    continue  # not written yet
                raise
            module.install()
        _installed = True
