"""The onboarding workflow: the steps that take a tenant from PENDING to ACTIVE.

Each step is idempotent and recorded on the tenant (``STEP#<name>`` items), so the tenant moves
PENDING → PROVISIONING → ACTIVE, or to FAILED naming the failing step and its reason; ``tenant_retry``
resumes from that step. The same list runs in-process (tests, ``make run``) and as the Step Functions
state machine committed in ``cloudkida/workflows/definitions/onboarding.asl.json``.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.template.loader import render_to_string

from cloudkida import clock, email, observability, workflows
from cloudkida.dynamo import tables
from cloudkida.workflows.runner import FAILURE_STEP, RunResult, Step, Workflow, current_attempt
from tenants import ports, provisioning, repository
from tenants.domain import AuditEvent, Isolation, TenantStatus
from tenants.selectors import tenant_get
from tenants.services.records import tenant_update

logger = logging.getLogger(__name__)
__all__ = ["FAILURE_STEP", "ONBOARDING", "onboarding_run", "onboarding_start", "record_failure"]


class _Log:
    """The workflow's StepLog, kept on the tenant's partition in the control table."""

    def succeeded(self, subject_id: str) -> set[str]:
        return {s.name for s in repository.steps(subject_id) if s.status == "SUCCEEDED"}

    def started(self, subject_id: str, step: str) -> int:
        return repository.step_started(subject_id, step)

    def finished(self, subject_id: str, step: str, *, ok: bool, output: dict | None, error: str) -> None:
        repository.step_finished(subject_id, step, ok=ok, output=output, error=error)


def step_record(tenant_id: str) -> dict:
    """1. The tenant record exists (written at registration) and is now PROVISIONING."""
    tenant = tenant_get(tenant_id=tenant_id)
    if tenant.status in {TenantStatus.PENDING, TenantStatus.FAILED}:
        tenant = tenant_update(tenant=tenant, status=TenantStatus.PROVISIONING, failed_step="", failure_reason="")
    return {"status": tenant.status.value, "isolation": tenant.isolation.value}


def step_identity(tenant_id: str) -> dict:
    """3. Pooled: a group and an app client in the pooled pool. Platinum: its own pool, client, domain."""
    tenant = tenant_get(tenant_id=tenant_id)
    attempt = current_attempt()
    identity = dict(tenant.identity)
    if tenant.isolation is Isolation.SILO:
        pool_id = identity.get("user_pool_id") or provisioning.ensure_silo_pool(
            tenant_id, display_name=tenant.name, attempt=attempt
        )
        domain = provisioning.silo_domain(tenant_id)
        identity.update(user_pool_id=pool_id, pool_kind="silo")
        tenant = tenant_update(tenant=tenant, identity=identity)  # remember the pool before anything else can fail
        hosted_ui = provisioning.ensure_domain(pool_id, domain)
    else:
        if not identity.get("user_pool_id"):  # a slot in the current pooled shard, remembered at once
            slot = provisioning.reserve_pooled_client(tenant_id)
            identity.update(user_pool_id=slot["pool_id"], hosted_ui_domain=slot["domain"], shard=slot["shard"])
            identity.update(pool_kind="pooled")
            tenant = tenant_update(tenant=tenant, identity=identity)
        pool_id, domain = identity["user_pool_id"], identity["hosted_ui_domain"]
        hosted_ui = provisioning.hosted_ui_url(domain)
        identity.update(group=provisioning.ensure_group(pool_id, tenant_id))
    client_id = identity.get("client_id") or provisioning.ensure_app_client(
        pool_id, tenant_id, slug=tenant.slug, attempt=attempt
    )
    repository.client_put(client_id, tenant_id)
    identity.update(
        client_id=client_id,
        issuer=provisioning.issuer_for(pool_id),
        hosted_ui_domain=domain,
        authorization_endpoint=f"{hosted_ui}/oauth2/authorize",
        token_endpoint=f"{hosted_ui}/oauth2/token",
        logout_endpoint=f"{hosted_ui}/logout",
    )
    tenant_update(tenant=tenant, identity=identity)
    return {"user_pool_id": pool_id, "client_id": client_id}


def step_admin_user(tenant_id: str) -> dict:
    """4. The tenant admin: a Cognito user (invited by email) and a user record (accounts makes both)."""
    return ports.members().provision_admin(tenant_get(tenant_id=tenant_id))


def step_api_key(tenant_id: str) -> dict:
    """5. The tenant's own API key on its tier's usage plan."""
    tenant = tenant_get(tenant_id=tenant_id)
    key_id = tenant.api_key_id
    if key_id:
        provisioning.bind_api_key(key_id, tenant.tier.value)
    else:
        key_id = provisioning.ensure_api_key(tenant_id, tenant.tier.value, attempt=current_attempt())
        tenant_update(tenant=tenant, api_key_id=key_id)
    return {"api_key_id": key_id, "usage_plan_id": provisioning.usage_plan_id(tenant.tier.value)}


def step_silo_table(tenant_id: str) -> dict:
    """2. Platinum only: ask for the tenant's own data table (same spec as the pooled one); no waiting here."""
    spec = tables.silo_table(tenant_id)
    return {"table": spec.name, "created": tables.create_table(spec)}


def silo_table_ready(tenant_id: str) -> bool:
    """The silo table is ACTIVE with TTL and PITR on, and the tenant record names it (every poll converges)."""
    spec = tables.silo_table(tenant_id)
    if not tables.table_ready(spec):
        return False
    tenant = tenant_get(tenant_id=tenant_id)
    if tenant.data_table != spec.name:
        tenant_update(tenant=tenant, data_table=spec.name)
    return True


def step_welcome_email(tenant_id: str) -> dict:
    """6. A welcome email through SES with the tenant's login URL. If SES refuses it, it waits in the outbox
    (retried on a schedule, shown to system admins): the tenant's people exist, so onboarding goes on."""
    tenant = tenant_get(tenant_id=tenant_id)
    context = {"tenant": tenant, "login_url": f"{provisioning.tenant_base_url(tenant.slug)}/login/"}
    sent = email.send(
        tenant_id=tenant_id,
        kind="welcome",
        to=tenant.admin_email,
        subject=f"Welcome to CloudKida, {tenant.name}",
        body=render_to_string("emails/welcome.txt", context),
    )
    return {"to": tenant.admin_email, "sent": sent}


def step_activate(tenant_id: str) -> dict:
    """7. ACTIVE, with an audit event."""
    tenant = tenant_get(tenant_id=tenant_id)
    if tenant.status is not TenantStatus.ACTIVE:
        tenant_update(tenant=tenant, status=TenantStatus.ACTIVE, failed_step="", failure_reason="")
        repository.event_add(
            AuditEvent(tenant_id, clock.now(), "tenant.activated", "onboarding", {"tier": tenant.tier.value})
        )
        seconds = (clock.now() - tenant.created_at).total_seconds()
        observability.metric("OnboardingSeconds", seconds, unit="Seconds", tenant_id=tenant_id, tier=tenant.tier.value)
    return {"status": TenantStatus.ACTIVE.value}


def _is_silo(tenant_id: str) -> bool:
    return tenant_get(tenant_id=tenant_id).isolation is Isolation.SILO


ONBOARDING = Workflow(
    "onboarding",
    [
        Step("record", step_record, "Reserve slug and name; mark the tenant PROVISIONING."),
        # Before any tenant data is written, so a Platinum tenant's first records land in its own table.
        Step(
            "silo_table",
            step_silo_table,
            "Platinum only: the tenant's own DynamoDB table.",
            applies=_is_silo,
            ready=silo_table_ready,
            poll_seconds=5,
            max_wait_seconds=900,
        ),
        Step("identity", step_identity, "Cognito group and app client (pooled) or dedicated pool (Platinum)."),
        Step("admin_user", step_admin_user, "Invite the tenant admin in Cognito; write the user record."),
        Step("api_key", step_api_key, "The tenant's API key on its tier's usage plan."),
        Step("welcome_email", step_welcome_email, "Welcome email through SES with the login URL."),
        Step("activate", step_activate, "Mark the tenant ACTIVE and write an audit event."),
    ],
    _Log(),
)


def record_failure(tenant_id: str, step: str, reason: str) -> None:
    """Mark the tenant FAILED at ``step`` with ``reason`` and write an audit event."""
    tenant = tenant_get(tenant_id=tenant_id)
    tenant_update(tenant=tenant, status=TenantStatus.FAILED, failed_step=step, failure_reason=reason[:1000])
    repository.event_add(
        AuditEvent(tenant_id, clock.now(), "onboarding.failed", "onboarding", {"step": step, "reason": reason[:1000]})
    )


def onboarding_run(*, tenant_id: str) -> RunResult:
    """Run (or resume) onboarding in this process, to ACTIVE or to FAILED with the step and reason."""
    result = ONBOARDING.run(tenant_id)
    if not result.ok:
        record_failure(tenant_id, result.failed_step, result.error)
    return result


def onboarding_start(*, tenant_id: str) -> None:
    """Start onboarding the configured way: inline, on a background thread, or as a Step Functions run."""
    runner = settings.CLOUDKIDA_WORKFLOW_RUNNER
    if runner == "inline":
        onboarding_run(tenant_id=tenant_id)
    elif runner == "thread":
        threading.Thread(target=_run_logged, args=(tenant_id,), name=f"onboard-{tenant_id}", daemon=True).start()
    elif runner == "stepfunctions":
        attempt = sum(s.attempts for s in repository.steps(tenant_id) if s.name == "record")
        workflows.start_execution(ONBOARDING.name, tenant_id, execution_name=f"onboard-{tenant_id}-{attempt + 1}")
    else:
        raise ValueError(f"unknown CLOUDKIDA_WORKFLOW_RUNNER {runner!r}")


def _run_logged(tenant_id: str) -> None:
    try:
        onboarding_run(tenant_id=tenant_id)
    except Exception:
        logger.exception("onboarding crashed", extra={"tenant": tenant_id})
