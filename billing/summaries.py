"""Billing's figure on the tenant admin's dashboard (``cloudkida.navigation.add_summary``): this month's lab
minutes against the plan, and what the month costs so far (the billing page's own estimate)."""

from __future__ import annotations

from billing import selectors
from billing.domain import usd


def this_month(tenant_id: str) -> tuple[str, str]:
    month = selectors.month_so_far(tenant_id=tenant_id)
    return (
        f"{month.minutes:,} lab minutes",
        f"of {month.price.included_lab_minutes:,} included · ${usd(month.estimate_cents)} so far",
    )
