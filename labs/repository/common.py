"""Shared pieces of the labs adapters: which table an item lives in, and small converters."""

from __future__ import annotations

from datetime import datetime

from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Table, tables, tenant_data_table
from tenants.selectors import tenant_data_table_name


def control() -> Table:
    """The control table, with the process's own credentials (the pool and global labs are platform data)."""
    return Table(tables.control_table().name)


def tenant_table(tenant_id: str) -> Table:
    """The tenant's data table, with the request's tenant-scoped credentials when it has them."""
    return tenant_data_table(tenant_id)


def tenant_table_platform(tenant_id: str) -> Table:
    """The tenant's data table with the process's own credentials: only for the transactions that span it
    and the control table (a lease writes the session and the account together), which run in workflows
    and jobs, never with a tenant's scoped credentials."""
    return Table(tenant_data_table_name(tenant_id=tenant_id))


def iso(value: datetime | None) -> str | None:
    return to_iso(value) if value else None


def dt(value: str | None) -> datetime | None:
    return from_iso(value) if value else None
