"""Small helpers every extension uses: add methods and URLs to moto's services, errors, ids."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError


class AwsJsonError(JsonRESTError):
    """A JSON-protocol error with the AWS error code and HTTP status the real API uses."""

    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(error_type, message)
        self.code = status


def add_methods(cls: type, *fns: Callable[..., Any], override: bool = False) -> None:
    """Attach `fns` to moto's response or backend class under their own names.

    moto dispatches an API action to the snake_case method of the same name, so
    adding `update_broker_count` to KafkaResponse is all it takes to serve it,
    in-process under mock_aws and through the server alike. Existing methods
    are kept unless `override` (then the original stays reachable as `_moto_<name>`).
    """
    for fn in fns:
        name = fn.__name__
        existing = cls.__dict__.get(name)
        if existing is fn:
            continue
        if existing is not None:
            if not override:
                continue
            if not hasattr(cls, f"_moto_{name}"):
                setattr(cls, f"_moto_{name}", existing)
        setattr(cls, name, fn)


def add_urls(urls_module: Any, paths: dict[str, Callable[..., Any]]) -> None:
    """Register more URL patterns on a moto service (its urls.url_paths is read lazily)."""
    for pattern, handler in paths.items():
        urls_module.url_paths.setdefault(pattern, handler)


def store(backend: Any, name: str, factory: Callable[[], Any] = dict) -> Any:
    """Per-backend (account x region) storage for an extension; reset with the backend."""
    key = f"_sandbox_{name}"
    if key not in backend.__dict__:
        backend.__dict__[key] = factory()
    return backend.__dict__[key]


def body(resp: Any) -> dict[str, Any]:
    """The JSON request body of a REST-JSON call, by wire name."""
    raw = getattr(resp, "body", None)
    if not raw:
        return {}
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parsed(resp: Any) -> dict[str, Any]:
    """Request parameters parsed by botocore's model (PascalCase member names)."""
    resp.parse_parameters(resp.normalized_request)
    return dict(resp.params)


def now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def token(n: int = 12, alphabet: str = string.ascii_uppercase + string.digits) -> str:
    return "".join(random.choices(alphabet, k=n))


def as_list(value: Any) -> list[Any]:
    """A policy field as AWS reads it: one value or a list of them; absent is none."""
    return value if isinstance(value, list) else [] if value is None else [value]


def statements(document: Any) -> Iterator[dict[str, Any]]:
    """The statements of a policy document as AWS reads it: a JSON string or a dict, one statement or a
    list; anything unreadable has none (the service's own validation answers for it)."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return
    if not isinstance(document, dict):
        return
    sts = document.get("Statement", [])
    for st in sts if isinstance(sts, list) else [sts]:
        if isinstance(st, dict):
            yield st
