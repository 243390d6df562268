"""The signed-in portal user, kept in the Django session after a tenant OIDC login (no ORM user)."""

from __future__ import annotations

from cloudkida.identity.principal import Principal, Role

SESSION_KEY = "tenant_user"


def session_principal(request) -> Principal | None:
    """The session's user if it belongs to this host's tenant; a session of another tenant is ignored."""
    tenant = getattr(request, "tenant", None)
    data = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if tenant is None or not data or data.get("tenant_id") != tenant.tenant_id:
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
