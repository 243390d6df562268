from django.apps import AppConfig

from cloudkida.dynamo.registry import CONTROL, TENANT, TENANT_DATA, TENANT_PARTITION, ItemKind, register


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts import imports, schema  # noqa: F401 - schema registers the OpenAPI security schemes
        from accounts.services import TenantMembers
        from cloudkida import jobs
        from tenants import ports

        for kind in ITEM_KINDS:
            register(kind)
        jobs.register(imports.JOB, imports.run_slice)
        members = TenantMembers()
        ports.register_members(members)
        ports.add_listener(members)


ITEM_KINDS = (
    ItemKind("user", TENANT_DATA, TENANT, TENANT_PARTITION, "USER#", "a person of the tenant"),
    ItemKind(
        "user-email", TENANT_DATA, TENANT, TENANT_PARTITION, "UNIQ#EMAIL#", "a user's email, unique in the tenant"
    ),
    ItemKind("user-counts", TENANT_DATA, TENANT, TENANT_PARTITION, "COUNTER#USERS", "active users and admins"),
    ItemKind("api-key", CONTROL, TENANT, "APIKEY#", "APIKEY", "an integrator API key (its hash)"),
    ItemKind("group", TENANT_DATA, TENANT, TENANT_PARTITION, "GROUP#", "a cohort or class of users"),
    ItemKind("group-name", TENANT_DATA, TENANT, TENANT_PARTITION, "UNIQ#GROUPNAME#", "a group's name, unique"),
    ItemKind("group-member", TENANT_DATA, TENANT, TENANT_PARTITION, "MEMBER#", "a user in a group (by group)"),
    ItemKind("user-group", TENANT_DATA, TENANT, TENANT_PARTITION, "INGROUP#", "a user in a group (by user)"),
    ItemKind("policy", TENANT_DATA, TENANT, TENANT_PARTITION, "POLICY#", "what the tenant or a group allows"),
    ItemKind("user-import", TENANT_DATA, TENANT, TENANT_PARTITION, "IMPORT#", "a bulk import of users (a job)"),
    ItemKind(
        "user-import-report", TENANT_DATA, TENANT, TENANT_PARTITION, "IMPORTROW#", "one chunk of an import's report"
    ),
)
