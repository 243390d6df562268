"""Pages of accounts: the portal's home on a tenant host (a dashboard for its admins, a home for its
learners), its theme, and individual learners' sign-up on the apex."""

from __future__ import annotations

from functools import wraps

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from accounts.forms import LearnerSignupForm
from accounts.portal import session_principal
from accounts.selectors import group_list, policy_for_user, user_counts, user_groups, user_seats
from accounts.services import learner_register
from cloudkida import navigation
from cloudkida.errors import ApplicationError
from cloudkida.identity.principal import Role
from cloudkida.tenancy import ADMIN
from tenants import provisioning
from tenants.selectors import tenant_get_cached
from tenants.theme import theme_css
from tenants.views import apex_only, public_home


def error_page(request, error: ApplicationError):
    """A service's refusal as a friendly page with its status (an id that is not this tenant's is a 404)."""
    return render(request, "errors/error.html", {"status": error.status, "message": error.message}, status=error.status)


def portal_page(*, admin: bool = False):
    """A page of the tenant's portal: signed in (else to the tenant's sign-in), and an admin if asked.
    The view gets the request's Principal as ``request.principal``."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.tenant is None:
                return render(request, "errors/error.html", {"status": 404, "message": "Not found."}, status=404)
            principal = session_principal(request)
            if principal is None:
                return redirect(f"/login/?{urlencode({'next': request.get_full_path()})}")
            if admin and principal.role is not Role.TENANT_ADMIN:
                message = "This page is for your organisation's administrators."
                return render(request, "errors/error.html", {"status": 403, "message": message}, status=403)
            request.principal = principal
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def home(request):
    """A tenant's portal home on its own host; the admin site on the admin host; CloudKida's start page
    on the apex."""
    if request.host_kind == ADMIN:
        return redirect("/admin/")
    if request.tenant is None:
        return public_home(request)
    principal = session_principal(request)
    if principal is None:
        return render(request, "portal/welcome.html")
    if principal.role is Role.TENANT_ADMIN:
        return dashboard(request)
    return learner_home(request)


@portal_page()
def learner_home(request):
    """A learner's own home: their groups, what their organisation's policy lets them do, and the portal's
    other pages (the apps' navigation entries, e.g. their labs)."""
    tenant_id, user_id = request.tenant.tenant_id, request.principal.subject
    return render(
        request,
        "portal/learner_home.html",
        {
            "groups": user_groups(tenant_id=tenant_id, user_id=user_id),
            "policy": policy_for_user(tenant_id=tenant_id, user_id=user_id),
        },
    )


@portal_page(admin=True)
def dashboard(request):
    tenant_id = request.tenant.tenant_id
    active_users, active_admins = user_counts(tenant_id=tenant_id)
    groups = group_list(tenant_id=tenant_id, limit=100).items
    return render(
        request,
        "portal/dashboard.html",
        {
            "active_users": active_users,
            "active_admins": active_admins,
            "groups": groups,
            "seats": user_seats(tenant_id=tenant_id),
            "summaries": navigation.summaries(tenant_id),
        },
    )


@require_GET
def theme(request):
    """The tenant's colours as CSS custom properties (CloudKida's own off tenant hosts)."""
    css = theme_css(request.tenant.branding if request.tenant else None)
    response = HttpResponse(css, content_type="text/css")
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_http_methods(["GET", "POST"])
def learner_signup(request):
    apex_only(request)
    form = LearnerSignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = learner_register(**form.cleaned_data, client_address=request.META.get("REMOTE_ADDR", ""))
            except ApplicationError as error:
                form.add_error(
                    "email" if error.code in {"invalid_email", "already_exists", "email_in_use"} else None,
                    error.message,
                )
                status = error.status
            else:
                slug = tenant_get_cached(tenant_id=user.tenant_id).slug
                return render(
                    request,
                    "public/learner_done.html",
                    {"user": user, "login_url": f"{provisioning.tenant_base_url(slug)}/login/"},
                    status=201,
                )
        else:
            status = 400
    return render(request, "public/learner_signup.html", {"form": form}, status=status)
