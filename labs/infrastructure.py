"""What labs adds to a stage's template (``cloudkida.resources.register_template_resources``): the CodeBuild
project ``CLOUDKIDA_LAB_NUKE_PROJECT`` that empties a lab account with aws-nuke in production, its log group,
and its role.

``labs.services.pool.start_nuke_build`` starts one build per cleanup pass with four environment variables:
``NUKE_CONFIG`` (the account's aws-nuke v3 configuration as JSON, which aws-nuke reads as YAML),
``NUKE_ACCOUNT``, ``NUKE_ROLE_ARN`` (that account's ``CloudKidaCleanup``) and ``NUKE_VERIFY``. The buildspec
downloads one pinned aws-nuke release and checks its sha256, and runs it on the cleanup role through
aws-nuke's own ``--assume-role-arn``. ``NUKE_VERIFY=false`` deletes (``--no-dry-run``); ``NUKE_VERIFY=true``
(also the project's default, so a build started by hand deletes nothing) only lists, and fails the build
unless the scan found nothing left to delete. ``_build_done`` reads the build's status: anything but
SUCCEEDED fails the pass.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from cloudkida.infrastructure import ACCOUNT, LOG_RETENTION_DAYS, PARTITION, _arn, _tags
from labs import guardrails

# https://github.com/ekristen/aws-nuke/releases; the sha256 is the release's own (goreleaser's checksum, as
# in ekristen/homebrew-tap). A new version: change all three, regenerate the template.
AWS_NUKE_VERSION = "v3.67.0"
AWS_NUKE_URL = (
    f"https://github.com/ekristen/aws-nuke/releases/download/{AWS_NUKE_VERSION}/"
    f"aws-nuke-{AWS_NUKE_VERSION}-linux-amd64.tar.gz"
)
AWS_NUKE_SHA256 = "cf4e048022bd971b874c8acebc82a4eb2a0cc114c2bd8d666c5b67891a0c46cb"
BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
# Under the cleanup workflow's wait for a pass (3600 s), so a stuck build ends TIMED_OUT and the pass fails
# on its own status rather than on the workflow's timeout.
BUILD_TIMEOUT_MINUTES = 55
QUEUED_TIMEOUT_MINUTES = 30
CONFIG_FILE = "nuke-config.yaml"
# aws-nuke v3 `run`: --no-prompt (alias --force) skips the confirmation, --prompt-delay is its minimum wait,
# --no-alias-check because lab accounts have no alias (the config's bypass-alias-check-accounts names the
# account, which aws-nuke also requires). Without --no-dry-run it only lists.
NUKE = (
    f'./aws-nuke run --config {CONFIG_FILE} --assume-role-arn "$NUKE_ROLE_ARN"'
    " --no-prompt --prompt-delay 3 --no-alias-check --log-disable-color"
)
# What aws-nuke prints after scanning (libnuke): "Scan complete: <n> total, <n> nukeable, <n> filtered."
NOTHING_LEFT = r"^Scan complete: [0-9]+ total, 0 nukeable, "


def buildspec() -> str:
    """The inline buildspec (no ``${...}``: the template wraps such strings in Fn::Sub)."""
    role = f"arn:aws:iam::$NUKE_ACCOUNT:role/{guardrails.CLEANUP_ROLE}"
    return f"""version: 0.2
env:
  shell: bash
phases:
  install:
    commands:
      - curl --fail --silent --show-error --location --output aws-nuke.tar.gz "{AWS_NUKE_URL}"
      - echo "{AWS_NUKE_SHA256}  aws-nuke.tar.gz" | sha256sum --check --strict -
      - tar -xzf aws-nuke.tar.gz
      - ./aws-nuke --version
  build:
    commands:
      - test -n "$NUKE_CONFIG" && test -n "$NUKE_ACCOUNT"
      - test "$NUKE_ROLE_ARN" = "{role}"
      - printf '%s' "$NUKE_CONFIG" > {CONFIG_FILE}
      - |
        set -o pipefail
        if [ "$NUKE_VERIFY" = "false" ]; then
          {NUKE} --no-dry-run
        else
          {NUKE} | tee scan.log && grep -Eq '{NOTHING_LEFT}' scan.log
        fi
"""


def resources() -> dict[str, dict[str, Any]]:
    project = settings.CLOUDKIDA_LAB_NUKE_PROJECT
    log_group = f"/aws/codebuild/{project}"
    return {
        "LabNukeLogs": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": log_group, "RetentionInDays": LOG_RETENTION_DAYS},
        },
        "LabNukeRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": project,
                "Description": "The aws-nuke CodeBuild project: assumes a lab account's cleanup role, writes its logs",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "codebuild.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                        }
                    ],
                },
                "Policies": [{"PolicyName": "aws-nuke", "PolicyDocument": nuke_policy(log_group)}],
            },
        },
        "LabNukeProject": {
            "Type": "AWS::CodeBuild::Project",
            "Properties": {
                "Name": project,
                "Description": f"Empties a lab account with aws-nuke {AWS_NUKE_VERSION} (labs.infrastructure)",
                "ServiceRole": {"Fn::GetAtt": ["LabNukeRole", "Arn"]},
                "Source": {"Type": "NO_SOURCE", "BuildSpec": buildspec()},
                "Artifacts": {"Type": "NO_ARTIFACTS"},
                "Environment": {
                    "Type": "LINUX_CONTAINER",
                    "ComputeType": "BUILD_GENERAL1_SMALL",
                    "Image": BUILD_IMAGE,
                    "EnvironmentVariables": [{"Name": "NUKE_VERIFY", "Type": "PLAINTEXT", "Value": "true"}],
                },
                "TimeoutInMinutes": BUILD_TIMEOUT_MINUTES,
                "QueuedTimeoutInMinutes": QUEUED_TIMEOUT_MINUTES,
                "LogsConfig": {"CloudWatchLogs": {"Status": "ENABLED", "GroupName": {"Ref": "LabNukeLogs"}}},
                "Tags": _tags({"cloudkida:prefix": settings.CLOUDKIDA_RESOURCE_PREFIX}),
            },
        },
    }


def nuke_policy(log_group: str) -> dict[str, Any]:
    """Exactly: assume any lab account's cleanup role, and write to the project's own log group."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LabCleanupRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:{PARTITION}:iam::*:role/{guardrails.CLEANUP_ROLE}",
            },
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [_arn("logs", f"log-group:{log_group}"), _arn("logs", f"log-group:{log_group}:*")],
            },
        ],
    }
