"""What every page needs: the tenant's brand and theme, who is signed in, the portal's navigation."""

from __future__ import annotations

from django.conf import settings

from accounts.portal import session_user
from cloudkida import navigation
from cloudkida.identity.principal import Role
from tenants.provisioning import host_base_url
from tenants.selectors import branding_for

ROLE_LABELS = {Role.TENANT_ADMIN.value: "Administrator", Role.TENANT_USER.value: "Learner"}


def portal(request) -> dict:
    tenant = getattr(request, "tenant", None)
    apex_url = host_base_url(settings.CLOUDKIDA_BASE_DOMAIN)
    if tenant is None:
        return {"brand": branding_for(None), "apex_url": apex_url}
    user = session_user(request)
    if user:
        user = {**user, "role_label": ROLE_LABELS.get(user["role"], user["role"])}
    nav = navigation.for_role(user["role"] if user else None, request.path)
    return {
        "tenant": tenant,
        "brand": branding_for(tenant),
        "theme_url": f"/theme.css?v={tenant.version}",
        "portal_user": user,
        "nav": nav,
        "apex_url": apex_url,
    }
