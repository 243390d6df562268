"""The tenants app's part of bootstrap: the shared default tenant individual learners join.

The deployment itself creates it (``manage.py bootstrap`` in every environment), through the same
onboarding workflow as any tenant, so learner sign-up works on a fresh stage without demo data.
"""

from __future__ import annotations

from django.conf import settings

from cloudkida.bootstrap import Outcome
from tenants.domain import TenantStatus, Tier
from tenants.selectors import slug_target, tenant_get
from tenants.services.onboarding import onboarding_run
from tenants.services.records import tenant_create

DEFAULT_TENANT_NAME = "CloudKida Learners"


def ensure_default_tenant() -> list[Outcome]:
    slug = settings.CLOUDKIDA_DEFAULT_TENANT
    target = slug_target(slug=slug)
    created = target is None
    if created:
        tenant_id = tenant_create(
            slug=slug,
            name=DEFAULT_TENANT_NAME,
            tier=Tier.STANDARD,
            admin_email=settings.CLOUDKIDA_DEFAULT_TENANT_ADMIN_EMAIL,
            admin_name="CloudKida Learners Admin",
            country="IN",
            is_default=True,
        ).tenant_id
    else:
        tenant_id = target.tenant_id
    detail = tenant_id
    if tenant_get(tenant_id=tenant_id).status is not TenantStatus.ACTIVE:
        result = onboarding_run(tenant_id=tenant_id)
        detail = f"{tenant_id}, {'ACTIVE' if result.ok else 'FAILED at ' + result.failed_step}"
    return [Outcome("default tenant", slug, created, detail)]
