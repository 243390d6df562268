"""The API tells the truth: a schemathesis run over every operation in the generated OpenAPI document, as a
tenant admin, a tenant user, an integrator API key and with no credentials, with valid and with invalid
data, finds no server error and no response that breaks the documented schema (status, headers, body)."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS

from accounts.api_keys import api_key_create
from cloudkida.wsgi import application
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("deployed_platform"), pytest.mark.django_db]
# Examples per operation and mode, by caller (the figures are printed with -s): the tenant admin reaches the
# most code (most of the 2xx), an anonymous caller never gets past authentication.
EXAMPLES = {"tenant admin": 15, "tenant user": 10, "api key": 10, "anonymous": 3}


@pytest.fixture
def callers() -> dict[str, dict[str, str]]:
    register("acme")
    admin = login("acme", "admin@acme.example")
    bearer(admin).post("/api/v1/users", {"email": "dev@acme.example", "name": "Dev"}, format="json")
    _key, raw = api_key_create(tenant_id=tid("acme"), name="contract", scope="admin", created_by="test")
    return {
        "tenant admin": {"Authorization": f"Bearer {admin}"},
        "tenant user": {"Authorization": f"Bearer {login('acme', 'dev@acme.example')}"},
        "api key": {"X-Api-Key": raw},
        "anonymous": {},
    }


def _checks():
    wanted = {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    }
    found = [check for check in CHECKS.get_all() if check.__name__ in wanted]
    assert {check.__name__ for check in found} == wanted
    return found


def _exercise(operation, caller, headers, mode, checks, figures, failures):
    """One Hypothesis test of an operation as one caller in one generation mode."""

    @settings(
        max_examples=EXAMPLES[caller],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def exercise(case):
        response = case.call(headers={**(case.headers or {}), **headers})
        figures["requests"] += 1
        figures[f"status {response.status_code // 100}xx"] += 1
        try:
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{case.method} {case.path} as {caller} ({mode.value}): {str(error)[:600]}")

    return exercise


def test_every_operation_keeps_its_contract_for_every_kind_of_caller(callers, capsys):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    checks = _checks()
    figures: Counter = Counter()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for caller, headers in callers.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _exercise(operation, caller, headers, mode, checks, figures, failures)()
                except Unsatisfiable:  # an operation with no input to get wrong has no negative cases
                    assert mode is GenerationMode.NEGATIVE
                    figures["operations without invalid input"] += 1
        figures["operations"] += 1
    with capsys.disabled():
        print(f"\nschemathesis: {dict(sorted(figures.items()))}, failures: {len(failures)}")
    assert failures == [], "\n".join(failures[:20])
    assert figures["status 5xx"] == 0


def test_the_interactive_docs_are_served_from_the_package_with_no_network():
    for path, asset in [("/api/v1/docs/", "swagger-ui-bundle.js"), ("/api/v1/redoc/", "redoc.standalone.js")]:
        page = APIClient().get(path)
        assert page.status_code == 200
        html = page.content.decode()
        assert "cdn." not in html and "jsdelivr" not in html and "unpkg" not in html
        assert "/static/drf_spectacular_sidecar/" in html and asset in html
        bundled = [
            p
            for p in (
                finders.find(f"drf_spectacular_sidecar/{d}/{asset}") for d in ("swagger-ui-dist", "redoc/bundles")
            )
        ]
        assert any(bundled), asset
