"""The system-admin site: Django's admin, with tenant pages served over the repository layer."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse


class CloudKidaAdminSite(admin.AdminSite):
    site_header = "CloudKida operations"
    site_title = "CloudKida operations"
    index_title = "Platform administration"

    def get_urls(self):
        from tenants.admin import tenant_admin_urls

        return tenant_admin_urls(self) + super().get_urls()

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label in (None, "tenants") and request.user.is_active and request.user.is_staff:
            apps.insert(
                0,
                {
                    "name": "Tenants",
                    "app_label": "tenants",
                    "app_url": reverse("admin:tenants_tenant_list", current_app=self.name),
                    "has_module_perms": True,
                    "models": [
                        {
                            "name": "Tenants",
                            "object_name": "Tenant",
                            "admin_url": reverse("admin:tenants_tenant_list", current_app=self.name),
                            "view_only": True,
                            "perms": {"view": True, "add": False, "change": False, "delete": False},
                        }
                    ],
                },
            )
        return apps


class CloudKidaAdminConfig(AdminConfig):
    default_site = "cloudkida.admin.CloudKidaAdminSite"
