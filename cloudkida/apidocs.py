"""How views document themselves for OpenAPI, without loading the OpenAPI machinery to serve requests.

drf-spectacular's ``extend_schema`` builds a schema class when it decorates a view, which imports
``drf_spectacular.openapi`` (and through it ``django.test``) in every process at start-up — a share of the
cold start that only the requests for the API documents need. ``extend_schema`` here records the
decoration instead, and ``apply`` hands every recorded one to drf-spectacular's when a schema is first
generated (``preprocess`` is drf-spectacular's first preprocessing hook: it runs before any view's
schema is looked at, however the schema is asked for — the API's document, ``manage.py spectacular``).
Apps with OpenAPI extensions of their own (security schemes) name their modules with ``extension_module``.

Views import ``extend_schema``, ``OpenApiParameter``, ``OpenApiResponse``, ``OpenApiTypes`` and
``inline_serializer`` from here.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

__all__ = ["OpenApiParameter", "OpenApiResponse", "OpenApiTypes", "extend_schema", "inline_serializer"]

_pending: list[tuple[Any, dict[str, Any]]] = []
_extensions: list[str] = []
_lock = threading.Lock()


class ErrorSerializer(serializers.Serializer):
    """Every error the API returns."""

    code = serializers.CharField(help_text="Stable, machine-readable reason, e.g. `validation_failed`.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    details = serializers.JSONField(help_text="More about it: the field, the limit, when to retry.")


def extend_schema(**kwargs: Any):
    """drf-spectacular's ``extend_schema``, applied when the first schema is generated."""

    def decorator(target):
        with _lock:
            _pending.append((target, kwargs))
        return target

    return decorator


def extension_module(name: str) -> None:
    """Import module ``name`` (drf-spectacular extensions) before the first schema is generated."""
    if name not in _extensions:
        _extensions.append(name)


def preprocess(endpoints):
    """drf-spectacular preprocessing hook (SPECTACULAR_SETTINGS): apply the recorded documentation first."""
    apply()
    return endpoints


def apply() -> None:
    """Every recorded decoration, in the order the decorators ran (idempotent)."""
    from drf_spectacular.utils import extend_schema as spectacular_extend_schema  # lazy: cold start

    with _lock:
        for name in _extensions:
            importlib.import_module(name)
        while _pending:
            target, kwargs = _pending.pop(0)
            spectacular_extend_schema(**kwargs)(target)
