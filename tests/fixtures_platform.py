from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID

from cloudkida import aws
from cloudkida.bootstrap import bootstrap
from tenants import provisioning


@pytest.fixture
def platform(moto, settings):
    """Moto with the platform's own resources bootstrapped (tables, pools, usage plans, queues, bucket,
    SES), without the apps' bootstrap steps (the default tenant): see ``deployed_platform``.

    Email goes through django-ses to moto's SES (pytest-django would otherwise swap in locmem).
    """
    settings.EMAIL_BACKEND = "django_ses.SESBackend"
    bootstrap(apps=False)
    provisioning.cache_clear()
    yield
    provisioning.cache_clear()


@pytest.fixture
def deployed_platform(platform):
    """The platform as ``manage.py bootstrap`` leaves a new stage: with the shared default tenant."""
    bootstrap()


@pytest.fixture
def no_backoff(monkeypatch):
    """Record onboarding's throttling back-offs instead of sleeping through them."""
    from tenants.services.onboarding import ONBOARDING

    waits: list[int] = []
    monkeypatch.setattr(ONBOARDING, "_backoff", waits.append)
    return waits


@pytest.fixture
def fail_aws():
    """fail_aws("cognito-idp", "CreateGroup", times=1, code="InternalErrorException") makes that call fail."""
    removers: list[Callable[[], None]] = []

    def install(service: str, operation: str, *, times: int = 1, code: str = "InternalErrorException") -> dict:
        state = {"left": times, "raised": 0}

        def before_call(model, **kwargs):
            if state["left"] > 0:
                state["left"] -= 1
                state["raised"] += 1
                raise ClientError({"Error": {"Code": code, "Message": "injected failure"}}, model.name)

        def hook(client):
            if client.meta.service_model.service_name == service:
                client.meta.events.register(
                    f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", before_call
                )

        removers.append(aws.add_client_hook(hook))
        return state

    yield install
    for remove in removers:
        remove()


def sent_emails() -> list:
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def emails_to(address: str) -> list:
    """Every email sent (through django-ses to moto's SES) to ``address``, oldest first, parsed."""
    import email
    from email import policy

    found = []
    for message in sent_emails():
        if address in str(getattr(message, "destinations", "")):
            raw = getattr(message, "raw_data", None)
            if raw is None:  # sent with SendEmail, not as a raw MIME message
                raw = f"Subject: {message.subject}\n\n{message.body}"
            found.append(email.message_from_string(raw, policy=policy.default))
    return found


def text_of(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else str(message.get_content())


def mail_to(address: str) -> list[str]:
    """The text bodies of the emails sent to ``address``, oldest first."""
    return [text_of(m) for m in emails_to(address)]


def temporary_password(address: str) -> str:
    """The temporary password in the newest invitation sent to ``address``."""
    import re

    invitations = [m for m in emails_to(address) if "invited" in m["subject"]]
    assert invitations, f"no invitation was sent to {address}"
    found = re.search(r"Temporary password:\s+(\S+)", text_of(invitations[-1]))
    assert found, text_of(invitations[-1])
    return found.group(1)


REGISTRATION = {
    "name": "Globex Learning",
    "slug": "globex",
    "admin_email": "owner@globex.example",
    "admin_name": "Olive Owner",
    "tier": "basic",
    "country": "GB",
}
