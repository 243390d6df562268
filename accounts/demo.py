"""The demo data `make run` seeds: a learner in the shared tenant (bootstrap creates the tenant itself,
as in every environment) and one organisation with its people.

Tenants go through the real onboarding workflow (inline), so the demo has groups, app clients, users,
API keys and welcome emails exactly as a signed-up tenant does.
"""

from __future__ import annotations

from botocore.exceptions import ClientError
from django.conf import settings

from accounts.domain import Role
from accounts.integrations import sso
from accounts.invitations import temporary_password
from accounts.selectors import user_get_by_email
from accounts.services import user_invite
from cloudkida import aws
from cloudkida.errors import NotFound
from tenants import provisioning
from tenants.domain import TenantStatus, Tier
from tenants.selectors import tenant_get, tenant_get_by_slug
from tenants.services.onboarding import onboarding_run
from tenants.services.records import tenant_create

# (slug, organisation name, tier, admin (email, name), other users [(email, name, role)])
DEMO_TENANTS = [
    (
        settings.CLOUDKIDA_DEFAULT_TENANT,
        "CloudKida Learners",
        Tier.STANDARD,
        (settings.CLOUDKIDA_DEFAULT_TENANT_ADMIN_EMAIL, "CloudKida Learners Admin"),
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
            tenant = tenant_get_by_slug(slug=slug)
            lines.append(f"found   tenant         {slug} ({tenant.tier.value}, {tenant.status.value})")
        except NotFound:
            tenant = tenant_create(
                slug=slug,
                name=name,
                tier=tier,
                admin_email=admin_email,
                admin_name=admin_name,
                country="US",
                is_default=slug == settings.CLOUDKIDA_DEFAULT_TENANT,
            )
            lines.append(f"created tenant         {slug} ({tier.value}, id {tenant.tenant_id})")
        if tenant_get(tenant_id=tenant.tenant_id).status is not TenantStatus.ACTIVE:
            result = onboarding_run(tenant_id=tenant.tenant_id)
            lines.append(
                f"onboard tenant         {slug}: {'ACTIVE' if result.ok else 'FAILED at ' + result.failed_step}"
            )
        for email, user_name, role in users:
            if user_get_by_email(tenant_id=tenant.tenant_id, email=email):
                lines.append(f"found   user           {email} in {slug}")
                continue
            user_invite(tenant_id=tenant.tenant_id, email=email, name=user_name, role=role, actor="seed_demo")
            lines.append(f"created user           {email} in {slug}")
    return lines


DEMO_OPERATOR = "ops@cloudkida.localhost"


def seed_demo_operator() -> str:
    """The demo system admin's account in the operations pool. It signs in to the admin through the pool's
    (emulated) hosted UI with the temporary password printed here, and chooses its own at first sign-in."""
    pool = provisioning.platform()["operations_user_pool_id"]
    cognito = aws.client("cognito-idp")
    password = temporary_password()
    try:
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=DEMO_OPERATOR,
            TemporaryPassword=password,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": DEMO_OPERATOR},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "custom:userRole", "Value": "SystemAdmin"},
            ],
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "UsernameExistsException":
            raise
        return f"found   operator       {DEMO_OPERATOR}"
    return f"created operator       {DEMO_OPERATOR} (temporary password: {password})"


DEMO_SSO_TENANT = "acme"


def seed_demo_sso(issuer: str) -> str:
    """The demo organisation's single sign-on: the local OIDC provider `make run` starts at ``issuer``
    (oidc-provider-mock accepts any client id and secret; these are local values, not secrets)."""
    tenant = tenant_get_by_slug(slug=DEMO_SSO_TENANT)
    issuer = issuer.rstrip("/")
    for provider in sso.provider_list(tenant_id=tenant.tenant_id):
        if provider.created_by != "seed_demo":
            continue
        if provider.issuer == issuer:
            return f"found   identity prov. {provider.display_name} in {DEMO_SSO_TENANT} ({issuer})"
        sso.provider_update(  # the local provider runs on another port this time
            tenant_id=tenant.tenant_id,
            provider_name=provider.provider_name,
            expected_version=provider.version,
            actor="seed_demo",
            issuer=issuer,
        )
        return f"updated identity prov. {provider.display_name} in {DEMO_SSO_TENANT} ({issuer})"
    provider = sso.provider_create(
        tenant_id=tenant.tenant_id,
        display_name="Acme SSO",
        issuer=issuer,
        client_id="cloudkida-acme-local",
        client_secret="local-demo-client-secret",  # noqa: S106 - the local mock accepts any value
        email_domains=["acme.example"],
        default_role=Role.TENANT_USER.value,
        created_by="seed_demo",
    )
    return f"created identity prov. {provider.display_name} in {DEMO_SSO_TENANT} ({issuer})"
