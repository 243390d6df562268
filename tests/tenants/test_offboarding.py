"""Offboarding exports the tenant's data, then leaves nothing of it in any emulated service; a freed slug
taken by a new organisation inherits nothing of the old one."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image
from rest_framework.test import APIClient

from accounts import imports
from accounts.api_keys import api_key_create
from accounts.integrations import sso, webhooks
from accounts.services import group_add_member, group_create, policy_set, user_create
from cloudkida import assets, aws, clock, email
from cloudkida.dynamo import Table, maintenance, registry, tables
from cloudkida.errors import Conflict, NotFound, ValidationFailed
from labs.lti import platforms as lti_platforms
from tenants import provisioning, repository
from tenants.selectors import tenant_get, tenant_list
from tenants.services import domain_add, tenant_branding_asset_upload, tenant_offboard, tenant_register
from tests.billing.conftest import one_of_every_billing_kind
from tests.conftest import tid
from tests.fixtures_platform import REGISTRATION
from tests.labs.conftest import one_of_every_labs_kind

pytestmark = pytest.mark.usefixtures("platform")


def _everything_of(tenant_id: str) -> dict[str, list]:
    """Every trace of the tenant we can list in the emulated services, including a maintenance scan of
    the platform tables for any item that mentions its id."""
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
    with maintenance("test: look for any trace of an offboarded tenant"):
        for spec in tables.platform_tables():
            found[spec.name] = [
                (i["PK"], i["SK"])
                for i in Table(spec.name).scan_for_maintenance()
                if tenant_id in json.dumps(i, default=str) and not i["PK"].startswith("PLATFORM#AUDIT")
            ]
    found["assets"] = [
        o["Key"]
        for o in aws.client("s3")
        .list_objects_v2(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Prefix=assets.tenant_prefix(tenant_id))
        .get("Contents", [])
    ]
    return {k: v for k, v in found.items() if v}


def _kinds_of(tenant_id: str) -> set[str]:
    """The registered kinds of every item the tenant owns, found from its id by Query."""
    kinds = set()
    tenant = tenant_get(tenant_id=tenant_id)
    for name in (tables.control_table().name, tenant.data_table or tables.pooled_table().name):
        for item in repository.owned_items(Table(name), tenant_id):
            kind = registry.kind_of(tables.table_kind(name), item["PK"], item["SK"])
            kinds.add(kind.name if kind else f"unregistered {item['PK']} {item['SK']}")
    return kinds


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "PNG")
    return out.getvalue()


def _one_of_every_kind(slug: str = "globex") -> str:
    """A tenant holding at least one item of every registered tenant-owned kind; returns its id."""
    tenant_id = tid(slug)
    learner = user_create(tenant_id=tenant_id, email="learner@globex.example", name="A Learner")
    group = group_create(tenant_id=tenant_id, name="Cohort")
    group_add_member(tenant_id=tenant_id, group_id=group.group_id, user_id=learner.user_id)
    policy_set(tenant_id=tenant_id, expected_version=0, max_concurrent_labs=2)
    policy_set(tenant_id=tenant_id, group_id=group.group_id, expected_version=0, max_concurrent_labs=2)
    one_of_every_labs_kind(tenant_id, learner.user_id)
    one_of_every_billing_kind(tenant_id, learner.user_id)
    _key, raw = api_key_create(tenant_id=tenant_id, name="ci", scope="read", created_by="test")
    repository.host_put(tenant_id, "learn.globex.example", verified=True)
    domain_add(tenant_id=tenant_id, domain="pending.globex.example", actor="test")  # a claim, not verified
    imports.user_import_start(tenant_id=tenant_id, data="email,name\nimported@globex.example,Imported\n")
    tenant_branding_asset_upload(tenant_id=tenant_id, asset="favicon", data=_png(), actor="test")
    # A webhook endpoint, and the delivery the import's user.invited event becomes once relayed.
    webhooks.endpoint_create(
        tenant_id=tenant_id,
        url="https://hooks.globex.example/cloudkida",
        event_types=["*"],
        contact_email="owner@globex.example",
        created_by="test",
    )
    assert webhooks.relay()["queued"] >= 1
    # The organisation's own identity provider (single sign-on), registered with its pool too.
    sso.provider_create(
        tenant_id=tenant_id,
        display_name="Globex SSO",
        issuer="http://localhost:9/globex",  # loopback: allowed outside production, nothing is fetched
        client_id="cloudkida",
        client_secret="s",
        created_by="test",
    )
    # A learning platform (LTI) and a learner's way back to it for grades.
    platform = lti_platforms.lti_platform_register(
        tenant_id=tenant_id,
        name="Moodle",
        issuer="https://moodle.globex.example",
        client_id="cloudkida",
        auth_login_url="https://moodle.globex.example/auth",
        auth_token_url="https://moodle.globex.example/token",
        key_set_url="https://moodle.globex.example/jwks",
        deployment_ids=["1"],
        actor="test",
    )
    lti_platforms.link_put(
        lti_platforms.LtiLink(tenant_id, learner.user_id, "lab-1", platform.issuer, platform.client_id, "sub-1", {})
    )
    lti_platforms.grade_retry_mark(
        tenant_id, learner.user_id, "lab-1", error="503", task_count=1, next_at=clock.now()
    )  # a score waiting to be sent again
    client = APIClient(HTTP_HOST="api.localhost", HTTP_X_API_KEY=raw)
    # An idempotent POST leaves a replayable answer in the tenant's partition (the key is read-only:
    # the refusal is not kept, so use an admin-scoped key for a stored 201).
    _admin_key, admin_raw = api_key_create(tenant_id=tenant_id, name="admin", scope="admin", created_by="test")
    stored = APIClient(HTTP_HOST="api.localhost", HTTP_X_API_KEY=admin_raw).post(
        "/api/v1/users",
        {"email": "idem@globex.example", "name": "Idem"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="offboarding-test",
    )
    assert stored.status_code == 201, stored.json()
    assert client.get("/api/v1/me").status_code == 200
    aws.client("s3").put_object(
        Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=assets.tenant_prefix(tenant_id) + "logo.png", Body=b"png"
    )
    # An email SES refused waits in the tenant's outbox.
    ses = aws.client("ses")
    domain = settings.CLOUDKIDA_SENDER_EMAIL.rsplit("@", 1)[1]
    ses.delete_identity(Identity=domain)
    assert not email.send(tenant_id=tenant_id, kind="test", to="x@globex.example", subject="s", body="b")
    ses.verify_domain_identity(Domain=domain)
    return tenant_id


@pytest.mark.django_db
@pytest.mark.parametrize("tier", ["basic", "platinum"])
def test_offboarding_exports_then_leaves_nothing(tier):
    tenant_register(**{**REGISTRATION, "tier": tier}, client_address="x")
    globex = _one_of_every_kind()
    tenant_register(
        **{**REGISTRATION, "slug": "neighbour", "name": "Neighbour", "admin_email": "n@n.example"}, client_address="y"
    )
    assert _everything_of(globex)

    key = tenant_offboard(tenant_id=globex, confirm_slug="globex", actor="test")

    assert _everything_of(globex) == {}
    with pytest.raises(NotFound):
        tenant_get(tenant_id=globex)
    assert [t.slug for t in tenant_list(limit=100).items] == ["neighbour"]
    assert tenant_get(tenant_id=tid("neighbour")).status.value == "ACTIVE"  # the neighbour is untouched
    export = json.loads(aws.client("s3").get_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=key)["Body"].read())
    assert export["tenant"]["tenant_id"] == globex and export["tenant"]["tier"] == tier
    assert {i["email"] for i in export["items"] if i.get("entity") == "user"} == {
        "owner@globex.example",
        "learner@globex.example",
        "idem@globex.example",
        "imported@globex.example",
    }
    assert "digest" not in json.dumps(export) and "status_token_hash" not in json.dumps(export)
    assert "tenant.registered" in {i.get("action") for i in export["control_items"]}
    # The platform audit trail outlives the tenant and says what went.
    record = repository.platform_events().items[0]
    assert record.action == "tenant.offboarded" and record.details["tenant_id"] == globex
    assert record.details["export"] == key and record.details["removed"]["items"]["api-key"] == 2
    assert record.details["removed"]["items"]["custom-domain"] == 1
    # The slug and name are free again, and the new organisation gets a new id.
    again, _token = tenant_register(**REGISTRATION, client_address="z")
    assert again.tenant_id != globex


@pytest.mark.django_db
def test_offboarding_removes_every_registered_kind_of_item():
    tenant_register(**REGISTRATION, client_address="x")
    globex = _one_of_every_kind()
    expected = {k.name for k in registry.tenant_kinds()}
    assert _kinds_of(globex) == expected, "create one item of each registered kind in _one_of_every_kind"
    tenant_offboard(tenant_id=globex, confirm_slug="globex", actor="test")
    for name in (tables.control_table().name, tables.pooled_table().name):
        assert repository.owned_items(Table(name), globex) == []


@pytest.mark.django_db
def test_a_freed_slug_taken_by_a_new_organisation_inherits_nothing():
    """Offboard globex, let someone else sign up as globex: the old key, domain and tokens reach nothing."""
    api = APIClient(REMOTE_ADDR="198.51.100.9")
    assert api.post("/api/v1/registrations", REGISTRATION, format="json").status_code == 202
    old = tid("globex")
    _key, old_raw = api_key_create(tenant_id=old, name="old integration", scope="admin", created_by="test")
    repository.host_put(old, "learn.globex.example", verified=True)
    assert APIClient(HTTP_HOST="learn.globex.example").get("/").status_code == 200
    assert APIClient(HTTP_X_API_KEY=old_raw).get("/api/v1/users").status_code == 200

    tenant_offboard(tenant_id=old, confirm_slug="globex", actor="test")
    newcomer = {**REGISTRATION, "name": "Globex Newcomers", "admin_email": "boss@newcomers.example"}
    assert api.post("/api/v1/registrations", newcomer, format="json").status_code == 202
    new = tid("globex")
    assert new != old

    refused = APIClient(HTTP_X_API_KEY=old_raw).get("/api/v1/users")
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"
    assert APIClient(HTTP_HOST="learn.globex.example").get("/").status_code == 400  # no longer served
    assert APIClient(HTTP_HOST="globex.localhost").get("/").status_code == 200  # the newcomer's portal
    _k, new_raw = api_key_create(tenant_id=new, name="new", scope="read", created_by="test")
    users = APIClient(HTTP_X_API_KEY=new_raw).get("/api/v1/users").json()["results"]
    assert [u["email"] for u in users] == ["boss@newcomers.example"]


def test_offboarding_needs_the_slug_typed_exactly():
    tenant_register(**REGISTRATION, client_address="x")
    with pytest.raises(ValidationFailed):
        tenant_offboard(tenant_id=tid("globex"), confirm_slug="Globex", actor="test")
    with pytest.raises(ValidationFailed):
        tenant_offboard(tenant_id=tid("globex"), confirm_slug=tid("globex"), actor="test")
    assert tenant_get(tenant_id=tid("globex")).status.value == "ACTIVE"


def test_the_shared_learners_tenant_cannot_be_offboarded():
    from accounts.demo import seed_demo_tenants

    seed_demo_tenants()
    with pytest.raises(Conflict):
        tenant_offboard(tenant_id=tid("learners"), confirm_slug="learners", actor="test")


@pytest.mark.parametrize("tier", ["basic", "platinum"])
def test_offboarding_that_stopped_half_way_can_be_run_again(fail_aws, tier):
    tenant_register(**{**REGISTRATION, "tier": tier}, client_address="x")
    globex = tid("globex")
    fail_aws("apigateway", "DeleteApiKey", times=1)
    with pytest.raises(Exception):  # noqa: B017 - any failure half-way
        tenant_offboard(tenant_id=globex, confirm_slug="globex", actor="test")
    assert tenant_get(tenant_id=globex).status.value == "OFFBOARDING"
    tenant_offboard(tenant_id=globex, confirm_slug="globex", actor="test")
    assert _everything_of(globex) == {}


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
    assert "initech" in out.getvalue() and "ACTIVE" in out.getvalue() and tid("initech") in out.getvalue()
    with pytest.raises(CommandError, match="confirmation_mismatch"):
        call_command("offboard_tenant", "initech", "--confirm", "nope")
    out = io.StringIO()
    call_command("offboard_tenant", "initech", "--confirm", "initech", stdout=out)
    assert "offboarded" in out.getvalue()
    hooli = ["create_tenant", "hooli", "--tier", "basic", "--admin-name", "X"]
    call_command(*hooli, "--name", "Hooli", "--admin-email", "x@hooli.example", stdout=io.StringIO())
    with pytest.raises(CommandError, match="already_exists"):
        call_command(*hooli, "--name", "Hooli Two", "--admin-email", "y@hooli.example", stdout=io.StringIO())
