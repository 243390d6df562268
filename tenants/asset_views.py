"""A tenant's logo and favicon, served on the tenant's own host only.

``/branding/logo`` and ``/branding/favicon`` stream the object named by the request's tenant's record (and
only if it lies under that tenant's prefix of the assets bucket), with its real content type, ``nosniff``
and a CSP that lets nothing run: another tenant's host, the apex or an unknown host never answers
another tenant's file.
"""

from __future__ import annotations

from botocore.exceptions import ClientError
from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from cloudkida import aws
from tenants.selectors import branding_asset


@require_GET
def branding_asset_view(request, asset: str):
    tenant = getattr(request, "tenant", None)
    found = branding_asset(tenant=tenant, asset=asset) if tenant is not None else None
    if found is None:
        raise Http404("No such image.")
    key, content_type = found
    try:
        body = aws.client("s3").get_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            raise Http404("No such image.") from error
        raise
    response = HttpResponse(body, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=86400"
    return response
