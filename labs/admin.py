"""System-admin pages for labs inside the Django admin, over services and selectors (no ORM copies):
the pool dashboard (accounts by state per shard, leases per hour, cleanup failures, a chart), lab accounts
by state with retry / quarantine / eject, and CloudKida's global labs (create, edit, publish, retire)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from cloudkida.errors import ApplicationError
from labs import selectors
from labs.domain import AccountState, LabStatus, Level
from labs.services import (
    account_eject,
    account_quarantine,
    account_retry_cleanup,
    lab_create,
    lab_publish,
    lab_retire,
    lab_update,
    pool_targets_set,
)


def labs_admin_urls(site):
    def view(fn):
        return site.admin_view(lambda request, **kw: fn(site, request, **kw))

    return [
        path("labs/pool/", view(pool_view), name="labs_pool"),
        path("labs/accounts/", view(accounts_view), name="labs_accounts"),
        path("labs/accounts/<str:account_id>/<str:action>/", view(account_action_view), name="labs_account_action"),
        path("labs/global/", view(global_labs_view), name="labs_global_labs"),
        path("labs/global/new/", view(global_lab_edit_view), name="labs_global_lab_new"),
        path("labs/global/<str:lab_id>/", view(global_lab_edit_view), name="labs_global_lab"),
        path("labs/global/<str:lab_id>/<str:action>/", view(global_lab_action_view), name="labs_global_lab_action"),
    ]


def _context(site, request, **extra):
    return {**site.each_context(request), **extra}


def _chart(hours: list[dict]) -> list[dict]:
    """Bars for an inline SVG chart of leases per hour (no JavaScript, readable as a table too)."""
    peak = max([h["leases"] for h in hours] + [1])
    return [
        {**h, "x": i * 20, "height": round(100 * h["leases"] / peak), "y": 100 - round(100 * h["leases"] / peak)}
        for i, h in enumerate(hours)
    ]


def pool_view(site, request):
    if request.method == "POST":
        try:
            pool_targets_set(
                region=request.POST.get("region", ""),
                min_available=int(request.POST.get("min_available", "-1")),
                max_size=int(request.POST.get("max_size", "-1")),
                actor=f"staff:{request.user.get_username()}",
            )
            messages.success(request, "Pool target saved.")
        except (ApplicationError, ValueError) as error:
            messages.error(request, getattr(error, "message", "Targets are whole numbers."))
        return redirect(reverse("admin:labs_pool", current_app=site.name))
    stats = selectors.pool_statistics()
    rows = []
    for region, data in (stats["snapshot"].get("counts") or {}).items():
        for shard, states in data.get("by_shard", {}).items():
            rows.append({"region": region, "shard": shard, "states": states})
    return TemplateResponse(
        request,
        "admin/labs/pool.html",
        _context(
            site,
            request,
            title="Lab account pool",
            stats=stats,
            rows=rows,
            states=[s.value for s in AccountState if s is not AccountState.CREATING],
            bars=_chart(stats["hours"]),
            failures=sum(h["cleanup_failures"] for h in stats["hours"]),
            leases=sum(h["leases"] for h in stats["hours"]),
            shards=selectors.pool_shards(),
        ),
    )


def accounts_view(site, request):
    shards = selectors.pool_shards()
    state = request.GET.get("state") or AccountState.QUARANTINED.value
    shard_id = request.GET.get("shard") or (shards[0].shard_id if shards else "")
    targets = selectors.pool_targets()
    region = request.GET.get("region") or (sorted(targets)[0] if targets else "us-east-1")
    accounts, cursor = [], None
    try:
        if shard_id:
            page = selectors.pool_accounts(
                state=AccountState(state), shard_id=shard_id, region=region, cursor=request.GET.get("cursor") or None
            )
            accounts, cursor = page.items, page.cursor
    except (ApplicationError, ValueError) as error:
        messages.error(request, getattr(error, "message", "That filter is not valid."))
    return TemplateResponse(
        request,
        "admin/labs/accounts.html",
        _context(
            site,
            request,
            title="Lab accounts",
            accounts=accounts,
            next_cursor=cursor,
            state=state,
            shard_id=shard_id,
            region=region,
            states=[s.value for s in AccountState if s is not AccountState.CREATING],
            shards=shards,
            regions=sorted(targets),
        ),
    )


def account_action_view(site, request, account_id: str, action: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor = f"staff:{request.user.get_username()}"
    try:
        if action == "retry":
            account = account_retry_cleanup(account_id=account_id, actor=actor)
        elif action == "quarantine":
            account = account_quarantine(
                account_id=account_id, reason=request.POST.get("reason") or "by a system admin", actor=actor
            )
        elif action == "eject":
            account = account_eject(account_id=account_id, actor=actor)
        else:
            raise Http404("No such action.")
        messages.success(request, f"{account_id}: {account.state.value}.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(request.POST.get("next") or reverse("admin:labs_accounts", current_app=site.name))


def global_labs_view(site, request):
    return TemplateResponse(
        request,
        "admin/labs/global_labs.html",
        _context(site, request, title="Global labs", labs=selectors.lab_global_list()),
    )


_FORM_FIELDS = ("title", "slug", "summary", "instructions", "level")


def _form_values(post) -> dict:
    values = {f: post.get(f, "") for f in _FORM_FIELDS}
    numbers = {"duration_minutes": int, "max_duration_minutes": int, "budget_usd": float, "hot_pool_size": int}
    for name, kind in numbers.items():
        try:
            values[name] = kind(post.get(name, "0") or 0)
        except ValueError as error:
            raise ApplicationError(f"{name} must be a number.", code="invalid_lab") from error
    values["allowed_regions"] = [r.strip() for r in post.get("allowed_regions", "").split(",") if r.strip()]
    values["allowed_services"] = [s.strip() for s in post.get("allowed_services", "").split(",") if s.strip()]
    values["public"] = post.get("public") == "on"
    try:
        values["tasks"] = json.loads(post.get("tasks") or "[]")
    except ValueError as error:
        raise ApplicationError("Tasks must be a JSON list.", code="invalid_lab") from error
    return values


def global_lab_edit_view(site, request, lab_id: str = ""):
    lab = None
    if lab_id:
        try:
            lab = selectors.lab_global_get(lab_id=lab_id)
        except ApplicationError as error:
            raise Http404(error.message) from error
    if request.method == "POST":
        actor = f"staff:{request.user.get_username()}"
        template = request.POST.get("template") or None
        try:
            values = _form_values(request.POST)
            if lab is None:
                lab = lab_create(owner="", actor=actor, template=template, **values)
            else:
                lab = lab_update(
                    owner="",
                    lab_id=lab.lab_id,
                    expected_version=int(request.POST.get("version", "0")),
                    actor=actor,
                    template=template,
                    **values,
                )
            messages.success(request, f"Saved {lab.title} (revision {lab.revision}, {lab.status.value}).")
            return redirect(reverse("admin:labs_global_lab", args=[lab.lab_id], current_app=site.name))
        except ApplicationError as error:
            messages.error(request, f"{error.message} {json.dumps(error.details) if error.details else ''}")
    return TemplateResponse(
        request,
        "admin/labs/global_lab.html",
        _context(
            site,
            request,
            title=lab.title if lab else "New global lab",
            lab=lab,
            tasks_json=json.dumps([vars(t) for t in lab.tasks], indent=2) if lab else "[]",
            levels=[lv.value for lv in Level],
            published=lab is not None and lab.status is LabStatus.PUBLISHED,
        ),
    )


def global_lab_action_view(site, request, lab_id: str, action: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor = f"staff:{request.user.get_username()}"
    try:
        if action == "publish":
            lab = lab_publish(owner="", lab_id=lab_id, actor=actor)
        elif action == "retire":
            lab = lab_retire(owner="", lab_id=lab_id, actor=actor)
        else:
            raise Http404("No such action.")
        messages.success(request, f"{lab.title}: {lab.status.value} (revision {lab.revision}).")
    except ApplicationError as error:
        messages.error(request, f"{error.message} {json.dumps(error.details) if error.details else ''}")
    return redirect(reverse("admin:labs_global_lab", args=[lab_id], current_app=site.name))
