"""What the tenants app needs from the apps built on it, as small interfaces those apps register.

Dependencies point one way (accounts, labs and billing import tenants, never the reverse), yet a tenant's
life touches their data: onboarding creates the first admin (accounts), deactivation disables every user,
offboarding removes what lives outside DynamoDB (Cognito users, lab accounts). Each app registers its part
from ``AppConfig.ready``; tenants calls whatever is registered, in registration order.
"""

from __future__ import annotations

from typing import Protocol

from tenants.domain import Isolation, Tenant


class TenantMembers(Protocol):
    """The tenant's people (registered by accounts)."""

    def check_admin_email(self, *, email: str, isolation: Isolation) -> None:
        """Refuse (an ApplicationError) an admin email that cannot sign in to a new tenant of this kind
        (in the pooled user pool one address has one sign-in)."""

    def provision_admin(self, tenant: Tenant) -> dict:
        """Create the tenant's first admin (idempotent); returns what it made."""


class TenantListener(Protocol):
    """Told about a tenant's life; every method is idempotent and returns a summary for the audit trail."""

    def tenant_suspended(self, tenant: Tenant) -> dict:
        """The tenant was deactivated: stop serving its people."""

    def tenant_resumed(self, tenant: Tenant) -> dict:
        """The tenant was activated again."""

    def tenant_removing(self, tenant: Tenant) -> dict:
        """The tenant is being offboarded: remove what it owns outside DynamoDB (its items are removed
        by the tenants app from the item-kind registry afterwards)."""


class AdminPanel(Protocol):
    """A section of a tenant's page in the system admin site, from an app that knows more about it."""

    def __call__(self, tenant: Tenant) -> dict:
        """``{"title", "columns": [...], "rows": [[...]], "more": "<text or empty>"}``."""


class PriceBook(Protocol):
    """The prices in force (registered by billing, which keeps them as data with effective dates)."""

    def current(self, tier: str) -> dict | None:
        """``{"monthly_fee_usd", "extra_lab_minute_usd", "included_lab_minutes"}`` in force today for the tier,
        or None to keep the plan table's defaults."""


_members: list[TenantMembers] = []
_price_books: list[PriceBook] = []
_listeners: list[TenantListener] = []
_panels: list[AdminPanel] = []


def add_admin_panel(panel: AdminPanel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def admin_panels(tenant: Tenant) -> list[dict]:
    return [panel(tenant) for panel in _panels]


def register_members(members: TenantMembers) -> None:
    _members[:] = [members]


def members() -> TenantMembers:
    if not _members:
        raise RuntimeError("No app registered the tenant's members (accounts is not installed?)")
    return _members[0]


def add_listener(listener: TenantListener) -> None:
    if all(type(existing) is not type(listener) for existing in _listeners):
        _listeners.append(listener)


def listeners() -> list[TenantListener]:
    return list(_listeners)


def register_price_book(book: PriceBook) -> None:
    _price_books[:] = [book]


def price_book() -> PriceBook | None:
    return _price_books[0] if _price_books else None
