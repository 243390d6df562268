"""SCIM 2.0 with the protocol's own request examples (RFC 7644, Entra ID's and Okta's provisioning calls):
users created, found by ``userName eq``, renamed, disabled (Cognito too), deleted; groups created, members
added and removed, renamed; SCIM error bodies; an admin-scope key of one tenant never reaches another."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from accounts.selectors import group_get, user_get_by_email
from cloudkida import aws
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.fixtures_platform import mail_to
from tests.identity.conftest import register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]
SCIM = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _client(slug: str, scope: str = "admin") -> APIClient:
    _key, raw = api_key_create(tenant_id=tid(slug), name="directory", scope=scope, created_by="test")
    client = APIClient(HTTP_HOST="api.localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _send(client, method: str, path: str, body=None, content_type: str = f"{SCIM}; charset=utf-8"):
    data = json.dumps(body).encode() if body is not None else None
    return getattr(client, method)(path, data=data, content_type=content_type)


@pytest.fixture
def okta():
    register("acme")
    return _client("acme")


def _enabled_in_cognito(email: str) -> bool:
    pool = tenant_get(tenant_id=tid("acme")).identity["user_pool_id"]
    return aws.client("cognito-idp").admin_get_user(UserPoolId=pool, Username=email)["Enabled"]


def test_an_okta_style_create_lookup_disable_round_trip(okta):
    # Okta looks the user up first; a ListResponse with no results.
    found = okta.get(
        "/api/v1/scim/v2/Users", {"filter": 'userName eq "test.user@okta.local"', "startIndex": 1, "count": 100}
    )
    assert found.status_code == 200 and found["Content-Type"].startswith(SCIM)
    assert found.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }
    created = _send(okta, "post", "/api/v1/scim/v2/Users", body)
    assert created.status_code == 201, created.json()
    user = created.json()
    assert user["userName"] == "test.user@okta.local" and user["active"] is True and user["displayName"] == "Test User"
    assert created["Location"] == user["meta"]["location"] and user["meta"]["location"].endswith(f"/Users/{user['id']}")
    assert any("invited" in m or "Temporary password" in m for m in mail_to("test.user@okta.local"))  # as an invite
    assert _enabled_in_cognito("test.user@okta.local")
    again = _send(okta, "post", "/api/v1/scim/v2/Users", body)
    assert again.status_code == 409 and again.json()["scimType"] == "uniqueness" and again.json()["status"] == "409"
    listed = okta.get("/api/v1/scim/v2/Users", {"filter": 'userName eq "test.user@okta.local"'}).json()
    assert listed["totalResults"] == 1 and listed["Resources"][0]["id"] == user["id"]
    # Okta deactivates with a no-path replace; Cognito stops the sign-in.
    deactivated = _send(
        okta,
        "patch",
        f"/api/v1/scim/v2/Users/{user['id']}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    assert not _enabled_in_cognito("test.user@okta.local")
    assert user_get_by_email(tenant_id=tid("acme"), email="test.user@okta.local").status.value == "DISABLED"
    reactivated = _send(
        okta,
        "patch",
        f"/api/v1/scim/v2/Users/{user['id']}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": True}}]},
    )
    assert reactivated.json()["active"] is True and _enabled_in_cognito("test.user@okta.local")
    # A full PUT without "active" renames and keeps the state.
    put = _send(
        okta,
        "put",
        f"/api/v1/scim/v2/Users/{user['id']}",
        {**body, "name": {"givenName": "Tess", "familyName": "User"}, "displayName": None},
    )
    assert put.status_code == 200 and put.json()["displayName"] == "Tess User" and put.json()["active"] is True


def test_entra_style_patches_and_delete(okta):
    body = {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@testuser.com",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
    }
    user = _send(okta, "post", "/api/v1/scim/v2/Users", body).json()
    assert user["userName"] == "test_user_ab6490ee@testuser.com" and user["name"]["formatted"] == "givenName familyName"
    ops = [
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Replace", "path": "active", "value": "False"},  # older Entra apps send a string
    ]
    patched = _send(okta, "patch", f"/api/v1/scim/v2/Users/{user['id']}", {"schemas": [PATCH_OP], "Operations": ops})
    assert patched.status_code == 200, patched.json()
    assert patched.json()["name"]["formatted"] == "givenName updatedFamilyName" and patched.json()["active"] is False
    renamed = _send(
        okta,
        "patch",
        f"/api/v1/scim/v2/Users/{user['id']}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "userName", "value": "moved@testuser.com"}]},
    )
    assert renamed.json()["userName"] == "moved@testuser.com"
    bad = _send(
        okta, "patch", f"/api/v1/scim/v2/Users/{user['id']}", {"schemas": [PATCH_OP], "Operations": [{"op": "move"}]}
    )
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidSyntax"
    assert okta.delete(f"/api/v1/scim/v2/Users/{user['id']}").status_code == 204
    missing = okta.get(f"/api/v1/scim/v2/Users/{user['id']}")
    assert missing.status_code == 404 and missing.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert okta.get("/api/v1/scim/v2/Users", {"filter": 'userName sw "moved"'}).json()["scimType"] == "invalidFilter"
    assert okta.get("/api/v1/scim/v2/Users", {"filter": "userName eq"}).json()["scimType"] == "invalidFilter"


def test_groups_rfc_and_entra_member_operations(okta):
    ada = _send(
        okta, "post", "/api/v1/scim/v2/Users", {"userName": "babs@acme.example", "name": {"formatted": "Babs Jensen"}}
    ).json()
    james = _send(
        okta, "post", "/api/v1/scim/v2/Users", {"userName": "james@acme.example", "displayName": "James Smith"}
    ).json()
    created = _send(
        okta,
        "post",
        "/api/v1/scim/v2/Groups",
        {
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:Group",
                "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
            ],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Test SCIMv2",
            "meta": {"resourceType": "Group"},
        },
    )
    assert created.status_code == 201 and created.json()["members"] == []
    group = created.json()
    path = f"/api/v1/scim/v2/Groups/{group['id']}"
    add = {"op": "add", "path": "members", "value": [{"display": "Babs Jensen", "$ref": "x", "value": ada["id"]}]}
    assert (
        _send(okta, "patch", path, {"schemas": [PATCH_OP], "Operations": [add]}).json()["members"][0]["value"]
        == ada["id"]
    )
    swap = [
        {"op": "remove", "path": f'members[value eq"{ada["id"]}"]'},  # no space after eq, as the RFC writes it
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": james["id"]}]},
    ]
    swapped = _send(okta, "patch", path, {"schemas": [PATCH_OP], "Operations": swap}).json()
    assert [m["value"] for m in swapped["members"]] == [james["id"]]
    entra_remove = {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": james["id"]}]}
    assert _send(okta, "patch", path, {"schemas": [PATCH_OP], "Operations": [entra_remove]}).json()["members"] == []
    rename = {"op": "replace", "value": {"id": group["id"], "displayName": "Cohort 2027"}}  # Okta's rename
    assert (
        _send(okta, "patch", path, {"schemas": [PATCH_OP], "Operations": [rename]}).json()["displayName"]
        == "Cohort 2027"
    )
    assert group_get(tenant_id=tid("acme"), group_id=group["id"]).name == "Cohort 2027"
    listed = okta.get(
        "/api/v1/scim/v2/Groups", {"filter": 'displayName eq "cohort 2027"', "excludedAttributes": "members"}
    ).json()
    assert listed["totalResults"] == 1 and "members" not in listed["Resources"][0]
    _send(okta, "put", path, {"displayName": "Cohort 2027", "members": [{"value": ada["id"]}, {"value": james["id"]}]})
    assert group_get(tenant_id=tid("acme"), group_id=group["id"]).member_count == 2
    assert okta.delete(path).status_code == 204  # members are taken out first
    assert okta.get(path).status_code == 404
    page = okta.get("/api/v1/scim/v2/Users", {"startIndex": 1, "count": 2}).json()  # Okta's connection test
    assert page["itemsPerPage"] == 2 and page["totalResults"] == 3  # the admin, Babs and James


def test_scim_needs_an_admin_key_of_the_same_tenant(okta):
    user = _send(okta, "post", "/api/v1/scim/v2/Users", {"userName": "ada@acme.example"}).json()
    register("globex")
    other = _client("globex")
    assert other.get(f"/api/v1/scim/v2/Users/{user['id']}").status_code == 404
    assert (
        _send(
            other,
            "patch",
            f"/api/v1/scim/v2/Users/{user['id']}",
            {"Operations": [{"op": "replace", "value": {"active": False}}]},
        ).status_code
        == 404
    )
    assert other.delete(f"/api/v1/scim/v2/Users/{user['id']}").status_code == 404
    assert other.get("/api/v1/scim/v2/Users", {"filter": 'userName eq "ada@acme.example"'}).json()["totalResults"] == 0
    assert user_get_by_email(tenant_id=tid("acme"), email="ada@acme.example").status.value == "ACTIVE"
    reader = _client("acme", scope="read")
    refused = reader.get("/api/v1/scim/v2/Users")
    assert refused.status_code == 403 and refused.json()["status"] == "403"
    anonymous = APIClient(HTTP_HOST="api.localhost").get("/api/v1/scim/v2/Users")
    assert anonymous.status_code == 401 and anonymous.json()["schemas"] == [
        "urn:ietf:params:scim:api:messages:2.0:Error"
    ]
    assert okta.get("/api/v1/scim/v2/ServiceProviderConfig").json()["patch"] == {"supported": True}
