"""Key prefixes and key builders: small pure functions, one enum of prefixes.

Every tenant-scoped partition key is exactly ``TENANT#<tenant_id>`` (base table) or starts with
``TENANT#<tenant_id>#`` (indexes). Tenant ids are DNS labels, which cannot contain ``#``, so the
delimiter makes ``acme`` and ``acme-corp`` disjoint even where a prefix is compared.
"""

from __future__ import annotations

import re
from enum import StrEnum

from cloudkida.errors import ValidationFailed

SEP = "#"
TENANT_ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")


class Prefix(StrEnum):
    TENANT = "TENANT"
    META = "META"
    UNIQUE = "UNIQ"
    HOST = "HOST"
    TIER = "TIER"
    STATUS = "STATUS"
    USER = "USER"
    EVENT = "EVENT"
    STEP = "STEP"
    API_KEY = "APIKEY"
    LAB = "LAB"
    SESSION = "SESSION"
    ACCOUNT = "ACCOUNT"
    USAGE = "USAGE"


def check_tenant_id(tenant_id: str) -> str:
    """Return ``tenant_id`` if it is a well-formed tenant id, else raise ValidationFailed."""
    if not isinstance(tenant_id, str) or not TENANT_ID_RE.match(tenant_id):
        raise ValidationFailed(
            "Tenant ids are DNS labels of 3 to 40 lower-case letters, digits and hyphens.",
            code="invalid_tenant_id",
            details={"tenant_id": str(tenant_id)[:64]},
        )
    return tenant_id


def join(*parts: str) -> str:
    return SEP.join(str(p) for p in parts)


def tenant_pk(tenant_id: str) -> str:
    """The one partition key of a tenant's items in a tenant-data table."""
    return join(Prefix.TENANT, check_tenant_id(tenant_id))


def tenant_index_pk(tenant_id: str, *parts: str) -> str:
    """A tenant-scoped index partition key: always ``TENANT#<id>#...``."""
    return join(tenant_pk(tenant_id), *parts)


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
