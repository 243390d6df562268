"""Writes and use cases for a tenant's people: create, invite, change role or status, learners' sign-up.

A role or status change is written to the user record first (every authorisation decision reads it,
through ``accounts.selectors.user_for_authorization``) and then brought into Cognito: the role attribute,
AdminDisableUser/AdminEnableUser, and a global sign-out so no refresh token outlives the change.
"""

from __future__ import annotations

import uuid

from django.conf import settings

from accounts import cognito, repository
from accounts.api_keys import api_key_cache_clear
from accounts.domain import Group, Policy, Role, User, UserStatus
from accounts.integrations.sso import providers_remove_from_cognito
from accounts.invitations import send_invitation, temporary_password
from accounts.selectors import authorization_cache_forget, seats_of, user_get_by_email
from cloudkida import clock, events
from cloudkida.dynamo import check_tenant_id
from cloudkida.errors import Conflict, NotFound, PaymentRequired, ServiceUnavailable, ValidationFailed
from cloudkida.ids import new_ulid
from cloudkida.validation import validate_email, validate_regions
from tenants import provisioning
from tenants.domain import Isolation, Tenant, TenantStatus
from tenants.selectors import tenant_get, tenant_get_by_slug, tenant_get_cached
from tenants.services import audit
from tenants.services.registration import check_signup_rate, count_signup

__all__ = [
    "group_add_member",
    "group_create",
    "group_delete",
    "group_remove_member",
    "group_update",
    "learner_register",
    "policy_set",
    "user_create",
    "user_delete",
    "user_invite",
    "user_resend_invitation",
    "user_update",
    "validate_email",
]


def user_create(
    *,
    tenant_id: str,
    email: str,
    name: str,
    role: Role = Role.TENANT_USER,
    user_id: str | None = None,
    invited: bool = False,
) -> User:
    """Add a user record to the tenant; Conflict if the email is already used in this tenant. With
    ``invited`` the ``user.invited`` webhook event is recorded in the same transaction."""
    user = User(
        tenant_id=check_tenant_id(tenant_id),
        user_id=user_id or uuid.uuid4().hex,
        email=validate_email(email),
        name=" ".join((name or "").split())[:200],
        role=Role(role),
        status=UserStatus.ACTIVE,
        created_at=clock.now(),
    )
    seats = seats_of(tenant_id=tenant_id)
    recorded = []
    if invited:
        data = {"user_id": user.user_id, "email": user.email, "name": user.name, "role": user.role.value}
        recorded = events.also(tenant_id, "user.invited", data, event_id=f"user.invited:{user.user_id}")
    try:
        return repository.create(tenant_id, user, seats=seats, events=recorded)
    except Conflict as conflict:
        raise _seat_error(conflict, seats) from conflict


def _seat_error(conflict: Conflict, seats: int | None) -> Exception:
    """A refused seat (the counts' condition) as 402 ``seat_limit_reached``; any other conflict as is."""
    if conflict.code != repository.SEAT_LIMIT:
        return conflict
    return PaymentRequired(
        f"Every seat of your plan is taken ({seats} active users). Disable or delete a user, or move to a larger plan.",
        code=repository.SEAT_LIMIT,
        details={"seats": seats},
    )


def _tenant_role(role: Role | str) -> Role:
    try:
        role = Role(role)
    except ValueError as error:
        raise ValidationFailed("Role must be TenantAdmin or TenantUser.", code="invalid_role") from error
    if role.is_platform:
        raise ValidationFailed("Tenant users can be TenantAdmin or TenantUser.", code="invalid_role")
    return role


def _sign_in(tenant: Tenant, *, email: str, name: str, role: Role, actor: str = "system") -> str:
    """The Cognito sign-in for a new member, and its branded invitation email; returns its sub."""
    password = temporary_password()
    try:
        sub, fresh = cognito.ensure_user(
            tenant.identity["user_pool_id"],
            tenant_id=tenant.tenant_id,
            email=email,
            name=name,
            role=role.value,
            group=tenant.identity.get("group"),
            temporary_password=password,
        )
    except cognito.EmailTaken as error:
        raise Conflict(
            "This email address already signs in to another CloudKida organisation.",
            code="email_in_use",
            details={"field": "email"},
        ) from error
    if fresh:
        send_invitation(tenant=tenant, email=email, name=name, temporary_password=password, actor=actor)
    return sub


def user_invite(*, tenant_id: str, email: str, name: str, role: Role = Role.TENANT_USER, actor: str = "system") -> User:
    """Invite a user: a Cognito sign-in in the tenant's pool (Cognito emails the invitation) and a record.

    Conflict if the email is already a user of this tenant, or signs in to another organisation.
    """
    email = validate_email(email)
    role = _tenant_role(role)
    if repository.get_by_email(tenant_id, email):
        raise Conflict(
            "This email is already a user of your organisation.", code="already_exists", details={"field": "email"}
        )
    tenant = tenant_get(tenant_id=tenant_id)
    seats = seats_of(tenant_id=tenant_id)
    if seats is not None and repository.counts(tenant_id)[0] >= seats:  # before any sign-in is made
        raise _seat_error(Conflict(code=repository.SEAT_LIMIT), seats)
    sub = _sign_in(tenant, email=email, name=name, role=role, actor=actor)
    try:
        user = user_create(tenant_id=tenant_id, email=email, name=name, role=role, user_id=sub or None, invited=True)
    except PaymentRequired:  # the last seat went meanwhile: take the new sign-in away again
        cognito.remove_users(tenant.identity["user_pool_id"], [email])
        raise
    audit(tenant_id, "user.invited", actor, user_id=user.user_id, email=email, role=role.value)
    return user


def user_update(*, tenant_id: str, user_id: str, expected_version: int, actor: str = "system", **changes) -> User:
    """Change a user's name, role or status if it is still at ``expected_version`` (else Conflict).

    The last active TenantAdmin cannot be demoted or disabled (409 ``last_admin``). The record changes
    first; Cognito follows (a failure there is a 503 and the same change can be sent again).
    """
    if "email" in changes:
        changes["email"] = validate_email(changes["email"])
    if "role" in changes:
        changes["role"] = _tenant_role(changes["role"])
    if "status" in changes:
        changes["status"] = UserStatus(changes["status"])
    user = repository.get(tenant_id, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    user.version = expected_version
    seats = seats_of(tenant_id=tenant_id) if changes.get("status") is UserStatus.ACTIVE else None
    recorded = []
    if changes.get("status") is UserStatus.DISABLED and user.status is not UserStatus.DISABLED:
        recorded = events.also(
            tenant_id,
            "user.disabled",
            {"user_id": user_id, "email": changes.get("email", user.email)},
            event_id=f"user.disabled:{user_id}:{expected_version}",
        )
    try:
        updated = repository.update(tenant_id, user, seats=seats, events=recorded, **changes)
    except Conflict as conflict:
        raise _seat_error(conflict, seats) from conflict
    authorization_cache_forget(tenant_id=tenant_id, user_id=user_id)
    changed_access = updated.role is not user.role or updated.status is not user.status
    pool_id = tenant_get_cached(tenant_id=tenant_id).identity.get("user_pool_id", "") if changed_access else ""
    if pool_id and updated.role is not user.role:
        cognito.set_role(pool_id, updated.email, updated.role.value)
        audit(tenant_id, "user.role_changed", actor, user_id=user_id, **{"from": user.role.value, "to": updated.role})
    if pool_id and updated.status is not user.status:
        cognito.set_enabled(pool_id, [updated.email], enabled=updated.status is UserStatus.ACTIVE)
        action = "user.enabled" if updated.status is UserStatus.ACTIVE else "user.disabled"
        audit(tenant_id, action, actor, user_id=user_id, email=updated.email)
    if "name" in changes and updated.name != user.name:
        audit(tenant_id, "user.renamed", actor, user_id=user_id)
    return updated


def user_delete(*, tenant_id: str, user_id: str, actor: str = "system", expected_version: int | None = None) -> None:
    """Delete a user: their group memberships, the record (with its email marker and counts, one
    transaction) and their Cognito sign-in. The last active TenantAdmin cannot be deleted (409
    ``last_admin``). With ``expected_version``, only if the user is still at that version.

    Memberships go first (each idempotent), then the record, then the sign-in: a run that stops half-way
    leaves at worst a sign-in without a record, which every credential check refuses; deleting again
    is 404 and re-inviting the address reuses that sign-in.
    """
    user = repository.get(tenant_id, user_id) if user_id and len(user_id) <= 64 else None
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    if expected_version is not None and expected_version != user.version:
        raise Conflict(
            "The user was changed by someone else; reload and try again.",
            code="version_conflict",
            details={"current_version": user.version},
        )
    if user.role is Role.TENANT_ADMIN and user.status is UserStatus.ACTIVE and repository.counts(tenant_id)[1] <= 1:
        raise Conflict(
            "This is the organisation's last active TenantAdmin: make someone else an admin first.",
            code=repository.LAST_ADMIN,
            details={"constraint": repository.LAST_ADMIN},
        )
    groups = repository.groups_of(tenant_id, user_id)
    for group_id in groups:
        repository.member_remove(tenant_id, group_id, user_id)
    repository.delete(tenant_id, user)
    authorization_cache_forget(tenant_id=tenant_id, user_id=user_id)
    pool_id = tenant_get_cached(tenant_id=tenant_id).identity.get("user_pool_id", "")
    if pool_id and cognito.user_attributes(pool_id, user.email).get("custom:tenantId") == tenant_id:
        cognito.remove_users(pool_id, [user.email])
    audit(tenant_id, "user.deleted", actor, user_id=user_id, email=user.email, groups=len(groups))


def user_resend_invitation(*, tenant_id: str, user_id: str, actor: str = "system") -> User:
    """Send the invitation again with a new temporary password (the old one stops working).

    Only for a user who has never signed in (409 ``already_signed_in`` otherwise: they can reset their
    password from the sign-in page) and is active (409 ``user_disabled``).
    """
    user = repository.get(tenant_id, user_id) if user_id and len(user_id) <= 64 else None
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    if user.status is not UserStatus.ACTIVE:
        raise Conflict("Enable the user before inviting them again.", code="user_disabled")
    tenant = tenant_get_cached(tenant_id=tenant_id)
    password = temporary_password()
    if not cognito.reset_temporary_password(tenant.identity["user_pool_id"], user.email, password):
        raise Conflict(
            "This user has already signed in and chosen a password; they can reset it from the sign-in page.",
            code="already_signed_in",
        )
    # If SES refuses it now, the email outbox sends it later (with yet another temporary password).
    send_invitation(tenant=tenant, email=user.email, name=user.name, temporary_password=password, actor=actor)
    audit(tenant_id, "user.invitation_resent", actor, user_id=user_id, email=user.email)
    return user


def learner_register(*, email: str, name: str, client_address: str = "") -> User:
    """An individual learner joins the shared default tenant: a user, no new tenant."""
    check_signup_rate(client_address)
    try:
        tenant = tenant_get_by_slug(slug=settings.CLOUDKIDA_DEFAULT_TENANT)
    except NotFound as error:
        raise ServiceUnavailable("Sign-up for individual learners is not open yet.", code="signup_closed") from error
    if tenant.status is not TenantStatus.ACTIVE:
        raise ServiceUnavailable("Sign-up for individual learners is closed right now.", code="signup_closed")
    email = validate_email(email)
    if user_get_by_email(tenant_id=tenant.tenant_id, email=email):
        raise Conflict(
            "You already have an account; sign in instead.", code="already_exists", details={"field": "email"}
        )
    sub = _sign_in(tenant, email=email, name=name, role=Role.TENANT_USER)
    user = user_create(tenant_id=tenant.tenant_id, email=email, name=name, role=Role.TENANT_USER, user_id=sub or None)
    count_signup(client_address)
    audit(tenant.tenant_id, "user.joined", email, user_id=user.user_id)
    return user


# --- the tenant's members, for the tenants app (registered in AccountsConfig.ready) ---------------------


def _usernames(tenant: Tenant) -> list[str]:
    pool_id = tenant.identity.get("user_pool_id")
    if not pool_id:
        return []
    if tenant.isolation is Isolation.SILO:
        return cognito.pool_usernames(pool_id)
    return cognito.group_usernames(pool_id, tenant.tenant_id)


def _active_usernames(tenant: Tenant) -> list[str]:
    """The sign-ins of the tenant's users whose records are ACTIVE (the ones resuming may re-enable)."""
    names, cursor = [], None
    while True:
        page = repository.list_page(tenant.tenant_id, limit=100, cursor=cursor)
        names += [u.email for u in page.items if u.status is UserStatus.ACTIVE]
        cursor = page.cursor
        if not cursor:
            return names


class TenantMembers:
    """accounts' side of a tenant's life (tenants.ports)."""

    def check_admin_email(self, *, email: str, isolation: Isolation) -> None:
        """In a pooled pool an address has one sign-in: refuse one that already has it in the shard a new
        tenant lands in (one AdminGetUser, however many shards there are)."""
        if isolation is Isolation.SILO:
            return
        pool_id = provisioning.current_pooled_pool_id()
        if cognito.user_attributes(pool_id, email):
            raise Conflict(
                "This email address already signs in to another CloudKida organisation; use another.",
                code="email_in_use",
                details={"field": "admin_email"},
            )

    def provision_admin(self, tenant: Tenant) -> dict:
        """The tenant admin: a Cognito user invited by CloudKida's email, and a user record. Idempotent (a
        retry before the admin's first sign-in sends a fresh temporary password)."""
        try:
            sub = _sign_in(
                tenant, email=tenant.admin_email, name=tenant.admin_name, role=Role.TENANT_ADMIN, actor="onboarding"
            )
        except Conflict as error:
            raise ValidationFailed(error.message, code="email_in_use") from error
        user = user_get_by_email(tenant_id=tenant.tenant_id, email=tenant.admin_email)
        if user is None:
            try:
                user = user_create(
                    tenant_id=tenant.tenant_id,
                    email=tenant.admin_email,
                    name=tenant.admin_name,
                    role=Role.TENANT_ADMIN,
                    user_id=sub or None,
                )
            except Conflict:
                user = user_get_by_email(tenant_id=tenant.tenant_id, email=tenant.admin_email)
        return {"user_id": user.user_id if user else "", "sub": sub}

    def tenant_suspended(self, tenant: Tenant) -> dict:
        """Every sign-in of the tenant is disabled and signed out. The records keep their own status
        (every credential is refused by the tenant's status already), so resuming restores exactly the
        people who were active."""
        pool_id = tenant.identity.get("user_pool_id")
        usernames = _usernames(tenant) if pool_id else []
        if pool_id:
            cognito.set_enabled(pool_id, usernames, enabled=False)
        authorization_cache_forget(tenant_id=tenant.tenant_id)
        return {"sign_ins_disabled": len(usernames)}

    def tenant_resumed(self, tenant: Tenant) -> dict:
        pool_id = tenant.identity.get("user_pool_id")
        usernames = _active_usernames(tenant) if pool_id else []
        if pool_id:
            cognito.set_enabled(pool_id, usernames, enabled=True)
        return {"sign_ins_enabled": len(usernames)}

    def tenant_removing(self, tenant: Tenant) -> dict:
        authorization_cache_forget(tenant_id=tenant.tenant_id)
        api_key_cache_clear()
        pool_id = tenant.identity.get("user_pool_id")
        if not pool_id or tenant.isolation is Isolation.SILO:  # a silo pool goes whole with the tenant
            return {}
        usernames = _usernames(tenant)
        cognito.remove_users(pool_id, usernames)
        providers = providers_remove_from_cognito(tenant_id=tenant.tenant_id, pool_id=pool_id)
        return {"sign_ins": len(usernames), "identity_providers": providers}


# --- groups and policies ------------------------------------------------------------------------------

MAX_CONCURRENT_LABS = 50
MAX_MONTHLY_LAB_MINUTES = 1_000_000
MAX_GROUPS_PER_USER = 50


def _group_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 80:
        raise ValidationFailed(
            "Name the group (1 to 80 characters).", code="invalid_group_name", details={"field": "name"}
        )
    return name


def _group(tenant_id: str, group_id: str) -> Group:
    group = repository.group_get(tenant_id, group_id) if group_id and len(group_id) <= 64 else None
    if group is None:
        raise NotFound("No such group.", code="group_not_found")
    return group


def group_create(*, tenant_id: str, name: str, description: str = "", actor: str = "system") -> Group:
    """A new group of the tenant; Conflict if it has a group of that name (case-insensitive)."""
    group = Group(
        tenant_id=check_tenant_id(tenant_id),
        group_id=new_ulid(),
        name=_group_name(name),
        description=" ".join((description or "").split())[:300],
        created_at=clock.now(),
    )
    try:
        group = repository.group_create(tenant_id, group)
    except Conflict as conflict:
        raise Conflict(
            f"There is already a group called {group.name!r}.", code="already_exists", details={"field": "name"}
        ) from conflict
    audit(tenant_id, "group.created", actor, group_id=group.group_id, name=group.name)
    return group


def group_update(*, tenant_id: str, group_id: str, expected_version: int, actor: str = "system", **changes) -> Group:
    """Rename or re-describe a group (optimistic locking)."""
    group = _group(tenant_id, group_id)
    group.version = expected_version
    if "name" in changes:
        changes["name"] = _group_name(changes["name"])
    if "description" in changes:
        changes["description"] = " ".join((changes["description"] or "").split())[:300]
    try:
        updated = repository.group_update(tenant_id, group, **changes)
    except Conflict as conflict:
        if getattr(conflict, "failed", [""])[0] == "groupname":
            raise Conflict(
                f"There is already a group called {changes['name']!r}.",
                code="already_exists",
                details={"field": "name"},
            ) from conflict
        raise
    audit(tenant_id, "group.updated", actor, group_id=group_id, fields=sorted(changes))
    return updated


def group_delete(*, tenant_id: str, group_id: str, expected_version: int, actor: str = "system") -> None:
    """Delete an empty group and its policy (409 ``group_not_empty`` while it has members)."""
    group = _group(tenant_id, group_id)
    if group.member_count:
        raise Conflict(
            "Remove the group's members first.", code="group_not_empty", details={"members": group.member_count}
        )
    group.version = expected_version
    try:
        repository.group_delete(tenant_id, group)
    except Conflict as conflict:  # changed since it was read: a member was added, or it was edited
        current = repository.group_get(tenant_id, group_id)
        if current is not None and current.member_count and current.version == expected_version:
            raise Conflict("Remove the group's members first.", code="group_not_empty") from conflict
        raise
    audit(tenant_id, "group.deleted", actor, group_id=group_id, name=group.name)


def group_add_member(*, tenant_id: str, group_id: str, user_id: str, actor: str = "system") -> bool:
    """Put a user of the tenant in one of its groups; False if already there (idempotent)."""
    _group(tenant_id, group_id)
    if repository.get(tenant_id, user_id) is None:
        raise NotFound("No such user.", code="user_not_found")
    if len(repository.groups_of(tenant_id, user_id)) >= MAX_GROUPS_PER_USER:
        raise ValidationFailed(f"A user can be in at most {MAX_GROUPS_PER_USER} groups.", code="too_many_groups")
    added = repository.member_add(tenant_id, group_id, user_id, added_at=clock.to_iso(clock.now()))
    if added:
        audit(tenant_id, "group.member_added", actor, group_id=group_id, user_id=user_id)
    return added


def group_remove_member(*, tenant_id: str, group_id: str, user_id: str, actor: str = "system") -> bool:
    """Take a user out of a group; False if not in it (idempotent)."""
    _group(tenant_id, group_id)
    removed = repository.member_remove(tenant_id, group_id, user_id)
    if removed:
        audit(tenant_id, "group.member_removed", actor, group_id=group_id, user_id=user_id)
    return removed


def _limit(value, *, field: str, maximum: int, minimum: int = 0) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValidationFailed(
            f"{field} must be a whole number from {minimum} to {maximum}, or empty for no limit.",
            code="invalid_policy",
            details={"field": field},
        )
    return value


def _lab_ids(values) -> list[str] | None:
    if values is None:
        return None
    cleaned = sorted({str(v).strip() for v in values if str(v).strip()})
    if len(cleaned) > 500 or any(len(v) > 64 for v in cleaned):
        raise ValidationFailed(
            "A policy lists at most 500 lab ids.", code="invalid_policy", details={"field": "allowed_lab_ids"}
        )
    return cleaned


def policy_set(*, tenant_id: str, group_id: str = "", expected_version: int, actor: str = "system", **fields) -> Policy:
    """Set the tenant's policy (``group_id`` "") or a group's. Fields left out or None do not restrict:
    ``allowed_lab_ids`` (labs the members may start), ``max_concurrent_labs`` per user,
    ``monthly_lab_minutes`` per user per month, ``allowed_regions``. ``expected_version`` is 0 for a policy
    never set."""
    if group_id:
        _group(tenant_id, group_id)
    policy = Policy(
        tenant_id=tenant_id,
        group_id=group_id,
        allowed_lab_ids=_lab_ids(fields.get("allowed_lab_ids")),
        max_concurrent_labs=_limit(
            fields.get("max_concurrent_labs"), field="max_concurrent_labs", minimum=1, maximum=MAX_CONCURRENT_LABS
        ),
        monthly_lab_minutes=_limit(
            fields.get("monthly_lab_minutes"), field="monthly_lab_minutes", maximum=MAX_MONTHLY_LAB_MINUTES
        ),
        allowed_regions=validate_regions(fields.get("allowed_regions")),
        version=expected_version,
    )
    try:
        saved = repository.policy_put(tenant_id, policy)
    except NotFound as error:  # a version for a policy never set
        raise Conflict(
            "The policy is not at that version; reload and try again.",
            code="version_conflict",
            details={"current_version": 0},
        ) from error
    except Conflict as conflict:
        if expected_version != 0:
            raise
        # version 0 ("never set") for a policy someone has set meanwhile: the same stale read
        raise Conflict(
            "The policy was changed by someone else; reload and try again.", code="version_conflict"
        ) from conflict
    audit(tenant_id, "policy.set", actor, group_id=group_id or None, policy={f: fields.get(f) for f in sorted(fields)})
    return saved
