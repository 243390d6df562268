"""Verify a Cognito ID or access token for the tenant (or the operations pool) it claims.

Shared by DRF authentication and the API Gateway Lambda authorizer. The token's claims only say which
tenant to check against; the tenant record then fixes the issuer and client id the token must carry.
Every user pool (and moto's emulated ones) signs with the same key, so the ``iss`` and ``aud`` checks
are what stop a token of one pool from passing as another's.

A token proves who the caller is, not what they may do now: the role and the status come from the
user's current record (``user_for_authorization``, at most ``CLOUDKIDA_AUTHZ_CACHE_SECONDS`` old), never
from the token's claims, and a suspended tenant is refused before anything else.
"""

from __future__ import annotations

import threading
import time

from botocore.exceptions import ClientError
from django.conf import settings

from accounts.selectors import user_for_authorization
from cloudkida import aws
from cloudkida.cache import TTLCache
from cloudkida.errors import NotAuthenticated, PermissionDenied, ServiceUnavailable
from cloudkida.identity.jwks import jwks_cache
from cloudkida.identity.principal import Principal, Role
from cloudkida.lazy import lazy_module
from tenants import provisioning
from tenants.selectors import tenant_for_client, tenant_get_cached

jwt = lazy_module("jwt")

TENANT_CLAIM = "custom:tenantId"
ROLE_CLAIM = "custom:userRole"


def _refuse(message: str, code: str = "invalid_token") -> NotAuthenticated:
    return NotAuthenticated(message, code=code)


def _client_of(claims: dict) -> str:
    client = claims.get("aud") if claims.get("token_use") == "id" else claims.get("client_id")
    if isinstance(client, list):
        client = client[0] if len(client) == 1 else None
    return client if isinstance(client, str) else ""


def _expected(claims: dict) -> tuple[str, str, str]:
    """(tenant id, issuer, client id) the token must match.

    The app client the token was issued to names the tenant (every tenant has its own client, in the
    pooled pool or its own); the tenant record then fixes the issuer. A ``custom:tenantId`` claim, when
    present, must name the same tenant.
    """
    platform = provisioning.platform()
    operations_issuer = provisioning.issuer_for(platform["operations_user_pool_id"])
    if claims.get("iss") == operations_issuer:
        return "", operations_issuer, platform.get("operations_client_id", "")
    tenant_id = tenant_for_client(client_id=_client_of(claims))
    if not tenant_id:
        raise _refuse("The token was issued to no CloudKida application.")
    claimed = claims.get(TENANT_CLAIM)
    if claimed is not None and claimed != tenant_id:
        raise _refuse("The token's tenant claim does not match its application.")
    try:
        tenant = tenant_get_cached(tenant_id=tenant_id)
    except Exception as error:  # NotFound: the same answer, no probing
        raise _refuse("The token names no known tenant.") from error
    if not tenant.is_serving:
        raise PermissionDenied("Your organisation's access is suspended.", code="tenant_deactivated")
    return tenant.tenant_id, tenant.identity.get("issuer", ""), tenant.identity.get("client_id", "")


MAX_VERIFIED = 10_000
_verified: dict[str, tuple[dict, float]] = {}  # token -> (its verified claims, until when they hold)
_verified_lock = threading.Lock()


def verified_tokens_clear() -> None:
    with _verified_lock:
        _verified.clear()


def verify_token(token: str) -> Principal:
    """A Principal for a valid RS256 Cognito token, else NotAuthenticated (401).

    Parsing and checking the signature is most of an authenticated request's cost, and a client sends
    the same token for an hour: a token whose signature and claims were verified is remembered (by its
    exact text, until it expires) so its next use skips both. Everything that can change while a token
    lives is still checked on every use: the tenant is serving and still owns the token's issuer and
    application, and the user's current role and status (``_current_role``).
    """
    hit = _verified.get(token)
    if hit is not None and hit[1] > time.time():
        claims = hit[0]
        tenant_id, issuer, client_id = _expected(claims)
        if claims.get("iss") == issuer and _client_of(claims) == client_id:
            return _principal(tenant_id, claims)
    claims, tenant_id = _verify_signed(token)
    with _verified_lock:
        if len(_verified) >= MAX_VERIFIED:
            _verified.clear()
        _verified[token] = (claims, float(claims["exp"]) + settings.CLOUDKIDA_TOKEN_LEEWAY)
    return _principal(tenant_id, claims)


def _verify_signed(token: str) -> tuple[dict, str]:
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise _refuse("The token is malformed.") from error
    if header.get("alg") != "RS256":
        raise _refuse("Only RS256 tokens are accepted.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _refuse("The token has no key id.")
    tenant_id, issuer, client_id = _expected(unverified)
    if not issuer or not client_id:
        raise _refuse("The tenant cannot accept tokens yet.")
    kind = unverified.get("token_use")
    if kind not in {"id", "access"}:
        raise _refuse("The token is neither an ID nor an access token.")
    is_id_token = kind == "id"
    key = jwks_cache.key(issuer, kid)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=issuer,
            audience=client_id if is_id_token else None,
            leeway=settings.CLOUDKIDA_TOKEN_LEEWAY,
            options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": is_id_token},
        )
    except jwt.ExpiredSignatureError as error:
        raise _refuse("The token has expired.", "token_expired") from error
    except jwt.ImmatureSignatureError as error:
        raise _refuse("The token is not valid yet.") from error
    except jwt.InvalidIssuerError as error:
        raise _refuse("The token was issued for another organisation.") from error
    except jwt.InvalidAudienceError as error:
        raise _refuse("The token was issued to another application.") from error
    except jwt.PyJWTError as error:
        raise _refuse("The token could not be verified.") from error
    if not is_id_token and claims.get("client_id") != client_id:
        raise _refuse("The token was issued to another application.")
    return claims, tenant_id


def _principal(tenant_id: str, claims: dict) -> Principal:
    subject = str(claims["sub"])
    role = _current_role(tenant_id, subject, claims)
    if role.is_platform != (tenant_id == ""):
        raise PermissionDenied("The token's role does not fit where it was issued.", code="role_mismatch")
    return Principal(
        tenant_id=tenant_id,
        role=role,
        subject=subject,
        email=str(claims.get("email", "")),
        method="token",
        claims=claims,
    )


def _current_role(tenant_id: str, sub: str, claims: dict) -> Role:
    """The caller's role now, from its record (tenant users) or its operations-pool account (operators)."""
    if not tenant_id:
        return _operator_role(claims)
    user = user_for_authorization(tenant_id=tenant_id, user_id=sub)
    if user is None:
        raise _refuse("The token's user is not a member of this organisation.")
    if user.status.value != "ACTIVE":
        raise _refuse("The user is disabled.", "user_disabled")
    return user.role


_operators = TTLCache(ttl_seconds=settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS)


def operator_cache_clear() -> None:
    _operators.invalidate()


def _operator_role(claims: dict) -> Role:
    """An operator's role and status from the operations pool (cached like tenant users' records)."""
    username = str(claims.get("username") or claims.get("cognito:username") or claims.get("email") or claims["sub"])
    _operators.ttl = settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS
    account = _operators.get_or_load(username, lambda: _operator_account(username))
    if account is None or not account["enabled"]:
        raise _refuse("The operator account is disabled.", "user_disabled")
    try:
        return Role(account["role"] or Role.CUSTOMER_SUPPORT.value)
    except ValueError as error:
        raise PermissionDenied("The account carries an unknown role.", code="unknown_role") from error


def _operator_account(username: str) -> dict | None:
    pool_id = provisioning.platform()["operations_user_pool_id"]
    try:
        found = aws.client("cognito-idp").admin_get_user(UserPoolId=pool_id, Username=username)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "UserNotFoundException":
            return None
        raise ServiceUnavailable("The operations directory is unavailable.", code="directory_unavailable") from error
    attributes = {a["Name"]: a["Value"] for a in found.get("UserAttributes", [])}
    return {"enabled": bool(found.get("Enabled", True)), "role": attributes.get("custom:userRole", "")}
