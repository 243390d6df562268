"""API calls beyond the tier's allowance: calls made with a tenant's API key or bearer token are counted in
process and added to the month in batches (no DynamoDB write per call), never for another tenant, not for
the portal's session or refused calls; the invoice bills the calls beyond the allowance at the price per
1,000 in force; the usage API shows calls against the allowance."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from accounts.throttling import buckets
from billing import api_calls, selectors, services
from billing.domain import Price
from cloudkida import clock
from cloudkida.identity.principal import Principal, Role
from tests.billing.conftest import SIGNED_UP
from tests.billing.test_apis import _key_client
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform", "fake_provider"), pytest.mark.django_db]
JANUARY = datetime(2027, 1, 10, 9, tzinfo=UTC)


@pytest.fixture
def counting(settings):
    settings.CLOUDKIDA_BILLING_COUNT_API_CALLS = True
    settings.CLOUDKIDA_BILLING_API_FLUSH_CALLS = 5
    settings.CLOUDKIDA_BILLING_API_FLUSH_SECONDS = 3600
    api_calls.accumulator.reset()
    buckets.reset()
    with clock.frozen(SIGNED_UP):
        register("acme")
        register("globex", tier="standard")
    yield tid("acme"), tid("globex")
    api_calls.accumulator.reset()


def _counted(tenant_id: str, month: str = "2027-01") -> int:
    return selectors.usage_month(tenant_id=tenant_id, month=month).get("api_calls")


def test_calls_are_counted_in_batches_for_the_callers_tenant_only(counting):
    acme, globex = counting
    key = _key_client("acme")
    with clock.frozen(JANUARY):
        for _ in range(4):
            assert key.get("/api/v1/me").status_code == 200
        assert api_calls.accumulator.pending() == 4 and _counted(acme) == 0  # nothing written yet
        assert key.get("/api/v1/me").status_code == 200  # the fifth: one batch of five
        assert api_calls.accumulator.pending() == 0 and _counted(acme) == 5
        usage = selectors.usage_month(tenant_id=acme, month="2027-01")
        assert usage.by_day["10"]["api_calls"] == 5
        token = bearer(login("acme", "admin@acme.example"))
        for _ in range(5):
            token.get("/api/v1/me")
        assert _counted(acme) == 10
    assert _counted(globex) == 0  # acme's calls never count for globex


def test_refused_calls_and_portal_sessions_are_not_counted(counting, settings):
    acme, globex = counting
    standard = {"rate": 1, "burst": 2, "quota_per_day": 1000}
    settings.CLOUDKIDA_TIER_LIMITS = {**settings.CLOUDKIDA_TIER_LIMITS, "standard": standard}
    key = _key_client("globex")
    with clock.frozen(JANUARY):
        statuses = [key.get("/api/v1/me").status_code for _ in range(4)]
        assert statuses.count(429) >= 1
        api_calls.accumulator.flush()
    assert _counted(globex) == statuses.count(200) and _counted(acme) == 0
    # The portal calls the API with the browser's session: its user's calls are not API usage.
    assert not api_calls.counted(Principal(tenant_id=acme, role=Role.TENANT_ADMIN, subject="s", method="session"))
    assert api_calls.counted(Principal(tenant_id=acme, role=Role.TENANT_ADMIN, subject="s", method="token"))


def test_calls_beyond_the_allowance_are_an_invoice_line_at_the_price_in_force(counting, settings):
    acme, _globex = counting
    settings.CLOUDKIDA_BILLING_API_FLUSH_CALLS = 100_000
    with clock.frozen(JANUARY):
        for _ in range(11_050):  # Basic includes 10,000 a month; $0.50 per 1,000 beyond
            api_calls.accumulator.count(acme)
        assert api_calls.accumulator.flush() == 11_050
    services.price_cache_clear()
    body = _key_client("acme").get("/api/v1/usage?month=2027-01").json()
    assert (body["totals"]["api_calls"], body["included_api_calls"]) == (11_050, 10_000)
    assert body["api_calls_beyond_allowance"] == 1_050
    with clock.frozen(datetime(2027, 2, 1, 1, tzinfo=UTC)):
        services.invoices_month_end()
    invoice = selectors.invoice_get(tenant_id=acme, month="2027-01")
    line = next(line for line in invoice.lines if line.code == "api_calls")
    assert (line.quantity, line.unit_price_usd, line.amount_cents) == (1_050, "0.50", 53)  # $0.525 half-up
    assert "beyond allowance" in line.description
    # Calls counted after the month was invoiced are dropped (under-counted, never billed twice).
    api_calls.accumulator.reset()  # (the usage call above counted one call today)
    with clock.frozen(JANUARY):
        api_calls.accumulator.count(acme)
        assert api_calls.accumulator.flush() == 0
    assert _counted(acme) == 11_050


def test_an_invoice_before_the_api_prices_took_effect_has_no_api_line(counting):
    acme, _globex = counting
    with clock.frozen(datetime(2026, 12, 10, tzinfo=UTC)):
        api_calls.accumulator.count(acme)
        api_calls.accumulator.flush()
    with clock.frozen(datetime(2027, 1, 1, 1, tzinfo=UTC)):
        services.invoices_month_end()
    invoice = selectors.invoice_get(tenant_id=acme, month="2026-12")
    assert "api_calls" not in {line.code for line in invoice.lines}
    assert _counted(acme, "2026-12") == 1


def test_the_allowance_is_a_price_row_with_an_effective_date():
    rows = services.price_seed_rows()
    basic = [p for p in rows if p.plan == "basic"]
    assert [(p.effective_from.isoformat(), p.api_calls_included) for p in basic] == [
        ("2020-01-01", 0),
        ("2027-01-01", 10_000),
    ]
    assert Price("basic", SIGNED_UP.date(), 0, 0, 0, 0, api_calls_1000_usd=2).api_calls_cents(1_500) == 300


def test_calls_counted_from_many_threads_at_once_are_all_written_once(counting):
    """Django serves requests on threads (and a Lambda instance one at a time): counts taken concurrently,
    with batches flushing while others count, add up to exactly the calls made."""
    acme, globex = counting
    barrier = threading.Barrier(8)

    def calls(tenant_id: str):
        barrier.wait()
        for _ in range(60):
            api_calls.accumulator.count(tenant_id, JANUARY)

    threads = [threading.Thread(target=calls, args=(acme if n % 2 else globex,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    api_calls.accumulator.flush()
    assert (_counted(acme), _counted(globex)) == (240, 240)
