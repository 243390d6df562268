from django.apps import AppConfig

from cloudkida.dynamo.registry import CONTROL, PLATFORM, TENANT, TENANT_PARTITION, ItemKind, register


class TenantsConfig(AppConfig):
    name = "tenants"

    def ready(self):
        from django.contrib import admin

        from cloudkida import bootstrap, workflows
        from cloudkida.admin import Section
        from cloudkida.dynamo import register_table_resolver
        from tenants.admin import tenant_admin_urls
        from tenants.bootstrap import ensure_default_tenant
        from tenants.selectors import tenant_data_table_name
        from tenants.services.onboarding import ONBOARDING, record_failure

        for kind in ITEM_KINDS:
            register(kind)
        workflows.register(ONBOARDING, record_failure=record_failure)
        register_table_resolver(lambda tenant_id: tenant_data_table_name(tenant_id=tenant_id))
        bootstrap.register_step(ensure_default_tenant)
        admin.site.add_section(Section("tenants", "Tenants", tenant_admin_urls, (("Tenants", "tenants_tenant_list"),)))


ITEM_KINDS = (
    ItemKind("tenant", CONTROL, TENANT, TENANT_PARTITION, "META", "the tenant record"),
    ItemKind("onboarding-step", CONTROL, TENANT, TENANT_PARTITION, "STEP#", "latest outcome of each onboarding step"),
    ItemKind("audit-event", CONTROL, TENANT, TENANT_PARTITION, "EVENT#", "the tenant's audit trail"),
    ItemKind("slug", CONTROL, TENANT, "UNIQ#SLUG#", "UNIQ", "the subdomain alias (or its redirect after a rename)"),
    ItemKind("organisation-name", CONTROL, TENANT, "UNIQ#NAME#", "UNIQ", "the organisation name, unique"),
    ItemKind("custom-domain", CONTROL, TENANT, "HOST#", "HOST", "a custom domain and its verification"),
    ItemKind(
        "custom-domain-claim", CONTROL, TENANT, TENANT_PARTITION, "DOMAIN#", "a domain the tenant added and its token"
    ),
    ItemKind("app-client", CONTROL, TENANT, "CLIENT#", "CLIENT", "which tenant an OIDC app client belongs to"),
    ItemKind("platform-audit", CONTROL, PLATFORM, "PLATFORM#AUDIT", "", "offboardings and other platform events"),
    ItemKind("tenant-counts", CONTROL, PLATFORM, "PLATFORM", "TENANT_COUNTS", "tenants by status and by tier"),
    ItemKind(
        "user-pool-shard", CONTROL, PLATFORM, "PLATFORM", "POOLSHARD#", "a pooled user pool shard and its app clients"
    ),
)
