"""Adapters for each tenant's AWS resources outside DynamoDB: Cognito, API Gateway keys, tables.

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
from cloudkida.bootstrap import platform_resources
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
    port = f":{settings.CLOUDKIDA_PUBLIC_PORT}" if settings.CLOUDKIDA_PUBLIC_PORT else ""
    return f"{settings.CLOUDKIDA_PUBLIC_SCHEME}://{slug}.{settings.CLOUDKIDA_BASE_DOMAIN}{port}"


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


def ensure_app_client(pool_id: str, tenant_id: str, *, attempt: int) -> str:
    """The tenant's app client: authorization code + PKCE, callbacks on the tenant's own host."""
    cognito = aws.client("cognito-idp")
    name = f"tenant-{tenant_id}"
    if attempt > 1:
        for page in cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
            for found in page["UserPoolClients"]:
                if found["ClientName"] == name:
                    return found["ClientId"]
    base = tenant_base_url(tenant_id)
    client = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=name,
        GenerateSecret=False,  # a public client using PKCE; no secret to store or leak
        AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email", "profile"],
        CallbackURLs=[f"{base}/oidc/callback/"],
        LogoutURLs=[f"{base}/"],
        SupportedIdentityProviders=["COGNITO"],
        ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        PreventUserExistenceErrors="ENABLED",
        ReadAttributes=["email", "name", "custom:tenantId", "custom:userRole"],
        WriteAttributes=["email", "name"],
    )["UserPoolClient"]
    return client["ClientId"]


def remove_app_client(pool_id: str, client_id: str) -> None:
    try:
        aws.client("cognito-idp").delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise


def ensure_silo_pool(tenant_id: str, *, attempt: int) -> str:
    """A dedicated user pool for a Platinum tenant, with CloudKida's custom attributes."""
    from cloudkida.bootstrap import create_user_pool, find_user_pool

    name = _resource_name("tenant", tenant_id)
    if attempt > 1:
        found = find_user_pool(name)
        if found:
            return found
    return create_user_pool(name)


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


def ensure_user(pool_id: str, *, tenant_id: str, email: str, name: str, role: str, group: str | None) -> str:
    """The tenant user in Cognito, invited by email; returns its ``sub``.

    Refuses (ValueError) an address that already belongs to another tenant in the same pool.
    """
    cognito = aws.client("cognito-idp")
    try:
        user = cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": name or email},
                {"Name": "custom:tenantId", "Value": tenant_id},
                {"Name": "custom:userRole", "Value": role},
            ],
            DesiredDeliveryMediums=["EMAIL"],
        )["User"]
        attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
    except ClientError as error:
        if _code(error) != "UsernameExistsException":
            raise
        found = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
        attributes = {a["Name"]: a["Value"] for a in found["UserAttributes"]}
        if attributes.get("custom:tenantId") != tenant_id:
            raise ValueError(f"{email} already has a CloudKida sign-in with another organisation") from error
    if group:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    return attributes.get("sub", "")


def tenant_usernames(pool_id: str, tenant_id: str) -> list[str]:
    """Usernames of the tenant's users in a pool: the tenant's group members (pooled pool)."""
    cognito = aws.client("cognito-idp")
    names = []
    try:
        for page in cognito.get_paginator("list_users_in_group").paginate(UserPoolId=pool_id, GroupName=tenant_id):
            names += [u["Username"] for u in page["Users"]]
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
    return names


def set_users_enabled(pool_id: str, usernames: list[str], *, enabled: bool) -> None:
    cognito = aws.client("cognito-idp")
    for username in usernames:
        if enabled:
            cognito.admin_enable_user(UserPoolId=pool_id, Username=username)
        else:
            cognito.admin_disable_user(UserPoolId=pool_id, Username=username)
            cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username=username)


def remove_users(pool_id: str, usernames: list[str]) -> None:
    cognito = aws.client("cognito-idp")
    for username in usernames:
        try:
            cognito.admin_delete_user(UserPoolId=pool_id, Username=username)
        except ClientError as error:
            if _code(error) not in {"UserNotFoundException", "ResourceNotFoundException"}:
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
