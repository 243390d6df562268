"""Pages of accounts: the portal's home on a tenant host, and individual learners' sign-up on the apex."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.forms import LearnerSignupForm
from accounts.portal import session_user
from accounts.services import learner_register
from cloudkida.errors import ApplicationError
from tenants import provisioning
from tenants.selectors import tenant_get_cached
from tenants.views import apex_only, public_home


def home(request):
    """A tenant's portal home on its own host; CloudKida's start page on the apex."""
    if request.tenant is None:
        return public_home(request)
    return render(request, "portal/tenant_home.html", {"tenant": request.tenant, "portal_user": session_user(request)})


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
