"""Background jobs (a bulk import, say): one small runner with the onboarding runner's three modes.

Apps register a job's handler from ``AppConfig.ready``; ``start`` runs it the configured way
(``CLOUDKIDA_JOB_RUNNER``):

- ``inline``: in the calling thread, to the end (tests);
- ``thread``: on a daemon thread of this process (``make run``: the request returns at once);
- ``lambda``: an asynchronous invocation (``InvocationType=Event``) of the Zappa function
  (``CLOUDKIDA_JOBS_FUNCTION_NAME``, by default the function this code runs in), whose handler runs the
  ``command`` the event names: ``cloudkida.jobs.run_job``. This is what ``zappa.asynchronous`` does too,
  but through ``cloudkida.aws`` (endpoint override, retries, request counting), and with no import of
  Zappa in this module. Lambda retries a failed asynchronous invocation twice by itself.

A handler runs in slices: it gets a ``Budget`` and returns True when the job is finished, False when its
slice ran out and it wants to go on; the runner then starts it again (a new invocation in production, so
no job is bound by Lambda's 15 minutes). Handlers must be resumable: a job that crashed, or was invoked
twice, continues from its own checkpoint and never does a unit of work twice.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django
from django.apps import apps
from django.conf import settings

from cloudkida import aws

logger = logging.getLogger(__name__)

# Zappa's handler runs a dotted function named by an event's "command" key.
JOB_COMMAND = "cloudkida.jobs.run_job"
RUNNERS = ("inline", "thread", "lambda")


@dataclass
class Budget:
    """How long the current slice of a job may still run."""

    seconds: float
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = self.started or time.monotonic()

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def exhausted(self) -> bool:
        return self.left() <= 0


Handler = Callable[[dict[str, Any], Budget], bool]
_handlers: dict[str, Handler] = {}


def register(name: str, handler: Handler) -> None:
    """Register ``handler(params, budget) -> finished`` as job ``name`` (from ``AppConfig.ready``)."""
    _handlers[name] = handler


def handler_for(name: str) -> Handler:
    try:
        return _handlers[name]
    except KeyError:
        raise KeyError(f"no app registered the job {name!r}") from None


def start(name: str, **params: Any) -> None:
    """Run job ``name`` with ``params`` (JSON-serialisable) the configured way."""
    handler_for(name)
    runner = settings.CLOUDKIDA_JOB_RUNNER
    if runner == "inline":
        while not run_slice(name, params):
            pass
    elif runner == "thread":
        threading.Thread(target=_run_logged, args=(name, params), name=f"job-{name}", daemon=True).start()
    elif runner == "lambda":
        aws.client("lambda").invoke(
            FunctionName=settings.CLOUDKIDA_JOBS_FUNCTION_NAME,
            InvocationType="Event",
            Payload=json.dumps(lambda_event(name, params)).encode(),
        )
    else:
        raise ValueError(f"unknown CLOUDKIDA_JOB_RUNNER {runner!r}; use one of {', '.join(RUNNERS)}")


def lambda_event(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The event an asynchronous invocation carries (Zappa's handler runs its ``command``)."""
    return {"command": JOB_COMMAND, "job": name, "params": params}


def run_slice(name: str, params: dict[str, Any], *, seconds: float | None = None) -> bool:
    """Run one slice of the job in this process; True when the job is finished."""
    budget = Budget(settings.CLOUDKIDA_JOB_SLICE_SECONDS if seconds is None else seconds)
    return bool(handler_for(name)(params, budget))


def _run_logged(name: str, params: dict[str, Any]) -> None:
    try:
        while not run_slice(name, params):
            pass
    except Exception:
        logger.exception("job crashed", extra={"job": name})


def run_job(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point (Zappa ``command``): one slice, then a new invocation if there is more."""
    if not apps.ready:
        django.setup()
    name, params = event["job"], event.get("params") or {}
    seconds = settings.CLOUDKIDA_JOB_SLICE_SECONDS
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        # Leave a quarter of the invocation (at least 10 s) for the last unit of work and the hand-over;
        # a unit (an import's chunk) must fit in that, so give the jobs function minutes, not seconds.
        remaining = context.get_remaining_time_in_millis() / 1000
        seconds = min(seconds, remaining - max(10.0, remaining / 4))
    finished = run_slice(name, params, seconds=max(seconds, 1))
    if not finished:
        start(name, **params)
    return {"job": name, "finished": finished}
