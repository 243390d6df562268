"""Idempotent creation of everything the platform needs in an AWS account or local emulation.

Each ``ensure_*`` finds the resource by name or creates it, and reports which. Resource ids that
AWS generates (Cognito pool ids) are recorded in the control table's platform record, so the app
reads them with one GetItem instead of listing pools.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from cloudkida import aws, resources
from cloudkida.dynamo import Table, tables

PLATFORM_PK = "PLATFORM"
PLATFORM_SK = "RESOURCES"


@dataclass
class Outcome:
    kind: str
    name: str
    created: bool
    detail: str = ""

    def __str__(self) -> str:
        verb = "created" if self.created else "found  "
        return f"{verb} {self.kind:<14} {self.name}{f'  ({self.detail})' if self.detail else ''}"


def find_user_pool(name: str) -> str:
    """The id of the user pool called ``name``, or "" (lists pools: bootstrap and retries only)."""
    cognito = aws.client("cognito-idp")
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                return pool["Id"]
    return ""


def create_user_pool(name: str, *, display_name: str = "CloudKida", operations: bool = False) -> str:
    """A Cognito user pool with CloudKida's custom attributes, sending through SES; returns its id."""
    request = resources.user_pool_request(
        name, display_name=display_name, operations=operations, account_id=aws.account_id()
    )
    cognito = aws.client("cognito-idp")
    pool_id = cognito.create_user_pool(**request)["UserPool"]["Id"]
    if operations:
        cognito.set_user_pool_mfa_config(UserPoolId=pool_id, **resources.REQUIRED_MFA)
    return pool_id


def ensure_user_pool(name: str, *, operations: bool = False) -> Outcome:
    found = find_user_pool(name)
    if found:
        return Outcome("user pool", name, False, found)
    with aws.deploying():
        return Outcome("user pool", name, True, create_user_pool(name, operations=operations))


def ensure_operations_client(pool_id: str) -> Outcome:
    """The app client system admins sign in to the Django admin with (operations pool)."""
    cognito = aws.client("cognito-idp")
    name = resources.OPERATIONS_CLIENT_NAME
    for page in cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
        for found in page["UserPoolClients"]:
            if found["ClientName"] == name:
                return Outcome("app client", name, False, found["ClientId"])
    with aws.deploying():
        client = cognito.create_user_pool_client(**resources.operations_client_request(pool_id))["UserPoolClient"]
    return Outcome("app client", name, True, client["ClientId"])


def ensure_pool_domain(pool_id: str, domain: str) -> Outcome:
    """The hosted-UI domain of a pool (the pooled pool's login pages)."""
    cognito = aws.client("cognito-idp")
    current = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("Domain")
    if current:
        return Outcome("hosted ui", current, False)
    with aws.deploying():
        cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    return Outcome("hosted ui", domain, True)


def ensure_usage_plan(plan: resources.UsagePlan) -> Outcome:
    """The API Gateway usage plan of a tier, with the throttle and daily quota from settings."""
    apigateway = aws.client("apigateway")
    for page in apigateway.get_paginator("get_usage_plans").paginate():
        for found in page["items"]:
            if found["name"] == plan.name:
                return Outcome("usage plan", plan.name, False, found["id"])
    with aws.deploying():
        created = apigateway.create_usage_plan(
            name=plan.name,
            description=f"CloudKida {plan.tier} tier",
            throttle={"rateLimit": plan.rate, "burstLimit": plan.burst},
            quota={"limit": plan.quota_per_day, "period": "DAY"},
            tags={"cloudkida:tier": plan.tier},
        )
    return Outcome("usage plan", plan.name, True, created["id"])


def ensure_queue(queue: resources.Queue) -> Outcome:
    """A standard SQS queue with a dead-letter queue after ``max_receives`` failed receives."""
    sqs = aws.client("sqs")
    try:
        sqs.get_queue_url(QueueName=queue.name)
        return Outcome("queue", queue.name, False)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}:
            raise
    with aws.deploying():
        dlq_url = sqs.create_queue(QueueName=f"{queue.name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"})
        attributes = sqs.get_queue_attributes(QueueUrl=dlq_url["QueueUrl"], AttributeNames=["QueueArn"])
        redrive = json.dumps(
            {"deadLetterTargetArn": attributes["Attributes"]["QueueArn"], "maxReceiveCount": str(queue.max_receives)}
        )
        sqs.create_queue(
            QueueName=queue.name,
            Attributes={"VisibilityTimeout": str(queue.visibility_timeout), "RedrivePolicy": redrive},
        )
    return Outcome("queue", queue.name, True)


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
    spec = resources.bucket_settings()
    with aws.deploying():
        s3.create_bucket(**kwargs)
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=spec["PublicAccessBlockConfiguration"])
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=spec["VersioningConfiguration"])
        s3.put_bucket_encryption(
            Bucket=name, ServerSideEncryptionConfiguration=spec["ServerSideEncryptionConfiguration"]
        )
    return Outcome("bucket", name, True)


def ensure_email_identity() -> list[Outcome]:
    """The SES domain identity every email is sent from (Cognito's too), and its configuration set."""
    ses = aws.client("ses")
    domain = resources.sender_domain()
    outcomes = []
    if domain in ses.list_identities(IdentityType="Domain")["Identities"]:
        outcomes.append(Outcome("ses identity", domain, False))
    else:
        with aws.deploying():
            ses.verify_domain_identity(Domain=domain)
        outcomes.append(Outcome("ses identity", domain, True))
    name = resources.resource_name(resources.EMAIL_CONFIGURATION_SET_SUFFIX)
    try:
        ses.describe_configuration_set(ConfigurationSetName=name)
        outcomes.append(Outcome("ses config set", name, False))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConfigurationSetDoesNotExist":
            raise
        with aws.deploying():
            ses.create_configuration_set(ConfigurationSet={"Name": name})
        outcomes.append(Outcome("ses config set", name, True))
    return outcomes


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
    """The platform's own resources: tables, pools, usage plans, queues, bucket, SES identity, record.

    Locally this creates whatever is missing. On a deployed stage the infrastructure stack has created all
    of them under the same names, so this only finds them and records their ids (and the Lambda role is
    allowed no more than that).
    """
    outcomes = []
    for spec in tables.platform_tables():
        try:
            aws.client("dynamodb").describe_table(TableName=spec.name)
            outcomes.append(Outcome("table", spec.name, False))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            with aws.deploying():
                outcomes.append(Outcome("table", spec.name, tables.ensure_table(spec)))
    pooled_name = resources.pooled_pool_name(0)
    pooled = ensure_user_pool(pooled_name)
    operations_name = resources.resource_name(resources.OPERATIONS_POOL_SUFFIX)
    operations = ensure_user_pool(operations_name, operations=True)
    operations_client = ensure_operations_client(operations.detail)
    outcomes += [
        pooled,
        operations,
        operations_client,
        ensure_pool_domain(pooled.detail, resources.pool_domain(pooled_name)),
        ensure_pool_domain(operations.detail, resources.pool_domain(operations_name)),
    ]
    plans = {plan.tier: ensure_usage_plan(plan) for plan in resources.usage_plans()}
    outcomes += plans.values()
    outcomes += [ensure_queue(queue) for queue in resources.queues()]
    outcomes.append(ensure_bucket(settings.CLOUDKIDA_ASSETS_BUCKET))
    outcomes += ensure_email_identity()
    record = {
        "pooled_user_pool_id": pooled.detail,
        "pooled_domain": resources.pool_domain(pooled_name),
        "operations_user_pool_id": operations.detail,
        "operations_client_id": operations_client.detail,
        "operations_domain": resources.pool_domain(operations_name),
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
