"""Pooled tenants spread over pooled user-pool shards: a full shard (Cognito: 1,000 app clients) opens the next."""

from __future__ import annotations

import pytest

from accounts.tokens import verify_token
from cloudkida import aws
from cloudkida.errors import NotFound
from tenants import provisioning
from tenants.domain import TenantStatus
from tenants.selectors import tenant_get
from tenants.services import tenant_offboard, tenant_register
from tests.fixtures_platform import REGISTRATION
from tests.identity.conftest import login

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


def _sign_up(slug: str):
    return tenant_register(
        **{**REGISTRATION, "slug": slug, "name": f"Org {slug}", "admin_email": f"admin@{slug}.example"},
        client_address=slug,
    )[0]


def _clients(shard: int) -> int:
    return int(provisioning._control().get(provisioning.SHARD_PK, provisioning._shard_sk(shard))["clients"])


def test_a_full_shard_opens_the_next_and_tenants_sign_in_on_their_own_shard(settings):
    settings.CLOUDKIDA_POOL_CLIENTS_PER_SHARD = 2
    first, second, third = (_sign_up(s) for s in ("one", "two", "three"))
    assert all(t.status is TenantStatus.ACTIVE for t in (first, second, third))
    shard0 = provisioning.platform()["pooled_user_pool_id"]
    assert first.identity["user_pool_id"] == second.identity["user_pool_id"] == shard0
    shard1 = third.identity["user_pool_id"]
    pools = {p["Name"]: p["Id"] for p in aws.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]}
    assert shard1 != shard0 and pools["cloudkida-test-pooled-1"] == shard1
    assert third.identity["shard"] == 1 and third.identity["hosted_ui_domain"] == "cloudkida-test-pooled-1"
    assert (_clients(0), _clients(1)) == (2, 1)
    # The tenant's token is issued by its shard and verified against it.
    principal = verify_token(login("three", "admin@three.example"))
    assert principal.tenant_id == third.tenant_id
    assert provisioning.current_pooled_pool_id() == shard1


def test_offboarding_gives_the_slot_back_once(settings):
    settings.CLOUDKIDA_POOL_CLIENTS_PER_SHARD = 5
    tenant = _sign_up("one")
    _sign_up("two")
    assert _clients(0) == 2
    tenant_offboard(tenant_id=tenant.tenant_id, confirm_slug="one", actor="test")
    assert _clients(0) == 1
    with pytest.raises(NotFound):
        tenant_get(tenant_id=tenant.tenant_id)
    # Its app client is gone, so removing the identity again (an offboarding re-run) gives nothing back.
    assert not provisioning.remove_app_client(tenant.identity["user_pool_id"], tenant.identity["client_id"])


def test_an_email_that_signs_in_on_the_current_shard_is_refused_at_sign_up(settings, client):
    settings.CLOUDKIDA_POOL_CLIENTS_PER_SHARD = 1
    _sign_up("one")
    _sign_up("two")  # opens shard 1, where admin@two.example now signs in
    refused = client.post(
        "/api/v1/registrations",
        {**REGISTRATION, "slug": "three", "name": "Org three", "admin_email": "admin@two.example"},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.3",
    )
    assert refused.status_code == 409 and refused.json()["code"] == "email_in_use"
