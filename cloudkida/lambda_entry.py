"""The Lambda functions' entry point (``lambda_handler`` in zappa_settings.json).

Everything goes to Zappa's handler except Cognito's user-pool triggers, which go to the function an app
registered for the event's ``triggerSource`` (``cloudkida.resources.register_cognito_trigger``). Zappa would
route triggers only from its own ``cognito`` settings, and with those ``zappa update`` also rewrites the user
pool (UpdateUserPool with the few fields Zappa knows; UpdateUserPool resets the others). The stack owns the
pools and their ``LambdaConfig``, so CloudKida routes the triggers itself.
"""

from __future__ import annotations

from typing import Any


def lambda_handler(event: Any, context: Any) -> Any:
    from zappa import handler as zappa  # lazy: the same module Zappa's own root handler.py is a copy of

    source = event.get("triggerSource") if isinstance(event, dict) else None
    if not source:
        return zappa.lambda_handler(event, context)
    zappa.LambdaHandler()  # Zappa's set-up, once per process: environment, settings module, Django
    from cloudkida import resources  # lazy: needs Django's settings

    return resources.cognito_trigger(source)(event, context)
