"""The assets bucket: one prefix per tenant (logos, lab templates), plus platform exports.

Keys under ``tenants/<tenant id>/`` belong to that tenant and go when it is offboarded; exports live
under ``exports/`` and outlive it on purpose.
"""

from __future__ import annotations

from django.conf import settings

from cloudkida import aws
from cloudkida.dynamo import check_tenant_id


def tenant_prefix(tenant_id: str) -> str:
    return f"tenants/{check_tenant_id(tenant_id)}/"


def delete_prefix(prefix: str) -> int:
    """Delete every object version under ``prefix`` (the bucket is versioned). Returns how many."""
    s3 = aws.client("s3")
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Prefix=prefix
    ):
        objects = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(objects), 1000):
            s3.delete_objects(
                Bucket=settings.CLOUDKIDA_ASSETS_BUCKET,
                Delete={"Objects": objects[start : start + 1000], "Quiet": True},
            )
        deleted += len(objects)
    return deleted
