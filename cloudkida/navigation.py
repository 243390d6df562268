"""The portal's navigation, contributed by the apps that own the pages.

An app adds its entries from ``AppConfig.ready``::

    navigation.add(NavItem("Labs", "/labs/", roles=ADMINS_AND_LEARNERS, order=20))

and the portal's side navigation shows, in ``order``, the entries for the signed-in user's role. The core
knows no app's pages, so a new app adds a page without editing the portal's context.

The same way, an app adds a figure to the tenant admin's dashboard::

    navigation.add_summary(Summary("Running labs", "/labs/live/", "labs.summaries.running", order=20))

where ``labs.summaries.running(tenant_id)`` returns ``(value, hint)``; it is imported at first use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

TENANT_ADMIN = "TenantAdmin"
TENANT_USER = "TenantUser"
ADMINS = frozenset({TENANT_ADMIN})
EVERYONE = frozenset({TENANT_ADMIN, TENANT_USER})


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str  # a path on the tenant's host, ending in "/"
    roles: frozenset[str] = ADMINS
    order: int = 100


_items: dict[tuple[str, frozenset[str]], NavItem] = {}


def add(*items: NavItem) -> None:
    for item in items:
        existing = _items.get((item.url, item.roles))
        if existing is not None and existing != item:
            raise ValueError(f"navigation entry {item.url!r} is already added differently")
        _items[(item.url, item.roles)] = item


def for_role(role: str | None, path: str) -> list[dict]:
    """The entries ``role`` sees, each with ``current`` set for the page at ``path``."""
    if not role:
        return []
    visible = sorted((i for i in _items.values() if role in i.roles), key=lambda i: (i.order, i.label))
    matching = [i.url for i in visible if path == i.url or (i.url != "/" and path.startswith(i.url))]
    current = max(matching, key=len, default=None)
    return [{"label": i.label, "url": i.url, "current": i.url == current} for i in visible]


@dataclass(frozen=True)
class Summary:
    label: str
    url: str  # the page with the details
    compute: str  # dotted path of f(tenant_id) -> (value, hint)
    order: int = 100


_summaries: dict[str, Summary] = {}


def add_summary(*summaries: Summary) -> None:
    for summary in summaries:
        if _summaries.get(summary.label, summary) != summary:
            raise ValueError(f"dashboard summary {summary.label!r} is already added differently")
        _summaries[summary.label] = summary


def summaries(tenant_id: str) -> list[dict]:
    """The dashboard's figures in ``order``; one that fails is left out (logged), the dashboard still shows."""
    shown = []
    for summary in sorted(_summaries.values(), key=lambda s: (s.order, s.label)):
        try:
            value, hint = import_string(summary.compute)(tenant_id)
        except Exception:
            logger.exception("dashboard summary failed", extra={"summary": summary.label, "tenant_id": tenant_id})
            continue
        shown.append({"label": summary.label, "url": summary.url, "value": value, "hint": hint})
    return shown
