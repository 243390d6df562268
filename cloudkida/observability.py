"""Logs, metrics and traces on Lambda, with aws-lambda-powertools.

- Logs: every line is one JSON object carrying the request id and the tenant id (``TenantFields`` copies them
  from the context variables the request middleware and the workflow runner set). On a deployed stage the
  formatter is powertools' (``service``, ``location``, cold start, X-Ray trace id); locally and in tests it is
  ``cloudkida.logging.JsonFormatter`` with the same fields.
- Metrics: CloudWatch embedded metric format on stdout (no PutMetricData call, no permission), with a
  ``tenant`` dimension: ``Requests``, ``Errors`` (5xx) and ``Latency`` per request, ``OnboardingSeconds`` per
  onboarding. A tenant that makes no request publishes nothing, so an idle tenant's metrics cost nothing.
- Traces: with ``CLOUDKIDA_TRACE_AWS_CALLS`` every botocore call becomes an X-Ray subsegment. It costs about
  0.14 s of cold start (aws_xray_sdk), so it is off unless asked for and imported only then; the Lambda's
  own invocation segment (Zappa's ``xray_tracing``) is always on.

powertools is imported lazily: its logger formatter costs ~20 ms at import, the metrics module a little more,
and neither is needed in a process that never logs through it or emits a metric.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings

from cloudkida.logging import request_id_var, tenant_id_var

NAMESPACE = "CloudKida"


class TenantFields(logging.Filter):
    """Puts ``tenant_id`` and ``request_id`` on every record (a record's own value wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("tenant_id", tenant_id_var), ("request_id", request_id_var)):
            if not getattr(record, name, "") and var.get():
                setattr(record, name, var.get())
        return True


def powertools_formatter(**kwargs: Any) -> logging.Formatter:
    """The formatter LOGGING names on a deployed stage."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter  # lazy: cold start

    return LambdaPowertoolsFormatter(service=settings.CLOUDKIDA_RESOURCE_PREFIX, **kwargs)


def metric(name: str, value: float, *, unit: str = "Count", tenant_id: str = "", **dimensions: str) -> None:
    """One metric in embedded metric format, with the tenant as a dimension ("-" when there is none)."""
    if not settings.CLOUDKIDA_METRICS:
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric  # lazy: cold start

    with single_metric(
        name=name,
        unit=MetricUnit(unit),
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": settings.CLOUDKIDA_RESOURCE_PREFIX, "tenant": tenant_id or "-", **dimensions},
    ):
        pass


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
