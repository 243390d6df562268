"""The demo data `make run` seeds: a shared tenant for individual learners and one organisation."""

from __future__ import annotations

from django.conf import settings

from cloudkida.errors import Conflict
from tenants.domain import TenantStatus, Tier
from tenants.selectors import tenant_get
from tenants.services import tenant_create

# (slug, organisation name, tier, [(email, name, role)])
DEMO_TENANTS = [
    (
        settings.CLOUDKIDA_DEFAULT_TENANT,
        "CloudKida Learners",
        Tier.STANDARD,
        [("learner@example.com", "Lee Learner", "TenantUser")],
    ),
    (
        "acme",
        "Acme Corporation",
        Tier.PREMIUM,
        [("admin@acme.example", "Ada Admin", "TenantAdmin"), ("dev@acme.example", "Dev Eloper", "TenantUser")],
    ),
]


def seed_demo_tenants() -> list[str]:
    lines = []
    for slug, name, tier, _users in DEMO_TENANTS:
        try:
            tenant_create(
                slug=slug,
                name=name,
                tier=tier,
                status=TenantStatus.ACTIVE,
                is_default=slug == settings.CLOUDKIDA_DEFAULT_TENANT,
            )
            lines.append(f"created tenant         {slug} ({tier.value})")
        except Conflict:
            tenant_get(tenant_id=slug)
            lines.append(f"found   tenant         {slug} ({tier.value})")
    return lines
