"""One request at a time inside moto, as AWS's own services are safe under concurrency.

moto's backends are plain dicts mutated without locks; the tool runs up to
--parallelism calls at once, and concurrent creates then fail inside moto
with "dictionary changed size during iteration". A process-wide lock around
moto's two entry points (the in-process botocore stubber and the server's
WSGI app) makes each request atomic, which is what a real AWS API gives.
Waiting happens between requests, so it never holds the lock.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

LOCK = threading.RLock()


def _serialized(original: Any) -> Any:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            result = original(self, *args, **kwargs)
            # A WSGI app may return a lazy iterable: materialize it under the lock.
            if isinstance(self, DomainDispatcherApplication) and not isinstance(result, list | bytes):
                result = list(result)
            return result

    call.__serialized__ = True  # type: ignore[attr-defined]
    return call


def install() -> None:
    for cls in (BotocoreStubber, DomainDispatcherApplication):
        if not getattr(cls.__call__, "__serialized__", False):
            cls.__call__ = _serialized(cls.__call__)  # type: ignore[method-assign]
