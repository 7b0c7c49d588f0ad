"""Lost answers and idempotency tokens: a create AWS carried out whose answer never came back.

Two rules, because they are two sides of one hazard:

- `client-token` (on): AWS keeps the answer of a call made with an idempotency token
  (ClientToken, ClientRequestToken, clientRequestToken...) and answers a repeat of it with the
  same result instead of acting again; moto ignores the token on most calls and makes a second
  resource. Without this the sandbox would punish the tool for a retry AWS makes safe.
- `lost-answers` (a fault switch, share 0.0 by default): moto acts on a mutating create-like call
  and then the answer is dropped, as when the connection times out or closes after the request was
  sent. In-process (mock_aws) the call raises botocore's ReadTimeoutError, which botocore's retry
  handler retries on its own; through the server the connection is closed without an answer
  (botocore raises ConnectionClosedError, retried likewise). A retry of a call without a token then
  makes a second copy, which is the hazard the tool must avoid.

Both hook moto's response layer, which the in-process stubber and the server share:
BaseResponse.call_action for every service but S3, S3Response.bucket_response for S3.
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from botocore.exceptions import ReadTimeoutError

from sandbox import lifecycle, strict
from sandbox.extensions._base import store

LOST = strict.rule(
    "lost-answers",
    aws="A call can act in AWS and still fail on the client: the connection drops or times out after the "
        "request was sent. botocore's retry handler retries such connection errors by itself (standard and "
        "adaptive modes: ReadTimeoutError, ConnectionClosedError), so a create without an idempotency token "
        "that AWS already carried out runs a second time and makes a second copy (or answers 'already exists').",
    source="botocore/retries/standard.py (TransientRetryableChecker retries ConnectionError/HTTPClientError); "
           "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html; "
           "https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html",
    moto="answered every call it served, at once and reliably",
    share=0.0,  # fault injection: off unless a test (or INFRA_SANDBOX_LOST_ANSWERS_SHARE) sets it
    seed=0,
    limit=0,  # at most this many answers dropped (0: no limit)
    verbs="Create,Run,Allocate,Request,Put,Import,Authorize",
    skip="dynamodb,sts",  # the state table and identity calls are not resources of a plan
)

TOKENS = strict.rule(
    "client-token",
    aws="A call made again with the same idempotency token (ClientToken, ClientRequestToken...) returns the "
        "first call's result and does nothing more; the same token with other parameters is refused "
        "(EC2: IdempotentParameterMismatch).",
    source="https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html; "
           "https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html (clientRequestToken)",
    moto="ignored the token on most calls (CreateNatGateway, CreateRouteTable, EKS CreateCluster...): a "
         "repeated call made a second resource",
)

TOKEN_NAMES = frozenset({"clienttoken", "clientrequesttoken", "idempotencytoken"})


class AnswerLost(ReadTimeoutError):
    """What botocore raises when the connection times out after the request was sent."""


@cache
def token_member(service: str, action: str) -> str | None:
    """The operation's idempotency-token member, from botocore's model (trait or well-known name)."""
    from moto.core.responses import get_service_model

    try:
        shape = get_service_model(service).operation_model(action).input_shape
    except Exception:  # noqa: BLE001 - no model for this action: no token
        return None
    for name, member in (shape.members.items() if shape is not None else ()):
        if member.metadata.get("idempotencyToken") or name.lower() in TOKEN_NAMES:
            return name
    return None


def _account_store(account: str, name: str) -> Any:
    """Per-account state that resets with moto's backends (the STS backend is always there)."""
    from moto.sts.models import sts_backends

    return store(sts_backends[account]["aws"], name, dict)


_lock = threading.Lock()


def _digest(params: dict[str, Any], skip: str) -> str:
    body = {k: v for k, v in params.items() if k != skip}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _token_call(resp: Any, original: Callable[[Any], Any]) -> Any:
    """Answer a repeat of a token call with the first answer (AWS's idempotency), else act."""
    action = resp._get_action()
    # Only calls that make something: a delete whose identifier the model marks as a token (Athena's
    # DeleteNamedQuery NamedQueryId) still answers not-found once the thing is gone.
    member = token_member(resp.boto3_service_name, action) if action and not action.startswith("Delete") \
        else None
    if member is None:
        return original(resp)
    try:
        resp.parse_parameters(resp.normalized_request)
        params = dict(resp.params)
    except Exception:  # noqa: BLE001 - moto will refuse the request itself
        return original(resp)
    tok = params.get(member)
    if not tok:
        return original(resp)
    key = f"{resp.region}/{resp.boto3_service_name}/{action}/{tok}"
    digest = _digest(params, member)
    seen = _account_store(resp.current_account, "client_tokens")
    with _lock:
        hit = seen.get(key)
    if hit is not None:
        strict.trip(TOKENS.id)
        if hit[0] != digest and resp.boto3_service_name == "ec2":
            from moto.ec2.exceptions import EC2ClientError

            raise EC2ClientError("IdempotentParameterMismatch",
                                 f"The client token {tok} was used with different parameters")
        status, headers, body = hit[1]
        return status, dict(headers), body
    answer = original(resp)
    status = answer[0] if isinstance(answer, tuple) else 200
    if isinstance(answer, tuple) and int(status) < 300:
        with _lock:
            seen.setdefault(key, (digest, answer))
    return answer


def _dropped(resp: Any, service: str, action: str, status: int) -> bool:
    """Whether this answer is lost: an eligible create-like call, drawn with the rule's share."""
    share = float(strict.setting(LOST.id, "share"))
    if share <= 0 or not strict.on(LOST.id) or status >= 300:
        return False
    verbs = tuple(v.strip() for v in str(strict.setting(LOST.id, "verbs")).split(",") if v.strip())
    skip = {s.strip() for s in str(strict.setting(LOST.id, "skip")).split(",")}
    if service in skip or not action.startswith(verbs):
        return False
    counts = _account_store(resp.current_account, "lost_answers")
    with _lock:
        n = counts.get((service, action), 0) + 1
        counts[(service, action)] = n
        limit = int(strict.setting(LOST.id, "limit"))
        if limit and counts.get("dropped", 0) >= limit:
            return False
        # The n-th call of this action: the same seed drops the same calls of a sequence.
        if random.Random(f"{strict.setting(LOST.id, 'seed')}:{service}:{action}:{n}").random() >= share:
            return False
        counts["dropped"] = counts.get("dropped", 0) + 1
    strict.trip(LOST.id)
    return True


def _lose(resp: Any, answer: Any) -> Any:
    """Drop the answer: close the server's connection unanswered, or raise what botocore raises."""
    request = getattr(resp, "normalized_request", None)
    environ = getattr(request, "environ", None) or {}
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # the server: the client reads EOF, no answer
        except OSError:
            pass
        return answer  # werkzeug's write fails on the closed socket and is dropped quietly
    url = getattr(resp, "uri", "") or getattr(request, "url", "")
    raise AnswerLost(endpoint_url=url)


def _wrap(cls: type, name: str, fn: Callable[..., Any]) -> None:
    lifecycle.chain(cls, name, fn, "strict_lost")


def _call_action(resp: Any, original: Callable[..., Any]) -> Any:
    if strict.on(TOKENS.id):
        answer = _token_call(resp, original)
    else:
        answer = original(resp)
    action = resp._get_action() or ""
    status = int(answer[0]) if isinstance(answer, tuple) else 200
    if _dropped(resp, resp.boto3_service_name, action, status):
        return _lose(resp, answer)
    return answer


def _bucket_response(resp: Any, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    answer = original(resp, *args, **kwargs)
    status = int(answer[0]) if isinstance(answer, tuple) else 200
    action = str(resp.data.get("Action", "")) if isinstance(getattr(resp, "data", None), dict) else ""
    if _dropped(resp, "s3", action, status):
        return _lose(resp, answer)
    return answer


def install() -> None:
    from moto.core.responses import BaseResponse
    from moto.s3.responses import S3Response

    _wrap(BaseResponse, "call_action", _call_action)
    _wrap(S3Response, "bucket_response", _bucket_response)
