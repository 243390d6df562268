"""Browser sign-in on tenant hosts through the tenant's (emulated) Cognito hosted UI: authorization code +
PKCE, the pool's own tokens, every failure a friendly page, sessions confined to their tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.selectors import user_get_by_email
from accounts.services import user_invite, user_update
from cloudkida import aws, clock
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.identity.conftest import PASSWORD, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenants(platform, live_server, settings):
    """acme and globex (Platinum, its own pool); the token endpoint is served by the live server."""
    port = urlsplit(live_server.url).port
    settings.CLOUDKIDA_COGNITO_EMULATOR_URL = f"http://localhost:{port}/_cognito"
    register("acme")
    register("globex", tier="platinum")
    for slug in ("acme", "globex"):
        tenant = tenant_get(tenant_id=tid(slug))
        aws.client("cognito-idp").admin_set_user_password(
            UserPoolId=tenant.identity["user_pool_id"],
            Username=f"admin@{slug}.example",
            Password=PASSWORD,
            Permanent=True,
        )


def _to_hosted_ui(client: Client, email: str, password: str = PASSWORD) -> str:
    """Start sign-in on the tenant host, sign in at the hosted UI; return the callback path+query."""
    start = client.get("/login/?next=/")
    assert start.status_code == 302
    authorize = urlsplit(start["Location"])
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] and query["nonce"]
    assert query["state"] and query["client_id"]
    host = client.defaults["HTTP_HOST"]
    form = client.get(f"{authorize.path}?{authorize.query}", HTTP_HOST="localhost")
    assert form.status_code == 200 and b"Sign in" in form.content
    fields = {k: v[0] for k, v in query.items()}
    login = authorize.path.replace("/oauth2/authorize", "/login")
    answer = client.post(login, {**fields, "username": email, "password": password}, HTTP_HOST="localhost")
    assert answer.status_code == 302, answer.content[:500]
    back = urlsplit(answer["Location"])
    assert back.netloc.split(":")[0] == host.split(":")[0]
    return f"{back.path}?{back.query}"


def _signed_in(slug: str, email: str) -> Client:
    client = Client(HTTP_HOST=f"{slug}.localhost:8000")
    done = client.get(_to_hosted_ui(client, email))
    assert done.status_code == 302 and done["Location"] == "/", done.content[:300]
    return client


@pytest.mark.usefixtures("tenants")
@pytest.mark.parametrize("slug", ["acme", "globex"])
def test_sign_in_on_each_tenant_host(slug):
    client = _signed_in(slug, f"admin@{slug}.example")
    assert client.session["tenant_user"]["email"] == f"admin@{slug}.example"
    home = client.get("/")
    assert b"Administrator" in home.content and b"Sign out" in home.content
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["method"] == "session" and me.json()["tenant_id"] == tid(slug)


@pytest.mark.usefixtures("tenants")
def test_a_session_of_one_tenant_is_not_valid_on_another():
    client = _signed_in("acme", "admin@acme.example")
    client.defaults["HTTP_HOST"] = "globex.localhost:8000"  # the test client sends cookies to every host
    assert b"Sign out" not in client.get("/").content
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.usefixtures("tenants")
def test_a_user_of_another_tenant_is_refused_on_this_host():
    """acme's users are in the pooled pool, so Cognito signs them in anywhere in it; the token's tenant is
    refused on another pooled tenant's host."""
    register("initech")
    initech = tenant_get(tenant_id=tid("initech"))
    aws.client("cognito-idp").admin_set_user_password(
        UserPoolId=initech.identity["user_pool_id"], Username="admin@initech.example", Password=PASSWORD, Permanent=True
    )
    client = Client(HTTP_HOST="acme.localhost:8000")
    response = client.get(_to_hosted_ui(client, "admin@initech.example"))
    assert response.status_code == 403 and b"does not belong to this organisation" in response.content
    assert "tenant_user" not in client.session


@pytest.mark.usefixtures("tenants")
def test_a_platinum_tenants_users_cannot_sign_in_through_another_pool():
    client = Client(HTTP_HOST="acme.localhost:8000")
    start = urlsplit(client.get("/login/")["Location"])
    fields = {k: v[0] for k, v in parse_qs(start.query).items()}
    login = start.path.replace("/oauth2/authorize", "/login")
    refused = client.post(
        login, {**fields, "username": "admin@globex.example", "password": PASSWORD}, HTTP_HOST="localhost"
    )
    assert refused.status_code == 400 and b"Incorrect username or password" in refused.content


@pytest.mark.usefixtures("tenants")
def test_forged_or_replayed_state_and_codes_are_friendly_pages():
    client = Client(HTTP_HOST="acme.localhost:8000")
    callback = _to_hosted_ui(client, "admin@acme.example")
    forged = callback.replace("state=", "state=x")
    assert client.get(forged).status_code == 400
    assert client.get(callback).status_code == 302
    replay = client.get(callback)
    assert replay.status_code == 400 and b"expired or was not started here" in replay.content


@pytest.mark.usefixtures("tenants")
def test_a_spent_code_is_a_friendly_page():
    client = Client(HTTP_HOST="acme.localhost:8000")
    callback = _to_hosted_ui(client, "admin@acme.example")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    from django.core.cache import caches

    caches["cognito_emulator"].delete(f"code:{code}")  # the code was used elsewhere
    response = client.get(callback)
    assert response.status_code == 502 and b"not answering correctly" in response.content


@pytest.mark.usefixtures("tenants")
def test_an_unreachable_identity_provider_is_a_friendly_page(settings):
    client = Client(HTTP_HOST="acme.localhost:8000")
    callback = _to_hosted_ui(client, "admin@acme.example")
    settings.CLOUDKIDA_COGNITO_EMULATOR_URL = "http://127.0.0.1:9/_cognito"
    response = client.get(callback)
    assert response.status_code == 502


@pytest.mark.usefixtures("tenants")
def test_a_cancelled_sign_in_is_a_friendly_page():
    client = Client(HTTP_HOST="acme.localhost:8000")
    client.get("/login/")
    state = next(iter(client.session["oidc_states"]))
    response = client.get(f"/oidc/callback/?error=access_denied&state={state}")
    assert response.status_code == 400 and b"Sign-in was cancelled" in response.content


@pytest.mark.usefixtures("tenants")
def test_sign_out_ends_the_session_and_the_hosted_uis():
    client = _signed_in("acme", "admin@acme.example")
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and "/_cognito/" in response["Location"] and "/logout?" in response["Location"]
    assert "tenant_user" not in client.session
    logout = urlsplit(response["Location"])
    back = client.get(f"{logout.path}?{logout.query}", HTTP_HOST="localhost")
    assert back.status_code == 302 and back["Location"].startswith("http://acme.localhost")


@pytest.mark.usefixtures("tenants")
def test_the_hosted_ui_remembers_a_sign_in_until_sign_out():
    """Like Cognito's own session: a second sign-in from the same browser needs no password."""
    client = _signed_in("acme", "admin@acme.example")
    client.post("/logout/")  # ends the portal's session only (the hosted UI's is ended by its /logout)
    start = urlsplit(client.get("/login/")["Location"])
    silent = client.get(f"{start.path}?{start.query}", HTTP_HOST="localhost")
    assert silent.status_code == 302 and "code=" in silent["Location"]


@pytest.mark.usefixtures("tenants")
def test_sign_in_exists_only_on_tenant_hosts():
    assert Client(HTTP_HOST="localhost").get("/login/").status_code == 404


@pytest.mark.usefixtures("tenants")
def test_find_your_organisation():
    client = Client(HTTP_HOST="localhost")
    by_name = client.get("/find/", {"q": "  ACME   org "})
    assert by_name.status_code == 302 and by_name["Location"] == "http://acme.localhost:8000/login/"
    by_slug = client.get("/find/", {"q": "globex"})
    assert by_slug["Location"] == "http://globex.localhost:8000/login/"
    missing = client.get("/find/", {"q": "nobody"})
    assert missing.status_code == 404 and b"could not find" in missing.content


@pytest.mark.usefixtures("tenants")
def test_an_expired_session_goes_back_through_the_tenants_sign_in():
    client = _signed_in("acme", "admin@acme.example")
    later = datetime.now(UTC) + timedelta(hours=2)
    with clock.frozen(later):
        response = client.get("/people/?x=1")
        assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fpeople%2F%3Fx%3D1"
        assert "tenant_user" not in client.session
        assert client.get("/api/v1/me").status_code == 401


@pytest.mark.usefixtures("tenants")
def test_a_portal_session_ends_on_the_next_request_once_its_user_is_disabled(settings):
    settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS = 0
    acme = tid("acme")
    user_invite(tenant_id=acme, email="bob@acme.example", name="Bob", role="TenantAdmin")  # so Ada is not the last
    client = _signed_in("acme", "admin@acme.example")
    assert client.get("/api/v1/users").status_code == 200
    ada = user_get_by_email(tenant_id=acme, email="admin@acme.example")
    user_update(tenant_id=acme, user_id=ada.user_id, expected_version=ada.version, role="TenantUser")
    assert client.get("/api/v1/users").status_code == 403  # the session follows her current role
    ada = user_get_by_email(tenant_id=acme, email="admin@acme.example")
    user_update(tenant_id=acme, user_id=ada.user_id, expected_version=ada.version, status="DISABLED")
    assert b"Sign out" not in client.get("/").content
    assert "tenant_user" not in client.session
    assert client.get("/api/v1/me").status_code == 401
