"""Sign-up pages on the apex host, and how tenant hosts are served or refused."""

from __future__ import annotations

import pytest

from cloudkida.tenancy import ADMIN, APEX, CUSTOM, TENANT, HostMatch, classify_host
from tenants import repository
from tenants.selectors import tenant_get
from tenants.services import tenant_deactivate, tenant_register
from tests.conftest import tid
from tests.fixtures_platform import REGISTRATION


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", HostMatch(APEX, host="localhost")),
        ("www.localhost", HostMatch(APEX, host="www.localhost")),
        ("127.0.0.1", HostMatch(APEX, host="127.0.0.1")),
        ("admin.localhost", HostMatch(ADMIN, host="admin.localhost")),
        ("acme.localhost", HostMatch(TENANT, slug="acme", host="acme.localhost")),
        ("ACME.localhost.", HostMatch(TENANT, slug="acme", host="acme.localhost")),
        ("acme-corp.localhost", HostMatch(TENANT, slug="acme-corp", host="acme-corp.localhost")),
        ("x.acme.localhost", HostMatch(TENANT, slug="", host="x.acme.localhost")),
        ("labs.acme.example", HostMatch(CUSTOM, host="labs.acme.example")),
        ("acmelocalhost", HostMatch(CUSTOM, host="acmelocalhost")),
    ],
)
def test_hosts_are_classified_exactly(host, expected):
    assert classify_host(host, base_domain="localhost", admin_subdomain="admin") == expected


pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


def _form(client, **overrides) -> dict:
    """The sign-up form's fields as the page renders them (its one-time submission key included)."""
    page = client.get("/signup/")
    return {**REGISTRATION, "submission": page.context["form"]["submission"].value(), **overrides}


def test_signup_page_creates_the_tenant_and_shows_progress(client):
    response = client.post("/signup/", _form(client), REMOTE_ADDR="198.51.100.3")
    assert response.status_code == 302
    progress = client.get(response["Location"])
    assert progress.status_code == 200
    assert b"Setting up Globex Learning" in progress.content
    assert b"http://globex.localhost:8000/login/" in progress.content
    assert tenant_get(tenant_id=tid("globex")).status.value == "ACTIVE"


def test_signup_page_shows_friendly_errors_next_to_the_field(client):
    tenant_register(**REGISTRATION, client_address="x")
    taken = client.post("/signup/", _form(client, name="Other", admin_email="o@o.example"))
    assert taken.status_code == 409
    assert "already taken" in taken.context["form"].errors["slug"][0]
    reserved = client.post("/signup/", _form(client, slug="www", name="W"))
    assert reserved.status_code == 400 and "reserved" in reserved.context["form"].errors["slug"][0]
    invalid = client.post("/signup/", _form(client, admin_email="nope"))
    assert invalid.status_code == 400 and invalid.context["form"].errors["admin_email"]


def test_submitting_the_sign_up_form_twice_lands_on_the_same_organisation(client):
    """A double-click or a reload must not say "already taken" about the user's own new organisation."""
    form = _form(client)
    first = client.post("/signup/", form, REMOTE_ADDR="198.51.100.3")
    second = client.post("/signup/", form, REMOTE_ADDR="198.51.100.3")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    changed = client.post("/signup/", {**form, "name": "Something Else"}, REMOTE_ADDR="198.51.100.3")
    assert changed.status_code == 422  # the same submission with other data is refused, not guessed at
    fresh = client.post("/signup/", _form(client, name="Other"), REMOTE_ADDR="198.51.100.3")
    assert fresh.status_code == 409 and "already taken" in fresh.context["form"].errors["slug"][0]


def test_progress_page_needs_the_token(client):
    tenant_register(**REGISTRATION, client_address="x")
    assert client.get(f"/signup/{tid('globex')}/progress/?token=wrong").status_code == 404


def test_signup_pages_exist_only_on_the_apex_host(client):
    tenant_register(**REGISTRATION, client_address="x")
    assert client.get("/signup/", HTTP_HOST="globex.localhost").status_code == 404
    assert client.get("/signup/", HTTP_HOST="localhost").status_code == 200


def test_learner_signup_page_joins_the_shared_tenant(client):
    from accounts.demo import seed_demo_tenants

    seed_demo_tenants()
    response = client.post("/join/", {"name": "Solo", "email": "solo@example.org"})
    assert response.status_code == 201 and b"Welcome, Solo" in response.content
    again = client.post("/join/", {"name": "Solo", "email": "solo@example.org"})
    assert again.status_code == 409 and "already have an account" in again.context["form"].errors["email"][0]


def test_tenant_host_serves_the_tenant_portal(client):
    tenant_register(**REGISTRATION, client_address="x")
    response = client.get("/", HTTP_HOST="globex.localhost:8000")
    assert response.status_code == 200 and b"Globex Learning" in response.content


def test_unknown_tenant_host_gets_a_branded_not_found_page(client):
    response = client.get("/", HTTP_HOST="nobody.localhost")
    assert response.status_code == 404 and b"No such organisation" in response.content
    api = client.get("/api/v1/", HTTP_HOST="nobody.localhost")
    assert api.status_code == 404 and api.json()["code"] == "no_such_organisation"


def test_deactivated_tenant_portal_and_api_refuse_service(client):
    tenant_register(**REGISTRATION, client_address="x")
    tenant_deactivate(tenant_id=tid("globex"), actor="test")
    page = client.get("/", HTTP_HOST="globex.localhost")
    assert page.status_code == 403 and b"access to CloudKida is suspended" in page.content
    api = client.get("/api/v1/", HTTP_HOST="globex.localhost")
    assert api.status_code == 403 and api.json()["code"] == "tenant_deactivated"
    assert client.get("/healthz", HTTP_HOST="globex.localhost").status_code == 200


def test_verified_custom_domain_reaches_its_tenant_and_unverified_does_not(client):
    tenant_register(**REGISTRATION, client_address="x")
    repository.host_put(tid("globex"), "labs.globex.example", verified=True)
    repository.host_put(tid("globex"), "pending.globex.example", verified=False)
    assert b"Globex Learning" in client.get("/", HTTP_HOST="labs.globex.example").content
    assert client.get("/", HTTP_HOST="pending.globex.example").status_code == 400
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400
