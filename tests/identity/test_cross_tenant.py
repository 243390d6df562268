"""Every API route is in the matrix, and no caller of tenant A reaches any data of tenant B."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.access import BY_NAME, ROUTES
from accounts.api_keys import api_key_create
from accounts.selectors import group_get, policy_get, user_get_by_email
from accounts.throttling import buckets
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.identity.conftest import bearer, login, operator_token, with_key

pytestmark = [pytest.mark.usefixtures("two_tenants"), pytest.mark.django_db]


def _api_url_names() -> set[str]:
    names = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and (prefix + str(p.pattern)).startswith("api/v1/") and p.name:
                names.add(p.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_api_route_is_in_the_matrix_and_nothing_else_is():
    assert _api_url_names() == {r.name for r in ROUTES}


def _callers():
    acme_admin = bearer(login("acme", "admin@acme.example"))
    _k, raw = api_key_create(tenant_id=tid("acme"), name="all", scope="admin", created_by="t")
    return {"acme admin token": acme_admin, "acme admin key": with_key(raw)}


def test_a_caller_of_acme_reaches_no_data_of_globex():
    """Walk every tenant-scoped route with acme's credentials and look for any globex data."""
    globex_admin = user_get_by_email(tenant_id=tid("globex"), email="admin@globex.example")
    _gk, _graw = api_key_create(tenant_id=tid("globex"), name="globex key", scope="read", created_by="t")
    for label, client in _callers().items():
        for path in [
            "/api/v1/me",
            "/api/v1/tenant",
            "/api/v1/users",
            "/api/v1/api-keys",
            f"/api/v1/users/{globex_admin.user_id}",
        ]:
            response = client.get(path)
            assert "globex" not in response.content.decode().lower(), (label, path, response.content)
            assert response.status_code in {200, 403, 404}, (label, path)
        # Naming a globex object directly gets 404, never the object.
        assert client.get(f"/api/v1/users/{globex_admin.user_id}").status_code == 404
        patch = client.patch(f"/api/v1/users/{globex_admin.user_id}", {"version": 1, "name": "pwned"}, format="json")
        assert patch.status_code in {403, 404}
        assert client.delete(f"/api/v1/api-keys/{_gk.key_id}").status_code in {403, 404}
        # Platform routes are closed to tenant callers.
        for method, path in [
            ("get", "/api/v1/tenants"),
            ("get", f"/api/v1/tenants/{tid('globex')}"),
            ("post", f"/api/v1/tenants/{tid('globex')}/deactivate"),
        ]:
            assert getattr(client, method)(path, {}, format="json").status_code == 403
    assert user_get_by_email(tenant_id=tid("globex"), email="admin@globex.example").name == "Admin"
    from accounts.api_keys import api_key_list

    assert all(k.active for k in api_key_list(tenant_id=tid("globex")).items)


def test_lists_are_confined_to_the_callers_tenant():
    acme = bearer(login("acme", "admin@acme.example"))
    globex = bearer(login("globex", "admin@globex.example"))
    assert [u["email"] for u in acme.get("/api/v1/users").json()["results"]] == ["admin@acme.example"]
    assert [u["email"] for u in globex.get("/api/v1/users").json()["results"]] == ["admin@globex.example"]
    acme.post("/api/v1/api-keys", {"name": "acme ci", "scope": "read"}, format="json")
    assert globex.get("/api/v1/api-keys").json()["results"] == []
    cursor = acme.get("/api/v1/users", {"limit": 1}).json()["next_cursor"]
    if cursor:
        assert globex.get("/api/v1/users", {"cursor": cursor}).json()["code"] == "invalid_cursor"


def test_tenant_admin_manages_users_and_keys_of_its_own_tenant():
    acme = bearer(login("acme", "admin@acme.example"))
    invited = acme.post("/api/v1/users", {"email": "dev@acme.example", "name": "Dev"}, format="json")
    assert invited.status_code == 201, invited.json()
    user = invited.json()
    changed = acme.patch(
        f"/api/v1/users/{user['user_id']}", {"version": user["version"], "role": "TenantAdmin"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["role"] == "TenantAdmin"
    stale = acme.patch(f"/api/v1/users/{user['user_id']}", {"version": user["version"], "name": "x"}, format="json")
    assert stale.status_code == 409
    created = acme.post("/api/v1/api-keys", {"name": "deploy bot", "scope": "write"}, format="json").json()
    assert created["api_key"].startswith(f"ck_{created['key_id']}_")
    listed = acme.get("/api/v1/api-keys").json()["results"]
    assert [k["key_id"] for k in listed] == [created["key_id"]] and "api_key" not in listed[0]
    assert with_key(created["api_key"]).get("/api/v1/me").json()["key"] == {
        "key_id": created["key_id"],
        "name": "deploy bot",
        "scope": "write",
    }
    assert acme.delete(f"/api/v1/api-keys/{created['key_id']}").json()["revoked_at"]
    assert with_key(created["api_key"]).get("/api/v1/me").status_code == 401


def test_tenant_user_cannot_manage_users_or_keys():
    acme = bearer(login("acme", "admin@acme.example"))
    acme.post("/api/v1/users", {"email": "dev@acme.example", "name": "Dev"}, format="json")
    dev = bearer(login("acme", "dev@acme.example"))
    assert dev.get("/api/v1/me").json()["role"] == "TenantUser"
    assert dev.get("/api/v1/users").status_code == 403
    assert dev.post("/api/v1/api-keys", {"name": "x", "scope": "read"}, format="json").status_code == 403


def test_system_admin_and_support_tokens_from_the_operations_pool():
    admin = bearer(operator_token("SystemAdmin", "root@cloudkida.example"))
    support = bearer(operator_token("CustomerSupport", "help@cloudkida.example"))
    assert [t["slug"] for t in admin.get("/api/v1/tenants").json()["results"]] == ["acme", "globex"]
    acme = tid("acme")
    assert support.get(f"/api/v1/tenants/{acme}").status_code == 200
    assert support.post(f"/api/v1/tenants/{acme}/deactivate", {}, format="json").status_code == 403
    assert admin.post(f"/api/v1/tenants/{acme}/deactivate", {}, format="json").json()["status"] == "DEACTIVATED"
    assert admin.get("/api/v1/users").status_code == 403  # operators have no tenant of their own


def test_tenants_are_throttled_by_their_tier(settings):
    settings.CLOUDKIDA_TIER_LIMITS = {
        **settings.CLOUDKIDA_TIER_LIMITS,
        "basic": {"rate": 0.001, "burst": 3, "quota_per_day": 1000},
    }
    buckets.reset()
    acme = bearer(login("acme", "admin@acme.example"))
    statuses = [acme.get("/api/v1/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = acme.get("/api/v1/me")
    assert refused.json()["code"] == "throttled" and int(refused["Retry-After"]) >= 1
    globex = bearer(login("globex", "admin@globex.example"))  # another tenant has its own bucket
    assert globex.get("/api/v1/me").status_code == 200


def test_daily_quota_is_enforced(settings):
    settings.CLOUDKIDA_TIER_LIMITS = {
        **settings.CLOUDKIDA_TIER_LIMITS,
        "basic": {"rate": 1000, "burst": 1000, "quota_per_day": 2},
    }
    buckets.reset()
    acme = bearer(login("acme", "admin@acme.example"))
    assert [acme.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]


def test_matrix_routes_exist_for_every_rule():
    for route in ROUTES:
        assert route.path.startswith("/api/v1/") and route.methods
        assert BY_NAME[route.name] is route


def test_an_operator_token_from_the_command_and_an_admin_session_reach_the_operator_api(admin_client):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("operator_token", "--email", "root@cloudkida.localhost", stdout=out)
    token = out.getvalue().strip()
    assert [t["slug"] for t in bearer(token).get("/api/v1/tenants").json()["results"]] == ["acme", "globex"]
    session = admin_client.get("/api/v1/tenants", HTTP_HOST="admin.localhost")
    assert session.status_code == 200 and len(session.json()["results"]) == 2
    refused = admin_client.get("/api/v1/users", HTTP_HOST="admin.localhost")
    assert refused.status_code == 403  # an operator has no tenant of its own


def test_acme_reaches_none_of_globexs_portal_objects_and_each_tenant_sees_its_own(settings):
    """Every route the portal added: globex's groups, memberships, policies, imports, users, domains,
    branding and audit events are 404 (or absent) to acme, whatever acme sends."""
    from accounts import imports
    from accounts.services import group_add_member, group_create, policy_set, user_create
    from tenants.services import domain_add, tenant_branding_update

    globex = tid("globex")
    settings.CLOUDKIDA_DNS_RESOLVER = "static"
    settings.CLOUDKIDA_DNS_STATIC_RECORDS = {}
    learner = user_create(tenant_id=globex, email="learner@globex.example", name="Globex Learner")
    group = group_create(tenant_id=globex, name="Globex Cohort")
    group_add_member(tenant_id=globex, group_id=group.group_id, user_id=learner.user_id)
    policy_set(tenant_id=globex, group_id=group.group_id, expected_version=0, max_concurrent_labs=1)
    job = imports.user_import_start(tenant_id=globex, data="email,name\nnew@globex.example,New\n", actor="t")
    domain_add(tenant_id=globex, domain="learn.globex.example", actor="t")
    tenant_branding_update(
        tenant_id=globex, actor="t", expected_version=tenant_get(tenant_id=globex).version, display_name="Globex Brand"
    )
    g, u, i = group.group_id, learner.user_id, job.import_id
    for label, client in _callers().items():
        for method, path, body in [
            ("get", f"/api/v1/groups/{g}", None),
            ("patch", f"/api/v1/groups/{g}", {"version": 1, "name": "pwned"}),
            ("delete", f"/api/v1/groups/{g}?version=1", None),
            ("get", f"/api/v1/groups/{g}/members", None),
            ("post", f"/api/v1/groups/{g}/members", {"user_id": u}),
            ("delete", f"/api/v1/groups/{g}/members/{u}", None),
            ("get", f"/api/v1/groups/{g}/policy", None),
            ("put", f"/api/v1/groups/{g}/policy", {"version": 1, "max_concurrent_labs": 50}),
            ("get", f"/api/v1/user-imports/{i}", None),
            ("post", f"/api/v1/user-imports/{i}/resume", None),
            ("delete", f"/api/v1/users/{u}", None),
            ("post", f"/api/v1/users/{u}/resend-invitation", None),
            ("post", "/api/v1/domains/learn.globex.example/verify", None),
            ("delete", "/api/v1/domains/learn.globex.example", None),
        ]:
            response = getattr(client, method)(path, body, format="json")
            assert response.status_code == 404, (label, method, path, response.status_code, response.content)
        # Lists, exports and the organisation's own resources show acme's data only.
        for path in [
            "/api/v1/groups",
            "/api/v1/user-imports",
            "/api/v1/domains",
            "/api/v1/audit-events",
            "/api/v1/audit-events/export",
            "/api/v1/users/export",
            "/api/v1/users?q=globex",
            "/api/v1/tenant/branding",
            "/api/v1/policies/tenant",
        ]:
            response = client.get(path)
            assert response.status_code == 200, (label, path, response.content)
            assert "globex" not in response.content.decode().lower(), (label, path, response.content)
        # A domain globex claimed is not acme's to verify, and acme's own claim of it holds nothing.
        assert client.get("/api/v1/domains").json()["results"] == []
    assert group_get(tenant_id=globex, group_id=g).member_count == 1
    assert user_get_by_email(tenant_id=globex, email="learner@globex.example") is not None
    assert policy_get(tenant_id=globex, group_id=g).max_concurrent_labs == 1
    assert tenant_get(tenant_id=globex).branding["display_name"] == "Globex Brand"
