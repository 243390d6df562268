"""Billing entities and value objects: usage, prices, wallets, invoices (no boto3, no request).

Money is held in integer US cents (wallets, invoices, counters) so atomic ADD counters stay exact; a price
per lab minute is a ``Decimal`` and a line's amount is rounded half-up to the cent once, on the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum


class UsageKind(StrEnum):
    LAB_MINUTES = "lab_minutes"  # quantity: minutes a learner had (ready → ending)
    LAB_SPEND_ESTIMATED = "lab_spend_estimated"  # quantity: cents of AWS spend estimated at the end
    LAB_SPEND_ACTUAL = "lab_spend_actual"  # quantity: cents of Cost Explorer's correction to the estimate
    SEATS = "seats"  # quantity: active users in the month (the month's highest count)
    API_CALLS = "api_calls"  # quantity: API calls beyond the tier's allowance (metered at invoicing)


# The counter each kind adds to, in the month and day aggregates.
COUNTER_OF = {
    UsageKind.LAB_MINUTES: "lab_minutes",
    UsageKind.LAB_SPEND_ESTIMATED: "spend_estimated_cents",
    UsageKind.LAB_SPEND_ACTUAL: "spend_actual_cents",
    UsageKind.SEATS: "seats",
    UsageKind.API_CALLS: "api_calls_beyond",
}
# Every API call a tenant's credentials made, added by the in-process counter (billing.api_calls) in batches.
API_CALLS_COUNTER = "api_calls"


@dataclass(frozen=True)
class UsageEvent:
    """One billable fact, written once under its idempotency key and never changed."""

    tenant_id: str
    key: str  # idempotency key, e.g. "lab_minutes:<session id>"
    kind: UsageKind
    quantity: int
    at: datetime
    month: str  # the period it counts in (YYYY-MM); a late event for a closed month counts in the next
    user_id: str = ""
    lab_id: str = ""
    session_id: str = ""
    adjusts: str = ""  # the closed month a late event corrects ("" if none)


@dataclass
class MonthUsage:
    """A tenant's month from its aggregates: totals and a series by day."""

    tenant_id: str
    month: str
    totals: dict[str, int] = field(default_factory=dict)
    by_day: dict[str, dict[str, int]] = field(default_factory=dict)  # "DD" -> counters
    closed: bool = False

    def get(self, counter: str) -> int:
        return int(self.totals.get(counter, 0))


@dataclass(frozen=True)
class Price:
    """What a plan costs from ``effective_from`` on (until a later row of the same plan takes over)."""

    plan: str  # a tier ("basic", ...) or "credits" (pay-as-you-go learners of the shared tenant)
    effective_from: date
    platform_fee_cents: int
    included_lab_minutes: int
    included_seats: int
    extra_lab_minute_usd: Decimal
    extra_seat_cents: int = 0
    aws_markup_percent: int = 0  # added to the lab AWS spend that is passed through
    api_calls_included: int = 0  # API calls a month includes
    api_calls_1000_usd: Decimal = Decimal("0")  # the price of each 1,000 calls beyond them

    def api_calls_cents(self, calls: int) -> int:
        """The price of ``calls`` calls beyond the allowance, rounded half-up to the cent."""
        return cents(Decimal(calls) * self.api_calls_1000_usd / 1000)

    def minutes_cents(self, minutes: int) -> int:
        """The price of ``minutes`` lab minutes, rounded half-up to the cent."""
        return cents(Decimal(minutes) * self.extra_lab_minute_usd)

    def reserve_cents(self, minutes: int) -> int:
        """What a lab start of ``minutes`` sets aside: rounded up, so a settle never needs more."""
        return int((Decimal(minutes) * self.extra_lab_minute_usd * 100).to_integral_value(rounding=ROUND_CEILING))


def cents(usd: Decimal) -> int:
    return int((usd * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def usd(amount_cents: int) -> str:
    sign = "-" if amount_cents < 0 else ""
    return f"{sign}{abs(amount_cents) // 100}.{abs(amount_cents) % 100:02d}"


@dataclass
class Wallet:
    """Prepaid credits of a learner (``owner`` = user id) or of a tenant (``owner`` = "TENANT")."""

    tenant_id: str
    owner: str
    balance_cents: int = 0  # spendable
    reserved_cents: int = 0  # set aside for running labs


@dataclass(frozen=True)
class LedgerEntry:
    tenant_id: str
    owner: str
    key: str  # idempotency key: "purchase:<checkout id>", "reserve:<hold>", "settle:<session id>"
    kind: str  # purchase | reserve | settle | refund | grant
    amount_cents: int  # signed change of the balance
    at: datetime
    detail: str = ""


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


# Allowed status changes.
TRANSITIONS = {
    InvoiceStatus.DRAFT: {InvoiceStatus.ISSUED, InvoiceStatus.VOID},
    InvoiceStatus.ISSUED: {InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE},
    InvoiceStatus.UNCOLLECTIBLE: {InvoiceStatus.PAID},
    InvoiceStatus.PAID: set(),
    InvoiceStatus.VOID: set(),
}


@dataclass(frozen=True)
class InvoiceLine:
    code: str  # platform_fee | lab_minutes | seats | aws_spend | adjustment | ...
    description: str
    quantity: int
    unit_price_usd: str
    amount_cents: int


@dataclass
class Invoice:
    tenant_id: str
    month: str
    status: InvoiceStatus
    lines: list[InvoiceLine]
    plan: str
    price_effective_from: str  # which price row it used
    created_at: datetime
    number: str = ""  # "CK-000001", given when issued
    issued_at: datetime | None = None
    due_at: datetime | None = None
    paid_at: datetime | None = None
    provider_invoice_id: str = ""
    dunning: str = ""  # "" | warned | refused
    version: int = 0

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass
class BillingState:
    """A tenant's billing settings and standing: how it pays, its limits, its dunning stage."""

    tenant_id: str
    mode: str = "invoice"  # invoice | credits (a tenant wallet pays for its labs)
    monthly_limit_cents: int = 0  # 0: no limit
    user_monthly_limit_cents: int = 0  # each user's limit (0: none)
    starts_refused: bool = False  # an invoice is unpaid past its grace period
    customer_id: str = ""  # the payment provider's customer
    version: int = 0
