"""Billing's reads: a month's usage (one Query), breakdowns, wallets, invoices, prices, the margin report."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from billing import providers, services
from billing import repository as repo
from billing.domain import BillingState, Invoice, InvoiceStatus, MonthUsage, Price, Wallet
from billing.providers import PaymentMethod
from billing.services import month_of, plan_of, price_table, tenants_all
from cloudkida import clock
from cloudkida.errors import NotFound, ValidationFailed
from tenants.selectors import tenant_get_cached


def month_checked(month: str | None) -> str:
    month = month or month_of(clock.now())
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit() or not 1 <= int(month[5:]) <= 12:
        raise ValidationFailed("A month is written YYYY-MM.", code="invalid_month", details={"month": month[:20]})
    return month


def usage_month(*, tenant_id: str, month: str | None = None) -> MonthUsage:
    """The tenant's month (totals and a series by day) from its aggregates: one Query, never a Scan."""
    return repo.month_usage(tenant_id, month_checked(month))


def usage_breakdown(*, tenant_id: str, month: str | None = None, by: str) -> list[tuple[str, dict[str, int]]]:
    """The month's counters by ``user`` or ``lab`` (the first 100)."""
    if by not in {"user", "lab"}:
        raise ValidationFailed("by is user or lab.", code="invalid_breakdown")
    rows, _cursor = repo.breakdown(tenant_id, month_checked(month), by.upper())
    return rows


def usage_events(*, tenant_id: str, month: str | None = None, limit: int = 50, cursor: str | None = None):
    return repo.events_page(tenant_id, month_checked(month), limit=limit, cursor=cursor)


def usage_for_user(*, tenant_id: str, user_id: str, month: str | None = None) -> dict[str, int]:
    return repo.user_month(tenant_id, month_checked(month), user_id)


def billing_state(*, tenant_id: str) -> BillingState:
    return repo.state_get(tenant_id)


@dataclass(frozen=True)
class MonthSoFar:
    """A month as the billing page and the dashboard show it: usage, the prices in force, lab minutes
    (adjustments included) and what the invoice would be now."""

    usage: MonthUsage
    price: Price
    state: BillingState
    minutes: int
    estimate_cents: int


def month_so_far(*, tenant_id: str, month: str | None = None) -> MonthSoFar:
    month = month_checked(month)
    usage = usage_month(tenant_id=tenant_id, month=month)
    price = services.price_in_force(plan_of(tenant_get_cached(tenant_id=tenant_id)), services.month_start(month))
    state = billing_state(tenant_id=tenant_id)
    lines = services.invoice_lines(usage, price, mode=state.mode)
    minutes = usage.get("lab_minutes") + usage.get("adjusted_lab_minutes")
    return MonthSoFar(usage, price, state, minutes, sum(line.amount_cents for line in lines))


def payment_method_current(*, tenant_id: str) -> PaymentMethod | None:
    """The organisation's payment method as the provider has it (brand, last 4), or None: one provider read."""
    state = repo.state_get(tenant_id)
    return providers.provider().payment_method(customer_id=state.customer_id) if state.customer_id else None


def limit_alerts(*, tenant_id: str, month: str | None = None) -> list[dict]:
    return repo.alerts(tenant_id, month_checked(month))


def wallet_get(*, tenant_id: str, owner: str) -> Wallet:
    return repo.wallet_get(tenant_id, owner)


def wallet_ledger(*, tenant_id: str, owner: str, limit: int = 50, cursor: str | None = None):
    return repo.ledger(tenant_id, owner, limit=limit, cursor=cursor)


def invoice_list(*, tenant_id: str, limit: int = 50, cursor: str | None = None) -> tuple[list[Invoice], str | None]:
    """The tenant's invoices, newest month first."""
    return repo.invoice_list(tenant_id, limit=limit, cursor=cursor)


def invoice_get(*, tenant_id: str, month: str) -> Invoice:
    invoice = repo.invoice_get(tenant_id, month_checked(month))
    if invoice is None:
        raise NotFound("No such invoice.", code="invoice_not_found")
    return invoice


def price_list() -> list[Price]:
    return sorted(price_table(max_age=0), key=lambda p: (p.plan, p.effective_from))


@dataclass
class MarginRow:
    tenant_id: str
    name: str
    plan: str
    lab_minutes: int = 0
    revenue_cents: int = 0  # invoiced (not void) plus credits charged
    lab_spend_cents: int = 0  # estimated + Cost Explorer corrections
    platform_share_cents: int = 0

    @property
    def cost_cents(self) -> int:
        return self.lab_spend_cents + self.platform_share_cents

    @property
    def margin_cents(self) -> int:
        return self.revenue_cents - self.cost_cents


@dataclass
class MarginReport:
    month: str
    rows: list[MarginRow] = field(default_factory=list)
    by_plan: dict[str, MarginRow] = field(default_factory=dict)


def margin_report(*, month: str | None = None) -> MarginReport:
    """Revenue, cost and margin per tenant and per plan for a month (system admins). Cost is the tenant's lab
    AWS spend plus its share of the platform's own cost (CLOUDKIDA_BILLING_PLATFORM_COST_USD, shared by lab
    minutes: a tenant that ran no labs is charged no share). Two reads per tenant."""
    month = month_checked(month)
    report = MarginReport(month)
    for tenant in tenants_all():
        totals = repo.month_total(tenant.tenant_id, month)
        invoice = repo.invoice_get(tenant.tenant_id, month)
        row = MarginRow(tenant.tenant_id, tenant.name, plan_of(tenant))
        row.lab_minutes = totals.get("lab_minutes", 0) + totals.get("adjusted_lab_minutes", 0)
        row.revenue_cents = totals.get("credits_charged_cents", 0)
        if invoice and invoice.status is not InvoiceStatus.VOID:
            row.revenue_cents += invoice.total_cents
        row.lab_spend_cents = sum(
            totals.get(k, 0)
            for k in (
                "spend_estimated_cents",
                "spend_actual_cents",
                "adjusted_spend_estimated_cents",
                "adjusted_spend_actual_cents",
            )
        )
        report.rows.append(row)
    platform_cents = int(Decimal(settings.CLOUDKIDA_BILLING_PLATFORM_COST_USD) * 100)
    minutes = sum(r.lab_minutes for r in report.rows)
    for row in report.rows:
        row.platform_share_cents = platform_cents * row.lab_minutes // minutes if minutes else 0
        total = report.by_plan.setdefault(row.plan, MarginRow("", row.plan, row.plan))
        total.lab_minutes += row.lab_minutes
        total.revenue_cents += row.revenue_cents
        total.lab_spend_cents += row.lab_spend_cents
        total.platform_share_cents += row.platform_share_cents
    return report
