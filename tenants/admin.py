"""Tenant management pages inside the Django admin site, over the repository layer (no ORM copy)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from cloudkida import email
from cloudkida.errors import ApplicationError, NotFound
from tenants import ports
from tenants.domain import TenantStatus, Tier
from tenants.selectors import tenant_counts, tenant_events, tenant_get, tenant_list, tenant_search, tenant_steps
from tenants.services import tenant_activate, tenant_change_tier, tenant_deactivate, tenant_offboard, tenant_retry
from tenants.services.onboarding import ONBOARDING


def tenant_admin_urls(site):
    def view(fn, **kwargs):
        return site.admin_view(lambda request, **kw: fn(site, request, **kw), **kwargs)

    return [
        path("tenants/tenant/", view(tenant_list_view), name="tenants_tenant_list"),
        path("tenants/tenant/<str:tenant_id>/", view(tenant_detail_view), name="tenants_tenant_detail"),
        path(
            "tenants/tenant/<str:tenant_id>/<str:action>/",
            view(tenant_action_view),
            name="tenants_tenant_action",
        ),
    ]


def _context(site, request, **extra):
    return {**site.each_context(request), **extra}


def tenant_list_view(site, request):
    status = request.GET.get("status") or None
    tier = request.GET.get("tier") or None
    query = request.GET.get("q", "").strip()
    try:
        if query:
            page_items, cursor = tenant_search(query=query), None
        else:
            page = tenant_list(
                status=TenantStatus(status) if status else None,
                tier=Tier(tier) if tier else None,
                limit=50,
                cursor=request.GET.get("cursor") or None,
            )
            page_items, cursor = page.items, page.cursor
    except (ApplicationError, ValueError) as error:
        messages.error(request, getattr(error, "message", "That filter is not valid."))
        page_items, cursor = [], None
    return TemplateResponse(
        request,
        "admin/tenants/list.html",
        _context(
            site,
            request,
            title="Tenants",
            tenants=page_items,
            next_cursor=cursor,
            query=query,
            status=status or "",
            tier=tier or "",
            statuses=[s.value for s in TenantStatus],
            tiers=[t.value for t in Tier],
            counts=tenant_counts(),
        ),
    )


def _ordered_steps(tenant_id: str) -> list:
    """The onboarding step records in the order the workflow runs them."""
    order = {step.name: n for n, step in enumerate(ONBOARDING.steps)}
    return sorted(tenant_steps(tenant_id=tenant_id), key=lambda s: order.get(s.name, len(order)))


def _readable(details: dict) -> list[tuple[str, str]]:
    """An audit event's details as label/value pairs a person can read."""
    pairs = []
    for key, value in sorted((details or {}).items()):
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        pairs.append((key.replace("_", " "), str(value)))
    return pairs


def tenant_detail_view(site, request, tenant_id: str):
    try:
        tenant = tenant_get(tenant_id=tenant_id)
    except NotFound as error:
        raise Http404(error.message) from error
    events = [
        {"event": e, "details": _readable(e.details)} for e in tenant_events(tenant_id=tenant_id, limit=100).items
    ]
    return TemplateResponse(
        request,
        "admin/tenants/detail.html",
        _context(
            site,
            request,
            title=f"Tenant {tenant.name}",
            tenant=tenant,
            steps=_ordered_steps(tenant_id),
            events=events,
            panels=ports.admin_panels(tenant),
            emails=email.outbox_for(tenant_id=tenant_id),
            tiers=[t.value for t in Tier],
        ),
    )


CONFIRM = {
    "deactivate": (
        "Deactivate",
        "Every person of this organisation is signed out and refused, its API keys stop working and its "
        "portal shows a suspension notice. Its data stays; you can activate it again.",
        False,
    ),
    "offboard": (
        "Offboard permanently",
        "Exports all of the organisation's data to the assets bucket, then deletes everything of it: its "
        "people and their sign-ins, keys, domains, records and settings. This cannot be undone.",
        True,
    ),
}


def tenant_action_view(site, request, tenant_id: str, action: str):
    detail = reverse("admin:tenants_tenant_detail", args=[tenant_id], current_app=site.name)
    if request.method == "GET" and action in CONFIRM:
        try:
            tenant = tenant_get(tenant_id=tenant_id)
        except NotFound as error:
            raise Http404(error.message) from error
        label, consequence, dangerous = CONFIRM[action]
        return TemplateResponse(
            request,
            "admin/tenants/confirm.html",
            _context(
                site,
                request,
                title=f"{label}: {tenant.name}?",
                tenant=tenant,
                action=action,
                label=label,
                consequence=consequence,
                dangerous=dangerous,
            ),
        )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor = f"staff:{request.user.get_username()}"
    try:
        if action == "activate":
            tenant_activate(tenant_id=tenant_id, actor=actor)
        elif action == "deactivate":
            tenant_deactivate(tenant_id=tenant_id, actor=actor)
        elif action == "retry":
            tenant_retry(tenant_id=tenant_id, actor=actor)
        elif action == "tier":
            tenant_change_tier(tenant_id=tenant_id, tier=request.POST.get("tier", ""), actor=actor)
        elif action == "offboard":
            key = tenant_offboard(tenant_id=tenant_id, confirm_slug=request.POST.get("confirm", ""), actor=actor)
            messages.success(request, f"The tenant was offboarded. Its data export is at {key}.")
            return redirect(reverse("admin:tenants_tenant_list", current_app=site.name))
        else:
            raise Http404("No such action.")
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(detail)
    messages.success(request, f"{action.title()}: done.")
    return redirect(detail)
