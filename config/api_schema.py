"""OpenAPI details drf-spectacular cannot infer: the Idempotency-Key header and the error bodies."""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a stable machine `code`, a human `message`, and per-field messages.",
    "properties": {
        "code": {"type": "string", "example": "invalid"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": True},
    },
    "required": ["code", "message", "fields"],
}

ERRORS_ALL = {
    "400": "Invalid query or input.",
    "401": "Missing, malformed, unknown or revoked credentials.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "No such object (another shop's objects are not found either).",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "429": "Too many requests (per API key, user or IP).",
}
ERRORS_WRITE = {
    "409": "The request conflicts with the current state (stock rules, order status, a running request).",
    "415": "Unsupported media type.",
    "422": "This Idempotency-Key was used for a different request.",
}


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "Any unique string (a UUID). A retry with the same key and body returns the first "
                        "response (header `Idempotent-Replayed: true`) instead of acting twice."
                    ),
                )
            )
        return parameters


def add_error_responses(result, generator, request, public):
    """Document the error body on every operation, beside its success responses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            codes = dict(ERRORS_ALL)
            if method in ("post", "put", "patch", "delete"):
                codes.update(ERRORS_WRITE)
            for code, description in codes.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
