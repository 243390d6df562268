"""A person's data: exported as JSON (everything that names them, in every store), and erased: the sign-in
and record gone, every other record pseudonymised, the erasure audited without their details; another
tenant can do neither."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.conf import settings

from accounts.integrations import data_rights
from cloudkida import aws
from tenants.selectors import tenant_get
from tests.accounts.test_imports import _csv, _post
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]
ADA = "ada.lovelace@acme.example"


@pytest.fixture
def acme():
    register("acme")
    api = bearer(login("acme", "admin@acme.example"))
    started = _post(
        api, _csv([(ADA, "Ada Lovelace", "TenantUser", "Cohort 1"), ("bob@acme.example", "Bob", "TenantUser", "")])
    )
    assert started.status_code == 202 and started.json()["status"] == "SUCCEEDED", started.json()
    ada = next(u for u in api.get("/api/v1/users").json()["results"] if u["email"] == ADA)
    disabled = api.patch(
        f"/api/v1/users/{ada['user_id']}", {"version": ada["version"], "status": "DISABLED"}, format="json"
    )
    assert disabled.status_code == 200, disabled.json()
    return api, ada


def _everything(tenant_id: str) -> list[str]:
    """Every string of every item the tenant has (both tables, its owned items)."""
    return [s for _kind, _table, item in data_rights._items(tenant_id) for s in data_rights._strings(item)]


def _import_file(tenant_id: str) -> str:
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET).get("Contents", [])
    keys = [o["Key"] for o in listed if tenant_id in o["Key"]]
    assert keys, listed
    return "".join(s3.get_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=k)["Body"].read().decode() for k in keys)


def test_an_export_holds_every_record_that_names_the_person(acme):
    api, ada = acme
    export = api.get(f"/api/v1/users/{ada['user_id']}/personal-data")
    assert export.status_code == 200, export.json()
    body = export.json()
    kinds = {item["kind"] for item in body["items"]}
    assert {"user", "user-email", "group-member", "user-group", "audit-event", "user-import-report"} <= kinds
    assert {"webhook-event"} <= kinds  # user.invited and user.disabled were recorded for webhooks
    assert body["sources"]["cognito"]["email"] == ADA and body["user_id"] == ada["user_id"]
    assert len(body["sources"]["uploaded_files"]) == 1  # the import's CSV
    assert all("PK" not in item["record"] for item in body["items"])
    assert all(ADA in str(item["record"]) or ada["user_id"] in str(item["record"]) for item in body["items"])
    assert "bob@acme.example" not in str([i for i in body["items"] if i["kind"] == "user"])


def test_an_erasure_leaves_nothing_of_the_person_and_is_audited(acme):
    api, ada = acme
    tenant_id = tid("acme")
    assert any(ADA in s for s in _everything(tenant_id)) and ADA in _import_file(tenant_id)
    erased = api.post(f"/api/v1/users/{ada['user_id']}/erase")
    assert erased.status_code == 200, erased.json()
    result = erased.json()
    assert result["pseudonym"].endswith("@erased.invalid") and result["pseudonymised"] >= 3
    strings = _everything(tenant_id)
    assert not any(ADA in s.lower() for s in strings) and "Ada Lovelace" not in strings
    rewritten = _import_file(tenant_id)
    assert ADA not in rewritten and "Ada Lovelace" not in rewritten and "bob@acme.example" in rewritten
    assert api.get(f"/api/v1/users/{ada['user_id']}").status_code == 404
    pool = tenant_get(tenant_id=tenant_id).identity["user_pool_id"]
    with pytest.raises(ClientError):
        aws.client("cognito-idp").admin_get_user(UserPoolId=pool, Username=ADA)
    audit = api.get("/api/v1/audit-events").json()["results"]
    assert any(e["action"] == "user.erased" and e["details"]["pseudonym"] == result["pseudonym"] for e in audit)
    assert any(result["pseudonym"] in str(e) for e in audit if e["action"] == "user.disabled")  # kept, pseudonymised
    # Bob, who was imported alongside, is untouched.
    assert any(u["email"] == "bob@acme.example" for u in api.get("/api/v1/users").json()["results"])


def test_another_tenant_can_neither_export_nor_erase_a_person(acme):
    _api, ada = acme
    register("globex")
    globex = bearer(login("globex", "admin@globex.example"))
    assert globex.get(f"/api/v1/users/{ada['user_id']}/personal-data").status_code == 404
    assert globex.post(f"/api/v1/users/{ada['user_id']}/erase").status_code == 404
    assert any(ADA in s for s in _everything(tid("acme")))


def test_a_learner_exports_their_own_data_only_and_the_last_admin_cannot_be_erased(acme):
    api, _ada = acme
    bob = next(u for u in api.get("/api/v1/users").json()["results"] if u["email"] == "bob@acme.example")
    learner = bearer(login("acme", "bob@acme.example"))
    mine = learner.get("/api/v1/me/personal-data")
    assert mine.status_code == 200 and mine.json()["user_id"] == bob["user_id"]
    assert learner.get(f"/api/v1/users/{bob['user_id']}/personal-data").status_code == 403
    assert learner.post(f"/api/v1/users/{bob['user_id']}/erase").status_code == 403
    me = api.get("/api/v1/me").json()
    admin_id = me["subject"]
    refused = api.post(f"/api/v1/users/{admin_id}/erase")
    assert refused.status_code == 409 and refused.json()["code"] == "last_admin"
