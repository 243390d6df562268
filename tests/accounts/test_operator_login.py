"""System admins sign in to the Django admin through the operations pool (OIDC), with no SQL database:
production's settings (no password login), a real OIDC provider on loopback standing in for the pool's
hosted UI, and the operator's role read from the operations pool on every request."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from oidc_provider_mock import User, run_server_in_thread

from accounts import oidc
from accounts.tokens import operator_cache_clear
from cloudkida import aws
from tenants import provisioning

OPERATORS = [
    User(sub="olga", claims={"email": "olga@cloudkida.example", "name": "Olga Ops"}),
    User(sub="sam", claims={"email": "sam@cloudkida.example", "name": "Sam Support"}),
    User(sub="eve", claims={"email": "eve@elsewhere.example", "name": "Eve"}),
]


@pytest.fixture(scope="module")
def provider():
    with run_server_in_thread(port=0, user_claims=OPERATORS) as server:
        yield f"http://localhost:{server.server_port}"


def _operations_account(email: str, role: str) -> None:
    aws.client("cognito-idp").admin_create_user(
        UserPoolId=provisioning.platform()["operations_user_pool_id"],
        Username=email,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "custom:userRole", "Value": role}],
    )


@pytest.fixture
def operators(platform, provider, settings):
    settings.CLOUDKIDA_DEV_OIDC_ISSUER = provider
    settings.CLOUDKIDA_ADMIN_PASSWORD_LOGIN = False  # as in production
    settings.AUTHENTICATION_BACKENDS = []
    oidc._discovery.invalidate()
    _operations_account("olga@cloudkida.example", "SystemAdmin")
    _operations_account("sam@cloudkida.example", "CustomerSupport")


pytestmark = pytest.mark.usefixtures("operators")


def _sign_in(client: Client, sub: str):
    start = client.get("/admin/")
    assert start.status_code == 302 and start["Location"].startswith("/admin/login/")
    login = client.get(start["Location"])
    assert login.status_code == 302 and login["Location"].startswith("/admin/oidc/login/")
    to_idp = client.get(login["Location"])
    assert to_idp.status_code == 302
    query = parse_qs(urlsplit(to_idp["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [
        provisioning.platform()["operations_client_id"]
    ]
    idp = requests.Session()
    form = idp.get(to_idp["Location"], timeout=10)
    answer = idp.post(form.url, data={"sub": sub}, allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/admin/oidc/callback/"
    return client.get(f"{back.path}?{back.query}")


def test_a_system_admin_signs_in_through_the_operations_pool_and_nothing_touches_a_database():
    # No django_db mark: pytest-django fails any database access, so this also proves the admin needs none.
    client = Client(HTTP_HOST="admin.localhost")
    done = _sign_in(client, "olga")
    assert done.status_code == 302 and done["Location"] == "/admin/"
    index = client.get("/admin/")
    assert index.status_code == 200 and b"Platform administration" in index.content
    assert b"/admin/tenants/tenant/" in index.content
    assert client.get("/admin/tenants/tenant/").status_code == 200
    assert "sessionid" in client.cookies and len(client.cookies["sessionid"].value) < 2000  # a signed cookie


def test_support_staff_see_the_tenant_pages_without_being_superusers():
    client = Client(HTTP_HOST="admin.localhost")
    _sign_in(client, "sam")
    response = client.get("/admin/tenants/tenant/")
    assert response.status_code == 200
    assert response.wsgi_request.user.is_staff and not response.wsgi_request.user.is_superuser


def test_someone_without_an_operations_account_is_refused():
    client = Client(HTTP_HOST="admin.localhost")
    refused = _sign_in(client, "eve")
    assert refused.status_code == 403 and b"may not use the CloudKida operations site" in refused.content
    assert client.get("/admin/").status_code == 302


def test_a_disabled_operator_loses_the_admin(settings):
    settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS = 0
    client = Client(HTTP_HOST="admin.localhost")
    _sign_in(client, "olga")
    assert client.get("/admin/").status_code == 200
    aws.client("cognito-idp").admin_disable_user(
        UserPoolId=provisioning.platform()["operations_user_pool_id"], Username="olga@cloudkida.example"
    )
    operator_cache_clear()
    assert client.get("/admin/").status_code == 302


def test_production_takes_no_password():
    client = Client(HTTP_HOST="admin.localhost")
    attempt = client.post("/admin/login/", {"username": "admin", "password": "anything"})
    assert attempt.status_code == 302 and attempt["Location"].startswith("/admin/oidc/login/")
    assert client.get("/admin/password_change/").status_code in {302, 404}
