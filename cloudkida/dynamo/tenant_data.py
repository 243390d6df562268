"""A tenant's data table, the one way every app's repository reaches tenant data.

Which table holds a tenant's data (the pooled table, or a Platinum tenant's silo table) is the tenants
app's knowledge: it registers the resolver from ``AppConfig.ready``. On the API stage the request carries
credentials the authorizer scoped to that tenant (``cloudkida.aws.use_scoped_credentials``); the table is
then reached with them, so even a bug that builds another tenant's key is refused by IAM
(``dynamodb:LeadingKeys`` on the pooled table, the tenant's own silo table otherwise). Elsewhere (workflows,
the admin, the portal) the Lambda's own role is used.
"""

from __future__ import annotations

from collections.abc import Callable

from cloudkida import aws
from cloudkida.dynamo.store import Table

_resolver: list[Callable[[str], str]] = []


def register_table_resolver(resolve: Callable[[str], str]) -> None:
    """``resolve(tenant_id) -> table name``; registered once by the app that owns tenants."""
    _resolver[:] = [resolve]


def tenant_data_table(tenant_id: str) -> Table:
    """The tenant's data table, with this request's tenant-scoped credentials when it has them."""
    if not _resolver:
        raise RuntimeError("no tenant table resolver is registered (the tenants app registers it)")
    return Table(_resolver[0](tenant_id), credentials=aws.scoped_credentials(tenant_id))
