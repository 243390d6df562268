"""Editing a tenant's branding: text fields on the tenant record, images in the assets bucket.

Images go through django-storages (S3) under the tenant's own prefix
(``tenants/<tenant id>/branding/<asset>-<digest>.<ext>``): a content-addressed name, so a new upload is a
new URL (caches never show a stale logo) and the record names the object it shows. Only
``tenants.branding.check_image`` decides what is stored.
"""

from __future__ import annotations

import hashlib
import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.base import ContentFile

from cloudkida import assets
from cloudkida.errors import ValidationFailed
from tenants import provisioning
from tenants.branding import (
    ASSETS,
    HOSTED_UI_LOGO_MAX_BYTES,
    HOSTED_UI_LOGO_TYPES,
    check_image,
    hosted_ui_css,
    validate_fields,
)
from tenants.domain import Tenant
from tenants.selectors import branding_for, tenant_get
from tenants.services.management import audit
from tenants.services.records import tenant_update

logger = logging.getLogger(__name__)


def assets_storage():
    """The assets bucket through django-storages (private objects; served by our own view)."""
    from storages.backends.s3 import S3Storage  # lazy: cold start (boto3; uploads only)

    return S3Storage(
        bucket_name=settings.CLOUDKIDA_ASSETS_BUCKET,
        region_name=settings.AWS_REGION,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        default_acl=None,
        file_overwrite=True,
        object_parameters={"ServerSideEncryption": "AES256", "CacheControl": "public, max-age=31536000, immutable"},
    )


def hosted_ui_branding_apply(tenant: Tenant) -> bool:
    """Show the tenant's colours (and its logo, if PNG or JPEG of at most 100 KB) on Cognito's hosted UI
    for its app client, when ``CLOUDKIDA_COGNITO_UI_CUSTOMIZATION`` is on (production; locally the hosted-UI
    emulator renders the branding itself). A refusal is logged: the branding is saved and shows everywhere
    else, and the next change tries again. Returns whether the hosted UI was updated."""
    pool_id, client_id = tenant.identity.get("user_pool_id", ""), tenant.identity.get("client_id", "")
    if not settings.CLOUDKIDA_COGNITO_UI_CUSTOMIZATION or not pool_id or not client_id:
        return False
    logo = None
    key = tenant.branding.get("logo_key", "")
    if key and tenant.branding.get("logo_type") in HOSTED_UI_LOGO_TYPES:
        with assets_storage().open(key) as stored:
            data = stored.read()
        logo = data if len(data) <= HOSTED_UI_LOGO_MAX_BYTES else None
    try:
        provisioning.set_hosted_ui_branding(pool_id, client_id, css=hosted_ui_css(branding_for(tenant)), logo=logo)
    except (ClientError, BotoCoreError) as error:
        logger.warning("hosted UI branding not applied", extra={"tenant_id": tenant.tenant_id, "error": str(error)})
        return False
    return True


def tenant_branding_update(*, tenant_id: str, actor: str, expected_version: int, **fields: str) -> Tenant:
    """Change display name, colours (hex), support email and URL, login-page message (plain text, at most
    500 characters); "" clears a field so CloudKida's default applies. Optimistic locking on the tenant."""
    cleaned = validate_fields(fields)
    if not cleaned:
        raise ValidationFailed("Nothing to change.", code="nothing_to_change")
    tenant = tenant_get(tenant_id=tenant_id)
    tenant.version = expected_version
    branding = {k: v for k, v in {**tenant.branding, **cleaned}.items() if v != ""}
    updated = tenant_update(tenant=tenant, branding=branding)
    audit(tenant_id, "branding.updated", actor, fields=sorted(cleaned))
    hosted_ui_branding_apply(updated)
    return updated


def tenant_branding_asset_upload(*, tenant_id: str, asset: str, data: bytes, actor: str) -> Tenant:
    """Store a logo or favicon (checked and re-encoded) and show it; the previous one is deleted."""
    image = check_image(asset, data)
    digest = hashlib.sha256(image.data).hexdigest()[:16]
    key = f"{assets.tenant_prefix(tenant_id)}branding/{asset}-{digest}.{image.extension}"
    storage = assets_storage()
    storage.save(key, ContentFile(image.data))
    tenant = tenant_get(tenant_id=tenant_id)
    previous = tenant.branding.get(f"{asset}_key", "")
    branding = {**tenant.branding, f"{asset}_key": key, f"{asset}_type": image.content_type}
    updated = tenant_update(tenant=tenant, branding=branding)
    if previous and previous != key:
        storage.delete(previous)
    audit(
        tenant_id,
        "branding.asset_uploaded",
        actor,
        asset=asset,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        bytes=len(image.data),
    )
    hosted_ui_branding_apply(updated)
    return updated


def tenant_branding_asset_remove(*, tenant_id: str, asset: str, actor: str) -> Tenant:
    """Stop showing the tenant's logo or favicon (CloudKida's applies again) and delete the object."""
    if asset not in ASSETS:
        raise ValidationFailed("Remove a logo or a favicon.", code="invalid_asset", details={"field": asset})
    tenant = tenant_get(tenant_id=tenant_id)
    key = tenant.branding.get(f"{asset}_key", "")
    if not key:
        return tenant
    branding = {k: v for k, v in tenant.branding.items() if k not in {f"{asset}_key", f"{asset}_type"}}
    updated = tenant_update(tenant=tenant, branding=branding)
    assets_storage().delete(key)
    audit(tenant_id, "branding.asset_removed", actor, asset=asset)
    hosted_ui_branding_apply(updated)
    return updated
