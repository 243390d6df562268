"""Self-service sign-up: organisations get a tenant; individual learners join the shared tenant."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings

from accounts.domain import Role, User
from accounts.selectors import user_get_by_email
from accounts.services import user_create, validate_email
from cloudkida import clock, ratelimit
from cloudkida.errors import Conflict, ValidationFailed
from tenants import provisioning, repository
from tenants.domain import AuditEvent, Tenant, TenantStatus, Tier
from tenants.selectors import tenant_get
from tenants.services.onboarding import onboarding_start
from tenants.services.records import tenant_create, validate_slug

COUNTRY_CODES_HINT = "a two-letter ISO 3166 country code"


def _check_rate(client_address: str) -> None:
    ratelimit.hit(
        bucket="signup",
        subject=client_address or "unknown",
        limit=settings.CLOUDKIDA_SIGNUP_RATE_PER_HOUR,
        window_seconds=3600,
    )


def _check_country(country: str) -> str:
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ValidationFailed(
            f"Country must be {COUNTRY_CODES_HINT}.", code="invalid_country", details={"country": country[:8]}
        )
    return country


def _check_pooled_identity_free(email: str, tenant_id: str) -> None:
    """Refuse an address that already signs in to another organisation in the pooled user pool."""
    from botocore.exceptions import ClientError

    from cloudkida import aws

    pool_id = provisioning.platform()["pooled_user_pool_id"]
    try:
        found = aws.client("cognito-idp").admin_get_user(UserPoolId=pool_id, Username=email)
    except ClientError as error:
        if error.response["Error"]["Code"] == "UserNotFoundException":
            return
        raise
    attributes = {a["Name"]: a["Value"] for a in found["UserAttributes"]}
    if attributes.get("custom:tenantId") != tenant_id:
        raise Conflict(
            "This email address already signs in to another CloudKida organisation; use another.",
            code="email_in_use",
            details={"field": "admin_email"},
        )


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
    Rate-limited per client address; Conflict (409) if the slug or name is taken.
    """
    _check_rate(client_address)
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
    country = _check_country(country)
    if tier_value is not Tier.PLATINUM:
        _check_pooled_identity_free(email, slug)
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
    repository.event_add(
        AuditEvent(
            tenant.tenant_id,
            clock.now(),
            "tenant.registered",
            email,
            {"tier": tier_value.value, "client_address": client_address},
        )
    )
    onboarding_start(tenant_id=tenant.tenant_id)
    return tenant_get(tenant_id=tenant.tenant_id), token


def registration_status(*, tenant_id: str, token: str) -> Tenant:
    """The tenant, if ``token`` is the one its sign-up was given; NotFound otherwise (no probing)."""
    from cloudkida.errors import NotFound

    try:
        tenant = tenant_get(tenant_id=tenant_id)
    except (NotFound, ValidationFailed) as error:
        raise NotFound("No such registration.", code="registration_not_found") from error
    expected = tenant.status_token_hash
    if not expected or not secrets.compare_digest(expected, hashlib.sha256(token.encode()).hexdigest()):
        raise NotFound("No such registration.", code="registration_not_found")
    return tenant


def learner_register(*, email: str, name: str, client_address: str = "") -> User:
    """An individual learner joins the shared default tenant: a user, no new tenant."""
    _check_rate(client_address)
    tenant_id = settings.CLOUDKIDA_DEFAULT_TENANT
    tenant = tenant_get(tenant_id=tenant_id)
    if tenant.status is not TenantStatus.ACTIVE:
        raise ValidationFailed("Sign-up for individual learners is closed right now.", code="signup_closed")
    email = validate_email(email)
    if user_get_by_email(tenant_id=tenant_id, email=email):
        raise Conflict(
            "You already have an account; sign in instead.", code="already_exists", details={"field": "email"}
        )
    _check_pooled_identity_free(email, tenant_id)
    sub = provisioning.ensure_user(
        tenant.identity.get("user_pool_id") or provisioning.platform()["pooled_user_pool_id"],
        tenant_id=tenant_id,
        email=email,
        name=name,
        role=Role.TENANT_USER.value,
        group=tenant_id,
    )
    return user_create(tenant_id=tenant_id, email=email, name=name, role=Role.TENANT_USER, user_id=sub or None)
