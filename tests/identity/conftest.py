"""Real Cognito tokens from moto, and moto's own signing key to forge the ones an attacker would send."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import jwt
import moto.cognitoidp
import pytest
from rest_framework.test import APIClient

from accounts.selectors import user_get_by_email
from accounts.throttling import buckets
from cloudkida import aws
from cloudkida.identity.jwks import jwks_cache
from tenants import provisioning
from tenants.selectors import tenant_get
from tenants.services import tenant_register
from tests.conftest import tid

PASSWORD = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def _fresh_identity_caches():
    jwks_cache.clear()
    buckets.reset()
    yield
    jwks_cache.clear()
    buckets.reset()


def moto_private_key():
    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    document = json.loads(gzip.decompress(path.read_bytes()))
    jwk = document["keys"][0] if "keys" in document else document
    return jwt.PyJWK(jwk, algorithm="RS256").key


def forge(claims: dict, *, kid: str | None = "dummy", alg: str = "RS256", key=None) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, key if key is not None else moto_private_key(), algorithm=alg, headers=headers)


def register(slug: str, tier: str = "basic") -> None:
    tenant_register(
        name=f"{slug.title()} Org",
        slug=slug,
        admin_email=f"admin@{slug}.example",
        admin_name="Admin",
        tier=tier,
        country="US",
        client_address=slug,
    )


def login(slug: str, email: str, *, kind: str = "IdToken") -> str:
    """A real token for a tenant user, from moto's Cognito (ADMIN_USER_PASSWORD_AUTH)."""
    tenant = tenant_get(tenant_id=tid(slug))
    cognito = aws.client("cognito-idp")
    pool, client_id = tenant.identity["user_pool_id"], tenant.identity["client_id"]
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"][kind]


def operator_token(role: str = "SystemAdmin", email: str = "ops@cloudkida.example") -> str:
    platform = provisioning.platform()
    cognito = aws.client("cognito-idp")
    pool = platform["operations_user_pool_id"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "custom:userRole", "Value": role}],
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=platform["operations_client_id"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"]["IdToken"]


def claims_for(slug: str, **overrides) -> dict:
    """The claims of the tenant admin's ID token (its real sub, so the token names a real user)."""
    tenant = tenant_get(tenant_id=tid(slug))
    now = int(time.time())
    admin = user_get_by_email(tenant_id=tenant.tenant_id, email=f"admin@{slug}.example")
    return {
        "iss": tenant.identity["issuer"],
        "aud": tenant.identity["client_id"],
        "sub": admin.user_id if admin else f"sub-{slug}",
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "email": f"admin@{slug}.example",
        "custom:tenantId": tenant.tenant_id,
        "custom:userRole": "TenantAdmin",
        **overrides,
    }


@pytest.fixture
def two_tenants(platform):
    register("acme")
    register("globex", tier="platinum")


def bearer(token: str, host: str = "api.localhost") -> APIClient:
    client = APIClient(HTTP_HOST=host)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def with_key(raw: str, host: str = "api.localhost") -> APIClient:
    client = APIClient(HTTP_HOST=host)
    client.credentials(HTTP_X_API_KEY=raw)
    return client
