"""What a launch does in CloudKida: the learner signed in just in time, in the course's group, the lab
assigned to that group, the way back for the grade remembered; and the grade sent when tasks pass."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector

from accounts.selectors import group_list, user_get_by_email
from accounts.services import group_add_member, group_create, user_create
from cloudkida import clock
from cloudkida.errors import ApplicationError, Conflict, PermissionDenied
from labs.lti import platforms, tool
from labs.selectors import lab_get_any
from labs.services import assignment_add

logger = logging.getLogger(__name__)
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
    tasks) to the platform they launched it from, through AGS. True if a score was sent."""
    link = platforms.link_passed(
        tenant_id, data["user_id"], data["lab_id"], data["task_id"] if data.get("passed") else None
    )
    if link is None:
        return False
    platform = platforms.lti_platform_find(link.issuer, link.client_id)
    if platform is None or platform.tenant_id != tenant_id:
        return False
    total = max(int(data.get("task_count") or 1), len(link.passed))
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
    AssignmentsGradesService(ServiceConnector(tool.registration_of(platform)), link.ags).put_grade(grade)
    return True
