"""Reads of labs: what a caller may see and start, sessions, progress, and the pool's figures.

Visibility: a tenant admin sees the tenant's own labs (every status) and CloudKida's published global labs
(enabled or not, so it can enable them); a learner sees the tenant's published labs and its enabled
published global labs that are assigned to it or to one of its groups — and, in the shared default tenant,
CloudKida's public catalog too. Anything else is "no such lab" (404), never "forbidden".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from accounts.domain import Role
from accounts.selectors import user_group_ids
from cloudkida import clock
from cloudkida.dynamo import Page
from cloudkida.errors import NotFound
from labs.domain import AccountState, Lab, LabSession, LabStatus, PoolTarget, Progress
from labs.repository import catalog as repo
from labs.repository import pool as pool_repo
from labs.repository import sessions as session_repo
from tenants.selectors import tenant_get_cached


@dataclass(frozen=True)
class CatalogEntry:
    lab: Lab
    enabled: bool  # a global lab the tenant offers (always True for the tenant's own labs)
    assigned: bool  # to the user, one of its groups, or public in the default tenant
    can_start: bool


def _published_globals() -> list[Lab]:
    return [lab for lab in repo.labs_of("") if lab.status is LabStatus.PUBLISHED]


def lab_catalog(*, tenant_id: str, user_id: str, role: Role) -> list[CatalogEntry]:
    """Every lab the caller may see (see the module docstring), with whether it may start it."""
    tenant = tenant_get_cached(tenant_id=tenant_id)
    own = repo.labs_of(tenant_id)
    enabled = repo.enabled_ids(tenant_id)
    globals_ = _published_globals()
    groups = user_group_ids(tenant_id=tenant_id, user_id=user_id) if user_id else []
    assigned = repo.lab_ids_assigned_to(tenant_id, "user", user_id) if user_id else set()
    for group in groups:
        assigned |= repo.lab_ids_assigned_to(tenant_id, "group", group)
    entries = []
    for lab in own:
        published = lab.status is LabStatus.PUBLISHED
        mine = lab.lab_id in assigned
        if role is Role.TENANT_ADMIN or (published and mine):
            entries.append(CatalogEntry(lab, True, mine, published and mine))
    for lab in globals_:
        public = tenant.is_default and lab.public
        on = lab.lab_id in enabled or public
        mine = (lab.lab_id in assigned and lab.lab_id in enabled) or public
        if role is Role.TENANT_ADMIN or mine:
            entries.append(CatalogEntry(lab, on, mine, mine))
    return sorted(entries, key=lambda e: (e.lab.title.lower(), e.lab.lab_id))


def lab_get_any(*, tenant_id: str, lab_id: str) -> Lab:
    """The tenant's own lab with this id, else the global one; NotFound if neither (no visibility check:
    callers check it, see ``lab_get_visible``)."""
    lab = None
    if lab_id and len(lab_id) <= 64:
        lab = repo.lab_get(tenant_id, lab_id) or repo.lab_get("", lab_id)
    if lab is None:
        raise NotFound("No such lab.", code="lab_not_found")
    return lab


def lab_get_visible(*, tenant_id: str, user_id: str, role: Role, lab_id: str) -> CatalogEntry:
    """One lab as the caller sees it; NotFound unless it is in the caller's catalog."""
    lab = lab_get_any(tenant_id=tenant_id, lab_id=lab_id)
    if lab.owner == tenant_id:
        mine = lab.status is LabStatus.PUBLISHED and lab_is_assigned(tenant_id=tenant_id, lab=lab, user_id=user_id)
        if role is Role.TENANT_ADMIN or mine:
            return CatalogEntry(lab, True, mine, mine)
        raise NotFound("No such lab.", code="lab_not_found")
    if lab.status is not LabStatus.PUBLISHED:
        raise NotFound("No such lab.", code="lab_not_found")
    tenant = tenant_get_cached(tenant_id=tenant_id)
    public = tenant.is_default and lab.public
    enabled = public or repo.is_enabled(tenant_id, lab.lab_id)
    mine = public or (enabled and lab_is_assigned(tenant_id=tenant_id, lab=lab, user_id=user_id))
    if role is Role.TENANT_ADMIN or mine:
        return CatalogEntry(lab, enabled, mine, mine)
    raise NotFound("No such lab.", code="lab_not_found")


def lab_is_assigned(*, tenant_id: str, lab: Lab, user_id: str) -> bool:
    if not user_id:
        return False
    return repo.is_assigned(tenant_id, lab.lab_id, user_id, user_group_ids(tenant_id=tenant_id, user_id=user_id))


def lab_assignments(*, tenant_id: str, lab_id: str):
    return repo.assignments_of_lab(tenant_id, lab_id)


def lab_progress_of_learners(*, tenant_id: str, lab_id: str) -> list[Progress]:
    return repo.progress_of_lab(tenant_id, lab_id)


def lab_progress(*, tenant_id: str, lab_id: str, user_id: str) -> Progress:
    return repo.progress_get(tenant_id, lab_id, user_id)


def lab_global_list() -> list[Lab]:
    return repo.labs_of("")


def lab_global_get(*, lab_id: str) -> Lab:
    lab = repo.lab_get("", lab_id) if lab_id and len(lab_id) <= 64 else None
    if lab is None:
        raise NotFound("No such lab.", code="lab_not_found")
    return lab


# --- sessions -----------------------------------------------------------------------------------------------------
def lab_session_get(*, tenant_id: str, session_id: str) -> LabSession:
    session = session_repo.get(tenant_id, session_id) if session_id and len(session_id) <= 64 else None
    if session is None:
        raise NotFound("No such lab session.", code="session_not_found")
    return session


def lab_session_get_for(*, tenant_id: str, session_id: str, user_id: str, role: Role) -> LabSession:
    """A session its learner, or a tenant admin (or key) of its tenant, may see; else NotFound."""
    session = lab_session_get(tenant_id=tenant_id, session_id=session_id)
    if role is not Role.TENANT_ADMIN and session.user_id != user_id:
        raise NotFound("No such lab session.", code="session_not_found")
    return session


def lab_sessions_of_user(*, tenant_id: str, user_id: str, limit: int = 50, cursor: str | None = None) -> Page:
    return session_repo.of_user(tenant_id, user_id, limit=limit, cursor=cursor)


def lab_sessions_active(*, tenant_id: str, limit: int = 100, cursor: str | None = None) -> Page:
    """The tenant's active sessions (the tenant admin's live view)."""
    return session_repo.active_of_tenant(tenant_id, limit=limit, cursor=cursor)


def lab_usage(*, tenant_id: str, user_id: str) -> tuple[int, int]:
    """(active sessions, minutes used or reserved this month) of a learner."""
    return session_repo.usage(tenant_id, user_id, clock.now().strftime("%Y-%m"))


# --- the pool -----------------------------------------------------------------------------------------------------
def pool_accounts(
    *, state: AccountState, shard_id: str, region: str, limit: int = 50, cursor: str | None = None
) -> Page:
    return pool_repo.in_state(state, shard_id, region, limit=limit, cursor=cursor)


def pool_targets() -> dict[str, PoolTarget]:
    """Per region: minimum available and maximum size (set on the dashboard; settings until then)."""
    stored = pool_repo.targets_get()
    if stored:
        return stored
    return {
        region: PoolTarget(region, int(t["min_available"]), int(t["max_size"]))
        for region, t in settings.CLOUDKIDA_LAB_POOL_TARGETS.items()
    }


def pool_shards():
    return pool_repo.shards()


def pool_statistics() -> dict:
    """The latest snapshot (accounts by state per shard and region, written by the replenisher), leases
    and cleanup failures per hour for the last 24 hours, and the targets."""
    now = clock.now()
    first = (now - timedelta(hours=23)).strftime("%Y-%m-%dT%H")
    hours = {h["hour"]: h for h in pool_repo.stats_hours(first, now.strftime("%Y-%m-%dT%H"))}
    series = []
    for back in range(23, -1, -1):
        hour = (now - timedelta(hours=back)).strftime("%Y-%m-%dT%H")
        item = hours.get(hour, {})
        series.append(
            {
                "hour": hour,
                "leases": int(item.get("leases", 0)),
                "cleanup_failures": int(item.get("cleanup_failures", 0)),
                "quarantined": int(item.get("quarantined", 0)),
            }
        )
    targets = {r: {"min_available": t.min_available, "max_size": t.max_size} for r, t in pool_targets().items()}
    return {"snapshot": pool_repo.snapshot_get(), "hours": series, "targets": targets}
