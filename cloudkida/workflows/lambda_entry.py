"""Lambda entry point for Step Functions tasks: run one named step of one workflow.

The state machine (``definitions/<workflow>.asl.json``) invokes this with
``{"workflow", "step", "subject_id"}``; a step that already succeeded, or does not apply to the
subject, returns at once, so re-running an execution from the start resumes where it failed.
"""

from __future__ import annotations

import json
from typing import Any

import django

_WORKFLOWS: dict[str, Any] = {}


def _workflows() -> dict[str, Any]:
    if not _WORKFLOWS:
        django.setup()
        from tenants.services.onboarding import FAILURE_STEP, ONBOARDING, record_failure

        _WORKFLOWS["onboarding"] = (ONBOARDING, FAILURE_STEP, record_failure)
    return _WORKFLOWS


def run_step(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    workflow, failure_step, record_failure = _workflows()[event["workflow"]]
    subject_id = event["subject_id"]
    if event["step"] == failure_step:
        step_name, reason = _failure(event.get("error") or {})
        record_failure(subject_id, step_name, reason)
        return {"recorded": True, "step": step_name}
    step = workflow.step(event["step"])
    if step.name in workflow.log.succeeded(subject_id) or not step.applies(subject_id):
        return {"skipped": True}
    return {"output": workflow.run_one(subject_id, step)}


def _failure(error: dict[str, Any]) -> tuple[str, str]:
    """The failed step and reason from a Catch's ``$.error`` (StepFailed says "<step>: <reason>")."""
    try:
        message = json.loads(error.get("Cause", "{}")).get("errorMessage", "")
    except (TypeError, ValueError):
        message = str(error.get("Cause", ""))
    step, _, reason = str(message).partition(": ")
    if not reason:
        return "unknown", str(message or error.get("Error", "failed"))[:1000]
    return step, reason[:1000]
