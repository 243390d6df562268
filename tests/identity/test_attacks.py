"""The attack suite: every forged, stale, foreign or revoked credential is refused with the error body."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from accounts.api_keys import api_key_create, api_key_revoke
from tests.conftest import tid
from tests.identity.conftest import bearer, claims_for, forge, login, moto_private_key, with_key

pytestmark = [pytest.mark.usefixtures("two_tenants"), pytest.mark.django_db]


def _refused(response, status=401):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["message"]
    return body["code"]


def test_a_real_token_is_accepted():
    response = bearer(login("acme", "admin@acme.example")).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["tenant_id"] == tid("acme") and response.json()["role"] == "TenantAdmin"


def test_a_real_access_token_is_accepted():
    response = bearer(login("acme", "admin@acme.example", kind="AccessToken")).get("/api/v1/me")
    assert response.status_code == 200, response.json()


def test_alg_none_is_refused():
    claims = claims_for("acme")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": "dummy"}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    token = f"{header.decode()}.{payload.decode()}."
    assert _refused(bearer(token).get("/api/v1/me")) == "invalid_token"


def test_hs256_signed_with_the_public_key_is_refused():
    public_pem = (
        moto_private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "kid": "dummy", "typ": "JWT"}
    segments = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=") for p in (header, claims_for("acme"))]
    import hashlib
    import hmac

    signing_input = b".".join(segments)
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    token = (signing_input + b"." + signature).decode()
    assert _refused(bearer(token).get("/api/v1/me")) == "invalid_token"


def test_expired_token_is_refused():
    now = int(time.time())
    token = forge(claims_for("acme", iat=now - 7200, exp=now - 3600))
    assert _refused(bearer(token).get("/api/v1/me")) == "token_expired"


def test_token_not_yet_valid_is_refused():
    now = int(time.time())
    token = forge(claims_for("acme", nbf=now + 3600))
    assert _refused(bearer(token).get("/api/v1/me")) == "invalid_token"


def test_wrong_issuer_is_refused():
    token = forge(claims_for("acme", iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_attacker"))
    assert _refused(bearer(token).get("/api/v1/me")) == "invalid_token"


def test_wrong_audience_is_refused():
    token = forge(claims_for("acme", aud="some-other-client"))
    assert _refused(bearer(token).get("/api/v1/me")) == "invalid_token"


def test_token_of_tenant_a_on_tenant_b_host_is_refused():
    token = login("acme", "admin@acme.example")
    assert _refused(bearer(token, host="globex.localhost").get("/api/v1/me"), 403) == "wrong_tenant"


def test_token_signed_by_another_pool_claiming_tenant_b_is_refused():
    """Moto signs every pool with one key: only iss/aud stop acme's pool vouching for globex."""
    acme = claims_for("acme")
    token = forge({**acme, "custom:tenantId": "globex"})  # acme's iss and aud, globex's claim
    assert _refused(bearer(token).get("/api/v1/me")) == "invalid_token"
    real = login("acme", "admin@acme.example")
    real_claims = jwt.decode(real, options={"verify_signature": False})
    assert _refused(bearer(forge({**real_claims, "custom:tenantId": "globex"})).get("/api/v1/me")) == "invalid_token"


def test_tampered_signature_is_refused():
    token = login("acme", "admin@acme.example")
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["custom:userRole"] = "SystemAdmin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert _refused(bearer(f"{head}.{forged_payload}.{signature}").get("/api/v1/me")) == "invalid_token"
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    assert _refused(bearer(f"{head}.{payload}.{flipped}").get("/api/v1/me")) == "invalid_token"


def test_missing_kid_is_refused():
    assert _refused(bearer(forge(claims_for("acme"), kid=None)).get("/api/v1/me")) == "invalid_token"


def test_unknown_kid_is_refused():
    assert _refused(bearer(forge(claims_for("acme"), kid="not-a-key")).get("/api/v1/me")) == "unknown_key"


def test_a_role_claim_in_a_token_grants_nothing():
    """Roles come from the user's record, never from the token: a forged SystemAdmin claim stays a tenant
    user's token, and a forged TenantAdmin claim of a TenantUser stays a TenantUser."""
    forged = bearer(forge(claims_for("acme", **{"custom:userRole": "SystemAdmin"})))
    assert forged.get("/api/v1/me").json()["role"] == "TenantAdmin"
    assert _refused(forged.get("/api/v1/tenants"), 403) == "permission_denied"


def test_garbage_and_wrong_scheme_are_refused():
    assert _refused(bearer("not.a.jwt").get("/api/v1/me")) == "invalid_token"
    client = bearer("x")
    client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert _refused(client.get("/api/v1/me")) == "invalid_token"


def test_no_credentials_is_401():
    from rest_framework.test import APIClient

    assert _refused(APIClient(HTTP_HOST="api.localhost").get("/api/v1/me")) == "not_authenticated"


def test_revoked_api_key_is_refused():
    key, raw = api_key_create(tenant_id=tid("acme"), name="CI", scope="read", created_by="test")
    assert with_key(raw).get("/api/v1/me").status_code == 200
    api_key_revoke(tenant_id=tid("acme"), key_id=key.key_id, revoked_by="test")
    assert _refused(with_key(raw).get("/api/v1/me")) == "revoked_api_key"


def test_wrong_api_key_is_refused():
    _key, raw = api_key_create(tenant_id=tid("acme"), name="CI", scope="read", created_by="test")
    assert _refused(with_key(raw[:-2] + "xx").get("/api/v1/me")) == "invalid_api_key"
    assert _refused(with_key("ck_000000000000_nothing").get("/api/v1/me")) == "invalid_api_key"
    assert _refused(with_key("garbage").get("/api/v1/me")) == "invalid_api_key"


def test_api_key_of_tenant_a_on_tenant_b_host_is_refused():
    _key, raw = api_key_create(tenant_id=tid("acme"), name="CI", scope="admin", created_by="test")
    assert _refused(with_key(raw, host="globex.localhost").get("/api/v1/users"), 403) == "wrong_tenant"


def test_api_key_scope_limits_what_it_may_do():
    _key, raw = api_key_create(tenant_id=tid("acme"), name="Reader", scope="read", created_by="test")
    assert with_key(raw).get("/api/v1/users").status_code == 200
    refused = with_key(raw).post("/api/v1/users", {"email": "x@acme.example", "name": "X"}, format="json")
    assert _refused(refused, 403) == "scope_too_narrow"
    assert "scope (read) is too narrow" in refused.json()["message"] and refused.json()["details"]["needs"] == "write"
    assert _refused(with_key(raw).get("/api/v1/api-keys"), 403) == "key_not_allowed"  # keys never manage keys


def test_deactivated_tenant_tokens_and_keys_are_refused():
    from tenants.services import tenant_deactivate

    token = login("acme", "admin@acme.example")
    _key, raw = api_key_create(tenant_id=tid("acme"), name="CI", scope="read", created_by="test")
    tenant_deactivate(tenant_id=tid("acme"), actor="test")
    assert _refused(bearer(token).get("/api/v1/me"), 403) == "tenant_deactivated"
    assert _refused(with_key(raw).get("/api/v1/me"), 403) == "tenant_deactivated"


def test_api_key_in_the_authorization_header_as_behind_api_gateway():
    from rest_framework.test import APIClient

    _key, raw = api_key_create(tenant_id=tid("acme"), name="gw", scope="read", created_by="test")
    client = APIClient(HTTP_HOST="api.localhost")
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {raw}")
    assert client.get("/api/v1/me").json()["tenant_id"] == tid("acme")
    client.credentials(HTTP_AUTHORIZATION="ApiKey ck_000000000000_x")
    assert _refused(client.get("/api/v1/me")) == "invalid_api_key"
