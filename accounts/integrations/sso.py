"""Enterprise single sign-on: a tenant admin connects the organisation's own identity provider (OIDC, or
SAML by metadata) to the tenant's Cognito app client, so its people sign in with corporate credentials.

Each provider is registered as Cognito would have it in production: ``CreateIdentityProvider`` on the
tenant's pool (the pooled shard for pooled tiers, a Platinum tenant's own pool) under a name derived from
the tenant id (at most 32 characters, unique in the pool), then added to the app client's
``SupportedIdentityProviders`` (the whole client configuration is sent again: UpdateUserPoolClient resets
what it is not given). The client secret goes to Cognito's ProviderDetails only, never to DynamoDB or to an
answer. Email domains become the provider's ``IdpIdentifiers`` (home-realm discovery on the hosted UI).

Who a federated person becomes is never the identity provider's say: the attribute mapping maps email
and name only, and the tenant and role come from this record (``federation``: the Cognito triggers).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from accounts import cognito
from cloudkida import clock
from cloudkida.errors import Conflict, NotFound, ValidationFailed
from cloudkida.identity.principal import Role
from tenants.selectors import tenant_for_client, tenant_get
from tenants.services import app_client_identity_providers_set, audit

from . import delivery
from . import sso_repository as repo
from .domain import IdentityProvider, ProviderType

MAX_PROVIDERS = 5  # per tenant
MAX_DOMAINS = 20  # per provider (Cognito allows 50 identifiers)
MAPPABLE = ("email", "name")  # the only attributes an identity provider may set: never the tenant or the role
DEFAULT_MAPPING = {"email": "email", "name": "name"}
_CLAIM = re.compile(r"^[A-Za-z0-9_:./-]{1,128}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NAME = re.compile(r"^[0-9a-z]{26}-[0-9a-f]{4}$")


def _fail(message: str, field: str, code: str = "invalid_identity_provider") -> ValidationFailed:
    return ValidationFailed(message, code=code, details={"field": field})


def new_provider_name(tenant_id: str) -> str:
    """``<tenant id>-<4 hex>``: 31 characters, no underscore (Cognito puts ``<name>_<sub>`` in usernames),
    unique in a shared pool because the tenant id is."""
    return f"{tenant_id}-{secrets.token_hex(2)}"


def _display_name(value: str) -> str:
    value = " ".join((value or "").split())
    if not 1 <= len(value) <= 60:
        raise _fail("Give the provider a name of 1 to 60 characters (shown as 'Continue with …').", "display_name")
    return value


def check_issuer(value: str) -> str:
    """An https issuer URL that is not on a private, loopback or link-local address (checked after DNS
    resolution, with the webhooks' address rules). Loopback (over http too) only where
    ``CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK`` is on: local runs and tests; production refuses that setting."""
    value = (value or "").strip().rstrip("/")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise _fail("That is not a valid issuer URL.", "issuer") from error
    if len(value) > 500 or parts.scheme not in {"https", "http"} or not parts.hostname or parts.query or parts.fragment:
        raise _fail("The issuer is an https:// URL without a query.", "issuer")
    if parts.username or parts.password:
        raise _fail("The issuer URL may not carry credentials.", "issuer")
    loopback_ok = settings.CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK
    if parts.scheme == "http" and not (loopback_ok and _is_loopback_name(parts.hostname)):
        raise _fail("The issuer is an https:// URL.", "issuer")
    try:
        delivery.resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    except delivery.BlockedDestination as error:
        raise _fail(f"The issuer's address is not allowed: {error}.", "issuer") from error
    return value


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _metadata_url(value: str) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    if len(value) > 1000 or parts.scheme != "https" or not parts.hostname:
        raise _fail("The SAML metadata URL is an https:// URL.", "metadata_url")
    try:
        delivery.resolve(parts.hostname, parts.port or 443)
    except delivery.BlockedDestination as error:
        raise _fail(f"The metadata URL's address is not allowed: {error}.", "metadata_url") from error
    return value


def _metadata_xml(value: str) -> str:
    value = (value or "").strip()
    if not value.startswith("<") or "EntityDescriptor" not in value or len(value) > 100_000:
        raise _fail("Paste the SAML metadata document (an EntityDescriptor, at most 100 kB).", "metadata_xml")
    return value


def _email_domains(values) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > MAX_DOMAINS:
        raise _fail(f"Give at most {MAX_DOMAINS} email domains.", "email_domains")
    found = []
    for raw in values:
        host = str(raw or "").strip().lower().lstrip("@").rstrip(".")
        labels = host.split(".")
        if len(host) > 40 or len(labels) < 2 or not all(_LABEL.match(p) for p in labels) or labels[-1].isdigit():
            raise ValidationFailed(
                "Give email domains such as acme.com (at most 40 characters each).",
                code="invalid_identity_provider",
                details={"field": "email_domains", "value": str(raw)[:64]},
            )
        if host not in found:
            found.append(host)
    return found


def _role(value) -> str:
    try:
        role = Role(value or Role.TENANT_USER)
    except ValueError as error:
        raise _fail("The default role is TenantUser or TenantAdmin.", "default_role", "invalid_role") from error
    if role.is_platform:
        raise _fail("The default role is TenantUser or TenantAdmin.", "default_role", "invalid_role")
    return role.value


def _mapping(values) -> dict[str, str]:
    if values is None:
        return dict(DEFAULT_MAPPING)
    if not isinstance(values, dict):
        raise _fail("The attribute mapping maps email and name to the provider's claims.", "attribute_mapping")
    refused = sorted(str(k) for k in values if k not in MAPPABLE)
    if refused:
        raise ValidationFailed(
            "Only email and name can be mapped: the organisation and role come from CloudKida, never the provider.",
            code="invalid_identity_provider",
            details={"field": "attribute_mapping", "refused": refused[:10]},
        )
    mapping = {**DEFAULT_MAPPING, **{k: str(v).strip() for k, v in values.items()}}
    if not all(_CLAIM.match(v) for v in mapping.values()):
        raise _fail("Claim names are 1 to 128 letters, digits or _ : . / -.", "attribute_mapping")
    return mapping


def _text(value, field: str, maximum: int) -> str:
    value = str(value or "").strip()
    if not 1 <= len(value) <= maximum or any(c.isspace() for c in value):
        raise _fail(f"Give the {field.replace('_', ' ')} (1 to {maximum} characters, no spaces).", field)
    return value


def cognito_mapping(provider: IdentityProvider) -> dict[str, str]:
    """Cognito's AttributeMapping: email and name from the chosen claims, the username from ``sub``."""
    base = {"username": "sub"} if provider.provider_type is ProviderType.OIDC else {}
    return {**base, **{k: v for k, v in provider.attribute_mapping.items() if k in MAPPABLE}}


def _pool(tenant_id: str) -> tuple[str, str]:
    identity = tenant_get(tenant_id=tenant_id).identity
    if not identity.get("user_pool_id") or not identity.get("client_id"):
        raise Conflict("Sign-in is not set up for this organisation yet.", code="identity_not_ready")
    return identity["user_pool_id"], identity["client_id"]


def _sync_client(tenant_id: str) -> None:
    names = [p.provider_name for p in repo.provider_list(tenant_id)]
    app_client_identity_providers_set(tenant_id=tenant_id, provider_names=names)


def _refused(error: cognito.ProviderRefused) -> ValidationFailed:
    return ValidationFailed(
        "Cognito refused this identity provider's configuration.",
        code="invalid_identity_provider",
        details={"reason": str(error)[:300]},
    )


def _details(provider_type: ProviderType, fields: dict[str, Any]) -> dict[str, str]:
    """Cognito's ProviderDetails for the fields given (the secret among them, if given)."""
    if provider_type is ProviderType.OIDC:
        details = {}
        if "issuer" in fields:
            details["oidc_issuer"] = fields["issuer"]
        if "client_id" in fields:
            details["client_id"] = fields["client_id"]
        if fields.get("client_secret"):
            details["client_secret"] = fields["client_secret"]
        if details:
            details.update(authorize_scopes="openid email profile", attributes_request_method="GET")
        return details
    if fields.get("metadata_xml"):
        return {"MetadataFile": fields["metadata_xml"]}
    if fields.get("metadata_url"):
        return {"MetadataURL": fields["metadata_url"]}
    return {}


# --- reads ------------------------------------------------------------------------------------------------------
def provider_list(*, tenant_id: str) -> list[IdentityProvider]:
    """The tenant's identity providers, oldest first."""
    return sorted(repo.provider_list(tenant_id), key=lambda p: p.created_at)


def provider_get(*, tenant_id: str, provider_name: str) -> IdentityProvider:
    found = repo.provider_get(tenant_id, provider_name) if _NAME.match(provider_name or "") else None
    if found is None or found.tenant_id != tenant_id:
        raise NotFound("No such identity provider.", code="identity_provider_not_found")
    return found


def callback_url(*, tenant) -> str:
    """The redirect URI the organisation registers at its identity provider: the hosted UI's
    ``/oauth2/idpresponse`` (its local emulation in development)."""
    identity = tenant.identity
    if settings.CLOUDKIDA_COGNITO_EMULATOR and identity.get("hosted_ui_domain"):
        return (
            f"{settings.CLOUDKIDA_COGNITO_EMULATOR_URL.rstrip('/')}/{identity['hosted_ui_domain']}/oauth2/idpresponse"
        )
    return identity.get("authorization_endpoint", "").replace("/oauth2/authorize", "/oauth2/idpresponse")


def providers_for_client(*, client_id: str) -> list[IdentityProvider]:
    """The identity providers an app client offers (its tenant's; none for an unknown client)."""
    tenant_id = tenant_for_client(client_id=client_id)
    return provider_list(tenant_id=tenant_id) if tenant_id else []


# --- writes -----------------------------------------------------------------------------------------------------
def provider_create(
    *,
    tenant_id: str,
    provider_type: str = "OIDC",
    display_name: str,
    issuer: str = "",
    client_id: str = "",
    client_secret: str = "",
    metadata_url: str = "",
    metadata_xml: str = "",
    email_domains: list[str] | None = None,
    default_role: str = Role.TENANT_USER.value,
    attribute_mapping: dict[str, str] | None = None,
    created_by: str,
) -> IdentityProvider:
    """Connect an identity provider: CreateIdentityProvider on the tenant's pool, the record, then the app
    client offers it. A failure after Cognito has it removes it again, so nothing is left half-made."""
    try:
        kind = ProviderType(str(provider_type or "OIDC").upper())
    except ValueError as error:
        raise _fail("The provider type is OIDC or SAML.", "provider_type") from error
    fields: dict[str, Any] = {}
    if kind is ProviderType.OIDC:
        fields = {
            "issuer": check_issuer(issuer),
            "client_id": _text(client_id, "client_id", 255),
            "client_secret": _text(client_secret, "client_secret", 1000),
        }
    elif metadata_xml:
        fields = {"metadata_xml": _metadata_xml(metadata_xml)}
    else:
        fields = {"metadata_url": _metadata_url(metadata_url)}
    domains = _email_domains(email_domains)
    existing = repo.provider_list(tenant_id)
    if len(existing) >= MAX_PROVIDERS:
        raise ValidationFailed(
            f"An organisation may connect at most {MAX_PROVIDERS} identity providers.",
            code="too_many_identity_providers",
        )
    taken = sorted(set(domains) & {d for p in existing for d in p.email_domains})
    if taken:
        raise Conflict(
            "Another of your identity providers already has these email domains.",
            code="email_domain_taken",
            details={"field": "email_domains", "domains": taken},
        )
    pool_id, _client = _pool(tenant_id)
    provider = IdentityProvider(
        tenant_id=tenant_id,
        provider_name=new_provider_name(tenant_id),
        provider_type=kind,
        display_name=_display_name(display_name),
        email_domains=domains,
        default_role=_role(default_role),
        attribute_mapping=_mapping(attribute_mapping),
        created_at=clock.now(),
        created_by=created_by,
        issuer=fields.get("issuer", ""),
        client_id=fields.get("client_id", ""),
        metadata_url=fields.get("metadata_url", ""),
    )
    try:
        cognito.create_identity_provider(
            pool_id,
            provider.provider_name,
            provider_type=kind.value,
            details=_details(kind, fields),
            attribute_mapping=cognito_mapping(provider),
            identifiers=domains,
        )
    except cognito.ProviderRefused as error:
        raise _refused(error) from error
    try:
        provider = repo.provider_create(provider)
        _sync_client(tenant_id)
    except Exception:  # nothing half-made: Cognito and the record forget it again
        cognito.delete_identity_provider(pool_id, provider.provider_name)
        stored = repo.provider_get(tenant_id, provider.provider_name)
        if stored is not None:
            repo.provider_delete(stored)
        raise
    audit(
        tenant_id,
        "sso.provider_created",
        created_by,
        provider_name=provider.provider_name,
        display_name=provider.display_name,
        provider_type=kind.value,
    )
    return provider


def provider_update(
    *, tenant_id: str, provider_name: str, expected_version: int, actor: str, **changes: Any
) -> IdentityProvider:
    """Change the display name, issuer, client id or secret, metadata, email domains, default role or
    mapping at ``expected_version``; Cognito gets the whole configuration (the secret kept unless given)."""
    provider = provider_get(tenant_id=tenant_id, provider_name=provider_name)
    if provider.version != expected_version:
        raise Conflict(
            "The identity provider changed since you read it; read it again.",
            code="version_conflict",
            details={"current_version": provider.version},
        )
    values: dict[str, Any] = {}
    secret_fields: dict[str, Any] = {}
    if "display_name" in changes:
        values["display_name"] = _display_name(changes["display_name"])
    if "email_domains" in changes:
        values["email_domains"] = _email_domains(changes["email_domains"])
        others = {d for p in repo.provider_list(tenant_id) if p.provider_name != provider_name for d in p.email_domains}
        taken = sorted(set(values["email_domains"]) & others)
        if taken:
            raise Conflict(
                "Another of your identity providers already has these email domains.",
                code="email_domain_taken",
                details={"field": "email_domains", "domains": taken},
            )
    if "default_role" in changes:
        values["default_role"] = _role(changes["default_role"])
    if "attribute_mapping" in changes:
        values["attribute_mapping"] = _mapping(changes["attribute_mapping"])
    if provider.provider_type is ProviderType.OIDC:
        if "issuer" in changes:
            values["issuer"] = check_issuer(changes["issuer"])
        if "client_id" in changes:
            values["client_id"] = _text(changes["client_id"], "client_id", 255)
        if changes.get("client_secret"):
            secret_fields["client_secret"] = _text(changes["client_secret"], "client_secret", 1000)
    else:
        if changes.get("metadata_xml"):
            secret_fields["metadata_xml"] = _metadata_xml(changes["metadata_xml"])
        elif "metadata_url" in changes:
            values["metadata_url"] = _metadata_url(changes["metadata_url"])
    if not values and not secret_fields:
        raise ValidationFailed("Nothing to change.", code="nothing_to_change")
    pool_id, _client = _pool(tenant_id)
    proposed = IdentityProvider(**{**vars(provider), **values})
    try:
        cognito.update_identity_provider(
            pool_id,
            provider_name,
            details=_details(provider.provider_type, {**values, **secret_fields}),
            attribute_mapping=cognito_mapping(proposed),
            identifiers=proposed.email_domains,
        )
    except cognito.ProviderRefused as error:
        raise _refused(error) from error
    updated = repo.provider_update(provider, **values) if values else provider
    fields = sorted({*values, *secret_fields})
    audit(tenant_id, "sso.provider_updated", actor, provider_name=provider_name, fields=fields)
    return updated


def provider_delete(*, tenant_id: str, provider_name: str, actor: str) -> None:
    """Disconnect a provider: the app client stops offering it, then Cognito and the record forget it.
    People it created stay (they can be invited to a password, or deleted)."""
    provider = provider_get(tenant_id=tenant_id, provider_name=provider_name)
    pool_id, _client = _pool(tenant_id)
    names = [p.provider_name for p in repo.provider_list(tenant_id) if p.provider_name != provider_name]
    app_client_identity_providers_set(tenant_id=tenant_id, provider_names=names)
    cognito.delete_identity_provider(pool_id, provider_name)
    repo.provider_delete(provider)
    audit(tenant_id, "sso.provider_deleted", actor, provider_name=provider_name, display_name=provider.display_name)


def providers_remove_from_cognito(*, tenant_id: str, pool_id: str) -> int:
    """Offboarding of a pooled tenant: its providers leave the shared pool (the records go with the
    tenant's partition). Returns how many."""
    found = repo.provider_list(tenant_id)
    for provider in found:
        cognito.delete_identity_provider(pool_id, provider.provider_name)
    return len(found)
