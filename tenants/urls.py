from django.urls import path

from tenants import apis

api_urlpatterns = [
    path("registrations", apis.RegistrationCreateApi.as_view(), name="registration-create"),
    path("registrations/<str:tenant_id>", apis.RegistrationStatusApi.as_view(), name="registration-status"),
    path("tenant-config/<str:slug>", apis.TenantConfigApi.as_view(), name="tenant-config"),
    path("tenants", apis.TenantListApi.as_view(), name="tenant-list"),
    path("tenants/<str:tenant_id>", apis.TenantDetailApi.as_view(), name="tenant-detail"),
    path("tenants/<str:tenant_id>/activate", apis.TenantActivateApi.as_view(), name="tenant-activate"),
    path("tenants/<str:tenant_id>/deactivate", apis.TenantDeactivateApi.as_view(), name="tenant-deactivate"),
    path("tenants/<str:tenant_id>/retry", apis.TenantRetryApi.as_view(), name="tenant-retry"),
]
