"""An idempotent step runner, and the Step Functions definition generated from the same steps.

A workflow is an ordered list of ``Step``s. Each step is a function ``step(subject_id) -> dict`` that
must be idempotent: running it again after a success, or after a failure half-way, converges on the
same end state and never duplicates a resource. The runner records every attempt through a
``StepLog`` (the subject's own partition in DynamoDB), skips steps that already succeeded, and on a
failure stops and reports which step failed and why, so ``resume`` continues from exactly there.

Locally and in tests the runner calls the steps in-process; in production each step is a Task state of
a Step Functions state machine invoking ``cloudkida.workflows.lambda_entry.run_step`` with the step
name. Both read the same list, so the two cannot drift (a test compares the committed definition).
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from cloudkida.errors import ApplicationError

logger = logging.getLogger(__name__)

# Zappa's handler runs a dotted function named by an event's "command" key.
STEP_COMMAND = "cloudkida.workflows.lambda_entry.run_step"
# The Task every step's Catch goes to; it records the failure on the subject.
FAILURE_STEP = "record_failure"

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "SlowDown",
    }
)


_attempt: contextvars.ContextVar[int] = contextvars.ContextVar("workflow_step_attempt", default=1)


def current_attempt() -> int:
    """Which attempt of the running step this is (1 the first time); steps use it to decide whether
    to look for resources an earlier, failed attempt may have left."""
    return _attempt.get()


@dataclass(frozen=True)
class Step:
    """One idempotent step. A step whose work finishes later (a table becoming ACTIVE, an account being
    created) has ``ready``: ``run`` starts the work and returns at once; ``ready(subject_id)`` says whether it
    is done (finishing anything that needs it done, idempotently), and is asked again every
    ``poll_seconds`` for at most ``max_wait_seconds``. In Step Functions that is a Wait/poll loop, so no
    Lambda ever waits longer than one short call."""

    name: str
    run: Callable[[str], dict[str, Any] | None]
    description: str = ""
    # Whether the step runs for this subject (e.g. Platinum-only steps); skipped steps count as done.
    applies: Callable[[str], bool] = lambda subject_id: True
    ready: Callable[[str], bool] | None = None
    poll_seconds: int = 5
    max_wait_seconds: int = 900


class StepLog(Protocol):
    def succeeded(self, subject_id: str) -> set[str]: ...

    def started(self, subject_id: str, step: str) -> int: ...

    def finished(self, subject_id: str, step: str, *, ok: bool, output: dict | None, error: str) -> None: ...


@dataclass
class RunResult:
    ok: bool
    failed_step: str = ""
    error: str = ""
    ran: tuple[str, ...] = ()


class StepFailed(Exception):
    def __init__(self, step: str, error: str):
        super().__init__(f"{step}: {error}")
        self.step = step
        self.error = error


def is_throttling(error: BaseException) -> bool:
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in THROTTLING_CODES


def describe(error: BaseException) -> str:
    """A one-line reason fit for an operator's screen (no stack trace, no secrets)."""
    if isinstance(error, ClientError):
        err = error.response.get("Error", {})
        return f"{err.get('Code', 'ClientError')}: {err.get('Message', '')}".strip()
    if isinstance(error, ApplicationError):
        return f"{error.code}: {error.message}"
    return f"{type(error).__name__}: {error}"


class Workflow:
    def __init__(
        self,
        name: str,
        steps: list[Step],
        log: StepLog,
        *,
        max_throttle_retries: int = 5,
        backoff: Callable[[int], None] | None = None,
        wait: Callable[[float], None] | None = None,
    ):
        self.name = name
        self.steps = steps
        self.log = log
        self.max_throttle_retries = max_throttle_retries
        self._backoff = backoff or (lambda attempt: time.sleep(min(0.2 * 2**attempt, 5.0)))
        self._wait = wait or time.sleep  # between polls of a step that is not ready yet (in-process only)

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def run_one(self, subject_id: str, step: Step) -> dict[str, Any] | None:
        """Run one step, retrying AWS throttling with exponential backoff; record the outcome.

        A step with ``ready`` that is not ready yet stays RUNNING and returns ``{"ready": False}``: the
        caller polls it (``poll_one``)."""
        token = _attempt.set(self.log.started(subject_id, step.name))
        try:
            output = self._guarded(subject_id, step, lambda: step.run(subject_id) or {})
            if step.ready is not None:
                if not self._guarded(subject_id, step, lambda: step.ready(subject_id)):
                    return {**output, "ready": False}
                output = {**output, "ready": True}
            self.log.finished(subject_id, step.name, ok=True, output=output, error="")
            self._succeeded(subject_id, step)
            return output
        finally:
            _attempt.reset(token)

    def poll_one(self, subject_id: str, step: Step, *, waited_seconds: float) -> bool:
        """Ask a started step whether it is done: True (recorded SUCCEEDED), False (poll again), or
        StepFailed once it has waited ``max_wait_seconds``."""
        if self._guarded(subject_id, step, lambda: step.ready(subject_id)):
            self.log.finished(subject_id, step.name, ok=True, output={"ready": True}, error="")
            self._succeeded(subject_id, step)
            return True
        if waited_seconds >= step.max_wait_seconds:
            reason = f"not ready after {step.max_wait_seconds} s"
            self.log.finished(subject_id, step.name, ok=False, output=None, error=reason)
            raise StepFailed(step.name, reason)
        return False

    def _succeeded(self, subject_id: str, step: Step) -> None:
        logger.info(
            "workflow step succeeded",
            extra={"workflow": self.name, "step": step.name, "subject": subject_id, "attempt": current_attempt()},
        )

    def _guarded(self, subject_id: str, step: Step, call: Callable[[], Any]) -> Any:
        """``call()``, retrying throttling; any other failure is recorded on the step and raised as StepFailed."""
        attempt = 0
        while True:
            try:
                return call()
            except Exception as error:
                if is_throttling(error) and attempt < self.max_throttle_retries:
                    self._backoff(attempt)
                    attempt += 1
                    continue
                reason = describe(error)
                logger.warning(
                    "workflow step failed",
                    extra={"workflow": self.name, "step": step.name, "subject": subject_id, "reason": reason},
                )
                self.log.finished(subject_id, step.name, ok=False, output=None, error=reason)
                raise StepFailed(step.name, reason) from error

    def run(self, subject_id: str) -> RunResult:
        """Run every step that has not yet succeeded, in order; stop at the first failure."""
        done = self.log.succeeded(subject_id)
        ran = []
        for step in self.steps:
            if step.name in done or not step.applies(subject_id):
                continue
            try:
                output = self.run_one(subject_id, step)
                waited = 0.0
                while output is not None and output.get("ready") is False:
                    self._wait(step.poll_seconds)
                    waited += step.poll_seconds
                    if self.poll_one(subject_id, step, waited_seconds=waited):
                        break
            except StepFailed as failure:
                return RunResult(ok=False, failed_step=failure.step, error=failure.error, ran=tuple(ran))
            ran.append(step.name)
        return RunResult(ok=True, ran=tuple(ran))

    # --- Step Functions ---------------------------------------------------------------------------
    def state_machine_definition(self, *, step_function_arn: str, failure_step: str) -> dict[str, Any]:
        """Amazon States Language for this workflow: one Task per step, the same order and names.

        Each Task invokes ``step_function_arn`` with ``{"command", "workflow", "step", "subject_id"}``; Lambda
        throttling is retried with backoff, and any other error goes to ``failure_step`` which records it.
        A step with ``ready`` becomes a poll loop: its Task starts the work, then Choice ``<step>_ready`` →
        Wait ``<step>_wait`` (``$.poll_seconds``, given by whoever starts the execution) → Task
        ``<step>_poll`` → back to the Choice, until the step says it is ready or fails.
        """
        states: dict[str, Any] = {}
        names = [s.name for s in self.steps]

        def task(step: str, comment: str, following: str, **payload: Any) -> dict[str, Any]:
            return {
                "Type": "Task",
                "Comment": comment,
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": step_function_arn,
                    "Payload": {
                        "command": STEP_COMMAND,
                        "workflow": self.name,
                        "step": step,
                        "subject_id.$": "$.subject_id",
                        **payload,
                    },
                },
                "ResultPath": None,
                "Retry": [
                    {
                        "ErrorEquals": ["Lambda.TooManyRequestsException", "Lambda.ServiceException", "Throttled"],
                        "IntervalSeconds": 2,
                        "BackoffRate": 2.0,
                        "MaxAttempts": 6,
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": failure_step}],
                "Next": following,
            }

        poll_result = {"ready.$": "$.Payload.ready", "started_at.$": "$.Payload.started_at"}
        for index, step in enumerate(self.steps):
            following = names[index + 1] if index + 1 < len(names) else "Succeeded"
            if step.ready is None:
                states[step.name] = task(step.name, step.description, following)
                continue
            ready, wait, poll = f"{step.name}_ready", f"{step.name}_wait", f"{step.name}_poll"
            states[step.name] = {
                **task(step.name, step.description, ready),
                "ResultSelector": poll_result,
                "ResultPath": "$.poll",
            }
            states[ready] = {
                "Type": "Choice",
                "Choices": [{"Variable": "$.poll.ready", "BooleanEquals": True, "Next": following}],
                "Default": wait,
            }
            states[wait] = {"Type": "Wait", "SecondsPath": "$.poll_seconds", "Next": poll}
            states[poll] = {
                **task(
                    step.name, f"Is {step.name} done yet?", ready, poll=True, **{"started_at.$": "$.poll.started_at"}
                ),
                "ResultSelector": poll_result,
                "ResultPath": "$.poll",
            }
        states[failure_step] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": step_function_arn,
                "Payload": {
                    "command": STEP_COMMAND,
                    "workflow": self.name,
                    "step": failure_step,
                    "subject_id.$": "$.subject_id",
                    "error.$": "$.error",
                },
            },
            "ResultPath": None,
            "Next": "Failed",
        }
        states["Succeeded"] = {"Type": "Succeed"}
        states["Failed"] = {"Type": "Fail", "Error": "WorkflowStepFailed", "Cause": "See the tenant's step log."}
        return {
            "Comment": f"CloudKida {self.name} workflow, generated from cloudkida code; do not edit by hand.",
            "StartAt": names[0],
            "States": states,
        }

    def state_machine_json(self, **kwargs: Any) -> str:
        return json.dumps(self.state_machine_definition(**kwargs), indent=2, sort_keys=False) + "\n"
