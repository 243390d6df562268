"""Revocation that takes effect: a demoted or disabled user loses access through every kind of credential
(ID token, access token, refresh token, a fresh sign-in, the Lambda authorizer) within the authorisation
cache's lifetime, at once when it is 0; the last TenantAdmin is protected; admin actions are audited."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from accounts import authorizer, repository
from accounts.api_keys import api_key_create, api_key_revoke
from accounts.domain import Role, UserStatus
from accounts.selectors import _authz_cache, user_get_by_email
from cloudkida import aws
from cloudkida.errors import Conflict
from tenants.selectors import tenant_get, tenant_get_cached
from tenants.services import tenant_deactivate
from tests.conftest import tid
from tests.identity.conftest import PASSWORD, bearer, login, register, with_key

pytestmark = pytest.mark.django_db
BASE = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod"
ARN = f"{BASE}/GET/api/v1/users"


@pytest.fixture
def acme(platform):
    """acme with two admins: Ada (its first) and Bob; returns (Bob's client, Ada's email)."""
    register("acme")
    ada = bearer(login("acme", "admin@acme.example"))
    invited = ada.post("/api/v1/users", {"email": "bob@acme.example", "name": "Bob", "role": "TenantAdmin"})
    assert invited.status_code == 201, invited.json()
    return bearer(login("acme", "bob@acme.example")), "admin@acme.example"


def _patch(client, email: str, **changes):
    user = user_get_by_email(tenant_id=tid("acme"), email=email)
    return client.patch(f"/api/v1/users/{user.user_id}", {"version": user.version, **changes}, format="json")


def _tokens(email: str) -> dict[str, str]:
    """Fresh ID, access and refresh tokens of a user, from moto's Cognito."""
    tenant = tenant_get(tenant_id=tid("acme"))
    cognito = aws.client("cognito-idp")
    cognito.admin_set_user_password(
        UserPoolId=tenant.identity["user_pool_id"], Username=email, Password=PASSWORD, Permanent=True
    )
    result = cognito.admin_initiate_auth(
        UserPoolId=tenant.identity["user_pool_id"],
        ClientId=tenant.identity["client_id"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return {"id": result["IdToken"], "access": result["AccessToken"], "refresh": result["RefreshToken"]}


def _refresh(refresh_token: str):
    tenant = tenant_get(tenant_id=tid("acme"))
    return aws.client("cognito-idp").admin_initiate_auth(
        UserPoolId=tenant.identity["user_pool_id"],
        ClientId=tenant.identity["client_id"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )


def _authorizer_allows_users_list(token: str) -> bool:
    try:
        result = authorizer.handler({"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": ARN})
    except Exception:
        return False
    statements = result["policyDocument"]["Statement"]
    return any(s["Effect"] == "Allow" and ARN in s["Resource"] for s in statements)


def test_a_demoted_admin_loses_admin_routes_through_every_credential_at_once(acme, settings):
    settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS = 0
    bob, ada_email = acme
    held = _tokens(ada_email)
    assert bearer(held["id"]).get("/api/v1/users").status_code == 200
    assert _authorizer_allows_users_list(held["id"])

    assert _patch(bob, ada_email, role="TenantUser").status_code == 200

    for kind in ("id", "access"):
        refused = bearer(held[kind]).get("/api/v1/users")
        assert refused.status_code == 403 and refused.json()["code"] == "permission_denied", kind
        assert bearer(held[kind]).get("/api/v1/me").json()["role"] == "TenantUser"
    assert not _authorizer_allows_users_list(held["id"])
    fresh = _tokens(ada_email)  # Cognito carries the new role too
    assert bearer(fresh["id"]).get("/api/v1/users").status_code == 403
    from jwt import decode

    assert decode(fresh["id"], options={"verify_signature": False})["custom:userRole"] == "TenantUser"
    with pytest.raises(ClientError):  # the global sign-out ended every refresh token she held
        _refresh(held["refresh"])


def test_a_disabled_user_is_refused_through_every_credential_at_once(acme, settings):
    settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS = 0
    bob, ada_email = acme
    held = _tokens(ada_email)
    assert _patch(bob, ada_email, status="DISABLED").status_code == 200

    for kind in ("id", "access"):
        refused = bearer(held[kind]).get("/api/v1/me")
        assert refused.status_code == 401 and refused.json()["code"] == "user_disabled", kind
    assert not _authorizer_allows_users_list(held["id"])
    with pytest.raises(ClientError) as raised:  # no fresh sign-in
        _tokens(ada_email)
    assert raised.value.response["Error"]["Code"] == "NotAuthorizedException"
    with pytest.raises(ClientError):
        _refresh(held["refresh"])

    assert _patch(bob, ada_email, status="ACTIVE").status_code == 200  # and enabling restores her
    assert bearer(_tokens(ada_email)["id"]).get("/api/v1/users").status_code == 200


def test_a_change_made_in_another_process_takes_effect_within_the_cache_lifetime(acme, settings, monkeypatch):
    """Another process changed the record (no invalidation here): the cached role holds until the cache
    lifetime passes, then the new one applies."""
    settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS = 60
    now = [1000.0]
    monkeypatch.setattr(_authz_cache, "_clock", lambda: now[0])
    _authz_cache.invalidate()
    _bob, ada_email = acme
    token = _tokens(ada_email)["id"]
    assert bearer(token).get("/api/v1/users").status_code == 200  # cached as TenantAdmin
    ada = user_get_by_email(tenant_id=tid("acme"), email=ada_email)
    repository.update(tid("acme"), ada, status=UserStatus.DISABLED)  # as another process would
    now[0] += 59
    assert bearer(token).get("/api/v1/users").status_code == 200  # worst case: up to the lifetime
    now[0] += 2
    assert bearer(token).get("/api/v1/users").status_code == 401


def test_a_revoked_api_key_stops_at_once_here_and_within_the_cache_lifetime_elsewhere(acme, settings):
    key, raw = api_key_create(tenant_id=tid("acme"), name="ci", scope="read", created_by="test")
    assert with_key(raw).get("/api/v1/me").status_code == 200
    api_key_revoke(tenant_id=tid("acme"), key_id=key.key_id, revoked_by="test")
    refused = with_key(raw).get("/api/v1/me")
    assert refused.status_code == 401 and refused.json()["code"] == "revoked_api_key"


def test_a_deactivated_tenant_refuses_every_kind_of_credential_with_403(acme):
    _bob, ada_email = acme
    held = _tokens(ada_email)
    _key, raw = api_key_create(tenant_id=tid("acme"), name="ci", scope="read", created_by="test")
    tenant_deactivate(tenant_id=tid("acme"), actor="test")
    for client in (bearer(held["id"]), bearer(held["access"]), with_key(raw)):
        refused = client.get("/api/v1/me")
        assert refused.status_code == 403 and refused.json()["code"] == "tenant_deactivated"
    result = authorizer.handler({"type": "TOKEN", "authorizationToken": f"Bearer {held['access']}", "methodArn": ARN})
    assert {s["Effect"] for s in result["policyDocument"]["Statement"]} == {"Deny"}


def test_the_last_active_tenant_admin_cannot_be_demoted_or_disabled(platform):
    register("acme")
    ada = bearer(login("acme", "admin@acme.example"))
    for change in ({"role": "TenantUser"}, {"status": "DISABLED"}):
        refused = _patch(ada, "admin@acme.example", **change)
        assert refused.status_code == 409 and refused.json()["code"] == "last_admin", change
    assert user_get_by_email(tenant_id=tid("acme"), email="admin@acme.example").role is Role.TENANT_ADMIN
    assert ada.get("/api/v1/users").status_code == 200


def test_two_admins_demoting_each_other_at_once_leave_one_admin(acme):
    bob, ada_email = acme
    ada = bearer(login("acme", ada_email))
    outcomes: list[int] = []
    barrier = threading.Barrier(2)

    def demote(client, email):
        barrier.wait()
        outcomes.append(_patch(client, email, role="TenantUser").status_code)

    threads = [
        threading.Thread(target=demote, args=(bob, ada_email)),
        threading.Thread(target=demote, args=(ada, "bob@acme.example")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One wins; the other is refused, by the guard (409) or, if it was checked after losing, by its new role.
    assert sorted(outcomes)[0] == 200 and sorted(outcomes)[1] in {403, 409}
    admins = [
        u
        for u in (user_get_by_email(tenant_id=tid("acme"), email=e) for e in (ada_email, "bob@acme.example"))
        if u.role is Role.TENANT_ADMIN
    ]
    assert len(admins) == 1


def test_the_last_admin_guard_holds_in_the_repository_too(platform):
    register("acme")
    ada = user_get_by_email(tenant_id=tid("acme"), email="admin@acme.example")
    with pytest.raises(Conflict) as raised:
        repository.update(tid("acme"), ada, role=Role.TENANT_USER)
    assert raised.value.code == "last_admin"
    with pytest.raises(Conflict):
        repository.delete(tid("acme"), ada)
    assert repository.counts(tid("acme")) == (1, 1)


def test_tenant_admin_actions_are_audited_with_their_actor(acme):
    bob, ada_email = acme
    _patch(bob, ada_email, role="TenantUser")
    _patch(bob, ada_email, status="DISABLED")
    _patch(bob, ada_email, status="ACTIVE")
    created = bob.post("/api/v1/api-keys", {"name": "ci", "scope": "read"}, format="json").json()
    bob.delete(f"/api/v1/api-keys/{created['key_id']}")
    from tenants.selectors import tenant_events

    events = [(e.action, e.actor) for e in tenant_events(tenant_id=tid("acme")).items]
    actor = "TenantAdmin:bob@acme.example"
    for action in ("user.role_changed", "user.disabled", "user.enabled", "api_key.created", "api_key.revoked"):
        assert (action, actor) in events, action
    assert ("user.invited", "TenantAdmin:admin@acme.example") in events


def test_an_api_key_needs_the_admin_scope_to_grant_roles_or_disable_users(acme):
    _bob, _ada_email = acme
    _k, write = api_key_create(tenant_id=tid("acme"), name="hr sync", scope="write", created_by="test")
    _k, admin = api_key_create(tenant_id=tid("acme"), name="admin sync", scope="admin", created_by="test")
    invited = with_key(write).post("/api/v1/users", {"email": "new@acme.example", "name": "New"}, format="json")
    assert invited.status_code == 201
    as_admin = with_key(write).post(
        "/api/v1/users", {"email": "boss@acme.example", "name": "Boss", "role": "TenantAdmin"}, format="json"
    )
    assert as_admin.status_code == 403 and as_admin.json()["code"] == "scope_too_narrow"
    assert _patch(with_key(write), "new@acme.example", name="Renamed").status_code == 200
    assert _patch(with_key(write), "new@acme.example", status="DISABLED").json()["code"] == "scope_too_narrow"
    assert _patch(with_key(admin), "new@acme.example", status="DISABLED").status_code == 200
    me = with_key(admin).get("/api/v1/me").json()
    assert me["method"] == "api_key" and me["role"] is None
    assert me["key"]["name"] == "admin sync" and me["key"]["scope"] == "admin"
    assert tenant_get_cached(tenant_id=tid("acme")).is_serving
