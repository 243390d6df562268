"""Webhooks end to end: events recorded in the change's own transaction, relayed through the outbox and SQS,
delivered signed to a real HTTP server on loopback, retried with back-off, logged, disabled after a day of
failures, redelivered; the documented verifier; SSRF refusals; tenant isolation."""

from __future__ import annotations

import json
import socket
import time
from datetime import timedelta

import jsonschema
import pytest
from standardwebhooks import Webhook

from accounts.integrations import delivery as http
from accounts.integrations import webhook_repository as repo
from accounts.integrations import webhooks
from accounts.integrations.domain import DeliveryStatus, EndpointStatus
from accounts.services import user_update
from cloudkida import clock, events
from cloudkida.dynamo import tables
from cloudkida.errors import Conflict, ValidationFailed
from tests.accounts.webhook_receiver import documented_verifier, serve
from tests.conftest import tid
from tests.fixtures_platform import mail_to
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def receiver():
    server, received = serve()
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture
def acme():
    register("acme")
    return bearer(login("acme", "admin@acme.example"))


def _endpoint(api, url: str, types=("user.invited",), **extra) -> dict:
    response = api.post("/api/v1/webhook-endpoints", {"url": url, "event_types": list(types), **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _invite(api, email: str) -> dict:
    response = api.post("/api/v1/users", {"email": email, "name": "Ada"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _run() -> dict:
    return {**webhooks.relay(), **webhooks.drain(seconds=10)}


def _pending_events(tenant_id: str) -> list:
    return [e for e in repo.outbox_pending(tables.pooled_table().name) if e.tenant_id == tenant_id]


def test_an_invitation_is_delivered_once_signed_and_matching_its_schema(acme, receiver):
    endpoint = _endpoint(acme, receiver.url)
    assert endpoint["secret"].startswith("whsec_") and endpoint["status"] == "active"
    ada = _invite(acme, "ada@acme.example")
    (event,) = _pending_events(tid("acme"))  # written with the user, before anything is sent
    assert event.type == "user.invited" and receiver.requests == []
    assert _run()["sent"] == 1
    (request,) = receiver.requests
    verify = documented_verifier()
    verify(endpoint["secret"], request.headers, request.body)
    assert Webhook(endpoint["secret"]).verify(request.body, request.headers)  # the reference implementation
    payload = json.loads(request.body)
    assert payload["type"] == "user.invited" and payload["version"] == 1
    assert payload["data"] == {
        "user_id": ada["user_id"],
        "email": "ada@acme.example",
        "name": "Ada",
        "role": "TenantUser",
    }
    jsonschema.validate(
        payload["data"], events.catalogue()[[t.name for t in events.catalogue()].index("user.invited")].schema
    )
    assert request.path == "/hooks/cloudkida" and request.headers["webhook-id"].startswith("msg_")
    deliveries = acme.get(f"/api/v1/webhook-endpoints/{endpoint['endpoint_id']}/deliveries").json()["results"]
    (delivered,) = deliveries
    assert delivered["status"] == "delivered" and delivered["delivery_id"] == request.headers["webhook-id"]
    (attempt,) = delivered["attempts"]
    assert attempt["status_code"] == 200 and attempt["latency_ms"] >= 0
    assert _run() == {"relayed": 0, "queued": 0, "sent": 0, "failed": 0, "dropped": 0, "not_due": 0}
    assert len(receiver.requests) == 1


def test_a_change_that_fails_records_no_event(acme, receiver):
    _endpoint(acme, receiver.url, types=("user.disabled",))
    ada = _invite(acme, "ada@acme.example")
    with pytest.raises(Conflict):  # a stale version: the transaction is refused, and its event with it
        user_update(tenant_id=tid("acme"), user_id=ada["user_id"], expected_version=99, status="DISABLED")
    webhooks.relay()
    assert [e.type for e in _pending_events(tid("acme"))] == []
    assert _run()["sent"] == 0 and receiver.requests == []
    user_update(tenant_id=tid("acme"), user_id=ada["user_id"], expected_version=ada["version"], status="DISABLED")
    assert _run()["sent"] == 1
    assert json.loads(receiver.requests[0].body)["data"] == {"user_id": ada["user_id"], "email": "ada@acme.example"}


def test_an_outbox_event_survives_a_crash_between_the_change_and_the_send(acme, receiver, fail_aws):
    _endpoint(acme, receiver.url)
    _invite(acme, "ada@acme.example")
    fail_aws("sqs", "SendMessageBatch", times=1)
    with pytest.raises(Exception, match="injected failure"):
        webhooks.relay()
    assert [e.type for e in _pending_events(tid("acme"))] == ["user.invited"]  # still in the outbox
    assert receiver.requests == []
    assert _run()["sent"] == 1
    assert len(receiver.requests) == 1 and _pending_events(tid("acme")) == []


def test_a_failing_endpoint_is_retried_with_back_off_each_attempt_logged_then_succeeds(acme, receiver):
    endpoint = _endpoint(acme, receiver.url)
    receiver.statuses = [500, 503]
    _invite(acme, "ada@acme.example")
    start = clock.now()
    with clock.frozen(start):
        assert _run()["failed"] == 1
        assert _run()["sent"] == 0  # the retry is not due yet: nothing is sent
    with clock.frozen(start + timedelta(seconds=6)):
        assert webhooks.drain()["failed"] == 1
    with clock.frozen(start + timedelta(seconds=6 + 299)):
        assert webhooks.drain()["sent"] == 0  # five minutes after the second attempt, not before
    with clock.frozen(start + timedelta(seconds=6 + 301)):
        assert webhooks.drain()["sent"] == 1
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1  # one message id across its attempts
    (delivered,) = acme.get(f"/api/v1/webhook-endpoints/{endpoint['endpoint_id']}/deliveries").json()["results"]
    assert delivered["status"] == "delivered"
    assert [a["status_code"] for a in delivered["attempts"]] == [500, 503, 200]
    assert all(isinstance(a["latency_ms"], int) for a in delivered["attempts"])
    current = acme.get(f"/api/v1/webhook-endpoints/{endpoint['endpoint_id']}").json()
    assert current["failing_since"] is None and current["status"] == "active"


def test_an_endpoint_failing_for_a_day_is_disabled_its_contact_emailed_then_redelivered(acme, receiver):
    endpoint = _endpoint(acme, receiver.url, contact_email="ops@acme.example")
    receiver.statuses = [500] * 8
    _invite(acme, "ada@acme.example")
    start, offset = clock.now(), 0
    with clock.frozen(start):
        assert _run()["failed"] == 1
    for delay in webhooks.RETRY_DELAYS:
        offset += delay
        with clock.frozen(start + timedelta(seconds=offset)):
            assert webhooks.drain()["failed"] == 1
    assert offset > 86400 and len(receiver.requests) == 8
    path = f"/api/v1/webhook-endpoints/{endpoint['endpoint_id']}"
    current = acme.get(path).json()
    assert current["status"] == "disabled" and "every delivery failed" in current["disabled_reason"]
    assert any("was disabled" in body or endpoint["url"] in body for body in mail_to("ops@acme.example"))
    (failed,) = acme.get(f"{path}/deliveries").json()["results"]
    assert failed["status"] == "failed" and len(failed["attempts"]) == 8
    redeliver = f"{path}/deliveries/{failed['delivery_id']}/redeliver"
    assert acme.post(redeliver).json()["code"] == "endpoint_disabled"
    acme.patch(path, {"version": current["version"], "status": "active"}, format="json")
    assert acme.post(redeliver).status_code == 202
    assert webhooks.drain()["sent"] == 1
    (again,) = acme.get(f"{path}/deliveries").json()["results"]
    assert again["status"] == "delivered" and [a["status_code"] for a in again["attempts"]][-1] == 200


def test_rotation_signs_with_both_secrets_during_the_overlap_and_replays_or_tampering_fail(acme, receiver):
    endpoint = _endpoint(acme, receiver.url)
    path = f"/api/v1/webhook-endpoints/{endpoint['endpoint_id']}"
    rotated = acme.post(f"{path}/rotate-secret", {"overlap_seconds": 3600}, format="json").json()
    old, new = endpoint["secret"], rotated["secret"]
    assert new != old and len(rotated["secrets"]) == 2
    assert acme.get(f"{path}/secret").json() == {"secret": new}
    _invite(acme, "ada@acme.example")
    _run()
    (request,) = receiver.requests
    verify = documented_verifier()
    assert len(request.headers["webhook-signature"].split()) == 2
    verify(old, request.headers, request.body)
    verify(new, request.headers, request.body)
    with pytest.raises(ValueError, match="signature"):
        verify(new, request.headers, request.body.replace(b"ada@", b"eve@"))  # tampered
    with pytest.raises(ValueError, match="signature"):
        verify(http.new_secret(), request.headers, request.body)
    replayed = {**request.headers, "webhook-timestamp": str(int(time.time()) - 600)}
    with pytest.raises(ValueError):
        verify(new, replayed, request.body)  # an old timestamp: refused (and re-signing needs the secret)
    with clock.frozen(clock.now() + timedelta(seconds=3601)):
        _invite(acme, "bob@acme.example")
        _run()
    assert len(receiver.requests[1].headers["webhook-signature"].split()) == 1  # the old secret has expired


def test_private_and_local_destinations_are_refused_in_the_production_profile(acme, receiver, settings, monkeypatch):
    endpoint = _endpoint(acme, receiver.url)  # loopback: allowed in tests
    settings.CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK = False  # what production enforces
    for url in (
        receiver.url,
        "https://127.0.0.1/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/latest",
        "https://[::ffff:127.0.0.1]/x",
        "http://hooks.example.com/x",
        "https://user:pw@hooks.example.com/x",
        "ftp://hooks.example.com/x",
    ):
        with pytest.raises(ValidationFailed):
            http.check_url(url)
    refused = acme.post("/api/v1/webhook-endpoints", {"url": "https://10.1.2.3/h", "event_types": ["*"]}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_url"
    # A name is checked when delivering, after resolution: one that resolves to a private address is refused.
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: (
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
            if host == "hooks.example.com"
            else real(host, *a, **k)
        ),
    )
    outcome = http.post("https://hooks.example.com/x", b"{}", {})
    assert outcome.status_code is None and outcome.error.startswith("blocked") and "10.0.0.7" in outcome.error
    # The loopback endpoint registered earlier is refused at delivery time, and nothing reaches it.
    _invite(acme, "ada@acme.example")
    assert _run()["failed"] == 1 and receiver.requests == []
    (delivery,) = acme.get(f"/api/v1/webhook-endpoints/{endpoint['endpoint_id']}/deliveries").json()["results"]
    assert delivery["attempts"][0]["status_code"] is None and "blocked" in delivery["attempts"][0]["error"]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("127.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - classified, never bound
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a9fe:a9fe", False),
    ],
)
def test_addresses_are_classified_public_or_not(address, public):
    import ipaddress

    assert http.is_public(ipaddress.ip_address(address)) is public


def test_production_refuses_loopback_deliveries():
    import subprocess
    import sys

    from tests.cloudkida.test_settings import GOOD_ENV

    env = {**GOOD_ENV, "CLOUDKIDA_ENV": "production", "CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK": "1", "PATH": "/usr/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import cloudkida.settings"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK" in result.stderr


def test_another_tenants_endpoints_and_deliveries_are_out_of_reach(acme, receiver):
    endpoint = _endpoint(acme, receiver.url, types=("*",))
    _invite(acme, "ada@acme.example")
    _run()
    (delivery,) = acme.get(f"/api/v1/webhook-endpoints/{endpoint['endpoint_id']}/deliveries").json()["results"]
    register("globex")
    globex = bearer(login("globex", "admin@globex.example"))
    path = f"/api/v1/webhook-endpoints/{endpoint['endpoint_id']}"
    assert globex.get("/api/v1/webhook-endpoints").json()["results"] == []
    assert globex.get(path).status_code == 404
    assert globex.patch(path, {"version": 1, "description": "mine"}, format="json").status_code == 404
    assert globex.get(f"{path}/secret").status_code == 404
    assert globex.post(f"{path}/rotate-secret", {}, format="json").status_code == 404
    assert globex.get(f"{path}/deliveries").status_code == 404
    assert globex.post(f"{path}/deliveries/{delivery['delivery_id']}/redeliver").status_code == 404
    assert globex.delete(path).status_code == 404
    # Globex's own endpoint hears only globex's events.
    other, other_receiver = serve()
    try:
        _endpoint(globex, other_receiver.url, types=("*",))
        _invite(acme, "bob@acme.example")
        _run()
        assert other_receiver.requests == [] and len(receiver.requests) == 2
    finally:
        other.shutdown()
        other.server_close()
    assert (
        acme.get(path).json()["secrets"]
        and webhooks.endpoint_get(tenant_id=tid("acme"), endpoint_id=endpoint["endpoint_id"]).status
        is EndpointStatus.ACTIVE
    )


def test_endpoints_need_known_event_types_and_learners_and_read_keys_cannot_manage_them(acme, receiver):
    bad = acme.post("/api/v1/webhook-endpoints", {"url": receiver.url, "event_types": ["nope"]}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_event_types"
    catalogue = acme.get("/api/v1/webhook-event-types").json()["results"]
    assert {"lab_session.ready", "task.checked", "user.invited", "user_import.completed"} <= {
        t["name"] for t in catalogue
    }
    _invite(acme, "dev@acme.example")
    learner = bearer(login("acme", "dev@acme.example"))
    assert learner.get("/api/v1/webhook-endpoints").status_code == 403
    assert (
        learner.post(
            "/api/v1/webhook-endpoints", {"url": receiver.url, "event_types": ["*"]}, format="json"
        ).status_code
        == 403
    )


def test_a_duplicate_message_for_an_attempt_is_dropped(acme, receiver):
    _endpoint(acme, receiver.url)
    _invite(acme, "ada@acme.example")
    webhooks.relay()
    (event_delivery,) = [
        d
        for d in repo.delivery_page(
            tid("acme"), webhooks.endpoint_list(tenant_id=tid("acme"))[0].endpoint_id, limit=5, cursor=None
        ).items
    ]
    message = {"t": tid("acme"), "e": event_delivery.endpoint_id, "d": event_delivery.delivery_id, "n": 1, "at": 0}
    assert webhooks.handle(message) == "sent"
    assert webhooks.handle(message) == "dropped"  # the queue's copy of the same attempt
    assert webhooks.drain()["dropped"] == 1 and len(receiver.requests) == 1
    stored = repo.delivery_get(tid("acme"), event_delivery.endpoint_id, event_delivery.delivery_id)
    assert stored.status is DeliveryStatus.DELIVERED and len(stored.attempts) == 1


def test_the_documented_catalogue_is_the_declared_one():
    from tests.accounts.webhook_receiver import DOCS

    assert webhooks.catalogue_markdown() in DOCS.read_text()
