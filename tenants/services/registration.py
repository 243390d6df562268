"""Self-service sign-up of organisations: reserve the slug and name, write the tenant, start onboarding."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings

from cloudkida import clock, ratelimit
from cloudkida.errors import Conflict, NotFound, ValidationFailed
from cloudkida.validation import validate_country, validate_email
from tenants import ports, repository
from tenants.domain import AuditEvent, Tenant, Tier
from tenants.selectors import tenant_get
from tenants.services.onboarding import onboarding_start
from tenants.services.records import tenant_create, validate_name, validate_slug


def check_signup_rate(client_address: str) -> None:
    """QuotaExceeded (429, Retry-After) if the address has used up its sign-ups for this hour."""
    ratelimit.check(**_signup_limit(client_address))


def count_signup(client_address: str) -> None:
    """Count one accepted sign-up (refused ones never count against the address)."""
    ratelimit.hit(**_signup_limit(client_address), enforce=False)


def _signup_limit(client_address: str) -> dict:
    return {
        "bucket": "signup",
        "subject": client_address or "unknown",
        "limit": settings.CLOUDKIDA_SIGNUP_RATE_PER_HOUR,
        "window_seconds": 3600,
    }


def tenant_register(
    *,
    name: str,
    slug: str,
    admin_email: str,
    admin_name: str,
    tier: str,
    country: str,
    phone: str = "",
    address: str = "",
    client_address: str = "",
) -> tuple[Tenant, str]:
    """Sign an organisation up: reserve slug and name, write the PENDING tenant, start onboarding.

    Returns the tenant and a status token that lets the sign-up page follow provisioning.
    Rate-limited per client address (only accepted sign-ups count); Conflict (409) if the slug or name
    is taken.
    """
    check_signup_rate(client_address)
    try:
        tier_value = Tier(str(tier).lower())
    except ValueError as error:
        raise ValidationFailed(
            "Choose a tier: basic, standard, premium or platinum.",
            code="invalid_tier",
            details={"tier": str(tier)[:32]},
        ) from error
    slug = validate_slug(slug)
    email = validate_email(admin_email)
    admin_name = " ".join((admin_name or "").split())
    if not 1 <= len(admin_name) <= 100:
        raise ValidationFailed("Enter the admin's name (up to 100 characters).", code="invalid_admin_name")
    country = validate_country(country)
    name = validate_name(name)
    _check_free(slug, name)  # before the email check, so "taken" names the slug or name first
    ports.members().check_admin_email(email=email, isolation=tier_value.isolation)
    token = secrets.token_urlsafe(24)
    tenant = tenant_create(
        slug=slug,
        name=name,
        tier=tier_value,
        admin_email=email,
        country=country,
        admin_name=admin_name,
        phone=(phone or "").strip()[:40],
        address=(address or "").strip()[:300],
        status_token_hash=hashlib.sha256(token.encode()).hexdigest(),
    )
    count_signup(client_address)
    repository.event_add(
        AuditEvent(
            tenant.tenant_id,
            clock.now(),
            "tenant.registered",
            email,
            {"tier": tier_value.value, "slug": slug, "client_address": client_address},
        )
    )
    onboarding_start(tenant_id=tenant.tenant_id)
    return tenant_get(tenant_id=tenant.tenant_id), token


def _check_free(slug: str, name: str) -> None:
    """Conflict if the slug or the name is held now (the create transaction decides races)."""
    if repository.slug_target(slug) is not None:
        raise Conflict(
            f"The subdomain {slug!r} is already taken.",
            code="already_exists",
            details={"constraint": "slug", "slug": slug},
        )
    if repository.tenant_id_by_name(name):
        raise Conflict(
            f"The name {name!r} is already taken.", code="already_exists", details={"constraint": "name", "name": name}
        )


def registration_status(*, tenant_id: str, token: str) -> Tenant:
    """The tenant, if ``token`` is the one its sign-up was given; NotFound otherwise (no probing)."""
    try:
        tenant = tenant_get(tenant_id=tenant_id)
    except (NotFound, ValidationFailed) as error:
        raise NotFound("No such registration.", code="registration_not_found") from error
    expected = tenant.status_token_hash
    if not expected or not secrets.compare_digest(expected, hashlib.sha256(token.encode()).hexdigest()):
        raise NotFound("No such registration.", code="registration_not_found")
    return tenant
