"""Lab sessions: start (with every check), provisioning, access, checks, extension, ending, expiry, spend.

REQUESTED → PROVISIONING → READY → ENDING → CLEANING → ENDED, or FAILED (with the step and reason) from
provisioning. A start writes the REQUESTED session, the learner's active count, month minutes and start
lock in one transaction, then provisioning runs as a workflow (lease → OU → guardrails → stack → learner
role → READY); ending revokes the learner's access first, then hands the account to the cleanup workflow,
whose last step ends the session. Every step is idempotent and recorded on the session.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from accounts.domain import UserStatus
from accounts.selectors import policy_for_user, user_find
from cloudkida import clock, events
from cloudkida.errors import (
    ApplicationError,
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)
from cloudkida.ids import new_ulid
from cloudkida.workflows.runner import Step, Workflow
from labs import aws_accounts, checks, guardrails, ports, spend
from labs import events as lab_events
from labs.domain import (
    AccountState,
    EndReason,
    Lab,
    LabSession,
    LabStatus,
    PoolAccount,
    SessionEvent,
    SessionState,
)
from labs.repository import catalog as catalog_repo
from labs.repository import pool as pool_repo
from labs.repository import sessions as repo
from labs.selectors import lab_get_any, lab_is_assigned, lab_session_get
from labs.services import pool, runs
from tenants.domain import Tenant
from tenants.selectors import tenant_get_cached
from tenants.services import audit

logger = logging.getLogger(__name__)
SEP = "."  # subject ids are "<tenant id>.<session id>" (neither contains a dot)


def subject_of(session: LabSession) -> str:
    return f"{session.tenant_id}{SEP}{session.session_id}"


def _from_subject(subject: str) -> LabSession:
    tenant_id, _, session_id = subject.partition(SEP)
    session = repo.get(tenant_id, session_id, consistent=True)
    if session is None:
        raise NotFound("No such lab session.", code="session_not_found")
    return session


def _event(kind: str, session: LabSession, **extra: Any) -> SessionEvent:
    now = clock.now()
    ready, ending = session.ready_at, session.ending_at or now
    return SessionEvent(
        kind=kind,
        tenant_id=session.tenant_id,
        session_id=session.session_id,
        user_id=session.user_id,
        lab_id=session.lab_id,
        region=session.region,
        at=now,
        provisioning_seconds=int((ready - session.requested_at).total_seconds()) if ready else 0,
        active_seconds=int((ending - ready).total_seconds()) if ready else 0,
        total_seconds=int((now - session.requested_at).total_seconds()),
        reason=extra.pop("reason", ""),
        spend_usd=session.spend_usd,
    )


# --- start --------------------------------------------------------------------------------------------------------
def _startable_lab(tenant: Tenant, lab_id: str, user_id: str) -> Lab:
    """The lab, if this learner may start it: NotFound, lab_not_published, lab_not_assigned each say why."""
    lab = lab_get_any(tenant_id=tenant.tenant_id, lab_id=lab_id)
    if lab.owner not in {"", tenant.tenant_id}:
        raise NotFound("No such lab.", code="lab_not_found")
    if lab.status is not LabStatus.PUBLISHED:
        raise Conflict("This lab is not published.", code="lab_not_published", details={"status": lab.status.value})
    public = lab.is_global and lab.public and tenant.is_default
    if lab.is_global and not public and not catalog_repo.is_enabled(tenant.tenant_id, lab.lab_id):
        raise PermissionDenied("Your organisation does not offer this lab.", code="lab_not_enabled")
    if not public and not lab_is_assigned(tenant_id=tenant.tenant_id, lab=lab, user_id=user_id):
        raise PermissionDenied("This lab is not assigned to you.", code="lab_not_assigned")
    return lab


def lab_session_start(
    *, tenant_id: str, user_id: str, lab_id: str, region: str | None = None, actor: str
) -> LabSession:
    """Start a lab for a learner. Each check has its own error: tenant_deactivated (403), user_not_found
    (404), lab_not_found (404), lab_not_published (409), lab_not_enabled / lab_not_assigned /
    lab_not_allowed / region_not_allowed (403), region_not_offered (400), concurrent_labs_exceeded /
    monthly_lab_minutes_exceeded (429), session_already_starting (409), and whatever a registered start
    guard raises (billing: 402). Then provisioning runs (inline in tests, in the background locally, as a
    Step Functions execution in production); the session returned shows where it got to."""
    tenant = tenant_get_cached(tenant_id=tenant_id)
    if not tenant.is_serving:
        raise PermissionDenied("Your organisation's access is suspended.", code="tenant_deactivated")
    user = user_find(tenant_id=tenant_id, user_id=user_id) if user_id and len(user_id) <= 64 else None
    if user is None or user.status is not UserStatus.ACTIVE:
        raise NotFound("No such active user.", code="user_not_found")
    lab = _startable_lab(tenant, lab_id, user_id)
    policy = policy_for_user(tenant_id=tenant_id, user_id=user_id)
    if not policy.allows_lab(lab.lab_id):
        raise PermissionDenied("Your organisation's policy does not allow this lab.", code="lab_not_allowed")
    if region is None:
        region = next((r for r in lab.allowed_regions if policy.allows_region(r)), lab.default_region)
    if region not in lab.allowed_regions:
        raise ValidationFailed(
            "This lab does not run in that region.", code="region_not_offered", details={"regions": lab.allowed_regions}
        )
    if not policy.allows_region(region):
        raise PermissionDenied("Your organisation's policy does not allow that region.", code="region_not_allowed")
    ports.check_start(ports.StartRequest(tenant_id, user_id, lab, region, lab.duration_minutes, lab.budget_usd))
    now = clock.now()
    session = LabSession(
        tenant_id=tenant_id,
        session_id=new_ulid(),
        user_id=user_id,
        lab_id=lab.lab_id,
        lab_owner=lab.owner,
        lab_revision=lab.revision,
        lab_title=lab.title,
        region=region,
        state=SessionState.REQUESTED,
        requested_at=now,
        duration_minutes=lab.duration_minutes,
        max_duration_minutes=lab.max_duration_minutes,
        budget_usd=lab.budget_usd,
        month=now.strftime("%Y-%m"),
        template_key=lab.template_key,
        lab_services=lab.allowed_services,
        lab_regions=lab.allowed_regions,
    )
    session = repo.create(
        session,
        max_concurrent=policy.max_concurrent_labs,
        monthly_minutes=policy.monthly_lab_minutes,
        lock_until=int(now.timestamp()) + settings.CLOUDKIDA_LAB_START_LOCK_SECONDS,
        now=int(now.timestamp()),
        events=lab_events.session_also("requested", session),
    )
    audit(tenant_id, "lab_session.started", actor, session_id=session.session_id, lab_id=lab.lab_id, user_id=user_id)
    ports.notify(_event("started", session))
    runs.start(PROVISIONING, subject_of(session), on_failure=provisioning_record_failure)
    return repo.get(tenant_id, session.session_id, consistent=True) or session


# --- provisioning -------------------------------------------------------------------------------------------------
def _provisioning(subject: str) -> LabSession:
    session = _from_subject(subject)
    if session.state not in {SessionState.REQUESTED, SessionState.PROVISIONING}:
        raise Conflict(f"The session is {session.state.value}, no longer provisioning.", code="invalid_state")
    return session


def _leased(session: LabSession) -> tuple[PoolAccount, Any]:
    account = pool.account_get(session.account_id)
    if account.state is not AccountState.LEASED or account.session_id != session.session_id:
        raise Conflict("The session's account is no longer leased to it.", code="invalid_state")
    return account, pool.shard_get(account.shard_id)


def step_lease(subject: str) -> dict:
    """1. An account from the pool: the lab's hot pool first (its stack is already there), else any."""
    session = _provisioning(subject)
    if session.account_id:
        return {"account": session.account_id, "hot": session.hot}
    lab = lab_get_any(tenant_id=session.tenant_id, lab_id=session.lab_id)
    stack = f"cloudkida-lab-{session.session_id}"
    account = None
    if (
        lab.is_global
        and lab.hot_pool_size
        and session.region == lab.default_region
        and lab.revision == session.lab_revision
    ):
        try:
            account = pool.account_lease(
                session=session, region=session.region, hot_lab=lab.lab_id, hot_revision=lab.revision
            )
        except pool.PoolExhausted:
            account = None
    if account is None:
        account = pool.account_lease(session=session, region=session.region, stack_name=stack)
    pool_repo.stats_add(leases=1)
    return {"account": account.account_id, "hot": bool(account.hot_lab_id)}


def step_ou(subject: str) -> dict:
    """2. Into the leased OU (its guardrail SCP applies from here)."""
    session = _provisioning(subject)
    account, shard = _leased(session)
    try:
        aws_accounts.move_known(shard, account.account_id, shard.ou_ids["available"], shard.ou_ids["leased"])
    except ClientError as error:  # not where we recorded it (a retried step): look it up
        if error.response["Error"]["Code"] not in {"SourceParentNotFoundException", "DuplicateAccountException"}:
            raise
        aws_accounts.move(shard, account.account_id, shard.ou_ids["leased"])
    return {"ou": shard.ou_ids["leased"]}


def _cold(subject: str) -> bool:
    tenant_id, _, session_id = subject.partition(SEP)
    session = repo.get(tenant_id, session_id, consistent=True)
    return session is not None and not session.hot


def step_guardrails(subject: str) -> dict:
    """3. The lab's SCP on the account: only its services, only its regions (hot accounts have it)."""
    session = _provisioning(subject)
    account, shard = _leased(session)
    policy_id = pool.lab_policy_attach(
        shard, account.account_id, services=session.lab_services, regions=session.lab_regions
    )
    if account.lab_policy_id != policy_id:
        pool_repo.account_update(account, lab_policy_id=policy_id, cleanup_regions=session.lab_regions)
    return {"policy": policy_id}


def step_stack(subject: str) -> dict:
    """4. The lab's CloudFormation stack in the lab account (a poll waits for it; hot accounts have it)."""
    session = _provisioning(subject)
    account, shard = _leased(session)
    aws_accounts.stack_create(
        shard,
        account.account_id,
        region=session.region,
        name=session.stack_name,
        template_key=session.template_key,
        tags={"cloudkida:lab": session.lab_id, "cloudkida:session": session.session_id},
    )
    if account.stack_name != session.stack_name:
        pool_repo.account_update(account, stack_name=session.stack_name)
    return {"stack": session.stack_name}


def stack_ready(subject: str) -> bool:
    session = _provisioning(subject)
    account, shard = _leased(session)
    return pool.stack_ready(shard, account.account_id, region=session.region, name=session.stack_name)


def step_learner(subject: str) -> dict:
    """5. The learner's role in the lab account: the lab's services in its regions, nothing of ours."""
    session = _provisioning(subject)
    account, shard = _leased(session)
    arn = aws_accounts.learner_role_create(
        shard,
        account.account_id,
        session_id=session.session_id,
        policy=guardrails.learner_policy(services=session.lab_services, regions=session.lab_regions),
    )
    return {"role": arn}


def step_ready(subject: str) -> dict:
    """6. READY: the clock starts; the start lock goes; the account's deadline is what expiry watches."""
    session = _provisioning(subject)
    now = clock.now()
    deadline = now + timedelta(minutes=session.duration_minutes)
    session = repo.update(
        session,
        state=SessionState.READY,
        ready_at=now,
        deadline=deadline,
        events=lab_events.session_also("ready", session, deadline=clock.to_iso(deadline)),
    )
    repo.unlock(session)
    account, _shard = _leased(session)
    pool_repo.account_update(account, deadline=clock.to_iso(deadline))
    ports.notify(_event("ready", session))
    return {"deadline": clock.to_iso(deadline)}


def provisioning_record_failure(subject: str, step: str, reason: str) -> None:
    """FAILED with the step and reason; its account (if it got one) goes to cleanup; its minutes back."""
    session = _from_subject(subject)
    if session.state not in {SessionState.REQUESTED, SessionState.PROVISIONING}:
        return
    session = repo.update(
        session,
        state=SessionState.FAILED,
        failed_step=step,
        failure_reason=reason[:1000],
        ended_at=clock.now(),
        events=lab_events.session_also("failed", session, reason=f"{step}: {reason}"[:500]),
    )
    repo.release(session, minutes_delta=-session.duration_minutes)
    if session.account_id:
        account = pool_repo.account_get(session.account_id, consistent=True)
        if account is not None and account.state is AccountState.LEASED and account.session_id == session.session_id:
            account = pool_repo.account_update(account, state=AccountState.CLEANING, state_since=clock.now())
            pool.cleanup_start(account, regions=session.lab_regions)
    audit(
        session.tenant_id,
        "lab_session.failed",
        "provisioning",
        session_id=session.session_id,
        step=step,
        reason=reason[:300],
    )
    ports.notify(_event("failed", session, reason=f"{step}: {reason}"[:500]))


class _SessionLog:
    def __init__(self, workflow: str):
        self.workflow = workflow

    def succeeded(self, subject_id: str) -> set[str]:
        tenant_id, _, session_id = subject_id.partition(SEP)
        return {s["step"] for s in repo.steps(tenant_id, session_id, self.workflow) if s.get("status") == "SUCCEEDED"}

    def started(self, subject_id: str, step: str) -> int:
        tenant_id, _, session_id = subject_id.partition(SEP)
        return repo.step_started(tenant_id, session_id, self.workflow, step)

    def finished(self, subject_id: str, step: str, *, ok: bool, output: dict | None, error: str) -> None:
        tenant_id, _, session_id = subject_id.partition(SEP)
        repo.step_finished(tenant_id, session_id, self.workflow, step, ok=ok, error=error, at=clock.to_iso(clock.now()))


PROVISIONING = Workflow(
    "lab-provisioning",
    [
        Step("lease", step_lease, "Lease an account from the pool (the lab's hot pool first)."),
        Step("ou", step_ou, "Move the account to the leased OU."),
        Step("guardrails", step_guardrails, "Attach the lab's SCP: its services and regions only.", applies=_cold),
        Step(
            "stack",
            step_stack,
            "Deploy the lab's CloudFormation stack.",
            applies=_cold,
            ready=stack_ready,
            poll_seconds=10,
            max_wait_seconds=1800,
        ),
        Step("learner", step_learner, "Create the learner's role in the lab account."),
        Step("ready", step_ready, "Mark the session READY; its time starts."),
    ],
    _SessionLog("lab-provisioning"),
)


# --- ending -------------------------------------------------------------------------------------------------------
def lab_session_end(*, tenant_id: str, session_id: str, by: EndReason, actor: str) -> LabSession:
    """READY → ENDING, then the ending workflow (learner's access revoked first, then cleanup). Ending an
    ending or ended session returns it as it is; a session still starting cannot be ended yet (409)."""
    by = EndReason(by)
    session = lab_session_get(tenant_id=tenant_id, session_id=session_id)
    if session.state in {SessionState.ENDING, SessionState.CLEANING, SessionState.ENDED, SessionState.FAILED}:
        return session
    if session.state.is_starting:
        raise Conflict("The lab is still starting; end it once it is ready.", code="session_starting")
    now = clock.now()
    session = repo.update(session, state=SessionState.ENDING, ending_at=now, ended_by=by.value)
    account = pool_repo.account_get(session.account_id, consistent=True)
    if account is not None and account.session_id == session.session_id:
        pool_repo.account_update(account, deadline=clock.to_iso(now))  # so expiry resumes a stalled ending
    audit(tenant_id, "lab_session.ending", actor, session_id=session_id, by=by.value)
    runs.start(ENDING, subject_of(session), on_failure=ending_record_failure)
    return repo.get(tenant_id, session_id, consistent=True) or session


def _ending(subject: str) -> LabSession:
    session = _from_subject(subject)
    if session.state not in {SessionState.ENDING, SessionState.CLEANING}:
        raise Conflict(f"The session is {session.state.value}.", code="invalid_state")
    return session


def step_revoke(subject: str) -> dict:
    """1. The learner's access ends: every session of the learner role issued until now is denied."""
    session = _ending(subject)
    account = pool_repo.account_get(session.account_id, consistent=True)
    if account is None or account.session_id != session.session_id:
        return {"revoked": False}
    return {"revoked": aws_accounts.learner_revoke(pool.shard_get(account.shard_id), account.account_id)}


def step_release(subject: str) -> dict:
    """2. The account goes to cleanup (CLEANING); the session is CLEANING until the account is clean."""
    session = _ending(subject)
    account = pool_repo.account_get(session.account_id, consistent=True)
    if account is not None and account.state is AccountState.LEASED and account.session_id == session.session_id:
        account = pool_repo.account_update(account, state=AccountState.CLEANING, state_since=clock.now())
        if session.state is SessionState.ENDING:
            session = repo.update(session, state=SessionState.CLEANING)
        pool.cleanup_start(account, regions=session.lab_regions or [session.region])
    elif session.state is SessionState.ENDING:
        session_finish(tenant_id=session.tenant_id, session_id=session.session_id, note="no account to clean")
    return {"account": session.account_id}


def ending_record_failure(subject: str, step: str, reason: str) -> None:
    """Stay ENDING with the reason: the expiry job resumes the ending (its account's deadline is past)."""
    tenant_id, _, session_id = subject.partition(SEP)
    session = repo.get(tenant_id, session_id, consistent=True)
    if session is not None and session.state is SessionState.ENDING:
        repo.update(session, failure_reason=f"ending {step}: {reason}"[:1000])


ENDING = Workflow(
    "lab-ending",
    [
        Step("revoke", step_revoke, "Revoke the learner's access to the lab account."),
        Step("release", step_release, "Hand the account to the cleanup workflow."),
    ],
    _SessionLog("lab-ending"),
)


def session_finish(*, tenant_id: str, session_id: str, note: str) -> None:
    """The session's account is clean (or quarantined): ENDED, its slot and unused minutes given back.
    Idempotent; a session of an offboarded tenant is simply gone."""
    try:
        session = repo.get(tenant_id, session_id, consistent=True)
    except NotFound:  # the tenant itself is gone
        return
    if session is None or session.state in {SessionState.ENDED, SessionState.FAILED}:
        return
    now = clock.now()
    ending = session.ending_at or now
    used = math.ceil((ending - session.ready_at).total_seconds() / 60) if session.ready_at else 0
    session = repo.update(
        session,
        state=SessionState.ENDED,
        ended_at=now,
        ending_at=ending,
        note=note[:300],
        events=lab_events.session_also("ended", session, ended_by=str(session.ended_by or ""), minutes_used=used),
    )
    repo.release(session, minutes_delta=used - session.duration_minutes)
    ports.notify(_event("ended", session, reason=session.ended_by))


# --- while READY --------------------------------------------------------------------------------------------------
def _ready(tenant_id: str, session_id: str) -> LabSession:
    session = lab_session_get(tenant_id=tenant_id, session_id=session_id)
    if session.state is not SessionState.READY:
        raise Conflict(
            f"The lab is {session.state.value}, not ready.",
            code="session_not_ready",
            details={"state": session.state.value},
        )
    return session


def lab_session_extend(*, tenant_id: str, session_id: str, minutes: int, actor: str) -> LabSession:
    """More time, up to the lab's maximum duration and within the learner's monthly minutes."""
    session = _ready(tenant_id, session_id)
    if not 1 <= minutes <= settings.CLOUDKIDA_LAB_EXTENSION_MINUTES:
        raise ValidationFailed(
            f"An extension is 1 to {settings.CLOUDKIDA_LAB_EXTENSION_MINUTES} minutes.",
            code="invalid_extension",
            details={"field": "minutes"},
        )
    if session.duration_minutes + minutes > session.max_duration_minutes:
        raise Conflict(
            "This lab cannot run any longer.",
            code="extension_limit",
            details={
                "max_duration_minutes": session.max_duration_minutes,
                "left": session.max_duration_minutes - session.duration_minutes,
            },
        )
    policy = policy_for_user(tenant_id=tenant_id, user_id=session.user_id)
    repo.add_minutes(session, minutes, monthly_minutes=policy.monthly_lab_minutes)
    deadline = (session.deadline or clock.now()) + timedelta(minutes=minutes)
    try:
        session = repo.update(
            session,
            deadline=deadline,
            duration_minutes=session.duration_minutes + minutes,
            extensions=session.extensions + 1,
        )
    except ApplicationError:
        repo.add_minutes(session, -minutes, monthly_minutes=None)  # give the minutes back
        raise
    account = pool_repo.account_get(session.account_id)
    if account is not None and account.session_id == session.session_id:
        pool_repo.account_update(account, deadline=clock.to_iso(deadline))
    audit(tenant_id, "lab_session.extended", actor, session_id=session_id, minutes=minutes)
    return session


def lab_session_access(*, tenant_id: str, session_id: str) -> dict:
    """The learner's way in: fresh temporary credentials of the learner role and (where AWS's sign-in
    endpoint is reachable) a console sign-in URL. Minted on each call, never stored."""
    session = _ready(tenant_id, session_id)
    account, shard = _leased(session)
    creds = aws_accounts.learner_credentials(
        shard, account.account_id, session_id=session.session_id, user_id=session.user_id
    )
    console = aws_accounts.console_url(creds, region=session.region) if settings.CLOUDKIDA_LAB_CONSOLE_SIGNIN else None
    return {
        "account_id": account.account_id,
        "region": session.region,
        "console_url": console,
        "credentials": {
            "access_key_id": creds["AccessKeyId"],
            "secret_access_key": creds["SecretAccessKey"],
            "session_token": creds["SessionToken"],
            "expiration": creds["Expiration"],
        },
        "session_ends_at": session.deadline,
    }


def lab_session_check(*, tenant_id: str, session_id: str, task_id: str) -> dict:
    """Run a task's automatic check against the learner's lab account; record the learner's progress."""
    session = _ready(tenant_id, session_id)
    lab = lab_get_any(tenant_id=tenant_id, lab_id=session.lab_id)
    task = next((t for t in lab.tasks if t.task_id == task_id), None)
    if task is None:
        raise NotFound("No such task in this lab.", code="task_not_found")
    account, shard = _leased(session)

    def client(service: str):
        return aws_accounts.member_client(shard, account.account_id, service, region=session.region)

    ok, message = checks.run(task.check, checks.CheckContext(client=client, region=session.region))
    now = clock.to_iso(clock.now())
    progress = catalog_repo.progress_record(
        tenant_id,
        lab.lab_id,
        session.user_id,
        task_id=task_id,
        ok=ok,
        result={"ok": ok, "message": message, "at": now, "session_id": session_id},
        at=now,
        task_count=len(lab.tasks),
        events=events.also(
            tenant_id,
            "task.checked",
            {
                "session_id": session_id,
                "lab_id": lab.lab_id,
                "user_id": session.user_id,
                "task_id": task_id,
                "passed": ok,
                "task_count": len(lab.tasks),
                "at": now,
            },
            event_id=f"task.checked:{session_id}:{task_id}:{now}",
        ),
    )
    return {"task_id": task_id, "passed": ok, "message": message, "progress": progress}


# --- jobs ---------------------------------------------------------------------------------------------------------
def _session_of(account: PoolAccount) -> LabSession | None:
    """The session a leased account serves; None if it (or its whole tenant) is gone."""
    if not account.tenant_id or not account.session_id:
        return None
    try:
        return repo.get(account.tenant_id, account.session_id, consistent=True)
    except NotFound:  # the tenant no longer exists
        return None


def sessions_expire() -> dict:
    """End every READY session past its deadline (extended ones only get their account's deadline
    corrected) and resume endings that stalled. Reads only the leased accounts due, by deadline."""
    now = clock.now()
    ended, resumed, corrected = [], [], []
    for shard in pool_repo.shards():
        for region in pool.regions():
            for account in pool_repo.due(AccountState.LEASED, shard.shard_id, region, before=clock.to_iso(now)):
                session = _session_of(account)
                if session is None:  # its tenant was offboarded while the lease ran: clean the account
                    account = pool_repo.account_update(account, state=AccountState.CLEANING, state_since=now)
                    pool.cleanup_start(account, regions=account.cleanup_regions or [account.region])
                    continue
                if session.account_id != account.account_id:
                    continue
                if session.state is SessionState.READY and session.deadline and session.deadline > now:
                    pool_repo.account_update(account, deadline=clock.to_iso(session.deadline))
                    corrected.append(session.session_id)
                elif session.state is SessionState.READY:
                    lab_session_end(
                        tenant_id=session.tenant_id, session_id=session.session_id, by=EndReason.EXPIRY, actor="expiry"
                    )
                    ended.append(session.session_id)
                elif session.state is SessionState.ENDING:
                    runs.start(
                        ENDING, subject_of(session), on_failure=ending_record_failure, attempt=str(int(now.timestamp()))
                    )
                    resumed.append(session.session_id)
    return {"ended": ended, "resumed": resumed, "corrected": corrected}


def spend_check() -> dict:
    """Every leased account's spend since its lease (one Cost Explorer request per shard): alert the learner
    and listeners at CLOUDKIDA_LAB_SPEND_ALERT of the lab's budget, end the session at
    CLOUDKIDA_LAB_SPEND_END. The SCPs are the first line; this is the second (billing data lags)."""
    alerted, ended = [], []
    source = spend.source()
    for shard in pool_repo.shards():
        leases: dict[str, LabSession] = {}
        for region in pool.regions():
            for account in pool_repo.all_in_state(AccountState.LEASED, shard.shard_id, region):
                session = _session_of(account)
                if session is not None and session.state is SessionState.READY:
                    leases[account.account_id] = session
        if not leases:
            continue
        spent = source.spend(shard, {a: (s.ready_at or s.requested_at).date() for a, s in leases.items()})
        for account_id, session in leases.items():
            amount = round(float(spent.get(account_id, 0.0)), 2)
            if amount == session.spend_usd:
                continue
            session = repo.update(session, spend_usd=amount)
            share = amount / session.budget_usd if session.budget_usd else 1.0
            if share >= settings.CLOUDKIDA_LAB_SPEND_END:
                lab_session_end(
                    tenant_id=session.tenant_id, session_id=session.session_id, by=EndReason.BUDGET, actor="spend-check"
                )
                ended.append(session.session_id)
            elif share >= settings.CLOUDKIDA_LAB_SPEND_ALERT and not session.spend_alerted:
                session = repo.update(session, spend_alerted=True)
                audit(
                    session.tenant_id,
                    "lab_session.spend_alert",
                    "spend-check",
                    session_id=session.session_id,
                    spend_usd=amount,
                )
                ports.notify(_event("spend_alert", session, reason=f"{share:.0%} of budget"))
                alerted.append(session.session_id)
    return {"alerted": alerted, "ended": ended}


def tenant_sessions_end(*, tenant_id: str, actor: str) -> int:
    """End every READY session of a tenant (suspension, offboarding); returns how many."""
    count, cursor = 0, None
    while True:
        try:
            page = repo.active_of_tenant(tenant_id, limit=100, cursor=cursor)
        except ServiceUnavailable as error:  # a silo table an earlier, interrupted offboarding dropped
            if error.details.get("error") == "ResourceNotFoundException":
                return count
            raise
        for session in page.items:
            if session.state is SessionState.READY:
                lab_session_end(tenant_id=tenant_id, session_id=session.session_id, by=EndReason.TENANT, actor=actor)
                count += 1
        cursor = page.cursor
        if not cursor:
            return count


class LabsTenantListener:
    """Registered with ``tenants.ports``: a suspended or offboarded tenant's labs end (accounts cleaned)."""

    def tenant_suspended(self, tenant: Tenant) -> dict:
        return {"lab_sessions_ended": tenant_sessions_end(tenant_id=tenant.tenant_id, actor="tenant-suspended")}

    def tenant_resumed(self, tenant: Tenant) -> dict:
        return {}

    def tenant_removing(self, tenant: Tenant) -> dict:
        return {"lab_sessions_ended": tenant_sessions_end(tenant_id=tenant.tenant_id, actor="offboarding")}
