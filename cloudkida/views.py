"""HTML error pages. API paths get the JSON error body instead."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

_MESSAGES = {
    400: ("bad_request", "The request could not be understood."),
    403: ("permission_denied", "You do not have permission to see this page."),
    404: ("not_found", "We could not find that page."),
    500: ("internal_error", "Something went wrong on our side. We have been told about it."),
}


def _error(request, status: int):
    code, message = _MESSAGES[status]
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message, "details": {}}, status=status)
    return render(request, "errors/error.html", {"status": status, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400)


def permission_denied(request, exception=None):
    return _error(request, 403)


def page_not_found(request, exception=None):
    return _error(request, 404)


def server_error(request):
    return _error(request, 500)
