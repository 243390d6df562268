"""Tenant management in the Django admin site (system admins)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cloudkida.errors import NotFound
from tenants.selectors import tenant_get
from tenants.services import tenant_register
from tests.conftest import tid
from tests.fixtures_platform import REGISTRATION

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@cloudkida.example", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def tenants():
    for n, tier in enumerate(["basic", "premium", "basic"]):
        tenant_register(
            **{
                **REGISTRATION,
                "slug": f"org-{n}",
                "name": f"Org Number {n}",
                "tier": tier,
                "admin_email": f"a{n}@org.example",
            },
            client_address="x",
        )


def test_admin_index_lists_tenants(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200 and b"/admin/tenants/tenant/" in response.content


def test_list_filters_and_search(admin_client, tenants):
    everything = admin_client.get("/admin/tenants/tenant/")
    assert [t.slug for t in everything.context["tenants"]] == ["org-0", "org-1", "org-2"]
    premium = admin_client.get("/admin/tenants/tenant/", {"tier": "premium"})
    assert [t.slug for t in premium.context["tenants"]] == ["org-1"]
    assert admin_client.get("/admin/tenants/tenant/", {"status": "FAILED"}).context["tenants"] == []
    by_name = admin_client.get("/admin/tenants/tenant/", {"q": "number 2"})
    assert [t.slug for t in by_name.context["tenants"]] == ["org-2"]
    by_slug = admin_client.get("/admin/tenants/tenant/", {"q": "org-1"})
    assert [t.slug for t in by_slug.context["tenants"]] == ["org-1"]
    by_id = admin_client.get("/admin/tenants/tenant/", {"q": tid("org-1")})
    assert [t.slug for t in by_id.context["tenants"]] == ["org-1"]
    bad = admin_client.get("/admin/tenants/tenant/", {"status": "NOPE"})
    assert bad.status_code == 200 and bad.context["tenants"] == []


def test_detail_shows_history_and_audit_trail(admin_client, tenants):
    response = admin_client.get(f"/admin/tenants/tenant/{tid('org-0')}/")
    assert response.status_code == 200
    assert [s.name for s in response.context["steps"]] == [  # in the order onboarding runs them
        "record",
        "identity",
        "admin_user",
        "api_key",
        "welcome_email",
        "activate",
    ]
    assert b"tenant.registered" in response.content
    assert b"<strong>tier</strong>: basic" in response.content  # audit details read as label: value
    html = response.content.decode()
    assert "People (1 active, 1 admin)" in html and "a0@org.example" in html
    assert "API keys (0 active)" in html
    assert admin_client.get("/admin/tenants/tenant/nobody/").status_code == 404


def test_the_list_counts_tenants_by_status_and_tier(admin_client, tenants):
    html = admin_client.get("/admin/tenants/tenant/").content.decode()
    assert "Active: 3" in html and "Basic: 2" in html and "Premium: 1" in html
    admin_client.post(f"/admin/tenants/tenant/{tid('org-0')}/deactivate/")
    html = admin_client.get("/admin/tenants/tenant/").content.decode()
    assert "Active: 2" in html and "Deactivated: 1" in html


def test_deactivating_and_offboarding_ask_for_confirmation_first(admin_client, tenants):
    org_0 = tid("org-0")
    confirm = admin_client.get(f"/admin/tenants/tenant/{org_0}/deactivate/")
    assert confirm.status_code == 200 and b"signed out and refused" in confirm.content
    assert tenant_get(tenant_id=org_0).status.value == "ACTIVE"  # asking changed nothing
    danger = admin_client.get(f"/admin/tenants/tenant/{org_0}/offboard/")
    assert danger.status_code == 200 and b"cannot be undone" in danger.content and b'name="confirm"' in danger.content
    assert b"deletelink" in danger.content
    assert tenant_get(tenant_id=org_0)


def test_actions_deactivate_activate_change_tier_and_offboard(admin_client, tenants):
    admin_client.post(f"/admin/tenants/tenant/{tid('org-0')}/deactivate/")
    assert tenant_get(tenant_id=tid("org-0")).status.value == "DEACTIVATED"
    admin_client.post(f"/admin/tenants/tenant/{tid('org-0')}/activate/")
    assert tenant_get(tenant_id=tid("org-0")).status.value == "ACTIVE"
    admin_client.post(f"/admin/tenants/tenant/{tid('org-0')}/tier/", {"tier": "standard"})
    assert tenant_get(tenant_id=tid("org-0")).tier.value == "standard"
    refused = admin_client.post(f"/admin/tenants/tenant/{tid('org-0')}/tier/", {"tier": "platinum"}, follow=True)
    assert "does not migrate" in refused.content.decode()
    org_0 = tid("org-0")
    wrong = admin_client.post(f"/admin/tenants/tenant/{org_0}/offboard/", {"confirm": "org"}, follow=True)
    assert "Type the tenant" in wrong.content.decode()
    assert tenant_get(tenant_id=org_0)
    done = admin_client.post(f"/admin/tenants/tenant/{org_0}/offboard/", {"confirm": "org-0"}, follow=True)
    assert "was offboarded" in done.content.decode()
    with pytest.raises(NotFound):
        tenant_get(tenant_id=org_0)


def test_retry_action_resumes_a_failed_onboarding(admin_client, fail_aws):
    fail_aws("cognito-idp", "CreateGroup")
    tenant_register(**REGISTRATION, client_address="x")
    assert b"identity" in admin_client.get(f"/admin/tenants/tenant/{tid('globex')}/").content
    admin_client.post(f"/admin/tenants/tenant/{tid('globex')}/retry/")
    assert tenant_get(tenant_id=tid("globex")).status.value == "ACTIVE"


def test_non_staff_cannot_reach_tenant_pages(client, tenants):
    user = get_user_model().objects.create_user("plain", "p@example.org", "pw")
    client.force_login(user)
    response = client.get("/admin/tenants/tenant/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.post(f"/admin/tenants/tenant/{tid('org-0')}/deactivate/").status_code == 302
    assert tenant_get(tenant_id=tid("org-0")).status.value == "ACTIVE"
