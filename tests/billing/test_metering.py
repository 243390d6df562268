"""Metering: events written once by idempotency key, rolled up into month and day aggregates by atomic
counters in the same transaction; a month read is one Query; the labs listener meters ended sessions, and
the reconciliation job meters any the listener missed."""

from __future__ import annotations

import pytest

from benchmarks.counting import count_requests
from billing import repository as repo
from billing import selectors, services
from billing.domain import UsageKind
from cloudkida import clock
from tests.billing.conftest import at, ended_session, learner, register

pytestmark = pytest.mark.usefixtures("platform")


def test_a_retried_metering_step_bills_once():
    acme = register("acme")
    lee = learner(acme)
    session = ended_session(acme, lee, minutes=42, start=at(3))
    first = services.session_meter(session)
    again = services.session_meter(session)
    assert first["minutes"] == "recorded" and again["minutes"] == "duplicate"
    usage = selectors.usage_month(tenant_id=acme, month="2026-03")
    assert usage.get("lab_minutes") == 42
    assert usage.by_day["03"]["lab_minutes"] == 42
    assert selectors.usage_for_user(tenant_id=acme, user_id=lee, month="2026-03")["lab_minutes"] == 42
    assert dict(selectors.usage_breakdown(tenant_id=acme, month="2026-03", by="lab"))["lab-a"]["lab_minutes"] == 42
    assert len(selectors.usage_events(tenant_id=acme, month="2026-03").items) == 1


def test_one_event_is_one_request_and_a_month_read_is_one_query():
    acme = register("acme")
    with count_requests() as counts:
        outcome = services.usage_record(
            tenant_id=acme, key="api:1", kind=UsageKind.API_CALLS, quantity=3, at=at(5), user_id="u1"
        )
    assert outcome == "recorded"
    assert counts.by_operation == {"TransactWriteItems": 1}
    for day in (5, 6, 7):
        services.usage_record(tenant_id=acme, key=f"api:{day}x", kind=UsageKind.API_CALLS, quantity=1, at=at(day))
    with count_requests() as counts:
        usage = selectors.usage_month(tenant_id=acme, month="2026-03")
    assert counts.by_operation == {"Query": 1}
    assert usage.get("api_calls_beyond") == 6 and sorted(usage.by_day) == ["05", "06", "07"]


def test_months_and_tenants_are_kept_apart():
    acme, globex = register("acme"), register("globex")
    services.session_meter(ended_session(acme, "u1", minutes=10, start=at(31, month="2026-03")))
    services.session_meter(ended_session(acme, "u1", minutes=20, start=at(1, month="2026-04")))
    services.session_meter(ended_session(globex, "u2", minutes=7, start=at(1, month="2026-04")))
    assert selectors.usage_month(tenant_id=acme, month="2026-03").get("lab_minutes") == 10
    assert selectors.usage_month(tenant_id=acme, month="2026-04").get("lab_minutes") == 20
    assert selectors.usage_month(tenant_id=globex, month="2026-04").get("lab_minutes") == 7
    assert selectors.usage_month(tenant_id=globex, month="2026-03").get("lab_minutes") == 0


def test_late_usage_for_an_invoiced_month_is_an_adjustment_of_the_next(fake_provider):
    acme = register("acme")
    services.session_meter(ended_session(acme, "u1", minutes=10, start=at(10)))
    with clock.frozen(at(1, month="2026-04")):
        services.invoices_month_end(month="2026-03")
    late = ended_session(acme, "u1", minutes=5, start=at(30))
    assert services.session_meter(late)["minutes"] == "recorded"
    assert services.session_meter(late)["minutes"] == "duplicate"
    march = selectors.usage_month(tenant_id=acme, month="2026-03")
    april = selectors.usage_month(tenant_id=acme, month="2026-04")
    assert march.closed and march.get("lab_minutes") == 10
    assert april.get("lab_minutes") == 0 and april.get("adjusted_lab_minutes") == 5
    event = selectors.usage_events(tenant_id=acme, month="2026-04").items[0]
    assert event["adjusts"] == "2026-03"


def test_a_session_that_never_became_ready_meters_zero_minutes():
    acme = register("acme")
    session = ended_session(acme, "u1", minutes=0, start=at(2))
    session.ready_at = None
    services.session_meter(session)
    assert selectors.usage_month(tenant_id=acme, month="2026-03").get("lab_minutes") == 0
    assert repo.event_exists(acme, "2026-03", f"lab_minutes:{session.session_id}")
