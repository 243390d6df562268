"""Logs, metrics and traces on Lambda.

- Logs: every line is one JSON object carrying the request id and the tenant id (``TenantFields`` copies them
  from the context variables the request middleware and the workflow runner set), by
  ``cloudkida.logging.JsonFormatter``; on a deployed stage each line also names the ``service`` (the stage's
  resource prefix) and the X-Ray trace id of the invocation.
- Metrics: CloudWatch embedded metric format (EMF) on stdout (no PutMetricData call, no permission), with a
  ``tenant`` dimension: ``Requests``, ``Errors`` (5xx) and ``Latency`` per request, ``OnboardingSeconds`` per
  onboarding. A tenant that makes no request publishes nothing, so an idle tenant's metrics cost nothing.
  The document is a few lines of JSON written here: aws-lambda-powertools wrote the same, but importing it
  loads botocore, a sixth of a cold start that serves a request without touching AWS (issue 12).
- Traces: with ``CLOUDKIDA_TRACE_AWS_CALLS`` every botocore call becomes an X-Ray subsegment. It costs about
  0.14 s of cold start (aws_xray_sdk), so it is off unless asked for and imported only then; the Lambda's
  own invocation segment (Zappa's ``xray_tracing``) is always on.

"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from django.conf import settings

from cloudkida.logging import JsonFormatter, request_id_var, tenant_id_var

NAMESPACE = "CloudKida"


class TenantFields(logging.Filter):
    """Puts ``tenant_id`` and ``request_id`` on every record (a record's own value wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("tenant_id", tenant_id_var), ("request_id", request_id_var)):
            if not getattr(record, name, "") and var.get():
                setattr(record, name, var.get())
        return True


def lambda_formatter(**kwargs: Any) -> logging.Formatter:
    """The formatter LOGGING names on a deployed stage: JSON lines with the stage's service name."""
    return JsonFormatter(service=settings.CLOUDKIDA_RESOURCE_PREFIX, **kwargs)


UNITS = frozenset({"Count", "Milliseconds", "Seconds", "Bytes", "Percent", "None"})


def metric(name: str, value: float, *, unit: str = "Count", tenant_id: str = "", **dimensions: str) -> None:
    """One metric in embedded metric format, with the tenant as a dimension ("-" when there is none)."""
    if not settings.CLOUDKIDA_METRICS:
        return
    if unit not in UNITS:
        raise ValueError(f"unknown metric unit {unit!r}")
    values = {"service": settings.CLOUDKIDA_RESOURCE_PREFIX, "tenant": tenant_id or "-", **dimensions}
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [list(values)], "Metrics": [{"Name": name, "Unit": unit}]}
            ],
        },
        **values,
        name: [float(value)],
    }
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class MetricsMiddleware:
    """Right after the request log: ``Requests``, ``Latency`` and ``Errors`` (5xx) with the tenant dimension."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            if settings.CLOUDKIDA_METRICS:
                tenant = getattr(getattr(request, "tenant", None), "tenant_id", "") or tenant_id_var.get()
                metric("Requests", 1, tenant_id=tenant)
                metric(
                    "Latency", round((time.perf_counter() - started) * 1000, 2), unit="Milliseconds", tenant_id=tenant
                )
                if status >= 500:
                    metric("Errors", 1, tenant_id=tenant)


_traced = False


def trace_aws_calls() -> None:
    """Patch botocore for X-Ray once, if CLOUDKIDA_TRACE_AWS_CALLS is on (called when clients are built)."""
    global _traced
    if _traced or not settings.CLOUDKIDA_TRACE_AWS_CALLS:
        return
    from aws_xray_sdk.core import patch  # lazy: ~0.14 s, only when tracing AWS calls is asked for

    patch(["botocore"])
    _traced = True
