"""Count AWS requests by service and operation, through the hook every cloudkida.aws client gets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cloudkida import aws


@dataclass
class RequestCounts:
    calls: Counter = field(default_factory=Counter)

    @property
    def by_operation(self) -> dict[str, int]:
        return {op: n for (service, op), n in self.calls.items() if service == "dynamodb"}

    @property
    def dynamodb(self) -> int:
        return sum(self.by_operation.values())

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@contextmanager
def count_requests() -> Iterator[RequestCounts]:
    """Count every AWS API call made by clients built inside the block (retries included)."""
    counts = RequestCounts()

    def hook(client) -> None:
        service = client.meta.service_model.service_name

        def on_call(model, **kwargs) -> None:
            counts.calls[(service, model.name)] += 1

        client.meta.events.register("before-call.*.*", on_call)

    remove = aws.add_client_hook(hook)
    try:
        yield counts
    finally:
        remove()
