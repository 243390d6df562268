"""The DynamoDB adapter of a tenant's identity providers: SK ``IDP#<provider name>`` in the tenant's
partition of its data table (display name, issuer, client id, email domains, default role, attribute
mapping). The client secret is never written here: Cognito's ProviderDetails hold it."""

from __future__ import annotations

from typing import Any

from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import QueryScope, tenant_data_table, tenant_pk
from cloudkida.dynamo.keys import join

from .domain import IdentityProvider, ProviderType

PROVIDER = "IDP"


def _item(p: IdentityProvider) -> dict[str, Any]:
    return {
        "PK": tenant_pk(p.tenant_id),
        "SK": join(PROVIDER, p.provider_name),
        "entity": "identity-provider",
        "tenant_id": p.tenant_id,
        "provider_name": p.provider_name,
        "provider_type": p.provider_type.value,
        "display_name": p.display_name,
        "email_domains": list(p.email_domains),
        "default_role": p.default_role,
        "attribute_mapping": dict(p.attribute_mapping),
        "issuer": p.issuer,
        "client_id": p.client_id,
        "metadata_url": p.metadata_url,
        "created_at": to_iso(p.created_at),
        "created_by": p.created_by,
    }


def _provider(item: dict[str, Any]) -> IdentityProvider:
    return IdentityProvider(
        tenant_id=item["tenant_id"],
        provider_name=item["provider_name"],
        provider_type=ProviderType(item["provider_type"]),
        display_name=item["display_name"],
        email_domains=list(item.get("email_domains") or []),
        default_role=item["default_role"],
        attribute_mapping=dict(item.get("attribute_mapping") or {}),
        issuer=item.get("issuer", ""),
        client_id=item.get("client_id", ""),
        metadata_url=item.get("metadata_url", ""),
        created_at=from_iso(item["created_at"]),
        created_by=item.get("created_by", ""),
        version=int(item["version"]),
    )


def provider_create(provider: IdentityProvider) -> IdentityProvider:
    """Conflict ``already_exists`` if the name is taken in the tenant."""
    return _provider(tenant_data_table(provider.tenant_id).create(_item(provider)))


def provider_get(tenant_id: str, provider_name: str) -> IdentityProvider | None:
    item = tenant_data_table(tenant_id).get(tenant_pk(tenant_id), join(PROVIDER, provider_name))
    return _provider(item) if item else None


def provider_list(tenant_id: str) -> list[IdentityProvider]:
    """Every identity provider of the tenant (a handful: one Query)."""
    table = tenant_data_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(PROVIDER, ""))
    return [_provider(i) for i in table.query_all(scope)]


def provider_update(provider: IdentityProvider, **changes: Any) -> IdentityProvider:
    """Apply ``changes`` at the provider's version (Conflict ``version_conflict`` otherwise)."""
    values = {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}
    item = tenant_data_table(provider.tenant_id).update(
        tenant_pk(provider.tenant_id),
        join(PROVIDER, provider.provider_name),
        expected_version=provider.version,
        changes=values,
    )
    return _provider(item)


def provider_delete(provider: IdentityProvider) -> None:
    tenant_data_table(provider.tenant_id).delete(
        tenant_pk(provider.tenant_id), join(PROVIDER, provider.provider_name), expected_version=provider.version
    )
