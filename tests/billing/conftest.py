"""Billing fixtures: tenants through our own services, ended lab sessions as labs hands them to listeners,
and the payment provider at the external edge (the fake adapter, or Stripe over recorded HTTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from billing import providers
from cloudkida import clock
from cloudkida.ids import new_ulid
from labs.domain import LabSession, SessionState
from tests.labs.conftest import learner  # noqa: F401  re-exported for billing tests
from tests.labs.conftest import register as labs_register

SIGNED_UP = datetime(2026, 1, 5, 9, tzinfo=UTC)  # the tests' tenants exist before the months they bill


def register(slug: str, tier: str = "basic") -> str:
    with clock.frozen(SIGNED_UP):
        return labs_register(slug, tier)


def at(day: int, hour: int = 10, month: str = "2026-03") -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), day, hour, tzinfo=UTC)


def ended_session(
    tenant_id: str,
    user_id: str,
    *,
    minutes: int,
    start: datetime,
    lab_id: str = "lab-a",
    spend_usd: float = 0.0,
    session_id: str | None = None,
) -> LabSession:
    """A session that was READY for ``minutes`` minutes and has ENDED, as labs' ``ended`` event describes it."""
    ready = start + timedelta(minutes=2)
    ending = ready + timedelta(minutes=minutes)
    return LabSession(
        tenant_id=tenant_id,
        session_id=session_id or new_ulid(),
        user_id=user_id,
        lab_id=lab_id,
        lab_owner="",
        lab_revision=1,
        lab_title=f"Lab {lab_id}",
        region="us-east-1",
        state=SessionState.ENDED,
        requested_at=start,
        duration_minutes=60,
        max_duration_minutes=90,
        budget_usd=10,
        ready_at=ready,
        ending_at=ending,
        ended_at=ending + timedelta(minutes=5),
        spend_usd=spend_usd,
        month=start.strftime("%Y-%m"),
    )


@pytest.fixture
def fake_provider():
    adapter = providers.FakeProvider()
    providers.use(adapter)
    yield adapter
    providers.use(None)


def one_of_every_billing_kind(tenant_id: str, user_id: str) -> None:
    """Through billing's own services, leave the tenant at least one item of every tenant-owned billing kind:
    a metered session (event, month and day totals, breakdowns) with its account's lease and a Cost Explorer
    actual, limits and an alert, a wallet with entries,
    a start's hold and a session's hold, and an issued invoice with its unpaid marker."""
    from billing import services  # lazy: imported by tests of other apps that need only this helper

    month = clock.now().strftime("%Y-%m")
    services.limits_set(tenant_id=tenant_id, monthly_limit_cents=1, user_monthly_limit_cents=0, actor="test")
    start = clock.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    session = ended_session(tenant_id, user_id, minutes=1500, start=start)
    services.session_meter(replace(session, account_id="123456789012"))  # and its account's lease
    (lease,) = services.repo.leases_between("123456789012", session.requested_at, session.requested_at)
    services.actual_record(lease=lease, days={start.date().isoformat(): 7})
    services.credits_add(tenant_id=tenant_id, owner=user_id, amount_cents=10_000, key="grant:every-kind", kind="grant")
    services.wallet_reserve(tenant_id=tenant_id, owner=user_id, user_id=user_id, lab_id="held", amount_cents=300)
    services.wallet_reserve(tenant_id=tenant_id, owner=user_id, user_id=user_id, lab_id="bound", amount_cents=300)
    services.hold_bind(tenant_id=tenant_id, user_id=user_id, lab_id="bound", session_id=new_ulid())
    from tenants.selectors import tenant_get  # lazy: as above

    services.invoice_generate(tenant=tenant_get(tenant_id=tenant_id), month=month)
