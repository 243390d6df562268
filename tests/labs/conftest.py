"""Labs fixtures: a tenant with a learner, a pool shard (moto's organization) with accounts, published labs.

Everything goes through our own services against moto; only the AWS sign-in federation endpoint (plain
HTTPS) is mocked, with ``responses``."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.conf import settings
from moto.core.models import responses_mock

from accounts.services import user_create
from cloudkida.identity.principal import Role
from labs import aws_accounts
from labs.domain import PoolTarget
from labs.repository import pool as pool_repo
from labs.services import (
    assignment_add,
    lab_create,
    lab_enable,
    lab_publish,
    lab_session_start,
    pool_replenish,
    shard_register,
)
from tenants.services import tenant_register
from tests.conftest import tid

BUCKET_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Description: A versioned bucket for the lab
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
TASKS = [
    {
        "task_id": "versioned-bucket",
        "title": "Make a versioned bucket",
        "check": {
            "type": "assertion",
            "assertion": "s3_bucket",
            "params": {"versioning": True, "name_prefix": "learner-"},
        },
    },
    {
        "task_id": "queue",
        "title": "Make a queue",
        "check": {"type": "assertion", "assertion": "sqs_queue", "params": {"name_prefix": "orders"}},
    },
]


def register(slug: str, tier: str = "basic") -> str:
    tenant_register(
        name=f"{slug.title()} Org",
        slug=slug,
        admin_email=f"admin@{slug}.example",
        admin_name="Admin",
        tier=tier,
        country="US",
        client_address=slug,
    )
    return tid(slug)


def learner(tenant_id: str, email: str = "lee@learner.example") -> str:
    return user_create(tenant_id=tenant_id, email=email, name="Lee Learner", role=Role.TENANT_USER).user_id


def global_lab(*, slug: str = "s3-basics", hot_pool_size: int = 0, public: bool = False, **fields):
    lab = lab_create(
        owner="",
        actor="test",
        template=BUCKET_TEMPLATE,
        title=f"Lab {slug}",
        slug=slug,
        summary="Buckets and queues",
        instructions="# Do it\nMake a **versioned** bucket.",
        duration_minutes=60,
        max_duration_minutes=90,
        allowed_regions=["us-east-1"],
        allowed_services=["s3", "sqs"],
        budget_usd=10,
        tasks=TASKS,
        public=public,
        hot_pool_size=hot_pool_size,
        **fields,
    )
    return lab_publish(owner="", lab_id=lab.lab_id, actor="test")


def offer(tenant_id: str, lab, user_id: str) -> None:
    """Enable a global lab for the tenant and assign it to the user."""
    if lab.is_global:
        lab_enable(tenant_id=tenant_id, lab_id=lab.lab_id, enabled=True, actor="test")
    assignment_add(tenant_id=tenant_id, lab=lab, assignee_type="user", assignee_id=user_id, actor="test")


@pytest.fixture
def pool(platform, settings):
    """One shard (moto's organization) with its OUs and SCPs, and 3 AVAILABLE accounts in us-east-1."""
    settings.CLOUDKIDA_LAB_DRIFT_GRACE_SECONDS = 0
    aws_accounts.forget_credentials()
    shard = shard_register(shard_id="main")
    pool_repo.targets_put({"us-east-1": PoolTarget("us-east-1", 3, 10)})
    report = pool_replenish()
    assert len(report.joined) == 0 and len(report.created) == 3
    report = pool_replenish()  # the creations (SUCCEEDED at once in moto) join the pool
    assert len(report.joined) == 3
    yield shard
    aws_accounts.forget_credentials()


@pytest.fixture
def federation(moto):
    """The AWS sign-in federation endpoint (plain HTTPS, which moto does not emulate), answering
    getSigninToken for well-formed sessions: a ``responses`` callback on moto's own requests mock, so the
    other HTTP calls (Cognito's JWKS) still reach moto."""
    calls = []

    def sign_in(request):
        query = parse_qs(urlsplit(request.url).query)
        session = json.loads(query["Session"][0])
        assert set(session) == {"sessionId", "sessionKey", "sessionToken"}
        calls.append(session["sessionId"])
        return 200, {"Content-Type": "application/json"}, json.dumps({"SigninToken": "token-" + session["sessionId"]})

    responses_mock.add_callback(responses.GET, settings.CLOUDKIDA_LAB_FEDERATION_URL, callback=sign_in)
    yield calls
    responses_mock.remove(responses.GET, settings.CLOUDKIDA_LAB_FEDERATION_URL)


def one_of_every_labs_kind(tenant_id: str, user_id: str) -> None:
    """Through labs' own services, leave the tenant at least one item of every tenant-owned labs kind: a
    private lab (and its slug), an enabled global lab, an assignment (both items), a READY session with
    its step records, counters and a task check's progress, and a session still starting (its lock)."""
    from unittest import mock

    from labs.services import lab_session_check

    aws_accounts.forget_credentials()
    if pool_repo.shard_get("main") is None:
        shard_register(shard_id="main")
    pool_repo.targets_put({"us-east-1": PoolTarget("us-east-1", 2, 10)})
    pool_replenish()
    pool_replenish()
    own = lab_create(owner=tenant_id, actor="test", template=BUCKET_TEMPLATE, title="Own", slug="own", tasks=TASKS)
    shared = global_lab(slug=f"shared-{tenant_id[-6:]}")
    offer(tenant_id, shared, user_id)
    session = lab_session_start(tenant_id=tenant_id, user_id=user_id, lab_id=shared.lab_id, actor="test")
    assert session.state.value == "READY", session.failure_reason
    lab_session_check(tenant_id=tenant_id, session_id=session.session_id, task_id="queue")
    own = lab_publish(owner=tenant_id, lab_id=own.lab_id, actor="test")
    offer(tenant_id, own, user_id)
    with mock.patch("labs.services.runs.start"):  # this one stays REQUESTED, holding its start lock
        lab_session_start(tenant_id=tenant_id, user_id=user_id, lab_id=own.lab_id, actor="test")
