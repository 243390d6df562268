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
import threading

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
