"""Offboarding exports the tenant's data, then leaves nothing of it in any emulated service."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.services import user_create
from cloudkida import aws
from cloudkida.dynamo import QueryScope, Table, tables, tenant_pk
from cloudkida.errors import Conflict, NotFound, ValidationFailed
from tenants import provisioning
from tenants.selectors import tenant_get, tenant_list
from tenants.services import tenant_offboard, tenant_register
from tests.fixtures_platform import REGISTRATION

pytestmark = pytest.mark.usefixtures("platform")


def _everything_of(tenant_id: str) -> dict[str, list]:
    """Every trace of the tenant we can list in the emulated services."""
    cognito, apigateway, dynamodb = aws.client("cognito-idp"), aws.client("apigateway"), aws.client("dynamodb")
    pooled = provisioning.platform()["pooled_user_pool_id"]
    found: dict[str, list] = {}
    found["pools"] = [p["Name"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if tenant_id in p["Name"]]
    found["groups"] = [
        g["GroupName"] for g in cognito.list_groups(UserPoolId=pooled)["Groups"] if g["GroupName"] == tenant_id
    ]
    found["clients"] = [
        c["ClientName"]
        for c in cognito.list_user_pool_clients(UserPoolId=pooled, MaxResults=60)["UserPoolClients"]
        if c["ClientName"] == f"tenant-{tenant_id}"
    ]
    found["users"] = [
        u["Username"]
        for u in cognito.list_users(UserPoolId=pooled)["Users"]
        if any(a["Value"] == tenant_id for a in u["Attributes"] if a["Name"] == "custom:tenantId")
    ]
    found["api_keys"] = [k["name"] for k in apigateway.get_api_keys()["items"] if tenant_id in k["name"]]
    found["plan_keys"] = [
        k["name"]
        for plan in provisioning.platform()["usage_plans"].values()
        for k in apigateway.get_usage_plan_keys(usagePlanId=plan)["items"]
        if tenant_id in k["name"]
    ]
    found["tables"] = [t for t in dynamodb.list_tables()["TableNames"] if t.endswith(f"-tenant-{tenant_id}")]
    for spec in tables.platform_tables():
        table = Table(spec.name)
        found[spec.name] = list(table.query_all(QueryScope(tenant_id, spec.name, "", tenant_pk(tenant_id), "")))
    control = Table(tables.control_table().name)
    found["name_marker"] = [m for m in [control.get("UNIQ#NAME#globex learning", "UNIQ")] if m]
    return {k: v for k, v in found.items() if v}


@pytest.mark.parametrize("tier", ["basic", "platinum"])
def test_offboarding_exports_then_leaves_nothing(tier):
    tenant_register(**{**REGISTRATION, "tier": tier}, client_address="x")
    user_create(tenant_id="globex", email="learner@globex.example", name="A Learner")
    tenant_register(
        **{**REGISTRATION, "slug": "neighbour", "name": "Neighbour", "admin_email": "n@n.example"}, client_address="y"
    )
    assert _everything_of("globex")

    key = tenant_offboard(tenant_id="globex", confirm_slug="globex", actor="test")

    assert _everything_of("globex") == {}
    with pytest.raises(NotFound):
        tenant_get(tenant_id="globex")
    assert [t.tenant_id for t in tenant_list(limit=100).items] == ["neighbour"]
    assert tenant_get(tenant_id="neighbour").status.value == "ACTIVE"  # the neighbour is untouched
    export = json.loads(aws.client("s3").get_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=key)["Body"].read())
    assert export["tenant"]["tenant_id"] == "globex" and export["tenant"]["tier"] == tier
    assert {i["email"] for i in export["items"] if i.get("entity") == "user"} == {
        "owner@globex.example",
        "learner@globex.example",
    }
    assert "tenant.registered" in {e["action"] for e in export["audit_events"]}
    # The slug and name are free again.
    tenant_register(**REGISTRATION, client_address="z")


def test_offboarding_needs_the_slug_typed_exactly():
    tenant_register(**REGISTRATION, client_address="x")
    with pytest.raises(ValidationFailed):
        tenant_offboard(tenant_id="globex", confirm_slug="Globex", actor="test")
    assert tenant_get(tenant_id="globex").status.value == "ACTIVE"


def test_the_shared_learners_tenant_cannot_be_offboarded():
    from tenants.demo import seed_demo_tenants

    seed_demo_tenants()
    with pytest.raises(Conflict):
        tenant_offboard(tenant_id="learners", confirm_slug="learners", actor="test")


def test_offboarding_that_stopped_half_way_can_be_run_again(fail_aws):
    tenant_register(**REGISTRATION, client_address="x")
    fail_aws("apigateway", "DeleteApiKey", times=1)
    with pytest.raises(Exception):  # noqa: B017 - any failure half-way
        tenant_offboard(tenant_id="globex", confirm_slug="globex", actor="test")
    assert tenant_get(tenant_id="globex").status.value == "OFFBOARDING"
    tenant_offboard(tenant_id="globex", confirm_slug="globex", actor="test")
    assert _everything_of("globex") == {}


@pytest.mark.django_db
def test_operator_commands_create_list_and_offboard():
    out = io.StringIO()
    call_command(
        "create_tenant",
        "initech",
        "--name",
        "Initech",
        "--tier",
        "standard",
        "--admin-email",
        "bill@initech.example",
        "--admin-name",
        "Bill",
        stdout=out,
    )
    assert "initech is ACTIVE" in out.getvalue()
    out = io.StringIO()
    call_command("list_tenants", "--tier", "standard", stdout=out)
    assert "initech" in out.getvalue() and "ACTIVE" in out.getvalue()
    with pytest.raises(CommandError, match="confirmation_mismatch"):
        call_command("offboard_tenant", "initech", "--confirm", "nope")
    out = io.StringIO()
    call_command("offboard_tenant", "initech", "--confirm", "initech", stdout=out)
    assert "offboarded" in out.getvalue()
    hooli = ["create_tenant", "hooli", "--tier", "basic", "--admin-name", "X"]
    call_command(*hooli, "--name", "Hooli", "--admin-email", "x@hooli.example", stdout=io.StringIO())
    with pytest.raises(CommandError, match="already_exists"):
        call_command(*hooli, "--name", "Hooli Two", "--admin-email", "y@hooli.example", stdout=io.StringIO())
