from django.urls import path

from tenants import apis, portal_apis

api_urlpatterns = [
    path("registrations", apis.RegistrationCreateApi.as_view(), name="registration-create"),
    path("registrations/<str:tenant_id>", apis.RegistrationStatusApi.as_view(), name="registration-status"),
    path("tenant-config/<str:slug>", apis.TenantConfigApi.as_view(), name="tenant-config"),
    path("plans", portal_apis.PlanListApi.as_view(), name="plan-list"),
    path("audit-events", portal_apis.AuditEventListApi.as_view(), name="audit-event-list"),
    path("audit-events/export", portal_apis.AuditEventExportApi.as_view(), name="audit-event-export"),
    path("tenant/branding", portal_apis.TenantBrandingApi.as_view(), name="tenant-branding"),
    path("tenant/branding/<str:asset>", portal_apis.TenantBrandingAssetApi.as_view(), name="tenant-branding-asset"),
    path("domains", portal_apis.DomainListApi.as_view(), name="domain-list"),
    path("domains/<str:domain>", portal_apis.DomainDetailApi.as_view(), name="domain-detail"),
    path("domains/<str:domain>/verify", portal_apis.DomainVerifyApi.as_view(), name="domain-verify"),
    path("tenants", apis.TenantListApi.as_view(), name="tenant-list"),
    path("tenants/<str:tenant_id>", apis.TenantDetailApi.as_view(), name="tenant-detail"),
    path("tenants/<str:tenant_id>/activate", apis.TenantActivateApi.as_view(), name="tenant-activate"),
    path("tenants/<str:tenant_id>/deactivate", apis.TenantDeactivateApi.as_view(), name="tenant-deactivate"),
    path("tenants/<str:tenant_id>/retry", apis.TenantRetryApi.as_view(), name="tenant-retry"),
]
