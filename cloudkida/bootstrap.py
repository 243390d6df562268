"""Idempotent creation of everything the platform needs in an AWS account or local emulation.

Each ``ensure_*`` finds the resource by name or creates it, and reports which. Resource ids that
AWS generates (Cognito pool ids) are recorded in the control table's platform record, so the app
reads them with one GetItem instead of listing pools.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from cloudkida import aws
from cloudkida.dynamo import Table, tables

PLATFORM_PK = "PLATFORM"
PLATFORM_SK = "RESOURCES"
QUEUES = ("onboarding", "lab-events", "usage")


@dataclass
class Outcome:
    kind: str
    name: str
    created: bool
    detail: str = ""

    def __str__(self) -> str:
        verb = "created" if self.created else "found  "
        return f"{verb} {self.kind:<14} {self.name}{f'  ({self.detail})' if self.detail else ''}"


def _name(suffix: str) -> str:
    return f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-{suffix}"


def find_user_pool(name: str) -> str:
    """The id of the user pool called ``name``, or "" (lists pools: bootstrap and retries only)."""
    cognito = aws.client("cognito-idp")
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                return pool["Id"]
    return ""


def create_user_pool(name: str) -> str:
    """A Cognito user pool with CloudKida's custom attributes (tenantId, userRole); returns its id."""
    pool = aws.client("cognito-idp").create_user_pool(
        PoolName=name,
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        MfaConfiguration="OFF",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": False,
            }
        },
        Schema=[
            {
                "Name": "tenantId",
                "AttributeDataType": "String",
                "Mutable": True,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
            },
            {
                "Name": "userRole",
                "AttributeDataType": "String",
                "Mutable": True,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "32"},
            },
        ],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        UserPoolTags={"cloudkida:prefix": settings.CLOUDKIDA_RESOURCE_PREFIX},
    )["UserPool"]
    return pool["Id"]


def ensure_user_pool(suffix: str) -> Outcome:
    name = _name(suffix)
    found = find_user_pool(name)
    if found:
        return Outcome("user pool", name, False, found)
    return Outcome("user pool", name, True, create_user_pool(name))


def ensure_operations_client(pool_id: str) -> Outcome:
    """The app client system admins and support staff sign in with (operations pool)."""
    cognito = aws.client("cognito-idp")
    name = "operations-console"
    for page in cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
        for found in page["UserPoolClients"]:
            if found["ClientName"] == name:
                return Outcome("app client", name, False, found["ClientId"])
    client = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=name,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return Outcome("app client", name, True, client["ClientId"])


def ensure_pool_domain(pool_id: str, domain: str) -> Outcome:
    """The hosted-UI domain of a pool (the pooled pool's login pages)."""
    cognito = aws.client("cognito-idp")
    current = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("Domain")
    if current:
        return Outcome("hosted ui", current, False)
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    return Outcome("hosted ui", domain, True)


def ensure_usage_plan(tier: str) -> Outcome:
    """The API Gateway usage plan of a tier, with the throttle and daily quota from settings."""
    apigateway = aws.client("apigateway")
    name = _name(f"tier-{tier}")
    limits = settings.CLOUDKIDA_TIER_LIMITS[tier]
    for page in apigateway.get_paginator("get_usage_plans").paginate():
        for plan in page["items"]:
            if plan["name"] == name:
                return Outcome("usage plan", name, False, plan["id"])
    plan = apigateway.create_usage_plan(
        name=name,
        description=f"CloudKida {tier} tier",
        throttle={"rateLimit": float(limits["rate"]), "burstLimit": int(limits["burst"])},
        quota={"limit": int(limits["quota_per_day"]), "period": "DAY"},
        tags={"cloudkida:tier": tier},
    )
    return Outcome("usage plan", name, True, plan["id"])


def ensure_queue(suffix: str) -> Outcome:
    """A standard SQS queue with a dead-letter queue after 5 failed receives."""
    sqs = aws.client("sqs")
    name = _name(suffix)
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return Outcome("queue", name, False)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}:
            raise
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "120",
            "RedrivePolicy": f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}',
        },
    )["QueueUrl"]
    return Outcome("queue", name, True, url.rsplit("/", 1)[-1])


def ensure_bucket(name: str) -> Outcome:
    """A private, encrypted, versioned S3 bucket."""
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=name)
        return Outcome("bucket", name, False)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"404", "NoSuchBucket", "NotFound"}:
            raise
    kwargs: dict[str, Any] = {"Bucket": name}
    if settings.AWS_REGION != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return Outcome("bucket", name, True)


def ensure_sender_identity(email: str) -> Outcome:
    """The SES identity welcome and invitation emails are sent from."""
    ses = aws.client("ses")
    known = ses.list_identities(IdentityType="EmailAddress")["Identities"]
    if email in known:
        return Outcome("ses identity", email, False)
    ses.verify_email_identity(EmailAddress=email)
    return Outcome("ses identity", email, True)


def platform_resources() -> dict[str, Any]:
    """The ids bootstrap recorded (pooled and operations user pools); empty before bootstrap."""
    return Table(tables.control_table().name).get(PLATFORM_PK, PLATFORM_SK) or {}


_app_steps: list[Callable[[], list[Outcome]]] = []


def register_step(step: Callable[[], list[Outcome]]) -> None:
    """An app's part of bootstrap (the shared default tenant, say), run after the platform's own resources.
    Registered from ``AppConfig.ready``; each must be idempotent."""
    if step not in _app_steps:
        _app_steps.append(step)


def bootstrap(*, apps: bool = True) -> list[Outcome]:
    """Create whatever is missing; return what was created and what was found, in order.

    With ``apps`` (the default, and what ``manage.py bootstrap`` does) the apps' registered steps run
    after the platform's resources; tests that want a bare platform pass ``apps=False``.
    """
    outcomes = platform_bootstrap()
    if apps:
        for step in _app_steps:
            outcomes += step()
    return outcomes


def platform_bootstrap() -> list[Outcome]:
    """The platform's own resources: tables, pools, usage plans, queues, bucket, SES identity, record."""
    outcomes = []
    for spec in tables.platform_tables():
        outcomes.append(Outcome("table", spec.name, tables.ensure_table(spec)))
    pooled = ensure_user_pool("pooled")
    operations = ensure_user_pool("operations")
    operations_client = ensure_operations_client(operations.detail)
    outcomes += [pooled, operations, operations_client, ensure_pool_domain(pooled.detail, _name("pooled"))]
    plans = {tier: ensure_usage_plan(tier) for tier in settings.CLOUDKIDA_TIER_LIMITS}
    outcomes += plans.values()
    outcomes += [ensure_queue(q) for q in QUEUES]
    outcomes.append(ensure_bucket(settings.CLOUDKIDA_ASSETS_BUCKET))
    outcomes.append(ensure_sender_identity(settings.CLOUDKIDA_SENDER_EMAIL))
    record = {
        "pooled_user_pool_id": pooled.detail,
        "pooled_domain": _name("pooled"),
        "operations_user_pool_id": operations.detail,
        "operations_client_id": operations_client.detail,
        "usage_plans": {tier: outcome.detail for tier, outcome in plans.items()},
    }
    current = platform_resources()
    control = Table(tables.control_table().name)
    if not current:
        control.create({"PK": PLATFORM_PK, "SK": PLATFORM_SK, **record})
        outcomes.append(Outcome("platform record", "control/PLATFORM", True))
    elif any(current.get(k) != v for k, v in record.items()):
        control.update(PLATFORM_PK, PLATFORM_SK, expected_version=current["version"], changes=record)
        outcomes.append(Outcome("platform record", "control/PLATFORM", True, "updated"))
    else:
        outcomes.append(Outcome("platform record", "control/PLATFORM", False))
    return outcomes
