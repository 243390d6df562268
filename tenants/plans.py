"""The one tier table: what each tier includes and what it costs, for the sign-up page, the API, seat
limits and billing.

Prices here are the DEFAULTS in US dollars that seed billing's price table. Billing keeps prices as data
with effective dates and registers a ``tenants.ports.PriceBook``; ``plan_list`` (the sign-up page, the plans
API) shows the prices in force through it (this app never imports billing); ``plan_for`` serves limits and
keeps the table's own figures. The API rate limits of each tier stay in ``settings.CLOUDKIDA_TIER_LIMITS``
(the core's bootstrap builds the API Gateway usage plans from them, and the core cannot import this app);
``Plan.rate_limits`` reads them from there, so there is one source.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from django.conf import settings

from tenants import ports
from tenants.domain import Isolation, Tier


@dataclass(frozen=True)
class Plan:
    tier: Tier
    display_name: str
    summary: str
    seats: int  # active users the organisation may have (disabled users free their seat)
    included_lab_minutes: int  # per calendar month, for the whole organisation
    support: str
    monthly_fee_usd: Decimal  # default platform fee per month
    extra_lab_minute_usd: Decimal  # default price of each lab minute beyond the included ones
    custom_domains: int  # verified custom domains the organisation may serve its portal on

    @property
    def isolation(self) -> Isolation:
        return self.tier.isolation

    @property
    def rate_limits(self) -> dict[str, float]:
        """API rate (requests/second), burst and daily quota: ``settings.CLOUDKIDA_TIER_LIMITS``."""
        return dict(settings.CLOUDKIDA_TIER_LIMITS[self.tier.value])

    def as_dict(self) -> dict:
        return {
            "tier": self.tier.value,
            "display_name": self.display_name,
            "summary": self.summary,
            "seats": self.seats,
            "included_lab_minutes": self.included_lab_minutes,
            "isolation": self.isolation.value,
            "support": self.support,
            "monthly_fee_usd": str(self.monthly_fee_usd),
            "extra_lab_minute_usd": str(self.extra_lab_minute_usd),
            "custom_domains": self.custom_domains,
            "rate_limits": self.rate_limits,
        }


PLANS: dict[Tier, Plan] = {
    Tier.BASIC: Plan(
        tier=Tier.BASIC,
        display_name="Basic",
        summary="For a team trying hands-on labs.",
        seats=25,
        included_lab_minutes=1_000,
        support="Email, next business day",
        monthly_fee_usd=Decimal("49.00"),
        extra_lab_minute_usd=Decimal("0.050"),
        custom_domains=1,
    ),
    Tier.STANDARD: Plan(
        tier=Tier.STANDARD,
        display_name="Standard",
        summary="For training teams running regular cohorts.",
        seats=250,
        included_lab_minutes=10_000,
        support="Email and chat, business hours",
        monthly_fee_usd=Decimal("299.00"),
        extra_lab_minute_usd=Decimal("0.040"),
        custom_domains=2,
    ),
    Tier.PREMIUM: Plan(
        tier=Tier.PREMIUM,
        display_name="Premium",
        summary="For academies and universities with large classes.",
        seats=2_500,
        included_lab_minutes=50_000,
        support="Priority, 4-hour response",
        monthly_fee_usd=Decimal("999.00"),
        extra_lab_minute_usd=Decimal("0.030"),
        custom_domains=5,
    ),
    Tier.PLATINUM: Plan(
        tier=Tier.PLATINUM,
        display_name="Platinum",
        summary="For enterprises: your own user pool and data table, isolated from every other customer.",
        seats=25_000,
        included_lab_minutes=250_000,
        support="24/7, named engineer, 1-hour response",
        monthly_fee_usd=Decimal("3999.00"),
        extra_lab_minute_usd=Decimal("0.020"),
        custom_domains=20,
    ),
}


def _priced(plan: Plan) -> Plan:
    book = ports.price_book()
    current = book.current(plan.tier.value) if book else None
    if not current:
        return plan
    return replace(
        plan,
        monthly_fee_usd=Decimal(current["monthly_fee_usd"]).quantize(Decimal("0.01")),
        extra_lab_minute_usd=Decimal(current["extra_lab_minute_usd"]),
        included_lab_minutes=int(current["included_lab_minutes"]),
    )


def plan_for(tier: Tier | str) -> Plan:
    """The plan of a tier, for its limits (seats, custom domains) and name: the table's own figures, read
    without a request (a tier the table does not know is a programming error: KeyError)."""
    return PLANS[Tier(tier)]


def plan_list() -> list[Plan]:
    """Every plan with the prices in force, cheapest first."""
    return [_priced(PLANS[t]) for t in Tier]
