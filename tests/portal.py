"""Signing in to a tenant's portal with Django's test client, through the real sign-in path: the tenant's
app client, the hosted-UI emulation, authorization code + PKCE, the pool's own tokens. The token endpoint
is served by pytest-django's live server (the portal calls it over HTTP, as it calls Cognito)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from cloudkida import aws
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.identity.conftest import PASSWORD


@pytest.fixture
def hosted_ui(live_server, settings):
    settings.CLOUDKIDA_COGNITO_EMULATOR_URL = f"http://localhost:{urlsplit(live_server.url).port}/_cognito"
    return settings.CLOUDKIDA_COGNITO_EMULATOR_URL


def set_password(slug: str, email: str, password: str = PASSWORD) -> None:
    tenant = tenant_get(tenant_id=tid(slug))
    aws.client("cognito-idp").admin_set_user_password(
        UserPoolId=tenant.identity["user_pool_id"], Username=email, Password=password, Permanent=True
    )


def signed_in(slug: str, email: str, password: str = PASSWORD) -> Client:
    """A test client signed in to ``slug``'s portal as ``email`` (whose password is ``password``)."""
    client = Client(HTTP_HOST=f"{slug}.localhost:8000")
    start = urlsplit(client.get("/login/")["Location"])
    fields = {k: v[0] for k, v in parse_qs(start.query).items()}
    login = start.path.replace("/oauth2/authorize", "/login")
    answer = client.post(login, {**fields, "username": email, "password": password}, HTTP_HOST="localhost")
    assert answer.status_code == 302, answer.content[:300]
    back = urlsplit(answer["Location"])
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302, done.content[:300]
    return client
