"""What `make run` seeds for labs: a pool shard in the emulator's organization with a few accounts, and
two public CloudKida labs, offered in the shared learners tenant and enabled and assigned in acme."""

from __future__ import annotations

from accounts.selectors import user_get_by_email
from labs.domain import LabStatus, PoolTarget
from labs.repository import pool as pool_repo
from labs.selectors import lab_global_list
from labs.services import (
    assignment_add,
    lab_create,
    lab_enable,
    lab_publish,
    pool_replenish,
    shard_register,
)
from tenants.selectors import tenant_id_for_slug

BUCKET = """AWSTemplateFormatVersion: "2010-09-09"
Description: CloudKida demo lab - a versioned S3 bucket
Resources:
  LabBucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration:
        Status: Enabled
Outputs:
  BucketName:
    Value: !Ref LabBucket
"""
TABLE = """AWSTemplateFormatVersion: "2010-09-09"
Description: CloudKida demo lab - a DynamoDB table to query
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: order_id
          AttributeType: S
      KeySchema:
        - AttributeName: order_id
          KeyType: HASH
"""
DEMO_LABS = [
    {
        "slug": "s3-versioning",
        "title": "S3 versioning basics",
        "summary": "Turn on versioning and recover an overwritten object.",
        "instructions": "## S3 versioning\nThe lab created a versioned bucket for you. Make **your own** bucket "
        "whose name starts with `learner-`, enable versioning, upload a file twice, then check your work.",
        "allowed_services": ["s3"],
        "template": BUCKET,
        "tasks": [
            {
                "task_id": "versioned-bucket",
                "title": "Create a versioned bucket named learner-…",
                "check": {
                    "type": "assertion",
                    "assertion": "s3_bucket",
                    "params": {"name_prefix": "learner-", "versioning": True},
                },
            },
            {
                "task_id": "upload",
                "title": "Upload an object",
                "check": {"type": "function", "function": "bucket_has_objects", "params": {"at_least": 1}},
            },
        ],
    },
    {
        "slug": "dynamodb-first-table",
        "title": "Your first DynamoDB table",
        "summary": "Create a table, write an item, read it back.",
        "instructions": "## DynamoDB\nCreate a table called `learner-products` with a string key `sku`.",
        "allowed_services": ["dynamodb"],
        "template": TABLE,
        "tasks": [
            {
                "task_id": "table",
                "title": "Create the learner-products table",
                "check": {"type": "assertion", "assertion": "dynamodb_table", "params": {"name": "learner-products"}},
            }
        ],
    },
]


def seed_labs(*, accounts: int = 4) -> list[str]:
    """Idempotent: what exists is found, not made again."""
    lines = []
    if pool_repo.shard_get("local") is None:
        shard_register(shard_id="local")
        lines.append("created pool shard     local (the emulator's organization)")
    else:
        lines.append("found   pool shard     local")
    pool_repo.targets_put({"us-east-1": PoolTarget("us-east-1", accounts, accounts * 3)})
    for _ in range(3):
        report = pool_replenish()
        if not report.created and not report.joined:
            break
    lines.append(f"pool                   {pool_repo.count_available('us-east-1')} accounts available in us-east-1")
    existing = {lab.slug: lab for lab in lab_global_list()}
    acme = tenant_id_for_slug("acme")
    dev = user_get_by_email(tenant_id=acme, email="dev@acme.example") if acme else None
    for spec in DEMO_LABS:
        lab = existing.get(spec["slug"])
        if lab is None:
            fields = {k: v for k, v in spec.items() if k != "template"}
            lab = lab_create(owner="", actor="seed_labs", template=spec["template"], public=True, **fields)
            lines.append(f"created lab            {lab.slug}")
        if lab.status is not LabStatus.PUBLISHED:
            lab = lab_publish(owner="", lab_id=lab.lab_id, actor="seed_labs")
        if acme and dev:
            lab_enable(tenant_id=acme, lab_id=lab.lab_id, enabled=True, actor="seed_labs")
            assignment_add(tenant_id=acme, lab=lab, assignee_type="user", assignee_id=dev.user_id, actor="seed_labs")
        lines.append(f"lab                    {lab.slug} published (public; assigned to dev@acme.example)")
    return lines
