"""Portal pages of billing on a tenant's host: the tenant admin's billing page (usage this month against the
plan with a chart by day, spend by lab and by user, limits and alerts, invoices), a printable invoice and its
CSV, and the credits page (a learner's own wallet in the shared tenant, the organisation's elsewhere) with
buying credits through the provider's hosted checkout. The fake provider's checkout page stands in for the
provider's locally (``make run``), and so does its payment-method page for "Manage payment method"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.views import portal_page
from billing import providers, selectors, services
from billing.domain import usd
from cloudkida import clock
from cloudkida.apis import csv_response
from cloudkida.errors import ApplicationError
from cloudkida.identity.principal import Role


def _bars(by_day: dict[str, dict[str, int]], days: int) -> list[dict]:
    """Bars of an SVG chart of lab minutes by day (attributes, no inline style: the CSP forbids it)."""
    peak = max([c.get("lab_minutes", 0) for c in by_day.values()] + [1])
    bars = []
    for n in range(1, days + 1):
        minutes = by_day.get(f"{n:02d}", {}).get("lab_minutes", 0)
        height = round(100 * minutes / peak)
        bars.append({"day": n, "minutes": minutes, "x": (n - 1) * 10, "y": 100 - height, "height": height})
    return bars


@require_http_methods(["GET", "POST"])
@portal_page(admin=True)
def billing_home(request):
    tenant_id = request.tenant.tenant_id
    message = error = ""
    if request.method == "POST":
        try:
            services.limits_set(
                tenant_id=tenant_id,
                monthly_limit_cents=int(Decimal(request.POST.get("monthly_limit_usd") or "0") * 100),
                user_monthly_limit_cents=int(Decimal(request.POST.get("user_monthly_limit_usd") or "0") * 100),
                actor=request.principal.get_username(),
            )
            message = "Limits saved."
        except (InvalidOperation, ValueError):
            error = "Limits are amounts in US dollars."
        except ApplicationError as failure:
            error = failure.message
    try:
        month = selectors.month_checked(request.GET.get("month") or None)
    except ApplicationError:
        month = selectors.month_checked(None)
    so_far = selectors.month_so_far(tenant_id=tenant_id, month=month)
    usage, price, state, minutes = so_far.usage, so_far.price, so_far.state, so_far.minutes
    invoices, _cursor = selectors.invoice_list(tenant_id=tenant_id, limit=12)
    card, card_error = None, ""
    try:
        card = selectors.payment_method_current(tenant_id=tenant_id)
    except ApplicationError as failure:  # the provider is down or not configured: the page still serves
        card_error = failure.message
    context = {
        "card": card,
        "card_error": card_error,
        "card_saved": request.GET.get("card") == "1",
        "card_unavailable": request.GET.get("card") == "unavailable",
        "month": month,
        "usage": usage,
        "minutes": minutes,
        "price": price,
        "minute_price": str(price.extra_lab_minute_usd),
        "extra_minutes": max(0, minutes - price.included_lab_minutes),
        "api_calls": usage.get("api_calls"),
        "extra_api_calls": max(0, usage.get("api_calls") - price.api_calls_included),
        "estimate": usd(so_far.estimate_cents),
        "bars": _bars(usage.by_day, 31),
        "by_lab": selectors.usage_breakdown(tenant_id=tenant_id, month=month, by="lab"),
        "by_user": selectors.usage_breakdown(tenant_id=tenant_id, month=month, by="user"),
        "state": state,
        "limit_usd": usd(state.monthly_limit_cents),
        "user_limit_usd": usd(state.user_monthly_limit_cents),
        "alerts": selectors.limit_alerts(tenant_id=tenant_id, month=month),
        "invoices": [{"invoice": i, "total": usd(i.total_cents)} for i in invoices],
        "message": message,
        "error": error,
    }
    return render(request, "portal/billing/home.html", context, status=400 if error else 200)


@require_GET
@portal_page(admin=True)
def invoice_page(request, month: str):
    try:
        invoice = selectors.invoice_get(tenant_id=request.tenant.tenant_id, month=month)
    except ApplicationError as failure:
        raise Http404(failure.message) from failure
    lines = [{"line": line, "amount": usd(line.amount_cents)} for line in invoice.lines]
    return render(
        request,
        "portal/billing/invoice.html",
        {"invoice": invoice, "lines": lines, "total": usd(invoice.total_cents), "tenant": request.tenant},
    )


@require_GET
@portal_page(admin=True)
def invoice_csv(request, month: str):
    try:
        invoice = selectors.invoice_get(tenant_id=request.tenant.tenant_id, month=month)
    except ApplicationError as failure:
        raise Http404(failure.message) from failure
    rows = [
        [
            invoice.number,
            invoice.month,
            line.code,
            line.description,
            line.quantity,
            line.unit_price_usd,
            usd(line.amount_cents),
        ]
        for line in invoice.lines
    ]
    rows.append([invoice.number, invoice.month, "total", "Total before taxes", "", "", usd(invoice.total_cents)])
    header = ["invoice", "month", "code", "description", "quantity", "unit_price_usd", "amount_usd"]
    return csv_response(header, rows, filename=f"invoice-{invoice.month}.csv")


@require_http_methods(["GET", "POST"])
@portal_page()
def credits_page(request):
    principal = request.principal
    tenant = request.tenant
    usage = selectors.usage_for_user(tenant_id=tenant.tenant_id, user_id=principal.subject)
    if tenant.is_default:
        owner = principal.subject
    elif principal.role is Role.TENANT_ADMIN:
        owner = services.TENANT_WALLET
    else:  # an organisation's learner: its own usage; the organisation pays
        return render(request, "portal/billing/my_usage.html", {"minutes": usage.get("lab_minutes", 0)})
    error = ""
    if request.method == "POST":
        try:
            amount = int(Decimal(request.POST.get("amount_usd") or "0") * 100)
            base = request.build_absolute_uri("/billing/credits/")
            checkout = services.credits_checkout(
                tenant_id=tenant.tenant_id,
                owner=owner,
                amount_cents=amount,
                success_url=base + "?paid=1",
                cancel_url=base,
            )
            return HttpResponseRedirect(checkout.url)
        except (InvalidOperation, ValueError):
            error = "The amount is in US dollars."
        except ApplicationError as failure:
            error = failure.message
    wallet = selectors.wallet_get(tenant_id=tenant.tenant_id, owner=owner)
    entries = selectors.wallet_ledger(tenant_id=tenant.tenant_id, owner=owner, limit=20).items
    return render(
        request,
        "portal/billing/credits.html",
        {
            "balance": usd(wallet.balance_cents),
            "reserved": usd(wallet.reserved_cents),
            "entries": [{**e, "amount": usd(int(e["amount_cents"]))} for e in entries],
            "minutes": usage.get("lab_minutes", 0),
            "paid": request.GET.get("paid") == "1",
            "for_organisation": owner == services.TENANT_WALLET,
            "error": error,
            "minute_price": str(
                services.price_in_force(services.plan_of(tenant), clock.now().date()).extra_lab_minute_usd
            ),
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@portal_page()
def fake_checkout(request, checkout_id: str):
    """The fake provider's hosted page (local runs and tests only): "Pay" sends the provider's signed
    ``checkout.session.completed`` event through the same webhook handling as a real one."""
    adapter = providers.provider()
    if not isinstance(adapter, providers.FakeProvider) or settings.CLOUDKIDA_BILLING_PROVIDER != "fake":
        raise Http404("No such page.")
    try:
        amount = int(request.GET.get("amount", "0"))
    except ValueError as failure:
        raise Http404("No such checkout.") from failure
    owner = request.GET.get("owner", "")
    if request.method == "POST":
        payload = adapter.completed_checkout_payload(
            checkout_id=checkout_id, tenant_id=request.tenant.tenant_id, owner=owner, amount_cents=amount
        )
        services.webhook_handle(payload=payload, signature=providers.fake_signature(payload))
        return HttpResponseRedirect("/billing/credits/?paid=1")
    return render(request, "portal/billing/fake_checkout.html", {"amount": usd(amount), "checkout_id": checkout_id})


@require_POST
@portal_page(admin=True)
def payment_method_manage(request):
    """ "Manage payment method": off to the provider's hosted page, which sends the admin back here."""
    try:
        session = services.payment_method_session(
            tenant_id=request.tenant.tenant_id, return_url=request.build_absolute_uri("/billing/?card=1")
        )
    except ApplicationError:
        return HttpResponseRedirect("/billing/?card=unavailable")
    return HttpResponseRedirect(session.url)


@require_http_methods(["GET", "POST"])
@portal_page(admin=True)
def fake_payment_method(request, session_id: str):
    """The fake provider's hosted payment-method page (local runs and tests only): "Save card" records a card
    on the organisation's fake customer and goes back. Another organisation's session is not found here."""
    adapter = providers.provider()
    if not isinstance(adapter, providers.FakeProvider) or settings.CLOUDKIDA_BILLING_PROVIDER != "fake":
        raise Http404("No such page.")
    state = selectors.billing_state(tenant_id=request.tenant.tenant_id)
    if not state.customer_id or adapter.payment_method_customer(session_id) != state.customer_id:
        raise Http404("No such session.")
    error = ""
    if request.method == "POST":
        number = "".join(ch for ch in request.POST.get("card_number", "") if ch.isdigit())
        if len(number) < 12:
            error = "Enter a card number (any test number, such as 4242 4242 4242 4242)."
        else:
            brand = {"4": "visa", "5": "mastercard", "3": "amex"}.get(number[0], "card")
            return HttpResponseRedirect(
                adapter.payment_method_save(session_id=session_id, brand=brand, last4=number[-4:])
            )
    return render(
        request,
        "portal/billing/fake_payment_method.html",
        {"session_id": session_id, "error": error},
        status=400 if error else 200,
    )
