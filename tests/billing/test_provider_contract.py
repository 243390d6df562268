"""One contract for every PaymentProvider adapter: the fake one (make run, tests) and Stripe (its HTTP served
from fixtures in Stripe's response shape with ``responses``; webhooks verified by the stripe library's own
signature check). Whatever passes here may stand in for the other."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import responses

from billing import providers
from billing.domain import Invoice, InvoiceLine, InvoiceStatus
from cloudkida.errors import ValidationFailed

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "stripe.json").read_text())
TENANT = "01hzy0000000000000000acme0"  # a well-formed tenant id (no DynamoDB here)
SECRET = "whsec_contract_test_secret"


@pytest.fixture(params=["fake", "stripe"])
def adapter(request, settings):
    if request.param == "fake":
        settings.CLOUDKIDA_FAKE_PROVIDER_SECRET = SECRET
        yield providers.FakeProvider(), None
        return
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for route, body in FIXTURES.items():
            if route.startswith("_"):
                continue
            method, path = route.split(" ", 1)
            mock.add(method, f"https://api.stripe.com{path}", json=body, status=200)
        yield providers.StripeProvider(api_key="sk_test_contract", webhook_secret=SECRET), mock


def _sent(mock, path: str) -> dict:
    """The form fields the adapter sent to ``path`` (Stripe's API is form-encoded)."""
    calls = [c for c in mock.calls if c.request.url.split("?")[0].endswith(path)]
    assert calls, f"nothing was sent to {path}"
    return {k: v[0] for k, v in parse_qs(calls[-1].request.body).items()}


def test_a_customer_is_created_for_a_tenant(adapter):
    provider, mock = adapter
    customer = provider.customer_create(tenant_id=TENANT, name="Acme Org", email="admin@acme.example")
    assert customer.startswith("cus_")
    if mock:
        assert _sent(mock, "/v1/customers")["metadata[tenant_id]"] == TENANT


def test_a_checkout_for_credits_names_the_wallet_and_amount(adapter):
    provider, mock = adapter
    checkout = provider.checkout_create(
        tenant_id=TENANT,
        owner="lee",
        amount_cents=2000,
        success_url="https://x.example/ok",
        cancel_url="https://x.example/no",
    )
    assert checkout.checkout_id.startswith("cs_") and checkout.url
    if mock:
        sent = _sent(mock, "/v1/checkout/sessions")
        assert sent["line_items[0][price_data][unit_amount]"] == "2000"
        assert (sent["metadata[owner]"], sent["metadata[purpose]"], sent["mode"]) == ("lee", "credits", "payment")
    with pytest.raises(ValidationFailed):
        provider.checkout_create(
            tenant_id=TENANT, owner="lee", amount_cents=0, success_url="https://x", cancel_url="https://x"
        )


def test_an_invoice_carries_every_line_and_is_finalised(adapter):
    provider, mock = adapter
    invoice = Invoice(
        TENANT,
        "2026-03",
        InvoiceStatus.ISSUED,
        [
            InvoiceLine("platform_fee", "Basic platform fee", 1, "49.00", 4900),
            InvoiceLine("lab_minutes", "Lab minutes", 200, "0.050", 1000),
        ],
        "basic",
        "2020-01-01",
        datetime(2026, 4, 1, tzinfo=UTC),
        number="CK-000001",
    )
    provider_id = provider.invoice_create(customer_id="cus_Qk3mU1pAcme01", invoice=invoice, days_until_due=14)
    assert provider_id.startswith("in_")
    if mock:
        created = _sent(mock, "/v1/invoices")
        assert (created["metadata[month]"], created["days_until_due"]) == ("2026-03", "14")
        items = [c for c in mock.calls if c.request.url.endswith("/v1/invoiceitems")]
        assert sorted(parse_qs(c.request.body)["amount"][0] for c in items) == ["1000", "4900"]
        assert any(c.request.url.endswith("/finalize") for c in mock.calls)


def test_a_refund_names_the_payment(adapter):
    provider, mock = adapter
    assert provider.refund(payment_id="pi_3QkPaid01", amount_cents=500).startswith("re_")
    if mock:
        assert _sent(mock, "/v1/refunds") == {"payment_intent": "pi_3QkPaid01", "amount": "500"}


def _checkout_completed(event_id="evt_1"):
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": "cs_test_a1B2c3D4e5",
                    "object": "checkout.session",
                    "amount_total": 2000,
                    "payment_intent": "pi_3QkPaid01",
                    "metadata": {"tenant_id": TENANT, "owner": "lee", "purpose": "credits"},
                }
            },
        }
    ).encode()


def test_a_signed_webhook_is_read_and_a_bad_or_stale_signature_refused(adapter):
    provider, _mock = adapter
    payload = _checkout_completed()
    event = provider.webhook_event(payload=payload, signature=providers.fake_signature(payload, secret=SECRET))
    assert event == providers.ProviderEvent(
        "evt_1",
        providers.CREDITS_PURCHASED,
        {
            "tenant_id": TENANT,
            "owner": "lee",
            "amount_cents": 2000,
            "checkout_id": "cs_test_a1B2c3D4e5",
            "payment_id": "pi_3QkPaid01",
        },
    )
    bad = [
        providers.fake_signature(payload, secret="whsec_someone_else"),
        providers.fake_signature(payload, secret=SECRET, at=int(time.time()) - 3600),
        "",
        "t=abc,v1=00",
    ]
    for signature in bad:
        with pytest.raises(ValidationFailed) as refused:
            provider.webhook_event(payload=payload, signature=signature)
        assert refused.value.code == "invalid_signature"
    tampered = payload.replace(b"2000", b"9000")
    with pytest.raises(ValidationFailed):
        provider.webhook_event(payload=tampered, signature=providers.fake_signature(payload, secret=SECRET))


def test_an_invoice_paid_webhook_names_the_tenant_and_month(adapter):
    provider, _mock = adapter
    payload = json.dumps(
        {
            "id": "evt_2",
            "type": "invoice.paid",
            "data": {
                "object": {
                    "id": "in_1QkAcmeMarch",
                    "object": "invoice",
                    "metadata": {"tenant_id": TENANT, "month": "2026-03"},
                }
            },
        }
    ).encode()
    event = provider.webhook_event(payload=payload, signature=providers.fake_signature(payload, secret=SECRET))
    assert (event.kind, event.data["tenant_id"], event.data["month"]) == (providers.INVOICE_PAID, TENANT, "2026-03")


def test_stripe_without_its_keys_refuses_rather_than_accepting_any_signature(settings):
    from cloudkida.errors import ServiceUnavailable

    settings.CLOUDKIDA_STRIPE_SECRET_KEY, settings.CLOUDKIDA_STRIPE_WEBHOOK_SECRET = "sk_test_x", ""
    with pytest.raises(ServiceUnavailable) as refused:
        providers.StripeProvider()
    assert refused.value.code == "payments_not_configured"


def test_the_hosted_payment_method_page_records_the_card_shown_as_brand_and_last_4(adapter):
    provider, mock = adapter
    customer = provider.customer_create(tenant_id=TENANT, name="Acme Org", email="admin@acme.example")
    back = "https://acme.cloudkida.example/billing/"
    session = provider.payment_method_session(customer_id=customer, return_url=back)
    assert session.checkout_id and session.url
    if mock:
        sent = _sent(mock, "/v1/billing_portal/sessions")
        assert (sent["customer"], sent["return_url"]) == (customer, back)
        assert sent["flow_data[type]"] == "payment_method_update"
        assert session.url.startswith("https://billing.stripe.com/")
    else:  # the stand-in page: the admin saves a card there, and is sent back
        assert provider.payment_method(customer_id=customer) is None
        assert session.url == f"/billing/fake-payment-method/{session.checkout_id}/"
        assert provider.payment_method_save(session_id=session.checkout_id, brand="visa", last4="4242") == back
        with pytest.raises(ValidationFailed):  # a session is used once
            provider.payment_method_save(session_id=session.checkout_id, brand="visa", last4="4242")
    method = provider.payment_method(customer_id=customer)
    assert (method.brand, method.last4) == ("visa", "4242")
    if mock:
        read = [c for c in mock.calls if c.request.method == "GET"][-1].request.url
        assert parse_qs(read.split("?", 1)[1])["expand[0]"] == ["invoice_settings.default_payment_method"]


def test_stripe_shows_the_first_card_when_no_default_is_set_and_none_without_a_card():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for route, body in FIXTURES.items():
            if not route.startswith("_"):
                method, path = route.split(" ", 1)
                mock.add(method, f"https://api.stripe.com{path}", json=body, status=200)
        provider = providers.StripeProvider(api_key="sk_test_contract", webhook_secret=SECRET)
        method = provider.payment_method(customer_id="cus_Qk3mU1pNoDefault")
        assert (method.brand, method.last4) == ("mastercard", "4444")
        assert provider.payment_method(customer_id="cus_Qk3mU1pNoCard") is None
