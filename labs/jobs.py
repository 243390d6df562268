"""The periodic jobs of labs: what Zappa's scheduled events call (``job(event, context)``), each also a
management command of the same name. The schedule is registered with ``cloudkida.schedules`` and
mirrored in ``zappa_settings.json`` (a test compares them)."""

from __future__ import annotations

import logging
from typing import Any

import django
from django.apps import apps

from cloudkida.schedules import Schedule

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


SCHEDULES = (
    Schedule(
        "labs_expire_sessions", "labs.jobs.expire_sessions", "rate(1 minute)", "End sessions past their deadline."
    ),
    Schedule(
        "labs_check_spend", "labs.jobs.check_spend", "rate(1 hour)", "Alert at 75% of a lab's budget, end at 100%."
    ),
    Schedule(
        "labs_replenish_pool",
        "labs.jobs.replenish_pool",
        "rate(5 minutes)",
        "Keep every region's pool between its targets.",
    ),
    Schedule("labs_retry_cleanups", "labs.jobs.retry_cleanups", "rate(15 minutes)", "Retry failed account cleanups."),
    Schedule(
        "labs_check_drift",
        "labs.jobs.check_drift",
        "rate(1 hour)",
        "Quarantine accounts whose OU is not their state's.",
    ),
)
