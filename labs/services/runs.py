"""Running the labs workflows the configured way (CLOUDKIDA_WORKFLOW_RUNNER): in this request or job
(``inline``, tests), on a background thread (``thread``, ``make run``), or as a Step Functions execution
(``stepfunctions``, production) of the state machine generated from the same steps."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings

from cloudkida import workflows
from cloudkida.workflows.runner import RunResult, Workflow

logger = logging.getLogger(__name__)


def start(
    workflow: Workflow, subject_id: str, *, on_failure: Callable[[str, str, str], None], attempt: str = "1"
) -> None:
    runner = settings.CLOUDKIDA_WORKFLOW_RUNNER
    if runner == "inline":
        run(workflow, subject_id, on_failure=on_failure)
    elif runner == "thread":
        threading.Thread(
            target=_logged, args=(workflow, subject_id, on_failure), name=f"{workflow.name}-{subject_id}", daemon=True
        ).start()
    elif runner == "stepfunctions":
        name = f"{workflow.name}-{subject_id}-{attempt}".replace(":", "-").replace(".", "-")
        workflows.start_execution(workflow.name, subject_id, execution_name=name)
    else:
        raise ValueError(f"unknown CLOUDKIDA_WORKFLOW_RUNNER {runner!r}")


def run(workflow: Workflow, subject_id: str, *, on_failure: Callable[[str, str, str], None]) -> RunResult:
    result = workflow.run(subject_id)
    if not result.ok:
        on_failure(subject_id, result.failed_step, result.error)
    return result


def _logged(workflow: Workflow, subject_id: str, on_failure) -> None:
    try:
        run(workflow, subject_id, on_failure=on_failure)
    except Exception:
        logger.exception("workflow crashed", extra={"workflow": workflow.name, "subject": subject_id})
