"""Bulk import of a tenant's users from a CSV file, for classes of hundreds or thousands of learners.

``user_import_start`` checks the file's shape (UTF-8, a header with ``email`` and ``name``, at most
``MAX_ROWS`` rows), stores it under the tenant's prefix of the assets bucket and starts the
``user-import`` job (``cloudkida.jobs``). The job reads the file in chunks of ``CHUNK_ROWS`` rows; for each
chunk it validates every row, reads the email markers of all of them in one BatchGetItem, creates each
new user (one Cognito AdminCreateUser with a temporary password, the record, the invitation email, and
the group memberships) and then records the chunk's report and moves the checkpoint past it in one
transaction. So:

- valid rows are imported even when others fail; each row is reported created / already a member /
  invalid with the reason;
- running the same file again creates nothing twice (the email markers say who is a member already);
- a crashed job resumes at its checkpoint; rows of the interrupted chunk whose user that very import
  created are reported "created" again (and get a fresh invitation, so nobody is left without one);
- what a row costs does not depend on the file's size: no list calls, batch reads per chunk.

Group names in the ``groups`` column (separated by ``;``) that the tenant does not have are created
once, when the job starts. The audit trail gets one event when an import starts and one when it ends,
not one per row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging

from django.conf import settings

from accounts import cognito, repository
from accounts.domain import ImportRow, ImportStatus, Role, RowOutcome, User, UserImport, UserStatus
from accounts.invitations import send_invitation, temporary_password
from accounts.selectors import seats_of
from accounts.services import group_create
from cloudkida import assets, aws, clock, events, jobs
from cloudkida.dynamo import Page
from cloudkida.errors import Conflict, NotFound, ValidationFailed
from cloudkida.ids import new_ulid
from cloudkida.validation import validate_email
from tenants.domain import Tenant
from tenants.selectors import tenant_get_cached
from tenants.services import audit

logger = logging.getLogger(__name__)

JOB = "user-import"
CHUNK_ROWS = 100  # rows per chunk: one BatchGetItem of their email markers, one checkpoint
MAX_ROWS = 10_000
MAX_GROUPS_PER_ROW = 10
MAX_GROUPS_PER_FILE = 100
# An import that has not moved for this long (its process died: a restarted `make run`) may be resumed.
STALLED_SECONDS = 900
COLUMNS = ("email", "name", "role", "groups")
TEMPLATE = (
    "email,name,role,groups\r\n"
    "ada@example.com,Ada Lovelace,TenantUser,Cohort 2027; Cloud Foundations\r\n"
    "grace@example.com,Grace Hopper,TenantAdmin,\r\n"
)
_ROLES = {
    "": Role.TENANT_USER,
    "tenantuser": Role.TENANT_USER,
    "user": Role.TENANT_USER,
    "learner": Role.TENANT_USER,
    "tenantadmin": Role.TENANT_ADMIN,
    "admin": Role.TENANT_ADMIN,
}


_FILE = {"field": "file"}  # errors about the file belong next to the form's file field


def user_import_template() -> str:
    """The CSV template a tenant admin downloads (header and two example rows)."""
    return TEMPLATE


def _rows(text: str) -> list[dict[str, str]]:
    """The file's data rows as dicts of the known columns (header names compare case-insensitively)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        header = []
    except csv.Error as error:
        raise ValidationFailed(f"The file is not valid CSV: {error}.", code="invalid_csv", details=_FILE) from error
    missing = [c for c in ("email", "name") if c not in header]
    if missing:
        raise ValidationFailed(
            "The first line must name the columns: email, name, role, groups (download the template).",
            code="invalid_csv",
            details={**_FILE, "missing_columns": missing},
        )
    index = {c: header.index(c) for c in COLUMNS if c in header}
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            rows.append({c: (values[i].strip() if i < len(values) else "") for c, i in index.items()})
            if len(rows) > MAX_ROWS:
                raise ValidationFailed(
                    f"A file may have at most {MAX_ROWS} rows; split it.",
                    code="too_many_rows",
                    details={**_FILE, "max_rows": MAX_ROWS},
                )
    except csv.Error as error:
        raise ValidationFailed(f"The file is not valid CSV: {error}.", code="invalid_csv", details=_FILE) from error
    return rows


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationFailed("Save the file as UTF-8 CSV.", code="invalid_csv", details=_FILE) from error


def _groups(value: str) -> list[str]:
    names = [" ".join(g.split()) for g in value.replace("|", ";").split(";")]
    return list(dict.fromkeys(n for n in names if n))


def file_needs_admin(data: bytes | str) -> bool:
    """Whether any row of the file makes a TenantAdmin (API keys then need the ``admin`` scope)."""
    return any(
        _ROLES.get(r.get("role", "").lower().replace(" ", "")) is Role.TENANT_ADMIN for r in _rows(_decode(data))
    )


def user_import_start(*, tenant_id: str, data: bytes | str, filename: str = "", actor: str = "system") -> UserImport:
    """Check the file's shape, store it and start importing it (asynchronously outside tests).

    400 ``invalid_csv`` (not UTF-8 CSV, no header with email and name), ``empty_import``, ``too_many_rows``.
    """
    text = _decode(data)
    rows = _rows(text)
    if not rows:
        raise ValidationFailed("The file has no rows to import.", code="empty_import", details=_FILE)
    import_id = new_ulid()
    key = f"{assets.tenant_prefix(tenant_id)}imports/{import_id}.csv"
    body = text.encode("utf-8")
    aws.client("s3").put_object(
        Bucket=settings.CLOUDKIDA_ASSETS_BUCKET,
        Key=key,
        Body=body,
        ContentType="text/csv; charset=utf-8",
        ServerSideEncryption="AES256",
        Metadata={"sha256": hashlib.sha256(body).hexdigest()},
    )
    job = repository.import_create(
        tenant_id,
        UserImport(
            tenant_id=tenant_id,
            import_id=import_id,
            status=ImportStatus.QUEUED,
            created_at=clock.now(),
            created_by=actor,
            filename=(filename or "upload.csv")[:200],
            total_rows=len(rows),
            file_key=key,
        ),
    )
    audit(tenant_id, "users.import_started", actor, import_id=import_id, rows=len(rows), file=job.filename)
    jobs.start(JOB, tenant_id=tenant_id, import_id=import_id)
    return repository.import_get(tenant_id, import_id) or job


def user_import_get(*, tenant_id: str, import_id: str) -> UserImport:
    job = repository.import_get(tenant_id, import_id) if import_id and len(import_id) <= 64 else None
    if job is None:
        raise NotFound("No such import.", code="import_not_found")
    return job


def user_import_list(*, tenant_id: str, limit: int = 20, cursor: str | None = None) -> Page:
    """A page of the tenant's imports (``UserImport``), newest first."""
    return repository.import_page(tenant_id, limit=limit, cursor=cursor)


def user_import_report(
    *, tenant_id: str, import_id: str, outcome: RowOutcome | str | None = None, cursor: str | None = None
) -> tuple[list[ImportRow], str | None]:
    """A page of an import's per-row report, in file order: one chunk (100 rows), or with ``outcome``
    the rows of that outcome among up to ten chunks. Returns (rows, cursor of the next page)."""
    user_import_get(tenant_id=tenant_id, import_id=import_id)
    wanted = RowOutcome(outcome) if outcome else None
    rows, next_cursor = repository.import_report_page(tenant_id, import_id, chunks=10 if wanted else 1, cursor=cursor)
    return [r for r in rows if wanted is None or r.outcome is wanted], next_cursor


def user_import_resume(*, tenant_id: str, import_id: str, actor: str = "system") -> UserImport:
    """Start a FAILED import, or one that has not moved for ``STALLED_SECONDS``, again from its
    checkpoint (rows already recorded are not redone); 409 ``invalid_state`` otherwise."""
    job = user_import_get(tenant_id=tenant_id, import_id=import_id)
    last = job.updated_at or job.created_at
    stalled = not job.finished and (clock.now() - last).total_seconds() > STALLED_SECONDS
    if job.status is not ImportStatus.FAILED and not stalled:
        raise Conflict(
            f"Only a failed or stalled import can be resumed; this one is {job.status.value}.",
            code="invalid_state",
            details={"status": job.status.value},
        )
    repository.import_update(tenant_id, job, status=ImportStatus.QUEUED, error="")
    audit(tenant_id, "users.import_resumed", actor, import_id=import_id, from_row=job.processed_rows + 1)
    jobs.start(JOB, tenant_id=tenant_id, import_id=import_id)
    return user_import_get(tenant_id=tenant_id, import_id=import_id)


# --- the job ---------------------------------------------------------------------------------------


def run_slice(params: dict, budget: jobs.Budget) -> bool:
    """The ``user-import`` job: process chunks from the checkpoint until the file ends (True) or the
    slice's budget runs out (False). A failure marks the import FAILED with the reason (resumable)."""
    tenant_id, import_id = params["tenant_id"], params["import_id"]
    job = repository.import_get(tenant_id, import_id)
    if job is None or job.finished:
        return True
    try:
        return _run(tenant_id, job, budget)
    except Exception as error:
        logger.exception("user import failed", extra={"tenant": tenant_id, "import": import_id})
        current = repository.import_get(tenant_id, import_id)
        if current is not None and not current.finished:
            reason = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            repository.import_update(tenant_id, current, status=ImportStatus.FAILED, error=str(reason)[:500])
            audit(tenant_id, "users.import_failed", current.created_by, import_id=import_id, error=str(reason)[:200])
        return True


def _run(tenant_id: str, job: UserImport, budget: jobs.Budget) -> bool:
    tenant = tenant_get_cached(tenant_id=tenant_id)
    body = aws.client("s3").get_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=job.file_key)["Body"].read()
    rows = _rows(body.decode("utf-8"))
    if job.status is not ImportStatus.RUNNING:
        job = repository.import_update(tenant_id, job, status=ImportStatus.RUNNING, updated_at=clock.now())
    if not job.groups_resolved:
        job = _ensure_groups(tenant_id, job, rows)
    first = _first_rows(rows)
    chunks = (len(rows) + CHUNK_ROWS - 1) // CHUNK_ROWS
    while job.next_chunk < chunks:
        chunk = job.next_chunk
        start = chunk * CHUNK_ROWS
        report = _process(tenant, job, rows[start : start + CHUNK_ROWS], start, first)
        repository.import_checkpoint(tenant_id, job, chunk, report, now=clock.to_iso(clock.now()))
        job = repository.import_get(tenant_id, job.import_id) or job
        if job.next_chunk < chunks and budget.exhausted():  # at least one chunk per slice
            return False
    completed = {
        "import_id": job.import_id,
        "rows": job.total_rows,
        "created": job.created,
        "already_members": job.already_members,
        "invalid": job.invalid,
    }
    job = repository.import_update(
        tenant_id,
        job,
        status=ImportStatus.SUCCEEDED,
        finished_at=clock.now(),
        events=events.also(
            tenant_id, "user_import.completed", completed, event_id=f"user_import.completed:{job.import_id}"
        ),
    )
    audit(
        tenant_id,
        "users.imported",
        job.created_by,
        import_id=job.import_id,
        rows=job.total_rows,
        created=job.created,
        already_members=job.already_members,
        invalid=job.invalid,
        groups_created=job.groups_created,
    )
    return True


def _first_rows(rows: list[dict[str, str]]) -> dict[str, int]:
    """For each email, the row number (from 1) where it first appears; later repeats are duplicates."""
    first: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        first.setdefault(row.get("email", "").strip().lower(), number)
    return first


def _ensure_groups(tenant_id: str, job: UserImport, rows: list[dict[str, str]]) -> UserImport:
    """Map every group name in the file to a group of the tenant, creating those it lacks (once)."""
    names = list(dict.fromkeys(g for r in rows for g in _groups(r.get("groups", ""))[:MAX_GROUPS_PER_ROW]))
    names = names[:MAX_GROUPS_PER_FILE]
    if not names:
        return repository.import_update(tenant_id, job, groups_resolved=True)
    found = repository.group_ids_by_name(tenant_id, names)
    created = 0
    for name in names:
        if name in found:
            continue
        try:
            found[name] = group_create(tenant_id=tenant_id, name=name, actor=job.created_by).group_id
            created += 1
        except (Conflict, ValidationFailed):  # created meanwhile, or a name no group may have
            found.update(repository.group_ids_by_name(tenant_id, [name]))
    return repository.import_update(tenant_id, job, group_ids=found, groups_created=created, groups_resolved=True)


def _check(row: dict[str, str], number: int, first: dict[str, int]) -> tuple[ImportRow, Role | None]:
    groups = _groups(row.get("groups", ""))
    result = ImportRow(
        row=number,
        email=row.get("email", "")[:254],
        name=" ".join(row.get("name", "").split())[:100],
        role=row.get("role", "")[:40],
        groups=groups[:MAX_GROUPS_PER_ROW],
        outcome=RowOutcome.INVALID,
    )
    role = _ROLES.get(result.role.lower().replace(" ", ""))
    try:
        result.email = validate_email(result.email)
    except ValidationFailed:
        result.reason = "not a valid email address"
        return result, None
    if first.get(result.email, number) != number:
        result.reason = f"the same email as row {first[result.email]}"
    elif not result.name:
        result.reason = "the name is empty"
    elif role is None:
        result.reason = "role must be TenantUser or TenantAdmin"
    elif len(groups) > MAX_GROUPS_PER_ROW:
        result.reason = f"at most {MAX_GROUPS_PER_ROW} groups per person"
    if result.reason:
        return result, None
    result.role = role.value
    return result, role


def _process(
    tenant: Tenant, job: UserImport, rows: list[dict[str, str]], offset: int, first: dict[str, int]
) -> list[ImportRow]:
    """One chunk: validate, read the markers of every valid email at once, create who is new."""
    tenant_id = tenant.tenant_id
    checked = [_check(row, offset + n, first) for n, row in enumerate(rows, start=1)]
    valid = [(r, role) for r, role in checked if role is not None]
    taken = repository.emails_taken(tenant_id, [r.email for r, _ in valid]) if valid else {}
    existing = repository.get_many(tenant_id, list(taken.values())) if taken else {}
    seats = seats_of(tenant_id=tenant_id)
    free = None if seats is None else seats - repository.counts(tenant_id)[0]
    for result, role in valid:
        user_id = taken.get(result.email)
        if user_id and user_id in existing:
            user, made_by = existing[user_id]
            result.user_id = user_id
            if made_by == job.import_id:  # made by this import before it was interrupted
                result.outcome = RowOutcome.CREATED
                _reinvite(tenant, user, job.created_by)
            else:
                result.outcome = RowOutcome.ALREADY_MEMBER
        elif free is not None and free <= 0:
            result.reason = f"every seat of the plan is taken ({seats})"
            continue
        else:
            user = _create(tenant, job, result, role, seats)
            if user is None:
                continue
            free = None if free is None else free - 1
        _join_groups(tenant_id, job, result)
    return [r for r, _ in checked]


def _create(tenant: Tenant, job: UserImport, result: ImportRow, role: Role, seats: int | None) -> User | None:
    """A new member: the Cognito sign-in (temporary password), the record, the invitation."""
    tenant_id, pool_id = tenant.tenant_id, tenant.identity["user_pool_id"]
    password = temporary_password()
    try:
        sub, _fresh = cognito.ensure_user(
            pool_id,
            tenant_id=tenant_id,
            email=result.email,
            name=result.name,
            role=role.value,
            group=tenant.identity.get("group"),
            temporary_password=password,
        )
    except cognito.EmailTaken:
        result.reason = "this email already signs in to another CloudKida organisation"
        return None
    user = User(
        tenant_id=tenant_id,
        user_id=sub or new_ulid(),
        email=result.email,
        name=result.name,
        role=role,
        status=UserStatus.ACTIVE,
        created_at=clock.now(),
    )
    try:
        invited = {"user_id": user.user_id, "email": user.email, "name": user.name, "role": user.role.value}
        recorded = events.also(tenant_id, "user.invited", invited, event_id=f"user.invited:{user.user_id}")
        user = repository.create(tenant_id, user, seats=seats, import_id=job.import_id, events=recorded)
    except Conflict as conflict:
        if conflict.code == repository.SEAT_LIMIT:
            cognito.remove_users(pool_id, [result.email])
            result.reason = f"every seat of the plan is taken ({seats})"
            return None
        current = repository.get_by_email(tenant_id, result.email)  # joined meanwhile
        result.outcome, result.user_id = RowOutcome.ALREADY_MEMBER, current.user_id if current else ""
        return current
    result.outcome, result.user_id = RowOutcome.CREATED, user.user_id
    if not send_invitation(
        tenant=tenant, email=user.email, name=user.name, temporary_password=password, actor=job.created_by
    ):
        result.reason = "the invitation email was refused; send it again from the user's page"
    return user


def _reinvite(tenant: Tenant, user: User, actor: str) -> None:
    password = temporary_password()
    if cognito.reset_temporary_password(tenant.identity["user_pool_id"], user.email, password):
        send_invitation(tenant=tenant, email=user.email, name=user.name, temporary_password=password, actor=actor)


def _join_groups(tenant_id: str, job: UserImport, result: ImportRow) -> None:
    if not result.user_id:
        return
    added_at = clock.to_iso(clock.now())
    for name in result.groups:
        group_id = job.group_ids.get(name)
        if group_id:
            repository.member_add(tenant_id, group_id, result.user_id, added_at=added_at)
