"""Portal pages of labs, on a tenant's host, for its signed-in people: my labs, a lab's page (instructions
beside the session's status, time left, console link, "Check my work"), and the tenant admin's live view of
active labs. Server-rendered, no JavaScript needed: a starting lab's page refreshes itself."""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accounts.portal import session_principal, session_user
from cloudkida import clock
from cloudkida.errors import ApplicationError
from cloudkida.identity.principal import Role
from labs import selectors
from labs.domain import EndReason
from labs.markdown import render as markdown
from labs.services import (
    lab_session_access,
    lab_session_check,
    lab_session_end,
    lab_session_extend,
    lab_session_start,
)


def _signed_in(request):
    if request.tenant is None:
        raise Http404
    principal = session_principal(request)
    if principal is None:
        return None, HttpResponseRedirect(f"/login/?{urlencode({'next': request.get_full_path()})}")
    return principal, None


def _context(request, **extra):
    return {"tenant": request.tenant, "portal_user": session_user(request), **extra}


def _actor(principal) -> str:
    return f"{principal.role.value}:{principal.get_username()}"


def _current_session(principal, lab_id: str):
    page = selectors.lab_sessions_of_user(tenant_id=principal.tenant_id, user_id=principal.subject, limit=20)
    return next((s for s in page.items if s.lab_id == lab_id and s.state.is_active), None) or next(
        (s for s in page.items if s.lab_id == lab_id), None
    )


@require_GET
def my_labs(request):
    principal, redirect_to = _signed_in(request)
    if redirect_to:
        return redirect_to
    entries = selectors.lab_catalog(tenant_id=principal.tenant_id, user_id=principal.subject, role=Role.TENANT_USER)
    sessions = selectors.lab_sessions_of_user(tenant_id=principal.tenant_id, user_id=principal.subject, limit=10).items
    return render(request, "portal/labs/mine.html", _context(request, entries=entries, sessions=sessions))


@require_GET
def lab_page(request, lab_id: str):
    principal, redirect_to = _signed_in(request)
    if redirect_to:
        return redirect_to
    try:
        entry = selectors.lab_get_visible(
            tenant_id=principal.tenant_id, user_id=principal.subject, role=Role.TENANT_USER, lab_id=lab_id
        )
    except ApplicationError as error:
        raise Http404(error.message) from error
    session = _current_session(principal, lab_id)
    progress = selectors.lab_progress(tenant_id=principal.tenant_id, lab_id=lab_id, user_id=principal.subject)
    tasks = [
        {
            "task": t,
            "html": markdown(t.instructions),
            "passed": t.task_id in progress.passed,
            "result": progress.last_results.get(t.task_id),
        }
        for t in entry.lab.tasks
    ]
    time_left = int(session.time_left(clock.now()).total_seconds()) if session else 0
    return render(
        request,
        "portal/labs/lab.html",
        _context(
            request,
            lab=entry.lab,
            entry=entry,
            instructions=markdown(entry.lab.instructions),
            session=session,
            tasks=tasks,
            time_left_minutes=time_left // 60,
            starting=bool(session and session.state.is_starting),
            completed=progress.completed_at is not None,
            message=request.GET.get("message", ""),
        ),
    )


def _back(lab_id: str, message: str = ""):
    return redirect(f"/labs/{lab_id}/" + (f"?{urlencode({'message': message})}" if message else ""))


@require_POST
def lab_start(request, lab_id: str):
    principal, redirect_to = _signed_in(request)
    if redirect_to:
        return redirect_to
    try:
        lab_session_start(
            tenant_id=principal.tenant_id, user_id=principal.subject, lab_id=lab_id, actor=_actor(principal)
        )
    except ApplicationError as error:
        return _back(lab_id, error.message)
    return _back(lab_id)


@require_POST
def session_action(request, session_id: str, action: str):
    principal, redirect_to = _signed_in(request)
    if redirect_to:
        return redirect_to
    try:
        session = selectors.lab_session_get(tenant_id=principal.tenant_id, session_id=session_id)
    except ApplicationError as error:
        raise Http404(error.message) from error
    is_admin = principal.role is Role.TENANT_ADMIN
    if session.user_id != principal.subject and not (is_admin and action == "end"):
        raise Http404("No such lab session.")
    tid, actor = principal.tenant_id, _actor(principal)
    try:
        if action == "end":
            by = EndReason.LEARNER if session.user_id == principal.subject else EndReason.ADMIN
            lab_session_end(tenant_id=tid, session_id=session_id, by=by, actor=actor)
            if request.POST.get("next") == "live":
                return redirect("/labs/live/")
            return _back(session.lab_id, "The lab is ending; its account is being cleaned.")
        if action == "extend":
            lab_session_extend(tenant_id=tid, session_id=session_id, minutes=30, actor=actor)
            return _back(session.lab_id, "30 more minutes.")
        if action == "access":
            access = lab_session_access(tenant_id=tid, session_id=session_id)
            return render(request, "portal/labs/access.html", _context(request, session=session, access=access))
        if action.startswith("check-"):
            result = lab_session_check(tenant_id=tid, session_id=session_id, task_id=action.removeprefix("check-"))
            return _back(session.lab_id, ("Passed: " if result["passed"] else "Not yet: ") + result["message"])
    except ApplicationError as error:
        return _back(session.lab_id, error.message)
    raise Http404("No such action.")


@require_GET
def live_sessions(request):
    principal, redirect_to = _signed_in(request)
    if redirect_to:
        return redirect_to
    if principal.role is not Role.TENANT_ADMIN:
        raise Http404
    now = clock.now()
    sessions = [
        {"session": s, "minutes_left": int(s.time_left(now).total_seconds()) // 60}
        for s in selectors.lab_sessions_active(tenant_id=principal.tenant_id, limit=100).items
    ]
    return render(request, "portal/labs/live.html", _context(request, sessions=sessions))
