"""The DynamoDB repository base shared by every app's adapter."""

from cloudkida.dynamo.cursor import QueryScope
from cloudkida.dynamo.keys import Prefix, check_tenant_id, owner_index, tenant_index_pk, tenant_pk
from cloudkida.dynamo.store import Also, Page, Table, Unique, maintenance
from cloudkida.dynamo.tenant_data import register_table_resolver, tenant_data_table

__all__ = [
    "Also",
    "Page",
    "Prefix",
    "QueryScope",
    "Table",
    "Unique",
    "check_tenant_id",
    "maintenance",
    "owner_index",
    "register_table_resolver",
    "tenant_data_table",
    "tenant_index_pk",
    "tenant_pk",
]
