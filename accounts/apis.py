"""The tenant's own API: who am I, my organisation, its users, its integrator API keys; learners' sign-up.

The tenant always comes from the caller's verified identity, never from the URL, so no path can name
another tenant's data.
"""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import api_keys, imports
from accounts.authentication import require_key_scope
from accounts.domain import Role, RowOutcome, UserStatus
from accounts.selectors import (
    group_get,
    group_list,
    group_members,
    policy_get,
    user_get,
    user_iter,
    user_list,
    user_seats,
)
from accounts.services import (
    group_add_member,
    group_create,
    group_delete,
    group_remove_member,
    group_update,
    learner_register,
    policy_set,
    user_delete,
    user_invite,
    user_resend_invitation,
    user_update,
)
from cloudkida.apidocs import OpenApiResponse, OpenApiTypes, extend_schema
from cloudkida.apis import CSVParser, DownloadNegotiation, csv_response, page_of, validated
from cloudkida.errors import NotFound, ValidationFailed
from cloudkida.idempotency import idempotent
from cloudkida.identity.principal import Scope
from tenants import provisioning
from tenants.plans import plan_for
from tenants.selectors import tenant_get_cached
from tenants.services import tenant_rename

TENANT_ROLES = [Role.TENANT_ADMIN.value, Role.TENANT_USER.value]


def actor_of(request) -> str:
    """How the audit trail names the caller: its role (or key) and who it is."""
    principal = request.user
    if principal.is_api_key:
        return f"apikey:{principal.subject.removeprefix('apikey:')}"
    return f"{principal.role.value}:{principal.get_username()}"


class UserOutput(serializers.Serializer):
    user_id = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=TENANT_ROLES)
    status = serializers.ChoiceField(choices=[s.value for s in UserStatus])
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class SeatsOutput(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True, help_text="null: no limit (the shared learners tenant)")
    available = serializers.IntegerField(allow_null=True)
    plan = serializers.CharField()


def _seats(tenant_id: str) -> dict:
    seats = user_seats(tenant_id=tenant_id)
    tenant = tenant_get_cached(tenant_id=tenant_id)
    return {
        "used": seats.used,
        "limit": seats.limit,
        "available": seats.available,
        "plan": plan_for(tenant.tier).display_name,
    }


class CallerKey(serializers.Serializer):
    """The integrator API key a request was made with."""

    key_id = serializers.CharField()
    name = serializers.CharField()
    scope = serializers.ChoiceField(choices=[s.value for s in Scope])


class MeApi(APIView):
    """The caller as CloudKida sees it: a user (with the role it has now) or an integrator API key."""

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        method = serializers.ChoiceField(choices=["token", "api_key", "session", "authorizer"])
        role = serializers.ChoiceField(choices=TENANT_ROLES, allow_null=True, help_text="null for an API key")
        subject = serializers.CharField()
        email = serializers.CharField(allow_blank=True)
        key = CallerKey(allow_null=True, help_text="The API key, when the caller is one; else null.")

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        p = request.user
        key = None
        if p.is_api_key:
            key = {"key_id": p.subject.removeprefix("apikey:"), "name": p.key_name, "scope": p.scope.value}
        return Response(
            {
                "tenant_id": p.tenant_id,
                "method": "api_key" if p.is_api_key else p.method,
                "role": None if p.is_api_key else p.role.value,
                "subject": p.subject,
                "email": p.email,
                "key": key,
            }
        )


class MyTenantApi(APIView):
    """The caller's organisation (nothing secret); a TenantAdmin may move it to a new subdomain."""

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        slug = serializers.CharField()
        name = serializers.CharField()
        tier = serializers.CharField()
        status = serializers.CharField()
        branding = serializers.DictField(child=serializers.CharField())
        portal_url = serializers.CharField()
        seats = SeatsOutput(help_text="Active users against the plan's seats (disabled users free a seat).")
        version = serializers.IntegerField()

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        slug = serializers.CharField(max_length=40, help_text="The new subdomain; the old one redirects for a while.")

    @staticmethod
    def _data(t) -> dict:
        return {
            "tenant_id": t.tenant_id,
            "slug": t.slug,
            "name": t.name,
            "tier": t.tier.value,
            "status": t.status.value,
            "branding": t.branding,
            "portal_url": provisioning.tenant_base_url(t.slug) + "/",
            "seats": _seats(t.tenant_id),
            "version": t.version,
        }

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self._data(tenant_get_cached(tenant_id=request.user.tenant_id)))

    @extend_schema(request=PatchSerializer, responses=OutputSerializer)
    def patch(self, request):
        data = validated(self.PatchSerializer, request.data)
        tenant = tenant_rename(
            tenant_id=request.user.tenant_id,
            slug=data["slug"],
            actor=actor_of(request),
            expected_version=data["version"],
        )
        return Response(self._data(tenant))


class UserFilter(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Part of a name or email (any case)."
    )
    role = serializers.ChoiceField(choices=TENANT_ROLES, required=False)
    status = serializers.ChoiceField(choices=[s.value for s in UserStatus], required=False)


class UserListApi(APIView):
    """GET lists the organisation's users; POST invites one (TenantAdmin; keys: write, admin to invite an admin)."""

    class FilterSerializer(UserFilter):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        name = serializers.CharField(max_length=100)
        role = serializers.ChoiceField(choices=TENANT_ROLES, default=Role.TENANT_USER.value)

    @extend_schema(parameters=[FilterSerializer], responses=page_of(UserOutput, "UserPage"))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        page = user_list(
            tenant_id=request.user.tenant_id,
            limit=filters["limit"],
            cursor=filters.get("cursor"),
            q=filters.get("q"),
            role=filters.get("role"),
            status=filters.get("status"),
        )
        return Response({"results": UserOutput(page.items, many=True).data, "next_cursor": page.cursor})

    @extend_schema(request=InputSerializer, responses={201: UserOutput})
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        if data["role"] == Role.TENANT_ADMIN.value:
            require_key_scope(request.user, Scope.ADMIN, "inviting a TenantAdmin")
        user = user_invite(tenant_id=request.user.tenant_id, actor=actor_of(request), **data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    """GET one user; PATCH name, role or status with the version you read (409 if stale).

    The last active TenantAdmin cannot be demoted or disabled (409 ``last_admin``). With an API key,
    changing a role or a status needs the ``admin`` scope.
    """

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        name = serializers.CharField(max_length=100, required=False)
        role = serializers.ChoiceField(choices=TENANT_ROLES, required=False)
        status = serializers.ChoiceField(choices=[s.value for s in UserStatus], required=False)

    @extend_schema(responses=UserOutput)
    def get(self, request, user_id: str):
        return Response(UserOutput(user_get(tenant_id=request.user.tenant_id, user_id=user_id)).data)

    @extend_schema(request=PatchSerializer, responses=UserOutput)
    def patch(self, request, user_id: str):
        data = dict(validated(self.PatchSerializer, request.data))
        version = data.pop("version")
        if "role" in data or "status" in data:
            require_key_scope(request.user, Scope.ADMIN, "changing a role or a status")
        user = user_update(
            tenant_id=request.user.tenant_id,
            user_id=user_id,
            expected_version=version,
            actor=actor_of(request),
            **data,
        )
        return Response(UserOutput(user).data)

    class DeleteSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, required=False, help_text="Only if still at this version.")

    @extend_schema(parameters=[DeleteSerializer], responses={204: None})
    def delete(self, request, user_id: str):
        """Delete the user: sign-in, record and group memberships (409 ``last_admin`` for the last admin)."""
        data = validated(self.DeleteSerializer, request.query_params)
        user_delete(
            tenant_id=request.user.tenant_id,
            user_id=user_id,
            actor=actor_of(request),
            expected_version=data.get("version"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserResendInvitationApi(APIView):
    """Send a user who never signed in a new invitation, with a new temporary password."""

    @extend_schema(request=None, responses={200: UserOutput})
    @idempotent
    def post(self, request, user_id: str):
        user = user_resend_invitation(tenant_id=request.user.tenant_id, user_id=user_id, actor=actor_of(request))
        return Response(UserOutput(user).data)


CSV_RESPONSE = OpenApiResponse(OpenApiTypes.STR, description="A CSV file (UTF-8, header first).")


class UserExportApi(APIView):
    """The organisation's users as a CSV file (the same filters as the list)."""

    content_negotiation_class = DownloadNegotiation

    @extend_schema(parameters=[UserFilter], responses={(200, "text/csv"): CSV_RESPONSE})
    def get(self, request):
        filters = validated(UserFilter, request.query_params)
        users = user_iter(
            tenant_id=request.user.tenant_id, q=filters.get("q"), role=filters.get("role"), status=filters.get("status")
        )
        return csv_response(
            ["email", "name", "role", "status", "created_at", "user_id"],
            ((u.email, u.name, u.role.value, u.status.value, u.created_at.isoformat(), u.user_id) for u in users),
            filename="users.csv",
        )


class ImportRowOutput(serializers.Serializer):
    row = serializers.IntegerField(help_text="Data row number in the file, from 1 (the header excluded).")
    email = serializers.CharField(allow_blank=True)
    name = serializers.CharField(allow_blank=True)
    role = serializers.CharField(allow_blank=True)
    groups = serializers.ListField(child=serializers.CharField())
    outcome = serializers.ChoiceField(choices=[o.value for o in RowOutcome])
    reason = serializers.CharField(allow_blank=True, help_text="Why an invalid row was not imported.")
    user_id = serializers.CharField(allow_blank=True)


class UserImportOutput(serializers.Serializer):
    import_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"])
    filename = serializers.CharField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    created = serializers.IntegerField()
    already_members = serializers.IntegerField()
    invalid = serializers.IntegerField()
    groups_created = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class UserImportListApi(APIView):
    """GET the organisation's imports, newest first; POST a CSV file to import (``text/csv`` body or a
    multipart ``file``): 202 with the import, which runs in the background (poll its status)."""

    parser_classes = [CSVParser, MultiPartParser]

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=20)
        cursor = serializers.CharField(required=False)

    class UploadSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="The CSV file (columns email, name, role, groups).")

    @extend_schema(parameters=[FilterSerializer], responses=page_of(UserImportOutput, "UserImportPage"))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        page = imports.user_import_list(
            tenant_id=request.user.tenant_id, limit=filters["limit"], cursor=filters.get("cursor")
        )
        return Response({"results": UserImportOutput(page.items, many=True).data, "next_cursor": page.cursor})

    @extend_schema(
        request={"text/csv": OpenApiTypes.STR, "multipart/form-data": UploadSerializer},
        responses={202: UserImportOutput},
    )
    @idempotent
    def post(self, request):
        if isinstance(request.data, str):
            data, filename = request.data, "upload.csv"
        else:
            upload = request.data.get("file") if hasattr(request.data, "get") else None
            if upload is None or not hasattr(upload, "read"):
                raise ValidationFailed("Send the CSV as the file field.", code="invalid_csv", details={"field": "file"})
            data, filename = upload.read(), upload.name
        if imports.file_needs_admin(data):
            require_key_scope(request.user, Scope.ADMIN, "importing TenantAdmins")
        job = imports.user_import_start(
            tenant_id=request.user.tenant_id, data=data, filename=filename, actor=actor_of(request)
        )
        return Response(UserImportOutput(job).data, status=status.HTTP_202_ACCEPTED)


class UserImportDetailApi(APIView):
    """An import's status and counts (poll while it runs) and a page of its per-row report."""

    class FilterSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=[o.value for o in RowOutcome], required=False)
        cursor = serializers.CharField(required=False, help_text="The report's next_cursor.")

    class OutputSerializer(UserImportOutput):
        report = page_of(ImportRowOutput, "ImportRowPage")()

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request, import_id: str):
        filters = validated(self.FilterSerializer, request.query_params)
        job = imports.user_import_get(tenant_id=request.user.tenant_id, import_id=import_id)
        rows, cursor = imports.user_import_report(
            tenant_id=request.user.tenant_id,
            import_id=import_id,
            outcome=filters.get("outcome"),
            cursor=filters.get("cursor"),
        )
        report = {"results": ImportRowOutput(rows, many=True).data, "next_cursor": cursor}
        return Response({**UserImportOutput(job).data, "report": report})


class UserImportResumeApi(APIView):
    """Resume a FAILED import from its checkpoint (rows already recorded are not redone)."""

    @extend_schema(request=None, responses={202: UserImportOutput})
    @idempotent
    def post(self, request, import_id: str):
        job = imports.user_import_resume(tenant_id=request.user.tenant_id, import_id=import_id, actor=actor_of(request))
        return Response(UserImportOutput(job).data, status=status.HTTP_202_ACCEPTED)


class UserImportTemplateApi(APIView):
    """The CSV template for a bulk import: the columns and two example rows."""

    content_negotiation_class = DownloadNegotiation

    @extend_schema(responses={(200, "text/csv"): CSV_RESPONSE})
    def get(self, request):
        response = csv_response([], [], filename="cloudkida-users-template.csv")
        response.content = imports.user_import_template().encode("utf-8")
        return response


# --- groups, memberships, policies -------------------------------------------------------------------


class GroupOutput(serializers.Serializer):
    group_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    member_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class GroupListApi(APIView):
    """GET the organisation's groups (cohorts, classes); POST creates one (names are unique, any case)."""

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)
        description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(parameters=[FilterSerializer], responses=page_of(GroupOutput, "GroupPage"))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        page = group_list(tenant_id=request.user.tenant_id, limit=filters["limit"], cursor=filters.get("cursor"))
        return Response({"results": GroupOutput(page.items, many=True).data, "next_cursor": page.cursor})

    @extend_schema(request=InputSerializer, responses={201: GroupOutput})
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        group = group_create(tenant_id=request.user.tenant_id, actor=actor_of(request), **data)
        return Response(GroupOutput(group).data, status=status.HTTP_201_CREATED)


class GroupDetailApi(APIView):
    """GET one group; PATCH renames or re-describes it (``version`` required); DELETE removes an empty
    group and its policy (409 ``group_not_empty`` while it has members)."""

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        name = serializers.CharField(max_length=80, required=False)
        description = serializers.CharField(max_length=300, required=False, allow_blank=True)

    class DeleteSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)

    @extend_schema(responses=GroupOutput)
    def get(self, request, group_id: str):
        return Response(GroupOutput(group_get(tenant_id=request.user.tenant_id, group_id=group_id)).data)

    @extend_schema(request=PatchSerializer, responses=GroupOutput)
    def patch(self, request, group_id: str):
        data = dict(validated(self.PatchSerializer, request.data))
        version = data.pop("version")
        group = group_update(
            tenant_id=request.user.tenant_id,
            group_id=group_id,
            expected_version=version,
            actor=actor_of(request),
            **data,
        )
        return Response(GroupOutput(group).data)

    @extend_schema(parameters=[DeleteSerializer], responses={204: None})
    def delete(self, request, group_id: str):
        data = validated(self.DeleteSerializer, request.query_params)
        group_delete(
            tenant_id=request.user.tenant_id,
            group_id=group_id,
            expected_version=data["version"],
            actor=actor_of(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMemberListApi(APIView):
    """GET a page of a group's members; POST adds a user of the organisation (idempotent: 200 if the user
    was already in it, 201 if added)."""

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    class InputSerializer(serializers.Serializer):
        user_id = serializers.CharField(max_length=64)

    class AddedSerializer(serializers.Serializer):
        group_id = serializers.CharField()
        user_id = serializers.CharField()
        added = serializers.BooleanField(help_text="false if the user was in the group already")

    @extend_schema(parameters=[FilterSerializer], responses=page_of(UserOutput, "GroupMemberPage"))
    def get(self, request, group_id: str):
        filters = validated(self.FilterSerializer, request.query_params)
        page = group_members(
            tenant_id=request.user.tenant_id, group_id=group_id, limit=filters["limit"], cursor=filters.get("cursor")
        )
        return Response({"results": UserOutput(page.items, many=True).data, "next_cursor": page.cursor})

    @extend_schema(request=InputSerializer, responses={200: AddedSerializer, 201: AddedSerializer})
    @idempotent
    def post(self, request, group_id: str):
        data = validated(self.InputSerializer, request.data)
        added = group_add_member(
            tenant_id=request.user.tenant_id, group_id=group_id, user_id=data["user_id"], actor=actor_of(request)
        )
        body = {"group_id": group_id, "user_id": data["user_id"], "added": added}
        return Response(body, status=status.HTTP_201_CREATED if added else status.HTTP_200_OK)


class GroupMemberDetailApi(APIView):
    """DELETE takes a user out of a group (204; 404 if the user was not in it)."""

    @extend_schema(responses={204: None})
    def delete(self, request, group_id: str, user_id: str):
        removed = group_remove_member(
            tenant_id=request.user.tenant_id, group_id=group_id, user_id=user_id, actor=actor_of(request)
        )
        if not removed:
            raise NotFound("The user is not in this group.", code="member_not_found")
        return Response(status=status.HTTP_204_NO_CONTENT)


class PolicyOutput(serializers.Serializer):
    group_id = serializers.CharField(allow_blank=True, help_text='"" for the organisation\'s own policy')
    allowed_lab_ids = serializers.ListField(child=serializers.CharField(), allow_null=True)
    max_concurrent_labs = serializers.IntegerField(allow_null=True)
    monthly_lab_minutes = serializers.IntegerField(allow_null=True)
    allowed_regions = serializers.ListField(child=serializers.CharField(), allow_null=True)
    version = serializers.IntegerField(help_text="0 for a policy never set")


class PolicyInput(serializers.Serializer):
    """Every field; null (or left out) does not restrict. ``version`` is the one you read (0: never set)."""

    version = serializers.IntegerField(min_value=0)
    allowed_lab_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), allow_null=True, required=False, max_length=500
    )
    max_concurrent_labs = serializers.IntegerField(allow_null=True, required=False)
    monthly_lab_minutes = serializers.IntegerField(allow_null=True, required=False)
    allowed_regions = serializers.ListField(
        child=serializers.CharField(max_length=32), allow_null=True, required=False, max_length=40
    )


def _policy_put(request, group_id: str) -> Response:
    data = dict(validated(PolicyInput, request.data))
    version = data.pop("version")
    policy = policy_set(
        tenant_id=request.user.tenant_id, group_id=group_id, expected_version=version, actor=actor_of(request), **data
    )
    return Response(PolicyOutput(policy).data)


class TenantPolicyApi(APIView):
    """The organisation's policy: the ceiling for every user (labs allowed, concurrent labs, lab minutes
    per month, AWS regions). PUT replaces it at the version you read (409 if stale)."""

    @extend_schema(responses=PolicyOutput)
    def get(self, request):
        return Response(PolicyOutput(policy_get(tenant_id=request.user.tenant_id)).data)

    @extend_schema(request=PolicyInput, responses=PolicyOutput)
    def put(self, request):
        return _policy_put(request, "")


class GroupPolicyApi(APIView):
    """A group's policy: among a user's groups the most generous applies, capped by the organisation's."""

    @extend_schema(responses=PolicyOutput)
    def get(self, request, group_id: str):
        return Response(PolicyOutput(policy_get(tenant_id=request.user.tenant_id, group_id=group_id)).data)

    @extend_schema(request=PolicyInput, responses=PolicyOutput)
    def put(self, request, group_id: str):
        group_get(tenant_id=request.user.tenant_id, group_id=group_id)
        return _policy_put(request, group_id)


class ApiKeyOutput(serializers.Serializer):
    key_id = serializers.CharField()
    name = serializers.CharField()
    scope = serializers.ChoiceField(choices=[s.value for s in Scope])
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyListApi(APIView):
    """GET lists the organisation's integrator keys; POST creates one and shows its secret once."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)
        scope = serializers.ChoiceField(choices=[s.value for s in Scope])

    class CreatedSerializer(ApiKeyOutput):
        api_key = serializers.CharField(help_text="The secret. Shown once; store it now.")

    @extend_schema(responses=page_of(ApiKeyOutput, "ApiKeyPage"))
    def get(self, request):
        page = api_keys.api_key_list(tenant_id=request.user.tenant_id, limit=100)
        return Response({"results": ApiKeyOutput(page.items, many=True).data, "next_cursor": page.cursor})

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        key, raw = api_keys.api_key_create(tenant_id=request.user.tenant_id, created_by=actor_of(request), **data)
        return Response({**ApiKeyOutput(key).data, "api_key": raw}, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    """DELETE revokes a key of the caller's organisation (idempotent) and returns it, revoked."""

    @extend_schema(responses={200: ApiKeyOutput})
    def delete(self, request, key_id: str):
        key = api_keys.api_key_revoke(tenant_id=request.user.tenant_id, key_id=key_id, revoked_by=actor_of(request))
        return Response(ApiKeyOutput(key).data)


class LearnerRegistrationCreateApi(APIView):
    """An individual learner signs up into the shared default tenant."""

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        name = serializers.CharField(max_length=100)

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        user_id = serializers.CharField()
        email = serializers.EmailField()
        login_url = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, auth=[])
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        user = learner_register(**data, client_address=request.META.get("REMOTE_ADDR", ""))
        tenant = tenant_get_cached(tenant_id=user.tenant_id)
        return Response(
            {
                "tenant_id": user.tenant_id,
                "user_id": user.user_id,
                "email": user.email,
                "login_url": f"{provisioning.tenant_base_url(tenant.slug)}/login/",
            },
            status=status.HTTP_201_CREATED,
        )
