"""The webhook events labs emits (declared from LabsConfig.ready; see cloudkida.events): a lab session's
life and a task's check. ``session_also`` is what the session transactions add."""

from __future__ import annotations

from cloudkida import clock, events
from cloudkida.dynamo import Also
from cloudkida.events import EventType
from labs.domain import LabSession

_SESSION = {
    "session_id": {"type": "string"},
    "lab_id": {"type": "string"},
    "user_id": {"type": "string"},
    "region": {"type": "string"},
    "state": {"type": "string"},
    "at": {"type": "string", "format": "date-time"},
}
_REQUIRED = ["session_id", "lab_id", "user_id", "region", "state", "at"]


def _session_type(what: str, description: str, **extra) -> EventType:
    return EventType(
        f"lab_session.{what}",
        1,
        description,
        {
            "type": "object",
            "required": _REQUIRED + sorted(extra),
            "properties": {**_SESSION, **extra},
            "additionalProperties": False,
        },
    )


SESSION_REQUESTED = _session_type("requested", "A learner started a lab; its account is being prepared.")
SESSION_READY = _session_type(
    "ready", "The lab is ready: the learner can use it until the deadline.", deadline={"type": "string"}
)
SESSION_ENDED = _session_type(
    "ended", "The lab ended and its account was cleaned.", ended_by={"type": "string"}, minutes_used={"type": "integer"}
)
SESSION_FAILED = _session_type("failed", "Preparing the lab failed.", reason={"type": "string"})
TASK_CHECKED = EventType(
    "task.checked",
    1,
    'A learner\'s task was checked ("Check my work"), passed or not.',
    {
        "type": "object",
        "required": ["session_id", "lab_id", "user_id", "task_id", "passed", "at"],
        "properties": {
            "session_id": {"type": "string"},
            "lab_id": {"type": "string"},
            "user_id": {"type": "string"},
            "task_id": {"type": "string"},
            "passed": {"type": "boolean"},
            "task_count": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
        },
        "additionalProperties": False,
    },
)
TYPES = (SESSION_REQUESTED, SESSION_READY, SESSION_ENDED, SESSION_FAILED, TASK_CHECKED)


def session_also(what: str, session: LabSession, **extra) -> list[Also]:
    """The event ``lab_session.<what>`` of ``session`` for the transaction that makes the change."""
    data = {
        "session_id": session.session_id,
        "lab_id": session.lab_id,
        "user_id": session.user_id,
        "region": session.region,
        "state": what,
        "at": clock.to_iso(clock.now()),
        **extra,
    }
    return events.also(
        session.tenant_id, f"lab_session.{what}", data, event_id=f"lab_session.{what}:{session.session_id}"
    )
