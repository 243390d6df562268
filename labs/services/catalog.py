"""Writes of the catalog: lab definitions (global or a tenant's), publishing, enabling, assignments.

A lab is written as a DRAFT; publishing validates its CloudFormation template with CloudFormation (the
template lives in the assets bucket, content-addressed, so a running session's template never changes
under it) and bumps its revision. A published lab may still be edited: each change is validated the same
way and is a new revision. Global labs are CloudKida's (system admins, in the Django admin); a tenant's
private labs are its admins'. Templates of a tenant's labs live under its assets prefix and go with it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Any

from cloudkida import assets, clock
from cloudkida.errors import Conflict, NotFound, ValidationFailed
from cloudkida.ids import new_ulid
from cloudkida.validation import validate_regions
from labs import aws_accounts, checks
from labs.domain import Assignment, Lab, LabStatus, Level, Task
from labs.repository import catalog as repo
from tenants.repository import platform_event_add
from tenants.services import audit

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SERVICE_RE = re.compile(r"^[a-z0-9-]{2,40}$")
TASK_ID_RE = re.compile(r"^[a-z0-9-]{1,40}$")
MAX_TEMPLATE_BYTES = 51_200  # CloudFormation's limit for a template passed inline (TemplateBody)
MAX_TASKS = 20
EDITABLE = (
    "title",
    "slug",
    "summary",
    "instructions",
    "level",
    "duration_minutes",
    "max_duration_minutes",
    "allowed_regions",
    "allowed_services",
    "budget_usd",
    "tasks",
    "public",
    "hot_pool_size",
)


def _invalid(message: str, field: str, code: str = "invalid_lab") -> ValidationFailed:
    return ValidationFailed(message, code=code, details={"field": field})


def _text(value: Any, field: str, *, maximum: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise _invalid(f"{field} is required.", field)
    if len(text) > maximum:
        raise _invalid(f"{field} is at most {maximum} characters.", field)
    return text


def _number(value: Any, field: str, *, minimum: float, maximum: float, whole: bool = True) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or (whole and not float(value).is_integer()):
        raise _invalid(f"{field} must be a {'whole ' if whole else ''}number.", field)
    if not minimum <= value <= maximum:
        raise _invalid(f"{field} must be between {minimum:g} and {maximum:g}.", field)
    return int(value) if whole else round(float(value), 2)


def _tasks(values: Any) -> list[Task]:
    if not isinstance(values, list) or len(values) > MAX_TASKS:
        raise _invalid(f"tasks is a list of at most {MAX_TASKS}.", "tasks")
    tasks, seen = [], set()
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            raise _invalid("Each task is an object.", f"tasks[{index}]")
        task_id = str(value.get("task_id") or f"task-{index + 1}")
        if not TASK_ID_RE.match(task_id) or task_id in seen:
            raise _invalid(
                "Task ids are unique, 1-40 lower-case letters, digits and dashes.", f"tasks[{index}].task_id"
            )
        seen.add(task_id)
        tasks.append(
            Task(
                task_id=task_id,
                title=_text(value.get("title"), f"tasks[{index}].title", maximum=200, required=True),
                instructions=_text(value.get("instructions"), f"tasks[{index}].instructions", maximum=20_000),
                check=checks.validate(value.get("check")),
            )
        )
    return tasks


def _clean(fields: dict[str, Any], *, is_global: bool) -> dict[str, Any]:
    """Validated values of the editable fields present in ``fields``."""
    out: dict[str, Any] = {}
    if "title" in fields:
        out["title"] = _text(fields["title"], "title", maximum=200, required=True)
    if "slug" in fields:
        slug = str(fields["slug"] or "").strip().lower()
        if not SLUG_RE.match(slug):
            raise _invalid("A lab's slug is 1-64 lower-case letters, digits and dashes.", "slug", "invalid_slug")
        out["slug"] = slug
    if "summary" in fields:
        out["summary"] = _text(fields["summary"], "summary", maximum=500)
    if "instructions" in fields:
        out["instructions"] = _text(fields["instructions"], "instructions", maximum=100_000)
    if "level" in fields:
        try:
            out["level"] = Level(fields["level"])
        except ValueError as error:
            raise _invalid("level is beginner, intermediate or advanced.", "level") from error
    if "duration_minutes" in fields:
        out["duration_minutes"] = _number(fields["duration_minutes"], "duration_minutes", minimum=15, maximum=480)
    if "max_duration_minutes" in fields:
        out["max_duration_minutes"] = _number(
            fields["max_duration_minutes"], "max_duration_minutes", minimum=15, maximum=720
        )
    if "allowed_regions" in fields:
        if not isinstance(fields["allowed_regions"], list) or not 1 <= len(fields["allowed_regions"]) <= 5:
            raise _invalid("allowed_regions lists 1 to 5 AWS regions.", "allowed_regions")
        first = str(fields["allowed_regions"][0]).strip().lower()
        regions = validate_regions(fields["allowed_regions"]) or []
        out["allowed_regions"] = [first, *[r for r in regions if r != first]]  # the first is the default
    if "allowed_services" in fields:
        services = fields["allowed_services"]
        if (
            not isinstance(services, list)
            or len(services) > 40
            or not all(isinstance(s, str) and SERVICE_RE.match(s) for s in services)
        ):
            raise _invalid(
                "allowed_services lists at most 40 IAM service prefixes such as s3 or dynamodb.", "allowed_services"
            )
        out["allowed_services"] = sorted(set(services))
    if "budget_usd" in fields:
        out["budget_usd"] = _number(fields["budget_usd"], "budget_usd", minimum=0.01, maximum=1000, whole=False)
    if "tasks" in fields:
        out["tasks"] = _tasks(fields["tasks"])
    for flag in ("public", "hot_pool_size"):
        if flag in fields and not is_global and fields[flag]:
            raise _invalid(f"{flag} is for CloudKida's global labs only.", flag)
    if "public" in fields:
        out["public"] = bool(fields["public"])
    if "hot_pool_size" in fields:
        out["hot_pool_size"] = _number(fields["hot_pool_size"], "hot_pool_size", minimum=0, maximum=500)
    return out


def _template_key(owner: str, lab_id: str, body: str) -> str:
    digest = hashlib.sha256(body.encode()).hexdigest()[:20]
    base = assets.tenant_prefix(owner) if owner else "platform/"
    return f"{base}labs/{lab_id}/{digest}.template"


def _upload(owner: str, lab_id: str, template: Any) -> str:
    body = str(template or "")
    if not body.strip():
        raise _invalid("The CloudFormation template is empty.", "template", "invalid_template")
    if len(body.encode()) > MAX_TEMPLATE_BYTES:
        raise _invalid(f"A template is at most {MAX_TEMPLATE_BYTES} bytes.", "template", "invalid_template")
    key = _template_key(owner, lab_id, body)
    aws_accounts.upload_template(key, body)
    return key


def _validated(key: str) -> None:
    problem = aws_accounts.validate_template(key)
    if problem:
        raise ValidationFailed(
            "CloudFormation refused the lab's template.",
            code="invalid_template",
            details={"field": "template", "reason": problem[:500]},
        )


def _check_durations(duration: int, maximum: int) -> None:
    if maximum < duration:
        raise _invalid("max_duration_minutes cannot be shorter than duration_minutes.", "max_duration_minutes")


def lab_create(*, owner: str, actor: str, template: str | None = None, **fields: Any) -> Lab:
    """A new DRAFT lab of ``owner`` ("" for a global lab). Conflict (``labslug``) if the slug is taken."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise _invalid(f"Unknown lab fields: {', '.join(sorted(unknown))}.", sorted(unknown)[0])
    values = _clean({"title": fields.get("title"), "slug": fields.get("slug"), **fields}, is_global=not owner)
    now = clock.now()
    lab = Lab(
        lab_id=new_ulid(),
        owner=owner,
        slug=values.pop("slug"),
        title=values.pop("title"),
        created_at=now,
        updated_at=now,
    )
    lab = replace(lab, **values)
    _check_durations(lab.duration_minutes, lab.max_duration_minutes)
    if template is not None:
        lab.template_key = _upload(owner, lab.lab_id, template)
    lab = repo.lab_create(lab)
    _audit(owner, "lab.created", actor, lab_id=lab.lab_id, slug=lab.slug)
    return lab


def _get(owner: str, lab_id: str) -> Lab:
    lab = repo.lab_get(owner, lab_id) if lab_id and len(lab_id) <= 64 else None
    if lab is None:
        raise NotFound("No such lab.", code="lab_not_found")
    return lab


def lab_update(
    *, owner: str, lab_id: str, expected_version: int, actor: str, template: str | None = None, **fields: Any
) -> Lab:
    """Change a lab at ``expected_version``. A DRAFT changes in place; a PUBLISHED lab's change is
    validated (its template by CloudFormation) and becomes its next revision; a RETIRED lab is read-only."""
    lab = _get(owner, lab_id)
    if lab.version != expected_version:
        raise Conflict(
            "The lab changed since you read it; reload.",
            code="version_conflict",
            details={"current_version": lab.version},
        )
    if lab.status is LabStatus.RETIRED:
        raise Conflict("A retired lab cannot be changed.", code="lab_retired")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise _invalid(f"Unknown lab fields: {', '.join(sorted(unknown))}.", sorted(unknown)[0])
    changes = _clean(fields, is_global=lab.is_global)
    _check_durations(
        changes.get("duration_minutes", lab.duration_minutes),
        changes.get("max_duration_minutes", lab.max_duration_minutes),
    )
    if template is not None:
        changes["template_key"] = _upload(owner, lab.lab_id, template)
        changes["template_validated"] = False
    if not changes:
        raise ValidationFailed("Nothing to change.", code="nothing_to_change")
    if lab.status is LabStatus.PUBLISHED:
        if "template_key" in changes:
            _validated(changes["template_key"])
            changes["template_validated"] = True
        changes["revision"] = lab.revision + 1
    changes["updated_at"] = clock.now()
    lab = repo.lab_update(lab, **changes)
    _audit(
        owner,
        "lab.updated",
        actor,
        lab_id=lab.lab_id,
        fields=sorted(fields) + (["template"] if template is not None else []),
    )
    return lab


def lab_publish(*, owner: str, lab_id: str, actor: str) -> Lab:
    """DRAFT (or RETIRED) → PUBLISHED, once CloudFormation accepts its template; a new revision."""
    lab = _get(owner, lab_id)
    if lab.status is LabStatus.PUBLISHED:
        return lab
    if not lab.template_key:
        raise ValidationFailed(
            "Upload the lab's CloudFormation template first.", code="template_missing", details={"field": "template"}
        )
    if not lab.tasks:
        raise ValidationFailed(
            "A lab needs at least one task before it is published.", code="tasks_missing", details={"field": "tasks"}
        )
    _validated(lab.template_key)
    lab = repo.lab_update(
        lab, status=LabStatus.PUBLISHED, revision=lab.revision + 1, template_validated=True, updated_at=clock.now()
    )
    _audit(owner, "lab.published", actor, lab_id=lab.lab_id, revision=lab.revision)
    return lab


def lab_retire(*, owner: str, lab_id: str, actor: str) -> Lab:
    """No new sessions (running ones go on to their end); publishing again brings it back."""
    lab = _get(owner, lab_id)
    if lab.status is LabStatus.RETIRED:
        return lab
    lab = repo.lab_update(lab, status=LabStatus.RETIRED, updated_at=clock.now())
    _audit(owner, "lab.retired", actor, lab_id=lab.lab_id)
    return lab


def lab_enable(*, tenant_id: str, lab_id: str, enabled: bool, actor: str) -> Lab:
    """Offer (or stop offering) a published global lab to the tenant's people."""
    lab = repo.lab_get("", lab_id) if lab_id and len(lab_id) <= 64 else None
    if lab is None:
        raise NotFound("No such lab in CloudKida's catalog.", code="lab_not_found")
    if enabled and lab.status is not LabStatus.PUBLISHED:
        raise Conflict("Only a published lab can be enabled.", code="lab_not_published")
    repo.enabled_set(tenant_id, lab_id, enabled=enabled, at=clock.to_iso(clock.now()), actor=actor)
    _audit(tenant_id, "lab.enabled" if enabled else "lab.disabled", actor, lab_id=lab_id)
    return lab


def assignment_add(
    *, tenant_id: str, lab: Lab, assignee_type: str, assignee_id: str, actor: str
) -> tuple[Assignment, bool]:
    """Assign a lab (the tenant's, or an enabled global one) to a user or group of the tenant."""
    assignment = Assignment(tenant_id, lab.lab_id, assignee_type, assignee_id, clock.now(), actor)
    created = repo.assignment_add(assignment)
    if created:
        _audit(tenant_id, "lab.assigned", actor, lab_id=lab.lab_id, assignee=f"{assignee_type}:{assignee_id}")
    return assignment, created


def assignment_remove(*, tenant_id: str, lab_id: str, assignee_type: str, assignee_id: str, actor: str) -> None:
    if not repo.assignment_remove(tenant_id, lab_id, assignee_type, assignee_id):
        raise NotFound("No such assignment.", code="assignment_not_found")
    _audit(tenant_id, "lab.unassigned", actor, lab_id=lab_id, assignee=f"{assignee_type}:{assignee_id}")


def _audit(owner: str, action: str, actor: str, **details: Any) -> None:
    if owner:
        audit(owner, action, actor, **details)
    else:
        platform_event_add(action=action, actor=actor, details=details)
