"""Labs' figures on the tenant admin's dashboard (``cloudkida.navigation.add_summary``)."""

from __future__ import annotations

from labs.selectors import lab_sessions_active


def running(tenant_id: str) -> tuple[str, str]:
    page = lab_sessions_active(tenant_id=tenant_id, limit=100)
    count = f"{len(page.items)}+" if page.cursor else str(len(page.items))
    return count, "sessions starting or running now" if page.items else "No labs running now"
