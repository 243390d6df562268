"""The tenants API: sign-up, registration status, tenant config, and system-admin management."""

from __future__ import annotations

import threading

import pytest
from rest_framework.test import APIClient

from cloudkida import aws
from cloudkida.identity.principal import Principal, Role
from cloudkida.ids import is_ulid
from tenants import provisioning, repository
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.fixtures_platform import REGISTRATION

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def api():
    return APIClient(REMOTE_ADDR="198.51.100.7")


@pytest.fixture
def staff_api():
    """A system admin (operations pool) — token verification itself is covered in tests/cloudkida/identity."""
    client = APIClient()
    client.force_authenticate(Principal(tenant_id="", role=Role.SYSTEM_ADMIN, subject="ops", email="ops@ck.example"))
    return client


def _signup(api, **overrides):
    return api.post("/api/v1/registrations", {**REGISTRATION, **overrides}, format="json")


def test_signup_returns_202_and_the_status_page_follows_provisioning(api):
    response = _signup(api)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["slug"] == "globex" and is_ulid(body["tenant_id"]) and body["status"] == "ACTIVE"  # inline runner
    assert body["login_url"] == "http://globex.localhost:8000/login/"
    status = api.get(body["status_url"]).json()
    assert status["status"] == "ACTIVE" and status["message"] == "Your organisation is ready."
    assert [s["status"] for s in status["steps"]] == [
        "SUCCEEDED",
        "PENDING",
        "SUCCEEDED",
        "SUCCEEDED",
        "SUCCEEDED",
        "SUCCEEDED",
        "SUCCEEDED",
    ]


def test_registration_status_needs_the_token(api):
    tenant_id = _signup(api).json()["tenant_id"]
    assert api.get(f"/api/v1/registrations/{tenant_id}?token=wrong").status_code == 404
    assert api.get(f"/api/v1/registrations/{tenant_id}").status_code == 404
    assert api.get("/api/v1/registrations/globex?token=x").json()["code"] == "registration_not_found"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("slug", "ab", "invalid_slug"),
        ("slug", "Has Space", "invalid_slug"),
        ("slug", "-edge", "invalid_slug"),
        ("slug", "x" * 41, "validation_failed"),
        ("slug", "www", "reserved_slug"),
        ("slug", "admin", "reserved_slug"),
        ("admin_email", "not-an-email", "invalid_email"),
        ("tier", "gold", "validation_failed"),
        ("country", "GBR", "validation_failed"),
        ("country", "1A", "invalid_country"),
        ("name", "", "validation_failed"),
    ],
)
def test_bad_signups_get_400_with_a_clear_code(api, field, value, code):
    response = _signup(api, **{field: value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["message"]
    assert "details" in body


def test_a_taken_slug_or_name_is_409(api):
    _signup(api)
    taken_slug = _signup(api, name="Another Org")
    assert taken_slug.status_code == 409 and taken_slug.json()["code"] == "already_exists"
    taken_name = _signup(api, slug="globex-two", name="  GLOBEX   learning ", admin_email="x@globex2.example")
    assert taken_name.status_code == 409
    assert taken_name.json()["details"]["constraint"] == "name"


def test_concurrent_signups_with_one_slug_give_one_tenant_and_409s():
    statuses: list[int] = []
    barrier = threading.Barrier(5)

    def attempt(n: int) -> None:
        client = APIClient(REMOTE_ADDR=f"198.51.100.{n + 20}")
        barrier.wait()
        response = client.post(
            "/api/v1/registrations",
            {**REGISTRATION, "name": f"Globex {n}", "admin_email": f"o{n}@globex.example"},
            format="json",
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [202, 409, 409, 409, 409]
    assert tenant_get(tenant_id=tid("globex")).status.value == "ACTIVE"


def test_signups_are_rate_limited_per_client_address(api, settings):
    settings.CLOUDKIDA_SIGNUP_RATE_PER_HOUR = 2
    assert _signup(api, slug="one-org", name="One").status_code == 202
    assert _signup(api, slug="two-org", name="Two", admin_email="b@b.example").status_code == 202
    refused = _signup(api, slug="three-org", name="Three", admin_email="c@c.example")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 3600
    other_address = APIClient(REMOTE_ADDR="203.0.113.99")
    assert _signup(other_address, slug="three-org", name="Three", admin_email="c@c.example").status_code == 202


def test_an_admin_email_that_signs_in_elsewhere_is_refused(api):
    _signup(api)
    response = _signup(api, slug="other-org", name="Other Org")
    assert response.status_code == 409 and response.json()["code"] == "email_in_use"


def test_learners_join_the_default_tenant_without_a_new_tenant(api, settings):
    from accounts.demo import seed_demo_tenants
    from tenants.selectors import tenant_list

    seed_demo_tenants()
    before = len(tenant_list(limit=100).items)
    response = api.post("/api/v1/learner-registrations", {"email": "solo@example.org", "name": "Solo"}, format="json")
    assert response.status_code == 201, response.json()
    learners = tid(settings.CLOUDKIDA_DEFAULT_TENANT)
    assert response.json()["tenant_id"] == learners
    assert len(tenant_list(limit=100).items) == before
    again = api.post("/api/v1/learner-registrations", {"email": "SOLO@example.org", "name": "Solo"}, format="json")
    assert again.status_code == 409
    pool = provisioning.platform()["pooled_user_pool_id"]
    members = aws.client("cognito-idp").list_users_in_group(UserPoolId=pool, GroupName=learners)["Users"]
    assert "solo@example.org" in {a["Value"] for m in members for a in m["Attributes"] if a["Name"] == "email"}


def test_tenant_config_is_public_and_holds_nothing_secret(api):
    _signup(api, tier="platinum")
    body = api.get("/api/v1/tenant-config/globex").json()
    assert set(body) == {
        "tenant_id",
        "slug",
        "display_name",
        "branding",
        "issuer",
        "client_id",
        "authorization_endpoint",
    }
    assert body["display_name"] == "Globex Learning" and body["tenant_id"] == tid("globex")
    assert body["authorization_endpoint"].startswith(f"https://cloudkida-test-{tid('globex')}.auth.")
    assert api.get("/api/v1/tenant-config/nobody").status_code == 404
    assert api.get("/api/v1/tenant-config/BAD!").status_code == 404


# --- system admins --------------------------------------------------------------------------------------


def test_tenant_management_needs_a_system_admin(api):
    _signup(api)
    anonymous = api.get("/api/v1/tenants")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    api.force_authenticate(Principal(tenant_id=tid("globex"), role=Role.TENANT_ADMIN, subject="x"))
    for method, path in [
        ("get", "/api/v1/tenants"),
        ("get", f"/api/v1/tenants/{tid('globex')}"),
        ("patch", f"/api/v1/tenants/{tid('globex')}"),
        ("post", f"/api/v1/tenants/{tid('globex')}/deactivate"),
        ("post", f"/api/v1/tenants/{tid('globex')}/activate"),
        ("post", f"/api/v1/tenants/{tid('globex')}/retry"),
    ]:
        response = getattr(api, method)(path, {}, format="json")
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "permission_denied"


def test_tenant_list_pages_and_filters(api, staff_api):
    for n, tier in enumerate(["basic", "premium", "basic", "standard", "basic"]):
        _signup(api, slug=f"org-{n}", name=f"Org {n}", tier=tier, admin_email=f"a{n}@org.example")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = staff_api.get("/api/v1/tenants", params).json()
        seen += [t["slug"] for t in body["results"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"org-{n}" for n in range(5)]
    basic = staff_api.get("/api/v1/tenants", {"tier": "basic", "status": "ACTIVE"}).json()["results"]
    assert [t["slug"] for t in basic] == ["org-0", "org-2", "org-4"]
    assert staff_api.get("/api/v1/tenants", {"status": "FAILED"}).json()["results"] == []
    assert staff_api.get("/api/v1/tenants", {"tier": "gold"}).status_code == 400
    first = staff_api.get("/api/v1/tenants", {"limit": 1}).json()["next_cursor"]
    foreign = staff_api.get("/api/v1/tenants", {"status": "ACTIVE", "cursor": first})
    assert foreign.status_code == 400 and foreign.json()["code"] == "invalid_cursor"
    # A cursor is bound to every filter of its query: changing the tier under it is refused too.
    basic_cursor = staff_api.get("/api/v1/tenants", {"tier": "basic", "limit": 1}).json()["next_cursor"]
    assert basic_cursor
    switched = staff_api.get("/api/v1/tenants", {"tier": "premium", "limit": 1, "cursor": basic_cursor})
    assert switched.status_code == 400 and switched.json()["code"] == "invalid_cursor"
    kept = staff_api.get("/api/v1/tenants", {"tier": "basic", "limit": 1, "cursor": basic_cursor})
    assert kept.status_code == 200


def test_patch_needs_the_current_version(api, staff_api):
    _signup(api)
    tenant = staff_api.get(f"/api/v1/tenants/{tid('globex')}").json()
    ok = staff_api.patch(
        f"/api/v1/tenants/{tid('globex')}", {"version": tenant["version"], "name": "Globex Academy"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["name"] == "Globex Academy"
    stale = staff_api.patch(
        f"/api/v1/tenants/{tid('globex')}", {"version": tenant["version"], "name": "Lost Update"}, format="json"
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    assert tenant_get(tenant_id=tid("globex")).name == "Globex Academy"
    assert staff_api.get("/api/v1/tenants/nobody").status_code == 404


def test_deactivate_refuses_service_and_activate_restores_it(api, staff_api):
    _signup(api)
    tenant = tenant_get(tenant_id=tid("globex"))
    pool = tenant.identity["user_pool_id"]
    response = staff_api.post(f"/api/v1/tenants/{tid('globex')}/deactivate", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "DEACTIVATED"
    cognito_user = aws.client("cognito-idp").admin_get_user(UserPoolId=pool, Username="owner@globex.example")
    assert cognito_user["Enabled"] is False
    assert aws.client("apigateway").get_api_key(apiKey=tenant.api_key_id)["enabled"] is False
    from accounts.selectors import user_list

    # Records keep their own status (resuming restores exactly the active people); the tenant refuses them.
    assert {u.status.value for u in user_list(tenant_id=tid("globex")).items} == {"ACTIVE"}
    again = staff_api.post(f"/api/v1/tenants/{tid('globex')}/deactivate", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"

    assert staff_api.post(f"/api/v1/tenants/{tid('globex')}/activate", {}, format="json").json()["status"] == "ACTIVE"
    assert aws.client("cognito-idp").admin_get_user(UserPoolId=pool, Username="owner@globex.example")["Enabled"]
    assert aws.client("apigateway").get_api_key(apiKey=tenant.api_key_id)["enabled"] is True
    actions = [e.action for e in repository.events(tid("globex")).items]
    assert actions[:2] == ["tenant.activated", "tenant.deactivated"]


def test_changing_tier_moves_the_api_key_between_usage_plans(api, staff_api):
    _signup(api)
    tenant = tenant_get(tenant_id=tid("globex"))
    response = staff_api.patch(
        f"/api/v1/tenants/{tid('globex')}", {"version": tenant.version, "tier": "premium"}, format="json"
    )
    assert response.status_code == 200 and response.json()["tier"] == "premium"
    apigateway = aws.client("apigateway")

    def bound(tier):
        plan = provisioning.usage_plan_id(tier)
        return tenant.api_key_id in {k["id"] for k in apigateway.get_usage_plan_keys(usagePlanId=plan)["items"]}

    assert bound("premium") and not bound("basic")


def test_moving_to_platinum_is_refused_with_a_reason(api, staff_api):
    _signup(api)
    tenant = tenant_get(tenant_id=tid("globex"))
    response = staff_api.patch(
        f"/api/v1/tenants/{tid('globex')}", {"version": tenant.version, "tier": "platinum"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "isolation_change_refused"
    assert tenant_get(tenant_id=tid("globex")).tier.value == "basic"


def test_retry_through_the_api_resumes_a_failed_onboarding(api, staff_api, fail_aws):
    fail_aws("cognito-idp", "AdminCreateUser", times=1)
    assert _signup(api).json()["status"] == "FAILED"
    status = staff_api.get(f"/api/v1/tenants/{tid('globex')}").json()
    assert status["failed_step"] == "admin_user" and "injected failure" in status["failure_reason"]
    assert staff_api.post(f"/api/v1/tenants/{tid('globex')}/retry", {}, format="json").json()["status"] == "ACTIVE"


def test_customer_support_may_read_but_not_change_tenants(api):
    _signup(api)
    support = APIClient()
    support.force_authenticate(Principal(tenant_id="", role=Role.CUSTOMER_SUPPORT, subject="cs"))
    assert support.get("/api/v1/tenants").status_code == 200
    assert support.get(f"/api/v1/tenants/{tid('globex')}").status_code == 200
    for path in [f"/api/v1/tenants/{tid('globex')}/deactivate", f"/api/v1/tenants/{tid('globex')}/retry"]:
        assert support.post(path, {}, format="json").status_code == 403
    assert (
        support.patch(f"/api/v1/tenants/{tid('globex')}", {"version": 1, "name": "X"}, format="json").status_code == 403
    )
