"""Reads of a tenant's users, including the short-lived cache every authorisation decision reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from accounts import repository
from accounts.domain import EffectivePolicy, Group, Policy, Role, User, UserStatus
from cloudkida.cache import TTLCache
from cloudkida.dynamo import Page
from cloudkida.errors import NotFound, ValidationFailed
from tenants.plans import plan_for
from tenants.selectors import tenant_get_cached

# Every credential's role and status come from the user record through this cache, so a role change or
# a disabled user takes effect within CLOUDKIDA_AUTHZ_CACHE_SECONDS (at once when it is 0).
_authz_cache = TTLCache(ttl_seconds=settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS)


def user_get(*, tenant_id: str, user_id: str) -> User:
    user = repository.get(tenant_id, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


def user_get_by_email(*, tenant_id: str, email: str) -> User | None:
    return repository.get_by_email(tenant_id, email)


MAX_SEARCH_LENGTH = 100


def _search(q: str | None) -> str:
    q = " ".join((q or "").split())
    if len(q) > MAX_SEARCH_LENGTH:
        raise ValidationFailed(
            f"Search for at most {MAX_SEARCH_LENGTH} characters.", code="invalid_search", details={"field": "q"}
        )
    return q


def user_list(
    *,
    tenant_id: str,
    limit: int = 50,
    cursor: str | None = None,
    q: str | None = None,
    role: Role | str | None = None,
    status: UserStatus | str | None = None,
) -> Page:
    """A page of the tenant's users (``Page.items``: ``User``), optionally only those whose name or email
    contains ``q`` (case-insensitive) and of one ``role`` and/or ``status``. The cursor is valid for this
    tenant and exactly these filters; a page may hold fewer than ``limit`` users and still have a cursor."""
    return repository.list_page(
        tenant_id,
        limit=limit,
        cursor=cursor,
        role=Role(role) if role else None,
        status=UserStatus(status) if status else None,
        search=_search(q),
    )


def user_iter(
    *, tenant_id: str, q: str | None = None, role: Role | str | None = None, status: UserStatus | str | None = None
) -> Iterator[User]:
    """Every user matching the filters, page by page (the CSV export)."""
    cursor = None
    while True:
        page = user_list(tenant_id=tenant_id, limit=100, cursor=cursor, q=q, role=role, status=status)
        yield from page.items
        cursor = page.cursor
        if not cursor:
            return


@dataclass(frozen=True)
class Seats:
    used: int  # active users (disabled users free their seat)
    limit: int | None  # the plan's seats; None for the shared learners tenant (no limit)

    @property
    def available(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


def seats_of(*, tenant_id: str) -> int | None:
    """How many active users the tenant's plan allows (None: no limit, the shared learners tenant)."""
    tenant = tenant_get_cached(tenant_id=tenant_id)
    return None if tenant.is_default else plan_for(tenant.tier).seats


def user_seats(*, tenant_id: str) -> Seats:
    """Seats used against the plan's limit (one GetItem of the tenant's user counts)."""
    return Seats(used=repository.counts(tenant_id)[0], limit=seats_of(tenant_id=tenant_id))


def user_find(*, tenant_id: str, user_id: str) -> User | None:
    return repository.get(tenant_id, user_id)


def user_for_authorization(*, tenant_id: str, user_id: str) -> User | None:
    """The user record as authorisation sees it: at most CLOUDKIDA_AUTHZ_CACHE_SECONDS old."""
    _authz_cache.ttl = settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS
    return _authz_cache.get_or_load((tenant_id, user_id), lambda: repository.get(tenant_id, user_id))


def authorization_cache_forget(*, tenant_id: str, user_id: str | None = None) -> None:
    """Drop cached records in this process (after a change made here; other processes wait out the TTL)."""
    if user_id is None:
        _authz_cache.invalidate()
    else:
        _authz_cache.invalidate((tenant_id, user_id))


def user_counts(*, tenant_id: str) -> tuple[int, int]:
    """(active users, active admins) of the tenant."""
    return repository.counts(tenant_id)


def group_get(*, tenant_id: str, group_id: str) -> Group:
    group = repository.group_get(tenant_id, group_id) if group_id and len(group_id) <= 64 else None
    if group is None:
        raise NotFound("No such group.", code="group_not_found")
    return group


def group_list(*, tenant_id: str, limit: int = 50, cursor: str | None = None) -> Page:
    return repository.group_page(tenant_id, limit=limit, cursor=cursor)


def group_member_ids(*, tenant_id: str, group_id: str, limit: int = 50, cursor: str | None = None) -> Page:
    """A page of the user ids in a group."""
    group_get(tenant_id=tenant_id, group_id=group_id)
    return repository.member_page(tenant_id, group_id, limit=limit, cursor=cursor)


def group_members(*, tenant_id: str, group_id: str, limit: int = 50, cursor: str | None = None) -> Page:
    """A page of a group's members as ``User``s (two requests: the memberships, one BatchGetItem)."""
    page = group_member_ids(tenant_id=tenant_id, group_id=group_id, limit=limit, cursor=cursor)
    found = repository.get_many(tenant_id, page.items) if page.items else {}
    page.items = [found[u][0] for u in page.items if u in found]
    return page


def user_groups(*, tenant_id: str, user_id: str) -> list[Group]:
    """The groups a user is in, by name (two requests: the memberships, one BatchGetItem)."""
    return sorted(repository.groups_get(tenant_id, repository.groups_of(tenant_id, user_id)), key=lambda g: g.name)


def user_group_ids(*, tenant_id: str, user_id: str) -> list[str]:
    return repository.groups_of(tenant_id, user_id)


def policy_get(*, tenant_id: str, group_id: str = "") -> Policy:
    if group_id:
        group_get(tenant_id=tenant_id, group_id=group_id)
    return repository.policy_get(tenant_id, group_id)


def policy_for_user(*, tenant_id: str, user_id: str) -> EffectivePolicy:
    """The policy that applies to one user (see ``EffectivePolicy`` for how the tenant's and the groups'
    combine). Three requests: the tenant's policy, the user's groups, their policies (one BatchGetItem)."""
    tenant = repository.policy_get(tenant_id)
    group_ids = repository.groups_of(tenant_id, user_id)
    groups = repository.policies_of_groups(tenant_id, group_ids) if group_ids else []
    return combine_policies(tenant, groups, member_of=len(group_ids))


def combine_policies(tenant: Policy, groups: list[Policy], *, member_of: int) -> EffectivePolicy:
    """Pure: the tenant's policy capping the most generous of the groups'. A user in a group with no
    policy (or groups whose policies leave a field empty) is not restricted by groups on that field."""

    def most_generous_set(field: str) -> frozenset[str] | None:
        values = [getattr(g, field) for g in groups]
        if not groups or len(groups) < member_of or any(v is None for v in values):
            return None
        return frozenset().union(*values)

    def most_generous_number(field: str) -> int | None:
        values = [getattr(g, field) for g in groups]
        if not groups or len(groups) < member_of or any(v is None for v in values):
            return None
        return max(values)

    def cap_set(group_value, tenant_value):
        if tenant_value is None:
            return group_value
        tenant_set = frozenset(tenant_value)
        return tenant_set if group_value is None else group_value & tenant_set

    def cap_number(group_value, tenant_value):
        if tenant_value is None:
            return group_value
        return tenant_value if group_value is None else min(group_value, tenant_value)

    return EffectivePolicy(
        allowed_lab_ids=cap_set(most_generous_set("allowed_lab_ids"), tenant.allowed_lab_ids),
        max_concurrent_labs=cap_number(most_generous_number("max_concurrent_labs"), tenant.max_concurrent_labs),
        monthly_lab_minutes=cap_number(most_generous_number("monthly_lab_minutes"), tenant.monthly_lab_minutes),
        allowed_regions=cap_set(most_generous_set("allowed_regions"), tenant.allowed_regions),
        sources=("tenant", *(f"group:{g.group_id}" for g in groups)),
    )
