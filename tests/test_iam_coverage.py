"""Least privilege, checked against what the code really does: every AWS call the test run made from app code
(recorded by ``tests.iam.recorder``) must be allowed by the Lambda role policy in the generated template,
on the resources it touched — and, over the whole suite, every permission the policy grants must have been
used by some test (the runtime's own logs and traces aside), so the policy holds no more than the code needs.

Collected last. Run on its own it first runs a representative part of the suite in a child pytest.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from django.test.utils import override_settings

from cloudkida import infrastructure
from cloudkida.infrastructure import StackConfig, Stage
from tests.iam import ROOT, evaluate, recorder

pytestmark = pytest.mark.iam_coverage

ACCOUNT = "123456789012"
# Granted for the Lambda runtime itself (its log stream, X-Ray segments), never called by our code.
RUNTIME_ONLY = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
RUNTIME_ONLY |= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# Granted for `zappa manage <stage> collectstatic`, which runs in the Lambda at deploy time (Django's own command;
# tests/deploy/test_static_files.py runs it, from test code, so the recorder does not count it).
RUNTIME_ONLY |= {"s3:GetObject"}
# django-ses reads the send quota to pace itself in production (AWS_SES_AUTO_THROTTLE); tests turn that off, as
# moto's quota of one message a second would pace the suite.
RUNTIME_ONLY |= {"ses:GetSendQuota"}
# Production only, and moto lacks it: tests/tenants/test_branding.py answers SetUICustomization with a botocore
# Stubber, whose before-call handler answers before the recorder's sees the call.
RUNTIME_ONLY |= {"cognito-idp:SetUICustomization"}
# Production only, and moto lacks it (the emulator records the link in the `identities` attribute instead):
# tests/accounts/test_sso_triggers.py checks the AdminLinkProviderForUser request through a botocore Stubber.
RUNTIME_ONLY |= {"cognito-idp:AdminLinkProviderForUser"}
# Callers that never run in the Lambda: the hosted-UI emulator is routed only when CLOUDKIDA_COGNITO_EMULATOR
# is on (local runs and tests; production settings refuse it), and operator_token is a command for local runs.
LOCAL_ONLY_CALLERS = ("accounts.cognito_emulator:", "accounts.management.commands.operator_token:")
# Run when this test runs alone: the parts of the suite that exercise every kind of AWS call.
SUBSET = [
    "tests/tenants/test_onboarding.py",
    "tests/identity/test_authorizer.py",
    "tests/cloudkida/test_step_functions.py",
    "tests/accounts/test_webhooks.py",  # the webhooks queue (SQS)
    "tests/accounts/test_sso_api.py",  # the tenant's identity providers (Cognito)
]
MUST_SEE = {
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:CreateTable",
    "cognito-idp:AdminCreateUser",
    "cognito-idp:CreateUserPoolClient",
    "apigateway:POST",
    "ses:SendRawEmail",
    "sts:AssumeRole",
    "sts:TagSession",
    "states:StartExecution",
}


def _policy(stage: tuple[str, ...]) -> dict:
    """The Lambda role policy of the generated template, for the settings the calls were made under."""
    prefix, region, sender, bucket = stage
    config = StackConfig(prefix=prefix, region=region, environment={}, stages=(Stage("test", "cloudkida-test", False),))
    with override_settings(
        CLOUDKIDA_RESOURCE_PREFIX=prefix,
        AWS_REGION=region,
        CLOUDKIDA_SENDER_EMAIL=sender,
        CLOUDKIDA_ASSETS_BUCKET=bucket,
    ):
        document = infrastructure.lambda_policy(config)
    pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": region, "AWS::Partition": "aws"}
    return _fill(document, pseudo)


def _fill(node, pseudo):
    if isinstance(node, str):
        return re.sub(r"\$\{(AWS::[A-Za-z]+)\}", lambda m: pseudo[m.group(1)], node)
    if isinstance(node, list):
        return [_fill(n, pseudo) for n in node]
    if isinstance(node, dict):
        return {k: _fill(v, pseudo) for k, v in node.items()}
    return node


def _observed(tmp_path: Path, whole_run: bool) -> dict:
    if whole_run:
        return dict(recorder.observed)
    target = tmp_path / "iam.json"
    env = {**os.environ, "CLOUDKIDA_IAM_RECORD": str(target), "CLOUDKIDA_ENV": "test"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUBSET],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return recorder.load(target)


def test_every_aws_call_the_code_makes_is_allowed_by_the_lambda_role_and_nothing_more(request, tmp_path):
    whole_run = len(request.session.items) > 200
    observed = _observed(tmp_path, whole_run)
    policies: dict[tuple, dict] = {}
    denied = defaultdict(set)
    used: set[str] = set()
    for seen, test in observed.items():
        if seen.caller.startswith(LOCAL_ONLY_CALLERS):
            continue
        policy = policies.setdefault(seen.stage, _policy(seen.stage))
        if evaluate([policy], seen.request):
            used.add(seen.request.action)
        else:
            denied[f"{seen.request.action} on {seen.request.resource}"].add(f"{seen.caller} ({test})")
    report = "\n".join(f"{k}: {sorted(v)[:3]}" for k, v in sorted(denied.items()))
    if denied:
        (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
        (ROOT / "tests" / "artifacts" / "iam-denied.txt").write_text(report)
    assert not denied, report
    assert MUST_SEE <= used, MUST_SEE - used
    if whole_run:
        granted = {a for p in policies.values() for s in p["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}
        unused = granted - used - RUNTIME_ONLY
        (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
        (ROOT / "tests" / "artifacts" / "iam-coverage.txt").write_text(
            f"calls recorded: {len(observed)}; actions used: {sorted(used)}; granted, unused: {sorted(unused)}\n"
        )
        assert unused == set(), "granted but never used by the code"
