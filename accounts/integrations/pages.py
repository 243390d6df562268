"""Portal pages of the integrations: webhook endpoints (create, deliveries and their attempts, redeliver,
rotate the secret, enable/disable, delete) and a person's data (export download, erasure)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.pages import actor
from accounts.views import portal_page
from cloudkida.errors import ApplicationError

from . import data_rights, webhooks
from .forms import EndpointActionForm, EndpointForm


@portal_page(admin=True)
@require_http_methods(["GET", "POST"])
def webhook_list(request):
    tenant_id = request.tenant.tenant_id
    form = EndpointForm(request.POST or None)
    created, status = None, 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint, secret = webhooks.endpoint_create(
                tenant_id=tenant_id,
                url=data["url"],
                event_types=data["event_types"],
                description=data["description"],
                contact_email=data["contact_email"] or request.principal.email,
                created_by=actor(request),
            )
        except ApplicationError as error:
            form.add_error("url" if error.code == "invalid_url" else None, error.message)
            status = error.status
        else:
            created = {"endpoint": endpoint, "secret": secret}
            form = EndpointForm()
    elif request.method == "POST":
        status = 400
    endpoints = webhooks.endpoint_list(tenant_id=tenant_id)
    return render(
        request, "portal/webhooks.html", {"form": form, "endpoints": endpoints, "created": created}, status=status
    )


@portal_page(admin=True)
@require_http_methods(["GET", "POST"])
def webhook_detail(request, endpoint_id: str):
    tenant_id = request.tenant.tenant_id
    try:
        endpoint = webhooks.endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id)
    except ApplicationError as error:
        return render(
            request, "errors/error.html", {"status": error.status, "message": error.message}, status=error.status
        )
    secret = None
    if request.method == "POST":
        form = EndpointActionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "That action is not available.")
            return redirect("portal-webhook-detail", endpoint_id)
        action, version = form.cleaned_data["action"], form.cleaned_data["version"]
        try:
            if action == "rotate":
                endpoint, secret = webhooks.endpoint_rotate_secret(
                    tenant_id=tenant_id, endpoint_id=endpoint_id, actor=actor(request)
                )
                messages.success(request, "A new secret signs deliveries; the old one keeps signing for a day.")
            elif action == "delete":
                webhooks.endpoint_delete(tenant_id=tenant_id, endpoint_id=endpoint_id, actor=actor(request))
                messages.success(request, f"The endpoint {endpoint.url} is deleted.")
                return redirect("portal-webhooks")
            else:
                endpoint = webhooks.endpoint_update(
                    tenant_id=tenant_id,
                    endpoint_id=endpoint_id,
                    expected_version=version,
                    actor=actor(request),
                    status="active" if action == "enable" else "disabled",
                )
                messages.success(request, f"The endpoint is {endpoint.status.value}.")
        except ApplicationError as error:
            messages.error(request, error.message)
    deliveries = webhooks.delivery_list(tenant_id=tenant_id, endpoint_id=endpoint_id, limit=50).items
    return render(
        request,
        "portal/webhook_detail.html",
        {"endpoint": endpoint, "deliveries": deliveries, "secret": secret or endpoint.secrets[0].value},
    )


@portal_page(admin=True)
@require_POST
def webhook_redeliver(request, endpoint_id: str, delivery_id: str):
    try:
        webhooks.delivery_redeliver(
            tenant_id=request.tenant.tenant_id, endpoint_id=endpoint_id, delivery_id=delivery_id, actor=actor(request)
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The delivery is queued again.")
    return redirect("portal-webhook-detail", endpoint_id)


@portal_page(admin=True)
@require_http_methods(["GET", "POST"])
def personal_data(request, user_id: str):
    """A person's data: download it as JSON, or erase it (confirmed by typing their email)."""
    tenant_id = request.tenant.tenant_id
    try:
        if request.method == "POST":
            export = data_rights.personal_data_export(tenant_id=tenant_id, user_id=user_id)
            wanted = next((i["record"].get("email", "") for i in export["items"] if i["kind"] == "user"), "")
            if request.POST.get("confirm_email", "").strip().lower() != wanted.lower():
                messages.error(request, "Type the person's email address to confirm the erasure.")
                return redirect("portal-personal-data", user_id)
            result = data_rights.personal_data_erase(tenant_id=tenant_id, user_id=user_id, actor=actor(request))
            return render(request, "portal/personal_data_erased.html", {"result": result})
        export = data_rights.personal_data_export(tenant_id=tenant_id, user_id=user_id)
    except ApplicationError as error:
        return render(
            request, "errors/error.html", {"status": error.status, "message": error.message}, status=error.status
        )
    if request.GET.get("download"):
        response = HttpResponse(json.dumps(export, indent=2, default=str), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="personal-data-{user_id}.json"'
        return response
    user = next((i["record"] for i in export["items"] if i["kind"] == "user"), {})
    return render(request, "portal/personal_data.html", {"export": export, "person": user, "user_id": user_id})
