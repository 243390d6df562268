"""Federated sign-in end to end: the portal → the hosted-UI emulation → a real local OIDC provider
(oidc-provider-mock on loopback) → back, through the same Cognito triggers production runs; the user is
created once with the admin's default role, an invited user is linked, the provider cannot choose the
tenant or the role, another tenant's client neither offers nor accepts the provider, a disabled user is refused.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from oidc_provider_mock import User, run_server_in_thread

from accounts.integrations import federation
from accounts.portal import SESSION_KEY
from accounts.selectors import user_get_by_email
from cloudkida import aws
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register
from tests.portal import hosted_ui  # noqa: F401 - the fixture

pytestmark = [pytest.mark.usefixtures("platform", "hosted_ui"), pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def idp():
    users = [
        User(sub="emp-1", claims={"email": "grace@acme.example", "name": "Grace Hopper", "email_verified": True}),
        User(sub="emp-2", claims={"email": "ada@acme.example", "name": "Ada L."}),
        User(
            sub="emp-3",
            claims={
                "email": "mallory@acme.example",
                "name": "Mallory",
                "custom:tenantId": "0" * 26,
                "custom:userRole": "TenantAdmin",
            },
        ),
        User(sub="emp-4", claims={"email": "eve@elsewhere.example", "name": "Eve"}),
    ]
    with run_server_in_thread(port=0, user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def acme(idp):
    register("acme")
    admin = bearer(login("acme", "admin@acme.example"))
    created = admin.post(
        "/api/v1/identity-providers",
        {
            "display_name": "Acme SSO",
            "issuer": idp,
            "client_id": "cloudkida-acme",
            "client_secret": "acme-secret",
            "email_domains": ["acme.example"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    return {"api": admin, "provider": created.json()["provider_name"]}


def signed_in_as(client: Client) -> str:
    """The email the portal session is signed in as ("" if none)."""
    return (client.session.get(SESSION_KEY) or {}).get("email", "")


def _authorize_url(client: Client, **extra) -> tuple[str, dict]:
    start = urlsplit(client.get("/login/")["Location"])
    fields = {k: v[0] for k, v in parse_qs(start.query).items()}
    return start.path, {**fields, **extra}


def _at_idp(location: str, sub: str) -> str:
    """What the person does at their identity provider: choose who they are. Returns where it sends them."""
    answer = requests.post(location, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["Location"]


def federated(slug: str, provider: str, sub: str) -> tuple[Client, object]:
    """Sign in to ``slug``'s portal through ``provider`` as the IdP's ``sub``; the client and the last answer."""
    client = Client(HTTP_HOST=f"{slug}.localhost:8000")
    path, fields = _authorize_url(client, identity_provider=provider)
    to_idp = client.get(path, fields, HTTP_HOST="localhost")
    assert to_idp.status_code == 302, to_idp.content[:300]
    back = urlsplit(_at_idp(to_idp["Location"], sub))
    assert back.path.endswith("/oauth2/idpresponse")
    finished = client.get(f"{back.path}?{back.query}", HTTP_HOST="localhost")
    if finished.status_code != 302:
        return client, finished
    portal = urlsplit(finished["Location"])
    return client, client.get(f"{portal.path}?{portal.query}")


def test_first_federated_sign_in_creates_the_user_once_with_the_default_role(acme):
    client, done = federated("acme", acme["provider"], "emp-1")
    assert done.status_code == 302 and done["Location"] == "/"
    assert signed_in_as(client) == "grace@acme.example"
    user = user_get_by_email(tenant_id=tid("acme"), email="grace@acme.example")
    assert user is not None and user.role.value == "TenantUser" and user.name == "Grace Hopper"
    pool = tenant_get(tenant_id=tid("acme")).identity["user_pool_id"]
    cognito_user = aws.client("cognito-idp").admin_get_user(UserPoolId=pool, Username="grace@acme.example")
    attributes = {a["Name"]: a["Value"] for a in cognito_user["UserAttributes"]}
    assert attributes["custom:tenantId"] == tid("acme") and attributes["sub"] == user.user_id
    again, done = federated("acme", acme["provider"], "emp-1")
    assert done.status_code == 302 and signed_in_as(again) == "grace@acme.example"
    people = acme["api"].get("/api/v1/users").json()["results"]
    assert [p["email"] for p in people].count("grace@acme.example") == 1
    actions = [e["action"] for e in acme["api"].get("/api/v1/audit-events").json()["results"]]
    assert actions.count("sso.user_created") == 1


def test_the_admins_default_role_applies(acme):
    changed = acme["api"].patch(
        f"/api/v1/identity-providers/{acme['provider']}", {"version": 1, "default_role": "TenantAdmin"}, format="json"
    )
    assert changed.status_code == 200
    _client, done = federated("acme", acme["provider"], "emp-1")
    assert done.status_code == 302
    assert user_get_by_email(tenant_id=tid("acme"), email="grace@acme.example").role.value == "TenantAdmin"


def test_an_invited_user_with_the_same_email_is_linked_not_duplicated(acme):
    invited = acme["api"].post("/api/v1/users", {"email": "ada@acme.example", "name": "Ada"}, format="json").json()
    client, done = federated("acme", acme["provider"], "emp-2")
    assert done.status_code == 302 and signed_in_as(client) == "ada@acme.example"
    user = user_get_by_email(tenant_id=tid("acme"), email="ada@acme.example")
    assert user.user_id == invited["user_id"]
    people = acme["api"].get("/api/v1/users").json()["results"]
    assert [p["email"] for p in people].count("ada@acme.example") == 1
    assert "sso.user_linked" in [e["action"] for e in acme["api"].get("/api/v1/audit-events").json()["results"]]


def test_a_tenant_or_role_asserted_by_the_identity_provider_is_ignored(acme):
    client, done = federated("acme", acme["provider"], "emp-3")
    assert done.status_code == 302 and signed_in_as(client) == "mallory@acme.example"
    user = user_get_by_email(tenant_id=tid("acme"), email="mallory@acme.example")
    assert user.role.value == "TenantUser"
    pool = tenant_get(tenant_id=tid("acme")).identity["user_pool_id"]
    found = aws.client("cognito-idp").admin_get_user(UserPoolId=pool, Username="mallory@acme.example")
    attributes = {a["Name"]: a["Value"] for a in found["UserAttributes"]}
    assert attributes["custom:tenantId"] == tid("acme") and attributes["custom:userRole"] == "TenantUser"


def test_an_address_outside_the_providers_domains_is_refused(acme):
    _client, done = federated("acme", acme["provider"], "emp-4")
    assert done.status_code == 403 and b"not in a domain" in done.content
    assert user_get_by_email(tenant_id=tid("acme"), email="eve@elsewhere.example") is None


def test_a_disabled_user_cannot_sign_in_federated(acme):
    federated("acme", acme["provider"], "emp-1")
    user = user_get_by_email(tenant_id=tid("acme"), email="grace@acme.example")
    disabled = acme["api"].patch(
        f"/api/v1/users/{user.user_id}", {"version": user.version, "status": "DISABLED"}, format="json"
    )
    assert disabled.status_code == 200, disabled.json()
    client, done = federated("acme", acme["provider"], "emp-1")
    assert done.status_code == 403 and b"disabled" in done.content
    assert signed_in_as(client) == ""


def test_another_tenants_client_neither_offers_nor_accepts_the_provider(acme):
    register("globex")
    client = Client(HTTP_HOST="globex.localhost:8000")
    path, fields = _authorize_url(client)
    page = client.get(path, fields, HTTP_HOST="localhost")
    assert page.status_code == 200 and b"Acme SSO" not in page.content
    refused = client.get(path, {**fields, "identity_provider": acme["provider"]}, HTTP_HOST="localhost")
    assert refused.status_code == 400 and b"not available" in refused.content
    by_domain = client.get(path, {**fields, "idp_identifier": "acme.example"}, HTTP_HOST="localhost")
    assert by_domain.status_code == 400
    acme_page = Client(HTTP_HOST="acme.localhost:8000")
    path, fields = _authorize_url(acme_page)
    assert b"Continue with Acme SSO" in acme_page.get(path, fields, HTTP_HOST="localhost").content


def test_home_realm_discovery_sends_a_work_address_to_its_provider(acme, idp):
    client = Client(HTTP_HOST="acme.localhost:8000")
    path, fields = _authorize_url(client)
    login_path = path.replace("/oauth2/authorize", "/login")
    answer = client.post(login_path, {**fields, "idp_email": "someone@acme.example"}, HTTP_HOST="localhost")
    assert answer.status_code == 302 and answer["Location"].startswith(f"{idp}/oauth2/authorize")
    by_identifier = client.get(path, {**fields, "idp_identifier": "acme.example"}, HTTP_HOST="localhost")
    assert by_identifier.status_code == 302 and by_identifier["Location"].startswith(idp)


def test_a_trigger_refuses_a_provider_of_another_tenant():
    """The trigger itself, with a client of one tenant and a provider name of another: refused."""
    register("acme")
    register("globex")
    globex = tenant_get(tenant_id=tid("globex")).identity
    event = {
        "triggerSource": "PreSignUp_ExternalProvider",
        "userPoolId": globex["user_pool_id"],
        "userName": f"{tid('acme')}-abcd_emp-1",
        "callerContext": {"clientId": globex["client_id"]},
        "request": {"userAttributes": {"email": "grace@acme.example"}},
        "response": {},
    }
    with pytest.raises(federation.SignInRefused):
        federation.run_trigger(event)


def test_the_settings_page_connects_and_disconnects_a_provider(idp):
    import html

    from tests.portal import set_password, signed_in

    register("initech")
    set_password("initech", "admin@initech.example")
    admin = signed_in("initech", "admin@initech.example")
    page = html.unescape(admin.get("/settings/").content.decode())
    assert "Single sign-on" in page and "/oauth2/idpresponse" in page and "No identity provider" in page
    bad = admin.post(
        "/settings/sso",
        {
            "display_name": "Initech",
            "issuer": "https://10.0.0.1/x",
            "client_id": "c",
            "client_secret": "s",
            "default_role": "TenantUser",
        },
    )
    assert bad.status_code == 400 and "not allowed" in html.unescape(bad.content.decode())
    made = admin.post(
        "/settings/sso",
        {
            "display_name": "Initech Okta",
            "issuer": idp,
            "client_id": "c",
            "client_secret": "s",
            "email_domains": "initech.example, initech.test",
            "default_role": "TenantAdmin",
        },
        follow=True,
    )
    assert made.status_code == 200 and "Continue with Initech Okta" in html.unescape(made.content.decode())
    (provider,) = bearer(login("initech", "admin@initech.example")).get("/api/v1/identity-providers").json()["results"]
    assert (
        provider["email_domains"] == ["initech.example", "initech.test"] and provider["default_role"] == "TenantAdmin"
    )
    offered = Client(HTTP_HOST="initech.localhost:8000")
    path, fields = _authorize_url(offered)
    assert b"Continue with Initech Okta" in offered.get(path, fields, HTTP_HOST="localhost").content
    gone = admin.post(f"/settings/sso/{provider['provider_name']}/remove", follow=True)
    assert gone.status_code == 200 and "No identity provider" in html.unescape(gone.content.decode())
    assert b"Initech Okta" not in offered.get(path, fields, HTTP_HOST="localhost").content


def test_the_demo_connects_the_local_identity_provider_once(idp):
    from accounts.demo import seed_demo_sso

    register("acme")
    assert seed_demo_sso(idp).startswith("created")
    assert seed_demo_sso(idp).startswith("found")
    assert seed_demo_sso("http://localhost:9/moved").startswith("updated")  # another port next start
    assert seed_demo_sso(idp).startswith("updated")
    (provider,) = bearer(login("acme", "admin@acme.example")).get("/api/v1/identity-providers").json()["results"]
    _client, done = federated("acme", provider["provider_name"], "emp-1")
    assert done.status_code == 302
