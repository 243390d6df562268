"""Hostile input gets a clear 4xx with the usual error body on every route, authenticated or not; never a 500."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from cloudkida.limits import MAX_JSON_DEPTH, json_depth
from tests.fixtures_platform import REGISTRATION
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


def _error(response, status: int) -> str:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["message"]
    return body["code"]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def admin():
    register("acme")
    return bearer(login("acme", "admin@acme.example"))


def test_an_oversized_body_is_413_on_public_and_authenticated_routes(admin, settings):
    big = json.dumps({**REGISTRATION, "address": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    anonymous = APIClient().post("/api/v1/registrations", big, content_type="application/json")
    assert _error(anonymous, 413) == "payload_too_large"
    assert _error(admin.post("/api/v1/users", big, content_type="application/json"), 413) == "payload_too_large"
    page = APIClient().post("/signup/", big, content_type="application/json")
    assert page.status_code == 413 and b"too large" in page.content


def test_a_body_larger_than_its_content_length_says_is_still_refused(admin, settings):
    """Django refuses to read past its limit whatever the header claims; the API turns that into 413."""
    big = json.dumps({"email": "x@acme.example", "name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = admin.generic("POST", "/api/v1/users", big, content_type="application/json", CONTENT_LENGTH="10")
    assert response.status_code == 400  # only ten bytes were read: not JSON


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_deeply_nested_json_is_400_not_a_recursion_error(admin, depth):
    body = _nested(depth)
    assert _error(APIClient().post("/api/v1/registrations", body, content_type="application/json"), 400) == (
        "malformed_request"
    )
    assert _error(admin.post("/api/v1/users", body, content_type="application/json"), 400) == "malformed_request"


@pytest.mark.parametrize(
    "body",
    ['{"name": ', "not json at all", '{"a": NaN}', b"\xff\xfe\x00binary", '{"email": "a@b.c", "name": "\\ud800"}'],
)
def test_unparsable_json_is_400(admin, body):
    code = _error(admin.post("/api/v1/users", body, content_type="application/json"), 400)
    assert code in {"malformed_request", "validation_failed", "invalid_email"}


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert json_depth('{"a": "[[[[[[[[[["}') == 1
    assert json_depth('{"a": "\\"[[["}') == 1
    assert json_depth(_nested(5)) == 5


def test_a_method_a_route_does_not_have_is_405_not_403(admin):
    for client in (APIClient(), admin):
        for method, path in [("put", "/api/v1/me"), ("delete", "/api/v1/users"), ("post", "/api/v1/tenants")]:
            response = getattr(client, method)(path, {}, format="json")
            assert _error(response, 405) == "method_not_allowed", (method, path)
    head = admin.head("/api/v1/me")
    assert head.status_code == 200


def test_unknown_api_paths_are_404_with_the_error_body():
    assert _error(APIClient().get("/api/v1/nothing-here"), 404) == "not_found"
