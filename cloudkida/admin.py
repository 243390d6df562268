"""The system-admin site: Django's admin, with pages apps add over their repositories (no ORM copies).

Apps call ``site.add_section`` from ``AppConfig.ready`` with a URL factory and the entry for the admin's
index, so the site (core) never imports an app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse


@dataclass(frozen=True)
class Section:
    app_label: str
    name: str
    urls: Callable  # (site) -> list of URL patterns
    models: tuple[tuple[str, str], ...]  # (display name, URL name of its list page)


class CloudKidaAdminSite(admin.AdminSite):
    site_header = "CloudKida operations"
    site_title = "CloudKida operations"
    index_title = "Platform administration"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sections: list[Section] = []

    def login(self, request, extra_context=None):
        """Operators sign in through the operations pool; the password form exists only where it is allowed."""
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=self.name)
        oidc = f"{settings.CLOUDKIDA_ADMIN_OIDC_LOGIN_URL}?{urlencode({'next': next_url})}"
        if not settings.CLOUDKIDA_ADMIN_PASSWORD_LOGIN:
            return HttpResponseRedirect(oidc)
        return super().login(request, {**(extra_context or {}), "operations_login_url": oidc})

    def password_change(self, request, extra_context=None):
        if not settings.CLOUDKIDA_ADMIN_PASSWORD_LOGIN:
            raise Http404("Operators' passwords and MFA are managed in the operations user pool.")
        return super().password_change(request, extra_context)

    def add_section(self, section: Section) -> None:
        if all(s.app_label != section.app_label for s in self.sections):
            self.sections.append(section)

    def get_urls(self):
        extra = [pattern for section in self.sections for pattern in section.urls(self)]
        return extra + super().get_urls()

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if not (request.user.is_active and request.user.is_staff):
            return apps
        for section in reversed(self.sections):
            if app_label not in (None, section.app_label):
                continue
            models = [
                {
                    "name": name,
                    "object_name": name,
                    "admin_url": reverse(f"admin:{url_name}", current_app=self.name),
                    "view_only": True,
                    "perms": {"view": True, "add": False, "change": False, "delete": False},
                }
                for name, url_name in section.models
            ]
            apps.insert(
                0,
                {
                    "name": section.name,
                    "app_label": section.app_label,
                    "app_url": models[0]["admin_url"],
                    "has_module_perms": True,
                    "models": models,
                },
            )
        return apps


class CloudKidaAdminConfig(AdminConfig):
    default_site = "cloudkida.admin.CloudKidaAdminSite"

    def ready(self):
        super().ready()
        from django.contrib.auth.models import Group, User

        # Operators live in the operations user pool, not in ORM tables (production has no database).
        for model in (Group, User):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
