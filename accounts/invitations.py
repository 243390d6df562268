"""Invitations: CloudKida creates each sign-in with a generated temporary password and sends its own
branded email, in every environment.

Cognito's own invitation cannot carry a tenant's branding in the pooled pool (one message template per
pool, shared by every tenant), and moto never sends it; so sign-ins are created with
``MessageAction=SUPPRESS`` and a temporary password that meets the pool's policy, and the invitation goes
through the platform's email backend (SES in production, the console under ``make run``). The password is
never stored or logged by CloudKida; the user must choose a new one at first sign-in
(NEW_PASSWORD_REQUIRED). A refused email never undoes the invitation: it is reported, audited and can be
sent again with a fresh password.
"""

from __future__ import annotations

import logging
import secrets
import string

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from tenants import provisioning
from tenants.domain import Tenant
from tenants.services import audit

logger = logging.getLogger(__name__)

TEMPORARY_PASSWORD_DAYS = 7  # Cognito's TemporaryPasswordValidityDays
_SYMBOLS = "!#%+-=?@^_"
_ALPHABET = string.ascii_letters + string.digits + _SYMBOLS
DEFAULT_BRAND = {"display_name": "", "primary_color": "#1f6feb", "accent_color": "#0b3d91", "support_email": ""}


def temporary_password(length: int = 16) -> str:
    """A random password that meets every user pool's policy (upper, lower, digit, symbol, 12+)."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
            and any(c in _SYMBOLS for c in password)
        ):
            return password


def _brand(tenant: Tenant) -> dict:
    brand = {**DEFAULT_BRAND, **{k: v for k, v in (tenant.branding or {}).items() if v}}
    brand["display_name"] = brand.get("display_name") or tenant.name
    return brand


_connections: dict[str, object] = {}


def _connection():
    """One mail connection per backend per process: django-ses opens a boto3 client (and asks SES for
    its quota) per connection, which a bulk import would otherwise pay per message."""
    backend = settings.EMAIL_BACKEND
    if backend not in _connections:
        _connections[backend] = get_connection(backend)
    return _connections[backend]


def send_invitation(*, tenant: Tenant, email: str, name: str, temporary_password: str, actor: str = "system") -> bool:
    """Email the invitation (sign-in address, temporary password, link to the tenant's portal) in the
    tenant's branding. Returns False, audited as ``user.invitation_failed``, if the email was refused."""
    brand = _brand(tenant)
    context = {
        "tenant": tenant,
        "brand": brand,
        "name": name or email,
        "email": email,
        "temporary_password": temporary_password,
        "login_url": f"{provisioning.tenant_base_url(tenant.slug)}/login/",
        "days": TEMPORARY_PASSWORD_DAYS,
    }
    message = EmailMultiAlternatives(
        subject=f"You're invited to {brand['display_name']} on CloudKida",
        body=render_to_string("emails/invitation.txt", context),
        from_email=f"{brand['display_name']} via CloudKida <{settings.DEFAULT_FROM_EMAIL}>",
        to=[email],
        connection=_connection(),
        reply_to=[brand["support_email"]] if brand.get("support_email") else None,
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as error:
        logger.warning("invitation email refused", extra={"to_domain": email.rsplit("@", 1)[-1], "error": str(error)})
        audit(tenant.tenant_id, "user.invitation_failed", actor, email=email, reason=str(error)[:300])
        return False
    return True
