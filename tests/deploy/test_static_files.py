"""Static files (the admin's, DRF's, the API docs') go to the assets bucket at deploy time and are served by
CloudFront, never by the Lambda: `collectstatic` with the deployed stage's storage, against moto's S3."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.templatetags.static import static

from cloudkida import aws
from cloudkida.settings import assets_storage

pytestmark = pytest.mark.usefixtures("platform")


def test_collectstatic_uploads_to_the_assets_bucket_and_pages_link_to_cloudfront(settings):
    domain = "assets.cloudkida.example"
    settings.STATIC_URL = f"https://{domain}/static/"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": assets_storage(settings.CLOUDKIDA_ASSETS_BUCKET, domain)}
    call_command("collectstatic", "--noinput", verbosity=0)
    s3 = aws.client("s3")
    head = s3.head_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key="static/admin/css/base.css")
    assert head["CacheControl"] == "public, max-age=86400"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Prefix="static/")["Contents"]]
    assert any(k.startswith("static/drf_spectacular_sidecar/") for k in keys)
    assert static("admin/css/base.css") == f"https://{domain}/static/admin/css/base.css"
