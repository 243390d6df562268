"""The one registry of every kind of item CloudKida writes, and who owns it.

Each app registers its kinds (in ``AppConfig.ready``). A tenant-owned kind lives either in the tenant's
partition (``PK = TENANT#<id>``, told apart by its sort-key prefix) or outside it with the ownership index
(``GSI2PK = TENANT#<id>#OWNED``); either way offboarding and export find all of it from the tenant id by
Query. Platform kinds (the tenant list, sign-up rate windows, the platform audit trail) belong to no
tenant. ``kind_of`` tells which registered kind a written key is: the test suite checks every write the
code makes against it, so a kind that is written but not registered fails the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudkida.dynamo.keys import SEP, Prefix, tenant_of_owner_pk

CONTROL, TENANT_DATA = "control", "tenant-data"
TENANT, PLATFORM = "tenant", "platform"
TENANT_PARTITION = Prefix.TENANT.value + SEP


@dataclass(frozen=True)
class ItemKind:
    """``pk_prefix`` starts the partition key (exactly ``TENANT#`` for items in a tenant's partition,
    which must then be ``TENANT#<tenant id>``); ``sk_prefix`` starts the sort key ("" matches any)."""

    name: str
    table: str  # control | tenant-data
    owner: str  # tenant | platform
    pk_prefix: str
    sk_prefix: str = ""
    description: str = ""

    @property
    def in_tenant_partition(self) -> bool:
        return self.pk_prefix == TENANT_PARTITION

    def matches(self, table: str, pk: str, sk: str) -> bool:
        if table != self.table or not sk.startswith(self.sk_prefix):
            return False
        if self.in_tenant_partition:
            return bool(tenant_of_owner_pk(pk))
        return pk.startswith(self.pk_prefix)


_kinds: dict[str, ItemKind] = {}


def register(kind: ItemKind) -> ItemKind:
    """Add a kind (idempotent for the same definition; a different one under a taken name is a bug)."""
    existing = _kinds.get(kind.name)
    if existing is not None and existing != kind:
        raise ValueError(f"item kind {kind.name!r} is already registered differently")
    _kinds[kind.name] = kind
    return kind


def kinds() -> list[ItemKind]:
    return list(_kinds.values())


def tenant_kinds() -> list[ItemKind]:
    return [k for k in _kinds.values() if k.owner == TENANT]


def kind_of(table: str, pk: str, sk: str) -> ItemKind | None:
    """The registered kind of an item with this key in a table of kind ``table``; the most specific
    (longest sort-key prefix) wins."""
    found = [k for k in _kinds.values() if k.matches(table, pk, sk)]
    return max(found, key=lambda k: len(k.pk_prefix) + len(k.sk_prefix)) if found else None
