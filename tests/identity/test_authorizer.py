"""The Lambda authorizer with synthetic API Gateway events, and Django trusting its context."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from accounts import authorizer
from accounts.access import ROUTES
from accounts.api_keys import api_key_create
from tests.conftest import tid
from tests.identity.conftest import login, operator_token

pytestmark = [pytest.mark.usefixtures("two_tenants"), pytest.mark.django_db]
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/api/v1/me"
BASE = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod"


def _event(authorization: str) -> dict:
    return {"type": "TOKEN", "authorizationToken": authorization, "methodArn": ARN}


def _allowed(result) -> set[str]:
    statements = result["policyDocument"]["Statement"]
    return {r for s in statements if s["Effect"] == "Allow" for r in s["Resource"]}


def _expected(role: str, *, key_scope: str | None = None) -> set[str]:
    """The method ARNs the matrix grants a role (or an API key scope)."""
    from accounts.access import allows
    from cloudkida.identity.principal import Principal, Role, Scope

    principal = Principal(
        tenant_id="x",
        role=Role(role),
        subject="s",
        method="api_key" if key_scope else "token",
        scope=Scope(key_scope) if key_scope else None,
    )
    routes = [(m, r.path) for r in ROUTES for m, rule in r.methods.items() if allows(principal, rule)]
    return set(authorizer.route_resources(ARN, routes))


def test_tenant_admin_policy_allows_exactly_the_matrix_routes():
    result = authorizer.handler(_event(f"Bearer {login('acme', 'admin@acme.example')}"))
    allowed = _allowed(result)
    assert allowed == _expected("TenantAdmin")
    assert f"{BASE}/GET/api/v1/users" in allowed and f"{BASE}/DELETE/api/v1/api-keys/*" in allowed
    assert not any("/api/v1/tenants" in r for r in allowed)  # platform routes stay closed
    assert result["context"]["tenantId"] == tid("acme") and result["context"]["role"] == "TenantAdmin"


def test_api_key_policy_follows_its_scope():
    _key, raw = api_key_create(tenant_id=tid("acme"), name="ro", scope="read", created_by="t")
    allowed = _allowed(authorizer.handler(_event(f"ApiKey {raw}")))
    assert allowed == _expected("TenantUser", key_scope="read")
    assert f"{BASE}/POST/api/v1/users" not in allowed and f"{BASE}/GET/api/v1/users" in allowed


def test_system_admin_gets_the_platform_routes_and_no_tenant_credentials():
    result = authorizer.handler(_event(f"Bearer {operator_token()}"))
    assert f"{BASE}/POST/api/v1/tenants/*/deactivate" in _allowed(result)
    assert "usageIdentifierKey" not in result and "accessKeyId" not in result["context"]


def test_usage_identifier_is_the_tenants_own_api_key():
    from cloudkida import aws
    from tenants.selectors import tenant_get

    result = authorizer.handler(_event(f"Bearer {login('acme', 'admin@acme.example')}"))
    key_id = tenant_get(tenant_id=tid("acme")).api_key_id
    assert (
        result["usageIdentifierKey"] == aws.client("apigateway").get_api_key(apiKey=key_id, includeValue=True)["value"]
    )


def test_pooled_session_policy_names_the_tenants_partition_exactly():
    policy = authorizer.session_policy(tid("acme"))
    (statement,) = policy["Statement"]
    assert statement["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{tid('acme')}"]}}
    assert statement["Resource"] == ["arn:aws:dynamodb:us-east-1:123456789012:table/cloudkida-test-tenant-data"]
    assert "dynamodb:Scan" not in statement["Action"]


def test_silo_session_policy_names_only_the_tenants_own_table():
    (statement,) = authorizer.session_policy(tid("globex"))["Statement"]
    assert statement["Resource"] == [
        f"arn:aws:dynamodb:us-east-1:123456789012:table/cloudkida-test-tenant-{tid('globex')}",
        f"arn:aws:dynamodb:us-east-1:123456789012:table/cloudkida-test-tenant-{tid('globex')}/index/*",
    ]
    assert "Condition" not in statement


def test_context_carries_short_lived_scoped_credentials():
    result = authorizer.handler(_event(f"Bearer {login('acme', 'admin@acme.example')}"))
    context = result["context"]
    assert context["accessKeyId"] and context["secretAccessKey"] and context["sessionToken"]
    assert all(isinstance(v, str) for v in context.values())  # API Gateway context values are strings


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer not.a.jwt", "Basic abc", "ApiKey ck_x_y"])
def test_unidentified_callers_get_unauthorized(authorization):
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer.handler(_event(authorization))


def test_a_deactivated_tenant_gets_an_explicit_deny():
    from tenants.services import tenant_deactivate

    token = login("acme", "admin@acme.example")
    tenant_deactivate(tenant_id=tid("acme"), actor="test")
    result = authorizer.handler(_event(f"Bearer {token}"))
    assert result["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": f"{BASE}/*"}
    ]


def test_django_trusts_the_authorizer_context_and_uses_the_scoped_credentials(settings, monkeypatch):
    from cloudkida import aws

    settings.CLOUDKIDA_TRUST_API_GATEWAY_AUTHORIZER = True
    context = authorizer.handler(_event(f"Bearer {login('acme', 'admin@acme.example')}"))["context"]
    seen = []
    real_client = aws.client

    def spy(service, *, credentials=None):
        if service == "dynamodb" and credentials:
            seen.append(credentials["AccessKeyId"])
        return real_client(service, credentials=credentials)

    monkeypatch.setattr(aws, "client", spy)
    client = APIClient(HTTP_HOST="api.localhost")
    request_meta = {"API_GATEWAY_AUTHORIZER": {**context, "principalId": "ada"}}
    response = client.get("/api/v1/users", **request_meta)
    assert response.status_code == 200, response.json()
    assert [u["email"] for u in response.json()["results"]] == ["admin@acme.example"]
    assert seen and set(seen) == {context["accessKeyId"]}


def test_the_authorizer_context_is_ignored_unless_trusted(settings):
    settings.CLOUDKIDA_TRUST_API_GATEWAY_AUTHORIZER = False
    context = {"tenantId": tid("acme"), "role": "TenantAdmin", "principalId": "forged"}
    response = APIClient(HTTP_HOST="api.localhost").get("/api/v1/users", API_GATEWAY_AUTHORIZER=context)
    assert response.status_code == 401


def test_zappa_settings_wire_the_authorizer_into_the_api_stage():
    from pathlib import Path

    config = json.loads((Path(__file__).resolve().parents[2] / "zappa_settings.json").read_text())
    api = config["production-api"]
    assert api["authorizer"]["function"] == "accounts.authorizer.handler"
    assert api["authorizer"]["result_ttl"] <= 60  # no longer than the authorisation cache
    assert api["authorizer"]["token_header"] == "Authorization"
    assert api["environment_variables"]["CLOUDKIDA_TRUST_API_GATEWAY_AUTHORIZER"] == "true"
    assert "authorizer" not in config["production"]
