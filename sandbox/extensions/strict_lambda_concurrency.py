"""Lambda's account concurrency quota (rule `lambda-concurrency-quota`), and GetAccountSettings.

Reserved concurrency comes out of the account's concurrent-executions quota in the region, and Lambda
keeps a part of it unreserved for every other function: PutFunctionConcurrency that would leave less
than that is refused. The quota is 1,000 by default, but a new account often starts at 10, where no
reservation at all is possible. moto 5.2.5 enforced nothing unless MOTO_LAMBDA_CONCURRENCY_QUOTA was set
(and then always kept 100), and did not serve GetAccountSettings, the read that tells a tool the quota
before it reserves anything.

Settings: `limit`, the account's quota (1,000, AWS's default; 10 for a new account); `minimum`, what
Lambda keeps unreserved (100, or the whole quota when it is smaller: the refusals reported from
10-execution accounts name [10]).
"""

from __future__ import annotations

import json
from typing import Any

import moto.awslambda.urls as lambda_urls
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend
from moto.awslambda.responses import LambdaResponse

from sandbox import strict
from sandbox.extensions._base import add_methods, add_urls

RULE = strict.rule(
    "lambda-concurrency-quota",
    aws="PutFunctionConcurrency is refused (InvalidParameterValueException \"Specified "
        "ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below "
        "its minimum value of [N].\") when the account's unreserved concurrency would fall below what Lambda "
        "keeps for functions without a reservation: 100, or the whole quota in an account below 100 (new "
        "accounts start at 10). GetAccountSettings reports AccountLimit.ConcurrentExecutions and "
        "UnreservedConcurrentExecutions.",
    source="https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html (\"You can reserve up "
           "to the Unreserved account concurrency value minus 100\"); "
           "https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html; the refusal with [10] "
           "in new accounts: aws-samples/one-observability-demo#278, aws-samples/alarm-context-tool#2",
    moto="no quota unless MOTO_LAMBDA_CONCURRENCY_QUOTA was set; no GetAccountSettings",
    limit=1000,
    minimum=100,
)


def _reserved(backend: LambdaBackend, but: str | None = None) -> int:
    return sum(int(fn.reserved_concurrency) for fn in backend.list_functions()
               if fn.reserved_concurrency and fn.function_name != but)


def _limit() -> int:
    return int(strict.setting(RULE.id, "limit"))


def minimum_unreserved(limit: int) -> int:
    return min(int(strict.setting(RULE.id, "minimum")), limit)


def put_function_concurrency(self: LambdaBackend, function_name: str, reserved_concurrency: str) -> str:
    if strict.on(RULE.id):
        fn = self.get_function(function_name)
        limit = _limit()
        left = limit - _reserved(self, but=fn.function_name) - int(reserved_concurrency)
        if left < minimum_unreserved(limit):
            strict.trip(RULE.id)
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{minimum_unreserved(limit)}].")
    return self._moto_put_function_concurrency(function_name, reserved_concurrency)


def get_account_settings(self: LambdaResponse) -> Any:
    limit = _limit()
    functions = list(self.backend.list_functions())
    size = sum(int(getattr(fn, "code_size", 0) or 0) for fn in functions)
    body = {
        "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
                         "ConcurrentExecutions": limit,
                         "UnreservedConcurrentExecutions": limit - _reserved(self.backend)},
        "AccountUsage": {"TotalCodeSize": size, "FunctionCount": len(functions)},
    }
    return 200, {}, json.dumps(body)


def install() -> None:
    add_methods(LambdaBackend, put_function_concurrency, override=True)
    add_methods(LambdaResponse, get_account_settings, override=True)
    add_urls(lambda_urls, {r"{0}/(?P<api_version>[^/]+)/account-settings/?$": LambdaResponse.dispatch})
