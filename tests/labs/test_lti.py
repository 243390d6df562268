"""LTI 1.3 against an emulated learning platform with its own keys: the login and launch sign a new
student in just in time (in the course's group, the lab assigned to it) and land on the lab; a replayed
launch is refused; a passed task becomes an AGS score; deep linking places a lab in a course with a
signed response; a platform of one tenant never launches into another."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts.domain import Role
from accounts.integrations import data_rights, webhooks
from accounts.selectors import group_list, user_get_by_email, user_groups
from cloudkida import aws, clock
from labs.lti import platforms, services, tool
from labs.selectors import lab_catalog
from labs.services import lab_enable, lab_session_access, lab_session_check, lab_session_start
from tenants import repository as tenant_repository
from tenants.selectors import tenant_id_for_slug
from tests.identity.conftest import bearer, login
from tests.labs.conftest import global_lab, register
from tests.labs.lms_emulator import LmsEmulator

pytestmark = [pytest.mark.usefixtures("pool"), pytest.mark.django_db]
HOST = "acme.localhost:8000"


@pytest.fixture
def lms():
    emulator = LmsEmulator()
    yield emulator
    emulator.close()


@pytest.fixture
def acme(lms):
    tenant_id = register("acme")
    admin = bearer(login("acme", "admin@acme.example"))
    created = admin.post("/api/v1/lti-platforms", lms.registration(), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["tool"]["launch_url"].endswith("/lti/launch")
    lms.tool_jwks = Client(HTTP_HOST=HOST).get("/lti/jwks").json()
    return tenant_id, admin


def _launch(client: Client, lms: LmsEmulator, claims: dict, *, login_hint: str = "student-1"):
    started = client.get("/lti/login", lms.login_initiation(login_hint=login_hint, target="http://x/anything"))
    assert started.status_code == 302, started.content
    form = lms.authorize(
        started["Location"], redirect_uri=f"http://{HOST}/lti/launch", login_hint=login_hint, claims=claims
    )
    return client.post("/lti/launch", form), form


def test_a_launch_signs_a_new_student_in_and_a_passed_task_becomes_a_grade(acme, lms, federation):
    tenant_id, _admin = acme
    lab = global_lab()
    lab_enable(tenant_id=tenant_id, lab_id=lab.lab_id, enabled=True, actor="test")
    browser = Client(HTTP_HOST=HOST)
    claims = lms.resource_link(
        sub="student-1",
        email="stu@uni.example",
        name="Stu Dent",
        lab_id=lab.lab_id,
        course="Cloud 101",
        lineitem="li-7",
    )
    landed, form = _launch(browser, lms, claims)
    assert landed.status_code == 302 and landed["Location"] == f"/labs/{lab.lab_id}/", landed.content
    student = user_get_by_email(tenant_id=tenant_id, email="stu@uni.example")
    assert student is not None and student.name == "Stu Dent" and student.role is Role.TENANT_USER
    assert [g.name for g in user_groups(tenant_id=tenant_id, user_id=student.user_id)] == ["Cloud 101"]
    visible = lab_catalog(tenant_id=tenant_id, user_id=student.user_id, role=Role.TENANT_USER)
    assert [e.lab.lab_id for e in visible if e.can_start] == [lab.lab_id]  # assigned through the course's group
    page = browser.get(f"/labs/{lab.lab_id}/")
    assert page.status_code == 200 and lab.title.encode() in page.content  # signed in, no password
    replay = Client(HTTP_HOST=HOST).post("/lti/launch", form)
    assert replay.status_code == 403
    again = browser.post("/lti/launch", form)
    assert again.status_code == 403  # the nonce is used once, even from the same browser
    # A second launch of the same person makes no second user.
    _launch(browser, lms, claims)
    assert len([g for g in group_list(tenant_id=tenant_id).items if g.name == "Cloud 101"]) == 1
    # The task passes: the relayed event sends the score through AGS.
    session = lab_session_start(tenant_id=tenant_id, user_id=student.user_id, lab_id=lab.lab_id, actor="test")
    access = lab_session_access(tenant_id=tenant_id, session_id=session.session_id)["credentials"]
    learner_sqs = aws.client(
        "sqs",
        credentials={
            "AccessKeyId": access["access_key_id"],
            "SecretAccessKey": access["secret_access_key"],
            "SessionToken": access["session_token"],
        },
    )
    learner_sqs.create_queue(QueueName="orders-queue")
    assert lab_session_check(tenant_id=tenant_id, session_id=session.session_id, task_id="queue")["passed"]
    webhooks.relay()
    assert lms.refusals == []
    (score,) = lms.scores
    assert score["lineitem"] == "/lineitems/li-7" and score["userId"] == "student-1"
    assert (score["scoreGiven"], score["scoreMaximum"]) == (1, 2) and score["activityProgress"] == "InProgress"
    assert len(lms.jtis) == 1 and len(lms.tokens) == 1
    # Erasing the student drops the way back to the platform (its id for them) and keeps the usage.
    exported = data_rights.personal_data_export(tenant_id=tenant_id, user_id=student.user_id)
    assert "lti-link" in {i["kind"] for i in exported["items"]} and "lab-session" in {
        i["kind"] for i in exported["items"]
    }
    data_rights.personal_data_erase(tenant_id=tenant_id, user_id=student.user_id, actor="test")
    left = {
        k
        for _t, _table, item in data_rights._items(tenant_id)
        if data_rights._names(item, student.user_id, "stu@uni.example")
        for k in [item["SK"].split("#")[0]]
    }
    assert "LTILINK" not in left and "SESSION" in left


def test_deep_linking_places_a_lab_in_the_course_with_a_signed_response(acme, lms):
    tenant_id, _admin = acme
    lab = global_lab()
    lab_enable(tenant_id=tenant_id, lab_id=lab.lab_id, enabled=True, actor="test")
    browser = Client(HTTP_HOST=HOST)
    page, _form = _launch(browser, lms, lms.deep_linking(sub="ivy", email="ivy@uni.example", course="Cloud 101"))
    assert page.status_code == 200 and lab.title.encode() in page.content
    action = re.search(rb'action="(/lti/deep-link/[^"]+)"', page.content).group(1).decode()
    chosen = browser.post(action, {"lab_id": lab.lab_id})
    assert chosen.status_code == 200
    assert lms.base in chosen["Content-Security-Policy"]
    token = re.search(rb'name="JWT" value="([^"]+)"', chosen.content).group(1).decode()
    claims = lms.verify_deep_link_response(token)
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["custom"] == {"lab_id": lab.lab_id}
    assert item["url"] == f"http://{HOST}/lti/launch" and item["lineItem"]["scoreMaximum"] == 2


def test_a_platform_of_one_tenant_never_launches_into_another_and_bad_tokens_are_refused(acme, lms):
    tenant_id, admin = acme
    register("globex")
    globex = bearer(login("globex", "admin@globex.example"))
    assert globex.get("/api/v1/lti-platforms").json()["results"] == []
    platform_id = admin.get("/api/v1/lti-platforms").json()["results"][0]["platform_id"]
    assert globex.delete(f"/api/v1/lti-platforms/{platform_id}").status_code == 404
    claims = lms.resource_link(sub="s2", email="s2@uni.example", name="S Two", lab_id="none", course="C", lineitem="x")
    other = Client(HTTP_HOST="globex.localhost:8000")
    started = other.get("/lti/login", lms.login_initiation(login_hint="s2", target="x"))
    form = lms.authorize(
        started["Location"], redirect_uri="http://globex.localhost:8000/lti/launch", login_hint="s2", claims=claims
    )
    refused = other.post("/lti/launch", form)
    assert refused.status_code == 403 and b"another organisation" in refused.content
    assert user_get_by_email(tenant_id=tenant_id_for_slug("globex"), email="s2@uni.example") is None
    # Signed by someone else's key: refused, nobody signed in.
    browser = Client(HTTP_HOST=HOST)
    started = browser.get("/lti/login", lms.login_initiation(login_hint="s3", target="x"))
    forged = lms.authorize(
        started["Location"],
        redirect_uri=f"http://{HOST}/lti/launch",
        login_hint="s3",
        claims={**claims, "sub": "s3", "email": "s3@uni.example"},
        key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )
    assert browser.post("/lti/launch", forged).status_code == 403
    assert user_get_by_email(tenant_id=tenant_id, email="s3@uni.example") is None
    unknown = browser.get("/lti/login", {**lms.login_initiation(login_hint="s4", target="x"), "client_id": "nope"})
    assert unknown.status_code == 400
    assert tool.RepoToolConf().get_jwks()["keys"][0]["alg"] == "RS256"


def test_a_platform_url_that_resolves_to_a_local_address_is_not_called_in_the_production_profile(acme, lms, settings):
    """The platform's URLs are a tenant's input: its JWKS and grade endpoints go through the webhooks'
    address checks at the time of the call, so with loopback refused (production) nothing reaches them."""
    tenant_id, _admin = acme
    lab = global_lab()
    lab_enable(tenant_id=tenant_id, lab_id=lab.lab_id, enabled=True, actor="test")
    claims = lms.resource_link(
        sub="s9", email="s9@uni.example", name="S Nine", lab_id=lab.lab_id, course="Cloud 9", lineitem="li-9"
    )
    settings.CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK = False  # what production enforces
    refused, _form = _launch(Client(HTTP_HOST=HOST), lms, claims, login_hint="s9")
    assert refused.status_code == 403 and b"refused" in refused.content, refused.content
    assert user_get_by_email(tenant_id=tenant_id, email="s9@uni.example") is None
    # Launched while loopback is allowed, the grade then goes nowhere once it is not: it waits to be sent again.
    settings.CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK = True
    landed, _form = _launch(Client(HTTP_HOST=HOST), lms, claims, login_hint="s9")
    assert landed.status_code == 302, landed.content
    student = user_get_by_email(tenant_id=tenant_id, email="s9@uni.example")
    settings.CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK = False
    checked = {"user_id": student.user_id, "lab_id": lab.lab_id, "task_id": "queue", "passed": True, "task_count": 2}
    assert services.grade_task_checked(tenant_id, checked) is False
    assert lms.scores == [] and lms.tokens == set()
    (waiting,) = platforms.grade_retries_due(clock.now() + timedelta(minutes=15))
    assert waiting.user_id == student.user_id and waiting.attempts == 1


def test_a_score_the_platform_did_not_take_is_sent_again_with_backoff_then_given_up_after_a_day(acme, lms):
    tenant_id, _admin = acme
    lab = global_lab()
    lab_enable(tenant_id=tenant_id, lab_id=lab.lab_id, enabled=True, actor="test")
    claims = lms.resource_link(
        sub="s7", email="s7@uni.example", name="S Seven", lab_id=lab.lab_id, course="Cloud 7", lineitem="li-7"
    )
    assert _launch(Client(HTTP_HOST=HOST), lms, claims, login_hint="s7")[0].status_code == 302
    student = user_get_by_email(tenant_id=tenant_id, email="s7@uni.example")
    checked = {"user_id": student.user_id, "lab_id": lab.lab_id, "passed": True, "task_count": 2}
    start = clock.now()
    lms.down = True  # the platform answers 503
    assert services.grade_task_checked(tenant_id, {**checked, "task_id": "queue"}) is False
    assert services.grades_retry() == {"sent": 0, "waiting": 0, "abandoned": 0, "dropped": 0}  # not due yet
    with clock.frozen(start + timedelta(minutes=16)):
        assert services.grades_retry()["waiting"] == 1  # second failure: the next attempt 30 minutes on
        (waiting,) = platforms.grade_retries_due(clock.now() + timedelta(minutes=31))
        assert waiting.attempts == 2 and not platforms.grade_retries_due(clock.now() + timedelta(minutes=29))
    # Another task passes meanwhile; when the platform is back, the latest score goes, once.
    lms.down = False
    platforms.link_passed(tenant_id, student.user_id, lab.lab_id, "bucket")
    with clock.frozen(start + timedelta(minutes=50)):
        assert services.grades_retry()["sent"] == 1
        assert services.grades_retry()["sent"] == 0
    (score,) = lms.scores
    assert (score["scoreGiven"], score["scoreMaximum"], score["activityProgress"]) == (2, 2, "Completed")
    # A platform down for a day: given up, with an audit event.
    lms.down = True
    assert services.grade_task_checked(tenant_id, {**checked, "task_id": "queue"}) is False
    with clock.frozen(start + timedelta(days=1, hours=1)):
        assert services.grades_retry()["abandoned"] == 1
        assert platforms.grade_retries_due(clock.now() + timedelta(days=2)) == []
    events = tenant_repository.events(tenant_id, action="lti.grade_abandoned").items
    assert any(e.action == "lti.grade_abandoned" and e.details.get("user_id") == student.user_id for e in events)
