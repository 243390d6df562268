"""Bulk import of users from CSV: a per-row report, valid rows imported when others fail, nothing created
twice, progress while it runs, resumption from the checkpoint after a crash."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from rest_framework.test import APIClient

from accounts import imports
from accounts.api_keys import api_key_create
from accounts.selectors import group_list, user_get_by_email, user_seats
from accounts.services import user_create
from cloudkida import aws, clock, jobs
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.fixtures_platform import mail_to, temporary_password
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def acme():
    register("acme", tier="standard")
    return bearer(login("acme", "admin@acme.example"))


def _csv(rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "role", "groups"])
    writer.writerows(rows)
    return out.getvalue()


def _class_of(n: int) -> list[tuple]:
    return [(f"learner{i}@uni.example", f"Learner {i}", "TenantUser", "Class A") for i in range(n)]


BAD_ROWS = [
    ("not-an-email", "Nobody", "TenantUser", ""),
    ("noname@uni.example", "", "TenantUser", ""),
    ("owner@uni.example", "Wants Owner", "Owner", ""),
    ("learner3@uni.example", "Learner Three Again", "TenantUser", ""),  # repeats row 4
    ("admin@acme.example", "Already Here", "TenantAdmin", "Admins; Class A"),
]


def _post(api, text: str, **extra):
    return api.generic("POST", "/api/v1/user-imports", text.encode(), content_type="text/csv", **extra)


def _report(api, import_id: str, **params) -> list[dict]:
    rows, cursor = [], None
    while True:
        page = api.get(f"/api/v1/user-imports/{import_id}", {**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.json()
        rows += page.json()["report"]["results"]
        cursor = page.json()["report"]["next_cursor"]
        if not cursor:
            return rows


def test_an_import_reports_every_row_imports_the_valid_ones_and_creates_nothing_twice(acme):
    text = _csv(_class_of(120) + BAD_ROWS)
    started = _post(acme, text)
    assert started.status_code == 202, started.json()
    job = started.json()
    assert job["total_rows"] == 125 and job["status"] == "SUCCEEDED"  # the test runner runs jobs inline
    status = acme.get(f"/api/v1/user-imports/{job['import_id']}").json()
    assert (status["created"], status["already_members"], status["invalid"]) == (120, 1, 4)
    assert status["processed_rows"] == 125 and status["groups_created"] == 2

    rows = _report(acme, job["import_id"])
    assert [r["row"] for r in rows] == list(range(1, 126))
    invalid = {r["row"]: r["reason"] for r in rows if r["outcome"] == "invalid"}
    assert invalid == {
        121: "not a valid email address",
        122: "the name is empty",
        123: "role must be TenantUser or TenantAdmin",
        124: "the same email as row 4",
    }
    assert rows[124]["outcome"] == "already_member" and rows[124]["user_id"]
    assert [r["row"] for r in _report(acme, job["import_id"], outcome="invalid")] == [121, 122, 123, 124]

    acme_id = tid("acme")
    assert user_seats(tenant_id=acme_id).used == 121
    groups = {g.name: g for g in group_list(tenant_id=acme_id).items}
    assert groups["Class A"].member_count == 121 and groups["Admins"].member_count == 1
    assert len(mail_to("learner7@uni.example")) == 1
    tenant = tenant_get(tenant_id=acme_id)
    password = temporary_password("learner7@uni.example")
    challenge = aws.client("cognito-idp").admin_initiate_auth(
        UserPoolId=tenant.identity["user_pool_id"],
        ClientId=tenant.identity["client_id"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "learner7@uni.example", "PASSWORD": password},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"

    # The same file again, as a multipart upload: nobody is created twice, nobody is emailed twice.
    upload = io.BytesIO(text.encode())
    upload.name = "class-a.csv"
    again = acme.post("/api/v1/user-imports", {"file": upload}, format="multipart").json()
    assert again["filename"] == "class-a.csv"
    assert (again["created"], again["already_members"], again["invalid"]) == (0, 121, 4)
    assert user_seats(tenant_id=acme_id).used == 121
    assert len(mail_to("learner7@uni.example")) == 1
    assert group_list(tenant_id=acme_id).items[0].member_count in {1, 121}
    listed = acme.get("/api/v1/user-imports").json()["results"]
    assert [i["import_id"] for i in listed] == [again["import_id"], job["import_id"]]
    actions = [e["action"] for e in acme.get("/api/v1/audit-events").json()["results"]]
    assert actions.count("users.imported") == 2 and "user.invited" not in actions


def test_a_crashed_import_resumes_from_its_checkpoint_without_duplicates(acme):
    """Cognito fails part-way through the second chunk: the first chunk is recorded, the import is FAILED
    with the reason; resuming finishes it, and the rows created before the crash are not created again."""
    calls = {"n": 0}

    def hook(client):
        if client.meta.service_model.service_name == "cognito-idp":

            def fail_later(**kwargs):
                calls["n"] += 1
                if calls["n"] == 120:
                    raise ClientError(
                        {"Error": {"Code": "InternalErrorException", "Message": "boom"}}, "AdminCreateUser"
                    )

            client.meta.events.register("before-call.cognito-identity-provider.AdminCreateUser", fail_later)

    remove = aws.add_client_hook(hook)
    try:
        job = _post(acme, _csv(_class_of(150))).json()
    finally:
        remove()
    assert job["status"] == "FAILED" and "InternalErrorException" in job["error"]
    assert job["processed_rows"] == 100 and job["created"] == 100  # the first chunk's checkpoint
    acme_id = tid("acme")
    assert user_seats(tenant_id=acme_id).used == 1 + 119  # made before the crash, not yet reported

    resumed = acme.post(f"/api/v1/user-imports/{job['import_id']}/resume")
    assert resumed.status_code == 202 and resumed.json()["status"] == "SUCCEEDED"
    done = acme.get(f"/api/v1/user-imports/{job['import_id']}").json()
    rows = _report(acme, job["import_id"])
    assert [r["reason"] for r in rows if r["outcome"] != "created"] == []
    assert (done["created"], done["already_members"], done["invalid"], done["processed_rows"]) == (150, 0, 0, 150)
    assert user_seats(tenant_id=acme_id).used == 151
    assert [r["row"] for r in rows] == list(range(1, 151))
    pool = tenant_get(tenant_id=acme_id).identity["user_pool_id"]
    usernames = [
        u["Username"]
        for page in aws.client("cognito-idp").get_paginator("list_users").paginate(UserPoolId=pool)
        for u in page["Users"]
    ]
    assert len(usernames) == len(set(usernames)) == 151
    # Someone created before the crash (but not reported) got a second invitation.
    assert len(mail_to("learner110@uni.example")) == 2 and len(mail_to("learner10@uni.example")) == 1
    again = acme.post(f"/api/v1/user-imports/{job['import_id']}/resume")
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"


@pytest.fixture
def lambda_invocations(settings):
    """Jobs run the production way: each start is an asynchronous Lambda invocation, recorded here and
    accepted (moto would need a deployed function); the test runs the invocation's event itself."""
    settings.CLOUDKIDA_JOB_RUNNER = "lambda"
    settings.CLOUDKIDA_JOBS_FUNCTION_NAME = "cloudkida-test"
    invoked = []

    def hook(client):
        if client.meta.service_model.service_name == "lambda":

            def capture(params, **kwargs):
                invoked.append(dict(params))

            def accepted(**kwargs):
                return SimpleNamespace(status_code=202, headers={}), {"StatusCode": 202}

            client.meta.events.register("before-parameter-build.lambda.Invoke", capture)
            client.meta.events.register("before-call.lambda.Invoke", accepted)

    remove = aws.add_client_hook(hook)
    yield invoked
    remove()


def test_an_import_runs_in_slices_and_shows_progress_between_them(acme, lambda_invocations):
    job = _post(acme, _csv(_class_of(150))).json()
    assert job["status"] == "QUEUED" and job["processed_rows"] == 0
    invoked = lambda_invocations
    assert invoked[0]["InvocationType"] == "Event" and invoked[0]["FunctionName"] == "cloudkida-test"
    event = json.loads(invoked[0]["Payload"])
    assert event == jobs.lambda_event(imports.JOB, {"tenant_id": tid("acme"), "import_id": job["import_id"]})
    # One slice with no time left does one chunk, then hands over to a new invocation.
    assert jobs.run_slice(event["job"], event["params"], seconds=0) is False
    running = acme.get(f"/api/v1/user-imports/{job['import_id']}").json()
    assert running["status"] == "RUNNING" and running["processed_rows"] == 100
    assert jobs.run_job(event) == {"job": imports.JOB, "finished": True}
    assert acme.get(f"/api/v1/user-imports/{job['import_id']}").json()["created"] == 150


def test_an_import_whose_process_died_can_be_resumed_once_it_has_stalled(acme, lambda_invocations, settings):
    job = _post(acme, _csv(_class_of(3))).json()  # invoked, but the invocation never ran
    early = acme.post(f"/api/v1/user-imports/{job['import_id']}/resume")
    assert early.status_code == 409 and early.json()["code"] == "invalid_state"
    settings.CLOUDKIDA_JOB_RUNNER = "inline"
    later = datetime.now(UTC) + timedelta(seconds=imports.STALLED_SECONDS + 60)
    with clock.frozen(later):
        resumed = acme.post(f"/api/v1/user-imports/{job['import_id']}/resume")
    assert resumed.status_code == 202 and resumed.json()["created"] == 3


def test_files_that_are_not_an_import_are_refused_with_a_reason(acme, monkeypatch):
    cases = {
        "no header": ("ada@uni.example,Ada\n", "invalid_csv"),
        "header without name": ("email,role\nada@uni.example,TenantUser\n", "invalid_csv"),
        "only a header": ("email,name,role,groups\n", "empty_import"),
    }
    for label, (text, code) in cases.items():
        response = _post(acme, text)
        assert response.status_code == 400 and response.json()["code"] == code, label
    latin = acme.generic(
        "POST", "/api/v1/user-imports", "email,name\né@x.example,É\n".encode("latin-1"), content_type="text/csv"
    )
    assert latin.status_code == 400
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    too_many = _post(acme, _csv(_class_of(4)))
    assert too_many.status_code == 400 and too_many.json()["details"] == {"field": "file", "max_rows": 3}
    assert acme.post("/api/v1/user-imports", {"nofile": "x"}, format="multipart").status_code == 400
    assert acme.get("/api/v1/user-imports").json()["results"] == []


def test_the_template_downloads_and_imports_as_is(acme):
    response = acme.get("/api/v1/user-imports/template")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0] == "email,name,role,groups"
    job = _post(acme, response.content.decode()).json()
    assert (job["created"], job["invalid"]) == (2, 0)
    assert user_get_by_email(tenant_id=tid("acme"), email="grace@example.com").role.value == "TenantAdmin"


def test_a_key_needs_the_admin_scope_to_import_admins_and_imports_respect_seats(acme):
    _k, write = api_key_create(tenant_id=tid("acme"), name="sis", scope="write", created_by="t")
    client = APIClient(HTTP_HOST="api.localhost", HTTP_X_API_KEY=write)
    refused = _post(client, _csv([("boss@uni.example", "Boss", "admin", "")]))
    assert refused.status_code == 403 and refused.json()["code"] == "scope_too_narrow"
    assert _post(client, _csv(_class_of(2))).status_code == 202

    from tenants.domain import Tier
    from tenants.plans import PLANS, Plan

    standard = PLANS[Tier.STANDARD]
    PLANS[Tier.STANDARD] = Plan(**{**standard.__dict__, "seats": 5})
    try:
        user_create(tenant_id=tid("acme"), email="walkin@uni.example", name="Walk In")
        job = _post(acme, _csv(_class_of(6))).json()
    finally:
        PLANS[Tier.STANDARD] = standard
    assert (job["created"], job["already_members"], job["invalid"]) == (1, 2, 3)
    assert {r["reason"] for r in _report(acme, job["import_id"], outcome="invalid")} == {
        "every seat of the plan is taken (5)"
    }


def test_an_uploaded_file_with_an_idempotency_key_is_imported_once(acme):
    def post(text: str):
        upload = io.BytesIO(text.encode())
        upload.name = "class.csv"
        return acme.post(
            "/api/v1/user-imports", {"file": upload}, format="multipart", HTTP_IDEMPOTENCY_KEY="class-upload-1"
        )

    first = post(_csv(_class_of(2)))
    assert first.status_code == 202, first.content
    again = post(_csv(_class_of(2)))
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.json()["import_id"] == first.json()["import_id"]
    other = post(_csv(_class_of(3)))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert len(acme.get("/api/v1/user-imports").json()["results"]) == 1
