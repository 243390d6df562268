"""What every page needs: the tenant's brand and theme, who is signed in, the portal's navigation."""

from __future__ import annotations

from django.conf import settings

from accounts.portal import session_user
from cloudkida.identity.principal import Role
from tenants.provisioning import host_base_url

ROLE_LABELS = {Role.TENANT_ADMIN.value: "Administrator", Role.TENANT_USER.value: "Learner"}
ADMIN_NAV = (
    ("Dashboard", "/"),
    ("People", "/people/"),
    ("Groups", "/groups/"),
    ("Policies", "/policies/"),
    ("API keys", "/api-keys/"),
    ("Audit log", "/audit/"),
    ("Settings", "/settings/"),
)
LEARNER_NAV = (("Home", "/"),)


def brand_of(tenant) -> dict:
    """The tenant's brand as pages and emails show it (CloudKida's where it set nothing)."""
    branding = tenant.branding or {}
    version = tenant.version
    return {
        "display_name": branding.get("display_name") or tenant.name,
        "logo_url": f"/branding/logo?v={version}" if branding.get("logo_key") else "",
        "favicon_url": f"/branding/favicon?v={version}" if branding.get("favicon_key") else "",
        "login_message": branding.get("login_message", ""),
        "support_email": branding.get("support_email", ""),
        "support_url": branding.get("support_url", ""),
    }


def portal(request) -> dict:
    tenant = getattr(request, "tenant", None)
    apex_url = host_base_url(settings.CLOUDKIDA_BASE_DOMAIN)
    if tenant is None:
        return {"brand": {"display_name": "CloudKida"}, "apex_url": apex_url}
    user = session_user(request)
    if user:
        user = {**user, "role_label": ROLE_LABELS.get(user["role"], user["role"])}
    items = ADMIN_NAV if user and user["role"] == Role.TENANT_ADMIN.value else LEARNER_NAV if user else ()
    path = request.path
    nav = [
        {"label": label, "url": url, "current": path == url or (url != "/" and path.startswith(url))}
        for label, url in items
    ]
    return {
        "tenant": tenant,
        "brand": brand_of(tenant),
        "theme_url": f"/theme.css?v={tenant.version}",
        "portal_user": user,
        "nav": nav,
        "apex_url": apex_url,
    }
