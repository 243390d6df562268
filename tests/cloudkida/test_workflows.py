"""The Step Functions definition is generated from the same step list the in-process runner uses."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from cloudkida import aws
from cloudkida.workflows import lambda_entry
from cloudkida.workflows.definitions import DEFINITIONS_DIR, render_all
from tenants.services.onboarding import ONBOARDING


def test_committed_definition_matches_the_code():
    call_command("workflow_definitions", "--check")
    assert (DEFINITIONS_DIR / "onboarding.asl.json").read_text() == render_all()["onboarding"]


def test_definition_runs_the_steps_in_the_runner_order():
    definition = json.loads(render_all()["onboarding"])
    order, state = [], definition["StartAt"]
    while definition["States"][state]["Type"] == "Task":
        order.append(state)
        state = definition["States"][state]["Next"]
    assert order == [s.name for s in ONBOARDING.steps]
    assert state == "Succeeded"
    for name in order:
        task = definition["States"][name]
        assert task["Catch"][0]["Next"] == "record_failure"
        assert task["Parameters"]["Payload"]["command"] == "cloudkida.workflows.lambda_entry.run_step"


@pytest.mark.usefixtures("moto")
def test_step_functions_accepts_the_definition():
    text = render_all()["onboarding"].replace(
        "${CloudKidaStepFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:cloudkida-dev"
    )
    machine = aws.client("stepfunctions").create_state_machine(
        name="cloudkida-test-onboarding", definition=text, roleArn="arn:aws:iam::123456789012:role/sfn"
    )
    described = aws.client("stepfunctions").describe_state_machine(stateMachineArn=machine["stateMachineArn"])
    assert json.loads(described["definition"])["StartAt"] == "record"


def test_failure_cause_names_the_step():
    cause = json.dumps({"errorMessage": "identity: InternalErrorException: boom", "errorType": "StepFailed"})
    assert lambda_entry._failure({"Error": "StepFailed", "Cause": cause}) == (
        "identity",
        "InternalErrorException: boom",
    )
    assert lambda_entry._failure({"Error": "States.Timeout", "Cause": "not json"})[0] == "unknown"
