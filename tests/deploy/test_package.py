"""The real Lambda package: built by `zappa package` from a clean runtime-only venv, unpacked, and run in a
separate interpreter that sees nothing but the package (`python -I -S`), with DJANGO_SECRET_KEY the only
setting supplied from outside. It serves a tenant host, the authorizer, an API call behind the authorizer
and every onboarding step, against a moto server the test prepared as a deployed stage would be."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from accounts.api_keys import api_key_create
from cloudkida import aws, infrastructure
from cloudkida.bootstrap import bootstrap
from scripts import package
from tenants import provisioning
from tenants.domain import TenantStatus, Tier
from tenants.selectors import tenant_cache_clear, tenant_get
from tenants.services import tenant_register
from tenants.services.records import tenant_create
from tests.fixtures_platform import REGISTRATION

DRIVER = Path(__file__).with_name("serve_package.py")
# The function's entry point, as `zappa deploy` configures it (every stage inherits it from dev).
ENTRY = json.loads((Path(__file__).resolve().parents[2] / "zappa_settings.json").read_text())["dev"]["lambda_handler"]
SECRET = "package-test-" + "k9Z!" * 12
STEP_COMMAND = "cloudkida.workflows.lambda_entry.run_step"
# Everything the production packages may not carry: test, lint, emulator and deploy-only tools.
NOT_IN_PACKAGE = ("moto", "pytest", "_pytest", "ruff", "playwright", "oidc_provider_mock", "flask", "cfnlint")
NOT_IN_PACKAGE += ("troposphere", "placebo", "hjson", "docker", "tests", "benchmarks", "scripts", "deploy", "docs")


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    """The production and production-api packages, unpacked (built once per run; the venv is cached)."""
    built = {}
    for stage in ("production", "production-api"):
        zipped = package.build(stage, tmp_path_factory.mktemp("zip") / f"{stage}.zip")
        built[stage] = package.unpack(zipped, tmp_path_factory.mktemp(stage))
    return built


def _serve(package_dir: Path, events: list[dict], endpoint: str) -> dict:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SECRET_KEY": SECRET,
        # What Lambda provides itself, pointed at the emulator: credentials and an endpoint for botocore.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": endpoint,
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-I", "-S", str(DRIVER), str(package_dir), ENTRY],
        input=json.dumps(events),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    lines = result.stdout.strip().splitlines()
    out = json.loads(lines[-1])
    assert out["sys_path_leaks"] == []
    out["stdout"], out["stderr"] = lines[:-1], result.stderr.splitlines()
    return out


def _json_lines(lines: list[str]) -> list[dict]:
    found = []
    for line in lines:
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return [f for f in found if isinstance(f, dict)]


def _http(path: str, host: str, stage: str, *, authorizer: dict | None = None) -> dict:
    context = {"stage": stage, "requestId": "r-1", "identity": {"sourceIp": "203.0.113.9"}, "path": f"/{stage}{path}"}
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": host, "Accept": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": context,
        "body": None,
        "isBase64Encoded": False,
    }


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_package_carries_its_runtime_and_nothing_for_tests_or_deploys(packages):
    root = packages["production"]
    needed_paths = ("handler.py", "zappa_settings.py", "werkzeug", "botocore/docs", "django/contrib/staticfiles")
    for needed in (*needed_paths, "aws_xray_sdk"):
        assert (root / needed).exists(), needed
    for unwanted in NOT_IN_PACKAGE:
        assert not (root / unwanted).exists(), unwanted
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size < 250 * 2**20  # Lambda's limit for an unpacked package


def test_with_aws_unreachable_the_health_check_answers_503_on_every_host(packages):
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    out = _serve(
        packages["production"],
        [
            {"event": _http("/healthz", "cloudkida.example", "production")},
            # API Gateway's own host: Zappa puts /production in SCRIPT_NAME.
            {"event": _http("/healthz", "abc123.execute-api.us-east-1.amazonaws.com", "production")},
            {"event": _http("/", "acme.cloudkida.example", "production")},
        ],
        endpoint,
    )
    statuses = [r["ok"]["statusCode"] for r in out["results"]]
    assert statuses == [503, 503, 503]
    assert json.loads(out["results"][0]["ok"]["body"])["status"] == "unavailable"


@pytest.fixture
def production_stage(moto_server, settings):
    """The moto server as `production` finds it after the deploy: its resources and the default tenant."""
    config = next(c for c in infrastructure.stack_configs() if c.prefix == "cloudkida-prod")
    settings.EMAIL_BACKEND = "django_ses.SESBackend"
    settings.AWS_SES_REGION_ENDPOINT_URL = moto_server
    with infrastructure.stack_settings(config):
        aws.reset()
        provisioning.cache_clear()
        tenant_cache_clear()
        bootstrap()
        yield config
        provisioning.cache_clear()
        tenant_cache_clear()
    aws.reset()


def _trigger(source: str, tenant, username: str) -> dict:
    """A user-pool trigger event as Cognito sends it to the function."""
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": tenant.identity["user_pool_id"],
        "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": tenant.identity["client_id"]},
        "triggerSource": source,
        "request": {"userAttributes": {"email": "emp@acme.example"}},
        "response": {},
    }


def test_the_package_serves_a_tenant_host_the_authorizer_an_api_call_and_workflow_steps(
    packages, production_stage, moto_server
):
    acme, _ = tenant_register(**{**REGISTRATION, "slug": "acme", "name": "Acme Labs"}, client_address="t")
    assert acme.status is TenantStatus.ACTIVE
    _, raw_key = api_key_create(tenant_id=acme.tenant_id, name="ci", scope="read", created_by="test")
    beta = tenant_create(slug="beta", name="Beta Org", tier=Tier.PLATINUM, admin_email="b@beta.example", country="GB")
    steps = ["record", "silo_table", "identity", "admin_user", "api_key", "welcome_email", "activate"]
    method_arn = "arn:aws:execute-api:us-east-1:123456789012:api123/production-api/GET/api/v1/users"

    portal = _serve(
        packages["production"],
        [
            {"event": _http("/", "acme.cloudkida.example", "production")},
            {"event": _http("/healthz", "abc123.execute-api.us-east-1.amazonaws.com", "production")},
            *(
                {"event": {"command": STEP_COMMAND, "workflow": "onboarding", "step": s, "subject_id": beta.tenant_id}}
                for s in steps
            ),
            # Cognito's triggers, through the entry point to the federation code: a provider acme never
            # connected is refused (Cognito then refuses the sign-in); a trigger nobody serves goes back as is.
            {"event": _trigger("PreSignUp_ExternalProvider", acme, "nosuch_emp-1")},
            {"event": _trigger("CustomMessage_SignUp", acme, "ada@acme.example")},
        ],
        moto_server,
    )
    home, health, *ran, refused, untouched = portal["results"]
    assert refused == {"error": "SignInRefused", "message": "This identity provider is not one of this organisation's."}
    assert untouched["ok"]["triggerSource"] == "CustomMessage_SignUp" and untouched["ok"]["response"] == {}
    assert home["ok"]["statusCode"] == 200 and "Acme Labs" in home["ok"]["body"]
    assert health["ok"]["statusCode"] == 200
    assert [r.get("error") for r in ran] == [None] * len(steps), ran
    assert ran[1]["ok"]["ready"] is True  # moto's table is ACTIVE at once; AWS's would be polled
    # Observability: JSON logs with the service and the tenant on the step's lines; EMF metrics with a tenant dimension.
    logs = _json_lines(portal["stderr"])
    step_lines = [line for line in logs if line.get("tenant_id") == beta.tenant_id]
    assert step_lines and all(line["service"] == "cloudkida-prod" for line in step_lines)
    metrics = [m for m in _json_lines(portal["stdout"]) if "_aws" in m]
    names = {(d["Name"], m["tenant"]) for m in metrics for d in m["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert ("Requests", acme.tenant_id) in names and ("OnboardingSeconds", beta.tenant_id) in names
    tenant_cache_clear()
    beta_now = tenant_get(tenant_id=beta.tenant_id)
    assert beta_now.status is TenantStatus.ACTIVE and beta_now.data_table.endswith(beta.tenant_id)

    api = _serve(
        packages["production-api"],
        [
            {"event": {"type": "TOKEN", "authorizationToken": f"ApiKey {raw_key}", "methodArn": method_arn}},
            {"event": {"type": "TOKEN", "authorizationToken": "Bearer forged", "methodArn": method_arn}},
        ],
        moto_server,
    )
    allowed, refused = api["results"]
    policy = allowed["ok"]
    assert (
        policy["context"]["tenantId"] == acme.tenant_id
        and policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    )
    assert (
        policy["usageIdentifierKey"]
        == aws.client("apigateway").get_api_key(apiKey=acme.api_key_id, includeValue=True)["value"]
    )
    assert policy["context"]["accessKeyId"]  # tenant-scoped credentials for the API call
    assert refused == {"error": "Exception", "message": "Unauthorized"}

    # API Gateway then calls the function with the authorizer's context (and principalId).
    context = {**policy["context"], "principalId": policy["principalId"]}
    call = _serve(
        packages["production-api"],
        [{"event": _http("/api/v1/users", "api.cloudkida.example", "production-api", authorizer=context)}],
        moto_server,
    )
    (users,) = call["results"]
    assert users["ok"]["statusCode"] == 200, users
    assert [u["email"] for u in json.loads(users["ok"]["body"])["results"]] == [REGISTRATION["admin_email"]]
    assert django_settings.CLOUDKIDA_RESOURCE_PREFIX == "cloudkida-prod"
