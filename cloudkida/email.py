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
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.mail import EmailMessage

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


def _table() -> Table:
    return Table(tables.control_table().name)


def _deliver(*, to: str, subject: str, body: str, display_name: str) -> None:
    headers = {}
    if settings.EMAIL_BACKEND == "django_ses.SESBackend":
        headers["X-SES-CONFIGURATION-SET"] = resources.resource_name(resources.EMAIL_CONFIGURATION_SET_SUFFIX)
    EmailMessage(
        subject=subject, body=body, from_email=resources.sender_address(display_name), to=[to], headers=headers
    ).send(fail_silently=False)


def send(*, tenant_id: str, kind: str, to: str, subject: str, body: str, display_name: str = "CloudKida") -> bool:
    """Send now; True if SES took it. If SES refuses, the email waits in the outbox and False is returned."""
    try:
        _deliver(to=to, subject=subject, body=body, display_name=display_name)
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
            "subject": subject,
            "body": body,
            "display_name": display_name,
            "attempts": 1,
            "last_error": reason[:500],
        }
    )
    return False


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
            _deliver(to=item["to"], subject=item["subject"], body=item["body"], display_name=item["display_name"])
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
