"""The portal's webhook and personal-data pages, through Django's test client as a signed-in admin."""

from __future__ import annotations

import re

import pytest

from accounts.integrations import webhooks
from accounts.selectors import user_get_by_email
from accounts.services import user_invite
from tests.accounts.test_webhooks import receiver  # noqa: F401 - the fixture
from tests.conftest import tid
from tests.identity.conftest import register
from tests.portal import set_password, signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("platform", "hosted_ui")]


@pytest.fixture
def admin():
    register("acme")
    set_password("acme", "admin@acme.example")
    return signed_in("acme", "admin@acme.example")


def test_an_admin_adds_an_endpoint_sees_deliveries_redelivers_and_rotates(admin, receiver):  # noqa: F811
    assert b"No endpoints yet" in admin.get("/webhooks/").content
    created = admin.post("/webhooks/", {"url": receiver.url, "event_types": ["user.invited"]})
    assert created.status_code == 200, created.content
    secret = re.search(rb'id="new-webhook-secret">(whsec_[^<]+)<', created.content).group(1).decode()
    (endpoint,) = webhooks.endpoint_list(tenant_id=tid("acme"))
    assert endpoint.contact_email == "admin@acme.example" and endpoint.secrets[0].value == secret
    user_invite(tenant_id=tid("acme"), email="ada@acme.example", name="Ada")
    webhooks.relay()
    webhooks.drain()
    detail = admin.get(f"/webhooks/{endpoint.endpoint_id}/")
    assert b"user.invited" in detail.content and b"HTTP 200" in detail.content
    delivery_id = re.search(rb"<code class=\"small\">(msg_[^<]+)</code>", detail.content).group(1).decode()
    again = admin.post(f"/webhooks/{endpoint.endpoint_id}/deliveries/{delivery_id}/redeliver", follow=True)
    assert b"queued again" in again.content
    webhooks.drain()
    assert len(receiver.requests) == 2
    rotated = admin.post(f"/webhooks/{endpoint.endpoint_id}/", {"action": "rotate", "version": endpoint.version})
    assert b"A new secret signs deliveries" in rotated.content and secret.encode() not in rotated.content
    bad = admin.post("/webhooks/", {"url": "https://10.0.0.1/x", "event_types": ["*"]})
    assert bad.status_code == 400 and b"private or local" in bad.content


def test_an_admin_downloads_and_erases_a_persons_data_and_another_tenant_cannot(admin):
    ada = user_invite(tenant_id=tid("acme"), email="ada@acme.example", name="Ada")
    page = admin.get(f"/people/{ada.user_id}/personal-data/")
    assert page.status_code == 200 and b"ada@acme.example" in page.content
    download = admin.get(f"/people/{ada.user_id}/personal-data/", {"download": "1"})
    assert download["Content-Type"] == "application/json" and b'"user_id"' in download.content
    wrong = admin.post(f"/people/{ada.user_id}/personal-data/", {"confirm_email": "nope@x.example"}, follow=True)
    assert b"to confirm the erasure" in wrong.content and user_get_by_email(tenant_id=tid("acme"), email=ada.email)
    register("globex")
    set_password("globex", "admin@globex.example")
    other = signed_in("globex", "admin@globex.example")
    assert other.get(f"/people/{ada.user_id}/personal-data/").status_code == 404
    assert other.post(f"/people/{ada.user_id}/personal-data/", {"confirm_email": ada.email}).status_code == 404
    erased = admin.post(f"/people/{ada.user_id}/personal-data/", {"confirm_email": "ADA@acme.example"})
    assert erased.status_code == 200 and b"erased.invalid" in erased.content
    assert user_get_by_email(tenant_id=tid("acme"), email=ada.email) is None
    assert other.get("/webhooks/").status_code == 200 and b"No endpoints yet" in other.get("/webhooks/").content
