"""The labs API: the caller's catalog, tenant labs, assignments, progress, lab sessions; the pool for
system admins.

The tenant always comes from the caller's identity. A learner (TenantUser) acts for itself; a tenant admin
sees the tenant's catalog and sessions and may start a lab for any of its users; an integrator key acts
as the tenant (read: reads; write: everything else, including starting a session for a user and handing
out its access). Another tenant's lab, session or assignment is simply 404.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import actor_of
from accounts.domain import Role
from accounts.selectors import group_get, user_get
from cloudkida import clock
from cloudkida.apidocs import ErrorSerializer, OpenApiResponse, extend_schema
from cloudkida.apis import page_of, validated
from cloudkida.errors import NotFound, PermissionDenied, ValidationFailed
from cloudkida.idempotency import idempotent
from labs import selectors
from labs.domain import AccountState, EndReason, LabStatus, Level, SessionState
from labs.markdown import render
from labs.selectors import CatalogEntry
from labs.services import (
    account_eject,
    account_get,
    account_quarantine,
    account_retry_cleanup,
    assignment_add,
    assignment_remove,
    lab_create,
    lab_enable,
    lab_publish,
    lab_retire,
    lab_session_access,
    lab_session_check,
    lab_session_end,
    lab_session_extend,
    lab_session_start,
    lab_update,
)


def _caller(request) -> tuple[str, str, Role]:
    """(tenant id, user id, role for visibility): an API key sees what a tenant admin sees, as no user."""
    p = request.user
    if p.is_api_key:
        return p.tenant_id, "", Role.TENANT_ADMIN
    return p.tenant_id, p.subject, p.role


def _own_lab(request, lab_id: str):
    """A lab of the caller's tenant it may change (global labs are CloudKida's: 404 here)."""
    tenant_id, _user, _role = _caller(request)
    lab = selectors.lab_get_any(tenant_id=tenant_id, lab_id=lab_id)
    if lab.owner != tenant_id:
        raise NotFound("No such lab of your organisation.", code="lab_not_found")
    return lab


# --- output shapes ----------------------------------------------------------------------------------------------
class TaskOutput(serializers.Serializer):
    task_id = serializers.CharField()
    title = serializers.CharField()
    instructions = serializers.CharField(allow_blank=True, help_text="Markdown.")
    instructions_html = serializers.CharField(allow_blank=True, help_text="The Markdown rendered and sanitised.")
    check = serializers.DictField(help_text="The automatic check: an assertion or a registered function.")


class LabOutput(serializers.Serializer):
    lab_id = serializers.CharField()
    catalog = serializers.ChoiceField(choices=["tenant", "global"], help_text="Your organisation's lab or CloudKida's.")
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    instructions = serializers.CharField(allow_blank=True, help_text="Markdown.")
    instructions_html = serializers.CharField(allow_blank=True)
    level = serializers.ChoiceField(choices=[lv.value for lv in Level])
    duration_minutes = serializers.IntegerField()
    max_duration_minutes = serializers.IntegerField()
    allowed_regions = serializers.ListField(child=serializers.CharField())
    allowed_services = serializers.ListField(child=serializers.CharField())
    budget_usd = serializers.FloatField()
    status = serializers.ChoiceField(choices=[s.value for s in LabStatus])
    revision = serializers.IntegerField(help_text="The lab's version: +1 on every publish and every published change.")
    template_uploaded = serializers.BooleanField()
    template_validated = serializers.BooleanField()
    tasks = TaskOutput(many=True)
    public = serializers.BooleanField()
    hot_pool_size = serializers.IntegerField()
    enabled = serializers.BooleanField(help_text="Offered to your people (always true for your own labs).")
    assigned = serializers.BooleanField(help_text="Assigned to you (or public in the shared learners tenant).")
    can_start = serializers.BooleanField()
    version = serializers.IntegerField(help_text="Send it back with PATCH (optimistic locking).")


def _lab(entry: CatalogEntry) -> dict:
    lab = entry.lab
    return {
        "lab_id": lab.lab_id,
        "catalog": "global" if lab.is_global else "tenant",
        "slug": lab.slug,
        "title": lab.title,
        "summary": lab.summary,
        "instructions": lab.instructions,
        "instructions_html": render(lab.instructions),
        "level": lab.level.value,
        "duration_minutes": lab.duration_minutes,
        "max_duration_minutes": lab.max_duration_minutes,
        "allowed_regions": lab.allowed_regions,
        "allowed_services": lab.allowed_services,
        "budget_usd": lab.budget_usd,
        "status": lab.status.value,
        "revision": lab.revision,
        "template_uploaded": bool(lab.template_key),
        "template_validated": lab.template_validated,
        "tasks": [
            {
                "task_id": t.task_id,
                "title": t.title,
                "instructions": t.instructions,
                "instructions_html": render(t.instructions),
                "check": t.check,
            }
            for t in lab.tasks
        ],
        "public": lab.public,
        "hot_pool_size": lab.hot_pool_size,
        "enabled": entry.enabled,
        "assigned": entry.assigned,
        "can_start": entry.can_start,
        "version": lab.version,
    }


class LabFields(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    slug = serializers.CharField(max_length=64, required=False)
    summary = serializers.CharField(max_length=500, required=False, allow_blank=True)
    instructions = serializers.CharField(max_length=100_000, required=False, allow_blank=True, help_text="Markdown.")
    level = serializers.ChoiceField(choices=[lv.value for lv in Level], required=False)
    duration_minutes = serializers.IntegerField(min_value=15, max_value=480, required=False)
    max_duration_minutes = serializers.IntegerField(min_value=15, max_value=720, required=False)
    allowed_regions = serializers.ListField(
        child=serializers.CharField(max_length=32), min_length=1, max_length=5, required=False
    )
    allowed_services = serializers.ListField(child=serializers.CharField(max_length=40), max_length=40, required=False)
    budget_usd = serializers.FloatField(min_value=0.01, max_value=1000, required=False)
    tasks = serializers.ListField(child=serializers.DictField(), max_length=20, required=False)
    template = serializers.CharField(
        max_length=51_200, required=False, help_text="The lab's CloudFormation template (YAML or JSON)."
    )


def _lab_fields(data: dict) -> tuple[dict, str | None]:
    fields = dict(data)
    template = fields.pop("template", None)
    fields.pop("version", None)
    return fields, template


class LabListApi(APIView):
    """GET: the labs the caller may see (learners: what they may start; admins and keys: the tenant's own
    labs and CloudKida's published catalog). POST: a tenant admin creates a DRAFT lab of the tenant."""

    class InputSerializer(LabFields):
        title = serializers.CharField(max_length=200)
        slug = serializers.CharField(max_length=64)

    @extend_schema(responses=page_of(LabOutput, "LabPage"))
    def get(self, request):
        tenant_id, user_id, role = _caller(request)
        entries = selectors.lab_catalog(tenant_id=tenant_id, user_id=user_id, role=role)
        return Response({"results": [_lab(e) for e in entries], "next_cursor": None})

    @extend_schema(request=InputSerializer, responses={201: LabOutput})
    @idempotent
    def post(self, request):
        fields, template = _lab_fields(validated(self.InputSerializer, request.data))
        tenant_id, _user, _role = _caller(request)
        lab = lab_create(owner=tenant_id, actor=actor_of(request), template=template, **fields)
        return Response(_lab(CatalogEntry(lab, True, False, False)), status=status.HTTP_201_CREATED)


class LabDetailApi(APIView):
    """GET one lab of the caller's catalog. PATCH (tenant admin, the tenant's own labs) with the version
    you read: a draft changes in place; a published lab's change is validated and is its next revision."""

    class PatchSerializer(LabFields):
        version = serializers.IntegerField(min_value=1)

    @extend_schema(responses=LabOutput)
    def get(self, request, lab_id: str):
        tenant_id, user_id, role = _caller(request)
        return Response(_lab(selectors.lab_get_visible(tenant_id=tenant_id, user_id=user_id, role=role, lab_id=lab_id)))

    @extend_schema(request=PatchSerializer, responses=LabOutput)
    def patch(self, request, lab_id: str):
        data = validated(self.PatchSerializer, request.data)
        lab = _own_lab(request, lab_id)
        fields, template = _lab_fields(data)
        lab = lab_update(
            owner=lab.owner,
            lab_id=lab.lab_id,
            expected_version=data["version"],
            actor=actor_of(request),
            template=template,
            **fields,
        )
        return Response(_lab(CatalogEntry(lab, True, False, False)))


class LabPublishApi(APIView):
    """Publish a lab of the tenant once CloudFormation accepts its template (a new revision)."""

    @extend_schema(request=None, responses=LabOutput)
    def post(self, request, lab_id: str):
        lab = _own_lab(request, lab_id)
        lab = lab_publish(owner=lab.owner, lab_id=lab.lab_id, actor=actor_of(request))
        return Response(_lab(CatalogEntry(lab, True, False, False)))


class LabRetireApi(APIView):
    """Retire a lab of the tenant: no new sessions; running ones go on."""

    @extend_schema(request=None, responses=LabOutput)
    def post(self, request, lab_id: str):
        lab = _own_lab(request, lab_id)
        lab = lab_retire(owner=lab.owner, lab_id=lab.lab_id, actor=actor_of(request))
        return Response(_lab(CatalogEntry(lab, True, False, False)))


class LabEnableApi(APIView):
    """Offer one of CloudKida's published labs to the tenant's people (then assign it)."""

    enabled = True

    @extend_schema(request=None, responses=LabOutput)
    def post(self, request, lab_id: str):
        tenant_id, _user, _role = _caller(request)
        lab = lab_enable(tenant_id=tenant_id, lab_id=lab_id, enabled=self.enabled, actor=actor_of(request))
        return Response(_lab(CatalogEntry(lab, self.enabled, False, False)))


class LabDisableApi(LabEnableApi):
    """Stop offering a CloudKida lab (running sessions go on)."""

    enabled = False


class AssignmentOutput(serializers.Serializer):
    lab_id = serializers.CharField()
    assignee_type = serializers.ChoiceField(choices=["user", "group"])
    assignee_id = serializers.CharField()
    assigned_at = serializers.DateTimeField()
    assigned_by = serializers.CharField()


class LabAssignmentListApi(APIView):
    """GET who a lab is assigned to; POST assign it to a user or a group of the tenant (idempotent: an
    existing assignment is 200, a new one 201)."""

    class InputSerializer(serializers.Serializer):
        assignee_type = serializers.ChoiceField(choices=["user", "group"])
        assignee_id = serializers.CharField(max_length=64)

    @extend_schema(responses=page_of(AssignmentOutput, "LabAssignmentPage"))
    def get(self, request, lab_id: str):
        tenant_id, _user, _role = _caller(request)
        lab = selectors.lab_get_visible(tenant_id=tenant_id, user_id="", role=Role.TENANT_ADMIN, lab_id=lab_id).lab
        items = selectors.lab_assignments(tenant_id=tenant_id, lab_id=lab.lab_id)
        return Response({"results": AssignmentOutput(items, many=True).data, "next_cursor": None})

    @extend_schema(request=InputSerializer, responses={200: AssignmentOutput, 201: AssignmentOutput})
    def post(self, request, lab_id: str):
        data = validated(self.InputSerializer, request.data)
        tenant_id, _user, _role = _caller(request)
        entry = selectors.lab_get_visible(tenant_id=tenant_id, user_id="", role=Role.TENANT_ADMIN, lab_id=lab_id)
        if entry.lab.is_global and not entry.enabled:
            raise PermissionDenied("Enable this CloudKida lab for your organisation first.", code="lab_not_enabled")
        if data["assignee_type"] == "user":
            user_get(tenant_id=tenant_id, user_id=data["assignee_id"])
        else:
            group_get(tenant_id=tenant_id, group_id=data["assignee_id"])
        assignment, created = assignment_add(
            tenant_id=tenant_id,
            lab=entry.lab,
            actor=actor_of(request),
            assignee_type=data["assignee_type"],
            assignee_id=data["assignee_id"],
        )
        return Response(
            AssignmentOutput(assignment).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class LabAssignmentDetailApi(APIView):
    """DELETE an assignment (204)."""

    @extend_schema(responses={204: None})
    def delete(self, request, lab_id: str, assignee_type: str, assignee_id: str):
        tenant_id, _user, _role = _caller(request)
        if assignee_type not in {"user", "group"}:
            raise NotFound("No such assignment.", code="assignment_not_found")
        assignment_remove(
            tenant_id=tenant_id,
            lab_id=lab_id,
            assignee_type=assignee_type,
            assignee_id=assignee_id,
            actor=actor_of(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProgressOutput(serializers.Serializer):
    user_id = serializers.CharField()
    passed = serializers.ListField(child=serializers.CharField())
    tasks = serializers.IntegerField()
    completed_at = serializers.DateTimeField(allow_null=True)
    last_check_at = serializers.DateTimeField(allow_null=True)


class LabProgressApi(APIView):
    """Completion per learner of one lab (tenant admins, keys)."""

    @extend_schema(responses=page_of(ProgressOutput, "LabProgressPage"))
    def get(self, request, lab_id: str):
        tenant_id, _user, _role = _caller(request)
        lab = selectors.lab_get_visible(tenant_id=tenant_id, user_id="", role=Role.TENANT_ADMIN, lab_id=lab_id).lab
        rows = [
            {
                "user_id": p.user_id,
                "passed": sorted(p.passed),
                "tasks": len(lab.tasks),
                "completed_at": p.completed_at,
                "last_check_at": p.last_check_at,
            }
            for p in selectors.lab_progress_of_learners(tenant_id=tenant_id, lab_id=lab.lab_id)
        ]
        return Response({"results": ProgressOutput(rows, many=True).data, "next_cursor": None})


# --- sessions ---------------------------------------------------------------------------------------------------
class SessionOutput(serializers.Serializer):
    session_id = serializers.CharField()
    user_id = serializers.CharField()
    lab_id = serializers.CharField()
    lab_title = serializers.CharField()
    lab_revision = serializers.IntegerField()
    region = serializers.CharField()
    state = serializers.ChoiceField(choices=[s.value for s in SessionState])
    requested_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True, help_text="When the lab ends unless extended.")
    time_left_seconds = serializers.IntegerField()
    ended_at = serializers.DateTimeField(allow_null=True)
    ended_by = serializers.CharField(allow_blank=True, help_text="learner, expiry, budget, admin or tenant.")
    failed_step = serializers.CharField(allow_blank=True)
    failure_reason = serializers.CharField(allow_blank=True)
    duration_minutes = serializers.IntegerField()
    max_duration_minutes = serializers.IntegerField()
    extensions = serializers.IntegerField()
    budget_usd = serializers.FloatField()
    spend_usd = serializers.FloatField()
    account_id = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField()


def _session(session) -> dict:
    return {
        "session_id": session.session_id,
        "user_id": session.user_id,
        "lab_id": session.lab_id,
        "lab_title": session.lab_title,
        "lab_revision": session.lab_revision,
        "region": session.region,
        "state": session.state.value,
        "requested_at": session.requested_at,
        "ready_at": session.ready_at,
        "deadline": session.deadline,
        "time_left_seconds": int(session.time_left(clock.now()).total_seconds()),
        "ended_at": session.ended_at,
        "ended_by": session.ended_by,
        "failed_step": session.failed_step,
        "failure_reason": session.failure_reason,
        "duration_minutes": session.duration_minutes,
        "max_duration_minutes": session.max_duration_minutes,
        "extensions": session.extensions,
        "budget_usd": session.budget_usd,
        "spend_usd": session.spend_usd,
        "account_id": session.account_id,
        "version": session.version,
    }


def _session_of_caller(request, session_id: str, *, own: bool = False):
    """The session if the caller may see it (its learner; a tenant admin or key of its tenant, unless
    ``own``: a tenant admin's own only — nobody else hands out a learner's AWS access but the key)."""
    tenant_id, user_id, role = _caller(request)
    session = selectors.lab_session_get(tenant_id=tenant_id, session_id=session_id)
    if request.user.is_api_key:
        return session
    if session.user_id != user_id and (own or role is not Role.TENANT_ADMIN):
        raise NotFound("No such lab session.", code="session_not_found")
    return session


class LabSessionListApi(APIView):
    """GET: the caller's sessions, newest first (a tenant admin or key: ``active=true`` for the tenant's
    live sessions, or ``user_id`` for one learner's). POST: start a lab (a learner for itself; a tenant
    admin or a write key for ``user_id``)."""

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)
        active = serializers.BooleanField(required=False, default=False)
        user_id = serializers.CharField(required=False, max_length=64)

    class InputSerializer(serializers.Serializer):
        lab_id = serializers.CharField(max_length=64)
        region = serializers.CharField(max_length=32, required=False)
        user_id = serializers.CharField(max_length=64, required=False, help_text="Tenant admins and keys only.")

    @extend_schema(parameters=[FilterSerializer], responses=page_of(SessionOutput, "LabSessionPage"))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        tenant_id, user_id, role = _caller(request)
        admin = role is Role.TENANT_ADMIN
        if filters["active"]:
            if not admin:
                raise PermissionDenied(
                    "Only tenant admins see the organisation's live sessions.", code="permission_denied"
                )
            page = selectors.lab_sessions_active(
                tenant_id=tenant_id, limit=filters["limit"], cursor=filters.get("cursor")
            )
        else:
            who = filters.get("user_id") if admin and filters.get("user_id") else user_id
            if not who:
                raise ValidationFailed(
                    "Name a user_id, or ask for active=true.", code="user_required", details={"field": "user_id"}
                )
            page = selectors.lab_sessions_of_user(
                tenant_id=tenant_id, user_id=who, limit=filters["limit"], cursor=filters.get("cursor")
            )
        return Response({"results": [_session(s) for s in page.items], "next_cursor": page.cursor})

    @extend_schema(
        request=InputSerializer,
        responses={
            201: SessionOutput,
            402: OpenApiResponse(ErrorSerializer, "A registered start guard (billing) refused the start."),
            404: OpenApiResponse(
                ErrorSerializer, "No such lab or user in your catalog (`lab_not_found`, `user_not_found`)."
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        tenant_id, user_id, role = _caller(request)
        target = data.get("user_id") or user_id
        if data.get("user_id") and data["user_id"] != user_id and role is not Role.TENANT_ADMIN:
            raise PermissionDenied("Learners start labs for themselves.", code="permission_denied")
        if not target:
            raise ValidationFailed(
                "An API key starts a lab for a user_id.", code="user_required", details={"field": "user_id"}
            )
        session = lab_session_start(
            tenant_id=tenant_id,
            user_id=target,
            lab_id=data["lab_id"],
            region=data.get("region"),
            actor=actor_of(request),
        )
        return Response(_session(session), status=status.HTTP_201_CREATED)


class LabSessionDetailApi(APIView):
    """One session: its state, time left, spend."""

    @extend_schema(responses=SessionOutput)
    def get(self, request, session_id: str):
        return Response(_session(_session_of_caller(request, session_id)))


class LabSessionExtendApi(APIView):
    """More time (at most CLOUDKIDA_LAB_EXTENSION_MINUTES at once, up to the lab's maximum)."""

    class InputSerializer(serializers.Serializer):
        minutes = serializers.IntegerField(min_value=1, max_value=720)

    @extend_schema(request=InputSerializer, responses=SessionOutput)
    def post(self, request, session_id: str):
        data = validated(self.InputSerializer, request.data)
        session = _session_of_caller(request, session_id)
        session = lab_session_extend(
            tenant_id=session.tenant_id, session_id=session.session_id, minutes=data["minutes"], actor=actor_of(request)
        )
        return Response(_session(session))


class LabSessionEndApi(APIView):
    """End the lab now: access is revoked at once, then the account is cleaned."""

    @extend_schema(request=None, responses=SessionOutput)
    def post(self, request, session_id: str):
        session = _session_of_caller(request, session_id)
        _tenant, user_id, _role = _caller(request)
        by = EndReason.LEARNER if session.user_id == user_id else EndReason.ADMIN
        session = lab_session_end(
            tenant_id=session.tenant_id, session_id=session.session_id, by=by, actor=actor_of(request)
        )
        return Response(_session(session))


class CredentialsOutput(serializers.Serializer):
    access_key_id = serializers.CharField()
    secret_access_key = serializers.CharField()
    session_token = serializers.CharField()
    expiration = serializers.DateTimeField()


class LabSessionAccessApi(APIView):
    """The learner's way into its lab account: temporary CLI credentials (1 hour; ask again for more) and a
    console sign-in URL (null where the AWS console cannot be reached, as against the local emulator)."""

    class OutputSerializer(serializers.Serializer):
        account_id = serializers.CharField()
        region = serializers.CharField()
        console_url = serializers.CharField(allow_null=True)
        credentials = CredentialsOutput()
        session_ends_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, session_id: str):
        session = _session_of_caller(request, session_id, own=True)
        return Response(
            self.OutputSerializer(lab_session_access(tenant_id=session.tenant_id, session_id=session.session_id)).data
        )


class LabSessionCheckApi(APIView):
    """Check my work: run a task's automatic check against the lab account; progress is recorded."""

    class OutputSerializer(serializers.Serializer):
        task_id = serializers.CharField()
        passed = serializers.BooleanField()
        message = serializers.CharField()
        passed_tasks = serializers.ListField(child=serializers.CharField())
        completed = serializers.BooleanField()

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request, session_id: str, task_id: str):
        session = _session_of_caller(request, session_id, own=True)
        result = lab_session_check(tenant_id=session.tenant_id, session_id=session.session_id, task_id=task_id)
        progress = result["progress"]
        return Response(
            {
                "task_id": task_id,
                "passed": result["passed"],
                "message": result["message"],
                "passed_tasks": sorted(progress.passed),
                "completed": progress.completed_at is not None,
            }
        )


# --- the pool (system admins) -----------------------------------------------------------------------------------
class AccountOutput(serializers.Serializer):
    account_id = serializers.CharField()
    shard_id = serializers.CharField()
    region = serializers.CharField()
    state = serializers.ChoiceField(choices=[s.value for s in AccountState])
    state_since = serializers.DateTimeField()
    hot_lab_id = serializers.CharField(allow_blank=True)
    cleanup_failures = serializers.IntegerField()
    last_cleanup_error = serializers.CharField(allow_blank=True)
    last_cleanup_exceptions = serializers.ListField(child=serializers.CharField())
    quarantine_reason = serializers.CharField(allow_blank=True)
    leases = serializers.IntegerField()


class LabAccountListApi(APIView):
    """Pool accounts of one shard and region in one state (system admins, support)."""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=[s.value for s in AccountState])
        shard = serializers.CharField(max_length=40)
        region = serializers.CharField(max_length=32, required=False)
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=page_of(AccountOutput, "LabAccountPage"))
    def get(self, request):
        f = validated(self.FilterSerializer, request.query_params)
        region = f.get("region") or settings.AWS_REGION
        page = selectors.pool_accounts(
            state=AccountState(f["state"]), shard_id=f["shard"], region=region, limit=f["limit"], cursor=f.get("cursor")
        )
        return Response({"results": AccountOutput(page.items, many=True).data, "next_cursor": page.cursor})


class LabAccountDetailApi(APIView):
    @extend_schema(responses=AccountOutput)
    def get(self, request, account_id: str):
        return Response(AccountOutput(account_get(account_id)).data)


class LabAccountRetryApi(APIView):
    """Clean a quarantined (or stuck) account again, its failure count reset."""

    @extend_schema(request=None, responses=AccountOutput)
    def post(self, request, account_id: str):
        return Response(AccountOutput(account_retry_cleanup(account_id=account_id, actor=actor_of(request))).data)


class LabAccountQuarantineApi(APIView):
    """Quarantine an account (a session it serves ends)."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300, required=False, default="by a system admin")

    @extend_schema(request=InputSerializer, responses=AccountOutput)
    def post(self, request, account_id: str):
        data = validated(self.InputSerializer, request.data)
        return Response(
            AccountOutput(
                account_quarantine(account_id=account_id, reason=data["reason"], actor=actor_of(request))
            ).data
        )


class LabAccountEjectApi(APIView):
    """Take an account out of the pool for good."""

    @extend_schema(request=None, responses=AccountOutput)
    def post(self, request, account_id: str):
        return Response(AccountOutput(account_eject(account_id=account_id, actor=actor_of(request))).data)


class LabPoolApi(APIView):
    """Pool statistics: accounts by state per shard and region (the replenisher's latest snapshot), leases,
    cleanup failures and quarantines per hour over the last day, and the targets."""

    class OutputSerializer(serializers.Serializer):
        snapshot = serializers.DictField()
        hours = serializers.ListField(child=serializers.DictField())
        targets = serializers.DictField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(selectors.pool_statistics())
