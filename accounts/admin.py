"""accounts' sections of a tenant's page in the system admin site: its people and its API keys."""

from __future__ import annotations

from accounts import api_keys
from accounts.selectors import user_counts, user_list
from tenants.domain import Tenant

SHOWN = 50


def people_panel(tenant: Tenant) -> dict:
    active, admins = user_counts(tenant_id=tenant.tenant_id)
    page = user_list(tenant_id=tenant.tenant_id, limit=SHOWN)
    return {
        "title": f"People ({active} active, {admins} admin{'s' if admins != 1 else ''})",
        "columns": ["Email", "Name", "Role", "Status", "Since"],
        "rows": [
            [u.email, u.name, u.role.value, u.status.value, u.created_at.strftime("%Y-%m-%d")] for u in page.items
        ],
        "more": f"Showing the first {SHOWN}." if page.cursor else "",
    }


def api_keys_panel(tenant: Tenant) -> dict:
    keys = api_keys.api_key_list(tenant_id=tenant.tenant_id, limit=100).items
    return {
        "title": f"API keys ({sum(k.active for k in keys)} active)",
        "columns": ["Key", "Name", "Scope", "Created by", "Last used", "State"],
        "rows": [
            [
                k.key_id,
                k.name,
                k.scope.value,
                k.created_by,
                k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never",
                "revoked" if k.revoked_at else "active",
            ]
            for k in keys
        ],
        "more": "",
    }
