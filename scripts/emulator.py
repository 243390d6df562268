"""Make moto keep DynamoDB's promise that each request is applied atomically.

moto's backends are not thread-safe: two concurrent TransactWriteItems can fail with "dictionary changed
size during iteration", Cognito with "OrderedDict mutated during iteration" (internal 500s that botocore
retries mostly hide). AWS applies each request atomically, so the emulator must too: ``serialize_moto``
puts one process-wide lock around moto's request handling, both in-process (``mock_aws``: the botocore
stubber) and in moto server (its WSGI dispatcher). Requests are then applied one at a time, as a single
DynamoDB partition would; throughput is moto's single-threaded speed either way (it holds the GIL).
Development and tests only: nothing in the deployed package imports this.
"""

from __future__ import annotations

import functools
import io
import threading
from urllib.parse import parse_qs, urlsplit

_lock = threading.RLock()
_installed = False


def _locked(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        with _lock:
            return method(*args, **kwargs)

    call.__wrapped_by_cloudkida__ = True
    return call


def serialize_moto() -> None:
    """Install the lock (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    BotocoreStubber.process_request = _locked(BotocoreStubber.process_request)
    DomainDispatcherApplication.__call__ = _locked(DomainDispatcherApplication.__call__)
    _installed = True


# Operations that only read (by name prefix), and the few with such names that draw moto's random numbers:
# skipping those would shift every id generated after them on replay.
_READ_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Query",
    "Scan",
    "BatchGet",
    "Head",
    "Lookup",
    "Search",
    "AdminGet",
    "AdminList",
)
_NOT_READS = {"GetFederationToken", "GetSessionToken", "GetId", "GetCredentialsForIdentity", "GetOpenIdToken"}


def operation_of(headers, url: str, body: bytes) -> str:
    """The AWS operation a request names: its X-Amz-Target (JSON protocols) or Action (query protocols)."""
    target = headers.get("X-Amz-Target", "")
    if target:
        return target.rsplit(".", 1)[-1]
    actions = parse_qs(urlsplit(url).query).get("Action") or parse_qs(body.decode("utf-8", "replace")).get("Action")
    return actions[0] if actions else ""


def is_read(method: str, headers, url: str, body: bytes) -> bool:
    """Whether a request to moto only reads (and draws no random numbers)."""
    operation = operation_of(headers, url, body)
    if not operation:
        return method in {"GET", "HEAD"}  # REST protocols (S3, API Gateway): a GET reads
    return operation.startswith(_READ_PREFIXES) and operation not in _NOT_READS


_pending = threading.local()


def record_only_writes() -> None:
    """Make moto server's request recorder skip requests that only read.

    Replay must draw the same sequence from moto's seeded random generator, or every id generated
    afterwards would differ; yet every response draws from it (its request id). So a read's draws are
    undone: the generator's state is put back as it was before the read, which then leaves no trace at
    all. The recorder's entry is held back until the request has been handled, then written or dropped;
    requests are serialised (``serialize_moto``), so the file keeps their order.
    """
    from moto.core.utils import convert_to_flask_response
    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.recorder.models import Recorder

    if getattr(Recorder._record_request, "__wrapped_by_cloudkida__", False):
        return
    write = Recorder._record_request
    handle = convert_to_flask_response.__call__

    def hold(self, request, body=None):
        if body is None:  # read it as the recorder does, and put it back for the request's handler
            size = int(request.headers.get("Content-Length") or 0)
            body = request.environ["wsgi.input"].read(size) if size else b""
            request.environ["wsgi.input"] = io.BytesIO(body)
        _pending.entry = (self, request, body)

    def handled(self, *args, **kwargs):
        _pending.entry = None
        before = mock_random.getstate()
        try:
            return handle(self, *args, **kwargs)
        finally:
            entry, _pending.entry = _pending.entry, None
            if entry is not None:
                recorder, request, body = entry
                raw = body if isinstance(body, bytes) else str(body).encode()
                if is_read(request.method, request.headers, request.url, raw):
                    mock_random.setstate(before)  # as if it never happened, for the ids that follow
                else:
                    write(recorder, request, body)

    hold.__wrapped_by_cloudkida__ = True
    Recorder._record_request = hold
    convert_to_flask_response.__call__ = handled
