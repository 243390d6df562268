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

from cloudkida import aws, resources
from cloudkida.bootstrap import create_user_pool, find_user_pool, platform_resources
from cloudkida.cache import TTLCache
from cloudkida.dynamo import Table, tables
from cloudkida.errors import Conflict

_platform_cache = TTLCache(ttl_seconds=300)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def cache_clear() -> None:
    """Forget the platform record and the pooled shards this process read (tests, after a bootstrap)."""
    _platform_cache.invalidate()
    _shard_cache.invalidate()


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


# --- Pooled pool shards ---------------------------------------------------------------------------------
# A user pool holds at most 1,000 app clients and every pooled tenant has one, so pooled tenants are spread
# over shards: <prefix>-pooled (the stack's), then <prefix>-pooled-1, -2, ... made here when the current one
# is full. Each shard's record counts its app clients; a tenant reserves its slot before its client exists.

SHARD_PK, SHARD_SK = "PLATFORM", "POOLSHARD#"
CURRENT_SHARD_SK = f"{SHARD_SK}CURRENT"
_shard_cache = TTLCache(ttl_seconds=300)


def _control() -> Table:
    return Table(tables.control_table().name)


def _shard_sk(shard: int) -> str:
    return f"{SHARD_SK}{shard:04d}"


def pooled_shard(shard: int) -> dict[str, Any]:
    """The pool id and hosted-UI domain of a pooled shard, making the shard's pool if it is new."""

    def load() -> dict[str, Any]:
        found = _control().get(SHARD_PK, _shard_sk(shard))
        if found:
            return found
        if shard == 0:
            pool_id, domain = platform()["pooled_user_pool_id"], platform()["pooled_domain"]
        else:
            name = resources.pooled_pool_name(shard)
            pool_id = find_user_pool(name) or create_user_pool(name)
            domain = resources.pool_domain(name)
            ensure_domain(pool_id, domain)
        return _control().upsert(
            SHARD_PK, _shard_sk(shard), set_values={"pool_id": pool_id, "domain": domain, "shard_index": shard}
        )

    return _shard_cache.get_or_load(shard, load)


def _current_shard() -> int:
    item = _shard_cache.get_or_load("current", lambda: _control().get(SHARD_PK, CURRENT_SHARD_SK) or {})
    return int(item.get("shard_index", 0))


def reserve_pooled_client(tenant_id: str) -> dict[str, Any]:
    """A slot for the tenant's app client in the current shard, moving to a new shard when it is full.

    One conditional UpdateItem when the current shard has room (the shard records are cached), so the
    cost does not grow with the number of tenants. A slot reserved by an attempt that died before the
    tenant recorded it is lost, hence the headroom below Cognito's 1,000 (CLOUDKIDA_POOL_CLIENTS_PER_SHARD).
    """
    shard = _current_shard()
    limit = settings.CLOUDKIDA_POOL_CLIENTS_PER_SHARD
    while True:
        record = pooled_shard(shard)
        try:
            _control().upsert(
                SHARD_PK,
                _shard_sk(shard),
                set_values={"pool_id": record["pool_id"]},
                add={"clients": 1},
                condition="attribute_not_exists(clients) OR clients < :climit",
                condition_values={":climit": limit},
            )
            return {"shard": shard, "pool_id": record["pool_id"], "domain": record["domain"]}
        except Conflict:
            shard += 1
            _shard_cache.invalidate()
            try:  # point every process at the new shard (unless one already points further)
                _control().upsert(
                    SHARD_PK,
                    CURRENT_SHARD_SK,
                    set_values={"shard_index": shard},
                    condition="attribute_not_exists(shard_index) OR shard_index < :cshard",
                    condition_values={":cshard": shard},
                )
            except Conflict:
                pass


def current_pooled_pool_id() -> str:
    """The pool new pooled tenants land in now."""
    return pooled_shard(_current_shard())["pool_id"]


def release_pooled_client(shard: int) -> None:
    """The tenant's app client is gone: its shard has room for one more."""
    _control().upsert(SHARD_PK, _shard_sk(shard), set_values={}, add={"clients": -1})


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


def _client_settings(base_urls: list[str], identity_providers: list[str] | None = None) -> dict[str, Any]:
    """Everything an app client is made with. UpdateUserPoolClient resets whatever it is not given, so
    creation and every later update send all of it (the tenant's own identity providers included)."""
    return {
        "GenerateSecret": False,  # a public client using PKCE; no secret to store or leak
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": ["openid", "email", "profile"],
        "CallbackURLs": [f"{base}/oidc/callback/" for base in base_urls],
        "LogoutURLs": [f"{base}/" for base in base_urls],
        "SupportedIdentityProviders": ["COGNITO", *sorted(identity_providers or [])],
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


def set_app_client_hosts(
    pool_id: str, client_id: str, tenant_id: str, *, base_urls: list[str], identity_providers: list[str] | None = None
) -> None:
    """Point the app client's callback and logout URLs at the tenant's hosts (after a rename or a new
    custom domain) and its sign-in at COGNITO plus the tenant's own identity providers. With
    ``identity_providers`` None the client keeps the providers it has (one DescribeUserPoolClient), so a
    new domain never drops the tenant's single sign-on."""
    cognito = aws.client("cognito-idp")
    if identity_providers is None:
        current = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
        identity_providers = [p for p in current.get("SupportedIdentityProviders", []) if p != "COGNITO"]
    settings_ = _client_settings(base_urls, identity_providers)
    settings_.pop("GenerateSecret")
    cognito.update_user_pool_client(
        UserPoolId=pool_id, ClientId=client_id, ClientName=f"tenant-{tenant_id}", **settings_
    )


def remove_app_client(pool_id: str, client_id: str) -> bool:
    """Delete the app client; False if it was already gone."""
    try:
        aws.client("cognito-idp").delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        return False
    return True


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


def set_hosted_ui_branding(pool_id: str, client_id: str, *, css: str, logo: bytes | None) -> None:
    """The tenant's look on Cognito's hosted UI for its own app client (SetUICustomization)."""
    kwargs: dict[str, Any] = {"UserPoolId": pool_id, "ClientId": client_id, "CSS": css}
    if logo:
        kwargs["ImageFile"] = logo
    aws.client("cognito-idp").set_ui_customization(**kwargs)


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
