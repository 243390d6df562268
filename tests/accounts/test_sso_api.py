"""Single sign-on configuration: a tenant admin's identity providers through the API, registered with
moto's Cognito (pool provider, app client), the secret never stored or shown, tenant isolation, errors."""

from __future__ import annotations

import json

import pytest

from accounts.integrations import sso
from cloudkida import aws
from cloudkida.dynamo import tables
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]

ISSUER = "http://localhost:9/realms/acme"  # loopback: allowed outside production; nothing is fetched here


@pytest.fixture
def acme():
    register("acme")
    return bearer(login("acme", "admin@acme.example"))


def _provider(api, **extra) -> dict:
    body = {
        "display_name": "Acme SSO",
        "issuer": ISSUER,
        "client_id": "cloudkida",
        "client_secret": "s3cr3t-value",
        "email_domains": ["acme.example"],
        **extra,
    }
    response = api.post("/api/v1/identity-providers", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _partition(slug: str) -> str:
    """Every item of the tenant's partition, as text."""
    found = aws.client("dynamodb").query(
        TableName=tables.pooled_table().name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tid(slug)}"}},
    )
    return json.dumps(found["Items"])


def _identity(slug: str) -> dict:
    return tenant_get(tenant_id=tid(slug)).identity


def _client(slug: str) -> dict:
    identity = _identity(slug)
    return aws.client("cognito-idp").describe_user_pool_client(
        UserPoolId=identity["user_pool_id"], ClientId=identity["client_id"]
    )["UserPoolClient"]


def test_a_provider_is_registered_on_the_pool_and_the_app_client(acme):
    before = _client("acme")
    created = _provider(acme, default_role="TenantAdmin")
    name = created["provider_name"]
    assert len(name) <= 32 and "_" not in name and name.startswith(tid("acme"))
    assert created["default_role"] == "TenantAdmin" and created["email_domains"] == ["acme.example"]
    assert "client_secret" not in created
    described = aws.client("cognito-idp").describe_identity_provider(
        UserPoolId=_identity("acme")["user_pool_id"], ProviderName=name
    )["IdentityProvider"]
    assert described["ProviderType"] == "OIDC"
    assert described["ProviderDetails"]["client_secret"] == "s3cr3t-value"
    assert described["ProviderDetails"]["oidc_issuer"] == ISSUER
    assert described["IdpIdentifiers"] == ["acme.example"]
    assert described["AttributeMapping"] == {"username": "sub", "email": "email", "name": "name"}
    after = _client("acme")
    assert after["SupportedIdentityProviders"] == ["COGNITO", name]
    for kept in ("CallbackURLs", "LogoutURLs", "AllowedOAuthFlows", "AllowedOAuthScopes", "ExplicitAuthFlows"):
        assert after[kept] == before[kept], kept
    listed = acme.get("/api/v1/identity-providers").json()["results"]
    assert [p["provider_name"] for p in listed] == [name]


def test_the_client_secret_is_never_stored_nor_answered(acme):
    created = _provider(acme)
    raw = _partition("acme")
    assert created["provider_name"] in raw and "s3cr3t-value" not in raw
    path = f"/api/v1/identity-providers/{created['provider_name']}"
    assert "s3cr3t" not in json.dumps(acme.get(path).json())


def test_update_sends_the_whole_client_configuration_again(acme):
    """UpdateUserPoolClient resets what it is not sent (moto merges instead, so the request itself is checked)."""
    sent = []
    events = aws.client("cognito-idp").meta.events

    def capture(params, **_):
        sent.append(dict(params))

    events.register("provide-client-params.cognito-idp.UpdateUserPoolClient", capture)
    try:
        created = _provider(acme)
    finally:
        events.unregister("provide-client-params.cognito-idp.UpdateUserPoolClient", capture)
    (request,) = sent
    assert request["SupportedIdentityProviders"] == ["COGNITO", created["provider_name"]]
    for field in ("CallbackURLs", "LogoutURLs", "AllowedOAuthFlows", "AllowedOAuthScopes", "ExplicitAuthFlows"):
        assert request[field], field
    assert request["CallbackURLs"] == _client("acme")["CallbackURLs"]


def test_a_new_custom_domain_keeps_the_providers_on_the_app_client(acme):
    from tenants.services.domains import _update_app_client

    created = _provider(acme)
    _update_app_client(tid("acme"))  # what a verified or removed custom domain and a rename do
    assert _client("acme")["SupportedIdentityProviders"] == ["COGNITO", created["provider_name"]]


def test_patch_changes_cognito_and_keeps_the_secret_unless_given(acme):
    created = _provider(acme)
    path = f"/api/v1/identity-providers/{created['provider_name']}"
    changed = acme.patch(
        path,
        {"version": created["version"], "display_name": "Acme Okta", "email_domains": ["acme.example", "acme.test"]},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["display_name"] == "Acme Okta" and changed.json()["version"] == created["version"] + 1
    described = aws.client("cognito-idp").describe_identity_provider(
        UserPoolId=_identity("acme")["user_pool_id"], ProviderName=created["provider_name"]
    )["IdentityProvider"]
    assert described["ProviderDetails"]["client_secret"] == "s3cr3t-value"
    assert described["IdpIdentifiers"] == ["acme.example", "acme.test"]
    stale = acme.patch(path, {"version": created["version"], "display_name": "Old"}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    rotated = acme.patch(path, {"version": changed.json()["version"], "client_secret": "n3w"}, format="json")
    assert rotated.status_code == 200
    assert (
        sso.cognito.identity_provider_details(_identity("acme")["user_pool_id"], created["provider_name"])[
            "client_secret"
        ]
        == "n3w"
    )


def test_delete_removes_the_provider_from_cognito_the_client_and_the_records(acme):
    created = _provider(acme)
    path = f"/api/v1/identity-providers/{created['provider_name']}"
    assert acme.delete(path).status_code == 204
    assert _client("acme")["SupportedIdentityProviders"] == ["COGNITO"]
    assert _client("acme")["CallbackURLs"]
    pool = _identity("acme")["user_pool_id"]
    assert aws.client("cognito-idp").list_identity_providers(UserPoolId=pool, MaxResults=60)["Providers"] == []
    assert acme.get(path).status_code == 404
    assert acme.get("/api/v1/identity-providers").json()["results"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"issuer": "https://10.1.2.3/realm"}, "invalid_identity_provider"),
        ({"issuer": "ftp://idp.example"}, "invalid_identity_provider"),
        ({"issuer": "https://user:pw@localhost/x"}, "invalid_identity_provider"),
        ({"email_domains": ["not a domain"]}, "invalid_identity_provider"),
        ({"attribute_mapping": {"custom:tenantId": "tenant"}}, "invalid_identity_provider"),
        ({"attribute_mapping": {"custom:userRole": "role"}}, "invalid_identity_provider"),
        ({"default_role": "SystemAdmin"}, "validation_failed"),
        ({"client_secret": ""}, "invalid_identity_provider"),
        ({"display_name": ""}, "validation_failed"),
        ({"provider_type": "KERBEROS"}, "validation_failed"),
    ],
)
def test_bad_input_is_a_400_with_code_message_details(acme, body, code):
    base = {"display_name": "Acme", "issuer": ISSUER, "client_id": "c", "client_secret": "s", **body}
    response = acme.post("/api/v1/identity-providers", base, format="json")
    assert response.status_code == 400, response.json()
    answer = response.json()
    assert set(answer) == {"code", "message", "details"} and answer["code"].startswith(code)


def test_the_production_profile_refuses_a_loopback_issuer(acme, settings):
    settings.CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK = False
    for issuer in ("http://localhost:9/x", "https://127.0.0.1/x", "https://localhost/x", "https://[::1]/x"):
        response = acme.post(
            "/api/v1/identity-providers",
            {"display_name": "A", "issuer": issuer, "client_id": "c", "client_secret": "s"},
            format="json",
        )
        assert response.status_code == 400 and response.json()["details"]["field"] == "issuer", issuer


def test_a_saml_provider_is_registered_with_its_metadata(acme):
    xml = '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.acme.example"/>'
    created = _provider(acme, provider_type="SAML", metadata_xml=xml, issuer="", client_id="", client_secret="")
    described = aws.client("cognito-idp").describe_identity_provider(
        UserPoolId=_identity("acme")["user_pool_id"], ProviderName=created["provider_name"]
    )["IdentityProvider"]
    assert described["ProviderType"] == "SAML" and described["ProviderDetails"] == {"MetadataFile": xml}
    assert described["AttributeMapping"] == {"email": "email", "name": "name"}


def test_only_tenant_admins_manage_providers(acme):
    created = _provider(acme)
    invited = acme.post("/api/v1/users", {"email": "ada@acme.example", "name": "Ada"}, format="json")
    assert invited.status_code == 201
    ada = bearer(login("acme", "ada@acme.example"))
    assert ada.get("/api/v1/identity-providers").status_code == 403
    assert ada.post("/api/v1/identity-providers", {"display_name": "x"}, format="json").status_code == 403
    assert ada.delete(f"/api/v1/identity-providers/{created['provider_name']}").status_code == 403


def test_another_tenants_providers_are_out_of_reach(acme):
    created = _provider(acme)
    path = f"/api/v1/identity-providers/{created['provider_name']}"
    register("globex")
    globex = bearer(login("globex", "admin@globex.example"))
    assert globex.get("/api/v1/identity-providers").json()["results"] == []
    assert globex.get(path).status_code == 404
    assert globex.patch(path, {"version": 1, "display_name": "mine"}, format="json").status_code == 404
    assert globex.delete(path).status_code == 404
    assert acme.get(path).json()["display_name"] == "Acme SSO"  # untouched
    assert _client("globex")["SupportedIdentityProviders"] == ["COGNITO"]


def test_email_domains_are_unique_among_a_tenants_providers(acme):
    _provider(acme)
    again = acme.post(
        "/api/v1/identity-providers",
        {
            "display_name": "Two",
            "issuer": ISSUER,
            "client_id": "c",
            "client_secret": "s",
            "email_domains": ["acme.example"],
        },
        format="json",
    )
    assert again.status_code == 409 and again.json()["code"] == "email_domain_taken"


def test_offboarding_removes_the_provider_record_and_its_cognito_registration(acme):
    from tenants.services import tenant_offboard

    created = _provider(acme)
    pool, tenant_id = _identity("acme")["user_pool_id"], tid("acme")
    tenant_offboard(tenant_id=tenant_id, confirm_slug="acme", actor="SystemAdmin:ops")
    providers = aws.client("cognito-idp").list_identity_providers(UserPoolId=pool, MaxResults=60)["Providers"]
    assert created["provider_name"] not in [p["ProviderName"] for p in providers]
    found = aws.client("dynamodb").query(
        TableName=tables.pooled_table().name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
    )
    assert found["Items"] == []


def test_a_failure_after_cognito_has_the_provider_leaves_nothing_half_made(acme, fail_aws):
    from botocore.exceptions import ClientError

    fail_aws("cognito-idp", "UpdateUserPoolClient", times=1)
    with pytest.raises(ClientError):
        sso.provider_create(
            tenant_id=tid("acme"),
            display_name="Acme SSO",
            issuer=ISSUER,
            client_id="c",
            client_secret="s",
            created_by="test",
        )
    pool = _identity("acme")["user_pool_id"]
    assert aws.client("cognito-idp").list_identity_providers(UserPoolId=pool, MaxResults=60)["Providers"] == []
    assert acme.get("/api/v1/identity-providers").json()["results"] == []
    assert _client("acme")["SupportedIdentityProviders"] == ["COGNITO"]
    assert _provider(acme)["provider_name"]  # and a retry succeeds
