"""The tenant portal's organisation pages: settings (branding with a live preview, logo and favicon,
custom domains, the plan) and the audit log. They live in accounts because every portal page is signed
in through it (``portal_page``); the work is done by the tenants app's services and selectors."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import AssetForm, AuditFilterForm, BrandingForm, DomainForm
from accounts.integrations import sso
from accounts.integrations.forms import IdentityProviderForm
from accounts.pages import PAGE_SIZE, actor, form_error, query_string
from accounts.selectors import user_seats
from accounts.views import error_page, portal_page
from cloudkida.errors import ApplicationError
from tenants.audit import described_actions, event_details, event_summary
from tenants.branding import ASSETS, TEXT_FIELDS
from tenants.plans import plan_for
from tenants.selectors import branding_for, domain_list, tenant_events, tenant_get
from tenants.services import (
    domain_add,
    domain_remove,
    domain_verify,
    tenant_branding_asset_remove,
    tenant_branding_asset_upload,
    tenant_branding_update,
)

ASSET_LABELS = {"logo": "Logo", "favicon": "Favicon"}


def _settings_page(request, *, branding_form=None, asset_forms=None, domain_form=None, provider_form=None, status=200):
    tenant = tenant_get(tenant_id=request.tenant.tenant_id)
    resolved = branding_for(tenant)
    asset_forms = asset_forms or {}
    return render(
        request,
        "portal/settings.html",
        {
            "organisation": tenant,
            "resolved": resolved,
            "branding_form": branding_form
            or BrandingForm(initial={**{f: resolved[f] for f in TEXT_FIELDS}, "version": tenant.version}),
            "assets": [
                {
                    "asset": a,
                    "label": ASSET_LABELS[a],
                    "url": resolved[f"{a}_url"],
                    "own": resolved[f"has_{a}"],
                    "form": asset_forms.get(a) or AssetForm(prefix=a),
                }
                for a in ASSETS
            ],
            "domains": domain_list(tenant_id=tenant.tenant_id),
            "domain_form": domain_form or DomainForm(),
            "identity_providers": sso.provider_list(tenant_id=tenant.tenant_id),
            "sso_callback": sso.callback_url(tenant=tenant),
            "provider_form": provider_form or IdentityProviderForm(),
            "plan": plan_for(tenant.tier),
            "seats": user_seats(tenant_id=tenant.tenant_id),
        },
        status=status,
    )


@portal_page(admin=True)
@require_GET
def settings_page(request):
    return _settings_page(request)


@portal_page(admin=True)
@require_POST
def branding_update(request):
    """Save the branding fields that changed ("" clears one: CloudKida's default applies again)."""
    form = BrandingForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, branding_form=form, status=400)
    resolved = branding_for(tenant_get(tenant_id=request.tenant.tenant_id))
    changed = {f: form.cleaned_data[f] for f in TEXT_FIELDS if form.cleaned_data[f] != resolved[f]}
    if not changed:
        messages.info(request, "Nothing changed.")
        return redirect("portal-settings")
    try:
        tenant_branding_update(
            tenant_id=request.tenant.tenant_id,
            actor=actor(request),
            expected_version=form.cleaned_data["version"],
            **changed,
        )
    except ApplicationError as error:
        form_error(form, error)
        return _settings_page(request, branding_form=form, status=error.status)
    messages.success(request, "Your branding is saved: every page, the sign-in page and your emails use it now.")
    return redirect("portal-settings")


@portal_page(admin=True)
@require_POST
def asset_upload(request, asset: str):
    if asset not in ASSETS:
        return render(request, "errors/error.html", {"status": 404, "message": "Not found."}, status=404)
    form = AssetForm(request.POST, request.FILES, prefix=asset)
    if not form.is_valid():
        return _settings_page(request, asset_forms={asset: form}, status=400)
    try:
        tenant_branding_asset_upload(
            tenant_id=request.tenant.tenant_id, asset=asset, data=form.cleaned_data["file"].read(), actor=actor(request)
        )
    except ApplicationError as error:
        form.add_error("file", error.message)
        return _settings_page(request, asset_forms={asset: form}, status=error.status)
    messages.success(request, f"Your new {asset} is showing.")
    return redirect("portal-settings")


@portal_page(admin=True)
@require_POST
def asset_remove(request, asset: str):
    try:
        tenant_branding_asset_remove(tenant_id=request.tenant.tenant_id, asset=asset, actor=actor(request))
    except ApplicationError as error:
        return error_page(request, error)
    messages.success(request, f"The {asset} is removed; CloudKida's default shows again.")
    return redirect("portal-settings")


@portal_page(admin=True)
@require_POST
def domain_create(request):
    form = DomainForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, domain_form=form, status=400)
    try:
        claim = domain_add(tenant_id=request.tenant.tenant_id, domain=form.cleaned_data["domain"], actor=actor(request))
    except ApplicationError as error:
        form_error(form, error)
        return _settings_page(request, domain_form=form, status=error.status)
    messages.success(request, f"{claim.hostname} is added: publish its TXT record, then verify it.")
    return redirect("portal-settings")


@portal_page(admin=True)
@require_POST
def domain_action(request, domain: str, action: str):
    tenant_id = request.tenant.tenant_id
    try:
        if action == "verify":
            claim = domain_verify(tenant_id=tenant_id, domain=domain, actor=actor(request))
            messages.success(request, f"{claim.hostname} is verified: your portal answers on it.")
        elif action == "remove":
            domain_remove(tenant_id=tenant_id, domain=domain, actor=actor(request))
            messages.success(request, f"{domain} is removed.")
        else:
            return render(request, "errors/error.html", {"status": 404, "message": "Not found."}, status=404)
    except ApplicationError as error:
        if error.status == 404:
            return error_page(request, error)
        messages.error(request, error.message)
    return redirect("portal-settings")


@portal_page(admin=True)
@require_POST
def identity_provider_create(request):
    """Connect the organisation's OIDC identity provider (registered with Cognito at once)."""
    form = IdentityProviderForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, provider_form=form, status=400)
    try:
        provider = sso.provider_create(
            tenant_id=request.tenant.tenant_id,
            display_name=form.cleaned_data["display_name"],
            issuer=form.cleaned_data["issuer"],
            client_id=form.cleaned_data["client_id"],
            client_secret=form.cleaned_data["client_secret"],
            email_domains=form.domains(),
            default_role=form.cleaned_data["default_role"],
            created_by=actor(request),
        )
    except ApplicationError as error:
        form_error(form, error)
        return _settings_page(request, provider_form=form, status=error.status)
    messages.success(request, f'Your sign-in page now offers "Continue with {provider.display_name}".')
    return redirect("portal-settings")


@portal_page(admin=True)
@require_POST
def identity_provider_remove(request, provider_name: str):
    try:
        sso.provider_delete(tenant_id=request.tenant.tenant_id, provider_name=provider_name, actor=actor(request))
    except ApplicationError as error:
        return error_page(request, error)
    messages.success(request, "The identity provider is disconnected.")
    return redirect("portal-settings")


@portal_page(admin=True)
@require_http_methods(["GET"])
def audit_log(request):
    """The organisation's audit trail, newest first, filterable by action, actor and days."""
    form = AuditFilterForm(request.GET or None, actions=described_actions())
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {k: v for k, v in filters.items() if v}
    try:
        page = tenant_events(
            tenant_id=request.tenant.tenant_id, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None, **filters
        )
    except ApplicationError as error:
        return error_page(request, error)
    events = [{"event": e, "summary": event_summary(e), "details": event_details(e)} for e in page.items]
    return render(
        request,
        "portal/audit.html",
        {
            "form": form,
            "events": events,
            "filtered": bool(filters),
            "next_url": query_string(request, cursor=page.cursor) if page.cursor else "",
            "first_url": query_string(request, cursor="") if request.GET.get("cursor") else "",
            "export_url": "/api/v1/audit-events/export" + (query_string(request, cursor="") if filters else ""),
        },
    )
