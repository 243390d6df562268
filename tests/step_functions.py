"""The generated state machines, executed by moto's Step Functions interpreter, with every Lambda Task
served by Zappa's real handler running our code.

moto parses and runs the ASL (Task, Choice, Wait, Retry, Catch, JSONPath) but cannot run a Lambda's code,
so its Lambda ``Invoke`` is replaced here: the payload the interpreter resolved from the definition, exactly
as Step Functions would send it, goes to ``zappa.handler.lambda_handler``; a raised exception becomes a
function error (``errorType``/``errorMessage``), as Lambda reports it, so Retry and Catch see what they
would see in AWS. Nothing is built by hand: the definition is the generated one, the payload the resolved one.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from unittest import mock

import pytest
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import default_user_config

from cloudkida import aws, workflows
from cloudkida.infrastructure import step_function_arn
from cloudkida.workflows.definitions import STEP_FUNCTION_ARN, render_all
from tests.zappa_support import lambda_context

EXECUTING = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


class LambdaThrottled(Exception):
    """Raised by a test's ``invocations`` hook: the Lambda service itself refuses the invocation (429)."""


@contextmanager
def executing_state_machines(handler, before_invoke=None):
    """Run state machines for real; Lambda Tasks call ``handler`` (Zappa's lambda_handler)."""

    def invoke(self, function_name, qualifier, body, headers, response_headers):
        event = json.loads(body or "{}")
        try:
            if before_invoke is not None:
                before_invoke(event)
            result = handler(event, lambda_context(function_name.rsplit(":", 1)[-1]))
        except LambdaThrottled:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {"errorType": "Lambda.TooManyRequestsException", "errorMessage": "Rate exceeded"}
            ).encode()
        except Exception as error:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()
        return json.dumps(result, default=str).encode()

    with mock.patch.dict(default_user_config, EXECUTING), mock.patch.object(LambdaSimpleBackend, "invoke", invoke):
        yield


def create_state_machines() -> dict[str, str]:
    """Every registered workflow's state machine, named and defined as the infrastructure stack makes it."""
    sfn = aws.client("stepfunctions")
    arns = {}
    for name, text in render_all().items():
        arns[name] = sfn.create_state_machine(
            name=workflows.state_machine_name(name),
            definition=text.replace(STEP_FUNCTION_ARN, step_function_arn()),
            roleArn="arn:aws:iam::123456789012:role/cloudkida-test-states",
        )["stateMachineArn"]
    return arns


def wait_for(execution_arn: str, timeout: float = 60) -> dict:
    """The execution once it has stopped (moto runs it on a thread)."""
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            pytest.fail(f"execution {execution_arn} still RUNNING after {timeout} s")
        time.sleep(0.01)  # poll the background interpreter; nothing asserts on time


def history(execution_arn: str) -> list[dict]:
    sfn = aws.client("stepfunctions")
    return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]


def task_payloads(execution_arn: str) -> list[dict]:
    """The resolved payload of every Task the execution scheduled, in order."""
    return [
        json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]
        for e in history(execution_arn)
        if e["type"] == "TaskScheduled"
    ]


def entered_states(execution_arn: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in history(execution_arn) if "stateEnteredEventDetails" in e]
