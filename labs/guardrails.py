"""Service control policies (pure): what a pool account may do in each OU, and what a lab allows.

Every policy exempts the cleanup role (``CloudKidaCleanup``), so an account can always be cleaned — even
quarantined, even under a lab's narrow policy (Innovation Sandbox's known trap is an SCP that locks out its
own cleanup). ``OrganizationAccountAccessRole`` (how CloudKida deploys a lab's stack and sets up the learner)
is exempt from the idle policy only: while an account is leased it is bound by the lab's limits like the
learner, so a lab's stack cannot reach outside them either.
"""

from __future__ import annotations

import hashlib
import json

CLEANUP_ROLE = "CloudKidaCleanup"
ACCESS_ROLE = "OrganizationAccountAccessRole"
LEARNER_ROLE = "CloudKidaLearner"
SHARD_ROLE = "CloudKidaPoolAdmin"  # the role a pool shard's management account lets CloudKida assume

# Services every lab needs whatever it teaches: its own stack, credentials, the console's basics.
ALWAYS_ALLOWED = ("cloudformation", "sts", "iam", "tag", "resource-groups", "cloudwatch", "logs", "health", "support")
# Global services (no region): exempt from the region condition.
GLOBAL_SERVICES = (
    "iam",
    "sts",
    "organizations",
    "support",
    "health",
    "cloudfront",
    "route53",
    "budgets",
    "ce",
    "waf",
    "globalaccelerator",
    "trustedadvisor",
)
# The only EC2 instance types (and RDS classes) a lab may start: big ones are where runaway spend lives.
SMALL_INSTANCE_TYPES = (
    "t2.nano",
    "t2.micro",
    "t2.small",
    "t3.nano",
    "t3.micro",
    "t3.small",
    "t4g.nano",
    "t4g.micro",
    "t4g.small",
)
SMALL_DB_CLASSES = ("db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small")


def _exempt(*roles: str) -> dict:
    return {"ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::*:role/{r}" for r in roles]}}


def _small_instances() -> list[dict]:
    exempt = _exempt(CLEANUP_ROLE)
    return [
        {
            "Sid": "DenyLargeInstances",
            "Effect": "Deny",
            "Action": ["ec2:RunInstances", "ec2:StartInstances", "ec2:ModifyInstanceAttribute"],
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {"StringNotLike": {"ec2:InstanceType": list(SMALL_INSTANCE_TYPES)}, **exempt},
        },
        {
            "Sid": "DenyLargeDatabases",
            "Effect": "Deny",
            "Action": ["rds:CreateDBInstance", "rds:ModifyDBInstance"],
            "Resource": "*",
            "Condition": {"StringNotLike": {"rds:DatabaseClass": list(SMALL_DB_CLASSES)}, **exempt},
        },
    ]


def _protect_platform() -> list[dict]:
    return [
        {
            "Sid": "ProtectPlatformRoles",
            "Effect": "Deny",
            "Action": ["iam:*"],
            "Resource": [f"arn:aws:iam::*:role/{CLEANUP_ROLE}", f"arn:aws:iam::*:role/{ACCESS_ROLE}"],
            "Condition": _exempt(CLEANUP_ROLE, ACCESS_ROLE),
        },
        {
            "Sid": "StayInTheOrganization",
            "Effect": "Deny",
            "Action": ["organizations:LeaveOrganization", "account:*", "aws-portal:*", "billing:*", "payments:*"],
            "Resource": "*",
            "Condition": _exempt(CLEANUP_ROLE),
        },
    ]


def idle_policy() -> dict:
    """On the available, cleaning and quarantine OUs: nobody but CloudKida's own roles acts in the account."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyCloudKida",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": _exempt(CLEANUP_ROLE, ACCESS_ROLE),
            }
        ],
    }


def leased_policy() -> dict:
    """On the leased OU: the platform's roles are protected, the account stays in the organization and its
    billing untouched, and large instances are refused, whatever the lab."""
    return {"Version": "2012-10-17", "Statement": _protect_platform() + _small_instances()}


def lab_policy(*, services: list[str], regions: list[str]) -> dict:
    """Attached to a leased account for one lab: only the lab's services, only in its regions."""
    allowed = sorted({*services, *ALWAYS_ALLOWED})
    exempt = _exempt(CLEANUP_ROLE)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyLabServices",
                "Effect": "Deny",
                "NotAction": [f"{s}:*" for s in allowed],
                "Resource": "*",
                "Condition": exempt,
            },
            {
                "Sid": "OnlyLabRegions",
                "Effect": "Deny",
                "NotAction": [f"{s}:*" for s in GLOBAL_SERVICES],
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": sorted(regions)}, **exempt},
            },
        ],
    }


def digest(document: dict) -> str:
    """A stable name for a policy's content: labs with the same guardrails share one SCP per organization."""
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:20]


def learner_policy(*, services: list[str], regions: list[str]) -> dict:
    """The learner role's own permissions: the lab's services in its regions (the SCP is the ceiling)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LabServices",
                "Effect": "Allow",
                "Action": [f"{s}:*" for s in sorted(set(services))] or ["cloudformation:Describe*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": sorted(regions)}},
            },
            {
                "Sid": "SeeTheLabStack",
                "Effect": "Allow",
                "Action": ["cloudformation:Describe*", "cloudformation:List*", "cloudformation:Get*"],
                "Resource": "*",
            },
            {
                "Sid": "NoPlatformRoles",
                "Effect": "Deny",
                "Action": "iam:*",
                "Resource": [
                    f"arn:aws:iam::*:role/{CLEANUP_ROLE}",
                    f"arn:aws:iam::*:role/{ACCESS_ROLE}",
                    f"arn:aws:iam::*:role/{LEARNER_ROLE}",
                ],
            },
        ],
    }


def revoke_policy(issued_before: str) -> dict:
    """Put on the learner role to end every session issued before now (console and CLI alike)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RevokeLearnerSessions",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": issued_before}},
            }
        ],
    }
