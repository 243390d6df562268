"""Single sign-on in a real browser: the tenant's sign-in page → "Continue with Acme SSO" → the local OIDC
provider (oidc-provider-mock on loopback) → back in the portal, signed in as a new person of the tenant."""

from __future__ import annotations

import re

import pytest
from oidc_provider_mock import User, run_server_in_thread

from accounts.selectors import user_get_by_email
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def idp():
    users = [User(sub="emp-7", claims={"email": "sam@acme.example", "name": "Sam Single"})]
    with run_server_in_thread(port=0, user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def test_a_person_signs_in_with_the_organisations_identity_provider(site, browser, idp):
    register("acme")
    created = bearer(login("acme", "admin@acme.example")).post(
        "/api/v1/identity-providers",
        {"display_name": "Acme SSO", "issuer": idp, "client_id": "cloudkida", "client_secret": "s3cret"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    page = browser.page
    page.goto(site.tenant("acme", "/login/"))
    page.get_by_role("link", name="Continue with Acme SSO").wait_for()
    browser.audit("sign-in")
    browser.screenshot("sign-in-with-sso")
    page.get_by_role("link", name="Continue with Acme SSO").click()
    page.wait_for_url(re.compile(rf"^{re.escape(idp)}/oauth2/authorize"))
    browser.screenshot("identity-provider")
    page.get_by_role("button", name="emp-7").click()
    page.wait_for_url(re.compile(rf"^http://acme\.localhost:{site.port}/"))
    page.get_by_text("Sam Single").first.wait_for()
    browser.audit()
    browser.screenshot("signed-in")
    user = user_get_by_email(tenant_id=tid("acme"), email="sam@acme.example")
    assert user is not None and user.role.value == "TenantUser"
