"""Lambda's account concurrency quota: the sandbox rule (plain boto3), then the tool's preflight against it.

A new AWS account often has a quota of 10 concurrent executions, where Lambda refuses any reserved
concurrency; the plan reserves some (CKV_AWS_115). The tool reads GetAccountSettings before planning and
refuses the run with the reason, before any mutating call, instead of failing after the function exists.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from core.errors import PlanError
from orchestrator.apply import RetryPolicy
from orchestrator.model import Plan
from orchestrator.runs import Options, Workspace, run_changes
from resources.iam import Role
from resources.lambda_ import Function
from tests.fakes import install_plan

RULE = "lambda-concurrency-quota"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def _function(aws, name: str) -> str:
    aws.rules.off("iam-propagation")  # scaffolding: the role's propagation is another rule's test
    iam, lam = aws.client("iam"), aws.client("lambda")
    try:
        role = iam.get_role(RoleName="fn")["Role"]["Arn"]
    except ClientError:
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler",
                        Code={"ZipFile": _zip()})
    return name


def _refused(exc: pytest.ExceptionInfo, minimum: int) -> None:
    err = exc.value.response["Error"]
    assert err["Code"] == "InvalidParameterValueException"
    assert err["Message"] == ("Specified ReservedConcurrentExecutions for function decreases account's "
                              f"UnreservedConcurrentExecution below its minimum value of [{minimum}].")


def test_rule_lambda_concurrency_quota_keeps_100_unreserved(aws):
    lam = aws.client("lambda")
    limit = lam.get_account_settings()["AccountLimit"]
    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (1000, 1000)
    a, b = _function(aws, "a"), _function(aws, "b")
    lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=900)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    before = aws.rules.trips().get(RULE, 0)
    with pytest.raises(ClientError) as exc:
        lam.put_function_concurrency(FunctionName=b, ReservedConcurrentExecutions=1)
    _refused(exc, 100)
    assert aws.rules.trips()[RULE] == before + 1
    lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=899)  # its own counts once
    lam.put_function_concurrency(FunctionName=b, ReservedConcurrentExecutions=1)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100


def test_rule_lambda_concurrency_quota_of_a_new_account_reserves_nothing(aws):
    aws.rules.configure(RULE, limit=10)
    lam = aws.client("lambda")
    fn = _function(aws, "a")
    assert lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 10
    with pytest.raises(ClientError) as exc:
        lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=1)
    _refused(exc, 10)
    assert "Concurrency" not in lam.get_function(FunctionName=fn)


def _plan(env: str) -> Plan:
    plan = Plan(project="genai-demo", env=env, region="ap-east-2", tags={"ManagedBy": "genai-infra"})
    s = plan.stack("main")
    role = s.add(Role("metrics_role", AssumeRolePolicyDocument=TRUST))
    s.add(Function("metrics", FunctionName="genai-demo-test-metrics", Handler="handler.handler", Role=role["Arn"],
                   SourceDir="plans/genai_demo/functions/custom_metrics", ReservedConcurrentExecutions=2))
    return plan


def _apply(aws):
    """(the plan, the run's report: None when there was nothing to do)."""
    ws = Workspace(Options(env="test", plan_name=install_plan("lambda_concurrency", _plan), stacks=["main"],
                           retry=RetryPolicy(initial=0.01)), clients=aws.clients)
    return run_changes(ws, "apply")


def test_apply_refused_before_anything_is_made_in_a_new_account(aws):
    aws.rules.configure(RULE, limit=10)
    before = aws.rules.trips().get(RULE, 0)
    with pytest.raises(PlanError) as exc:
        _apply(aws)
    msg = str(exc.value)
    assert "main.metrics 2" in msg and "below the 10 Lambda keeps" in msg and "quota is 10" in msg, msg
    # Nothing was made: independent reads.
    assert aws.client("lambda").list_functions()["Functions"] == []
    assert [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]
            if r["RoleName"].startswith("genai-demo")] == []
    assert aws.rules.trips().get(RULE, 0) == before  # refused by the tool, not by Lambda


def test_apply_reserves_within_the_quota_and_a_reapply_counts_what_it_holds(aws):
    aws.rules.configure(RULE, limit=102)  # 2 reserved leaves exactly the 100 Lambda keeps
    _, report = _apply(aws)
    assert report.ok, report.summary()
    lam = aws.client("lambda")
    assert lam.get_function_concurrency(FunctionName="genai-demo-test-metrics")["ReservedConcurrentExecutions"] == 2
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    # The quota is lowered under it: the function keeps what it holds, so a re-apply asks for nothing more.
    aws.rules.configure(RULE, limit=101)
    plan, again = _apply(aws)
    assert not plan.has_changes and again is None
