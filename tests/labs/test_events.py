"""A lab session's life and its task checks become webhook events, each in the transaction of its change,
each matching its declared schema; a failed start records a failure event and no ready one."""

from __future__ import annotations

import json

import jsonschema
import pytest

from accounts.integrations import webhook_repository
from cloudkida import events
from cloudkida.dynamo import tables
from labs.domain import EndReason, SessionState
from labs.services import lab_session_check, lab_session_end, lab_session_start
from tests.labs.conftest import global_lab, learner, offer, register

pytestmark = pytest.mark.usefixtures("pool")


def _outbox(tenant_id: str) -> list:
    return [e for e in webhook_repository.outbox_pending(tables.pooled_table().name) if e.tenant_id == tenant_id]


def _schema(name: str) -> dict:
    return next(t.schema for t in events.catalogue() if t.name == name)


def test_a_sessions_life_and_its_checks_are_recorded_as_events(federation):
    acme = register("acme")
    lee = learner(acme)
    lab = global_lab()
    offer(acme, lab, lee)
    session = lab_session_start(tenant_id=acme, user_id=lee, lab_id=lab.lab_id, actor="test")
    assert session.state is SessionState.READY
    assert lab_session_check(tenant_id=acme, session_id=session.session_id, task_id="queue")["passed"] is False
    lab_session_end(tenant_id=acme, session_id=session.session_id, by=EndReason.LEARNER, actor="test")
    recorded = _outbox(acme)
    types = [e.type for e in recorded]
    assert types[:2] == ["lab_session.requested", "lab_session.ready"]
    assert set(types) == {"lab_session.requested", "lab_session.ready", "task.checked", "lab_session.ended"}
    for event in recorded:
        jsonschema.validate(event.data, _schema(event.type))
        assert event.data["session_id"] == session.session_id and event.data["user_id"] == lee
    by_type = {e.type: e.data for e in recorded}
    assert by_type["task.checked"]["passed"] is False and by_type["task.checked"]["task_id"] == "queue"
    assert by_type["lab_session.ended"]["ended_by"] == "learner"
    assert json.dumps(by_type)  # plain JSON, as the body will carry it


def test_a_failed_provisioning_records_failed_and_never_ready(federation, fail_aws):
    acme = register("acme")
    lee = learner(acme)
    lab = global_lab()
    offer(acme, lab, lee)
    fail_aws("cloudformation", "CreateStack", times=1, code="InsufficientCapabilitiesException")
    session = lab_session_start(tenant_id=acme, user_id=lee, lab_id=lab.lab_id, actor="test")
    assert session.state is SessionState.FAILED, session.state
    types = [e.type for e in _outbox(acme)]
    assert "lab_session.failed" in types and "lab_session.ready" not in types
    failed = next(e.data for e in _outbox(acme) if e.type == "lab_session.failed")
    jsonschema.validate(failed, _schema("lab_session.failed"))
    assert failed["reason"].startswith("stack: ") and "InsufficientCapabilities" in failed["reason"]
