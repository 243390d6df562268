"""Structured JSON logs: one line per request (request id, tenant, user, status, latency)."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import time
import uuid
from datetime import UTC, datetime

from cloudkida import aws

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
tenant_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("log_tenant_id", default="")

request_logger = logging.getLogger("cloudkida.request")
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields passed with ``extra=`` are kept. With a ``service`` (a deployed
    stage) every line names it, and the X-Ray trace id of the Lambda invocation when there is one."""

    def __init__(self, *args, service: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.service:
            entry["service"] = self.service
            trace = os.environ.get("_X_AMZN_TRACE_ID", "")  # "Root=1-…;Parent=…;Sampled=1", set per invocation
            if trace.startswith("Root="):
                entry["xray_trace_id"] = trace.split(";", 1)[0].removeprefix("Root=")
        if request_id_var.get():
            entry["request_id"] = request_id_var.get()
        if tenant_id_var.get():
            entry["tenant_id"] = tenant_id_var.get()
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestLogMiddleware:
    """Tags the request with an id (``X-Request-Id``, echoed back) and logs one line when it ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        tenant_token = tenant_id_var.set("")
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-Id"] = request_id
            return response
        finally:
            tenant = getattr(request, "tenant", None)
            user = getattr(request, "user", None)
            request_logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                    "tenant_id": getattr(tenant, "tenant_id", "") or tenant_id_var.get(),
                    "user": getattr(user, "username", "") if user is not None and user.is_authenticated else "",
                },
            )
            tenant_id_var.reset(tenant_token)
            request_id_var.reset(token)
            aws.clear_scoped_credentials()
