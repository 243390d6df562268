"""Public pages on the apex host: the start page, organisation sign-up with live progress, find-your-org."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cloudkida import idempotency
from cloudkida.errors import ApplicationError
from cloudkida.tenancy import APEX
from tenants import provisioning
from tenants.forms import SignupForm
from tenants.selectors import tenant_find
from tenants.services import tenant_register
from tenants.services.registration import registration_status

# Which form field an error code belongs to, so the message shows next to it.
_FIELD_FOR_CODE = {
    "invalid_slug": "slug",
    "reserved_slug": "slug",
    "invalid_email": "admin_email",
    "email_in_use": "admin_email",
    "invalid_country": "country",
    "invalid_tier": "tier",
    "invalid_name": "name",
    "invalid_admin_name": "admin_name",
}


def apex_only(request) -> None:
    if getattr(request, "host_kind", APEX) != APEX:
        raise Http404


def public_home(request):
    """CloudKida's own start page on the apex host."""
    apex_only(request)
    return render(request, "public/home.html")


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _form_error(form, error: ApplicationError) -> None:
    field = _FIELD_FOR_CODE.get(error.code)
    if error.code == "already_exists":
        field = {"slug": "slug", "name": "name"}.get(error.details.get("constraint"))
    form.add_error(field if field in form.fields else None, error.message)


@require_http_methods(["GET", "POST"])
def signup(request):
    """The sign-up form. Each rendering carries a submission key, so submitting it twice (a double-click,
    a reload) lands on the first submission's progress page instead of "already taken"."""
    apex_only(request)
    form = SignupForm(request.POST or None, initial={"submission": secrets.token_urlsafe(16)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            submission = data.pop("submission")
            try:
                _status, answer, _replayed = idempotency.run(
                    tenant_id="",
                    subject=f"signup-page:{_client_address(request)}",
                    key=submission,
                    request_fingerprint=idempotency.fingerprint(data),
                    operation=lambda: _register(data, _client_address(request)),
                    wait_seconds=settings.CLOUDKIDA_IDEMPOTENT_PAGE_WAIT_SECONDS,
                )
            except ApplicationError as error:
                _form_error(form, error)
                status = error.status
            else:
                return redirect(f"{reverse('signup-progress', args=[answer['tenant_id']])}?token={answer['token']}")
        else:
            status = 400
    return render(request, "public/signup.html", {"form": form}, status=status)


def _register(data: dict, client_address: str) -> tuple[int, dict]:
    tenant, token = tenant_register(**data, client_address=client_address)
    return 202, {"tenant_id": tenant.tenant_id, "token": token}


def signup_progress(request, tenant_id: str):
    apex_only(request)
    token = request.GET.get("token", "")
    try:
        tenant = registration_status(tenant_id=tenant_id, token=token)
    except ApplicationError as error:
        return render(request, "errors/error.html", {"status": 404, "message": error.message}, status=404)
    return render(
        request,
        "public/progress.html",
        {
            "tenant": tenant,
            "status_url": f"/api/v1/registrations/{tenant.tenant_id}?token={token}",
            "login_url": f"{provisioning.tenant_base_url(tenant.slug)}/login/",
        },
    )


def find_organisation(request):
    """Type your organisation's name or subdomain; go to its sign-in page."""
    apex_only(request)
    query = request.GET.get("q", "").strip()
    tenant = tenant_find(query=query) if query else None
    if tenant is not None:
        return redirect(f"{provisioning.tenant_base_url(tenant.slug)}/login/")
    status = 404 if query else 200
    return render(request, "public/find.html", {"query": query, "not_found": bool(query)}, status=status)
