"""The signed-in portal user, kept in the Django session after a tenant OIDC login (no ORM user).

The session holds who signed in (tenant, user id, email, when the ID token expires); what they may do
comes from their current record on every request (``user_for_authorization``), so a role change applies
and a disabled user's session ends on their next request.
"""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.utils.http import urlencode

from accounts.domain import UserStatus
from accounts.selectors import user_for_authorization
from cloudkida import clock
from cloudkida.identity.principal import Principal

SESSION_KEY = "tenant_user"


def _session_data(request) -> dict | None:
    tenant = getattr(request, "tenant", None)
    data = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if tenant is None or not data or data.get("tenant_id") != tenant.tenant_id:
        return None
    return data


def session_principal(request) -> Principal | None:
    """The session's user if it belongs to this host's tenant and is still an active user of it; a session
    of another tenant is ignored."""
    data = _session_data(request)
    if data is None or int(data.get("expires_at", 0)) <= int(clock.now().timestamp()):
        return None
    user = user_for_authorization(tenant_id=data["tenant_id"], user_id=data.get("user_id", ""))
    if user is None or user.status is not UserStatus.ACTIVE:
        return None
    return Principal(tenant_id=user.tenant_id, role=user.role, subject=data["sub"], email=user.email, method="session")


def session_user(request) -> dict | None:
    """What pages show about the signed-in user (name, email, current role), or None."""
    principal = session_principal(request)
    if principal is None:
        return None
    data = request.session[SESSION_KEY]
    return {**data, "role": principal.role.value, "email": principal.email}


class SessionRefreshMiddleware:
    """Per-tenant session refresh: once the ID token behind a portal session expires, the session's user
    is dropped and a page request goes back through the tenant's login (silent while the identity
    provider's own session lasts); a user disabled (or removed) since signing in is signed out. API
    calls simply become unauthenticated."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        data = _session_data(request)
        if data is not None:
            expired = int(data.get("expires_at", 0)) <= int(clock.now().timestamp())
            if expired:
                del request.session[SESSION_KEY]
                if request.method == "GET" and not request.path.startswith(("/api/", "/login/", "/oidc/")):
                    return HttpResponseRedirect(f"/login/?{urlencode({'next': request.get_full_path()})}")
            elif session_principal(request) is None:
                request.session.flush()  # disabled or removed: the session ends now
        return self.get_response(request)
