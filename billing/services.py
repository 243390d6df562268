"""Billing's writes and use cases: metering, prices, wallets and holds, limits and alerts, invoices, payments
and dunning.

Metering is idempotent by key (a retried step bills once) and append-only; lab sessions are metered by a
``labs.ports`` listener when they end and, because listeners' failures are only logged, again by the
reconciliation job (``usage_reconcile``), which meters any ended session not yet metered. Wallets never go
below zero: a reservation is a conditional ADD in the same transaction as its hold and ledger entry.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from accounts.selectors import user_counts, user_find
from billing import costs, providers
from billing import repository as repo
from billing.domain import (
    TRANSITIONS,
    BillingState,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntry,
    MonthUsage,
    Price,
    UsageEvent,
    UsageKind,
    usd,
)
from cloudkida import clock, email, events
from cloudkida.bootstrap import Outcome
from cloudkida.dynamo import Also
from cloudkida.errors import Conflict, NotFound, PaymentRequired, ValidationFailed
from cloudkida.ids import new_ulid
from labs import ports
from labs.domain import LabSession, SessionEvent, SessionState
from labs.selectors import lab_session_get, pool_shards
from tenants.domain import Tenant, TenantStatus
from tenants.plans import PLANS
from tenants.selectors import tenant_get_cached, tenant_list

logger = logging.getLogger(__name__)
CREDITS_PLAN = "credits"
TENANT_WALLET = "TENANT"
SEED_DATE = date(2020, 1, 1)
LEARNER_MINUTE_USD = Decimal("0.050")  # seed price of a lab minute for the shared tenant's learners
# API calls a month includes and the price of each 1,000 beyond, per tier: seeded as each plan's row from
# API_PRICES_FROM (the rows before it stay as they were: an invoice keeps the prices of its period).
API_PRICES_FROM = date(2027, 1, 1)
API_ALLOWANCES = {
    "basic": (10_000, Decimal("0.50")),
    "standard": (100_000, Decimal("0.40")),
    "premium": (500_000, Decimal("0.30")),
    "platinum": (2_000_000, Decimal("0.20")),
}


def month_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12}-{mon % 12 + 1:02d}"


def month_start(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


# --- prices -----------------------------------------------------------------------------------------------------
def price_seed_rows() -> list[Price]:
    """The seed price table: today's plan cards (tenants.plans) and the learners' pay-as-you-go price."""
    rows = [
        Price(
            plan=tier.value,
            effective_from=SEED_DATE,
            platform_fee_cents=int(plan.monthly_fee_usd * 100),
            included_lab_minutes=plan.included_lab_minutes,
            included_seats=plan.seats,
            extra_lab_minute_usd=plan.extra_lab_minute_usd,
        )
        for tier, plan in PLANS.items()
    ]
    rows += [
        replace(
            row,
            effective_from=API_PRICES_FROM,
            api_calls_included=API_ALLOWANCES[row.plan][0],
            api_calls_1000_usd=API_ALLOWANCES[row.plan][1],
        )
        for row in rows
        if row.plan in API_ALLOWANCES
    ]
    rows.append(Price(CREDITS_PLAN, SEED_DATE, 0, 0, 0, LEARNER_MINUTE_USD))
    return rows


def price_seed() -> list[Outcome]:
    """Bootstrap step: write the seed rows that are missing (never changes an existing row)."""
    return [Outcome("price", f"{p.plan} from {p.effective_from}", repo.price_put(p)) for p in price_seed_rows()]


def price_add(
    *,
    plan: str,
    effective_from: date,
    platform_fee_cents: int,
    included_lab_minutes: int,
    included_seats: int,
    extra_lab_minute_usd: Decimal,
    aws_markup_percent: int = 0,
    extra_seat_cents: int = 0,
    api_calls_included: int = 0,
    api_calls_1000_usd: Decimal = Decimal("0"),
    actor: str,
) -> Price:
    """A new price row for a plan from a date on (a system admin's edit). Rows are never changed, so an
    invoice of a past period keeps the prices it was made with; a second row for the same plan and date is
    refused (409)."""
    if plan not in {*(t.value for t in PLANS), CREDITS_PLAN}:
        raise ValidationFailed("No such plan.", code="invalid_plan", details={"plan": plan})
    if min(platform_fee_cents, included_lab_minutes, included_seats, aws_markup_percent, extra_seat_cents) < 0:
        raise ValidationFailed("Prices and allowances cannot be negative.", code="invalid_price")
    if extra_lab_minute_usd < 0 or api_calls_included < 0 or Decimal(api_calls_1000_usd) < 0:
        raise ValidationFailed("Prices and allowances cannot be negative.", code="invalid_price")
    price = Price(
        plan,
        effective_from,
        platform_fee_cents,
        included_lab_minutes,
        included_seats,
        Decimal(extra_lab_minute_usd),
        extra_seat_cents=extra_seat_cents,
        aws_markup_percent=aws_markup_percent,
        api_calls_included=api_calls_included,
        api_calls_1000_usd=Decimal(api_calls_1000_usd),
    )
    price_seed()  # the table says in full what was in force before this row
    if not repo.price_put(price):
        raise Conflict("That plan already has prices from that date.", code="price_exists")
    logger.info("price added", extra={"plan": plan, "effective_from": str(effective_from), "actor": actor})
    _price_cache.clear()
    return price


_price_cache: dict[str, tuple[float, list[Price]]] = {}


def price_table(*, max_age: float = 60.0) -> list[Price]:
    """Every price row (seed rows stand in for a plan with none yet); cached ``max_age`` seconds per process."""
    now = clock.now().timestamp()
    cached = _price_cache.get("rows")
    if cached and now - cached[0] < max_age:
        return cached[1]
    rows = repo.price_rows()
    earliest = {}
    for p in rows:
        earliest[p.plan] = min(earliest.get(p.plan, p.effective_from), p.effective_from)
    rows += [p for p in price_seed_rows() if earliest.get(p.plan, date.max) > p.effective_from]
    _price_cache["rows"] = (now, rows)
    return rows


def price_cache_clear() -> None:
    """Forget the process's copy of the price table (tests; a price added here clears it too)."""
    _price_cache.clear()


def price_in_force(plan: str, on: date, rows: list[Price] | None = None) -> Price:
    """The row of ``plan`` with the latest ``effective_from`` on or before ``on``."""
    rows = price_table() if rows is None else rows
    candidates = [p for p in rows if p.plan == plan and p.effective_from <= on]
    if not candidates:
        raise NotFound("No price is in force for that plan.", code="price_not_found", details={"plan": plan})
    return max(candidates, key=lambda p: p.effective_from)


def plan_of(tenant: Tenant) -> str:
    return CREDITS_PLAN if tenant.is_default else tenant.tier.value


class PriceBook:
    """tenants.ports.PriceBook: the plan cards (sign-up page, plans API) show the prices in force today."""

    def current(self, tier: str) -> dict[str, Any] | None:
        try:
            price = price_in_force(tier, clock.now().date())
        except NotFound:
            return None
        return {
            "monthly_fee_usd": Decimal(price.platform_fee_cents) / 100,
            "extra_lab_minute_usd": price.extra_lab_minute_usd,
            "included_lab_minutes": price.included_lab_minutes,
        }


# --- metering ---------------------------------------------------------------------------------------------------
def usage_record(
    *,
    tenant_id: str,
    key: str,
    kind: UsageKind,
    quantity: int,
    at: datetime,
    month: str | None = None,
    user_id: str = "",
    lab_id: str = "",
    session_id: str = "",
    also: list[Also] = (),
) -> str:
    """Record one usage event under its idempotency ``key``: "recorded" or "duplicate". An event for a
    month already invoiced counts in the next open month as a visible adjustment (``adjusts``). Only a
    Cost Explorer correction (``lab_spend_actual``) may be negative; ``also`` joins the event's transaction."""
    negative_allowed = kind is UsageKind.LAB_SPEND_ACTUAL
    if not key or len(key) > 200 or (quantity < 0 and not negative_allowed):
        raise ValidationFailed("A usage event needs a key and a quantity of zero or more.", code="invalid_usage")
    period = month or month_of(at)
    adjusts = ""
    for _ in range(3):
        event = UsageEvent(tenant_id, key, kind, quantity, at, period, user_id, lab_id, session_id, adjusts)
        outcome = repo.record_event(event, also)
        if outcome != "closed":
            if outcome == "recorded" and kind is UsageKind.LAB_MINUTES:
                limits_check_alerts(tenant_id=tenant_id, month=period, user_id=user_id)
            return outcome
        adjusts = adjusts or period
        period = next_month(period)
    raise Conflict("Three months in a row are closed; the event was not recorded.", code="periods_closed")


def session_minutes(session: LabSession) -> int:
    """What a learner had: ready → ending, in started minutes (as labs counts them)."""
    if not session.ready_at:
        return 0
    ending = session.ending_at or session.ended_at or clock.now()
    return max(0, math.ceil((ending - session.ready_at).total_seconds() / 60))


def session_meter(session: LabSession) -> dict[str, str]:
    """Meter an ended session: its lab minutes and its estimated AWS spend (each once, by session id), and
    settle its wallet hold if it has one."""
    if session.state is not SessionState.ENDED:
        return {}
    spend_cents = round(session.spend_usd * 100)
    if session.account_id:  # first, so a session whose minutes are metered always has its lease on record
        repo.lease_put(session, estimate_cents=spend_cents)
    at = session.ended_at or clock.now()
    common = dict(tenant_id=session.tenant_id, at=at, month=session.month or month_of(session.requested_at))
    common.update(user_id=session.user_id, lab_id=session.lab_id, session_id=session.session_id)
    out = {
        "minutes": usage_record(
            key=f"lab_minutes:{session.session_id}",
            kind=UsageKind.LAB_MINUTES,
            quantity=session_minutes(session),
            **common,
        )
    }
    if spend_cents:
        out["spend"] = usage_record(
            key=f"lab_spend_estimated:{session.session_id}",
            kind=UsageKind.LAB_SPEND_ESTIMATED,
            quantity=spend_cents,
            **common,
        )
    out["settled"] = str(hold_settle(session=session))
    return out


class SessionMeter:
    """labs.ports SessionListener: binds a start's hold to its session, meters and settles at the end."""

    def session_event(self, event: SessionEvent) -> None:
        if event.kind == "started":
            hold_bind(
                tenant_id=event.tenant_id, user_id=event.user_id, lab_id=event.lab_id, session_id=event.session_id
            )
        elif event.kind in {"ended", "failed"}:
            session = lab_session_get(tenant_id=event.tenant_id, session_id=event.session_id)
            if session.state is SessionState.FAILED:
                hold_settle(session=session)
            else:
                session_meter(session)


def usage_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Meter every session that ended in the last CLOUDKIDA_BILLING_RECONCILE_HOURS and was not metered (a
    listener failed), settle their holds, and release holds of starts that never became sessions. Per
    tenant: one Query of its recent sessions (session ids are ULIDs: a key range by time) and one GetItem
    per ended session."""
    now = now or clock.now()
    since = now - timedelta(hours=settings.CLOUDKIDA_BILLING_RECONCILE_HOURS)
    report = {"tenants": 0, "sessions": 0, "metered": 0, "holds_released": 0}
    for tenant in tenants_all():
        report["tenants"] += 1
        for session in repo.sessions_between(tenant.tenant_id, since, now):
            report["sessions"] += 1
            if session.state is SessionState.ENDED:
                month = session.month or month_of(session.requested_at)
                if not repo.event_exists(tenant.tenant_id, month, f"lab_minutes:{session.session_id}"):
                    session_meter(session)
                    report["metered"] += 1
                elif repo.hold_get(tenant.tenant_id, repo.join(repo.HOLD, session.session_id)):
                    hold_settle(session=session)
            elif session.state is SessionState.FAILED:
                hold_settle(session=session)
        report["holds_released"] += holds_release_stale(tenant_id=tenant.tenant_id, now=now)
    return report


# --- Cost Explorer actuals --------------------------------------------------------------------------------------
def actuals_window(today: date) -> tuple[date, date]:
    """The days a run re-reads: the last CLOUDKIDA_BILLING_ACTUALS_DAYS before today (today's figures are
    still being written), from the previous month's first day while its figures may still be revised."""
    start = today - timedelta(days=settings.CLOUDKIDA_BILLING_ACTUALS_DAYS)
    if today.day <= settings.CLOUDKIDA_BILLING_ACTUALS_PREVIOUS_MONTH_UNTIL_DAY:
        start = min(start, (today.replace(day=1) - timedelta(days=1)).replace(day=1))
    return start, today


def _overlap_seconds(lease: dict[str, Any], day: date) -> float:
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    low = max(clock.from_iso(lease["start"]), day_start)
    high = min(clock.from_iso(lease["end"]), day_start + timedelta(days=1))
    return max(0.0, (high - low).total_seconds())


def _split(total_cents: int, weights: list[float]) -> list[int]:
    """``total_cents`` shared in proportion to ``weights``; the shares add up to it exactly."""
    whole = sum(weights)
    shares, before, running = [], 0, 0.0
    for weight in weights:
        running += weight
        upto = round(total_cents * running / whole)
        shares.append(upto - before)
        before = upto
    return shares


def lease_day_shares(leases: list[dict[str, Any]], figures: costs.DailyCosts, account: str) -> dict[str, dict]:
    """Each lease's cents of its account's known days: a day's cost is shared among the sessions that held
    the account that day by the time each held it; a day no session held is the platform's (not billed)."""
    out: dict[str, dict] = {}
    for day in sorted(figures.days):
        holders = [(lease, _overlap_seconds(lease, day)) for lease in leases]
        holders = [(lease, seconds) for lease, seconds in holders if seconds > 0]
        if not holders:
            continue
        total = cents_of(figures.amounts.get((account, day), Decimal(0)))
        for (lease, _seconds), share in zip(holders, _split(total, [s for _l, s in holders]), strict=True):
            out.setdefault(lease["session_id"], {"lease": lease, "days": {}})["days"][day.isoformat()] = share
    return out


def cents_of(amount_usd: Decimal) -> int:
    return int((amount_usd * 100).quantize(Decimal("1"), rounding="ROUND_HALF_UP"))


def actual_record(*, lease: dict[str, Any], days: dict[str, int]) -> str:
    """Record a session's Cost Explorer figures as a ``lab_spend_actual`` event of the difference from what
    was recorded before (the first time, less the session's estimate: actuals replace the estimate), under
    ``lab_spend_actual:<session>:r<revision>``, in one transaction with the session's record of its figures.
    "recorded", "unchanged" (a rerun), "duplicate" or "raced" (another run recorded that revision)."""
    tenant_id, session_id = lease["tenant_id"], lease["session_id"]
    state = repo.actual_get(tenant_id, session_id)
    before = {k: int(v) for k, v in (state or {}).get("days", {}).items()}
    merged = {**before, **days}
    if state is not None and merged == before:
        return "unchanged"
    revision = int(state["revision"]) + 1 if state else 1
    delta = sum(merged.values()) - sum(before.values())
    if state is None:
        delta -= int(lease.get("estimate_cents", 0))
    try:
        return usage_record(
            tenant_id=tenant_id,
            key=f"lab_spend_actual:{session_id}:r{revision}",
            kind=UsageKind.LAB_SPEND_ACTUAL,
            quantity=delta,
            at=clock.from_iso(lease["end"]),
            month=lease.get("month") or month_of(clock.from_iso(lease["start"])),
            user_id=lease.get("user_id", ""),
            lab_id=lease.get("lab_id", ""),
            session_id=session_id,
            also=[
                repo.actual_put(tenant_id, session_id, days=merged, revision=revision, account_id=lease["account_id"])
            ],
        )
    except Conflict as conflict:
        if conflict.code == "actual_moved":
            return "raced"
        raise


def actual_spend_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """The daily Cost Explorer job: per shard one GetCostAndUsage over ``actuals_window``; per account with
    cost, one Query of its leases; per session that held it, the difference from what was recorded (nothing
    on a rerun; a revised figure records only its difference). A correction for an invoiced month lands in
    the next open month as an adjustment (``usage_record``)."""
    now = now or clock.now()
    start, end = actuals_window(now.date())
    report = {"shards": 0, "accounts": 0, "sessions": 0, "recorded": 0, "unattributed_cents": 0}
    earliest = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(days=2)  # leases ≤ 2 days
    until = datetime(end.year, end.month, end.day, tzinfo=UTC)
    for shard in pool_shards():
        report["shards"] += 1
        figures = costs.daily_costs(shard, start, end)
        for account in sorted(figures.accounts()):
            report["accounts"] += 1
            shares = lease_day_shares(repo.leases_between(account, earliest, until), figures, account)
            held = {day for entry in shares.values() for day in entry["days"]}
            report["unattributed_cents"] += sum(
                cents_of(amount)
                for (acct, day), amount in figures.amounts.items()
                if acct == account and day.isoformat() not in held
            )
            for entry in shares.values():
                report["sessions"] += 1
                if actual_record(lease=entry["lease"], days=entry["days"]) == "recorded":
                    report["recorded"] += 1
    return report


def tenants_all():
    cursor = None
    while True:
        page = tenant_list(limit=100, cursor=cursor)
        yield from (t for t in page.items if t.status is not TenantStatus.OFFBOARDING)
        if not page.cursor:
            return
        cursor = page.cursor


# --- limits and alerts ------------------------------------------------------------------------------------------
def _tenant_spend_cents(tenant: Tenant, totals: dict[str, int], price: Price) -> int:
    """What this month's lab minutes cost the tenant so far: beyond the included minutes (credits: all)."""
    minutes = int(totals.get("lab_minutes", 0)) + int(totals.get("adjusted_lab_minutes", 0))
    return price.minutes_cents(max(0, minutes - price.included_lab_minutes))


def limits_check_alerts(*, tenant_id: str, month: str, user_id: str = "") -> list[str]:
    """Send the 75 % and 100 % alerts of the tenant's and the user's monthly limits, each once (email to
    the tenant's admin or the user; the portal lists them)."""
    state = repo.state_get(tenant_id)
    if not (state.monthly_limit_cents or state.user_monthly_limit_cents):
        return []
    tenant = tenant_get_cached(tenant_id=tenant_id)
    price = price_in_force(plan_of(tenant), month_start(month))
    sent = []
    checks = []
    if state.monthly_limit_cents:
        spent = _tenant_spend_cents(tenant, repo.month_total(tenant_id, month), price)
        checks.append(("TENANT", spent, state.monthly_limit_cents, tenant.admin_email))
    if user_id and state.user_monthly_limit_cents:
        spent = price.minutes_cents(repo.user_month(tenant_id, month, user_id).get("lab_minutes", 0))
        checks.append((user_id, spent, state.user_monthly_limit_cents, ""))
    for scope, spent, limit, to in checks:
        for percent in (75, 100):
            if spent * 100 >= limit * percent and repo.alert_once(tenant_id, month, scope, percent):
                sent.append(f"{scope}:{percent}")
                address = to or _user_email(tenant_id, scope)
                if address:
                    who = "Your organisation has" if scope == "TENANT" else "You have"
                    email.send(
                        tenant_id=tenant_id,
                        kind="billing_limit_alert",
                        to=address,
                        subject=f"{percent}% of your monthly lab spending limit used",
                        body=(
                            f"{who} used ${usd(spent)} of the ${usd(limit)} monthly limit for {month} on "
                            f"{tenant.name}.\n"
                            + (
                                "Lab starts are now refused until next month or a higher limit.\n"
                                if percent == 100
                                else ""
                            )
                        ),
                        display_name=tenant.name,
                    )
    return sent


def _user_email(tenant_id: str, user_id: str) -> str:
    user = user_find(tenant_id=tenant_id, user_id=user_id)
    return user.email if user else ""


def limits_set(*, tenant_id: str, monthly_limit_cents: int, user_monthly_limit_cents: int, actor: str) -> BillingState:
    """A tenant admin's monthly spending limits (0: none), for the organisation and for each user."""
    if monthly_limit_cents < 0 or user_monthly_limit_cents < 0:
        raise ValidationFailed("Limits cannot be negative.", code="invalid_limit")
    state = repo.state_get(tenant_id, consistent=True)
    return repo.state_put(
        state, monthly_limit_cents=monthly_limit_cents, user_monthly_limit_cents=user_monthly_limit_cents
    )


def billing_mode_set(*, tenant_id: str, mode: str) -> BillingState:
    """How a tenant pays for its labs: "invoice" (monthly) or "credits" (its wallet, reserved at start)."""
    if mode not in {"invoice", "credits"}:
        raise ValidationFailed("mode is invoice or credits.", code="invalid_mode")
    return repo.state_put(repo.state_get(tenant_id, consistent=True), mode=mode)


# --- wallets ----------------------------------------------------------------------------------------------------
def wallet_owner(tenant: Tenant, user_id: str, state: BillingState | None = None) -> str:
    """Whose wallet pays a user's labs: the learner's own in the shared tenant, the tenant's in credits
    mode, none ("") for invoiced tenants."""
    if tenant.is_default:
        return user_id
    state = state or repo.state_get(tenant.tenant_id)
    return TENANT_WALLET if state.mode == "credits" else ""


def credits_add(
    *, tenant_id: str, owner: str, amount_cents: int, key: str, kind: str = "purchase", detail: str = ""
) -> bool:
    """Add credit to a wallet once per ``key`` (a provider's checkout id, an admin's grant id)."""
    if amount_cents <= 0:
        raise ValidationFailed("The amount must be positive.", code="invalid_amount")
    entry = LedgerEntry(tenant_id, owner, key, kind, amount_cents, clock.now(), detail)
    return repo.wallet_apply(entry)


def credits_checkout(*, tenant_id: str, owner: str, amount_cents: int, success_url: str, cancel_url: str):
    """A hosted checkout for buying credits; the wallet is credited when the provider's webhook says paid."""
    if not 500 <= amount_cents <= 100_000:
        raise ValidationFailed(
            "Buy between $5.00 and $1,000.00 of credit at a time.",
            code="invalid_amount",
            details={"min_cents": 500, "max_cents": 100_000},
        )
    return providers.provider().checkout_create(
        tenant_id=tenant_id, owner=owner, amount_cents=amount_cents, success_url=success_url, cancel_url=cancel_url
    )


def wallet_reserve(*, tenant_id: str, owner: str, user_id: str, lab_id: str, amount_cents: int) -> str:
    """Set ``amount_cents`` aside for a lab start of (user, lab): the balance drops and the reservation rises
    in one conditional transaction with the start's hold, so concurrent starts never take the wallet below
    zero. Refused with 402 ``insufficient_credit``; a hold of the same start still open is 409
    ``session_already_starting`` (one older than the start lock is released first)."""
    hold_id = new_ulid()
    sk = repo.hold_start_sk(user_id, lab_id)
    attributes = {
        "hold_id": hold_id,
        "owner": owner,
        "amount_cents": amount_cents,
        "user_id": user_id,
        "lab_id": lab_id,
        "created_at": int(clock.now().timestamp()),
    }
    entry = LedgerEntry(tenant_id, owner, f"reserve:{hold_id}", "reserve", -amount_cents, clock.now(), lab_id)
    for attempt in range(2):
        try:
            repo.wallet_apply(
                entry, reserved_delta=amount_cents, need=amount_cents, extra=[repo.hold_put(tenant_id, sk, attributes)]
            )
            return hold_id
        except Conflict as conflict:
            if conflict.code == "insufficient_credit":
                wallet = repo.wallet_get(tenant_id, owner)
                raise PaymentRequired(
                    "Your credit does not cover this lab. Buy credits to start it.",
                    code="insufficient_credit",
                    details={"needed_cents": amount_cents, "balance_cents": wallet.balance_cents},
                ) from conflict
            if conflict.code != "hold_exists" or attempt or not _release_if_stale(tenant_id, sk, clock.now()):
                raise Conflict(
                    "A session of this lab is already starting for you.", code="session_already_starting"
                ) from conflict
    raise AssertionError("unreachable")


def _release_if_stale(tenant_id: str, sk: str, now: datetime) -> bool:
    hold = repo.hold_get(tenant_id, sk)
    if hold is None:
        return True
    if int(hold["created_at"]) > now.timestamp() - settings.CLOUDKIDA_LAB_START_LOCK_SECONDS:
        return False
    entry = LedgerEntry(
        tenant_id,
        hold["owner"],
        f"release:{hold['hold_id']}",
        "refund",
        int(hold["amount_cents"]),
        now,
        "a start that never became a session",
    )
    try:
        repo.wallet_apply(entry, reserved_delta=-int(hold["amount_cents"]), extra=[repo.hold_delete(tenant_id, sk)])
    except Conflict as conflict:
        if conflict.code != "hold_gone":
            raise
    return True


def holds_release_stale(*, tenant_id: str, now: datetime) -> int:
    """Refund the holds of starts older than the start lock that never became sessions."""
    stale = [
        h
        for h in repo.open_start_holds(tenant_id)
        if int(h["created_at"]) <= now.timestamp() - settings.CLOUDKIDA_LAB_START_LOCK_SECONDS
    ]
    return sum(1 for hold in stale if _release_if_stale(tenant_id, hold["SK"], now))


def hold_bind(
    *, tenant_id: str, user_id: str, lab_id: str, session_id: str, requested_at: datetime | None = None
) -> bool:
    """The start's hold becomes the session's (idempotent: False if there is none to move). With
    ``requested_at`` (reconciliation, when the ``started`` listener did not run) only a hold made just before
    that session was requested is taken: a later start of the same lab keeps its own."""
    sk = repo.hold_start_sk(user_id, lab_id)
    hold = repo.hold_get(tenant_id, sk)
    if hold is None:
        return False
    if requested_at is not None and not (
        requested_at.timestamp() - 300 <= int(hold["created_at"]) <= requested_at.timestamp() + 1
    ):
        return False
    attributes = {k: v for k, v in hold.items() if k not in {"PK", "SK", "version"}}
    return repo.hold_bind(tenant_id, sk, session_id, {**attributes, "session_id": session_id})


def hold_settle(*, session: LabSession) -> bool:
    """Settle a session's hold once: charge its minutes at the price in force (nothing if it ended within
    CLOUDKIDA_BILLING_FREE_MINUTES or failed), capped at what was reserved, and refund the rest."""
    tenant_id = session.tenant_id
    sk = repo.join(repo.HOLD, session.session_id)
    hold = repo.hold_get(tenant_id, sk)
    if hold is None and hold_bind(
        tenant_id=tenant_id,
        user_id=session.user_id,
        lab_id=session.lab_id,
        session_id=session.session_id,
        requested_at=session.requested_at,
    ):
        hold = repo.hold_get(tenant_id, sk)
    if hold is None:
        return False
    reserved = int(hold["amount_cents"])
    minutes = session_minutes(session) if session.state is SessionState.ENDED else 0
    charge = 0
    if minutes > settings.CLOUDKIDA_BILLING_FREE_MINUTES:
        tenant = tenant_get_cached(tenant_id=tenant_id)
        price = price_in_force(plan_of(tenant), session.requested_at.date())
        charge = min(price.minutes_cents(minutes), reserved)
    detail = f"{minutes} min of {session.lab_title or session.lab_id}: charged ${usd(charge)}"
    entry = LedgerEntry(
        tenant_id, hold["owner"], f"settle:{session.session_id}", "settle", reserved - charge, clock.now(), detail
    )
    charged = repo.charge_counter(tenant_id, session.month or month_of(session.requested_at), charge)
    try:
        return repo.wallet_apply(entry, reserved_delta=-reserved, extra=[repo.hold_delete(tenant_id, sk), charged])
    except Conflict as conflict:
        if conflict.code == "hold_gone":
            return False
        raise


class WalletGuard:
    """labs.ports StartGuard: refuses a start when an invoice is overdue past its grace, a monthly limit
    would be passed, or the paying wallet cannot cover the lab's expected cost (reserved here)."""

    def check_start(self, request: ports.StartRequest) -> None:
        state = repo.state_get(request.tenant_id)
        if state.starts_refused:
            raise PaymentRequired(
                "Your organisation has an unpaid invoice past its grace period; pay it to start labs again.",
                code="invoice_overdue",
            )
        tenant = tenant_get_cached(tenant_id=request.tenant_id)
        now = clock.now()
        month = month_of(now)
        price = price_in_force(plan_of(tenant), now.date())
        expected = price.reserve_cents(request.duration_minutes)
        if state.monthly_limit_cents:
            totals = repo.month_total(request.tenant_id, month)
            planned = {**totals, "lab_minutes": totals.get("lab_minutes", 0) + request.duration_minutes}
            if _tenant_spend_cents(tenant, planned, price) > state.monthly_limit_cents:
                raise PaymentRequired(
                    "This lab would pass your organisation's monthly spending limit.",
                    code="spending_limit_reached",
                    details={"scope": "tenant", "limit_cents": state.monthly_limit_cents},
                )
        if state.user_monthly_limit_cents:
            used = repo.user_month(request.tenant_id, month, request.user_id).get("lab_minutes", 0)
            if price.minutes_cents(used + request.duration_minutes) > state.user_monthly_limit_cents:
                raise PaymentRequired(
                    "This lab would pass your monthly spending limit.",
                    code="spending_limit_reached",
                    details={"scope": "user", "limit_cents": state.user_monthly_limit_cents},
                )
        owner = wallet_owner(tenant, request.user_id, state)
        if owner:
            wallet_reserve(
                tenant_id=request.tenant_id,
                owner=owner,
                user_id=request.user_id,
                lab_id=request.lab.lab_id,
                amount_cents=expected,
            )


# --- invoices ---------------------------------------------------------------------------------------------------
def invoice_lines(usage: MonthUsage, price: Price, *, mode: str = "invoice") -> list[InvoiceLine]:
    """The lines of a month from its aggregates and the price in force (labs paid by credits are not
    invoiced again)."""
    lines = [
        InvoiceLine(
            "platform_fee",
            f"{price.plan.title()} platform fee",
            1,
            usd(price.platform_fee_cents),
            price.platform_fee_cents,
        )
    ]
    if mode != "credits":
        minutes = usage.get("lab_minutes")
        extra = max(0, minutes - price.included_lab_minutes)
        lines.append(
            InvoiceLine(
                "lab_minutes",
                f"Lab minutes: {minutes} used, {price.included_lab_minutes} included",
                extra,
                str(price.extra_lab_minute_usd),
                price.minutes_cents(extra),
            )
        )
        adjusted = usage.get("adjusted_lab_minutes")
        if adjusted:
            lines.append(
                InvoiceLine(
                    "adjustment",
                    "Adjustment: lab minutes recorded after their month closed",
                    adjusted,
                    str(price.extra_lab_minute_usd),
                    price.minutes_cents(adjusted),
                )
            )
    seats = usage.get("seats")
    if price.extra_seat_cents and seats > price.included_seats:
        extra_seats = seats - price.included_seats
        lines.append(
            InvoiceLine(
                "seats",
                f"Seats beyond the {price.included_seats} included",
                extra_seats,
                usd(price.extra_seat_cents),
                extra_seats * price.extra_seat_cents,
            )
        )
    calls = usage.get("api_calls")
    if price.api_calls_included or price.api_calls_1000_usd:
        beyond = max(0, calls - price.api_calls_included)
        lines.append(
            InvoiceLine(
                "api_calls",
                f"API calls beyond allowance: {calls} made, {price.api_calls_included} included (per 1,000)",
                beyond,
                str(price.api_calls_1000_usd),
                price.api_calls_cents(beyond),
            )
        )
    # Lab AWS spend: each session's Cost Explorer actual where it has arrived, its estimate otherwise (the
    # actual events carry actual − estimate), with the plan's markup; a correction to an invoiced month is its
    # own adjustment line (it may be a credit).
    spend = usage.get("spend_estimated_cents") + usage.get("spend_actual_cents")
    markup = price.aws_markup_percent
    if spend and mode != "credits":
        amount = _marked_up(spend, markup)
        lines.append(InvoiceLine("aws_spend", f"Lab AWS usage (+{markup}%)", 1, usd(amount), amount))
    late = usage.get("adjusted_spend_estimated_cents") + usage.get("adjusted_spend_actual_cents")
    if late and mode != "credits":
        amount = _marked_up(late, markup)
        lines.append(
            InvoiceLine(
                "aws_spend_adjustment",
                f"Adjustment: lab AWS usage of earlier months revised by AWS Cost Explorer (+{markup}%)",
                1,
                usd(amount),
                amount,
            )
        )
    return lines


def _marked_up(amount_cents: int, percent: int) -> int:
    """``amount_cents`` plus ``percent``, rounded half away from zero (a credit rounds like a charge)."""
    sign = -1 if amount_cents < 0 else 1
    return sign * ((abs(amount_cents) * (100 + percent) + 50) // 100)


def invoice_generate(*, tenant: Tenant, month: str, rows: list[Price] | None = None, issue: bool = True) -> Invoice:
    """The tenant's invoice for ``month`` (idempotent: a second run finds the first's and, if it is still a
    draft, issues it). The month's seats are metered first (its active users now, once per month); lines
    come from the month's aggregates (one Query) at the prices in force on the month's first day."""
    existing = None
    seats_meter(tenant_id=tenant.tenant_id, month=month, seats=user_counts(tenant_id=tenant.tenant_id)[0])
    usage = repo.month_usage(tenant.tenant_id, month)
    state = repo.state_get(tenant.tenant_id)
    price = price_in_force(plan_of(tenant), month_start(month), rows)
    beyond = max(0, usage.get("api_calls") - price.api_calls_included)
    if beyond:  # the billed calls as a usage event, once per month (the line reads the counted calls)
        usage_record(
            tenant_id=tenant.tenant_id,
            key=f"api_calls:{month}",
            kind=UsageKind.API_CALLS,
            quantity=beyond,
            at=clock.now(),
            month=month,
        )
    draft = Invoice(
        tenant_id=tenant.tenant_id,
        month=month,
        status=InvoiceStatus.DRAFT,
        lines=invoice_lines(usage, price, mode=state.mode),
        plan=price.plan,
        price_effective_from=price.effective_from.isoformat(),
        created_at=clock.now(),
    )
    invoice = repo.invoice_create(draft)
    if invoice is None:
        existing = repo.invoice_get(tenant.tenant_id, month, consistent=True)
        invoice = existing
    if issue and invoice.status is InvoiceStatus.DRAFT:
        invoice = invoice_issue(tenant=tenant, month=month, invoice=invoice, state=state)
    return invoice


def _invoice_data(invoice: Invoice) -> dict[str, Any]:
    return {
        "month": invoice.month,
        "number": invoice.number,
        "total_cents": invoice.total_cents,
        "status": invoice.status.value,
    }


def invoice_issue(
    *, tenant: Tenant, month: str, invoice: Invoice | None = None, state: BillingState | None = None
) -> Invoice:
    """Issue a draft: the next number (gapless: the counter moves in the same transaction as the invoice,
    the month's closing and its ``invoice.issued`` event), a due date, then the provider's invoice."""
    invoice = invoice or repo.invoice_get(tenant.tenant_id, month, consistent=True)
    if invoice is None:
        raise NotFound("No such invoice.", code="invoice_not_found")
    if invoice.status is not InvoiceStatus.DRAFT:
        return invoice
    now = clock.now()
    due = now + timedelta(days=settings.CLOUDKIDA_BILLING_DUE_DAYS)
    for _ in range(10):
        last = repo.counter_value()
        number = f"CK-{last + 1:06d}"
        issued = replace(invoice, number=number, status=InvoiceStatus.ISSUED)
        try:
            invoice = repo.invoice_issue(
                invoice,
                number=last + 1,
                last=last,
                due_at=due,
                changes={"number": number, "issued_at": clock.to_iso(now)},
                also=events.also(
                    tenant.tenant_id,
                    "invoice.issued",
                    _invoice_data(issued),
                    event_id=f"invoice.issued:{tenant.tenant_id}:{month}",
                ),
            )
            break
        except Conflict as conflict:
            if conflict.code != "counter_moved":
                raise
    else:
        raise Conflict("The invoice counter is busy; retry.", code="counter_busy")
    return _invoice_to_provider(tenant, invoice, state)


def _with_customer(tenant: Tenant, state: BillingState | None = None) -> BillingState:
    """The tenant's billing state with its payment provider's customer (created the first time)."""
    state = state or repo.state_get(tenant.tenant_id, consistent=True)
    if not state.customer_id:
        customer = providers.provider().customer_create(
            tenant_id=tenant.tenant_id, name=tenant.name, email=tenant.admin_email
        )
        state = repo.state_put(state, customer_id=customer)
    return state


def payment_method_session(*, tenant_id: str, return_url: str) -> providers.Checkout:
    """A session of the provider's hosted page where a tenant admin adds or replaces the organisation's
    payment method (Stripe: the Billing Portal's payment-method flow); the card never reaches CloudKida."""
    tenant = tenant_get_cached(tenant_id=tenant_id)
    state = _with_customer(tenant)
    return providers.provider().payment_method_session(customer_id=state.customer_id, return_url=return_url)


def _invoice_to_provider(tenant: Tenant, invoice: Invoice, state: BillingState | None) -> Invoice:
    if invoice.total_cents <= 0 or invoice.provider_invoice_id:
        return invoice
    provider = providers.provider()
    state = _with_customer(tenant, state)
    provider_id = provider.invoice_create(
        customer_id=state.customer_id, invoice=invoice, days_until_due=settings.CLOUDKIDA_BILLING_DUE_DAYS
    )
    return repo.invoice_update(invoice, changes={"provider_invoice_id": provider_id})


def invoices_month_end(*, month: str | None = None, now: datetime | None = None) -> dict[str, int]:
    """Invoice every tenant (not the shared learners tenant, whose learners prepay) for ``month`` (default:
    the month before ``now``). Running it twice gives one invoice per tenant; numbers have no gaps."""
    now = now or clock.now()
    month = month or month_of(now.replace(day=1) - timedelta(days=1))
    rows = price_table(max_age=0)
    report = {"tenants": 0, "invoices": 0}
    for tenant in tenants_all():
        if tenant.is_default or tenant.status not in {TenantStatus.ACTIVE, TenantStatus.DEACTIVATED}:
            continue
        if tenant.created_at.date() >= month_start(next_month(month)):
            continue  # not a tenant in that month
        report["tenants"] += 1
        invoice_generate(tenant=tenant, month=month, rows=rows)
        report["invoices"] += 1
    return report


def invoice_set_status(*, tenant_id: str, month: str, status: InvoiceStatus, actor: str) -> Invoice:
    """Move an invoice along draft → issued → paid / void / uncollectible (anything else is 409). Paid
    records ``invoice.paid`` in the same transaction and lifts a refusal of lab starts at once."""
    status = InvoiceStatus(status)
    invoice = repo.invoice_get(tenant_id, month, consistent=True)
    if invoice is None:
        raise NotFound("No such invoice.", code="invoice_not_found")
    if status is invoice.status:
        return invoice
    if status is InvoiceStatus.ISSUED:
        return invoice_issue(tenant=tenant_get_cached(tenant_id=tenant_id), month=month, invoice=invoice)
    if status not in TRANSITIONS[invoice.status]:
        raise Conflict(
            f"An invoice that is {invoice.status.value} cannot become {status.value}.",
            code="invalid_transition",
            details={"status": invoice.status.value},
        )
    now = clock.now()
    changes: dict[str, Any] = {"status": status.value}
    also = []
    if status is InvoiceStatus.PAID:
        changes["paid_at"] = clock.to_iso(now)
        also += events.also(
            tenant_id,
            "invoice.paid",
            {**_invoice_data(invoice), "status": "paid"},
            event_id=f"invoice.paid:{tenant_id}:{month}",
        )
    if status in {InvoiceStatus.PAID, InvoiceStatus.VOID} and invoice.status is not InvoiceStatus.DRAFT:
        also.append(repo.unpaid_delete(invoice))
    invoice = repo.invoice_update(invoice, changes=changes, also=also)
    logger.info(
        "invoice status", extra={"tenant_id": tenant_id, "month": month, "status": status.value, "actor": actor}
    )
    if status in {InvoiceStatus.PAID, InvoiceStatus.VOID}:
        _lift_refusal_if_clear(tenant_id)
    return invoice


def _lift_refusal_if_clear(tenant_id: str) -> None:
    state = repo.state_get(tenant_id, consistent=True)
    if state.starts_refused and not repo.overdue_of_tenant(tenant_id):
        repo.state_put(state, starts_refused=False)


# --- payments ---------------------------------------------------------------------------------------------------
def webhook_handle(*, payload: bytes, signature: str) -> str:
    """Verify and handle a provider's webhook once per event id: "handled", "replay" or "ignored". A bad
    signature is 400 ``invalid_signature`` and changes nothing."""
    provider = providers.provider()
    event = provider.webhook_event(payload=payload, signature=signature)
    if not event.event_id:
        raise ValidationFailed("The event has no id.", code="invalid_event")
    if repo.webhook_seen(provider.name, event.event_id, event.kind):
        return "replay"
    try:
        if event.kind == providers.CREDITS_PURCHASED:
            data = event.data
            tenant_get_cached(tenant_id=data["tenant_id"])
            credits_add(
                tenant_id=data["tenant_id"],
                owner=data["owner"],
                amount_cents=int(data["amount_cents"]),
                key=f"purchase:{data['checkout_id']}",
                detail=data.get("payment_id", ""),
            )
        elif event.kind == providers.INVOICE_PAID:
            invoice_set_status(
                tenant_id=event.data["tenant_id"],
                month=event.data["month"],
                status=InvoiceStatus.PAID,
                actor=f"{provider.name}:{event.event_id}",
            )
        else:
            return "ignored"
    except Exception:
        repo.webhook_forget(provider.name, event.event_id)  # the provider retries; handle it then
        raise
    return "handled"


# --- dunning ----------------------------------------------------------------------------------------------------
def dunning_run(*, now: datetime | None = None) -> dict[str, int]:
    """Invoices unpaid past their due date + CLOUDKIDA_BILLING_GRACE_DAYS: warn the tenant's admin once,
    then after CLOUDKIDA_BILLING_REFUSE_AFTER_WARNING_DAYS refuse its lab starts (not its data or portal).
    Paying lifts the refusal at once (``invoice_set_status``)."""
    now = now or clock.now()
    cutoff = now - timedelta(days=settings.CLOUDKIDA_BILLING_GRACE_DAYS)
    report = {"warned": 0, "refused": 0}
    for marker in repo.unpaid_due_before(clock.to_iso(cutoff)):
        invoice = repo.invoice_get(marker["tenant_id"], marker["month"], consistent=True)
        if invoice is None or invoice.status not in {InvoiceStatus.ISSUED, InvoiceStatus.UNCOLLECTIBLE}:
            continue
        tenant = tenant_get_cached(tenant_id=invoice.tenant_id)
        if not invoice.dunning:
            repo.invoice_update(invoice, changes={"dunning": "warned", "warned_at": clock.to_iso(now)})
            report["warned"] += 1
            _dunning_email(tenant, invoice, refused=False)
        elif invoice.dunning == "warned":
            warned_at = repo.invoice_warned_at(invoice.tenant_id, invoice.month) or now
            if now - warned_at >= timedelta(days=settings.CLOUDKIDA_BILLING_REFUSE_AFTER_WARNING_DAYS):
                repo.invoice_update(invoice, changes={"dunning": "refused"})
                state = repo.state_get(invoice.tenant_id, consistent=True)
                repo.state_put(state, starts_refused=True)
                report["refused"] += 1
                _dunning_email(tenant, invoice, refused=True)
    return report


def _dunning_email(tenant: Tenant, invoice: Invoice, *, refused: bool) -> None:
    if not tenant.admin_email:
        return
    body = (
        f"Invoice {invoice.number} for {invoice.month} (${usd(invoice.total_cents)}) is unpaid past its due date.\n"
        + (
            "Your organisation's lab starts are refused until it is paid; your data and portal are untouched.\n"
            if refused
            else "Please pay it to keep starting labs.\n"
        )
    )
    email.send(
        tenant_id=tenant.tenant_id,
        kind="billing_dunning",
        to=tenant.admin_email,
        subject=f"{'Lab starts paused' if refused else 'Payment overdue'}: invoice {invoice.number}",
        body=body,
        display_name=tenant.name,
    )


def seats_meter(*, tenant_id: str, month: str, seats: int) -> str:
    """Record the month's seats (active users when it is invoiced) once per month."""
    return usage_record(
        tenant_id=tenant_id, key=f"seats:{month}", kind=UsageKind.SEATS, quantity=seats, at=clock.now(), month=month
    )


WALLET_GUARD = WalletGuard()
SESSION_METER = SessionMeter()
