"""The deployed entry point: Zappa's Lambda handler serving the app from a synthetic API Gateway event."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Zappa sends Django's request signals, whose close_old_connections touches the database connection.
pytestmark = [pytest.mark.usefixtures("moto"), pytest.mark.django_db]


def _generate_zappa_settings(stage: str, out_dir: Path) -> Path:
    """Render the zappa_settings.py `zappa package` puts in the zip, with Zappa's own code (no AWS)."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_credentials = False
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        cli.load_settings(settings_file=str(ROOT / "zappa_settings.json"))
        source = cli.get_zappa_settings_string()
    finally:
        os.chdir(cwd)
    path = out_dir / "zappa_settings.py"
    path.write_text(source + "\n")
    return path


def _reset_handler() -> None:
    import zappa.handler

    zappa.handler.LambdaHandler._LambdaHandler__instance = None
    zappa.handler.global_handler = None
    sys.modules.pop("zappa_settings", None)


@pytest.fixture
def lambda_handler(tmp_path, monkeypatch):
    import zappa.handler

    _generate_zappa_settings("dev", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    saved_env = dict(os.environ)
    root = logging.getLogger()
    levels = (root.level, zappa.handler.logger.level)
    _reset_handler()
    yield zappa.handler.lambda_handler
    _reset_handler()
    os.environ.clear()
    os.environ.update(saved_env)
    root.setLevel(levels[0])
    zappa.handler.logger.setLevel(levels[1])
    sys.path[:] = [p for p in sys.path if p != "/var/task"]


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
    return SimpleNamespace(
        function_name="cloudkida-dev",
        aws_request_id="req-1",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:cloudkida-dev",
        memory_limit_in_mb=1024,
        get_remaining_time_in_millis=lambda: 30000,
    )


def test_generated_settings_module_is_production_grade(tmp_path):
    source = _generate_zappa_settings("production", tmp_path).read_text()
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
