"""Shared fixtures: moto in-process for every test, moto server on demand, the Scan guard and the
item-kind guard."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from moto import mock_aws

from cloudkida import aws
from cloudkida.dynamo import registry, tables
from cloudkida.dynamo.store import in_maintenance
from scripts.emulator import serialize_moto
from tests.iam import recorder

# Before any client exists: every AWS call the code makes becomes an IAM request (CLOUDKIDA_IAM_RECORDER=off
# only to measure what recording costs; tests/test_iam_coverage.py then fails, having seen nothing).
if os.environ.get("CLOUDKIDA_IAM_RECORDER", "on") != "off":
    recorder.install()

os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH")
serialize_moto()  # moto applies one request at a time, as DynamoDB applies each request atomically


@pytest.fixture(scope="session", autouse=True)
def _test_profile():
    assert settings.ENV == "test", "run the suite with CLOUDKIDA_ENV=test (make test does)"


@pytest.fixture(autouse=True)
def _iam_test_name(request):
    recorder.current_test = request.node.nodeid


def pytest_collection_modifyitems(session, config, items):
    """The IAM coverage test judges every call the rest of the run made, so it runs last."""
    last = [item for item in items if item.get_closest_marker("iam_coverage")]
    items[:] = [item for item in items if item not in last] + last


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("CLOUDKIDA_IAM_RECORD")
    if target:
        from pathlib import Path

        recorder.dump(Path(target))


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


class ItemKindGuard:
    """Records every DynamoDB write of an item whose key no registered kind describes, and every write of
    a tenant-owned item outside the tenant's partition that lacks the tenant's ownership index."""

    def __init__(self):
        self.violations: list[str] = []

    def hook(self, client) -> None:
        if client.meta.service_model.service_name == "dynamodb":
            for operation in ("PutItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem"):
                client.meta.events.register(f"before-parameter-build.dynamodb.{operation}", self._on_write)

    def _on_write(self, params, model, **kwargs) -> None:
        if model.name == "PutItem":
            self._check(params["TableName"], params["Item"], put=True)
        elif model.name == "UpdateItem":
            self._check(params["TableName"], params["Key"], put=False)
        elif model.name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                if "Put" in entry:
                    self._check(entry["Put"]["TableName"], entry["Put"]["Item"], put=True)
                elif "Update" in entry:
                    self._check(entry["Update"]["TableName"], entry["Update"]["Key"], put=False)
        else:
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        self._check(table, request["PutRequest"]["Item"], put=True)

    def _check(self, table: str, item: dict, *, put: bool) -> None:
        pk, sk = item.get("PK", {}).get("S", ""), item.get("SK", {}).get("S", "")
        kind = registry.kind_of(tables.table_kind(table), pk, sk)
        if kind is None:
            self.violations.append(f"unregistered item kind: {table} {pk} / {sk}")
        elif put and kind.owner == registry.TENANT and not kind.in_tenant_partition:
            if not item.get("GSI2PK", {}).get("S", "").endswith("#OWNED"):
                self.violations.append(f"{kind.name} written without its tenant's ownership index: {pk}")

    def check(self) -> None:
        if self.violations:
            pytest.fail(
                "DynamoDB writes outside the item-kind registry (register the kind in its app's "
                f"AppConfig.ready): {sorted(set(self.violations))[:10]}"
            )


@pytest.fixture(autouse=True)
def item_kind_guard(request):
    guard = ItemKindGuard()
    remove = aws.add_client_hook(guard.hook)
    yield guard
    remove()
    if not request.node.get_closest_marker("any_item_kind"):
        guard.check()


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
def _process_caches():
    """Every test starts with empty per-process caches (tenants, users, keys, prices)."""
    from accounts.api_keys import api_key_cache_clear
    from accounts.selectors import authorization_cache_forget
    from accounts.tokens import operator_cache_clear, verified_tokens_clear
    from billing.services import price_cache_clear
    from tenants import provisioning
    from tenants.selectors import tenant_cache_clear

    def clear():
        tenant_cache_clear()
        provisioning.cache_clear()
        authorization_cache_forget(tenant_id="")
        api_key_cache_clear()
        operator_cache_clear()
        verified_tokens_clear()
        price_cache_clear()

    clear()
    yield
    clear()


@pytest.fixture
def moto(settings):
    """Moto in-process with the platform tables created."""
    settings.AWS_ENDPOINT_URL = None
    with mock_aws():
        aws.reset()
        with aws.deploying():  # the stack's tables on a deployed stage
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
    with aws.deploying():
        for spec in tables.platform_tables():
            tables.ensure_table(spec)
    yield moto_server_url
    aws.reset()


def tid(slug: str) -> str:
    """The id of the tenant that holds ``slug`` (tests name tenants by slug; everything keys by id)."""
    from tenants.selectors import tenant_id_for_slug

    tenant_id = tenant_id_for_slug(slug)
    assert tenant_id, f"no tenant holds the slug {slug!r}"
    return tenant_id


from tests.fixtures_platform import deployed_platform, fail_aws, no_backoff, platform  # noqa: E402, F401  shared fixtures
from tests.portal import hosted_ui  # noqa: E402, F401  shared fixture
from tests.zappa_support import lambda_handler  # noqa: E402, F401  shared fixture
