"""The only place boto3 clients are built.

Every client gets the configured region, the endpoint override used for local emulation (moto server,
LocalStack, DynamoDB Local), adaptive retries and connect/read timeouts. A client is built once per
process for each service, region, endpoint and set of credentials, and shared by every thread (botocore
clients are thread-safe; sessions are not, so building happens under a lock, each with its own session).
The cache can be dropped (``reset``) when the settings that shaped clients change — as tests do when they
switch between moto in-process and moto server.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from cloudkida.lazy import lazy_module

boto3 = lazy_module("boto3")  # first client, not import, pays for boto3 (the cold start of a request that needs none)

_clients: dict[tuple, Any] = {}
_lock = threading.Lock()
MAX_SCOPED_CLIENTS = 256  # tenant-scoped credentials rotate: keep at most this many such clients


def _config(region: str | None = None) -> Any:
    from botocore.config import Config  # lazy: cold start (botocore until the first client)

    return Config(
        region_name=region or settings.AWS_REGION,
        connect_timeout=settings.AWS_CONNECT_TIMEOUT,
        read_timeout=settings.AWS_READ_TIMEOUT,
        retries={"mode": "adaptive", "total_max_attempts": settings.AWS_MAX_ATTEMPTS},
    )


def client(service_name: str, *, credentials: dict[str, str] | None = None, region: str | None = None) -> Any:
    """A configured boto3 client for ``service_name``.

    With ``credentials`` (AccessKeyId/SecretAccessKey/SessionToken, as STS returns them) the client
    signs with those instead of the process's own; with ``region`` it talks to that region instead of
    ``AWS_REGION`` (a lab account is cleaned in every region its lab allowed).
    """
    region = region or settings.AWS_REGION
    key = (service_name, region, settings.AWS_ENDPOINT_URL, (credentials or {}).get("AccessKeyId"))
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            if credentials and len(_clients) > MAX_SCOPED_CLIENTS:
                for stale in [k for k in _clients if k[3]][: MAX_SCOPED_CLIENTS // 2]:
                    del _clients[stale]
            found = _clients[key] = _build(service_name, credentials, region)
    return found


_deploying: contextvars.ContextVar[bool] = contextvars.ContextVar("deploying", default=False)


@contextmanager
def deploying() -> Iterator[None]:
    """Mark AWS calls that create the platform's own resources locally, which on a deployed stage the
    infrastructure stack (the deployer's credentials) creates instead. The IAM coverage test holds the
    Lambda role's policy to every call made outside this block."""
    token = _deploying.set(True)
    try:
        yield
    finally:
        _deploying.reset(token)


def is_deploying() -> bool:
    return _deploying.get()


_accounts: dict[tuple[str, str | None], str] = {}


def account_id() -> str:
    """The AWS account this process runs in (one STS call per process; the names of our own resources
    are fixed by the prefix, so their ARNs follow from it and no ARN has to be configured)."""
    key = (settings.AWS_REGION, settings.AWS_ENDPOINT_URL)
    if key not in _accounts:
        _accounts[key] = client("sts").get_caller_identity()["Account"]
    return _accounts[key]


_scoped: contextvars.ContextVar[tuple[str, dict[str, str]] | None] = contextvars.ContextVar(
    "scoped_credentials", default=None
)


def use_scoped_credentials(tenant_id: str, credentials: dict[str, str]) -> None:
    """For the rest of this request, reach ``tenant_id``'s data with these (tenant-scoped) credentials."""
    _scoped.set((tenant_id, credentials))


def clear_scoped_credentials() -> None:
    _scoped.set(None)


def scoped_credentials(tenant_id: str) -> dict[str, str] | None:
    """The credentials set for this request if they were issued for ``tenant_id``, else None."""
    current = _scoped.get()
    return current[1] if current and current[0] == tenant_id else None


def _build(service_name: str, credentials: dict[str, str] | None, region: str | None = None) -> Any:
    session = boto3.session.Session()
    kwargs: dict[str, Any] = {"config": _config(region)}
    if settings.AWS_ENDPOINT_URL:
        kwargs["endpoint_url"] = settings.AWS_ENDPOINT_URL
    if credentials:
        kwargs.update(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials.get("SessionToken"),
        )
    built = session.client(service_name, **kwargs)
    for hook in _client_hooks:
        hook(built)
    return built


_client_hooks: list = []


def add_client_hook(hook):
    """Run ``hook(client)`` on every client built from now on (benchmarks, test guards).

    Returns a function that removes the hook again. Cached clients are dropped so the hook sees all.
    """
    _client_hooks.append(hook)
    reset()

    def remove() -> None:
        if hook in _client_hooks:
            _client_hooks.remove(hook)
        reset()

    return remove


def reset() -> None:
    """Drop every cached client, so the next call builds fresh ones."""
    with _lock:
        _clients.clear()
        _accounts.clear()
