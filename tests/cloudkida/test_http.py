"""Health, API root, OpenAPI schema and docs, error bodies and pages, request logs."""

from __future__ import annotations

import json
import logging

import pytest

from cloudkida import aws, errors
from cloudkida.dynamo import tables


@pytest.mark.usefixtures("moto")
def test_health_is_ok_when_dynamodb_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"dynamodb": "ok"}}


@pytest.mark.usefixtures("moto")
def test_health_is_503_with_the_reason_when_a_table_is_missing(client):
    with aws.deploying():  # an operator's mistake; the Lambda role may never drop a platform table
        tables.drop_table(tables.pooled_table())
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["problems"] == [{"table": tables.pooled_table().name, "error": "ResourceNotFoundException"}]


def test_health_is_503_when_dynamodb_is_unreachable(client, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.AWS_CONNECT_TIMEOUT = 0.5
    settings.AWS_MAX_ATTEMPTS = 1
    from cloudkida import aws

    aws.reset()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["problems"][0]["error"] == "EndpointConnectionError"


def test_api_root_links_schema_and_docs(client):
    body = client.get("/api/v1/").json()
    assert body["links"]["schema"].endswith("/api/v1/schema/")
    assert body["links"]["docs"].endswith("/api/v1/docs/")


def test_openapi_schema_is_openapi_3(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/" in schema["paths"]


def test_interactive_docs_render(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_unknown_api_path_gets_the_json_error_body(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "We could not find that page.", "details": {}}


def test_unknown_page_gets_a_friendly_html_page(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert b"We could not find that page." in response.content
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (errors.ValidationFailed("bad", details={"field": "x"}), 400, "validation_failed"),
        (errors.PermissionDenied(), 403, "permission_denied"),
        (errors.NotFound(), 404, "not_found"),
        (errors.Conflict(code="version_conflict"), 409, "version_conflict"),
        (errors.QuotaExceeded(details={"retry_after": 7}), 429, "quota_exceeded"),
        (errors.ServiceUnavailable(), 503, "service_unavailable"),
    ],
)
def test_application_errors_render_code_message_details(exc, status, code):
    response = errors.api_exception_handler(exc, {})
    assert response.status_code == status
    assert set(response.data) == {"code", "message", "details"}
    assert response.data["code"] == code
    if status == 429:
        assert response["Retry-After"] == "7"


def test_drf_validation_errors_use_the_same_body():
    from rest_framework.exceptions import ValidationError

    response = errors.api_exception_handler(ValidationError({"slug": ["This field is required."]}), {})
    assert response.status_code == 400
    assert response.data == {
        "code": "validation_failed",
        "message": "The request is not valid.",
        "details": {"slug": ["This field is required."]},
    }


def test_unexpected_errors_are_500_without_internals(caplog):
    response = errors.api_exception_handler(RuntimeError("secret internals"), {})
    assert response.status_code == 500
    assert "secret" not in json.dumps(response.data)


def test_each_request_logs_one_json_line(client, caplog):
    caplog.set_level(logging.INFO, logger="cloudkida.request")
    response = client.get("/api/v1/", HTTP_X_REQUEST_ID="trace-12345678")
    assert response["X-Request-Id"] == "trace-12345678"
    records = [r for r in caplog.records if r.name == "cloudkida.request"]
    assert len(records) == 1
    from cloudkida.logging import JsonFormatter

    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "trace-12345678"
    assert line["status"] == 200 and line["path"] == "/api/v1/" and line["method"] == "GET"
    assert isinstance(line["latency_ms"], float)
    assert {"tenant_id", "user"} <= set(line)
