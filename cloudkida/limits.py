"""Hostile input gets a clear 4xx, never a 500: oversized bodies are 413, deeply nested or unparsable
JSON is 400, before any view or authentication runs."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from cloudkida.errors import PayloadTooLarge

# The deepest JSON nesting a request body may have (our own bodies need 3).
MAX_JSON_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class RequestLimitsMiddleware:
    """413 for a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``, judged by Content-Length before the
    body is read (Django itself refuses a larger one when it reads it; the API handler turns that into
    the same 413)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            error = PayloadTooLarge(details={"limit_bytes": limit})
            if request.path.startswith("/api/"):
                return JsonResponse(error.as_dict(), status=413)
            return render(request, "errors/error.html", {"status": 413, "message": error.message}, status=413)
        return self.get_response(request)


def json_depth(text: str) -> int:
    """How deeply ``text`` nests arrays and objects (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than MAX_JSON_DEPTH and anything that is not
    valid UTF-8 JSON, always as a 400 ParseError."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ParseError("The body is not valid UTF-8.") from error
        if json_depth(text) > MAX_JSON_DEPTH:
            raise ParseError(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as error:
            raise ParseError(f"The body is not valid JSON: {str(error)[:120]}") from error


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed in JSON")
