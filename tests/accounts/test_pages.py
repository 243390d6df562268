"""The tenant portal's management pages, driven through Django's test client as a signed-in admin."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.api_keys import api_key_create, api_key_list
from tests.conftest import tid
from tests.identity.conftest import register, with_key
from tests.portal import set_password, signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("platform", "hosted_ui")]


@pytest.fixture
def admin():
    register("acme")
    set_password("acme", "admin@acme.example")
    return signed_in("acme", "admin@acme.example")


def test_an_admin_creates_a_key_sees_its_secret_once_and_revokes_it(admin):
    page = admin.get("/api-keys/")
    assert page.status_code == 200 and b"No API keys yet" in page.content
    created = admin.post("/api-keys/", {"name": "HR sync", "scope": "write"})
    assert created.status_code == 200
    secret = re.search(rb'id="new-key-secret">(ck_[^<]+)<', created.content).group(1).decode()
    assert with_key(secret).get("/api/v1/me").json()["key"]["scope"] == "write"
    again = admin.get("/api-keys/")
    assert secret.encode() not in again.content and b"HR sync" in again.content  # shown once only
    (key,) = api_key_list(tenant_id=tid("acme")).items
    revoked = admin.post(f"/api-keys/{key.key_id}/revoke", follow=True)
    assert b"is revoked" in revoked.content
    assert with_key(secret).get("/api/v1/me").status_code == 401


def test_a_bad_key_name_is_shown_next_to_the_field(admin):
    response = admin.post("/api-keys/", {"name": "", "scope": "read"})
    assert response.status_code == 400 and b"This field is required" in response.content


def test_a_learner_cannot_open_admin_pages_and_another_tenant_cannot_either(admin):
    from accounts.services import user_invite

    user_invite(tenant_id=tid("acme"), email="dev@acme.example", name="Dev")
    set_password("acme", "dev@acme.example")
    learner = signed_in("acme", "dev@acme.example")
    assert learner.get("/api-keys/").status_code == 403
    assert learner.post("/api-keys/", {"name": "x", "scope": "admin"}).status_code == 403
    register("globex")
    set_password("globex", "admin@globex.example")
    other = signed_in("globex", "admin@globex.example")
    acme_key, _raw = api_key_create(tenant_id=tid("acme"), name="acme only", scope="read", created_by="t")
    response = other.post(f"/api-keys/{acme_key.key_id}/revoke", follow=True)
    assert b"No such API key" in response.content and b"acme only" not in other.get("/api-keys/").content
    assert api_key_list(tenant_id=tid("acme")).items[0].active
    assert Client(HTTP_HOST="acme.localhost:8000").get("/api-keys/")["Location"].startswith("/login/")
