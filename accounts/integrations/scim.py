"""SCIM 2.0 (RFC 7643/7644) onto the accounts services: an enterprise directory (Okta, Entra ID) creates,
updates, disables, deletes and groups the tenant's people through the same services the portal uses, so
every change reaches Cognito (sign-in, enabled, role), the authorisation cache and the audit trail as an
admin's would, and records the same webhook events.

Mapping: a SCIM User is a user (``id`` = user id, ``userName`` = the email, ``name``/``displayName`` = the
name, ``active`` = ACTIVE/DISABLED); a SCIM Group is a group (``displayName`` = its name, ``members`` = its
users). ``externalId`` is accepted and not stored. Filters: ``userName eq "<email>"`` (and
``emails.value eq``) for Users, ``displayName eq "<name>"`` for Groups, parsed with scim2-filter-parser;
anything else is ``400 invalidFilter``. Listing without a filter reads the tenant's users or groups page
by page up to ``startIndex + count`` (directories page through small tenants; Okta's connection test
asks for two).
"""

from __future__ import annotations

from typing import Any

from accounts.domain import Group, User, UserStatus
from accounts.selectors import (
    group_get,
    group_list,
    group_member_ids,
    group_members,
    user_get,
    user_get_by_email,
    user_list,
)
from accounts.services import (
    group_add_member,
    group_create,
    group_delete,
    group_remove_member,
    group_update,
    user_delete,
    user_invite,
    user_update,
)
from cloudkida.clock import to_iso
from cloudkida.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from cloudkida.lazy import lazy_module

# The filter grammar (sly) loads with the first SCIM filter, not with every cold start.
scim_ast = lazy_module("scim2_filter_parser.ast")
_lexer = lazy_module("scim2_filter_parser.lexer")
_parser = lazy_module("scim2_filter_parser.parser")

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
ACTOR = "scim"
MAX_COUNT = 100


class ScimError(ApplicationError):
    """An error SCIM clients understand (``scimType``: invalidFilter, uniqueness, mutability, ...)."""

    def __init__(self, status: int, detail: str, scim_type: str = ""):
        super().__init__(detail, code=scim_type or "scim_error")
        self.status = status
        self.scim_type = scim_type


def error_body(status: int, detail: str, scim_type: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


# --- filters ------------------------------------------------------------------------------------------------------
def parse_eq_filter(text: str, allowed: set[str]) -> tuple[str, str]:
    """``(attribute, value)`` of a filter ``<attribute> eq "<value>"`` naming one of ``allowed`` (lower-cased
    names; ``emails.value`` for the sub-attribute); ScimError invalidFilter otherwise."""
    try:
        tree = _parser.SCIMParser().parse(_lexer.SCIMLexer().tokenize(text))
    except Exception as error:  # the parser raises its own errors, and ValueError on illegal characters
        raise ScimError(400, f"The filter could not be parsed: {error}"[:300], "invalidFilter") from error
    nodes = [node for _depth, node in scim_ast.flatten(tree)]
    exprs = [n for n in nodes if isinstance(n, scim_ast.AttrExpr)]
    filters = [n for n in nodes if isinstance(n, scim_ast.Filter)]
    if (
        len(exprs) != 1
        or len(filters) != 1
        or filters[0].negated
        or filters[0].namespace is not None
        or any(isinstance(n, scim_ast.LogExpr) for n in nodes)
        or not isinstance(exprs[0].attr_path, scim_ast.AttrPath)
        or not isinstance(exprs[0].attr_path.attr_name, str)
    ):
        raise ScimError(400, "Only filters of the form 'attribute eq \"value\"' are supported.", "invalidFilter")
    expr = exprs[0]
    path = expr.attr_path
    name = path.attr_name.lower() + (f".{str(path.sub_attr.value).lower()}" if path.sub_attr else "")
    if expr.value.lower() != "eq" or name not in allowed or expr.comp_value is None:
        raise ScimError(400, f'Supported filters: {", ".join(sorted(allowed))} eq "value".', "invalidFilter")
    return name, str(expr.comp_value.value)


# --- users --------------------------------------------------------------------------------------------------------
def _split(name: str) -> tuple[str, str]:
    given, _, family = name.partition(" ")
    return given, family


def user_resource(user: User, base_url: str) -> dict[str, Any]:
    given, family = _split(user.name)
    return {
        "schemas": [USER_SCHEMA],
        "id": user.user_id,
        "userName": user.email,
        "name": {"formatted": user.name, "givenName": given, "familyName": family},
        "displayName": user.name,
        "emails": [{"value": user.email, "primary": True, "type": "work"}],
        "active": user.status is UserStatus.ACTIVE,
        "meta": {
            "resourceType": "User",
            "created": to_iso(user.created_at),
            "location": f"{base_url}/Users/{user.user_id}",
            "version": f'W/"{user.version}"',
        },
    }


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"  # older Entra apps send "False"
    raise ScimError(400, "active must be true or false.", "invalidValue")


def _email_of(body: dict[str, Any]) -> str:
    user_name = str(body.get("userName") or "").strip()
    if "@" in user_name:
        return user_name
    emails = body.get("emails") or []
    primary = next((e for e in emails if isinstance(e, dict) and e.get("primary")), emails[0] if emails else None)
    if isinstance(primary, dict) and "@" in str(primary.get("value", "")):
        return str(primary["value"])
    raise ScimError(400, "userName (or a primary email) must be an email address.", "invalidValue")


def _name_of(body: dict[str, Any], fallback: str) -> str:
    name = body.get("name") if isinstance(body.get("name"), dict) else {}
    if name.get("formatted"):
        return str(name["formatted"])
    if body.get("displayName"):
        return str(body["displayName"])
    joined = " ".join(str(p) for p in (name.get("givenName"), name.get("familyName")) if p)
    return joined or fallback


def _lookup(tenant_id: str, user_id: str) -> User:
    try:
        return user_get(tenant_id=tenant_id, user_id=user_id) if 0 < len(user_id) <= 64 else _missing(user_id)
    except NotFound as error:
        raise ScimError(404, f"Resource {user_id[:64]} not found", "") from error


def _missing(resource_id: str):
    raise ScimError(404, f"Resource {resource_id[:64]} not found", "")


def scim_user_list(*, tenant_id: str, filter_text: str | None, start: int, count: int) -> tuple[int, list[User]]:
    """``(totalResults, users of the page)``; startIndex is 1-based."""
    start, count = max(1, start), max(0, min(count, MAX_COUNT))
    if filter_text:
        _attr, value = parse_eq_filter(filter_text, {"username", "emails.value", "emails"})
        found = user_get_by_email(tenant_id=tenant_id, email=value) if "@" in value else None
        matches = [found] if found else []
        return len(matches), matches[start - 1 : start - 1 + count]
    users, cursor = [], None
    while True:
        page = user_list(tenant_id=tenant_id, limit=100, cursor=cursor)
        users += page.items
        if not page.cursor:
            break
        cursor = page.cursor
    return len(users), users[start - 1 : start - 1 + count]


def scim_user_create(*, tenant_id: str, body: dict[str, Any]) -> User:
    email = _email_of(body)
    try:
        user = user_invite(tenant_id=tenant_id, email=email, name=_name_of(body, email.split("@")[0]), actor=ACTOR)
    except Conflict as error:
        raise ScimError(409, "userName already exists", "uniqueness") from error
    if "active" in body and not _bool(body["active"]):
        user = user_update(
            tenant_id=tenant_id,
            user_id=user.user_id,
            expected_version=user.version,
            actor=ACTOR,
            status=UserStatus.DISABLED,
        )
    return user


def _apply_user(tenant_id: str, user: User, changes: dict[str, Any]) -> User:
    changes = {k: v for k, v in changes.items() if v is not None}
    if "status" in changes and changes["status"] is user.status:
        changes.pop("status")
    if "name" in changes and changes["name"] == user.name:
        changes.pop("name")
    if "email" in changes and changes["email"].lower() == user.email:
        changes.pop("email")
    if not changes:
        return user
    try:
        return user_update(
            tenant_id=tenant_id, user_id=user.user_id, expected_version=user.version, actor=ACTOR, **changes
        )
    except Conflict as error:
        if error.code == "last_admin":
            raise ScimError(400, error.message, "mutability") from error
        raise ScimError(409, error.message, "uniqueness" if error.code == "already_exists" else "") from error


def scim_user_replace(*, tenant_id: str, user_id: str, body: dict[str, Any]) -> User:
    """PUT: the name, email and (when given) active state. A PUT without ``active`` keeps the state."""
    user = _lookup(tenant_id, user_id)
    changes: dict[str, Any] = {"name": _name_of(body, user.name), "email": _email_of(body)}
    if "active" in body:
        changes["status"] = UserStatus.ACTIVE if _bool(body["active"]) else UserStatus.DISABLED
    return _apply_user(tenant_id, user, changes)


def _operations(body: dict[str, Any]) -> list[dict[str, Any]]:
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "A PatchOp needs Operations.", "invalidSyntax")
    for operation in operations:
        if not isinstance(operation, dict) or str(operation.get("op", "")).lower() not in {"add", "replace", "remove"}:
            raise ScimError(400, "Each operation's op is add, replace or remove.", "invalidSyntax")
    return operations


def scim_user_patch(*, tenant_id: str, user_id: str, body: dict[str, Any]) -> User:
    user = _lookup(tenant_id, user_id)
    given, family = _split(user.name)
    name: str | None = None
    changes: dict[str, Any] = {}
    for operation in _operations(body):
        op, path, value = str(operation["op"]).lower(), str(operation.get("path") or ""), operation.get("value")
        if op == "remove":
            raise ScimError(400, "Users' attributes cannot be removed.", "mutability")
        values = value if not path and isinstance(value, dict) else {path: value}
        for attribute, new in values.items():
            key = attribute.lower()
            if key == "active":
                changes["status"] = UserStatus.ACTIVE if _bool(new) else UserStatus.DISABLED
            elif key in {"displayname", "name.formatted"}:
                name = str(new)
            elif key == "name" and isinstance(new, dict):
                name = _name_of({"name": new}, user.name)
            elif key == "name.givenname":
                given = str(new)
                name = f"{given} {family}".strip()
            elif key == "name.familyname":
                family = str(new)
                name = f"{given} {family}".strip()
            elif key in {"username", 'emails[type eq "work"].value', "emails"}:
                changes["email"] = _email_of({"userName": new} if isinstance(new, str) else {"emails": new})
            elif key in {"externalid", "id", "schemas", "meta"}:
                continue  # not stored / not changeable: ignored as directories expect
            else:
                raise ScimError(400, f"The attribute {attribute!r} is not supported.", "invalidPath")
    if name is not None:
        changes["name"] = name
    return _apply_user(tenant_id, user, changes)


def scim_user_delete(*, tenant_id: str, user_id: str) -> None:
    _lookup(tenant_id, user_id)
    try:
        user_delete(tenant_id=tenant_id, user_id=user_id, actor=ACTOR)
    except Conflict as error:
        raise ScimError(400, error.message, "mutability") from error


def scim_user_get(*, tenant_id: str, user_id: str) -> User:
    return _lookup(tenant_id, user_id)


# --- groups -------------------------------------------------------------------------------------------------------
def _members(tenant_id: str, group_id: str) -> list[User]:
    users, cursor = [], None
    while True:
        page = group_members(tenant_id=tenant_id, group_id=group_id, limit=100, cursor=cursor)
        users += page.items
        if not page.cursor:
            return users
        cursor = page.cursor


def group_resource(group: Group, base_url: str, *, members: list[User] | None) -> dict[str, Any]:
    resource = {
        "schemas": [GROUP_SCHEMA],
        "id": group.group_id,
        "displayName": group.name,
        "meta": {
            "resourceType": "Group",
            "created": to_iso(group.created_at),
            "location": f"{base_url}/Groups/{group.group_id}",
            "version": f'W/"{group.version}"',
        },
    }
    if members is not None:
        resource["members"] = [
            {"value": u.user_id, "display": u.email, "$ref": f"{base_url}/Users/{u.user_id}"} for u in members
        ]
    return resource


def _group(tenant_id: str, group_id: str) -> Group:
    try:
        return group_get(tenant_id=tenant_id, group_id=group_id)
    except NotFound as error:
        raise ScimError(404, f"Resource {group_id[:64]} not found") from error


def scim_group_get(*, tenant_id: str, group_id: str) -> tuple[Group, list[User]]:
    group = _group(tenant_id, group_id)
    return group, _members(tenant_id, group_id)


def scim_group_list(*, tenant_id: str, filter_text: str | None, start: int, count: int) -> tuple[int, list[Group]]:
    start, count = max(1, start), max(0, min(count, MAX_COUNT))
    groups, cursor = [], None
    while True:
        page = group_list(tenant_id=tenant_id, limit=100, cursor=cursor)
        groups += page.items
        if not page.cursor:
            break
        cursor = page.cursor
    if filter_text:
        _attr, value = parse_eq_filter(filter_text, {"displayname"})
        groups = [g for g in groups if g.name.lower() == value.strip().lower()]
    return len(groups), groups[start - 1 : start - 1 + count]


def _member_ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    ids = [str(i.get("value")) for i in items if isinstance(i, dict) and i.get("value")]
    if len(ids) != len(items):
        raise ScimError(400, "members are objects with a value (the user id).", "invalidValue")
    return ids


def _add_members(tenant_id: str, group_id: str, user_ids: list[str]) -> None:
    for user_id in user_ids:
        try:
            group_add_member(tenant_id=tenant_id, group_id=group_id, user_id=user_id, actor=ACTOR)
        except NotFound as error:
            raise ScimError(400, f"No user {user_id[:64]} in this organisation.", "invalidValue") from error


def _remove_members(tenant_id: str, group_id: str, user_ids: list[str]) -> None:
    for user_id in user_ids:
        try:
            group_remove_member(tenant_id=tenant_id, group_id=group_id, user_id=user_id, actor=ACTOR)
        except NotFound:
            pass  # already not a member: removing is idempotent


def _all_member_ids(tenant_id: str, group_id: str) -> list[str]:
    ids, cursor = [], None
    while True:
        page = group_member_ids(tenant_id=tenant_id, group_id=group_id, limit=100, cursor=cursor)
        ids += page.items
        if not page.cursor:
            return ids
        cursor = page.cursor


def scim_group_create(*, tenant_id: str, body: dict[str, Any]) -> Group:
    name = str(body.get("displayName") or "").strip()
    if not name:
        raise ScimError(400, "displayName is required.", "invalidValue")
    try:
        group = group_create(tenant_id=tenant_id, name=name, actor=ACTOR)
    except Conflict as error:
        raise ScimError(409, "displayName already exists", "uniqueness") from error
    except ValidationFailed as error:
        raise ScimError(400, error.message, "invalidValue") from error
    if body.get("members"):
        _add_members(tenant_id, group.group_id, _member_ids(body["members"]))
    return _group(tenant_id, group.group_id)


def _rename(tenant_id: str, group: Group, name: str) -> Group:
    if name == group.name:
        return group
    try:
        return group_update(
            tenant_id=tenant_id, group_id=group.group_id, expected_version=group.version, actor=ACTOR, name=name
        )
    except Conflict as error:
        raise ScimError(409, error.message, "uniqueness") from error


def scim_group_patch(*, tenant_id: str, group_id: str, body: dict[str, Any]) -> Group:
    group = _group(tenant_id, group_id)
    for operation in _operations(body):
        op, path, value = str(operation["op"]).lower(), str(operation.get("path") or ""), operation.get("value")
        lowered = path.lower().replace(" ", "")
        if op in {"add", "replace"} and not path and isinstance(value, dict):
            if value.get("displayName"):
                group = _rename(tenant_id, group, str(value["displayName"]))
            if "members" in value:
                if op == "replace":
                    _remove_members(tenant_id, group_id, _all_member_ids(tenant_id, group_id))
                _add_members(tenant_id, group_id, _member_ids(value["members"]))
        elif lowered == "displayname" and op in {"add", "replace"}:
            group = _rename(tenant_id, group, str(value))
        elif lowered == "members" and op == "add":
            _add_members(tenant_id, group_id, _member_ids(value))
        elif lowered == "members" and op == "replace":
            _remove_members(tenant_id, group_id, _all_member_ids(tenant_id, group_id))
            _add_members(tenant_id, group_id, _member_ids(value))
        elif lowered == "members" and op == "remove":
            # Entra removes by value list; the RFC's bare "members" removes them all
            ids = _member_ids(value) if value else _all_member_ids(tenant_id, group_id)
            _remove_members(tenant_id, group_id, ids)
        elif lowered.startswith("members[") and op == "remove":
            _attr, member = parse_eq_filter(path[len("members[") : path.rindex("]")], {"value"})
            _remove_members(tenant_id, group_id, [member])
        else:
            raise ScimError(400, f"The operation {op} {path!r} is not supported on Groups.", "invalidPath")
    return _group(tenant_id, group_id)


def scim_group_replace(*, tenant_id: str, group_id: str, body: dict[str, Any]) -> Group:
    group = _group(tenant_id, group_id)
    if body.get("displayName"):
        group = _rename(tenant_id, group, str(body["displayName"]))
    if "members" in body:
        wanted = set(_member_ids(body["members"] or []))
        current = set(_all_member_ids(tenant_id, group_id))
        _remove_members(tenant_id, group_id, sorted(current - wanted))
        _add_members(tenant_id, group_id, sorted(wanted - current))
    return _group(tenant_id, group_id)


def scim_group_delete(*, tenant_id: str, group_id: str) -> None:
    _group(tenant_id, group_id)
    _remove_members(tenant_id, group_id, _all_member_ids(tenant_id, group_id))
    group = _group(tenant_id, group_id)
    group_delete(tenant_id=tenant_id, group_id=group_id, expected_version=group.version, actor=ACTOR)
