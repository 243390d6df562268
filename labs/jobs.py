"""The periodic jobs of labs: what the stack's EventBridge rules invoke (``{"command": "labs.jobs.<job>"}``,
run by Zappa's handler as ``job(event, context)``), each also a management command of the same name. The
schedules are registered with ``cloudkida.resources`` and become rules of the generated template."""

from __future__ import annotations

import logging
from typing import Any

import django
from django.apps import apps

from cloudkida.resources import Schedule

logger = logging.getLogger(__name__)


def _services():
    if not apps.ready:
        django.setup()
    from labs import services  # lazy: a scheduled event may arrive before Django is set up

    return services


def expire_sessions(event: Any = None, context: Any = None) -> dict:
    return _services().sessions_expire()


def check_spend(event: Any = None, context: Any = None) -> dict:
    return _services().spend_check()


def replenish_pool(event: Any = None, context: Any = None) -> dict:
    report = _services().pool_replenish()
    return {"created": len(report.created), "joined": len(report.joined), "below_minimum": report.below_minimum}


def retry_cleanups(event: Any = None, context: Any = None) -> dict:
    return {"started": _services().cleanup_retry_due()}


def check_drift(event: Any = None, context: Any = None) -> dict:
    return {"quarantined": _services().drift_check()}


def retry_grades(event: Any = None, context: Any = None) -> dict:
    if not apps.ready:
        django.setup()
    from labs.lti.services import grades_retry  # lazy: pylti1p3 only when grades are waiting

    return grades_retry()


SCHEDULES = (
    Schedule(
        "labs_expire_sessions", "rate(1 minute)", "labs.jobs.expire_sessions", "End sessions past their deadline."
    ),
    Schedule(
        "labs_check_spend", "rate(1 hour)", "labs.jobs.check_spend", "Alert at 75% of a lab's budget, end at 100%."
    ),
    Schedule(
        "labs_replenish_pool",
        "rate(5 minutes)",
        "labs.jobs.replenish_pool",
        "Keep every region's pool between its targets.",
    ),
    Schedule("labs_retry_cleanups", "rate(15 minutes)", "labs.jobs.retry_cleanups", "Retry failed account cleanups."),
    Schedule(
        "labs_retry_grades", "rate(15 minutes)", "labs.jobs.retry_grades", "Send again scores a platform did not take."
    ),
    Schedule(
        "labs_check_drift",
        "rate(1 hour)",
        "labs.jobs.check_drift",
        "Quarantine accounts whose OU is not their state's.",
    ),
)
