"""The ApplicationError family and the one place errors become HTTP responses.

Services raise these; the DRF exception handler renders them (and DRF's own errors) as
``{"code", "message", "details"}``; portal views render the same errors as friendly pages.
A repository or AWS failure is a 5xx, never disguised as a 400.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A failure the caller can act on: stable code, human message, optional details, HTTP status."""

    status = 400
    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details if details is not None else {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(ApplicationError):
    status = 400
    code = "validation_failed"
    default_message = "The request is not valid."


class NotAuthenticated(ApplicationError):
    status = 401
    code = "not_authenticated"
    default_message = "Authentication credentials were missing or invalid."


class QuotaExceeded(ApplicationError):
    status = 429
    code = "quota_exceeded"
    default_message = "Too many requests."


class PaymentRequired(ApplicationError):
    status = 402
    code = "payment_required"
    default_message = "This plan does not allow the request."


class PermissionDenied(ApplicationError):
    status = 403
    code = "permission_denied"
    default_message = "You do not have permission to do this."


class NotFound(ApplicationError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(ApplicationError):
    status = 409
    code = "conflict"
    default_message = "The resource changed or already exists."


class PayloadTooLarge(ApplicationError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class ServiceUnavailable(ApplicationError):
    """A dependency (DynamoDB, Cognito, ...) failed. Always a 5xx."""

    status = 503
    code = "service_unavailable"
    default_message = "A service CloudKida depends on is unavailable. Try again shortly."


_DRF_CODES = {
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "throttled",
    drf_exceptions.ParseError: "malformed_request",
    drf_exceptions.ValidationError: "validation_failed",
}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: every error leaves the API as ``{code, message, details}``."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(details={"limit_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    elif isinstance(exc, TooManyFieldsSent):
        exc = ValidationFailed("The request has too many fields.", code="malformed_request")
    if isinstance(exc, ApplicationError):
        response = Response(exc.as_dict(), status=exc.status)
        if isinstance(exc.details, dict) and exc.details.get("retry_after"):
            response["Retry-After"] = str(exc.details["retry_after"])
        return response
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, drf_exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        if isinstance(exc, drf_exceptions.ValidationError):
            body = {"code": code, "message": "The request is not valid.", "details": exc.detail}
        else:
            body = {"code": code, "message": str(exc.detail), "details": {}}
        response = Response(body, status=exc.status_code)
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        return response
    logger.exception("unhandled API error", exc_info=exc)
    return Response(
        {"code": "internal_error", "message": "Something went wrong on our side.", "details": {}},
        status=500,
    )
