"""The billing API: the caller's usage, invoices and credits, and the payment provider's webhook.

The tenant always comes from the caller's identity (never from the path), so another tenant's invoice or
wallet is simply not there (404 / the caller's own). A tenant admin or a read key sees the organisation's
usage and invoices; a learner sees its own usage and its own wallet (the shared tenant's learners buy
credits); the webhook is public and trusts only the provider's signature.
"""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.domain import Invoice, usd
from cloudkida.apidocs import ErrorSerializer, OpenApiParameter, OpenApiResponse, extend_schema
from cloudkida.apis import page_of, validated
from cloudkida.errors import PermissionDenied, ValidationFailed
from cloudkida.identity.principal import Role
from tenants.selectors import tenant_get_cached

MONTH = OpenApiParameter("month", str, description="YYYY-MM (default: this month, UTC).", required=False)


class CountersOutput(serializers.Serializer):
    lab_minutes = serializers.IntegerField()
    spend_estimated_cents = serializers.IntegerField()
    spend_actual_cents = serializers.IntegerField()
    seats = serializers.IntegerField()
    api_calls = serializers.IntegerField(help_text="API calls made with the tenant's keys or tokens.")
    adjusted_lab_minutes = serializers.IntegerField(help_text="Late minutes of a closed month, counted here.")


def _counters(values: dict[str, int]) -> dict[str, int]:
    return {name: int(values.get(name, 0)) for name in CountersOutput().fields}


class UsageApi(APIView):
    """GET: a month's usage from its aggregates (one read): a tenant admin or key sees the organisation's
    totals and days with what the plan includes; a learner sees its own."""

    class OutputSerializer(serializers.Serializer):
        month = serializers.CharField()
        scope = serializers.ChoiceField(choices=["tenant", "user"])
        totals = CountersOutput()
        by_day = serializers.DictField(child=CountersOutput(), help_text="Day of month (DD) → counters.")
        included_lab_minutes = serializers.IntegerField(allow_null=True)
        included_api_calls = serializers.IntegerField(allow_null=True, help_text="API calls the month includes.")
        api_calls_beyond_allowance = serializers.IntegerField(allow_null=True)
        closed = serializers.BooleanField(help_text="Invoiced: later usage counts in the next month.")

    @extend_schema(
        parameters=[MONTH],
        responses={200: OutputSerializer, 400: OpenApiResponse(ErrorSerializer, "`invalid_month`.")},
    )
    def get(self, request):
        principal = request.user
        month = request.query_params.get("month") or None
        if principal.is_api_key or principal.role is Role.TENANT_ADMIN:
            usage = selectors.usage_month(tenant_id=principal.tenant_id, month=month)
            tenant = tenant_get_cached(tenant_id=principal.tenant_id)
            price = services.price_in_force(services.plan_of(tenant), services.month_start(usage.month))
            body = {
                "month": usage.month,
                "scope": "tenant",
                "totals": _counters(usage.totals),
                "by_day": {day: _counters(c) for day, c in sorted(usage.by_day.items())},
                "included_lab_minutes": price.included_lab_minutes,
                "included_api_calls": price.api_calls_included,
                "api_calls_beyond_allowance": max(0, usage.get("api_calls") - price.api_calls_included),
                "closed": usage.closed,
            }
        else:
            checked = selectors.month_checked(month)
            own = selectors.usage_for_user(tenant_id=principal.tenant_id, user_id=principal.subject, month=checked)
            body = {
                "month": checked,
                "scope": "user",
                "totals": _counters(own),
                "by_day": {},
                "included_lab_minutes": None,
                "included_api_calls": None,
                "api_calls_beyond_allowance": None,
                "closed": False,
            }
        return Response(body)


class InvoiceLineOutput(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_usd = serializers.CharField()
    amount_usd = serializers.CharField()


class InvoiceOutput(serializers.Serializer):
    month = serializers.CharField()
    number = serializers.CharField(allow_blank=True, help_text="Given when issued; gapless.")
    status = serializers.ChoiceField(choices=["draft", "issued", "paid", "void", "uncollectible"])
    plan = serializers.CharField()
    prices_from = serializers.CharField(help_text="The price row used: in force on the month's first day.")
    lines = InvoiceLineOutput(many=True)
    total_usd = serializers.CharField(help_text="Before taxes (the payment provider adds them).")
    issued_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)


def invoice_body(invoice: Invoice) -> dict:
    return {
        "month": invoice.month,
        "number": invoice.number,
        "status": invoice.status.value,
        "plan": invoice.plan,
        "prices_from": invoice.price_effective_from,
        "lines": [
            {
                "code": line.code,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price_usd": line.unit_price_usd,
                "amount_usd": usd(line.amount_cents),
            }
            for line in invoice.lines
        ],
        "total_usd": usd(invoice.total_cents),
        "issued_at": invoice.issued_at,
        "due_at": invoice.due_at,
        "paid_at": invoice.paid_at,
    }


class InvoiceListApi(APIView):
    """GET: the organisation's invoices, newest month first."""

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: page_of(InvoiceOutput, "InvoicePage"), 400: OpenApiResponse(ErrorSerializer, "Bad cursor.")},
    )
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        invoices, cursor = selectors.invoice_list(
            tenant_id=request.user.tenant_id, limit=filters["limit"], cursor=filters.get("cursor")
        )
        return Response({"results": [invoice_body(i) for i in invoices], "next_cursor": cursor})


class InvoiceDetailApi(APIView):
    """GET: one invoice of the organisation by month (another tenant's is 404)."""

    @extend_schema(
        responses={
            200: InvoiceOutput,
            400: OpenApiResponse(ErrorSerializer, "`invalid_month`."),
            404: OpenApiResponse(ErrorSerializer, "`invoice_not_found`."),
        }
    )
    def get(self, request, month: str):
        return Response(invoice_body(selectors.invoice_get(tenant_id=request.user.tenant_id, month=month)))


def _wallet_owner(request) -> str:
    principal = request.user
    tenant = tenant_get_cached(tenant_id=principal.tenant_id)
    if tenant.is_default:
        if principal.is_api_key:
            raise ValidationFailed("Learners' wallets are their own: sign in as the learner.", code="user_required")
        return principal.subject
    if principal.role is not Role.TENANT_ADMIN and not principal.is_api_key:
        raise PermissionDenied("Your organisation's credits are managed by its administrators.")
    return services.TENANT_WALLET


class CreditsApi(APIView):
    """GET: the caller's wallet (a learner's own in the shared tenant, the organisation's elsewhere) and its
    latest entries. POST: a hosted checkout to buy credit; the wallet is credited when the provider's
    webhook confirms the payment."""

    class EntryOutput(serializers.Serializer):
        kind = serializers.CharField()
        amount_usd = serializers.CharField()
        at = serializers.CharField()
        detail = serializers.CharField(allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        owner = serializers.CharField()
        balance_usd = serializers.CharField()
        reserved_usd = serializers.CharField(help_text="Held for labs that are running.")
        entries = serializers.ListField(child=serializers.DictField())

    class InputSerializer(serializers.Serializer):
        amount_cents = serializers.IntegerField(min_value=500, max_value=100_000)
        success_url = serializers.URLField(required=False, max_length=500)
        cancel_url = serializers.URLField(required=False, max_length=500)

    class CheckoutOutput(serializers.Serializer):
        checkout_id = serializers.CharField()
        url = serializers.CharField(help_text="The provider's hosted payment page.")

    @extend_schema(
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(ErrorSerializer, "`user_required` (a key in the shared tenant)."),
            403: OpenApiResponse(ErrorSerializer, "Learners of an organisation do not manage its credits."),
        }
    )
    def get(self, request):
        owner = _wallet_owner(request)
        wallet = selectors.wallet_get(tenant_id=request.user.tenant_id, owner=owner)
        entries = selectors.wallet_ledger(tenant_id=request.user.tenant_id, owner=owner, limit=20).items
        return Response(
            {
                "owner": owner,
                "balance_usd": usd(wallet.balance_cents),
                "reserved_usd": usd(wallet.reserved_cents),
                "entries": [
                    {
                        "kind": e["kind"],
                        "amount_usd": usd(int(e["amount_cents"])),
                        "at": e["at"],
                        "detail": e.get("detail", ""),
                    }
                    for e in entries
                ],
            }
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            201: CheckoutOutput,
            400: OpenApiResponse(ErrorSerializer, "`invalid_amount`, `user_required`."),
            403: OpenApiResponse(ErrorSerializer, "Learners of an organisation do not manage its credits."),
        },
    )
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        owner = _wallet_owner(request)
        base = request.build_absolute_uri("/billing/credits/")
        checkout = services.credits_checkout(
            tenant_id=request.user.tenant_id,
            owner=owner,
            amount_cents=data["amount_cents"],
            success_url=data.get("success_url") or base + "?paid=1",
            cancel_url=data.get("cancel_url") or base,
        )
        return Response({"checkout_id": checkout.checkout_id, "url": checkout.url}, status=status.HTTP_201_CREATED)


class ProviderWebhookApi(APIView):
    """POST: the payment provider's webhook (Stripe's ``Stripe-Signature`` scheme). Verified by the adapter;
    handled once per event id (a replay changes nothing and is answered 200)."""

    authentication_classes: list = []  # the provider sends no credentials (and no CSRF token)

    class OutputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=["handled", "replay", "ignored"])

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(ErrorSerializer, "`invalid_signature` or a malformed event."),
            404: OpenApiResponse(ErrorSerializer, "The event names a tenant or invoice that does not exist."),
        },
        auth=[],
    )
    def post(self, request):
        signature = request.headers.get("Stripe-Signature", "")
        outcome = services.webhook_handle(payload=request.body, signature=signature)
        return Response({"outcome": outcome})
