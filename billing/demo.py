"""The billing demo (make run): credit for the shared tenant's demo learner, so a lab can be started at once
(a start is paid from the learner's wallet). Idempotent: the grant has a fixed key."""

from __future__ import annotations

from accounts.selectors import user_get_by_email
from billing.services import credits_add
from tenants.selectors import tenant_id_for_slug

DEMO_LEARNER = "learner@example.com"
DEMO_CREDIT_CENTS = 2_000


def seed_billing(default_slug: str) -> list[str]:
    tenant_id = tenant_id_for_slug(default_slug)
    user = user_get_by_email(tenant_id=tenant_id, email=DEMO_LEARNER) if tenant_id else None
    if user is None:
        return [f"no demo learner {DEMO_LEARNER} in {default_slug}: run seed_demo first"]
    granted = credits_add(
        tenant_id=tenant_id, owner=user.user_id, amount_cents=DEMO_CREDIT_CENTS, key="grant:demo", kind="grant"
    )
    verb = "granted" if granted else "found  "
    return [f"{verb} credit         ${DEMO_CREDIT_CENTS // 100} for {DEMO_LEARNER}"]
