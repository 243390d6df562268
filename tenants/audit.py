"""Audit events made readable: a sentence for each action, details as labelled values.

Each app describes its own actions (``describe_actions`` from ``AppConfig.ready``); an action nobody
described still reads well ("User invited" and its details as "email: ada@…").
"""

from __future__ import annotations

import string

from tenants.domain import AuditEvent

_templates: dict[str, str] = {}


def describe_actions(templates: dict[str, str]) -> None:
    """Register sentences for actions, with ``{detail}`` placeholders (a missing detail reads as "")."""
    _templates.update(templates)


def described_actions() -> list[str]:
    """Every action some app described, sorted (the audit page's filter offers them)."""
    return sorted(_templates)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def event_summary(event: AuditEvent) -> str:
    """One readable sentence for an event: "Invited ada@acme.example as TenantUser"."""
    template = _templates.get(event.action)
    if template:
        values = _Blank({k: _text(v) for k, v in event.details.items()})
        text = " ".join(string.Formatter().vformat(template, (), values).split())
        return text[:1].upper() + text[1:]
    return event.action.replace(".", " ").replace("_", " ").capitalize()


def event_details(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's details as (label, text) pairs, for a table."""
    return [
        (key.replace("_", " "), _text(value)) for key, value in sorted(event.details.items()) if value not in ("", None)
    ]


def _text(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {_text(v)}" for k, v in value.items() if v not in ("", None))
    if isinstance(value, (list, tuple, set)):
        return ", ".join(_text(v) for v in value)
    return "" if value is None else str(value)


describe_actions(
    {
        "tenant.registered": "Organisation signed up",
        "tenant.activated": "Organisation activated",
        "tenant.deactivated": "Organisation deactivated",
        "tenant.renamed": "Subdomain changed from {from} to {to}",
        "tenant.tier_changed": "Plan changed from {from} to {to}",
        "tenant.updated": "Organisation details changed ({fields})",
        "onboarding.failed": "Setting up failed at {step}: {reason}",
        "onboarding.retried": "Setting up retried from {step}",
        "branding.updated": "Branding changed ({fields})",
        "branding.asset_uploaded": "New {asset} uploaded ({width}×{height})",
        "branding.asset_removed": "{asset} removed",
        "domain.added": "Domain {domain} added",
        "domain.verified": "Domain {domain} verified",
        "domain.removed": "Domain {domain} removed",
    }
)
