"""Key prefixes and key builders: small pure functions, one enum of prefixes.

Every tenant-scoped partition key is exactly ``TENANT#<tenant_id>`` (base table) or starts with
``TENANT#<tenant_id>#`` (indexes). Tenant ids are ULIDs (``cloudkida.ids``): fixed length, no ``#``, so
partitions of two tenants can never share or prefix each other's keys.

Items a tenant owns that cannot live in its partition (an API key is found by its own id before the
tenant is known; a slug or a domain is found by its name) carry the tenant's *ownership index* key,
``GSI2PK = TENANT#<tenant_id>#OWNED``, so offboarding finds every one of them with a Query.
"""

from __future__ import annotations

from enum import StrEnum

from cloudkida.errors import ValidationFailed
from cloudkida.ids import is_ulid

SEP = "#"
OWNED = "OWNED"
OWNER_INDEX = "GSI2"


class Prefix(StrEnum):
    TENANT = "TENANT"
    META = "META"
    UNIQUE = "UNIQ"
    HOST = "HOST"
    CLIENT = "CLIENT"
    STATUS = "STATUS"
    USER = "USER"
    COUNTER = "COUNTER"
    EVENT = "EVENT"
    STEP = "STEP"
    API_KEY = "APIKEY"
    IDEMPOTENCY = "IDEMP"
    PLATFORM = "PLATFORM"
    RATE = "RATE"


def check_tenant_id(tenant_id: str) -> str:
    """Return ``tenant_id`` if it is a well-formed tenant id (a ULID), else raise ValidationFailed."""
    if not is_ulid(tenant_id):
        raise ValidationFailed(
            "Tenant ids are 26-character identifiers issued by CloudKida.",
            code="invalid_tenant_id",
            details={"tenant_id": str(tenant_id)[:64]},
        )
    return tenant_id


def join(*parts: str) -> str:
    return SEP.join(str(p) for p in parts)


def tenant_pk(tenant_id: str) -> str:
    """The one partition key of a tenant's items in a tenant-data table (and in the control table)."""
    return join(Prefix.TENANT, check_tenant_id(tenant_id))


def tenant_index_pk(tenant_id: str, *parts: str) -> str:
    """A tenant-scoped index partition key: always ``TENANT#<id>#...``."""
    return join(tenant_pk(tenant_id), *parts)


def owner_index(tenant_id: str, pk: str) -> dict[str, str]:
    """The ownership-index attributes of an item of ``tenant_id`` kept outside the tenant's partition."""
    return {"GSI2PK": tenant_index_pk(tenant_id, OWNED), "GSI2SK": pk}


def tenant_of_owner_pk(owner_pk: str) -> str:
    """The tenant id in ``TENANT#<id>`` (a marker's owner), or ""."""
    prefix = join(Prefix.TENANT, "")
    return owner_pk[len(prefix) :] if owner_pk.startswith(prefix) and is_ulid(owner_pk[len(prefix) :]) else ""


def entity_sk(prefix: Prefix, *ids: str) -> str:
    return join(prefix, *ids)


def unique_key(kind: str, value: str, *, tenant_id: str | None = None) -> dict[str, str]:
    """The key of a uniqueness marker for ``kind``=``value`` (compared case-insensitively).

    Platform-wide markers get a partition of their own; tenant-scoped markers live in the tenant's
    partition, so they are unique within that tenant only and stay under its leading key.
    """
    marker = join(Prefix.UNIQUE, kind.upper(), value.strip().lower())
    if tenant_id is None:
        return {"PK": marker, "SK": Prefix.UNIQUE.value}
    return {"PK": tenant_pk(tenant_id), "SK": marker}
