"""The Step Functions definition is generated from the same step list the in-process runner uses."""

from __future__ import annotations

import json

from django.core.management import call_command

from cloudkida.workflows import lambda_entry
from cloudkida.workflows.definitions import DEFINITIONS_DIR, render_all
from tenants.services.onboarding import ONBOARDING


def test_committed_definition_matches_the_code():
    call_command("workflow_definitions", "--check")
    assert (DEFINITIONS_DIR / "onboarding.asl.json").read_text() == render_all()["onboarding"]


def test_definition_runs_the_steps_in_the_runner_order():
    """Following each Task's Next (and a poll loop's ready branch) visits the steps in the runner's order."""
    definition = json.loads(render_all()["onboarding"])
    order, state = [], definition["StartAt"]
    while definition["States"][state]["Type"] != "Succeed":
        node = definition["States"][state]
        if node["Type"] == "Task":
            order.append(state)
            assert node["Catch"][0]["Next"] == "record_failure"
            assert node["Parameters"]["Payload"]["command"] == "cloudkida.workflows.lambda_entry.run_step"
            state = node["Next"]
        else:
            assert node["Type"] == "Choice"
            state = node["Choices"][0]["Next"]
    assert order == [s.name for s in ONBOARDING.steps]


def test_a_step_that_waits_for_aws_is_a_wait_and_poll_loop():
    states = json.loads(render_all()["onboarding"])["States"]
    assert states["silo_table"]["Next"] == "silo_table_ready"
    assert states["silo_table_ready"]["Default"] == "silo_table_wait"
    assert states["silo_table_wait"] == {"Type": "Wait", "SecondsPath": "$.poll_seconds", "Next": "silo_table_poll"}
    assert states["silo_table_poll"]["Parameters"]["Payload"]["poll"] is True
    assert states["silo_table_poll"]["Next"] == "silo_table_ready"


def test_failure_cause_names_the_step():
    cause = json.dumps({"errorMessage": "identity: InternalErrorException: boom", "errorType": "StepFailed"})
    assert lambda_entry._failure({"Error": "StepFailed", "Cause": cause}) == (
        "identity",
        "InternalErrorException: boom",
    )
    assert lambda_entry._failure({"Error": "States.Timeout", "Cause": "not json"})[0] == "unknown"
