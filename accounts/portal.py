"""The signed-in portal user, kept in the Django session after a tenant OIDC login (no ORM user)."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.utils.http import urlencode

from cloudkida import clock
from cloudkida.identity.principal import Principal, Role

SESSION_KEY = "tenant_user"


def session_principal(request) -> Principal | None:
    """The session's user if it belongs to this host's tenant; a session of another tenant is ignored."""
    tenant = getattr(request, "tenant", None)
    data = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if tenant is None or not data or data.get("tenant_id") != tenant.tenant_id:
        return None
    if int(data.get("expires_at", 0)) <= int(clock.now().timestamp()):
        return None
    try:
        role = Role(data.get("role", "TenantUser"))
    except ValueError:
        return None
    if role.is_platform:
        return None
    return Principal(
        tenant_id=tenant.tenant_id, role=role, subject=data["sub"], email=data.get("email", ""), method="session"
    )


class SessionRefreshMiddleware:
    """Per-tenant session refresh: once the ID token behind a portal session expires, the session's user
    is dropped and a page request goes back through the tenant's login (silent while the identity
    provider's own session lasts). API calls simply become unauthenticated."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        data = request.session.get(SESSION_KEY) if tenant is not None else None
        if data and int(data.get("expires_at", 0)) <= int(clock.now().timestamp()):
            del request.session[SESSION_KEY]
            if request.method == "GET" and not request.path.startswith(("/api/", "/login/", "/oidc/")):
                return HttpResponseRedirect(f"/login/?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
