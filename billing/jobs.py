"""The periodic jobs of billing: what the stack's EventBridge rules invoke (``{"command": "billing.jobs.<job>"}``),
each also a management command (``manage.py billing_job <job>``). Registered with ``cloudkida.resources``."""

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
    from billing import api_calls, services  # lazy: a scheduled event may arrive before Django is set up

    api_calls.accumulator.flush()  # the API calls this instance counted since its last flush
    return services


def reconcile_usage(event: Any = None, context: Any = None) -> dict:
    return _services().usage_reconcile()


def month_end_invoices(event: Any = None, context: Any = None) -> dict:
    return _services().invoices_month_end()


def dunning(event: Any = None, context: Any = None) -> dict:
    return _services().dunning_run()


def actual_spend(event: Any = None, context: Any = None) -> dict:
    return _services().actual_spend_reconcile()


JOBS = {
    "reconcile_usage": reconcile_usage,
    "month_end_invoices": month_end_invoices,
    "dunning": dunning,
    "actual_spend": actual_spend,
}

SCHEDULES = (
    Schedule(
        "billing_reconcile_usage",
        "rate(1 hour)",
        "billing.jobs.reconcile_usage",
        "Meter ended lab sessions no listener metered; release holds of starts that never ran.",
    ),
    Schedule(
        "billing_month_end_invoices",
        "cron(30 0 1 * ? *)",
        "billing.jobs.month_end_invoices",
        "Invoice every tenant for the month that just ended (idempotent).",
    ),
    Schedule(
        "billing_dunning", "rate(1 day)", "billing.jobs.dunning", "Warn, then refuse lab starts, on unpaid invoices."
    ),
    Schedule(
        "billing_actual_spend",
        "cron(0 6 * * ? *)",
        "billing.jobs.actual_spend",
        "Record lab accounts' actual AWS spend from Cost Explorer per session (differences only; idempotent).",
    ),
)
