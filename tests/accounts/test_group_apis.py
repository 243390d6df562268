"""Groups, memberships and policies through the API."""

from __future__ import annotations

import pytest

from accounts.api_keys import api_key_create
from accounts.selectors import policy_for_user
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register, with_key

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def acme():
    register("acme")
    return bearer(login("acme", "admin@acme.example"))


def _user(api, email: str) -> dict:
    return api.post("/api/v1/users", {"email": email, "name": email.split("@")[0]}, format="json").json()


def test_groups_are_created_listed_renamed_and_deleted(acme):
    created = acme.post("/api/v1/groups", {"name": " Cohort  2027 ", "description": "Autumn"}, format="json")
    assert created.status_code == 201, created.json()
    group = created.json()
    assert group["name"] == "Cohort 2027" and group["member_count"] == 0
    taken = acme.post("/api/v1/groups", {"name": "cohort 2027"}, format="json")
    assert taken.status_code == 409 and taken.json()["details"] == {"field": "name"}
    assert [g["name"] for g in acme.get("/api/v1/groups").json()["results"]] == ["Cohort 2027"]
    renamed = acme.patch(f"/api/v1/groups/{group['group_id']}", {"version": group["version"], "name": "A"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "A"
    stale = acme.patch(f"/api/v1/groups/{group['group_id']}", {"version": group["version"], "name": "B"})
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    version = renamed.json()["version"]
    assert acme.delete(f"/api/v1/groups/{group['group_id']}", QUERY_STRING=f"version={version}").status_code == 204
    assert acme.get(f"/api/v1/groups/{group['group_id']}").status_code == 404
    assert acme.delete(f"/api/v1/groups/{group['group_id']}").status_code == 400  # the version is required


def test_members_are_added_listed_and_removed_and_a_user_can_be_in_several_groups(acme):
    a = acme.post("/api/v1/groups", {"name": "A"}, format="json").json()
    b = acme.post("/api/v1/groups", {"name": "B"}, format="json").json()
    ada = _user(acme, "ada@acme.example")
    first = acme.post(f"/api/v1/groups/{a['group_id']}/members", {"user_id": ada["user_id"]}, format="json")
    assert first.status_code == 201 and first.json()["added"] is True
    again = acme.post(f"/api/v1/groups/{a['group_id']}/members", {"user_id": ada["user_id"]}, format="json")
    assert again.status_code == 200 and again.json()["added"] is False
    acme.post(f"/api/v1/groups/{b['group_id']}/members", {"user_id": ada["user_id"]}, format="json")
    members = acme.get(f"/api/v1/groups/{a['group_id']}/members").json()["results"]
    assert [m["email"] for m in members] == ["ada@acme.example"]
    nobody = acme.post(f"/api/v1/groups/{a['group_id']}/members", {"user_id": "nobody"}, format="json")
    assert nobody.status_code == 404
    with_members = acme.delete(f"/api/v1/groups/{a['group_id']}", QUERY_STRING="version=2")
    assert with_members.status_code == 409 and with_members.json()["code"] in {"group_not_empty", "version_conflict"}
    assert acme.delete(f"/api/v1/groups/{a['group_id']}/members/{ada['user_id']}").status_code == 204
    assert acme.delete(f"/api/v1/groups/{a['group_id']}/members/{ada['user_id']}").status_code == 404
    assert acme.get(f"/api/v1/groups/{b['group_id']}").json()["member_count"] == 1


def test_policies_are_read_and_replaced_with_their_version(acme):
    tenant = acme.get("/api/v1/policies/tenant").json()
    assert tenant == {
        "group_id": "",
        "allowed_lab_ids": None,
        "max_concurrent_labs": None,
        "monthly_lab_minutes": None,
        "allowed_regions": None,
        "version": 0,
    }
    saved = acme.put(
        "/api/v1/policies/tenant",
        {"version": 0, "max_concurrent_labs": 3, "allowed_regions": ["EU-West-1", "us-east-1"]},
        format="json",
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["allowed_regions"] == ["eu-west-1", "us-east-1"] and saved.json()["version"] == 1
    bad = acme.put("/api/v1/policies/tenant", {"version": 1, "allowed_regions": ["mars-1"]}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_region"
    assert (
        acme.put("/api/v1/policies/tenant", {"version": 0, "max_concurrent_labs": 2}, format="json").status_code == 409
    )

    group = acme.post("/api/v1/groups", {"name": "Bootcamp"}, format="json").json()
    ada = _user(acme, "ada@acme.example")
    acme.post(f"/api/v1/groups/{group['group_id']}/members", {"user_id": ada["user_id"]}, format="json")
    put = acme.put(
        f"/api/v1/groups/{group['group_id']}/policy",
        {"version": 0, "max_concurrent_labs": 10, "monthly_lab_minutes": 600},
        format="json",
    )
    assert put.status_code == 200 and put.json()["group_id"] == group["group_id"]
    effective = policy_for_user(tenant_id=tid("acme"), user_id=ada["user_id"])
    assert effective.max_concurrent_labs == 3 and effective.monthly_lab_minutes == 600
    assert acme.get("/api/v1/groups/nope/policy").status_code == 404
    zero = acme.put(f"/api/v1/groups/{group['group_id']}/policy", {"version": 1, "max_concurrent_labs": 0})
    assert zero.status_code == 400 and zero.json()["details"] == {"field": "max_concurrent_labs"}


def test_a_read_key_reads_groups_and_a_tenant_user_gets_nothing(acme):
    _k, read = api_key_create(tenant_id=tid("acme"), name="r", scope="read", created_by="t")
    key = with_key(read)
    assert key.get("/api/v1/groups").status_code == 200
    refused = key.post("/api/v1/groups", {"name": "X"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "scope_too_narrow"
    _user(acme, "dev@acme.example")
    dev = bearer(login("acme", "dev@acme.example"))
    for path in ("/api/v1/groups", "/api/v1/policies/tenant", "/api/v1/audit-events", "/api/v1/tenant/branding"):
        assert dev.get(path).status_code == 403, path
