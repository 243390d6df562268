"""The deployed entry point: Zappa's Lambda handler serving the app from a synthetic API Gateway event."""

from __future__ import annotations

import json

import pytest

from tests.zappa_support import ROOT, generate_zappa_settings, lambda_context

# Zappa sends Django's request signals, whose close_old_connections touches the database connection.
pytestmark = [pytest.mark.usefixtures("moto"), pytest.mark.django_db]


def _event(path: str, host: str = "api.localhost") -> dict:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": host, "Accept": "application/json", "X-Forwarded-Proto": "https"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "path": f"/dev{path}",
            "stage": "dev",
            "accountId": "123456789012",
            "apiId": "abc123",
            "requestId": "req-1",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _context():
    return lambda_context()


def test_generated_settings_module_is_production_grade(tmp_path):
    source = generate_zappa_settings("production", tmp_path).read_text()
    assert "DEBUG=False" in source
    assert "LOG_LEVEL='INFO'" in source
    assert "DJANGO_SETTINGS='cloudkida.settings'" in source
    assert "'CLOUDKIDA_ENV': 'production'" in source


def test_lambda_handler_serves_the_health_page(lambda_handler):
    response = lambda_handler(_event("/healthz"), _context())
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == {"status": "ok", "checks": {"dynamodb": "ok"}}
    assert response["headers"]["X-Request-Id"]


def test_lambda_handler_returns_the_api_error_body_for_unknown_api_paths(lambda_handler):
    response = lambda_handler(_event("/api/v1/no-such-thing"), _context())
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["code"] == "not_found"


def test_settings_declare_no_secrets_and_keep_dev_packages_out():
    config = json.loads((ROOT / "zappa_settings.json").read_text())
    for stage in ("dev", "production"):
        merged = {**config["dev"], **config[stage]}
        assert merged["runtime"] == "python3.11"
        assert merged["debug"] is False and merged["log_level"] == "INFO"
        env = merged["environment_variables"]
        assert not any("SECRET" in k or "PASSWORD" in k for k in env)
        for package in ("moto", "pytest", "_pytest", "playwright", "ruff", "oidc_provider_mock"):
            assert package in merged["exclude"]


def test_lambda_handler_runs_a_job_from_its_asynchronous_invocation_event(lambda_handler, settings):
    """What `cloudkida.jobs.start` sends in production (InvocationType=Event) is a Zappa command event:
    the real handler runs one slice of the job and answers what happened."""
    from cloudkida import jobs

    settings.CLOUDKIDA_JOB_RUNNER = "inline"
    seen = []
    jobs.register("test-zappa-job", lambda params, budget: seen.append(params) or True)
    result = lambda_handler(jobs.lambda_event("test-zappa-job", {"tenant_id": "t", "n": 1}), _context())
    assert result == {"job": "test-zappa-job", "finished": True}
    assert seen == [{"tenant_id": "t", "n": 1}]
