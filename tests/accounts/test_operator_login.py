"""System admins sign in to the Django admin through the operations pool (OIDC), with no SQL database:
production's settings (no password login), the operations pool's hosted UI (emulated over the same pool,
served by the live server), and the operator's role read from the operations pool on every request."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.tokens import operator_cache_clear
from cloudkida import aws
from tenants import provisioning
from tests.identity.conftest import PASSWORD


def _operations_account(email: str, role: str) -> None:
    pool = provisioning.platform()["operations_user_pool_id"]
    cognito = aws.client("cognito-idp")
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "custom:userRole", "Value": role}],
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)


@pytest.fixture
def operators(platform, hosted_ui, settings):
    settings.CLOUDKIDA_ADMIN_PASSWORD_LOGIN = False  # as in production
    settings.AUTHENTICATION_BACKENDS = []
    _operations_account("olga@cloudkida.example", "SystemAdmin")
    _operations_account("sam@cloudkida.example", "CustomerSupport")
    _operations_account("tess@cloudkida.example", "TenantUser")


pytestmark = pytest.mark.usefixtures("operators")


def _admin() -> Client:
    return Client(HTTP_HOST="admin.localhost:8000")


def _sign_in(client: Client, email: str, password: str = PASSWORD):
    start = client.get("/admin/")
    assert start.status_code == 302 and start["Location"].startswith("/admin/login/")
    login = client.get(start["Location"])
    assert login.status_code == 302 and login["Location"].startswith("/admin/oidc/login/")
    to_idp = urlsplit(client.get(login["Location"])["Location"])
    query = {k: v[0] for k, v in parse_qs(to_idp.query).items()}
    assert query["code_challenge_method"] == "S256"
    assert query["client_id"] == provisioning.platform()["operations_client_id"]
    form = to_idp.path.replace("/oauth2/authorize", "/login")
    answer = client.post(form, {**query, "username": email, "password": password}, HTTP_HOST="localhost")
    if answer.status_code != 302:
        return answer
    back = urlsplit(answer["Location"])
    assert back.path == "/admin/oidc/callback/"
    return client.get(f"{back.path}?{back.query}")


def test_a_system_admin_signs_in_through_the_operations_pool_and_nothing_touches_a_database():
    # No django_db mark: pytest-django fails any database access, so this also proves the admin needs none.
    client = _admin()
    done = _sign_in(client, "olga@cloudkida.example")
    assert done.status_code == 302 and done["Location"] == "/admin/"
    index = client.get("/admin/")
    assert index.status_code == 200 and b"Platform administration" in index.content
    assert b"/admin/tenants/tenant/" in index.content
    assert client.get("/admin/tenants/tenant/").status_code == 200
    assert "sessionid" in client.cookies and len(client.cookies["sessionid"].value) < 2000  # a signed cookie


def test_support_staff_see_the_tenant_pages_without_being_superusers():
    client = _admin()
    _sign_in(client, "sam@cloudkida.example")
    response = client.get("/admin/tenants/tenant/")
    assert response.status_code == 200
    assert response.wsgi_request.user.is_staff and not response.wsgi_request.user.is_superuser


def test_an_operations_account_without_an_operator_role_is_refused():
    client = _admin()
    refused = _sign_in(client, "tess@cloudkida.example")
    assert refused.status_code == 403 and b"may not use the CloudKida operations site" in refused.content
    assert client.get("/admin/").status_code == 302


def test_someone_without_an_operations_account_cannot_sign_in_at_all():
    client = _admin()
    refused = _sign_in(client, "eve@elsewhere.example")
    assert refused.status_code == 400 and b"Incorrect username or password" in refused.content
    assert client.get("/admin/").status_code == 302


def test_a_disabled_operator_loses_the_admin(settings):
    settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS = 0
    client = _admin()
    _sign_in(client, "olga@cloudkida.example")
    assert client.get("/admin/").status_code == 200
    aws.client("cognito-idp").admin_disable_user(
        UserPoolId=provisioning.platform()["operations_user_pool_id"], Username="olga@cloudkida.example"
    )
    operator_cache_clear()
    assert client.get("/admin/").status_code == 302


def test_production_takes_no_password():
    client = _admin()
    attempt = client.post("/admin/login/", {"username": "admin", "password": "anything"})
    assert attempt.status_code == 302 and attempt["Location"].startswith("/admin/oidc/login/")
    assert client.get("/admin/password_change/").status_code in {302, 404}
