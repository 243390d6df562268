from django.apps import AppConfig

from cloudkida.dynamo.registry import CONTROL, PLATFORM, TENANT, TENANT_DATA, TENANT_PARTITION, ItemKind, register
from cloudkida.events import EventType


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from django.contrib import admin

        from billing import services
        from billing.admin import billing_admin_urls
        from billing.jobs import SCHEDULES
        from cloudkida import bootstrap, events, navigation, resources
        from cloudkida.admin import Section
        from cloudkida.navigation import ADMINS, TENANT_USER, NavItem, Summary
        from labs import ports as lab_ports
        from tenants import ports as tenant_ports

        LEARNERS = frozenset({TENANT_USER})
        for kind in ITEM_KINDS:
            register(kind)
        for schedule in SCHEDULES:
            resources.register_schedule(schedule)
        lab_ports.register_start_guard(services.WALLET_GUARD)
        lab_ports.add_session_listener(services.SESSION_METER)
        tenant_ports.register_price_book(services.PriceBook())
        bootstrap.register_step(services.price_seed)
        events.declare(*EVENT_TYPES)
        navigation.add(
            NavItem("Billing", "/billing/", roles=ADMINS, order=60),
            NavItem("Credits", "/billing/credits/", roles=ADMINS, order=61),
            NavItem("Usage & credits", "/billing/credits/", roles=LEARNERS, order=30),
        )
        navigation.add_summary(Summary("This month", "/billing/", "billing.summaries.this_month", order=40))
        admin.site.add_section(
            Section(
                "billing",
                "Billing",
                billing_admin_urls,
                (
                    ("Margin report", "billing_margin"),
                    ("Prices", "billing_prices"),
                    ("Invoices", "billing_invoices"),
                    ("Wallets", "billing_wallets"),
                ),
            )
        )


ITEM_KINDS = (
    ItemKind("usage-event", TENANT_DATA, TENANT, TENANT_PARTITION, "BILLEV#", "a usage event, written once"),
    ItemKind("usage-aggregate", TENANT_DATA, TENANT, TENANT_PARTITION, "BILLAGG#", "a month's or day's usage counters"),
    ItemKind("usage-breakdown", TENANT_DATA, TENANT, TENANT_PARTITION, "BILLBY#", "a month's usage by user or lab"),
    ItemKind("billing-alert", TENANT_DATA, TENANT, TENANT_PARTITION, "BILLALERT#", "a spending-limit alert sent"),
    ItemKind("billing-state", TENANT_DATA, TENANT, TENANT_PARTITION, "BILLSTATE", "how a tenant pays; limits; dunning"),
    ItemKind("wallet", TENANT_DATA, TENANT, TENANT_PARTITION, "WALLET#", "a learner's or the tenant's credits"),
    ItemKind("wallet-entry", TENANT_DATA, TENANT, TENANT_PARTITION, "WALLETTX#", "a wallet's ledger entry"),
    ItemKind("wallet-start-hold", TENANT_DATA, TENANT, TENANT_PARTITION, "HOLDSTART#", "credit held for a lab start"),
    ItemKind("wallet-hold", TENANT_DATA, TENANT, TENANT_PARTITION, "HOLD#", "credit held for a running session"),
    ItemKind("spend-actual", TENANT_DATA, TENANT, TENANT_PARTITION, "BILLACT#", "a session's Cost Explorer figures"),
    ItemKind("invoice", TENANT_DATA, TENANT, TENANT_PARTITION, "INVOICE#", "a tenant's invoice for a month"),
    ItemKind("price", CONTROL, PLATFORM, "BILLING#PRICES", "", "a plan's prices from a date on"),
    ItemKind("invoice-counter", CONTROL, PLATFORM, "BILLING#COUNTER", "INVOICE", "the last invoice number issued"),
    ItemKind("unpaid-invoice", CONTROL, TENANT, "BILLING#UNPAID", "", "an issued invoice not yet paid, by due date"),
    ItemKind("lab-lease", CONTROL, TENANT, "BILLING#LEASE#", "", "which tenant's session held a lab account when"),
    ItemKind("provider-webhook", CONTROL, PLATFORM, "BILLING#WEBHOOK#", "", "a payment provider event handled"),
)

_INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "month": {"type": "string"},
        "number": {"type": "string"},
        "total_cents": {"type": "integer"},
        "status": {"type": "string"},
    },
}

EVENT_TYPES = (
    EventType("invoice.issued", 1, "An invoice was issued (numbered, due).", _INVOICE_SCHEMA),
    EventType("invoice.paid", 1, "An invoice was paid.", _INVOICE_SCHEMA),
)
