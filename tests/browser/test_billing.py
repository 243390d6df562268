"""Billing's pages in a real browser (axe-core on each, screenshots kept): a tenant admin signs in through
the hosted UI, reads this month's usage against the plan and the day chart, prints an invoice, and buys
credits through the (fake) provider's hosted checkout, and sets the payment method on its hosted page."""

from __future__ import annotations

import re

import pytest

from billing import providers, selectors, services
from cloudkida import aws, clock
from tenants.selectors import tenant_get
from tests.billing.conftest import SIGNED_UP, ended_session
from tests.browser.conftest import sign_in
from tests.conftest import tid
from tests.identity.conftest import PASSWORD, register


@pytest.fixture
def billed(site):
    providers.use(providers.FakeProvider())
    with clock.frozen(SIGNED_UP):
        register("acme")
    acme = tid("acme")
    tenant = tenant_get(tenant_id=acme)
    aws.client("cognito-idp").admin_set_user_password(
        UserPoolId=tenant.identity["user_pool_id"], Username="admin@acme.example", Password=PASSWORD, Permanent=True
    )
    now = clock.now()
    month = now.strftime("%Y-%m")
    start = now.replace(day=1, hour=8, minute=0, second=0, microsecond=0)
    for n in range(3):
        services.session_meter(ended_session(acme, f"learner-{n}", minutes=400, start=start, lab_id="s3-basics"))
    services.invoice_generate(tenant=tenant, month=month)
    yield acme, month
    providers.use(None)


def test_a_tenant_admin_reads_usage_prints_an_invoice_and_buys_credits(site, browser, billed):
    acme, _month = billed
    sign_in(browser, site, "acme", "admin@acme.example", PASSWORD)
    page = browser.page
    page.get_by_role("link", name="Billing").click()
    page.get_by_role("heading", name="Billing").wait_for()
    assert page.locator("#minutes-used").inner_text() == "1200 of 1000 included"
    assert page.locator("svg.chart rect").count() == 31
    browser.audit()
    browser.screenshot("billing")
    page.get_by_role("link", name="View").first.click()
    page.get_by_role("heading", name=re.compile(r"^Invoice CK-")).wait_for()
    assert page.locator("#total").inner_text() == "$59.00"  # $49 + 200 extra minutes at $0.05
    browser.audit()
    browser.screenshot("invoice")
    page.goto(site.tenant("acme", "/billing/credits/"))
    page.get_by_label("Amount (USD, 5 to 1,000)").fill("25")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("button", name="Pay $25.00").wait_for()
    browser.audit()
    page.get_by_role("button", name="Pay $25.00").click()
    page.get_by_role("status").wait_for()
    assert page.locator("#balance").inner_text() == "$25.00"
    browser.audit("paid")
    browser.screenshot("credits")
    assert selectors.wallet_get(tenant_id=acme, owner=services.TENANT_WALLET).balance_cents == 2500
    # The payment method: off to the provider's hosted page (the fake's stand-in), back with the card shown.
    page.goto(site.tenant("acme", "/billing/"))
    assert "No payment method on file" in page.locator("#card-on-file").inner_text()
    page.get_by_role("button", name="Manage payment method").click()
    page.get_by_role("button", name="Save card").wait_for()
    browser.audit("payment-method")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Save card").click()
    page.locator("#card-on-file").wait_for()
    assert page.locator("#card-on-file").inner_text().startswith("Visa ending in 4242")
    browser.screenshot("payment-method")
