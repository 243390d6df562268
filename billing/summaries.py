"""Billing's figure on the tenant admin's dashboard (``cloudkida.navigation.add_summary``): this month's lab
minutes against the plan, and what the month costs so far (the same estimate as the billing page)."""

from __future__ import annotations

from billing import selectors, services
from billing.domain import usd
from tenants.selectors import tenant_get_cached


def this_month(tenant_id: str) -> tuple[str, str]:
    month = selectors.month_checked(None)
    usage = selectors.usage_month(tenant_id=tenant_id, month=month)
    price = services.price_in_force(
        services.plan_of(tenant_get_cached(tenant_id=tenant_id)), services.month_start(month)
    )
    state = selectors.billing_state(tenant_id=tenant_id)
    minutes = usage.get("lab_minutes") + usage.get("adjusted_lab_minutes")
    estimate = usd(sum(line.amount_cents for line in services.invoice_lines(usage, price, mode=state.mode)))
    return f"{minutes:,} lab minutes", f"of {price.included_lab_minutes:,} included · ${estimate} so far"
