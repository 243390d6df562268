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
    """Count every AWS request sent by clients built inside the block: each attempt, retries included
    (``before-send`` fires per attempt; registered first, so it runs before moto's stubber answers)."""
    counts = RequestCounts()

    def hook(client) -> None:
        service = client.meta.service_model.service_name

        def on_call(model, context, **kwargs) -> None:
            context["cloudkida_operation"] = model.name

        def on_send(request, **kwargs) -> None:
            counts.calls[(service, request.context.get("cloudkida_operation", "?"))] += 1

        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service_id}", on_call)
        client.meta.events.register_first(f"before-send.{service_id}", on_send)

    remove = aws.add_client_hook(hook)
    try:
        yield counts
    finally:
        remove()
