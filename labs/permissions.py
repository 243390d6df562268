"""What labs' code asks of the Lambda role (``cloudkida.resources.register_permissions``).

Calls made *inside* a lab account — stacks, checks, cleanup — run on that account's roles
(``OrganizationAccountAccessRole``, ``CloudKidaCleanup``, the learner role), which CloudKida assumes: the
Lambda role needs only the right to assume them. What it calls itself is the pool's organization (the
platform's own, or a shard's through its ``CloudKidaPoolAdmin`` role), template validation and reads, Cost
Explorer, the aws-nuke CodeBuild project and the pool's CloudWatch metric.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from cloudkida.infrastructure import PARTITION, _arn
from labs import guardrails

ORGANIZATIONS = [
    "organizations:DescribeOrganization",
    "organizations:CreateOrganization",  # only where no organization exists yet (emulation, a new shard)
    "organizations:ListRoots",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:CreateOrganizationalUnit",
    "organizations:ListAccountsForParent",
    "organizations:ListParents",
    "organizations:MoveAccount",
    "organizations:CreateAccount",
    "organizations:DescribeCreateAccountStatus",
    "organizations:ListPolicies",
    "organizations:CreatePolicy",
    "organizations:ListPoliciesForTarget",
    "organizations:AttachPolicy",
    "organizations:DetachPolicy",
]


def statements() -> list[dict[str, Any]]:
    roles = (guardrails.ACCESS_ROLE, guardrails.CLEANUP_ROLE, guardrails.SHARD_ROLE)
    return [
        {
            # Organizations' resources (accounts, OUs, policies) have ids only known at run time.
            "Sid": "LabPoolOrganization",
            "Effect": "Allow",
            "Action": ORGANIZATIONS,
            "Resource": "*",
        },
        {
            "Sid": "LabAccountRoles",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": [f"arn:{PARTITION}:iam::*:role/{role}" for role in roles],
        },
        {
            # ValidateTemplate, GetCostAndUsage and PutMetricData take no resource.
            "Sid": "LabTemplatesSpendAndPoolMetric",
            "Effect": "Allow",
            "Action": ["cloudformation:ValidateTemplate", "ce:GetCostAndUsage", "cloudwatch:PutMetricData"],
            "Resource": "*",
        },
        {
            # CloudKida's own labs' templates: read for ValidateTemplate (the caller needs read access to the
            # URL) and to pass them inline to a lab account's CreateStack (a tenant's are under tenants/*).
            "Sid": "LabPlatformTemplates",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": f"arn:{PARTITION}:s3:::{settings.CLOUDKIDA_ASSETS_BUCKET}/platform/labs/*",
        },
        {
            "Sid": "LabCleanupBuilds",
            "Effect": "Allow",
            "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
            "Resource": _arn("codebuild", f"project/{settings.CLOUDKIDA_LAB_NUKE_PROJECT}"),
        },
    ]
