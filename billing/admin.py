"""System-admin pages for billing inside the Django admin, over services and selectors: the margin report
(revenue, cost and margin per tenant and per plan), the price table (add a row from a date on), invoices
(issue, void, mark paid or uncollectible) and a tenant's wallets (grant credit)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from billing import selectors, services
from billing.domain import InvoiceStatus, usd
from cloudkida.errors import ApplicationError, NotFound
from cloudkida.ids import is_ulid, new_ulid
from tenants.selectors import tenant_find, tenant_get


def billing_admin_urls(site):
    def view(fn):
        return site.admin_view(lambda request, **kw: fn(site, request, **kw))

    return [
        path("billing/margin/", view(margin_view), name="billing_margin"),
        path("billing/prices/", view(prices_view), name="billing_prices"),
        path("billing/invoices/", view(invoices_view), name="billing_invoices"),
        path(
            "billing/invoices/<str:tenant_id>/<str:month>/<str:status>/",
            view(invoice_status_view),
            name="billing_invoice_status",
        ),
        path("billing/wallets/", view(wallets_view), name="billing_wallets"),
    ]


def _context(site, request, **extra):
    return {**site.each_context(request), **extra}


def _actor(request) -> str:
    return f"admin:{request.user.get_username()}"


def margin_view(site, request):
    try:
        report = selectors.margin_report(month=request.GET.get("month") or None)
    except ApplicationError as error:
        messages.error(request, error.message)
        report = selectors.margin_report()

    def shown(row):
        return {
            "name": row.name,
            "plan": row.plan,
            "lab_minutes": row.lab_minutes,
            "revenue": usd(row.revenue_cents),
            "lab_spend": usd(row.lab_spend_cents),
            "platform": usd(row.platform_share_cents),
            "cost": usd(row.cost_cents),
            "margin": usd(row.margin_cents),
        }

    return TemplateResponse(
        request,
        "admin/billing/margin.html",
        _context(
            site,
            request,
            title="Margin report",
            month=report.month,
            rows=[shown(r) for r in report.rows],
            plans=[shown(r) for r in report.by_plan.values()],
        ),
    )


def prices_view(site, request):
    if request.method == "POST":
        form = request.POST
        try:
            services.price_add(
                plan=form.get("plan", ""),
                effective_from=date.fromisoformat(form.get("effective_from", "")),
                platform_fee_cents=int(Decimal(form.get("platform_fee_usd", "0")) * 100),
                included_lab_minutes=int(form.get("included_lab_minutes", "0")),
                included_seats=int(form.get("included_seats", "0")),
                extra_lab_minute_usd=Decimal(form.get("extra_lab_minute_usd", "0")),
                aws_markup_percent=int(form.get("aws_markup_percent", "0") or 0),
                extra_seat_cents=int(Decimal(form.get("extra_seat_usd", "0") or "0") * 100),
                api_calls_included=int(form.get("api_calls_included", "0") or 0),
                api_calls_1000_usd=Decimal(form.get("api_calls_1000_usd", "0") or "0"),
                actor=_actor(request),
            )
            messages.success(request, "Price added.")
        except (ValueError, InvalidOperation):
            messages.error(request, "Every field needs a number (and the date YYYY-MM-DD).")
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect(reverse("admin:billing_prices"))
    prices = [
        {**p.__dict__, "platform_fee": usd(p.platform_fee_cents), "extra_seat": usd(p.extra_seat_cents)}
        for p in selectors.price_list()
    ]
    return TemplateResponse(
        request, "admin/billing/prices.html", _context(site, request, title="Prices", prices=prices)
    )


def _tenant(request):
    """The tenant named by id, slug or organisation name (None if there is none)."""
    query = (request.GET.get("tenant") or request.POST.get("tenant") or "").strip()
    if is_ulid(query):
        try:
            return tenant_get(tenant_id=query), query
        except NotFound:
            return None, query
    return (tenant_find(query=query) if query else None), query


def invoices_view(site, request):
    tenant, query = _tenant(request)
    invoices = []
    if tenant is not None:
        invoices, _cursor = selectors.invoice_list(tenant_id=tenant.tenant_id)
    elif query:
        messages.error(request, "No such tenant.")
    return TemplateResponse(
        request,
        "admin/billing/invoices.html",
        _context(
            site,
            request,
            title="Invoices",
            tenant=tenant,
            query=query,
            invoices=[{**i.__dict__, "total": usd(i.total_cents)} for i in invoices],
            statuses=[s.value for s in InvoiceStatus if s is not InvoiceStatus.DRAFT],
        ),
    )


def invoice_status_view(site, request, tenant_id: str, month: str, status: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.invoice_set_status(
            tenant_id=tenant_id, month=month, status=InvoiceStatus(status), actor=_actor(request)
        )
        messages.success(request, f"The invoice for {month} is {status}.")
    except ValueError:
        messages.error(request, "No such status.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(reverse("admin:billing_invoices") + f"?tenant={tenant_id}")


def wallets_view(site, request):
    tenant, query = _tenant(request)
    if request.method == "POST" and tenant is not None:
        try:
            services.credits_add(
                tenant_id=tenant.tenant_id,
                owner=request.POST.get("owner", "").strip() or services.TENANT_WALLET,
                amount_cents=int(Decimal(request.POST.get("amount_usd", "0")) * 100),
                key=f"grant:{new_ulid()}",
                kind="grant",
                detail=_actor(request),
            )
            messages.success(request, "Credit granted.")
        except (ValueError, InvalidOperation):
            messages.error(request, "The amount must be a number.")
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect(
            reverse("admin:billing_wallets") + f"?tenant={tenant.tenant_id}&owner={request.POST.get('owner', '')}"
        )
    owner = (request.GET.get("owner") or "").strip() or services.TENANT_WALLET
    wallet = ledger = None
    if tenant is not None:
        w = selectors.wallet_get(tenant_id=tenant.tenant_id, owner=owner)
        wallet = {"owner": owner, "balance": usd(w.balance_cents), "reserved": usd(w.reserved_cents)}
        ledger = [
            {**e, "amount": usd(int(e["amount_cents"]))}
            for e in selectors.wallet_ledger(tenant_id=tenant.tenant_id, owner=owner).items
        ]
    return TemplateResponse(
        request,
        "admin/billing/wallets.html",
        _context(site, request, title="Wallets", tenant=tenant, query=query, wallet=wallet, ledger=ledger, owner=owner),
    )
