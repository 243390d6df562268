"""Shared fixtures: moto in-process for every test, moto server on demand, and the Scan guard."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from moto import mock_aws

from cloudkida import aws
from cloudkida.dynamo import tables
from cloudkida.dynamo.store import in_maintenance

os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH")


@pytest.fixture(scope="session", autouse=True)
def _test_profile():
    assert settings.ENV == "test", "run the suite with CLOUDKIDA_ENV=test (make test does)"


class ScanGuard:
    """Records every DynamoDB Scan made outside ``maintenance()`` by clients built in cloudkida.aws."""

    def __init__(self):
        self.violations: list[str] = []

    def hook(self, client) -> None:
        if client.meta.service_model.service_name == "dynamodb":
            client.meta.events.register("before-call.dynamodb.Scan", self._on_scan)

    def _on_scan(self, params, **kwargs) -> None:
        if not in_maintenance():
            self.violations.append(params.get("TableName", "?"))

    def check(self) -> None:
        if self.violations:
            pytest.fail(
                f"Scan outside maintenance() on {sorted(set(self.violations))}: request paths must "
                "Query a known partition (wrap true maintenance jobs in cloudkida.dynamo.maintenance)."
            )


@pytest.fixture(autouse=True)
def scan_guard():
    guard = ScanGuard()
    remove = aws.add_client_hook(guard.hook)
    yield guard
    remove()
    guard.check()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Fake credentials so nothing can reach a real account, and fresh clients for each test."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", settings.AWS_REGION)
    aws.reset()
    yield
    aws.reset()


@pytest.fixture(autouse=True)
def _tenant_cache():
    from tenants.selectors import tenant_cache_clear

    tenant_cache_clear()
    yield
    tenant_cache_clear()


@pytest.fixture
def moto(settings):
    """Moto in-process with the platform tables created."""
    settings.AWS_ENDPOINT_URL = None
    with mock_aws():
        aws.reset()
        for spec in tables.platform_tables():
            tables.ensure_table(spec)
        yield
    aws.reset()


@pytest.fixture(scope="session")
def moto_server_url():
    """A real moto server on a free loopback port, for tests that need HTTP between us and AWS."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_server(settings, moto_server_url):
    """Point every client at the moto server, with a clean state and the platform tables."""
    import requests

    requests.post(f"{moto_server_url}/moto-api/reset", timeout=10)
    settings.AWS_ENDPOINT_URL = moto_server_url
    aws.reset()
    for spec in tables.platform_tables():
        tables.ensure_table(spec)
    yield moto_server_url
    aws.reset()


from tests.fixtures_platform import fail_aws, no_backoff, platform  # noqa: E402, F401  shared fixtures
