"""Billing's portal pages (rendered by Django for signed-in portal sessions) and its system-admin pages:
usage against the plan with the day chart, invoices (printable page, CSV), limits, credits and buying them
through the provider's hosted page; each tenant sees only its own."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.selectors import user_get_by_email
from billing import selectors, services
from cloudkida import clock
from tests.billing.conftest import SIGNED_UP, at, ended_session, learner
from tests.conftest import tid
from tests.labs.conftest import register as labs_register

pytestmark = [pytest.mark.usefixtures("deployed_platform", "fake_provider"), pytest.mark.django_db]


def _portal(slug: str, email: str) -> Client:
    user = user_get_by_email(tenant_id=tid(slug), email=email)
    client = Client(HTTP_HOST=f"{slug}.localhost")
    session = client.session
    session["tenant_user"] = {
        "tenant_id": tid(slug),
        "user_id": user.user_id,
        "sub": user.user_id,
        "email": email,
        "name": user.name,
        "expires_at": int(clock.now().timestamp()) + 3600,
    }
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key  # signed cookies: the key is the data
    return client


@pytest.fixture
def orgs():
    with clock.frozen(SIGNED_UP):
        acme, globex = labs_register("acme"), labs_register("globex", tier="standard")
    services.session_meter(ended_session(acme, "lee", minutes=1100, start=at(4), lab_id="s3-basics"))
    services.session_meter(ended_session(globex, "gus", minutes=77, start=at(5), lab_id="secret-lab"))
    with clock.frozen(at(1, 1, month="2026-04")):
        services.invoices_month_end()
    return acme, globex


def test_the_billing_page_shows_usage_against_the_plan_spend_by_lab_and_invoices(orgs):
    page = _portal("acme", "admin@acme.example").get("/billing/?month=2026-03")
    html = page.content.decode()
    assert page.status_code == 200
    assert "1100 of 1000 included" in html and "100 beyond the plan at $0.050" in html
    number = selectors.invoice_get(tenant_id=tid("acme"), month="2026-03").number
    assert "s3-basics" in html and number in html and "<rect" in html
    assert "secret-lab" not in html and "gus" not in html  # globex's usage is not here


def test_the_printable_invoice_and_its_csv(orgs):
    client = _portal("acme", "admin@acme.example")
    number = selectors.invoice_get(tenant_id=tid("acme"), month="2026-03").number
    page = client.get("/billing/invoices/2026-03/").content.decode()
    assert f"Invoice {number}" in page and "$54.00" in page and "Basic platform fee" in page
    response = client.get("/billing/invoices/2026-03/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][:3] == ["invoice", "month", "code"] and rows[-1][-1] == "54.00"
    assert [r[2] for r in rows[1:]] == ["platform_fee", "lab_minutes", "total"]


def test_another_tenants_invoice_is_not_found_and_a_learner_may_not_see_billing(orgs):
    acme, _globex = orgs
    globex_admin = _portal("globex", "admin@globex.example")
    number = selectors.invoice_get(tenant_id=acme, month="2026-03").number
    assert number not in globex_admin.get("/billing/").content.decode()
    assert globex_admin.get("/billing/invoices/2026-03/").status_code == 200  # its own March
    learner(acme, "dev@acme.example")
    dev = _portal("acme", "dev@acme.example")
    assert dev.get("/billing/").status_code == 403
    assert dev.get("/billing/invoices/2026-03/").status_code == 403
    own = dev.get("/billing/credits/")  # an organisation's learner sees its own usage; no wallet, no buying
    assert own.status_code == 200 and "Your usage" in own.content.decode() and "Buy credits" not in own.content.decode()
    assert _portal("acme", "admin@acme.example").get("/billing/invoices/2019-01/").status_code == 404


def test_an_admin_session_is_not_taken_on_another_tenants_host(orgs):
    client = _portal("acme", "admin@acme.example")
    client.defaults["HTTP_HOST"] = "globex.localhost"
    response = client.get("/billing/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_limits_are_saved_from_the_billing_page(orgs):
    acme, _globex = orgs
    client = _portal("acme", "admin@acme.example")
    response = client.post("/billing/", {"monthly_limit_usd": "25", "user_monthly_limit_usd": "5"})
    assert response.status_code == 200 and "Limits saved." in response.content.decode()
    state = selectors.billing_state(tenant_id=acme)
    assert (state.monthly_limit_cents, state.user_monthly_limit_cents) == (2500, 500)
    assert client.post("/billing/", {"monthly_limit_usd": "lots"}).status_code == 400


def test_a_learner_of_the_shared_tenant_buys_credits_through_the_hosted_checkout():
    learners = tid("learners")
    lee = learner(learners, "lee@learner.example")
    client = _portal("learners", "lee@learner.example")
    assert "$0.00" in client.get("/billing/credits/").content.decode()
    to_checkout = client.post("/billing/credits/", {"amount_usd": "20"})
    assert to_checkout.status_code == 302 and to_checkout["Location"].startswith("/billing/fake-checkout/cs_fake_")
    assert "Pay $20.00" in client.get(to_checkout["Location"]).content.decode()
    paid = client.post(to_checkout["Location"])
    assert paid.status_code == 302 and selectors.wallet_get(tenant_id=learners, owner=lee).balance_cents == 2000
    client.post(to_checkout["Location"])  # paying the same checkout twice credits once
    assert selectors.wallet_get(tenant_id=learners, owner=lee).balance_cents == 2000
    assert "$20.00" in client.get("/billing/credits/?paid=1").content.decode()
    assert client.post("/billing/credits/", {"amount_usd": "1"}).status_code == 400


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@cloudkida.example", "pw"))
    return client


def test_system_admins_see_margin_edit_prices_and_move_invoices(orgs, admin_client, settings):
    settings.CLOUDKIDA_BILLING_PLATFORM_COST_USD = "11.77"
    margin = admin_client.get("/admin/billing/margin/?month=2026-03").content.decode()
    # Acme ran 1,100 of the 1,177 lab minutes: $11.00 of the platform's $11.77; revenue $54.00, margin $43.00.
    assert "<td>Acme Org</td><td>basic</td><td>1100</td><td>$54.00</td><td>$0.00</td><td>$11.00</td>" in margin
    assert "$43.00" in margin and "<td>Globex Org</td>" in margin
    prices = admin_client.post(
        "/admin/billing/prices/",
        {
            "plan": "basic",
            "effective_from": "2026-06-01",
            "platform_fee_usd": "59",
            "included_lab_minutes": "900",
            "included_seats": "25",
            "extra_lab_minute_usd": "0.06",
            "api_calls_included": "20000",
            "api_calls_1000_usd": "0.45",
        },
        follow=True,
    ).content.decode()
    assert "Price added." in prices and "2026-06-01" in prices
    june = services.price_in_force("basic", date(2026, 6, 1))
    assert (june.api_calls_included, str(june.api_calls_1000_usd)) == (20000, "0.45")
    acme = tid("acme")
    listed = admin_client.get(f"/admin/billing/invoices/?tenant={acme}").content.decode()
    assert selectors.invoice_get(tenant_id=acme, month="2026-03").number in listed
    admin_client.post(f"/admin/billing/invoices/{acme}/2026-03/paid/")
    assert selectors.invoice_get(tenant_id=acme, month="2026-03").status.value == "paid"
    moved = admin_client.post(f"/admin/billing/invoices/{acme}/2026-03/void/", follow=True).content.decode()
    assert "cannot become void" in moved
    admin_client.post("/admin/billing/wallets/", {"tenant": acme, "owner": "TENANT", "amount_usd": "12.50"})
    assert selectors.wallet_get(tenant_id=acme, owner="TENANT").balance_cents == 1250
    assert Client().get("/admin/billing/margin/").status_code == 302  # not signed in: to the login


def test_manage_payment_method_goes_to_the_providers_page_and_the_card_is_shown_by_brand_and_last_4(orgs):
    acme_admin = _portal("acme", "admin@acme.example")
    assert "No payment method on file" in acme_admin.get("/billing/").content.decode()
    away = acme_admin.post("/billing/payment-method/")
    assert away.status_code == 302 and away["Location"].startswith("/billing/fake-payment-method/bps_fake_")
    hosted = away["Location"]
    assert acme_admin.get(hosted).status_code == 200
    # Another organisation's admin cannot open (or complete) Acme's session.
    globex_admin = _portal("globex", "admin@globex.example")
    assert globex_admin.get(hosted).status_code == 404
    assert globex_admin.post(hosted, {"card_number": "5555555555554444"}).status_code == 404
    back = acme_admin.post(hosted, {"card_number": "4242 4242 4242 4242"})
    assert back.status_code == 302 and back["Location"] == "http://acme.localhost/billing/?card=1"
    html = acme_admin.get("/billing/?card=1").content.decode()
    assert "Visa ending in 4242" in html and "Manage payment method" in html
    assert "4242" not in globex_admin.get("/billing/").content.decode()
    assert acme_admin.get(hosted).status_code == 404  # a session is used once


def test_only_an_admin_manages_the_payment_method(orgs):
    acme = tid("acme")
    learner(acme, "lee@acme.example")
    response = _portal("acme", "lee@acme.example").post("/billing/payment-method/")
    assert response.status_code == 403
    assert selectors.billing_state(tenant_id=acme).customer_id  # (from its invoice) unchanged by the learner
