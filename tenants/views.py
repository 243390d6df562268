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
from tenants.domain import Isolation, TenantStatus
from tenants.forms import SignupForm
from tenants.selectors import tenant_find, tenant_steps
from tenants.services import tenant_register
from tenants.services.onboarding import ONBOARDING
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


# What each onboarding step means to the person who signed up (no product names, no internal states).
PROGRESS_LABELS = {
    "record": "Reserving your address",
    "silo_table": "Creating your organisation's own database",
    "identity": "Setting up sign-in",
    "admin_user": "Creating your administrator account",
    "api_key": "Preparing API access for your integrations",
    "welcome_email": "Sending your welcome email",
    "activate": "Opening your portal",
}


def _progress(tenant) -> dict:
    """The steps that apply to this tenant, each done / running / failed / waiting, for people."""
    done = {s.name: s.status for s in tenant_steps(tenant_id=tenant.tenant_id)}
    steps = []
    for step in ONBOARDING.steps:
        if step.name == "silo_table" and tenant.isolation is not Isolation.SILO:
            continue
        state = {"SUCCEEDED": "done", "RUNNING": "running", "FAILED": "failed"}.get(done.get(step.name, ""), "waiting")
        steps.append({"label": PROGRESS_LABELS.get(step.name, step.description), "state": state})
    return {
        "tenant": tenant,
        "steps": steps,
        "ready": tenant.status is TenantStatus.ACTIVE,
        "failed": tenant.status is TenantStatus.FAILED,
        "login_url": f"{provisioning.tenant_base_url(tenant.slug)}/login/",
    }


def signup_progress(request, tenant_id: str):
    """The organisation being set up, live (the steps refresh themselves until it is ready)."""
    apex_only(request)
    token = request.GET.get("token", "")
    try:
        tenant = registration_status(tenant_id=tenant_id, token=token)
    except ApplicationError as error:
        return render(request, "errors/error.html", {"status": 404, "message": error.message}, status=404)
    context = {**_progress(tenant), "status_url": f"{reverse('signup-progress-steps', args=[tenant_id])}?token={token}"}
    return render(request, "public/progress.html", context)


def signup_progress_steps(request, tenant_id: str):
    """The steps alone, for the progress page to poll (htmx)."""
    apex_only(request)
    try:
        tenant = registration_status(tenant_id=tenant_id, token=request.GET.get("token", ""))
    except ApplicationError as error:
        return render(request, "errors/error.html", {"status": 404, "message": error.message}, status=404)
    context = {**_progress(tenant), "status_url": request.get_full_path()}
    return render(request, "public/_progress_steps.html", context)


def find_organisation(request):
    """Type your organisation's name or subdomain; go to its sign-in page."""
    apex_only(request)
    query = request.GET.get("q", "").strip()
    tenant = tenant_find(query=query) if query else None
    if tenant is not None:
        return redirect(f"{provisioning.tenant_base_url(tenant.slug)}/login/")
    status = 404 if query else 200
    return render(request, "public/find.html", {"query": query, "not_found": bool(query)}, status=status)
