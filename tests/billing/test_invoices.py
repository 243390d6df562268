"""Invoices: a month of lab sessions for two tenants gives exactly the invoices the price table says; the
month-end job run twice gives one invoice each, numbered without gaps; an invoice uses the prices in force
for its period; statuses move draft → issued → paid / void / uncollectible with ``invoice.issued`` and
``invoice.paid`` recorded in the same transaction; unpaid past grace → warned → lab starts refused → paid →
allowed again."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from billing import repository as repo
from billing import selectors, services
from billing.domain import InvoiceStatus
from cloudkida import clock, events
from cloudkida.dynamo import Also, tenant_pk
from cloudkida.dynamo.store import serialize
from cloudkida.errors import Conflict, PaymentRequired
from labs import ports
from tests.billing.conftest import at, ended_session, register
from tests.fixtures_platform import mail_to

pytestmark = [pytest.mark.usefixtures("platform", "fake_provider")]
APRIL = at(1, 1, month="2026-04")


def _month_of_sessions(acme: str, globex: str) -> None:
    for n in range(30):  # Basic: 30 x 40 = 1,200 minutes, 200 beyond the 1,000 included, at $0.05
        services.session_meter(ended_session(acme, f"u{n % 4}", minutes=40, start=at(1 + n % 28)))
    for n in range(12):  # Standard: 12 x 55 = 660 minutes, all included; one session spent $1.25 of AWS
        spend = 1.25 if n == 0 else 0.0
        services.session_meter(ended_session(globex, "g1", minutes=55, start=at(2 + n), spend_usd=spend))


def _lines(invoice) -> dict[str, int]:
    return {line.code: line.amount_cents for line in invoice.lines}


def test_a_month_of_sessions_for_two_tenants_gives_the_invoices_the_price_table_says():
    acme, globex = register("acme"), register("globex", tier="standard")
    _month_of_sessions(acme, globex)
    with clock.frozen(APRIL):
        report = services.invoices_month_end()
    assert report == {"tenants": 2, "invoices": 2}
    a = selectors.invoice_get(tenant_id=acme, month="2026-03")
    g = selectors.invoice_get(tenant_id=globex, month="2026-03")
    assert _lines(a) == {"platform_fee": 4900, "lab_minutes": 1000}
    assert a.total_cents == 5900 and a.lines[1].quantity == 200
    assert _lines(g) == {"platform_fee": 29900, "lab_minutes": 0, "aws_spend": 125}
    assert g.total_cents == 30025
    assert (a.status, g.status) == (InvoiceStatus.ISSUED, InvoiceStatus.ISSUED)
    assert {a.number, g.number} == {"CK-000001", "CK-000002"}
    assert a.provider_invoice_id.startswith("in_fake_") and a.due_at == APRIL + timedelta(days=14)


def test_the_month_end_job_run_twice_gives_one_invoice_each_and_numbers_without_gaps():
    acme, globex = register("acme"), register("globex", tier="standard")
    _month_of_sessions(acme, globex)
    with clock.frozen(APRIL):
        services.invoices_month_end()
        services.invoices_month_end()
    with clock.frozen(at(1, 1, month="2026-05")):
        services.invoices_month_end()
    numbers = sorted(i.number for t in (acme, globex) for i in selectors.invoice_list(tenant_id=t)[0])
    assert numbers == ["CK-000001", "CK-000002", "CK-000003", "CK-000004"]
    assert repo.counter_value() == 4
    assert [i.month for i in selectors.invoice_list(tenant_id=acme)[0]] == ["2026-04", "2026-03"]


def test_an_invoice_uses_the_prices_in_force_for_its_period():
    acme = register("acme")
    services.price_add(
        plan="basic",
        effective_from=date(2026, 4, 1),
        platform_fee_cents=5900,
        included_lab_minutes=500,
        included_seats=25,
        extra_lab_minute_usd=Decimal("0.06"),
        actor="test",
    )
    with pytest.raises(Conflict):
        services.price_add(
            plan="basic",
            effective_from=date(2026, 4, 1),
            platform_fee_cents=1,
            included_lab_minutes=1,
            included_seats=1,
            extra_lab_minute_usd=Decimal("0.01"),
            actor="test",
        )
    services.session_meter(ended_session(acme, "u1", minutes=600, start=at(5)))
    services.session_meter(ended_session(acme, "u1", minutes=600, start=at(5, month="2026-04")))
    march = services.invoice_generate(tenant=_tenant(acme), month="2026-03")
    april = services.invoice_generate(tenant=_tenant(acme), month="2026-04")
    assert (march.price_effective_from, _lines(march)) == ("2020-01-01", {"platform_fee": 4900, "lab_minutes": 0})
    assert (april.price_effective_from, _lines(april)) == ("2026-04-01", {"platform_fee": 5900, "lab_minutes": 600})


def _tenant(tenant_id):
    from tenants.selectors import tenant_get

    return tenant_get(tenant_id=tenant_id)


@pytest.fixture
def recorded_events():
    """A recorder (the integrations' part) writing each event as an item in the change's own transaction."""
    from cloudkida.dynamo import tenant_data_table

    saved = list(events._recorder)

    def recorder(tenant_id, event_type, data, event_id):
        table = tenant_data_table(tenant_id)
        item = {"PK": tenant_pk(tenant_id), "SK": f"TESTEVENT#{event_id}", "type": event_type.name}
        put = {
            "Put": {"TableName": table.name, "Item": serialize(item), "ConditionExpression": "attribute_not_exists(PK)"}
        }
        return [Also(put, "event")]

    events.set_recorder(recorder)
    yield lambda tenant_id: sorted(i["type"] for i in _tenant_items(tenant_id) if i["SK"].startswith("TESTEVENT#"))
    events._recorder[:] = saved


def _tenant_items(tenant_id):
    from cloudkida.dynamo import QueryScope, tenant_data_table

    table = tenant_data_table(tenant_id)
    return list(table.query_all(QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), "TESTEVENT#")))


@pytest.mark.any_item_kind  # the test recorder's items stand for the integrations' outbox
def test_statuses_move_one_way_and_record_their_events_in_the_same_transaction(recorded_events):
    acme = register("acme")
    invoice = services.invoice_generate(tenant=_tenant(acme), month="2026-03", issue=False)
    assert invoice.status is InvoiceStatus.DRAFT and invoice.number == "" and recorded_events(acme) == []
    issued = services.invoice_set_status(tenant_id=acme, month="2026-03", status=InvoiceStatus.ISSUED, actor="t")
    assert issued.number == "CK-000001" and recorded_events(acme) == ["invoice.issued"]
    paid = services.invoice_set_status(tenant_id=acme, month="2026-03", status=InvoiceStatus.PAID, actor="t")
    assert paid.paid_at is not None and recorded_events(acme) == ["invoice.issued", "invoice.paid"]
    with pytest.raises(Conflict) as refused:
        services.invoice_set_status(tenant_id=acme, month="2026-03", status=InvoiceStatus.VOID, actor="t")
    assert refused.value.code == "invalid_transition"
    assert repo.unpaid_due_before("9999") == []


def test_unpaid_past_grace_is_warned_then_starts_are_refused_and_paying_allows_them_again(settings):
    acme = register("acme")
    services.session_meter(ended_session(acme, "u1", minutes=10, start=at(3)))
    with clock.frozen(APRIL):
        invoice = services.invoices_month_end() and selectors.invoice_get(tenant_id=acme, month="2026-03")
    guard = services.WalletGuard()
    request = _start_request(acme)
    due = invoice.due_at
    with clock.frozen(due + timedelta(days=settings.CLOUDKIDA_BILLING_GRACE_DAYS - 1)):
        assert services.dunning_run() == {"warned": 0, "refused": 0}
    with clock.frozen(due + timedelta(days=settings.CLOUDKIDA_BILLING_GRACE_DAYS, hours=1)):
        assert services.dunning_run() == {"warned": 1, "refused": 0}
        assert services.dunning_run() == {"warned": 0, "refused": 0}
        guard.check_start(request)  # warned, not yet refused
    assert any("Please pay it" in m for m in mail_to("admin@acme.example"))
    later = due + timedelta(
        days=settings.CLOUDKIDA_BILLING_GRACE_DAYS + settings.CLOUDKIDA_BILLING_REFUSE_AFTER_WARNING_DAYS, hours=2
    )
    with clock.frozen(later):
        assert services.dunning_run() == {"warned": 0, "refused": 1}
        with pytest.raises(PaymentRequired) as refused:
            guard.check_start(request)
        assert refused.value.code == "invoice_overdue" and refused.value.status == 402
        services.invoice_set_status(tenant_id=acme, month="2026-03", status=InvoiceStatus.PAID, actor="test")
        guard.check_start(request)  # paid: allowed again at once
        assert services.dunning_run() == {"warned": 0, "refused": 0}
    assert any("Lab starts are refused" in m or "lab starts are refused" in m for m in mail_to("admin@acme.example"))


def _start_request(tenant_id):
    from labs.domain import Lab

    lab = Lab(lab_id="lab-a", owner="", slug="a", title="A", duration_minutes=60)
    return ports.StartRequest(tenant_id, "u1", lab, "us-east-1", 60, 5.0)


def test_the_plan_cards_and_the_plans_api_show_the_prices_in_force_through_the_port():
    from django.test import Client

    services.price_add(
        plan="standard",
        effective_from=clock.now().date() - timedelta(days=1),
        platform_fee_cents=31900,
        included_lab_minutes=12000,
        included_seats=250,
        extra_lab_minute_usd=Decimal("0.035"),
        actor="test",
    )
    plans = {p["tier"]: p for p in Client().get("/api/v1/plans").json()["results"]}
    assert (plans["standard"]["monthly_fee_usd"], plans["standard"]["extra_lab_minute_usd"]) == ("319.00", "0.035")
    assert plans["standard"]["included_lab_minutes"] == 12000 and plans["basic"]["monthly_fee_usd"] == "49.00"
    assert "Standard — $319.00/month, 12,000 lab minutes" in Client().get("/signup/").content.decode()
