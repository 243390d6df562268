"""Workflows: the idempotent step runner and the registry of the workflows apps define.

Apps register their workflows (``AppConfig.ready``) with the function that records a failure, so the
Lambda entry point and the Step Functions definitions can find them without importing any app.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from cloudkida import aws
from cloudkida.workflows.runner import FAILURE_STEP, Workflow


@dataclass(frozen=True)
class Registered:
    workflow: Workflow
    record_failure: Callable[[str, str, str], None]  # (subject id, step name, reason)
    tenant_subject: bool = True  # the subject id is a tenant id (it then goes on every log line)


_registry: dict[str, Registered] = {}


def register(
    workflow: Workflow, *, record_failure: Callable[[str, str, str], None], tenant_subject: bool = True
) -> None:
    _registry[workflow.name] = Registered(workflow, record_failure, tenant_subject)


def registered(name: str) -> Registered:
    """The registered workflow ``name``; KeyError if no app registered it."""
    return _registry[name]


def all_registered() -> dict[str, Registered]:
    return dict(sorted(_registry.items()))


def state_machine_name(workflow: str) -> str:
    """The state machine of a workflow is ``<prefix>-<workflow>`` (the infrastructure stack creates it)."""
    return f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-{workflow}"


def state_machine_arn(workflow: str) -> str:
    return f"arn:aws:states:{settings.AWS_REGION}:{aws.account_id()}:stateMachine:{state_machine_name(workflow)}"


def start_execution(workflow: str, subject_id: str, *, execution_name: str) -> str:
    """Start the workflow's state machine for ``subject_id``; returns the execution ARN. The name makes a
    repeated start of the same attempt a no-op (Step Functions refuses a second execution of one name)."""
    started = aws.client("stepfunctions").start_execution(
        stateMachineArn=state_machine_arn(workflow),
        name=execution_name[:80],
        input=json.dumps({"subject_id": subject_id, "poll_seconds": settings.CLOUDKIDA_WORKFLOW_POLL_SECONDS}),
    )
    return started["executionArn"]


__all__ = [
    "FAILURE_STEP",
    "Registered",
    "Workflow",
    "all_registered",
    "register",
    "registered",
    "start_execution",
    "state_machine_arn",
    "state_machine_name",
]
