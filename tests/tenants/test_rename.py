"""A tenant's subdomain is an alias of its immutable id: renaming keeps everything, the old host redirects
for a grace period, then the old slug is free for anyone, who inherits nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from cloudkida import aws, clock
from tenants.selectors import tenant_cache_clear, tenant_get, tenant_get_by_slug
from tests.conftest import tid
from tests.fixtures_platform import REGISTRATION
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


def _rename(client, slug: str):
    version = client.get("/api/v1/tenant").json()["version"]
    return client.patch("/api/v1/tenant", {"version": version, "slug": slug}, format="json")


def test_a_tenant_admin_moves_the_organisation_to_a_new_subdomain(settings):
    register("acme")
    acme_id = tid("acme")
    admin = bearer(login("acme", "admin@acme.example"))
    renamed = _rename(admin, "acme-labs")
    assert renamed.status_code == 200, renamed.json()
    assert renamed.json()["slug"] == "acme-labs" and renamed.json()["tenant_id"] == acme_id
    assert renamed.json()["portal_url"] == "http://acme-labs.localhost:8000/"
    # Same tenant, same records, same sign-ins: the id did not change.
    assert admin.get("/api/v1/users").status_code == 200
    assert tid("acme-labs") == acme_id
    # The old host redirects to the new one, path and query kept.
    old = APIClient(HTTP_HOST="acme.localhost").get("/login/?next=/x")
    assert old.status_code == 301 and old["Location"] == "http://acme-labs.localhost:8000/login/?next=/x"
    assert APIClient(HTTP_HOST="acme-labs.localhost").get("/").status_code == 200
    # The app client now sends the browser back to the new host.
    tenant = tenant_get(tenant_id=acme_id)
    client = aws.client("cognito-idp").describe_user_pool_client(
        UserPoolId=tenant.identity["user_pool_id"], ClientId=tenant.identity["client_id"]
    )["UserPoolClient"]
    assert client["CallbackURLs"] == ["http://acme-labs.localhost:8000/oidc/callback/"]
    # During the grace period nobody else may take the old slug.
    taken = APIClient(REMOTE_ADDR="198.51.100.50").post(
        "/api/v1/registrations", {**REGISTRATION, "slug": "acme"}, format="json"
    )
    assert taken.status_code == 409 and taken.json()["details"]["constraint"] == "slug"

    after = datetime.now(UTC) + timedelta(seconds=settings.CLOUDKIDA_SLUG_GRACE_SECONDS + 60)
    with clock.frozen(after):
        tenant_cache_clear()
        assert APIClient(HTTP_HOST="acme.localhost").get("/").status_code == 404  # free now
        newcomer = APIClient(REMOTE_ADDR="198.51.100.51").post(
            "/api/v1/registrations", {**REGISTRATION, "slug": "acme"}, format="json"
        )
        assert newcomer.status_code == 202, newcomer.json()
        assert newcomer.json()["tenant_id"] != acme_id
        assert tenant_get_by_slug(slug="acme").name == REGISTRATION["name"]
        assert tenant_get_by_slug(slug="acme-labs").tenant_id == acme_id


def test_renaming_to_a_taken_reserved_or_malformed_slug_is_refused():
    register("acme")
    register("globex")
    admin = bearer(login("acme", "admin@acme.example"))
    assert _rename(admin, "globex").json()["code"] == "already_exists"
    assert _rename(admin, "admin").json()["code"] == "reserved_slug"
    assert _rename(admin, "Not A Slug").json()["code"] == "invalid_slug"
    assert tenant_get(tenant_id=tid("acme")).slug == "acme"


def test_only_the_tenant_admin_renames_and_a_stale_version_is_409():
    register("acme")
    admin = bearer(login("acme", "admin@acme.example"))
    admin.post("/api/v1/users", {"email": "dev@acme.example", "name": "Dev"}, format="json")
    dev = bearer(login("acme", "dev@acme.example"))
    assert dev.patch("/api/v1/tenant", {"version": 1, "slug": "mine"}, format="json").status_code == 403
    stale = admin.patch("/api/v1/tenant", {"version": 1, "slug": "acme-two"}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
