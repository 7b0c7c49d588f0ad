"""moto core: per-request work whose answer never changes, done once.

moto lists a response class's methods (inspect.getmembers over the whole
class) on every request to find the action's handler: a few percent of the
CPU of every call, and in-process that CPU is the tool's too. The classes are
complete once the extensions are installed, and every request comes after.
"""

from __future__ import annotations

import functools

import moto.core.responses as responses


def install() -> None:
    if not getattr(responses.method_names_from_class, "cache_info", None):
        responses.method_names_from_class = functools.cache(responses.method_names_from_class)  # type: ignore[assignment]
