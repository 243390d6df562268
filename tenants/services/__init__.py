"""Writes and use cases for tenants, one module per concern, re-exported here."""

from tenants.services.branding import (
    tenant_branding_asset_remove,
    tenant_branding_asset_upload,
    tenant_branding_update,
)
from tenants.services.domains import app_client_identity_providers_set, domain_add, domain_remove, domain_verify
from tenants.services.management import (
    audit,
    tenant_activate,
    tenant_change_tier,
    tenant_deactivate,
    tenant_rename,
    tenant_retry,
    tenant_update_profile,
)
from tenants.services.offboarding import tenant_offboard
from tenants.services.onboarding import onboarding_run, onboarding_start
from tenants.services.records import tenant_create, tenant_update, validate_slug
from tenants.services.registration import tenant_register

__all__ = [
    "app_client_identity_providers_set",
    "audit",
    "domain_add",
    "domain_remove",
    "domain_verify",
    "onboarding_run",
    "onboarding_start",
    "tenant_activate",
    "tenant_branding_asset_remove",
    "tenant_branding_asset_upload",
    "tenant_branding_update",
    "tenant_change_tier",
    "tenant_create",
    "tenant_deactivate",
    "tenant_offboard",
    "tenant_register",
    "tenant_rename",
    "tenant_retry",
    "tenant_update",
    "tenant_update_profile",
    "validate_slug",
]
