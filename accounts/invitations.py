"""Invitations: CloudKida creates each sign-in with a generated temporary password and sends its own
branded email, in every environment.

Cognito's own invitation cannot carry a tenant's branding in the pooled pool (one message template per
pool, shared by every tenant), and moto never sends it; so sign-ins are created with
``MessageAction=SUPPRESS`` and a temporary password that meets the pool's policy, and the invitation goes
through the platform's email backend (SES in production, the console under ``make run``). The password is
never stored or logged by CloudKida; the user must choose a new one at first sign-in
(NEW_PASSWORD_REQUIRED). A refused email never undoes the invitation: it is reported, audited and can be
sent again with a fresh password — by the email outbox's retry (``cloudkida.email``), or by an admin.
"""

from __future__ import annotations

import secrets
import string

from django.template.loader import render_to_string

from accounts import cognito
from cloudkida import email as mail
from cloudkida.errors import NotFound
from tenants import provisioning
from tenants.domain import Tenant
from tenants.selectors import branding_for, tenant_get
from tenants.services import audit

TEMPORARY_PASSWORD_DAYS = 7  # Cognito's TemporaryPasswordValidityDays
_SYMBOLS = "!#%+-=?@^_"
_ALPHABET = string.ascii_letters + string.digits + _SYMBOLS
KIND = "invitation"


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


def _message(tenant: Tenant, *, email: str, name: str, temporary_password: str) -> mail.Message:
    brand = branding_for(tenant)
    context = {
        "tenant": tenant,
        "brand": brand,
        "name": name or email,
        "email": email,
        "temporary_password": temporary_password,
        "login_url": f"{provisioning.tenant_base_url(tenant.slug)}/login/",
        "days": TEMPORARY_PASSWORD_DAYS,
    }
    return mail.Message(
        subject=f"You're invited to {brand['display_name']} on CloudKida",
        body=render_to_string("emails/invitation.txt", context),
        html=render_to_string("emails/invitation.html", context),
        display_name=f"{brand['display_name']} via CloudKida",
        reply_to=str(brand.get("support_email") or ""),
    )


def send_invitation(*, tenant: Tenant, email: str, name: str, temporary_password: str, actor: str = "system") -> bool:
    """Email the invitation (sign-in address, temporary password, link to the tenant's portal) in the
    tenant's branding. If SES refuses it, it waits in the email outbox, which holds no password: the
    retry gives the user a new temporary password (if they still have not signed in) and sends that.
    Returns False, audited as ``user.invitation_delayed``, when the email did not go out now."""
    message = _message(tenant, email=email, name=name, temporary_password=temporary_password)
    if mail.send_composed(tenant_id=tenant.tenant_id, kind=KIND, to=email, message=message, params={"name": name}):
        return True
    audit(tenant.tenant_id, "user.invitation_delayed", actor, email=email)
    return False


def compose_again(tenant_id: str, email: str, params: dict) -> mail.Message | None:
    """The outbox's retry of an invitation: a new temporary password for a user who still has not signed
    in (None, nothing to send, once they have, or if the tenant or sign-in is gone)."""
    try:
        tenant = tenant_get(tenant_id=tenant_id)
    except NotFound:
        return None
    pool_id = tenant.identity.get("user_pool_id", "")
    if not pool_id or cognito.user_attributes(pool_id, email).get("custom:tenantId") != tenant_id:
        return None
    password = temporary_password()
    if not cognito.reset_temporary_password(pool_id, email, password):
        return None
    return _message(tenant, email=email, name=params.get("name", ""), temporary_password=password)
