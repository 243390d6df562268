"""OpenAPI schema generation tuned to our conventions."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names nested serializers after their view (``RegistrationCreateApi.InputSerializer`` becomes
    ``RegistrationCreateInput``), so every view can keep the convention of nested Input/Output
    serializers without colliding component names."""

    def get_serializer_name(self, serializer, direction):
        cls = serializer.__class__
        owner, _, own = cls.__qualname__.rpartition(".")
        if owner:
            return owner.split(".")[-1].removeprefix("_").removesuffix("Api") + own.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)
