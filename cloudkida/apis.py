"""Platform-level API pieces: the API root, validation, list envelopes, CSV in and out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from rest_framework import serializers
from rest_framework.exceptions import NotAcceptable, ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from cloudkida.apidocs import extend_schema, inline_serializer


def validated(serializer_class, data) -> dict:
    """Validate request data with an input serializer; DRF's ValidationError becomes our 400 body."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ApiRootApi(APIView):
    """Entry point of the public API: links to the schema and the interactive docs."""

    @extend_schema(
        responses=inline_serializer(
            "ApiRoot",
            {"name": serializers.CharField(), "version": serializers.CharField(), "links": serializers.DictField()},
        )
    )
    def get(self, request):
        return Response(
            {
                "name": "CloudKida API",
                "version": "v1",
                "links": {
                    "schema": reverse("api-schema", request=request),
                    "docs": reverse("api-docs", request=request),
                },
            }
        )


_pages: dict[str, type] = {}


def page_of(item_serializer: type, name: str) -> type:
    """The list envelope every list endpoint returns: ``{"results": [...], "next_cursor": str | null}``."""
    if name not in _pages:
        _pages[name] = type(
            name,
            (serializers.Serializer,),
            {
                "results": item_serializer(many=True),
                "next_cursor": serializers.CharField(
                    allow_null=True, help_text="Pass as `cursor` for the next page; null on the last page."
                ),
                "__doc__": f"A page of {name.removesuffix('Page')} items.",
            },
        )
    return _pages[name]


class CSVParser(BaseParser):
    """A ``text/csv`` request body, as text (400 if it is not UTF-8)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        raw = stream.read() if stream is not None else b""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ParseError("The body is not valid UTF-8.") from error


class DownloadNegotiation(DefaultContentNegotiation):
    """For views that answer a file (CSV): a client asking for the file's type (``Accept: text/csv``) is not
    refused with 406; the view's own response carries the file's type, and errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


def csv_response(header: list[str], rows: Iterable[Iterable[Any]], *, filename: str) -> HttpResponse:
    """A CSV attachment (UTF-8, with the header first). Cells that a spreadsheet would run as a formula
    (starting with ``=``, ``+``, ``-``, ``@``) are prefixed with ``'``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text
