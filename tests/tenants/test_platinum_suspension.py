"""Suspending a Platinum tenant disables every sign-in in its own pool; resuming restores them."""

from __future__ import annotations

import pytest

from cloudkida import aws
from tenants.services import tenant_activate, tenant_deactivate, tenant_register
from tests.fixtures_platform import REGISTRATION

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


def _enabled(pool_id: str) -> dict[str, bool]:
    users = aws.client("cognito-idp").list_users(UserPoolId=pool_id)["Users"]
    return {u["Username"]: u["Enabled"] for u in users}


def test_suspending_a_platinum_tenant_disables_its_own_pool_and_resuming_restores_it():
    tenant, _ = tenant_register(**{**REGISTRATION, "tier": "platinum"}, client_address="x")
    pool = tenant.identity["user_pool_id"]
    assert list(_enabled(pool).values()) == [True]
    tenant_deactivate(tenant_id=tenant.tenant_id, actor="test")
    assert list(_enabled(pool).values()) == [False]
    tenant_activate(tenant_id=tenant.tenant_id, actor="test")
    assert list(_enabled(pool).values()) == [True]
