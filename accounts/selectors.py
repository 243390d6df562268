"""Reads of a tenant's users, including the short-lived cache every authorisation decision reads."""

from __future__ import annotations

from django.conf import settings

from accounts import repository
from accounts.domain import User
from cloudkida.cache import TTLCache
from cloudkida.dynamo import Page
from cloudkida.errors import NotFound

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


def user_list(*, tenant_id: str, limit: int = 50, cursor: str | None = None) -> Page:
    """A page of the tenant's users; the cursor is valid for this tenant's list only."""
    return repository.list_page(tenant_id, limit=limit, cursor=cursor)


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
