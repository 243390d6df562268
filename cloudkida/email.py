"""Every email CloudKida sends goes through here: SES (django-ses) with the sender identity and configuration
set of the stage, and an outbox for the ones SES refuses.

A refused email (SES sandbox, a paused account, a throttle, a network failure) never fails the work that
sent it — an onboarding whose users already exist must not stop for its welcome email. It is kept in the
outbox instead (the tenant's partition, so offboarding and export find it), retried by the ``email-outbox``
schedule and shown to system admins on the tenant's admin page until it is sent or given up.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from cloudkida import clock, resources
from cloudkida.dynamo import QueryScope, Table, tables, tenant_pk
from cloudkida.workflows.runner import describe

logger = logging.getLogger(__name__)

OUTBOX_SK = "OUTBOX#"
PENDING, GAVE_UP = "OUTBOX#PENDING", "OUTBOX#GAVE_UP"
MAX_ATTEMPTS = 10  # then the email is given up (still shown to admins)


@dataclass(frozen=True)
class Queued:
    tenant_id: str
    key: str
    kind: str
    to: str
    subject: str
    attempts: int
    last_error: str
    given_up: bool


@dataclass(frozen=True)
class Message:
    """An email ready to go: text body, optional HTML alternative, the sender's display name, a reply-to."""

    subject: str
    body: str
    html: str = ""
    display_name: str = "CloudKida"
    reply_to: str = ""


# Kinds whose email carries a secret (an invitation's temporary password): the outbox keeps only the
# kind, the address and ``params``; a retry asks the kind's composer for a fresh message (a new secret),
# so no secret is ever stored. A composer returns None when there is nothing to send any more.
Composer = Callable[[str, str, dict[str, Any]], "Message | None"]
_composers: dict[str, Composer] = {}


def register_composer(kind: str, composer: Composer) -> None:
    _composers[kind] = composer


def _table() -> Table:
    return Table(tables.control_table().name)


_connections: dict[str, Any] = {}


def _connection():
    """One mail connection per backend per process: django-ses opens a boto3 client (and asks SES for
    its quota) per connection, which a bulk import would otherwise pay per message."""
    backend = settings.EMAIL_BACKEND
    if backend not in _connections:
        _connections[backend] = get_connection(backend)
    return _connections[backend]


def _deliver(*, to: str, message: Message) -> None:
    headers = {}
    if settings.EMAIL_BACKEND == "django_ses.SESBackend":
        headers["X-SES-CONFIGURATION-SET"] = resources.resource_name(resources.EMAIL_CONFIGURATION_SET_SUFFIX)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=resources.sender_address(message.display_name),
        to=[to],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers,
        connection=_connection(),
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    email.send(fail_silently=False)


def send(
    *,
    tenant_id: str,
    kind: str,
    to: str,
    subject: str,
    body: str,
    html: str = "",
    display_name: str = "CloudKida",
    reply_to: str = "",
) -> bool:
    """Send now; True if SES took it. If SES refuses, the email waits in the outbox and False is returned."""
    message = Message(subject, body, html, display_name, reply_to)
    return _send_or_queue(tenant_id, kind, to, message, stored=asdict(message))


def send_composed(*, tenant_id: str, kind: str, to: str, message: Message, params: dict[str, Any]) -> bool:
    """Send a message of a kind with a registered composer; if SES refuses, the outbox keeps ``params``
    (never the message, which holds a secret) and the retry composes it again."""
    if kind not in _composers:
        raise ValueError(f"no composer is registered for {kind!r} emails")
    return _send_or_queue(tenant_id, kind, to, message, stored={"subject": message.subject, "params": params})


def _send_or_queue(tenant_id: str, kind: str, to: str, message: Message, *, stored: dict[str, Any]) -> bool:
    try:
        _deliver(to=to, message=message)
        return True
    except (ClientError, BotoCoreError, OSError) as error:
        reason = describe(error)
        logger.warning("email refused, queued", extra={"kind": kind, "tenant_id": tenant_id, "reason": reason})
    now = clock.now().isoformat()
    _table().create(
        {
            "PK": tenant_pk(tenant_id),
            "SK": f"{OUTBOX_SK}{now}#{secrets.token_hex(4)}",
            "GSI1PK": PENDING,
            "GSI1SK": now,
            "tenant_id": tenant_id,
            "kind": kind,
            "to": to,
            **stored,
            "attempts": 1,
            "last_error": reason[:500],
        }
    )
    return False


def _stored_message(item: dict[str, Any]) -> Message | None:
    if "params" in item:
        return _composers[item["kind"]](item["tenant_id"], item["to"], item["params"])
    return Message(
        item["subject"],
        item["body"],
        item.get("html", ""),
        item.get("display_name", "CloudKida"),
        item.get("reply_to", ""),
    )


def _queued(item: dict[str, Any]) -> Queued:
    return Queued(
        tenant_id=item["tenant_id"],
        key=item["SK"],
        kind=item["kind"],
        to=item["to"],
        subject=item["subject"],
        attempts=int(item["attempts"]),
        last_error=item.get("last_error", ""),
        given_up=item.get("GSI1PK") == GAVE_UP,
    )


def outbox_for(*, tenant_id: str) -> list[Queued]:
    """The tenant's emails SES has not taken yet (or gave up on), oldest first."""
    scope = QueryScope(tenant_id, tables.control_table().name, "", tenant_pk(tenant_id), OUTBOX_SK)
    return [_queued(item) for item in _table().query_all(scope)]


def retry_outbox(event: Any = None, context: Any = None) -> dict[str, int]:
    """The ``email-outbox`` scheduled job: send every pending email again (oldest first, 100 a run)."""
    table = _table()
    page = table.query(scope=QueryScope("", table.name, "GSI1", PENDING, ""), limit=100)
    sent = failed = 0
    for item in page.items:
        try:
            message = _stored_message(item)
            if message is not None:
                _deliver(to=item["to"], message=message)
        except (ClientError, BotoCoreError, OSError) as error:
            failed += 1
            attempts = int(item["attempts"]) + 1
            changes = {"attempts": attempts, "last_error": describe(error)[:500]}
            if attempts >= MAX_ATTEMPTS:
                changes["GSI1PK"] = GAVE_UP
            table.update(item["PK"], item["SK"], expected_version=item["version"], changes=changes)
            continue
        table.delete(item["PK"], item["SK"])
        sent += 1
    return {"sent": sent, "failed": failed}


# Registered from CloudkidaConfig.ready: the stack gets an EventBridge rule for it.
SCHEDULE = resources.Schedule(
    "email-outbox", "rate(15 minutes)", "cloudkida.email.retry_outbox", "resend the emails SES refused"
)
