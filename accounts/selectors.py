"""Reads of a tenant's users."""

from __future__ import annotations

from accounts import repository
from accounts.domain import User
from cloudkida.dynamo import Page
from cloudkida.errors import NotFound


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
