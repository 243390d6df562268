"""The learner's lab page, the tenant admin's live view and the system admin's pool dashboard, rendered by
Django for people signed in for real through the tenant's hosted UI (and the demo seed `make run` uses)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.domain import Role
from accounts.selectors import user_get_by_email
from accounts.services import user_create, user_invite
from labs.demo import seed_labs
from labs.selectors import lab_catalog
from labs.services import pool_replenish
from tests.conftest import tid
from tests.labs.conftest import global_lab, offer, register
from tests.portal import set_password, signed_in

pytestmark = pytest.mark.django_db


def _figure(page: str, label: str) -> str:
    return page.split(f'<div class="label">{label}</div><div class="value">')[1].split("<")[0]


def _portal(slug: str, email: str) -> Client:
    """Signed in for real: the user's own password through the tenant's hosted UI (tests/portal.py)."""
    set_password(slug, email)
    return signed_in(slug, email)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pool", "hosted_ui")
def test_a_learner_starts_a_lab_from_its_page_and_sees_status_time_and_access(federation):
    acme = register("acme")
    lee = user_invite(tenant_id=acme, email="lee@learner.example", name="Lee Learner").user_id
    lab = global_lab()
    offer(acme, lab, lee)
    client = _portal("acme", "lee@learner.example")
    mine = client.get("/labs/")
    assert mine.status_code == 200 and lab.title in mine.content.decode()
    page = client.get(f"/labs/{lab.lab_id}/").content.decode()
    assert "Start lab" in page and "<h1>Do it</h1>" in page and "Check my work" not in page
    assert client.post(f"/labs/{lab.lab_id}/start/").status_code == 302
    page = client.get(f"/labs/{lab.lab_id}/").content.decode()
    assert "READY" in page and "Time left" in page and "Check my work" in page and "Start lab" not in page
    session_id = page.split("/labs/sessions/")[1].split("/")[0]
    access = client.post(f"/labs/sessions/{session_id}/access/")
    assert access.status_code == 200 and "AWS_SESSION_TOKEN" in access.content.decode()
    assert "signin.aws.amazon.com/federation?Action=login" in access.content.decode()
    checked = client.post(f"/labs/sessions/{session_id}/check-queue/", follow=True).content.decode()
    assert "Not yet: No SQS queue found yet." in checked
    assert client.get("/labs/live/").status_code == 404  # learners have no live view
    admin = _portal("acme", "admin@acme.example")
    live = admin.get("/labs/live/").content.decode()
    assert lab.title in live and "READY" in live
    home = admin.get("/").content.decode()  # the dashboard's figures come from labs and billing
    assert "Running labs" in home and _figure(home, "Running labs") == "1" and "lab minutes" in home
    register("globex")  # another tenant's dashboard counts none of acme's sessions
    assert _figure(_portal("globex", "admin@globex.example").get("/").content.decode(), "Running labs") == "0"
    assert admin.post(f"/labs/sessions/{session_id}/end/", {"next": "live"}).status_code == 302
    assert "No labs are running." in admin.get("/labs/live/").content.decode()
    assert _figure(admin.get("/").content.decode(), "Running labs") == "0"
    anonymous = Client(HTTP_HOST="acme.localhost").get("/labs/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


@pytest.mark.usefixtures("pool")
def test_the_pool_dashboard_shows_accounts_by_state_and_leases():
    get_user_model().objects.create_superuser("ops", "ops@cloudkida.example", "pw-1234567890")
    pool_replenish()  # writes the snapshot the dashboard reads
    client = Client(HTTP_HOST="admin.localhost")
    client.login(username="ops", password="pw-1234567890")
    page = client.get("/admin/labs/pool/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Accounts by state per shard" in html and "<svg" in html and ">3</a>" in html
    accounts = client.get("/admin/labs/accounts/?state=AVAILABLE&shard=main&region=us-east-1")
    assert accounts.status_code == 200 and accounts.content.decode().count("Retry cleanup") == 3
    assert client.get("/admin/labs/global/").status_code == 200


@pytest.mark.usefixtures("deployed_platform")
def test_make_runs_seed_gives_learners_the_public_labs_and_is_idempotent():
    from accounts.demo import seed_demo_tenants

    seed_demo_tenants()
    lines = seed_labs(accounts=2)
    assert any("2 accounts available" in line for line in lines)
    again = seed_labs(accounts=2)
    assert not any(line.startswith("created lab") for line in again)
    learners = tid("learners")
    lee = user_get_by_email(tenant_id=learners, email="learner@example.com")
    entries = lab_catalog(tenant_id=learners, user_id=lee.user_id, role=Role.TENANT_USER)
    assert {e.lab.slug for e in entries if e.can_start} == {"s3-versioning", "dynamodb-first-table"}
    dev = user_get_by_email(tenant_id=tid("acme"), email="dev@acme.example")
    assert (
        len([e for e in lab_catalog(tenant_id=tid("acme"), user_id=dev.user_id, role=Role.TENANT_USER) if e.can_start])
        == 2
    )
    stranger = user_create(tenant_id=tid("acme"), email="new@acme.example", name="New")
    assert lab_catalog(tenant_id=tid("acme"), user_id=stranger.user_id, role=Role.TENANT_USER) == []
