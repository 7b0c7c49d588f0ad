"""Fidelity extensions: what moto 5.2.5 lacks for GenAI Demo, in moto's own layout.

Each module adds methods to moto's backend and response classes (moto
dispatches an API action to the snake_case method of the same name) and, where
needed, URL patterns to the service's urls module. Because they live on the
classes moto registers through BackendDict, they work in-process under
mock_aws and through moto's server alike. `install()` is idempotent.
"""

from __future__ import annotations

import importlib
import threading

MODULES = ("serialize", "core", "dynamodb", "ec2", "iam", "kafka", "elasticache", "eks", "xray", "analytics", "firehose_msk", "misc", "ssm", "transitions")

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Load every extension (once per process), and the lifecycle hooks they rely on."""
    global _installed
    with _lock:
        if _installed:
            return
        from sandbox import lifecycle

        lifecycle.register_defaults()
        lifecycle.install_tick()
        for name in MODULES:
            try:
                module = importlib.import_module(f"sandbox.extensions.{name}")
            except ModuleNotFoundError as exc:
                if exc.name == f"sandbox.extensions.{name}":
                    continue  # not written yet
                raise
            module.install()
        _installed = True
