"""Adapters for each tenant's AWS resources outside DynamoDB: its Cognito group, app client or pool, and
its API Gateway usage key. (The users in those pools belong to accounts: ``accounts.cognito``.)

Every ``ensure_*`` is idempotent. On a first attempt it creates without looking (so onboarding costs the
same number of requests however many tenants exist); on a retry (``attempt > 1``) it first looks for a
resource a failed attempt may have created, by its deterministic name, so nothing is ever duplicated.
Every ``remove_*`` succeeds when the resource is already gone.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from cloudkida import aws
from cloudkida.bootstrap import create_user_pool, find_user_pool, platform_resources
from cloudkida.cache import TTLCache

_platform_cache = TTLCache(ttl_seconds=300)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def platform() -> dict[str, Any]:
    """Platform resource ids recorded by bootstrap (cached per process)."""
    record = _platform_cache.get_or_load("platform", platform_resources)
    if not record:
        _platform_cache.invalidate()
        raise RuntimeError("The platform is not bootstrapped: run `manage.py bootstrap`.")
    return record


def issuer_for(pool_id: str) -> str:
    """The OIDC issuer of a user pool, exactly as Cognito (and moto) writes it into tokens."""
    return f"https://cognito-idp.{settings.AWS_REGION}.amazonaws.com/{pool_id}"


def tenant_base_url(slug: str) -> str:
    """The tenant's portal address on its subdomain."""
    return host_base_url(f"{slug}.{settings.CLOUDKIDA_BASE_DOMAIN}")


def host_base_url(host: str) -> str:
    port = f":{settings.CLOUDKIDA_PUBLIC_PORT}" if settings.CLOUDKIDA_PUBLIC_PORT else ""
    return f"{settings.CLOUDKIDA_PUBLIC_SCHEME}://{host}{port}"


def tenant_base_urls(slug: str, custom_domains: list[str]) -> list[str]:
    """Every address the tenant's portal answers on: its subdomain, then its verified custom domains."""
    return [tenant_base_url(slug), *(host_base_url(host) for host in custom_domains)]


def _resource_name(*parts: str) -> str:
    return "-".join([settings.CLOUDKIDA_RESOURCE_PREFIX, *parts])


# --- Cognito ------------------------------------------------------------------------------------------


def ensure_group(pool_id: str, tenant_id: str) -> str:
    cognito = aws.client("cognito-idp")
    try:
        cognito.create_group(UserPoolId=pool_id, GroupName=tenant_id, Description=f"CloudKida tenant {tenant_id}")
    except ClientError as error:
        if _code(error) != "GroupExistsException":
            raise
    return tenant_id


def remove_group(pool_id: str, tenant_id: str) -> None:
    try:
        aws.client("cognito-idp").delete_group(UserPoolId=pool_id, GroupName=tenant_id)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise


def _client_settings(base_urls: list[str]) -> dict[str, Any]:
    """Everything an app client is made with. UpdateUserPoolClient resets whatever it is not given, so
    creation and every later update send all of it."""
    return {
        "GenerateSecret": False,  # a public client using PKCE; no secret to store or leak
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": ["openid", "email", "profile"],
        "CallbackURLs": [f"{base}/oidc/callback/" for base in base_urls],
        "LogoutURLs": [f"{base}/" for base in base_urls],
        "SupportedIdentityProviders": ["COGNITO"],
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        "PreventUserExistenceErrors": "ENABLED",
        "ReadAttributes": ["email", "name", "custom:tenantId", "custom:userRole"],
        "WriteAttributes": ["email", "name"],
    }


def ensure_app_client(pool_id: str, tenant_id: str, *, slug: str, attempt: int) -> str:
    """The tenant's app client: authorization code + PKCE, callbacks on the tenant's own host.

    Named after the immutable tenant id, so a retry finds it whatever the slug is by then.
    """
    cognito = aws.client("cognito-idp")
    name = f"tenant-{tenant_id}"
    if attempt > 1:
        for page in cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
            for found in page["UserPoolClients"]:
                if found["ClientName"] == name:
                    return found["ClientId"]
    settings_ = _client_settings([tenant_base_url(slug)])
    client = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **settings_)["UserPoolClient"]
    return client["ClientId"]


def set_app_client_hosts(pool_id: str, client_id: str, tenant_id: str, *, base_urls: list[str]) -> None:
    """Point the app client's callback and logout URLs at the tenant's hosts (after a rename or a new
    custom domain)."""
    settings_ = _client_settings(base_urls)
    settings_.pop("GenerateSecret")
    aws.client("cognito-idp").update_user_pool_client(
        UserPoolId=pool_id, ClientId=client_id, ClientName=f"tenant-{tenant_id}", **settings_
    )


def remove_app_client(pool_id: str, client_id: str) -> None:
    try:
        aws.client("cognito-idp").delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise


def ensure_silo_pool(tenant_id: str, *, display_name: str, attempt: int) -> str:
    """A dedicated user pool for a Platinum tenant, with CloudKida's custom attributes; its emails carry
    the tenant's name."""
    name = _resource_name("tenant", tenant_id)
    if attempt > 1:
        found = find_user_pool(name)
        if found:
            return found
    return create_user_pool(name, display_name=display_name)


def silo_domain(tenant_id: str) -> str:
    """The hosted-UI domain prefix of a Platinum tenant's pool (Cognito refuses the word "aws" in one)."""
    return f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-{tenant_id}".replace("aws", "a-w-s")


def ensure_domain(pool_id: str, domain: str) -> str:
    """The pool's hosted-UI domain prefix; returns the hosted-UI base URL."""
    cognito = aws.client("cognito-idp")
    current = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("Domain")
    if current and current != domain:
        raise RuntimeError(f"user pool {pool_id} already has domain {current!r}")
    if not current:
        cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    return hosted_ui_url(domain)


def hosted_ui_url(domain: str) -> str:
    return f"https://{domain}.auth.{settings.AWS_REGION}.amazoncognito.com"


def remove_pool(pool_id: str) -> None:
    cognito = aws.client("cognito-idp")
    try:
        domain = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("Domain")
        if domain:
            cognito.delete_user_pool_domain(UserPoolId=pool_id, Domain=domain)
        cognito.delete_user_pool(UserPoolId=pool_id)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise


# --- API Gateway keys and usage plans -------------------------------------------------------------


def usage_plan_id(tier: str) -> str:
    return platform()["usage_plans"][tier]


def ensure_api_key(tenant_id: str, tier: str, *, attempt: int) -> str:
    """The tenant's own API key, bound to its tier's usage plan. Returns the key id (never the value)."""
    apigateway = aws.client("apigateway")
    name = _resource_name("tenant", tenant_id)
    key_id = ""
    if attempt > 1:
        found = apigateway.get_api_keys(nameQuery=name, includeValues=False, limit=10)["items"]
        key_id = next((k["id"] for k in found if k["name"] == name), "")
    if not key_id:
        key_id = apigateway.create_api_key(
            name=name, enabled=True, tags={"cloudkida:tenant": tenant_id}, description=f"CloudKida tenant {tenant_id}"
        )["id"]
    bind_api_key(key_id, tier)
    return key_id


def bind_api_key(key_id: str, tier: str, *, previous_tier: str | None = None) -> None:
    """Put the key on ``tier``'s usage plan (and take it off ``previous_tier``'s)."""
    apigateway = aws.client("apigateway")
    try:
        apigateway.create_usage_plan_key(usagePlanId=usage_plan_id(tier), keyId=key_id, keyType="API_KEY")
    except ClientError as error:
        if _code(error) != "ConflictException":
            raise
    if previous_tier and previous_tier != tier:
        _unbind(key_id, previous_tier)


def _unbind(key_id: str, tier: str) -> None:
    """Take the key off ``tier``'s plan if it is on it (looked up first: deleting an absent plan key
    is an error in API Gateway and crashes moto)."""
    apigateway = aws.client("apigateway")
    plan_id = usage_plan_id(tier)
    try:
        apigateway.get_usage_plan_key(usagePlanId=plan_id, keyId=key_id)
    except ClientError as error:
        if _code(error) == "NotFoundException":
            return
        raise
    apigateway.delete_usage_plan_key(usagePlanId=plan_id, keyId=key_id)


def set_api_key_enabled(key_id: str, *, enabled: bool) -> None:
    aws.client("apigateway").update_api_key(
        apiKey=key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": str(enabled).lower()}]
    )


def remove_api_key(key_id: str, tier: str) -> None:
    """Take the key off its usage plan, then delete it (both tolerate an already-removed key)."""
    apigateway = aws.client("apigateway")
    _unbind(key_id, tier)
    try:
        apigateway.delete_api_key(apiKey=key_id)
    except ClientError as error:
        if _code(error) != "NotFoundException":
            raise
