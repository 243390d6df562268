"""The webhook events accounts emits (declared from AccountsConfig.ready; see cloudkida.events)."""

from __future__ import annotations

from cloudkida.events import EventType

_USER = {
    "user_id": {"type": "string"},
    "email": {"type": "string", "format": "email"},
}

USER_INVITED = EventType(
    "user.invited",
    1,
    "A person was invited to the organisation (a sign-in was made and an invitation sent).",
    {
        "type": "object",
        "required": ["user_id", "email", "role"],
        "properties": {**_USER, "name": {"type": "string"}, "role": {"enum": ["TenantAdmin", "TenantUser"]}},
        "additionalProperties": False,
    },
)
USER_DISABLED = EventType(
    "user.disabled",
    1,
    "A person was disabled: they can no longer sign in.",
    {"type": "object", "required": ["user_id", "email"], "properties": _USER, "additionalProperties": False},
)
IMPORT_COMPLETED = EventType(
    "user_import.completed",
    1,
    "A bulk import of people finished.",
    {
        "type": "object",
        "required": ["import_id", "rows", "created", "already_members", "invalid"],
        "properties": {
            "import_id": {"type": "string"},
            "rows": {"type": "integer"},
            "created": {"type": "integer"},
            "already_members": {"type": "integer"},
            "invalid": {"type": "integer"},
        },
        "additionalProperties": False,
    },
)
TYPES = (USER_INVITED, USER_DISABLED, IMPORT_COMPLETED)
