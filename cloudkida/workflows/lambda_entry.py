"""Lambda entry point for Step Functions tasks: run one named step of one registered workflow.

The state machine (``definitions/<workflow>.asl.json``) invokes this with
``{"workflow", "step", "subject_id"}``; a step that already succeeded, or does not apply to the
subject, returns at once, so re-running an execution from the start resumes where it failed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import django
from django.apps import apps

from cloudkida.tenancy import tenant_context
from cloudkida.workflows import FAILURE_STEP, registered


def run_step(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if not apps.ready:
        django.setup()
    entry = registered(event["workflow"])
    if not entry.tenant_subject:
        return _run(entry, event)
    with tenant_context(event["subject_id"]):  # the tenant id on every log line of the step
        return _run(entry, event)


def _run(entry, event: dict[str, Any]) -> dict[str, Any]:
    workflow, subject_id = entry.workflow, event["subject_id"]
    if event["step"] == FAILURE_STEP:
        step_name, reason = _failure(event.get("error") or {})
        entry.record_failure(subject_id, step_name, reason)
        return {"recorded": True, "step": step_name}
    step = workflow.step(event["step"])
    if event.get("poll"):
        started = float(event.get("started_at") or time.time())
        ready = workflow.poll_one(subject_id, step, waited_seconds=time.time() - started)
        return {"ready": ready, "started_at": started}
    if step.name in workflow.log.succeeded(subject_id) or not step.applies(subject_id):
        return {"skipped": True, "ready": True, "started_at": time.time()}
    output = workflow.run_one(subject_id, step) or {}
    return {"output": output, "ready": output.get("ready", True), "started_at": time.time()}


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
