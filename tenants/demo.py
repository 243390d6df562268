"""The demo data `make run` seeds: the shared tenant for individual learners and one organisation.

Tenants go through the real onboarding workflow (inline), so the demo has groups, app clients, users,
API keys and welcome emails exactly as a signed-up tenant does.
"""

from __future__ import annotations

from django.conf import settings

from accounts.domain import Role
from accounts.selectors import user_get_by_email
from accounts.services import user_invite
from cloudkida.errors import NotFound
from tenants.domain import TenantStatus, Tier
from tenants.selectors import tenant_get
from tenants.services.onboarding import onboarding_run
from tenants.services.records import tenant_create

# (slug, organisation name, tier, admin (email, name), other users [(email, name, role)])
DEMO_TENANTS = [
    (
        settings.CLOUDKIDA_DEFAULT_TENANT,
        "CloudKida Learners",
        Tier.STANDARD,
        ("learners-admin@cloudkida.localhost", "Learners Admin"),
        [("learner@example.com", "Lee Learner", Role.TENANT_USER)],
    ),
    (
        "acme",
        "Acme Corporation",
        Tier.PREMIUM,
        ("admin@acme.example", "Ada Admin"),
        [("dev@acme.example", "Dev Eloper", Role.TENANT_USER)],
    ),
]


def seed_demo_tenants() -> list[str]:
    lines = []
    for slug, name, tier, (admin_email, admin_name), users in DEMO_TENANTS:
        try:
            tenant = tenant_get(tenant_id=slug)
            lines.append(f"found   tenant         {slug} ({tenant.tier.value}, {tenant.status.value})")
        except NotFound:
            tenant_create(
                slug=slug,
                name=name,
                tier=tier,
                admin_email=admin_email,
                admin_name=admin_name,
                country="US",
                is_default=slug == settings.CLOUDKIDA_DEFAULT_TENANT,
            )
            lines.append(f"created tenant         {slug} ({tier.value})")
        if tenant_get(tenant_id=slug).status is not TenantStatus.ACTIVE:
            result = onboarding_run(tenant_id=slug)
            lines.append(
                f"onboard tenant         {slug}: {'ACTIVE' if result.ok else 'FAILED at ' + result.failed_step}"
            )
        for email, user_name, role in users:
            if user_get_by_email(tenant_id=slug, email=email):
                lines.append(f"found   user           {email} in {slug}")
                continue
            user_invite(tenant_id=slug, email=email, name=user_name, role=role)
            lines.append(f"created user           {email} in {slug}")
    return lines
