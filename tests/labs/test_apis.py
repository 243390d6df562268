"""The labs API as learners, tenant admins, integrator keys and system admins call it — and a negative
test for every route: acme's callers never reach globex's labs, sessions or assignments (404)."""

from __future__ import annotations

import pytest

from accounts.api_keys import api_key_create
from accounts.selectors import user_get_by_email
from accounts.services import user_invite
from labs.services import assignment_add, lab_create, lab_publish, lab_session_start
from tests.conftest import tid
from tests.identity.conftest import bearer, login, operator_token, with_key
from tests.identity.conftest import register as register_tenant
from tests.labs.conftest import BUCKET_TEMPLATE, TASKS, global_lab, offer

pytestmark = [pytest.mark.usefixtures("pool", "federation"), pytest.mark.django_db]


@pytest.fixture
def world():
    register_tenant("acme")
    register_tenant("globex")
    acme, globex = tid("acme"), tid("globex")
    lee = user_invite(tenant_id=acme, email="lee@acme.example", name="Lee").user_id
    gus = user_invite(tenant_id=globex, email="gus@globex.example", name="Gus").user_id
    shared = global_lab()
    offer(acme, shared, lee)
    theirs = lab_create(
        owner=globex, actor="t", template=BUCKET_TEMPLATE, title="Globex lab", slug="globex-lab", tasks=TASKS
    )
    theirs = lab_publish(owner=globex, lab_id=theirs.lab_id, actor="t")
    assignment_add(tenant_id=globex, lab=theirs, assignee_type="user", assignee_id=gus, actor="t")
    globex_session = lab_session_start(tenant_id=globex, user_id=gus, lab_id=theirs.lab_id, actor="t")
    assert globex_session.state.value == "READY"
    return {
        "acme": acme,
        "lee": lee,
        "shared": shared,
        "globex_lab": theirs,
        "globex_session": globex_session,
        "gus": gus,
        "admin": bearer(login("acme", "admin@acme.example")),
        "learner": bearer(login("acme", "lee@acme.example")),
    }


def test_a_learner_sees_its_lab_starts_it_once_works_and_ends_it(world):
    learner = world["learner"]
    got = learner.get("/api/v1/labs")
    assert got.status_code == 200, got.json()
    catalog = got.json()["results"]
    assert [(lab["slug"], lab["can_start"]) for lab in catalog] == [("s3-basics", True)]
    assert "<h1>Do it</h1>" in catalog[0]["instructions_html"]
    body = {"lab_id": world["shared"].lab_id}
    started = learner.post("/api/v1/lab-sessions", body, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    assert started.status_code == 201, started.json()
    session = started.json()
    assert session["state"] == "READY" and session["time_left_seconds"] > 3500 and session["user_id"] == world["lee"]
    again = learner.post("/api/v1/lab-sessions", body, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["session_id"] == session["session_id"]
    sid = session["session_id"]
    assert learner.get(f"/api/v1/lab-sessions/{sid}").json()["state"] == "READY"
    assert [s["session_id"] for s in learner.get("/api/v1/lab-sessions").json()["results"]] == [sid]
    access = learner.get(f"/api/v1/lab-sessions/{sid}/access").json()
    assert access["console_url"].startswith("https://signin.aws.amazon.com/federation?Action=login")
    assert access["credentials"]["access_key_id"] and access["account_id"] == session["account_id"]
    check = learner.post(f"/api/v1/lab-sessions/{sid}/tasks/queue/check", format="json").json()
    assert check == {
        "task_id": "queue",
        "passed": False,
        "message": "No SQS queue found yet.",
        "passed_tasks": [],
        "completed": False,
    }
    assert learner.post(f"/api/v1/lab-sessions/{sid}/tasks/nope/check").status_code == 404
    extended = learner.post(f"/api/v1/lab-sessions/{sid}/extend", {"minutes": 15}, format="json").json()
    assert extended["extensions"] == 1 and extended["duration_minutes"] == 75
    ended = learner.post(f"/api/v1/lab-sessions/{sid}/end").json()
    assert ended["state"] == "ENDED" and ended["ended_by"] == "learner"
    refused = learner.get(f"/api/v1/lab-sessions/{sid}/access")
    assert refused.status_code == 409 and refused.json()["code"] == "session_not_ready"


def test_a_tenant_admin_authors_publishes_assigns_and_watches(world):
    admin, lee = world["admin"], world["lee"]
    bad = admin.post(
        "/api/v1/labs", {"title": "Bad", "slug": "bad", "template": "not: [a template", "tasks": TASKS}, format="json"
    )
    assert bad.status_code == 201  # a draft may hold anything; publishing validates
    huge = admin.post(
        "/api/v1/labs",
        {"title": "Huge", "slug": "huge", "template": "#" * 51_201, "tasks": TASKS},
        format="json",
    )  # over what CloudFormation takes inline, which is how a lab account gets it
    assert huge.status_code == 400 and huge.json()["code"] in {"invalid_template", "validation_failed"}, huge.json()
    refused = admin.post(f"/api/v1/labs/{bad.json()['lab_id']}/publish")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_template"
    created = admin.post(
        "/api/v1/labs",
        {
            "title": "Ours",
            "slug": "ours",
            "template": BUCKET_TEMPLATE,
            "tasks": TASKS,
            "allowed_services": ["s3"],
            "instructions": "<script>x</script>*hi*",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    lab = created.json()
    assert lab["status"] == "DRAFT" and lab["catalog"] == "tenant" and "<script>" not in lab["instructions_html"]
    taken = admin.post("/api/v1/labs", {"title": "Again", "slug": "ours"}, format="json")
    assert taken.status_code == 409 and taken.json()["code"] == "already_exists"
    patched = admin.patch(
        f"/api/v1/labs/{lab['lab_id']}", {"version": lab["version"], "summary": "Better"}, format="json"
    ).json()
    assert patched["summary"] == "Better" and patched["revision"] == 0
    stale = admin.patch(f"/api/v1/labs/{lab['lab_id']}", {"version": lab["version"], "summary": "x"}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    published = admin.post(f"/api/v1/labs/{lab['lab_id']}/publish").json()
    assert published["status"] == "PUBLISHED" and published["revision"] == 1 and published["template_validated"]
    revised = admin.patch(
        f"/api/v1/labs/{lab['lab_id']}", {"version": published["version"], "duration_minutes": 45}, format="json"
    )
    assert revised.json()["revision"] == 2
    assigned = admin.post(
        f"/api/v1/labs/{lab['lab_id']}/assignments", {"assignee_type": "user", "assignee_id": lee}, format="json"
    )
    assert assigned.status_code == 201
    repeat = admin.post(
        f"/api/v1/labs/{lab['lab_id']}/assignments", {"assignee_type": "user", "assignee_id": lee}, format="json"
    )
    assert repeat.status_code == 200
    unknown = admin.post(
        f"/api/v1/labs/{lab['lab_id']}/assignments", {"assignee_type": "user", "assignee_id": "nobody"}, format="json"
    )
    assert unknown.status_code == 404
    assert [a["assignee_id"] for a in admin.get(f"/api/v1/labs/{lab['lab_id']}/assignments").json()["results"]] == [lee]
    started = admin.post("/api/v1/lab-sessions", {"lab_id": lab["lab_id"], "user_id": lee}, format="json")
    assert started.status_code == 201 and started.json()["user_id"] == lee
    live = admin.get("/api/v1/lab-sessions", {"active": "true"}).json()["results"]
    assert [s["session_id"] for s in live] == [started.json()["session_id"]]
    # An admin sees the learner's session but gets no credentials of it.
    assert admin.get(f"/api/v1/lab-sessions/{started.json()['session_id']}/access").status_code == 404
    progress = admin.get(f"/api/v1/labs/{lab['lab_id']}/progress").json()["results"]
    assert progress == []
    assert admin.post(f"/api/v1/lab-sessions/{started.json()['session_id']}/end").json()["ended_by"] == "admin"
    retired = admin.post(f"/api/v1/labs/{lab['lab_id']}/retire").json()
    assert retired["status"] == "RETIRED"
    assert admin.delete(f"/api/v1/labs/{lab['lab_id']}/assignments/user/{lee}").status_code == 204
    assert admin.delete(f"/api/v1/labs/{lab['lab_id']}/assignments/user/{lee}").status_code == 404
    # CloudKida's labs: enabled or not, never editable by a tenant.
    shared = world["shared"].lab_id
    assert admin.post(f"/api/v1/labs/{shared}/disable").json()["enabled"] is False
    assert admin.patch(f"/api/v1/labs/{shared}", {"version": 1, "title": "Mine now"}, format="json").status_code == 404
    assert admin.post(f"/api/v1/labs/{shared}/publish").status_code == 404


def test_keys_read_with_read_and_start_for_a_user_with_write(world):
    acme = world["acme"]
    _k, read = api_key_create(tenant_id=acme, name="lms-read", scope="read", created_by="t")
    _k, write = api_key_create(tenant_id=acme, name="lms", scope="write", created_by="t")
    reader, writer = with_key(read), with_key(write)
    assert reader.get("/api/v1/labs").status_code == 200
    denied = reader.post(
        "/api/v1/lab-sessions", {"lab_id": world["shared"].lab_id, "user_id": world["lee"]}, format="json"
    )
    assert denied.status_code == 403 and denied.json()["code"] == "scope_too_narrow"
    no_user = writer.post("/api/v1/lab-sessions", {"lab_id": world["shared"].lab_id}, format="json")
    assert no_user.status_code == 400 and no_user.json()["code"] == "user_required"
    started = writer.post(
        "/api/v1/lab-sessions", {"lab_id": world["shared"].lab_id, "user_id": world["lee"]}, format="json"
    )
    assert started.status_code == 201
    assert writer.get(f"/api/v1/lab-sessions/{started.json()['session_id']}/access").status_code == 200
    assert reader.get(f"/api/v1/lab-sessions/{started.json()['session_id']}/access").status_code == 403


def test_learners_cannot_reach_each_others_sessions_or_admin_routes(world):
    acme = world["acme"]
    user_invite(tenant_id=acme, email="kim@acme.example", name="Kim")
    kim = bearer(login("acme", "kim@acme.example"))
    session = world["learner"].post("/api/v1/lab-sessions", {"lab_id": world["shared"].lab_id}, format="json").json()
    for method, path in [
        ("get", f"/api/v1/lab-sessions/{session['session_id']}"),
        ("get", f"/api/v1/lab-sessions/{session['session_id']}/access"),
        ("post", f"/api/v1/lab-sessions/{session['session_id']}/end"),
        ("post", f"/api/v1/lab-sessions/{session['session_id']}/extend"),
    ]:
        assert getattr(kim, method)(path, {"minutes": 5}, format="json").status_code == 404, path
    assert kim.get("/api/v1/labs").json()["results"] == []  # nothing assigned to Kim
    assert kim.get(f"/api/v1/labs/{world['shared'].lab_id}").status_code == 404
    assert kim.post("/api/v1/labs", {"title": "x", "slug": "x"}, format="json").status_code == 403
    assert kim.get("/api/v1/lab-sessions", {"active": "true"}).status_code == 403
    other = kim.post("/api/v1/lab-sessions", {"lab_id": world["shared"].lab_id, "user_id": world["lee"]}, format="json")
    assert other.status_code == 403


def test_every_labs_route_refuses_another_tenants_objects(world):
    """acme's admin (token and key) names globex's lab, session, learner and assignment on every route: 404
    (or 403 for routes closed to it), and globex's data is untouched."""
    _k, raw = api_key_create(tenant_id=world["acme"], name="all", scope="admin", created_by="t")
    lab, session, gus = world["globex_lab"].lab_id, world["globex_session"].session_id, world["gus"]
    for client in (world["admin"], with_key(raw)):
        calls = [
            ("get", f"/api/v1/labs/{lab}", None),
            ("patch", f"/api/v1/labs/{lab}", {"version": 2, "title": "pwned"}),
            ("post", f"/api/v1/labs/{lab}/publish", None),
            ("post", f"/api/v1/labs/{lab}/retire", None),
            ("post", f"/api/v1/labs/{lab}/enable", None),
            ("post", f"/api/v1/labs/{lab}/disable", None),
            ("get", f"/api/v1/labs/{lab}/assignments", None),
            ("post", f"/api/v1/labs/{lab}/assignments", {"assignee_type": "user", "assignee_id": gus}),
            ("delete", f"/api/v1/labs/{lab}/assignments/user/{gus}", None),
            ("get", f"/api/v1/labs/{lab}/progress", None),
            ("get", f"/api/v1/lab-sessions/{session}", None),
            ("post", f"/api/v1/lab-sessions/{session}/extend", {"minutes": 10}),
            ("post", f"/api/v1/lab-sessions/{session}/end", None),
            ("get", f"/api/v1/lab-sessions/{session}/access", None),
            ("post", f"/api/v1/lab-sessions/{session}/tasks/queue/check", None),
        ]
        for method, path, body in calls:
            response = getattr(client, method)(path, body or {}, format="json")
            assert response.status_code == 404, (method, path, response.status_code, response.content[:200])
            assert "globex" not in response.content.decode().lower()
        assert client.post("/api/v1/lab-sessions", {"lab_id": lab, "user_id": gus}, format="json").status_code == 404
        listed = client.get("/api/v1/lab-sessions", {"user_id": gus}).json()["results"]
        assert listed == []
        assert all(item["lab_id"] != lab for item in client.get("/api/v1/labs").json()["results"])
        assert client.get("/api/v1/lab-sessions", {"active": "true"}).json()["results"] == []
        for method, path in [
            ("get", "/api/v1/lab-accounts?state=LEASED&shard=main"),
            ("get", f"/api/v1/lab-accounts/{world['globex_session'].account_id}"),
            ("post", f"/api/v1/lab-accounts/{world['globex_session'].account_id}/quarantine"),
            ("post", f"/api/v1/lab-accounts/{world['globex_session'].account_id}/retry-cleanup"),
            ("post", f"/api/v1/lab-accounts/{world['globex_session'].account_id}/eject"),
            ("get", "/api/v1/lab-pool"),
        ]:
            assert getattr(client, method)(path, {}, format="json").status_code == 403, path
    from labs.selectors import lab_session_get

    assert lab_session_get(tenant_id=tid("globex"), session_id=session).state.value == "READY"
    assert user_get_by_email(tenant_id=tid("globex"), email="gus@globex.example") is not None


def test_system_admins_manage_the_pool_and_support_reads_it(world):
    admin = bearer(operator_token("SystemAdmin", "root@cloudkida.example"))
    support = bearer(operator_token("CustomerSupport", "help@cloudkida.example"))
    listed = admin.get("/api/v1/lab-accounts", {"state": "AVAILABLE", "shard": "main"}).json()["results"]
    assert len(listed) == 2  # three in the pool, one leased by globex
    account = listed[0]["account_id"]
    assert support.get(f"/api/v1/lab-accounts/{account}").json()["state"] == "AVAILABLE"
    assert support.post(f"/api/v1/lab-accounts/{account}/quarantine", {}, format="json").status_code == 403
    quarantined = admin.post(
        f"/api/v1/lab-accounts/{account}/quarantine", {"reason": "suspicious"}, format="json"
    ).json()
    assert quarantined["state"] == "QUARANTINED" and quarantined["quarantine_reason"] == "suspicious"
    assert admin.post(f"/api/v1/lab-accounts/{account}/retry-cleanup").json()["state"] == "AVAILABLE"
    assert admin.post(f"/api/v1/lab-accounts/{account}/eject").json()["state"] == "EJECTED"
    leased = world["globex_session"].account_id
    refused = admin.post(f"/api/v1/lab-accounts/{leased}/eject")
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_state"
    assert admin.get("/api/v1/lab-accounts/999999999999").status_code == 404
    stats = support.get("/api/v1/lab-pool").json()
    assert len(stats["hours"]) == 24 and sum(h["leases"] for h in stats["hours"]) == 1
    assert stats["targets"]["us-east-1"] == {"min_available": 3, "max_size": 10}
