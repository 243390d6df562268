"""The platform's AWS resources as specs in code: what `manage.py bootstrap` creates locally through the API
and what the generated CloudFormation template (``cloudkida.infrastructure``) declares for a stage.

Both read these functions, so a local run and a deployed stage cannot drift apart. Apps add what they need
from ``AppConfig.ready``: a queue (``register_queue``), a scheduled job (``register_schedule``), statements
for the Lambda role (``register_permissions``) or resources of their own (``register_template_resources``);
workflows register with ``cloudkida.workflows.register`` and get a state machine each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

POOLED_POOL_SUFFIX = "pooled"
OPERATIONS_POOL_SUFFIX = "operations"
OPERATIONS_CLIENT_NAME = "operations-console"
EMAIL_CONFIGURATION_SET_SUFFIX = "email"


def resource_name(*parts: str) -> str:
    return "-".join([settings.CLOUDKIDA_RESOURCE_PREFIX, *parts])


def pooled_pool_name(shard: int = 0) -> str:
    """The pooled user pool's shards: ``<prefix>-pooled``, then ``<prefix>-pooled-1``, ``-2``, ..."""
    return resource_name(POOLED_POOL_SUFFIX) if shard == 0 else resource_name(POOLED_POOL_SUFFIX, str(shard))


def pool_domain(pool_name: str) -> str:
    """A hosted-UI domain prefix for a pool (Cognito refuses the word "aws" in one)."""
    return pool_name.replace("aws", "a-w-s")


def sender_domain() -> str:
    """The SES identity: the domain of the sender address (verified with DKIM on a deployed stage)."""
    return settings.CLOUDKIDA_SENDER_EMAIL.rsplit("@", 1)[-1]


def sender_address(display_name: str = "CloudKida") -> str:
    """The From of every email, with a display name (a tenant's name for its own pool's emails)."""
    clean = "".join(ch for ch in display_name if ch not in '"<>\r\n')[:60] or "CloudKida"
    return f'"{clean}" <{settings.CLOUDKIDA_SENDER_EMAIL}>'


def email_configuration(display_name: str, *, account_id: str) -> dict[str, Any]:
    """Cognito sends through our SES identity (DEVELOPER account: SES quotas, not Cognito's ~50 a day)."""
    return {
        "EmailSendingAccount": "DEVELOPER",
        "SourceArn": f"arn:aws:ses:{settings.AWS_REGION}:{account_id}:identity/{sender_domain()}",
        "From": sender_address(display_name),
        "ConfigurationSet": resource_name(EMAIL_CONFIGURATION_SET_SUFFIX),
    }


def user_pool_request(
    name: str, *, display_name: str = "CloudKida", operations: bool = False, account_id: str
) -> dict[str, Any]:
    """CreateUserPool arguments for every pool CloudKida makes: pooled shards, Platinum pools, operations.

    The operations pool (system admins, support) requires MFA (TOTP) at every sign-in: through the API that
    is a second call (``REQUIRED_MFA``, SetUserPoolMfaConfig), in CloudFormation ``EnabledMfas``.
    """
    request: dict[str, Any] = {
        "PoolName": name,
        "UsernameAttributes": ["email"],
        "AutoVerifiedAttributes": ["email"],
        "MfaConfiguration": "OFF",
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": 14 if operations else 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": operations,
            }
        },
        "Schema": [
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
        "AdminCreateUserConfig": {
            "AllowAdminCreateUserOnly": True,
            "InviteMessageTemplate": {
                "EmailSubject": f"Your {display_name} sign-in on CloudKida"[:140],
                "EmailMessage": (
                    f"{display_name} invited you to CloudKida. Your user name is {{username}} and your temporary "
                    "password is {####}. You will choose your own password when you first sign in."
                ),
            },
        },
        "EmailConfiguration": email_configuration(display_name, account_id=account_id),
        "UserPoolTags": {"cloudkida:prefix": settings.CLOUDKIDA_RESOURCE_PREFIX},
    }
    function = settings.CLOUDKIDA_COGNITO_TRIGGER_FUNCTION
    if function and not operations and cognito_triggers():
        request["LambdaConfig"] = cognito_lambda_config(
            f"arn:aws:lambda:{settings.AWS_REGION}:{account_id}:function:{function}"
        )
    return request


# SetUserPoolMfaConfig arguments for the operations pool: TOTP at every sign-in.
REQUIRED_MFA = {"SoftwareTokenMfaConfiguration": {"Enabled": True}, "MfaConfiguration": "ON"}


def admin_host() -> str:
    return f"{settings.CLOUDKIDA_ADMIN_SUBDOMAIN}.{settings.CLOUDKIDA_BASE_DOMAIN}"


def operations_client_request(pool_id: Any) -> dict[str, Any]:
    """The app client system admins sign in to the Django admin with: code + PKCE, public (no secret)."""
    scheme = settings.CLOUDKIDA_PUBLIC_SCHEME
    port = f":{settings.CLOUDKIDA_PUBLIC_PORT}" if settings.CLOUDKIDA_PUBLIC_PORT else ""
    base = f"{scheme}://{admin_host()}{port}"
    return {
        "UserPoolId": pool_id,
        "ClientName": OPERATIONS_CLIENT_NAME,
        "GenerateSecret": False,
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": ["openid", "email", "profile"],
        "CallbackURLs": [f"{base}/admin/oidc/callback/"],
        "LogoutURLs": [f"{base}/admin/"],
        "SupportedIdentityProviders": ["COGNITO"],
        "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "PreventUserExistenceErrors": "ENABLED",
    }


def bucket_settings() -> dict[str, Any]:
    """The assets bucket: private (CloudFront reads static/ through origin access control), versioned,
    encrypted."""
    return {
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
        "VersioningConfiguration": {"Status": "Enabled"},
        "ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    }


@dataclass(frozen=True)
class UsagePlan:
    tier: str
    rate: float  # requests per second, steady
    burst: int  # requests
    quota_per_day: int  # requests

    @property
    def name(self) -> str:
        return resource_name(f"tier-{self.tier}")


def usage_plans() -> list[UsagePlan]:
    """One API Gateway usage plan per tier (CLOUDKIDA_TIER_LIMITS): what API Gateway enforces per key."""
    return [
        UsagePlan(tier, float(limits["rate"]), int(limits["burst"]), int(limits["quota_per_day"]))
        for tier, limits in settings.CLOUDKIDA_TIER_LIMITS.items()
    ]


@dataclass(frozen=True)
class Queue:
    """An SQS queue something sends to and reads from, with a dead-letter queue after ``max_receives``."""

    suffix: str
    description: str
    visibility_timeout: int = 120  # seconds; longer than the consumer's Lambda timeout
    max_receives: int = 5

    @property
    def name(self) -> str:
        return resource_name(self.suffix)


@dataclass(frozen=True)
class Schedule:
    """A scheduled job: EventBridge invokes the Lambda with ``{"command": <dotted function>}`` (Zappa runs it)."""

    name: str
    expression: str  # rate(...) or cron(...)
    command: str
    description: str = ""


_queues: dict[str, Queue] = {}
_schedules: dict[str, Schedule] = {}
_permissions: set[str] = set()
_template_resources: set[str] = set()
_cognito_triggers: dict[str, str] = {}  # triggerSource -> dotted function


def register_queue(queue: Queue) -> None:
    _queues[queue.suffix] = queue


def register_schedule(schedule: Schedule) -> None:
    _schedules[schedule.name] = schedule


def register_permissions(dotted: str) -> None:
    """An app's statements for the Lambda role: ``dotted`` names a function returning them, imported and
    called only when the template is generated (never on a request path). Each app grants what its own code
    calls; the IAM coverage test holds it to that."""
    _permissions.add(dotted)


def permissions() -> list[dict[str, Any]]:
    return [statement for dotted in sorted(_permissions) for statement in import_string(dotted)()]


def register_template_resources(dotted: str) -> None:
    """An app's own resources for the stage's template: ``dotted`` names a function returning
    ``{logical id: resource}``, imported and called only when the template is generated, under the stage's
    settings. A logical id the core or another app already uses is refused at generation."""
    _template_resources.add(dotted)


def template_resources() -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for dotted in sorted(_template_resources):
        for logical, resource in import_string(dotted)().items():
            if logical in merged:
                raise ValueError(f"{dotted} declares {logical}, which another app already declares")
            merged[logical] = resource
    return merged


def register_cognito_trigger(source: str, function: str) -> None:
    """An app serves Cognito's ``source`` trigger (e.g. ``PreSignUp_ExternalProvider``) with ``function`` (a
    dotted path, called with the event and context; it returns the event). Every pool CloudKida makes points
    the trigger (its ``LambdaConfig`` key, the source's first word) at the function named by
    ``CLOUDKIDA_COGNITO_TRIGGER_FUNCTION`` (the template's pooled pool at the workflow stage's function), the
    stack lets Cognito invoke it, and ``cloudkida.lambda_entry`` routes the event here."""
    if _cognito_triggers.get(source, function) != function:
        raise ValueError(f"Cognito trigger {source!r} is already served by {_cognito_triggers[source]}")
    _cognito_triggers[source] = function


def cognito_trigger(source: str) -> Callable[[dict, Any], dict]:
    """The function serving ``source``; one that returns the event unchanged if none does (as Zappa does)."""
    function = _cognito_triggers.get(source)
    if function is None:
        return lambda event, context=None: event
    return import_string(function)


def cognito_triggers() -> list[str]:
    """The ``LambdaConfig`` keys of the registered triggers."""
    return sorted({source.split("_")[0] for source in _cognito_triggers})


def cognito_lambda_config(function_arn: Any) -> dict[str, Any]:
    return {key: function_arn for key in cognito_triggers()}


def queues() -> list[Queue]:
    return [_queues[k] for k in sorted(_queues)]


def schedules() -> list[Schedule]:
    return [_schedules[k] for k in sorted(_schedules)]
