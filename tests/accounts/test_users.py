"""The people of an organisation through the API: search and filters, seats, delete, resend invitation,
CSV export."""

from __future__ import annotations

import csv
import io

import pytest

from accounts import cognito
from accounts.selectors import user_get_by_email, user_list, user_seats
from accounts.services import group_add_member, group_create, user_create, user_delete
from cloudkida import aws
from cloudkida.errors import Conflict, PaymentRequired
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.fixtures_platform import mail_to, temporary_password
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def acme():
    register("acme")
    return bearer(login("acme", "admin@acme.example"))


def _invite(api, email, name, role="TenantUser"):
    response = api.post("/api/v1/users", {"email": email, "name": name, "role": role}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_users_are_searched_by_name_or_email_and_filtered_by_role_and_status(acme):
    ada = _invite(acme, "ada@acme.example", "Ada Lovelace")
    _invite(acme, "grace@acme.example", "Grace HOPPER", role="TenantAdmin")
    _invite(acme, "alan@turing.example", "Alan Turing")
    acme.patch(f"/api/v1/users/{ada['user_id']}", {"version": ada["version"], "status": "DISABLED"}, format="json")

    def emails(**params):
        response = acme.get("/api/v1/users", params)
        assert response.status_code == 200, response.json()
        return sorted(u["email"] for u in response.json()["results"])

    assert emails(q="hopper") == ["grace@acme.example"]  # any case
    assert emails(q="TURING.ex") == ["alan@turing.example"]  # part of the email
    assert emails(q="a") == ["ada@acme.example", "admin@acme.example", "alan@turing.example", "grace@acme.example"]
    assert emails(role="TenantAdmin") == ["admin@acme.example", "grace@acme.example"]
    assert emails(status="DISABLED") == ["ada@acme.example"]
    assert emails(role="TenantUser", status="ACTIVE") == ["alan@turing.example"]
    assert emails(q="nobody") == []
    assert acme.get("/api/v1/users", {"role": "Owner"}).status_code == 400


def test_a_cursor_is_bound_to_its_filters_and_a_renamed_user_is_found_by_the_new_name(acme):
    for n in range(5):
        _invite(acme, f"learner{n}@acme.example", f"Learner {n}")
    first = acme.get("/api/v1/users", {"q": "learner", "limit": 2}).json()
    assert len(first["results"]) == 2 and first["next_cursor"]
    assert acme.get("/api/v1/users", {"q": "other", "cursor": first["next_cursor"]}).json()["code"] == "invalid_cursor"
    seen = [u["email"] for u in first["results"]]
    cursor = first["next_cursor"]
    while cursor:
        page = acme.get("/api/v1/users", {"q": "learner", "limit": 2, "cursor": cursor}).json()
        seen += [u["email"] for u in page["results"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == [f"learner{n}@acme.example" for n in range(5)]
    user = user_get_by_email(tenant_id=tid("acme"), email="learner0@acme.example")
    acme.patch(f"/api/v1/users/{user.user_id}", {"version": user.version, "name": "Zebedee"}, format="json")
    assert [u.email for u in user_list(tenant_id=tid("acme"), q="zebedee").items] == ["learner0@acme.example"]


def test_a_search_fills_its_page_even_when_matches_are_sparse():
    register("acme", tier="standard")
    acme_id = tid("acme")
    for n in range(30):
        user_create(tenant_id=acme_id, email=f"filler{n}@acme.example", name=f"Filler {n}")
    user_create(tenant_id=acme_id, email="needle@acme.example", name="Needle")
    page = user_list(tenant_id=acme_id, q="needle", limit=5)
    assert [u.email for u in page.items] == ["needle@acme.example"]


def test_invites_beyond_the_plans_seats_are_refused_with_402(acme, settings):
    from tenants.domain import Tier
    from tenants.plans import PLANS, Plan

    basic = PLANS[Tier.BASIC]
    PLANS[Tier.BASIC] = Plan(**{**basic.__dict__, "seats": 2})
    try:
        dev = _invite(acme, "dev@acme.example", "Dev")
        assert user_seats(tenant_id=tid("acme")).available == 0
        refused = acme.post("/api/v1/users", {"email": "third@acme.example", "name": "Third"}, format="json")
        assert refused.status_code == 402 and refused.json()["code"] == "seat_limit_reached"
        assert refused.json()["details"]["seats"] == 2
        pool = tenant_get(tenant_id=tid("acme")).identity["user_pool_id"]
        assert cognito.user_attributes(pool, "third@acme.example") == {}  # no sign-in left behind
        assert acme.get("/api/v1/tenant").json()["seats"] == {"used": 2, "limit": 2, "available": 0, "plan": "Basic"}
        # A disabled user frees the seat; enabling them again needs one.
        acme.patch(f"/api/v1/users/{dev['user_id']}", {"version": dev["version"], "status": "DISABLED"}, format="json")
        third = _invite(acme, "third@acme.example", "Third")
        enable = acme.patch(f"/api/v1/users/{dev['user_id']}", {"version": dev["version"] + 1, "status": "ACTIVE"})
        assert enable.status_code == 402, enable.json()
        assert third["status"] == "ACTIVE"
    finally:
        PLANS[Tier.BASIC] = basic


def test_deleting_a_user_removes_sign_in_record_email_and_memberships(acme):
    acme_id = tid("acme")
    dev = _invite(acme, "dev@acme.example", "Dev")
    group = group_create(tenant_id=acme_id, name="Cohort")
    group_add_member(tenant_id=acme_id, group_id=group.group_id, user_id=dev["user_id"])
    pool = tenant_get(tenant_id=acme_id).identity["user_pool_id"]
    assert cognito.user_attributes(pool, "dev@acme.example")
    before = user_seats(tenant_id=acme_id).used

    assert acme.delete(f"/api/v1/users/{dev['user_id']}").status_code == 204

    assert acme.get(f"/api/v1/users/{dev['user_id']}").status_code == 404
    assert cognito.user_attributes(pool, "dev@acme.example") == {}
    assert acme.get(f"/api/v1/groups/{group.group_id}").json()["member_count"] == 0
    assert acme.get(f"/api/v1/groups/{group.group_id}/members").json()["results"] == []
    assert user_seats(tenant_id=acme_id).used == before - 1
    assert acme.delete(f"/api/v1/users/{dev['user_id']}").status_code == 404
    again = _invite(acme, "dev@acme.example", "Dev Again")  # the address is free again
    assert again["name"] == "Dev Again"
    events = [e["action"] for e in acme.get("/api/v1/audit-events", {"action": "user.deleted"}).json()["results"]]
    assert events == ["user.deleted"]


def test_the_last_active_admin_cannot_be_deleted(acme):
    admin = user_get_by_email(tenant_id=tid("acme"), email="admin@acme.example")
    refused = acme.delete(f"/api/v1/users/{admin.user_id}")
    assert refused.status_code == 409 and refused.json()["code"] == "last_admin"
    with pytest.raises(Conflict):
        user_delete(tenant_id=tid("acme"), user_id=admin.user_id)
    stale = _invite(acme, "dev@acme.example", "Dev")
    assert acme.delete(f"/api/v1/users/{stale['user_id']}", QUERY_STRING="version=7").status_code == 409


def test_resending_an_invitation_sets_a_new_temporary_password_that_forces_a_new_one(acme):
    dev = _invite(acme, "dev@acme.example", "Dev")
    sent = len(mail_to("dev@acme.example"))
    response = acme.post(f"/api/v1/users/{dev['user_id']}/resend-invitation")
    assert response.status_code == 200, response.json()
    mail = mail_to("dev@acme.example")[sent:]
    assert len(mail) == 1
    password = temporary_password("dev@acme.example")
    tenant = tenant_get(tenant_id=tid("acme"))
    challenge = aws.client("cognito-idp").admin_initiate_auth(
        UserPoolId=tenant.identity["user_pool_id"],
        ClientId=tenant.identity["client_id"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "dev@acme.example", "PASSWORD": password},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    # Once the user has a password of their own there is nothing to re-send.
    login("acme", "dev@acme.example")
    refused = acme.post(f"/api/v1/users/{dev['user_id']}/resend-invitation")
    assert refused.status_code == 409 and refused.json()["code"] == "already_signed_in"
    assert acme.post("/api/v1/users/nobody/resend-invitation").status_code == 404


def test_the_user_list_exports_as_csv_with_the_same_filters(acme):
    _invite(acme, "ada@acme.example", "=HYPERLINK(evil)")
    response = acme.get("/api/v1/users/export", {"q": "ada"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["email", "name", "role", "status", "created_at", "user_id"]
    assert [r[0] for r in rows[1:]] == ["ada@acme.example"]
    assert rows[1][1] == "'=HYPERLINK(evil)"  # no formula runs when the file is opened in a spreadsheet
    everyone = acme.get("/api/v1/users/export").content.decode().splitlines()
    assert len(everyone) == 3


def test_seats_of_a_service_call_are_checked_too():
    register("acme")
    from tenants.domain import Tier
    from tenants.plans import PLANS, Plan

    basic = PLANS[Tier.BASIC]
    PLANS[Tier.BASIC] = Plan(**{**basic.__dict__, "seats": 1})
    try:
        with pytest.raises(PaymentRequired):
            user_create(tenant_id=tid("acme"), email="x@acme.example", name="X")
    finally:
        PLANS[Tier.BASIC] = basic


def test_deleting_a_user_with_a_key_needs_the_admin_scope(acme):
    from accounts.api_keys import api_key_create
    from tests.identity.conftest import with_key

    dev = _invite(acme, "dev@acme.example", "Dev")
    _k, write = api_key_create(tenant_id=tid("acme"), name="w", scope="write", created_by="t")
    refused = with_key(write).delete(f"/api/v1/users/{dev['user_id']}")
    assert refused.status_code == 403 and refused.json()["details"]["needs"] == "admin"
    _k, admin = api_key_create(tenant_id=tid("acme"), name="a", scope="admin", created_by="t")
    assert with_key(admin).delete(f"/api/v1/users/{dev['user_id']}").status_code == 204
