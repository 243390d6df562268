"""Platform-level API views: the API root."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


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
