"""What a launch does in CloudKida: the learner signed in just in time, in the course's group, the lab
assigned to that group, the way back for the grade remembered; and the grade sent when tasks pass."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade

from accounts.selectors import group_list, user_get_by_email
from accounts.services import group_add_member, group_create, user_create
from cloudkida import clock
from cloudkida.errors import ApplicationError, Conflict, PermissionDenied
from labs.lti import platforms, tool
from labs.selectors import lab_get_any
from labs.services import assignment_add
from tenants.services import audit

logger = logging.getLogger(__name__)
_UNDELIVERED = (LtiException, requests.RequestException, ValueError)  # ValueError: an answer that is not JSON
RETRY_FIRST, RETRY_MAX, RETRY_FOR = timedelta(minutes=15), timedelta(hours=4), timedelta(days=1)
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
ACTOR = "lti"


@dataclass(frozen=True)
class Landing:
    tenant_id: str
    user_id: str
    email: str
    name: str
    sub: str
    lab_id: str
    group_id: str


def _course_group(tenant_id: str, context: dict[str, Any]) -> str:
    """The group of the launch's course (its title, else its id), made on the first launch from it."""
    name = " ".join(str(context.get("title") or context.get("label") or context.get("id") or "").split())[:80]
    if not name:
        return ""
    wanted = name.lower()
    cursor = None
    while True:
        page = group_list(tenant_id=tenant_id, limit=100, cursor=cursor)
        found = next((g for g in page.items if g.name.lower() == wanted), None)
        if found:
            return found.group_id
        if not page.cursor:
            break
        cursor = page.cursor
    try:
        return group_create(
            tenant_id=tenant_id, name=name, description="From the learning platform", actor=ACTOR
        ).group_id
    except Conflict:  # made by a launch at the same moment
        return _course_group(tenant_id, context)


def launch_land(*, platform: platforms.LtiPlatform, tenant_id: str, claims: dict[str, Any]) -> Landing:
    """Sign the launch's person in to ``tenant_id`` (the platform's tenant; PermissionDenied otherwise):
    the user is made on first launch (no password: they come through the platform), joined to the course's
    group; a lab named in the custom claim is assigned to that group; the grade's way back is kept."""
    if platform.tenant_id != tenant_id:
        raise PermissionDenied("This learning platform is registered to another organisation.", code="wrong_tenant")
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        raise PermissionDenied("The learning platform did not share the learner's email.", code="lti_email_missing")
    name = str(
        claims.get("name") or " ".join(p for p in (claims.get("given_name"), claims.get("family_name")) if p) or email
    )
    user = user_get_by_email(tenant_id=tenant_id, email=email)
    if user is None:
        try:
            user = user_create(tenant_id=tenant_id, email=email, name=name)
        except Conflict:
            user = user_get_by_email(tenant_id=tenant_id, email=email)
    if user is None or user.status.value != "ACTIVE":
        raise PermissionDenied("Your account is not active in this organisation.", code="user_inactive")
    group_id = _course_group(tenant_id, claims.get(CLAIM + "context") or {})
    if group_id:
        group_add_member(tenant_id=tenant_id, group_id=group_id, user_id=user.user_id, actor=ACTOR)
    lab_id = str((claims.get(CLAIM + "custom") or {}).get("lab_id") or "")[:64]
    if lab_id:
        try:
            lab = lab_get_any(tenant_id=tenant_id, lab_id=lab_id)
            if group_id:
                assignment_add(tenant_id=tenant_id, lab=lab, assignee_type="group", assignee_id=group_id, actor=ACTOR)
        except ApplicationError as error:  # an unknown or not-enabled lab: the learner lands on their labs
            logger.warning("lti lab not assignable", extra={"lab_id": lab_id, "reason": error.code})
            lab_id = ""
        ags = claims.get(AGS_CLAIM)
        if lab_id and isinstance(ags, dict) and ags.get("lineitem"):
            platforms.link_put(
                platforms.LtiLink(
                    tenant_id, user.user_id, lab_id, platform.issuer, platform.client_id, str(claims["sub"]), ags
                )
            )
    return Landing(tenant_id, user.user_id, user.email, user.name, str(claims["sub"]), lab_id, group_id)


def grade_task_checked(tenant_id: str, data: dict[str, Any]) -> bool:
    """A relayed ``task.checked`` event: send the learner's score for the lab (tasks passed of the lab's
    tasks) to the platform they launched it from, through AGS. True if a score was sent; a score the
    platform did not take is kept to be sent again (``grades_retry``)."""
    link = platforms.link_passed(
        tenant_id, data["user_id"], data["lab_id"], data["task_id"] if data.get("passed") else None
    )
    if link is None:
        return False
    platform = platforms.lti_platform_find(link.issuer, link.client_id)
    if platform is None or platform.tenant_id != tenant_id:
        return False
    task_count = int(data.get("task_count") or 1)
    try:
        _send(platform, link, task_count)
    except _UNDELIVERED as error:  # the platform's or the network's fault: send it again later
        logger.warning("lti grade not accepted", extra={"tenant_id": tenant_id, "error": str(error)[:300]})
        platforms.grade_retry_mark(
            tenant_id, link.user_id, link.lab_id, error=str(error), task_count=task_count, next_at=_next_attempt(1)
        )
        return False
    return True


def _send(platform: platforms.LtiPlatform, link: platforms.LtiLink, task_count: int) -> None:
    total = max(task_count, len(link.passed))
    done = len(link.passed) >= total
    grade = (
        Grade()
        .set_score_given(len(link.passed))
        .set_score_maximum(total)
        .set_user_id(link.sub)
        .set_timestamp(clock.to_iso(clock.now()))
        .set_activity_progress("Completed" if done else "InProgress")
        .set_grading_progress("FullyGraded" if done else "Pending")
    )
    AssignmentsGradesService(tool.connector(platform), link.ags).put_grade(grade)


def _next_attempt(attempts: int) -> datetime:
    """15 minutes after the first failure, doubling to at most 4 hours: about nine attempts in a day."""
    return clock.now() + min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX)


def grades_retry() -> dict[str, int]:
    """Send again every waiting score that is due (the link's latest: tasks passed since count); give up
    after a day of failures, with an audit event the tenant's admins can see."""
    now, report = clock.now(), {"sent": 0, "waiting": 0, "abandoned": 0, "dropped": 0}
    for retry in platforms.grade_retries_due(now):
        link = platforms.link_get(retry.tenant_id, retry.user_id, retry.lab_id)
        platform = platforms.lti_platform_find(link.issuer, link.client_id) if link else None
        if link is None or platform is None or platform.tenant_id != retry.tenant_id:
            platforms.grade_retry_clear(retry)  # the learner was erased or the platform removed
            report["dropped"] += 1
            continue
        try:
            _send(platform, link, retry.task_count)
        except _UNDELIVERED as error:
            if now - retry.first_failed_at >= RETRY_FOR:
                platforms.grade_retry_clear(retry)
                audit(
                    retry.tenant_id,
                    "lti.grade_abandoned",
                    ACTOR,
                    user_id=retry.user_id,
                    lab_id=retry.lab_id,
                    attempts=retry.attempts + 1,
                    error=str(error)[:300],
                )
                report["abandoned"] += 1
            else:
                platforms.grade_retry_mark(
                    retry.tenant_id,
                    retry.user_id,
                    retry.lab_id,
                    error=str(error),
                    task_count=retry.task_count,
                    next_at=_next_attempt(retry.attempts + 1),
                )
                report["waiting"] += 1
            continue
        platforms.grade_retry_clear(retry)
        report["sent"] += 1
    return report
