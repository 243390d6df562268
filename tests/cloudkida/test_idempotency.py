"""Idempotent creates: the same Idempotency-Key and body within 24 h returns the first answer; another body
with the same key is 422; a failure is not remembered; callers never see each other's answers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from accounts.selectors import user_list
from cloudkida import clock, idempotency
from cloudkida.errors import Conflict
from tenants.selectors import tenant_list
from tests.conftest import tid
from tests.fixtures_platform import REGISTRATION
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


def _invite(client, key: str, **body):
    return client.post(
        "/api/v1/users", {"email": "dev@acme.example", "name": "Dev", **body}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


@pytest.fixture
def acme():
    register("acme")
    return bearer(login("acme", "admin@acme.example"))


def test_a_retried_invite_returns_the_first_answer_and_invites_once(acme):
    first = _invite(acme, "invite-dev-1")
    again = _invite(acme, "invite-dev-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert [u.email for u in user_list(tenant_id=tid("acme")).items].count("dev@acme.example") == 1


def test_the_same_key_with_another_body_is_422(acme):
    _invite(acme, "invite-dev-2")
    refused = _invite(acme, "invite-dev-2", name="Someone Else")
    assert refused.status_code == 422 and refused.json()["code"] == "idempotency_key_reused"


def test_a_failed_request_is_not_remembered(acme):
    taken = _invite(acme, "invite-admin", email="admin@acme.example")
    assert taken.status_code == 409  # already a user
    retried = _invite(acme, "invite-admin", email="admin@acme.example")
    assert retried.status_code == 409 and "Idempotent-Replayed" not in retried  # it ran again


def test_keys_are_scoped_to_the_caller(acme):
    register("globex")
    globex = bearer(login("globex", "admin@globex.example"))
    mine = _invite(acme, "shared-key")
    theirs = _invite(globex, "shared-key", email="dev@globex.example")
    assert mine.status_code == theirs.status_code == 201
    assert theirs.json()["email"] == "dev@globex.example" and "Idempotent-Replayed" not in theirs


def test_a_key_is_forgotten_after_its_lifetime(acme, settings):
    first = _invite(acme, "invite-dev-3")
    later = datetime.now(UTC) + timedelta(seconds=settings.CLOUDKIDA_IDEMPOTENCY_SECONDS + 5)
    with clock.frozen(later):
        again = _invite(acme, "invite-dev-3")
    assert first.status_code == 201 and again.status_code == 409  # it ran again: now a duplicate


def test_a_bad_key_is_400(acme):
    assert _invite(acme, "x" * 300).json()["code"] == "invalid_idempotency_key"
    assert _invite(acme, "has space").json()["code"] == "invalid_idempotency_key"


def test_a_retried_sign_up_returns_the_first_answer(settings):
    api = APIClient(REMOTE_ADDR="198.51.100.40")
    first = api.post("/api/v1/registrations", REGISTRATION, format="json", HTTP_IDEMPOTENCY_KEY="signup-1")
    again = api.post("/api/v1/registrations", REGISTRATION, format="json", HTTP_IDEMPOTENCY_KEY="signup-1")
    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    assert len(tenant_list().items) == 1
    elsewhere = APIClient(REMOTE_ADDR="203.0.113.40")  # another caller with the same key runs it afresh
    other = elsewhere.post("/api/v1/registrations", REGISTRATION, format="json", HTTP_IDEMPOTENCY_KEY="signup-1")
    assert other.status_code == 409 and other.json()["details"]["constraint"] == "slug"


def test_a_repeat_while_the_first_runs_is_409_then_replays():
    started, release = threading.Event(), threading.Event()
    answers: list = []

    def slow():
        started.set()
        release.wait(timeout=10)
        return 201, {"made": 1}

    def first():
        answers.append(idempotency.run(tenant_id="", subject="t", key="k", request_fingerprint="f", operation=slow))

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(timeout=10)
    with pytest.raises(Conflict) as raised:
        idempotency.run(tenant_id="", subject="t", key="k", request_fingerprint="f", operation=lambda: (201, {}))
    assert raised.value.code == "idempotency_in_progress"
    release.set()
    thread.join()
    assert answers == [(201, {"made": 1}, False)]
    replay = idempotency.run(tenant_id="", subject="t", key="k", request_fingerprint="f", operation=lambda: (500, {}))
    assert replay == (201, {"made": 1}, True)
