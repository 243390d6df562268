"""Public pages on the apex host: the start page, organisation sign-up with live progress, learner sign-up."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cloudkida.errors import ApplicationError
from cloudkida.tenancy import APEX
from tenants import provisioning
from tenants.forms import LearnerSignupForm, SignupForm
from tenants.selectors import tenant_find
from tenants.services import learner_register, tenant_register
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


def _apex_only(request) -> None:
    if getattr(request, "host_kind", APEX) != APEX:
        raise Http404


def home(request):
    if request.tenant is not None:
        from accounts.portal import SESSION_KEY, session_principal

        signed_in = session_principal(request) is not None
        return render(
            request,
            "portal/tenant_home.html",
            {"tenant": request.tenant, "portal_user": request.session.get(SESSION_KEY) if signed_in else None},
        )
    _apex_only(request)
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
    _apex_only(request)
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                tenant, token = tenant_register(**form.cleaned_data, client_address=_client_address(request))
            except ApplicationError as error:
                _form_error(form, error)
                status = error.status
            else:
                return redirect(f"{reverse('signup-progress', args=[tenant.tenant_id])}?token={token}")
        else:
            status = 400
    return render(request, "public/signup.html", {"form": form}, status=status)


def signup_progress(request, tenant_id: str):
    _apex_only(request)
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
            "login_url": f"{provisioning.tenant_base_url(tenant.tenant_id)}/login/",
        },
    )


@require_http_methods(["GET", "POST"])
def learner_signup(request):
    _apex_only(request)
    form = LearnerSignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = learner_register(**form.cleaned_data, client_address=_client_address(request))
            except ApplicationError as error:
                form.add_error(
                    "email" if error.code in {"invalid_email", "already_exists", "email_in_use"} else None,
                    error.message,
                )
                status = error.status
            else:
                return render(
                    request,
                    "public/learner_done.html",
                    {"user": user, "login_url": f"{provisioning.tenant_base_url(user.tenant_id)}/login/"},
                    status=201,
                )
        else:
            status = 400
    return render(request, "public/learner_signup.html", {"form": form}, status=status)


def find_organisation(request):
    """Type your organisation's name or subdomain; go to its sign-in page."""
    _apex_only(request)
    query = request.GET.get("q", "").strip()
    tenant = tenant_find(query=query) if query else None
    if tenant is not None:
        return redirect(f"{provisioning.tenant_base_url(tenant.tenant_id)}/login/")
    status = 404 if query else 200
    return render(request, "public/find.html", {"query": query, "not_found": bool(query)}, status=status)
