"""The payment provider port and its adapters: Stripe, and a fake one for ``make run`` and the tests.

The port has the shape of sbt-aws's billing interface (create a customer, attach usage to an invoice, take
payment events) plus what credits need (a hosted checkout, refunds). A webhook is verified by the adapter
(Stripe's own signature check for Stripe) and turned into a ``ProviderEvent`` with a stable id; handling it
idempotently by that id is the service's job (``billing.services.webhook_handle``).

Both adapters pass one contract suite (tests/billing/test_provider_contract.py); the Stripe adapter's HTTP
traffic is served there from fixtures in Stripe's response shape (no network is reachable).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings

from billing.domain import Invoice
from cloudkida.errors import ServiceUnavailable, ValidationFailed
from cloudkida.lazy import lazy_module

stripe = lazy_module("stripe")  # the Stripe SDK loads with the first call to Stripe, not at every cold start

CREDITS_PURCHASED = "credits.purchased"
INVOICE_PAID = "invoice.paid"


@dataclass(frozen=True)
class Checkout:
    checkout_id: str
    url: str


@dataclass(frozen=True)
class PaymentMethod:
    """What a tenant admin sees of the card on file (the provider keeps the card itself)."""

    brand: str
    last4: str
    exp_month: int = 0
    exp_year: int = 0


@dataclass(frozen=True)
class ProviderEvent:
    """A verified provider event: ``kind`` is credits.purchased, invoice.paid or "other" (ignored)."""

    event_id: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)  # tenant_id, owner, amount_cents, checkout_id / month


class PaymentProvider(Protocol):
    name: str

    def customer_create(self, *, tenant_id: str, name: str, email: str) -> str: ...

    def checkout_create(
        self, *, tenant_id: str, owner: str, amount_cents: int, success_url: str, cancel_url: str
    ) -> Checkout: ...

    def invoice_create(self, *, customer_id: str, invoice: Invoice, days_until_due: int) -> str: ...

    def refund(self, *, payment_id: str, amount_cents: int) -> str: ...

    def payment_method_session(self, *, customer_id: str, return_url: str) -> Checkout:
        """A session of the provider's hosted page where the customer adds or replaces its payment method."""
        ...

    def payment_method(self, *, customer_id: str) -> PaymentMethod | None:
        """The customer's current payment method (its default, else its first card), or None."""
        ...

    def webhook_event(self, *, payload: bytes, signature: str) -> ProviderEvent: ...


def invalid_signature() -> ValidationFailed:
    return ValidationFailed("The webhook's signature is not valid.", code="invalid_signature")


def _metadata(tenant_id: str, **extra: Any) -> dict[str, str]:
    return {"tenant_id": tenant_id, **{k: str(v) for k, v in extra.items()}}


# --- fake -------------------------------------------------------------------------------------------------------
def fake_signature(payload: bytes, *, secret: str | None = None, at: int | None = None) -> str:
    """The fake provider's signature header: Stripe's scheme (``t=<time>,v1=<HMAC-SHA256 of "t.payload">``)."""
    at = int(time.time()) if at is None else at
    secret = secret or settings.CLOUDKIDA_FAKE_PROVIDER_SECRET
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


class FakeProvider:
    """No network: ids are derived from what is asked (the same request gives the same id), the checkout
    page is CloudKida's own (``/billing/fake-checkout/``) and webhooks are signed with a local secret."""

    name = "fake"
    tolerance = 300  # seconds a signature stays valid, as Stripe's default

    def customer_create(self, *, tenant_id: str, name: str, email: str) -> str:
        return "cus_fake_" + hashlib.sha256(tenant_id.encode()).hexdigest()[:14]

    def checkout_create(
        self, *, tenant_id: str, owner: str, amount_cents: int, success_url: str, cancel_url: str
    ) -> Checkout:
        if amount_cents <= 0:
            raise ValidationFailed("The amount must be positive.", code="invalid_amount")
        digest = hashlib.sha256(f"{tenant_id}:{owner}:{amount_cents}:{time.time_ns()}".encode()).hexdigest()[:20]
        checkout_id = f"cs_fake_{digest}"
        return Checkout(checkout_id, f"/billing/fake-checkout/{checkout_id}/?amount={amount_cents}&owner={owner}")

    def invoice_create(self, *, customer_id: str, invoice: Invoice, days_until_due: int) -> str:
        return "in_fake_" + hashlib.sha256(f"{invoice.tenant_id}:{invoice.month}".encode()).hexdigest()[:14]

    def refund(self, *, payment_id: str, amount_cents: int) -> str:
        return "re_fake_" + hashlib.sha256(f"{payment_id}:{amount_cents}".encode()).hexdigest()[:14]

    def payment_method_session(self, *, customer_id: str, return_url: str) -> Checkout:
        if not customer_id.startswith("cus_"):
            raise ValidationFailed("No such customer.", code="provider_refused")
        session_id = "bps_fake_" + hashlib.sha256(f"{customer_id}:{time.time_ns()}".encode()).hexdigest()[:14]
        _fake_sessions[session_id] = (customer_id, return_url)
        return Checkout(session_id, f"/billing/fake-payment-method/{session_id}/")

    def payment_method(self, *, customer_id: str) -> PaymentMethod | None:
        return _fake_cards.get(customer_id)

    # What the stand-in page does when the admin saves a card (the provider's page records it on the customer).
    def payment_method_save(self, *, session_id: str, brand: str, last4: str) -> str:
        """Record a card on the session's customer; returns the session's return URL."""
        if session_id not in _fake_sessions or not (len(last4) == 4 and last4.isdigit()) or not brand:
            raise ValidationFailed("No such session or card.", code="provider_refused")
        customer_id, return_url = _fake_sessions.pop(session_id)
        _fake_cards[customer_id] = PaymentMethod(brand, last4, 12, 2030)
        return return_url

    def payment_method_customer(self, session_id: str) -> str:
        return _fake_sessions.get(session_id, ("", ""))[0]

    def webhook_event(self, *, payload: bytes, signature: str) -> ProviderEvent:
        parts = dict(p.split("=", 1) for p in (signature or "").split(",") if "=" in p)
        try:
            at = int(parts.get("t", ""))
        except ValueError:
            raise invalid_signature() from None
        expected = fake_signature(payload, at=at)
        if not hmac.compare_digest(expected, signature) or abs(time.time() - at) > self.tolerance:
            raise invalid_signature()
        return _parsed(payload)

    # What the fake checkout page sends to the webhook endpoint when "paid" (the event a real provider posts).
    def completed_checkout_payload(self, *, checkout_id: str, tenant_id: str, owner: str, amount_cents: int) -> bytes:
        event = {
            "id": f"evt_{checkout_id}",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": checkout_id,
                    "object": "checkout.session",
                    "amount_total": amount_cents,
                    "payment_intent": f"pi_{checkout_id}",
                    "metadata": _metadata(tenant_id, owner=owner, purpose="credits"),
                }
            },
        }
        return json.dumps(event).encode()


# The fake provider's own records (its "servers"): per process, lost at restart, as a test-mode account is reset.
_fake_sessions: dict[str, tuple[str, str]] = {}  # payment-method session -> (customer, return URL)
_fake_cards: dict[str, PaymentMethod] = {}  # customer -> its card


def _parsed(payload: bytes) -> ProviderEvent:
    try:
        event = json.loads(payload)
    except ValueError:
        raise ValidationFailed("The event is not JSON.", code="invalid_event") from None
    if not isinstance(event, dict) or not isinstance(event.get("data", {}), dict):
        raise ValidationFailed("The event is not an event.", code="invalid_event")
    return _event(event)


def _event(event: dict[str, Any]) -> ProviderEvent:
    """A provider event (Stripe's shape, which the fake shares) as a ProviderEvent."""
    obj = event.get("data", {}).get("object", {}) or {}
    obj = obj if isinstance(obj, dict) else {}
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    kind = str(event.get("type", ""))
    event_id = str(event.get("id", ""))
    if kind == "checkout.session.completed" and meta.get("purpose") == "credits":
        return ProviderEvent(
            event_id,
            CREDITS_PURCHASED,
            {
                "tenant_id": meta.get("tenant_id", ""),
                "owner": meta.get("owner", ""),
                "amount_cents": int(obj.get("amount_total") or 0) if str(obj.get("amount_total") or 0).isdigit() else 0,
                "checkout_id": obj.get("id", ""),
                "payment_id": obj.get("payment_intent") or "",
            },
        )
    if kind == "invoice.paid":
        return ProviderEvent(
            event_id,
            INVOICE_PAID,
            {
                "tenant_id": meta.get("tenant_id", ""),
                "month": meta.get("month", ""),
                "provider_invoice_id": obj.get("id"),
            },
        )
    return ProviderEvent(event_id, "other", {"type": kind})


# --- Stripe -----------------------------------------------------------------------------------------------------
class StripeProvider:
    """Stripe through the ``stripe`` package: Checkout for learners' credits, invoices for tenants."""

    name = "stripe"

    def __init__(self, *, api_key: str | None = None, webhook_secret: str | None = None):
        api_key = api_key or settings.CLOUDKIDA_STRIPE_SECRET_KEY
        self.webhook_secret = webhook_secret or settings.CLOUDKIDA_STRIPE_WEBHOOK_SECRET
        if not (api_key and self.webhook_secret):  # an empty secret would make any signature "valid"
            raise ServiceUnavailable("Payments are not configured.", code="payments_not_configured")
        self.client = stripe.StripeClient(
            api_key,
            http_client=stripe.RequestsClient(timeout=10),
            max_network_retries=2,
        )

    def _call(self, fn, **params):
        try:
            return fn(params=params)
        except stripe.InvalidRequestError as error:
            raise ValidationFailed(str(error.user_message or error), code="provider_refused") from error
        except stripe.StripeError as error:
            raise ServiceUnavailable("The payment provider is unavailable. Try again shortly.") from error

    def customer_create(self, *, tenant_id: str, name: str, email: str) -> str:
        customer = self._call(self.client.v1.customers.create, name=name, email=email, metadata=_metadata(tenant_id))
        return customer.id

    def checkout_create(
        self, *, tenant_id: str, owner: str, amount_cents: int, success_url: str, cancel_url: str
    ) -> Checkout:
        if amount_cents <= 0:
            raise ValidationFailed("The amount must be positive.", code="invalid_amount")
        session = self._call(
            self.client.v1.checkout.sessions.create,
            mode="payment",
            success_url=success_url,
            cancel_url=cancel_url,
            client_reference_id=f"{tenant_id}:{owner}",
            line_items=[
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": amount_cents,
                        "product_data": {"name": "CloudKida lab credits"},
                    },
                }
            ],
            metadata=_metadata(tenant_id, owner=owner, purpose="credits"),
        )
        return Checkout(session.id, session.url)

    def invoice_create(self, *, customer_id: str, invoice: Invoice, days_until_due: int) -> str:
        """A Stripe invoice with one item per line, finalised (Stripe adds taxes if the account says so)."""
        meta = _metadata(invoice.tenant_id, month=invoice.month, number=invoice.number)
        created = self._call(
            self.client.v1.invoices.create,
            customer=customer_id,
            collection_method="send_invoice",
            days_until_due=days_until_due,
            auto_advance=False,
            metadata=meta,
        )
        for line in invoice.lines:
            if line.amount_cents:
                self._call(
                    self.client.v1.invoice_items.create,
                    customer=customer_id,
                    invoice=created.id,
                    amount=line.amount_cents,
                    currency="usd",
                    description=line.description,
                )
        finalized = self._call(lambda params: self.client.v1.invoices.finalize_invoice(created.id, params=params))
        return finalized.id

    def refund(self, *, payment_id: str, amount_cents: int) -> str:
        refund = self._call(self.client.v1.refunds.create, payment_intent=payment_id, amount=amount_cents)
        return refund.id

    def payment_method_session(self, *, customer_id: str, return_url: str) -> Checkout:
        """A Billing Portal session opened on its payment-method flow (the portal's configuration in the
        Stripe dashboard says what else the customer may do there)."""
        session = self._call(
            self.client.v1.billing_portal.sessions.create,
            customer=customer_id,
            return_url=return_url,
            flow_data={"type": "payment_method_update"},
        )
        return Checkout(session.id, session.url)

    def payment_method(self, *, customer_id: str) -> PaymentMethod | None:
        customer = self._call(
            lambda params: self.client.v1.customers.retrieve(customer_id, params=params),
            expand=["invoice_settings.default_payment_method"],
        )
        method = (customer.to_dict().get("invoice_settings") or {}).get("default_payment_method")
        if not isinstance(method, dict):  # none set (or not expanded): the customer's first card
            cards = self._call(
                lambda params: self.client.v1.customers.payment_methods.list(customer_id, params=params),
                type="card",
                limit=1,
            )
            method = cards.data[0].to_dict() if cards.data else None
        card = method.get("card") if method else None
        if not card:
            return None
        return PaymentMethod(
            str(card.get("brand", "")),
            str(card.get("last4", "")),
            int(card.get("exp_month") or 0),
            int(card.get("exp_year") or 0),
        )

    def webhook_event(self, *, payload: bytes, signature: str) -> ProviderEvent:
        try:
            stripe.Webhook.construct_event(payload, signature, self.webhook_secret)  # the library's check
        except (stripe.SignatureVerificationError, ValueError):
            raise invalid_signature() from None
        return _parsed(payload)


_override: list[PaymentProvider] = []


def provider() -> PaymentProvider:
    """The configured provider (CLOUDKIDA_BILLING_PROVIDER), or the one a test put in place."""
    if _override:
        return _override[-1]
    return StripeProvider() if settings.CLOUDKIDA_BILLING_PROVIDER == "stripe" else FakeProvider()


def use(adapter: PaymentProvider | None) -> None:
    """Put ``adapter`` in place (None: back to the configured one). For tests and local demos."""
    _override[:] = [adapter] if adapter else []
