"""The tenant portal's management pages (server-rendered, htmx where it helps): people, bulk imports,
groups, policies and API keys, built on the same services and selectors as the API.

Views stay thin: they read forms, call a service or selector and render; an ``ApplicationError`` becomes
a message next to the form (or a toast after a redirect), or a friendly error page for an id that is not
the tenant's (404) — never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts import api_keys, imports, selectors, services
from accounts.domain import ImportStatus, RowOutcome, UserStatus
from accounts.forms import (
    ApiKeyForm,
    GroupForm,
    GroupRenameForm,
    ImportForm,
    InviteForm,
    MemberForm,
    PolicyForm,
    RoleForm,
    StatusForm,
    UserFilterForm,
    VersionedForm,
)
from accounts.views import error_page, portal_page
from cloudkida.errors import ApplicationError
from cloudkida.validation import AWS_REGIONS

PAGE_SIZE = 25


def actor(request) -> str:
    principal = request.principal
    return f"{principal.role.value}:{principal.email or principal.subject}"


def form_error(form, error: ApplicationError) -> None:
    """Show a service's error next to the field it names (else above the form)."""
    field = (error.details or {}).get("field")
    form.add_error(field if field in form.fields else None, error.message)


def query_string(request, **changes) -> str:
    params = {k: v for k, v in {**request.GET.dict(), **changes}.items() if v not in ("", None)}
    return f"?{urlencode(params)}" if params else "?"


# --- people ------------------------------------------------------------------------------------------


@portal_page(admin=True)
@require_GET
def people(request):
    """The tenant's people: search, filters, seats against the plan, one page at a time."""
    tenant_id = request.tenant.tenant_id
    filters = UserFilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    try:
        page = selectors.user_list(
            tenant_id=tenant_id,
            limit=PAGE_SIZE,
            cursor=request.GET.get("cursor") or None,
            q=cleaned.get("q"),
            role=cleaned.get("role") or None,
            status=cleaned.get("status") or None,
        )
    except ApplicationError as error:
        return error_page(request, error)
    seats = selectors.user_seats(tenant_id=tenant_id)
    filtered = any(cleaned.get(k) for k in ("q", "role", "status"))
    return render(
        request,
        "portal/people/list.html",
        {
            "filters": filters,
            "users": page.items,
            "next_url": query_string(request, cursor=page.cursor) if page.cursor else "",
            "first_url": query_string(request, cursor="") if request.GET.get("cursor") else "",
            "seats": seats,
            "filtered": filtered,
            "export_url": "/api/v1/users/export" + (query_string(request, cursor="") if filtered else ""),
        },
    )


@portal_page(admin=True)
@require_http_methods(["GET", "POST"])
def person_invite(request):
    form = InviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.user_invite(
                    tenant_id=request.tenant.tenant_id, actor=actor(request), **form.cleaned_data
                )
            except ApplicationError as error:
                form_error(form, error)
                status = error.status
            else:
                messages.success(request, f"{user.email} is invited: an email with a temporary password is on its way.")
                return redirect("portal-person", user_id=user.user_id)
        else:
            status = 400
    seats = selectors.user_seats(tenant_id=request.tenant.tenant_id)
    return render(request, "portal/people/invite.html", {"form": form, "seats": seats}, status=status)


@portal_page(admin=True)
@require_GET
def person(request, user_id: str):
    tenant_id = request.tenant.tenant_id
    try:
        user = selectors.user_get(tenant_id=tenant_id, user_id=user_id)
    except ApplicationError as error:
        return error_page(request, error)
    groups = selectors.user_groups(tenant_id=tenant_id, user_id=user_id)
    active_admins = selectors.user_counts(tenant_id=tenant_id)[1]
    last_admin = user.role.value == "TenantAdmin" and user.status is UserStatus.ACTIVE and active_admins <= 1
    member_of = {g.group_id for g in groups}
    others = [g for g in selectors.group_list(tenant_id=tenant_id, limit=100).items if g.group_id not in member_of]
    return render(
        request,
        "portal/people/detail.html",
        {
            "person": user,
            "is_self": user.user_id == request.principal.subject,
            "last_admin": last_admin,
            "role_form": RoleForm(initial={"role": user.role.value, "version": user.version}),
            "groups": groups,
            "other_groups": others,
        },
    )


def _back_to_person(user_id: str):
    return redirect("portal-person", user_id=user_id)


def _person_change(request, user_id: str, form, done: str, **fixed):
    """Apply a role or status change from a form carrying the version the admin saw."""
    if not form.is_valid():
        messages.error(request, "That change could not be read; reload the page and try again.")
        return _back_to_person(user_id)
    changes = {k: v for k, v in form.cleaned_data.items() if k != "version"}
    try:
        user = services.user_update(
            tenant_id=request.tenant.tenant_id,
            user_id=user_id,
            expected_version=form.cleaned_data["version"],
            actor=actor(request),
            **changes,
            **fixed,
        )
    except ApplicationError as error:
        if error.status == 404:
            return error_page(request, error)
        messages.error(request, error.message)
    else:
        messages.success(request, done.format(email=user.email))
    return _back_to_person(user_id)


@portal_page(admin=True)
@require_POST
def person_role(request, user_id: str):
    return _person_change(request, user_id, RoleForm(request.POST), "{email}'s role is changed.")


@portal_page(admin=True)
@require_POST
def person_status(request, user_id: str):
    form = StatusForm(request.POST)
    enabling = request.POST.get("status") == UserStatus.ACTIVE.value
    done = "{email} can sign in again." if enabling else "{email} is disabled and signed out everywhere."
    return _person_change(request, user_id, form, done)


@portal_page(admin=True)
@require_POST
def person_resend(request, user_id: str):
    try:
        user = services.user_resend_invitation(
            tenant_id=request.tenant.tenant_id, user_id=user_id, actor=actor(request)
        )
    except ApplicationError as error:
        if error.status == 404:
            return error_page(request, error)
        messages.error(request, error.message)
    else:
        messages.success(request, f"A new invitation is on its way to {user.email}; the old password no longer works.")
    return _back_to_person(user_id)


@portal_page(admin=True)
@require_POST
def person_delete(request, user_id: str):
    form = VersionedForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        user = selectors.user_get(tenant_id=request.tenant.tenant_id, user_id=user_id)
        services.user_delete(
            tenant_id=request.tenant.tenant_id, user_id=user_id, actor=actor(request), expected_version=version
        )
    except ApplicationError as error:
        if error.status == 404:
            return error_page(request, error)
        messages.error(request, error.message)
        return _back_to_person(user_id)
    messages.success(request, f"{user.email} is deleted.")
    return redirect("portal-people")


@portal_page(admin=True)
@require_POST
def person_groups(request, user_id: str):
    """Put the person in a group, or take them out of one."""
    group_id = request.POST.get("group_id", "")
    remove = request.POST.get("action") == "remove"
    change = services.group_remove_member if remove else services.group_add_member
    try:
        change(tenant_id=request.tenant.tenant_id, group_id=group_id, user_id=user_id, actor=actor(request))
    except ApplicationError as error:
        if error.status == 404:  # not a person or group of this tenant
            return error_page(request, error)
        messages.error(request, error.message)
    else:
        messages.success(request, "Removed from the group." if remove else "Added to the group.")
    return _back_to_person(user_id)


# --- bulk import -------------------------------------------------------------------------------------


@portal_page(admin=True)
@require_http_methods(["GET", "POST"])
def import_start(request):
    """Upload a CSV of people; the import runs as a job and its page shows progress, then the report."""
    tenant_id = request.tenant.tenant_id
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.user_import_start(
                    tenant_id=tenant_id, data=upload.read(), filename=upload.name, actor=actor(request)
                )
            except ApplicationError as error:
                form_error(form, error)
                status = error.status
            else:
                return redirect("portal-import", import_id=job.import_id)
        else:
            status = 400
    recent = imports.user_import_list(tenant_id=tenant_id, limit=10).items
    return render(request, "portal/people/import.html", {"form": form, "imports": recent}, status=status)


def _import_context(job) -> dict:
    percent = int(100 * job.processed_rows / job.total_rows) if job.total_rows else 100
    return {"job": job, "percent": percent, "running": not job.finished}


@portal_page(admin=True)
@require_GET
def import_detail(request, import_id: str):
    tenant_id = request.tenant.tenant_id
    outcome = request.GET.get("outcome", "")
    outcome = outcome if outcome in {o.value for o in RowOutcome} else ""
    try:
        job = imports.user_import_get(tenant_id=tenant_id, import_id=import_id)
        rows, cursor = imports.user_import_report(
            tenant_id=tenant_id, import_id=import_id, outcome=outcome or None, cursor=request.GET.get("cursor") or None
        )
    except ApplicationError as error:
        return error_page(request, error)
    if not outcome and len(rows) < imports.CHUNK_ROWS:
        cursor = None  # only the last chunk of a file is short: nothing follows it
    return render(
        request,
        "portal/people/import_detail.html",
        {
            **_import_context(job),
            "rows": rows,
            "outcome": outcome,
            "outcomes": [("", "All rows"), *((o.value, o.value.replace("_", " ").capitalize()) for o in RowOutcome)],
            "next_url": query_string(request, cursor=cursor) if cursor else "",
            "first_url": query_string(request, cursor="") if request.GET.get("cursor") else "",
            "resumable": job.status is ImportStatus.FAILED,
        },
    )


@portal_page(admin=True)
@require_GET
def import_progress(request, import_id: str):
    """The progress block alone, polled by htmx while the import runs; once it ends the page reloads
    (to show the report)."""
    try:
        job = imports.user_import_get(tenant_id=request.tenant.tenant_id, import_id=import_id)
    except ApplicationError as error:
        return error_page(request, error)
    if job.finished and request.htmx:
        return HttpResponseClientRefresh()
    return render(request, "portal/people/_import_progress.html", _import_context(job))


@portal_page(admin=True)
@require_POST
def import_resume(request, import_id: str):
    try:
        imports.user_import_resume(tenant_id=request.tenant.tenant_id, import_id=import_id, actor=actor(request))
    except ApplicationError as error:
        if error.status == 404:
            return error_page(request, error)
        messages.error(request, error.message)
    return redirect("portal-import", import_id=import_id)


# --- groups ------------------------------------------------------------------------------------------


@portal_page(admin=True)
@require_http_methods(["GET", "POST"])
def groups(request):
    tenant_id = request.tenant.tenant_id
    form = GroupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                group = services.group_create(tenant_id=tenant_id, actor=actor(request), **form.cleaned_data)
            except ApplicationError as error:
                form_error(form, error)
                status = error.status
            else:
                messages.success(request, f"The group “{group.name}” is created.")
                return redirect("portal-group", group_id=group.group_id)
        else:
            status = 400
    try:
        page = selectors.group_list(tenant_id=tenant_id, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None)
    except ApplicationError as error:
        return error_page(request, error)
    return render(
        request,
        "portal/groups/list.html",
        {
            "form": form,
            "groups": page.items,
            "next_url": query_string(request, cursor=page.cursor) if page.cursor else "",
        },
        status=status,
    )


def _policy_initial(policy) -> dict:
    return {
        "version": policy.version,
        "allowed_lab_ids": "\n".join(policy.allowed_lab_ids or []),
        "max_concurrent_labs": policy.max_concurrent_labs,
        "monthly_lab_minutes": policy.monthly_lab_minutes,
        "allowed_regions": policy.allowed_regions or [],
    }


def _policy_form(data=None, *, policy=None) -> PolicyForm:
    return PolicyForm(data, initial=_policy_initial(policy) if policy else None, regions=sorted(AWS_REGIONS))


@portal_page(admin=True)
@require_GET
def group(request, group_id: str):
    return _group_page(request, group_id)


def _group_page(request, group_id: str, *, policy_form=None, rename_form=None, member_form=None, status=200):
    tenant_id = request.tenant.tenant_id
    try:
        found = selectors.group_get(tenant_id=tenant_id, group_id=group_id)
        members = selectors.group_members(
            tenant_id=tenant_id, group_id=group_id, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None
        )
        policy = selectors.policy_get(tenant_id=tenant_id, group_id=group_id)
    except ApplicationError as error:
        return error_page(request, error)
    return render(
        request,
        "portal/groups/detail.html",
        {
            "group": found,
            "members": members.items,
            "next_url": query_string(request, cursor=members.cursor) if members.cursor else "",
            "rename_form": rename_form
            or GroupRenameForm(
                initial={"name": found.name, "description": found.description, "version": found.version}
            ),
            "member_form": member_form or MemberForm(),
            "policy_form": policy_form or _policy_form(policy=policy),
        },
        status=status,
    )


def _group_form_failed(request, group_id: str, error: ApplicationError | None = None, **forms):
    """Render the group's page again with the refused form and its messages (or a 404 page)."""
    if error is not None and error.status == 404 and error.code == "group_not_found":
        return error_page(request, error)
    return _group_page(request, group_id, status=error.status if error else 400, **forms)


@portal_page(admin=True)
@require_POST
def group_rename(request, group_id: str):
    form = GroupRenameForm(request.POST)
    if not form.is_valid():
        return _group_form_failed(request, group_id, rename_form=form)
    try:
        services.group_update(
            tenant_id=request.tenant.tenant_id,
            group_id=group_id,
            expected_version=form.cleaned_data["version"],
            actor=actor(request),
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        )
    except ApplicationError as error:
        form_error(form, error)
        return _group_form_failed(request, group_id, error, rename_form=form)
    messages.success(request, "The group is saved.")
    return redirect("portal-group", group_id=group_id)


@portal_page(admin=True)
@require_POST
def group_delete(request, group_id: str):
    form = VersionedForm(request.POST)
    try:
        found = selectors.group_get(tenant_id=request.tenant.tenant_id, group_id=group_id)
        services.group_delete(
            tenant_id=request.tenant.tenant_id,
            group_id=group_id,
            expected_version=form.cleaned_data["version"] if form.is_valid() else found.version,
            actor=actor(request),
        )
    except ApplicationError as error:
        if error.status == 404:
            return error_page(request, error)
        messages.error(request, error.message)
        return redirect("portal-group", group_id=group_id)
    messages.success(request, f"The group “{found.name}” is deleted.")
    return redirect("portal-groups")


@portal_page(admin=True)
@require_POST
def group_members(request, group_id: str):
    """Add a person (by email) to the group, or (``remove``: a user id) take one out."""
    tenant_id = request.tenant.tenant_id
    try:
        if request.POST.get("remove"):
            removed = services.group_remove_member(
                tenant_id=tenant_id, group_id=group_id, user_id=request.POST["remove"], actor=actor(request)
            )
            messages.success(request, "Removed from the group." if removed else "They were not in the group.")
            return redirect("portal-group", group_id=group_id)
        form = MemberForm(request.POST)
        if not form.is_valid():
            return _group_form_failed(request, group_id, member_form=form)
        user = selectors.user_get_by_email(tenant_id=tenant_id, email=form.cleaned_data["email"])
        if user is None:
            form.add_error("email", "Nobody in your organisation has this email; invite them first.")
            return _group_form_failed(request, group_id, member_form=form)
        added = services.group_add_member(
            tenant_id=tenant_id, group_id=group_id, user_id=user.user_id, actor=actor(request)
        )
    except ApplicationError as error:
        if error.status == 404:
            return error_page(request, error)
        messages.error(request, error.message)
        return redirect("portal-group", group_id=group_id)
    messages.success(request, f"{user.email} {'is added' if added else 'was in the group already'}.")
    return redirect("portal-group", group_id=group_id)


def _save_policy(request, group_id: str, form: PolicyForm):
    services.policy_set(
        tenant_id=request.tenant.tenant_id,
        group_id=group_id,
        expected_version=form.cleaned_data["version"],
        actor=actor(request),
        **form.policy_fields(),
    )


@portal_page(admin=True)
@require_POST
def group_policy(request, group_id: str):
    form = _policy_form(request.POST)
    if not form.is_valid():
        return _group_form_failed(request, group_id, policy_form=form)
    try:
        _save_policy(request, group_id, form)
    except ApplicationError as error:
        form_error(form, error)
        return _group_form_failed(request, group_id, error, policy_form=form)
    messages.success(request, "The group's policy is saved.")
    return redirect("portal-group", group_id=group_id)


# --- the tenant's policy -----------------------------------------------------------------------------


@portal_page(admin=True)
@require_http_methods(["GET", "POST"])
def tenant_policy(request):
    tenant_id = request.tenant.tenant_id
    status = 200
    if request.method == "POST":
        form = _policy_form(request.POST)
        if form.is_valid():
            try:
                _save_policy(request, "", form)
            except ApplicationError as error:
                form_error(form, error)
                status = error.status
            else:
                messages.success(request, "Your organisation's policy is saved.")
                return redirect("portal-policies")
        else:
            status = 400
    else:
        form = _policy_form(policy=selectors.policy_get(tenant_id=tenant_id))
    return render(request, "portal/policies.html", {"form": form}, status=status)


# --- API keys ----------------------------------------------------------------------------------------


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
