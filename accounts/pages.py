"""The tenant portal's management pages (server-rendered, htmx where it helps): API keys, and the pages
built on the people, groups, policies, import and audit services."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import api_keys
from accounts.forms import ApiKeyForm
from accounts.views import portal_page
from cloudkida.errors import ApplicationError


def actor(request) -> str:
    principal = request.principal
    return f"{principal.role.value}:{principal.email or principal.subject}"


@portal_page(admin=True)
@require_http_methods(["GET", "POST"])
def api_key_list(request):
    """Integrator keys: list with last use, create (the secret shown once), revoke."""
    tenant_id = request.tenant.tenant_id
    form = ApiKeyForm(request.POST or None)
    created, status = None, 200
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = api_keys.api_key_create(tenant_id=tenant_id, created_by=actor(request), **form.cleaned_data)
        except ApplicationError as error:
            form.add_error("name" if error.code == "invalid_name" else None, error.message)
            status = error.status
        else:
            created = {"key": key, "secret": secret}
            form = ApiKeyForm()
    elif request.method == "POST":
        status = 400
    keys = api_keys.api_key_list(tenant_id=tenant_id, limit=100).items
    return render(
        request, "portal/api_keys.html", {"form": form, "keys": keys[::-1], "created": created}, status=status
    )


@portal_page(admin=True)
@require_POST
def api_key_revoke(request, key_id: str):
    try:
        key = api_keys.api_key_revoke(tenant_id=request.tenant.tenant_id, key_id=key_id, revoked_by=actor(request))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The key “{key.name}” is revoked: it stops working at once.")
    return redirect("portal-api-keys")
