"""Browser login on two tenant hosts through a real OIDC provider on loopback (oidc-provider-mock)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from oidc_provider_mock import User, run_server_in_thread

from accounts import oidc
from tests.conftest import tid
from tests.identity.conftest import register

USERS = [
    User(
        sub="ada",
        claims={
            "email": "admin@acme.example",
            "name": "Ada",
            "custom:tenantId": "acme",
            "custom:userRole": "TenantAdmin",
        },
    ),
    User(
        sub="gus",
        claims={
            "email": "admin@globex.example",
            "name": "Gus",
            "custom:tenantId": "globex",
            "custom:userRole": "TenantAdmin",
        },
    ),
    User(sub="mallory", claims={"email": "admin@globex.example", "custom:tenantId": "globex"}),
    User(sub="ghost", claims={"email": "ghost@acme.example", "custom:tenantId": "acme"}),
]


@pytest.fixture(scope="module")
def provider():
    with run_server_in_thread(port=0, user_claims=USERS) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def tenants(platform, provider, settings):
    settings.CLOUDKIDA_DEV_OIDC_ISSUER = provider
    oidc._discovery.invalidate()
    register("acme")
    register("globex", tier="platinum")


pytestmark = [pytest.mark.usefixtures("tenants"), pytest.mark.django_db]


def _to_provider(client: Client, sub: str, *, deny: bool = False) -> str:
    """Start login on the tenant host, pick the user at the provider; return the callback path."""
    start = client.get("/login/?next=/")
    assert start.status_code == 302
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] and query["nonce"]
    assert query["state"] and query["client_id"]
    idp = requests.Session()
    form = idp.get(start["Location"], timeout=10)
    assert form.status_code == 200
    answer = idp.post(form.url, data={"action": "deny"} if deny else {"sub": sub}, allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    assert back.netloc.split(":")[0] == client.defaults["HTTP_HOST"]
    return f"{back.path}?{back.query}"


@pytest.mark.parametrize(
    ("host", "sub", "email"),
    [("acme.localhost", "ada", "admin@acme.example"), ("globex.localhost", "gus", "admin@globex.example")],
)
def test_login_on_each_tenant_host(host, sub, email):
    client = Client(HTTP_HOST=host)
    done = client.get(_to_provider(client, sub))
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.session["tenant_user"]["email"] == email
    home = client.get("/")
    assert "Signed in as" in home.content.decode() and email in home.content.decode()
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["method"] == "session"


def test_a_session_of_one_tenant_is_not_valid_on_another():
    client = Client(HTTP_HOST="acme.localhost")
    client.get(_to_provider(client, "ada"))
    client.defaults["HTTP_HOST"] = "globex.localhost"  # the test client sends cookies to every host
    assert "Signed in as" not in client.get("/").content.decode()
    assert client.get("/api/v1/me").status_code == 401


def test_a_token_of_another_tenant_is_refused_on_this_host():
    client = Client(HTTP_HOST="acme.localhost")
    response = client.get(_to_provider(client, "mallory"))
    assert response.status_code == 403 and b"does not belong to this organisation" in response.content
    assert "tenant_user" not in client.session


def test_a_user_without_an_active_record_is_refused():
    client = Client(HTTP_HOST="acme.localhost")
    response = client.get(_to_provider(client, "ghost"))
    assert response.status_code == 403 and b"not active" in response.content


def test_cancelled_login_is_a_friendly_page():
    client = Client(HTTP_HOST="acme.localhost")
    response = client.get(_to_provider(client, "ada", deny=True))
    assert response.status_code == 400 and b"Sign-in was cancelled" in response.content


def test_forged_or_replayed_state_is_a_friendly_page():
    client = Client(HTTP_HOST="acme.localhost")
    callback = _to_provider(client, "ada")
    forged = callback.replace("state=", "state=x")
    assert client.get(forged).status_code == 400
    assert client.get(callback).status_code == 302
    replay = client.get(callback)
    assert replay.status_code == 400 and b"expired or was not started here" in replay.content


def test_token_endpoint_failure_is_a_friendly_page():
    client = Client(HTTP_HOST="acme.localhost")
    callback = _to_provider(client, "ada")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    from django.conf import settings

    discovery = requests.get(f"{settings.CLOUDKIDA_DEV_OIDC_ISSUER}/.well-known/openid-configuration", timeout=5)
    from tenants.selectors import tenant_get

    client_id = tenant_get(tenant_id=tid("acme")).identity["client_id"]
    spent = requests.post(
        discovery.json()["token_endpoint"],
        data={  # spend the code first
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": "dev",
            "redirect_uri": "http://acme.localhost/oidc/callback/",
        },
        timeout=5,
    )
    assert spent.status_code in {200, 400}
    response = client.get(callback)
    assert response.status_code == 502 and b"not answering correctly" in response.content


def test_unreachable_provider_is_a_friendly_page(settings):
    client = Client(HTTP_HOST="acme.localhost")
    callback = _to_provider(client, "ada")
    oidc._discovery.invalidate()
    real = oidc._dev_provider()
    settings.CLOUDKIDA_DEV_OIDC_ISSUER = "http://127.0.0.1:9"
    oidc._discovery._data[settings.CLOUDKIDA_DEV_OIDC_ISSUER] = (
        float("inf"),
        {**real, "token_endpoint": "http://127.0.0.1:9/t"},
    )
    response = client.get(callback)
    assert response.status_code == 502


def test_logout_ends_the_session_and_goes_to_the_provider():
    client = Client(HTTP_HOST="acme.localhost")
    client.get(_to_provider(client, "ada"))
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and "/oauth2/end_session" in response["Location"]
    assert "id_token_hint=" in response["Location"]
    assert "tenant_user" not in client.session


def test_login_exists_only_on_tenant_hosts():
    assert Client(HTTP_HOST="localhost").get("/login/").status_code == 404


def test_find_your_organisation():
    client = Client(HTTP_HOST="localhost")
    by_name = client.get("/find/", {"q": "  ACME   org "})
    assert by_name.status_code == 302 and by_name["Location"] == "http://acme.localhost:8000/login/"
    by_slug = client.get("/find/", {"q": "globex"})
    assert by_slug["Location"] == "http://globex.localhost:8000/login/"
    missing = client.get("/find/", {"q": "nobody"})
    assert missing.status_code == 404 and b"could not find" in missing.content


def test_an_expired_session_goes_back_through_the_tenants_login():
    from datetime import UTC, datetime, timedelta

    from cloudkida import clock

    client = Client(HTTP_HOST="acme.localhost")
    client.get(_to_provider(client, "ada"))
    later = datetime.now(UTC) + timedelta(hours=2)
    with clock.frozen(later):
        response = client.get("/labs/?x=1")
        assert response.status_code == 302 and response["Location"] == "/login/?next=%2Flabs%2F%3Fx%3D1"
        assert "tenant_user" not in client.session
        assert client.get("/api/v1/me").status_code == 401


def test_a_portal_session_ends_on_the_next_request_once_its_user_is_disabled(settings):
    from accounts.selectors import user_get_by_email
    from accounts.services import user_invite, user_update
    from tests.conftest import tid

    settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS = 0
    acme = tid("acme")
    user_invite(tenant_id=acme, email="bob@acme.example", name="Bob", role="TenantAdmin")  # so Ada is not the last
    client = Client(HTTP_HOST="acme.localhost")
    client.get(_to_provider(client, "ada"))
    assert client.get("/api/v1/users").status_code == 200
    ada = user_get_by_email(tenant_id=acme, email="admin@acme.example")
    user_update(tenant_id=acme, user_id=ada.user_id, expected_version=ada.version, role="TenantUser")
    assert client.get("/api/v1/users").status_code == 403  # the session follows her current role
    ada = user_get_by_email(tenant_id=acme, email="admin@acme.example")
    user_update(tenant_id=acme, user_id=ada.user_id, expected_version=ada.version, status="DISABLED")
    assert "Signed in as" not in client.get("/").content.decode()
    assert "tenant_user" not in client.session
    assert client.get("/api/v1/me").status_code == 401
