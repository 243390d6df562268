"""The ``webhooks-deliver`` schedule (every minute): relay recorded events, then deliver the due attempts.
Locally ``manage.py deliver_webhooks`` runs the same (once, or ``--watch``)."""

from __future__ import annotations

from typing import Any

import django
from django.apps import apps


def deliver_webhooks(event: Any = None, context: Any = None) -> dict:
    if not apps.ready:
        django.setup()
    from accounts.integrations import webhooks  # lazy: a scheduled event may arrive before Django is set up

    seconds = 40.0
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        seconds = max(1.0, min(seconds, context.get_remaining_time_in_millis() / 1000 - 15))
    relayed = webhooks.relay()
    return {**relayed, **webhooks.drain(seconds=seconds)}
