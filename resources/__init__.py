"""Resource types, one module per boto3 service; importing the package registers them all."""

import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    if _m.name not in ("base", "reference", "changes") and not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
