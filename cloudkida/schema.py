"""OpenAPI schema generation tuned to our conventions: component names, documented errors, idempotency."""

from __future__ import annotations

import re

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter

from cloudkida.apidocs import ErrorSerializer
from cloudkida.idempotency import HEADER as IDEMPOTENCY_HEADER

_ERRORS = {
    "400": "The request is not valid (bad field, malformed JSON, bad cursor).",
    "401": "Credentials are missing, invalid, expired or revoked.",
    "402": "The plan does not allow it (every seat taken, the plan's number of custom domains reached).",
    "403": "Authenticated, but not allowed (role, key scope, another organisation, suspended tenant).",
    "404": "No such resource (or not yours).",
    "409": "A unique value is taken, the resource changed since you read it, or its state forbids this.",
    "406": "The Accept header asks for something other than JSON.",
    "413": "The request body is too large.",
    "415": "The body's media type is not accepted: send application/json.",
    "422": "The Idempotency-Key was used before with a different request.",
    "429": "Rate limit or quota exceeded; `Retry-After` says when to retry.",
    "503": "A service CloudKida depends on is unavailable; retry later.",
}


class AutoSchema(SpectacularAutoSchema):
    """Names nested serializers after their view (``RegistrationCreateApi.InputSerializer`` becomes
    ``RegistrationCreateInput``), so every view can keep the convention of nested Input/Output
    serializers without colliding component names; documents the ``{code, message, details}`` error
    body for every status an operation can answer with; and documents ``Idempotency-Key`` on the POSTs
    that honour it."""

    def get_serializer_name(self, serializer, direction):
        cls = serializer.__class__
        owner, _, own = cls.__qualname__.rpartition(".")
        if owner:
            return owner.split(".")[-1].removeprefix("_").removesuffix("Api") + own.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)

    def get_operation_id(self):
        """``<method><View>`` (``getUserList``, ``patchUserDetail``): one view per operation, so unique."""
        return self.method.lower() + type(self.view).__name__.removesuffix("Api")

    def _handler(self):
        return getattr(self.view, self.method.lower(), None)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if getattr(self._handler(), "idempotent", False):
            parameters.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    str,
                    OpenApiParameter.HEADER,
                    required=False,
                    description="Repeat the request with the same key and body within 24 h to get the first "
                    "answer again instead of creating twice.",
                )
            )
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        codes = ["400", "406", "429", "503"]
        if self.get_auth():
            codes += ["401", "403"]
        if re.search(r"{[^}]+}", self.path):
            codes.append("404")
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            codes += ["409", "413"]
        if self.method in {"POST", "PATCH"} and self.get_auth():
            codes.append("402")
        if self.method in {"POST", "PUT", "PATCH"}:
            codes.append("415")
        if getattr(self._handler(), "idempotent", False):
            codes.append("422")
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = _ERRORS[code]
                responses[code] = response
        return dict(sorted(responses.items()))
