"""The API's schema class: every operation declares the errors it can answer, in the shapes the one base mixin
and exception handler (bsc.api.base) give them, so a client generated from /api/schema/ can trust it."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import permissions, serializers

FIELD_MESSAGES = {"type": "array", "items": {"type": "string"}}

VALIDATION_ERROR = {
    "type": "object",
    "description": (
        "Each field that was refused, with its messages (`non_field_errors` for those of no one field; a list's "
        "items by their position from 0); `detail` alone when the body could not be read at all."
    ),
    "properties": {"detail": {"type": "string"}, "non_field_errors": FIELD_MESSAGES},
    "additionalProperties": {
        "anyOf": [FIELD_MESSAGES, {"type": "object", "additionalProperties": FIELD_MESSAGES}],
    },
    "example": {"name": ["This field is required."]},
}

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "example": {"detail": "Not found."},
}


class StaleMapSerializer(serializers.Serializer):
    """A map edit sent with an older version (bsc.strategy.StaleMapError)."""

    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["stale"])
    version = serializers.IntegerField(help_text="The map's current version: reload the map and try again.")


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema, stating rules of the whole API in one place. An optional query parameter sent
    empty is the same as one left out. Each operation declares the errors it can answer: 400 when it writes or
    takes query parameters, 401 always, 403 and 404 under /o/{org_slug}/, 415 when it takes a body (JSON only),
    and the view's `conflict_response` (409) on its writes. A response a view declares itself is kept; a 400 of
    its own becomes one of two shapes, since a body that is not JSON at all is refused before the view sees it."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True  # `?unit=` is the same as leaving `unit` out
        responses = operation["responses"]
        for code, response in self.error_responses(operation).items():
            if code == "400" and code in responses:
                own, generic = (r["content"]["application/json"]["schema"] for r in (responses[code], response))
                responses[code]["content"]["application/json"]["schema"] = {"oneOf": [own, generic]}
            responses.setdefault(code, response)
        return operation

    def _get_request_for_media_type(self, serializer, direction="request"):
        # drf-spectacular documents every PATCH body as partial; a view that reads its serializer whole (a
        # measurement's change, a target's recalibration) needs its required fields, and says so.
        if self.method == "PATCH" and getattr(serializer, "whole_on_patch", False):
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)

    def error_responses(self, operation: dict) -> dict[str, dict]:
        write = self.method not in permissions.SAFE_METHODS
        takes_input = write or any(parameter["in"] == "query" for parameter in operation.get("parameters", []))
        scoped = "{org_slug}" in self.path
        errors = {}
        if takes_input:
            errors["400"] = self.error("ValidationError", VALIDATION_ERROR, "The request was refused; nothing changed.")
        if "requestBody" in operation:
            errors["415"] = self.error("Error", ERROR, "The body is not JSON (send Content-Type: application/json).")
        errors["401"] = self.error("Error", ERROR, "Not authenticated: log in or send a personal token.")
        if scoped:
            errors["403"] = self.error("Error", ERROR, "Your role (or the organization's rules) does not allow this.")
            errors["404"] = self.error("Error", ERROR, "No such organization or object, or not one of yours.")
        conflict = getattr(self.view, "conflict_response", None)
        if write and conflict is not None:
            errors["409"] = self._get_response_for_code(conflict, "409")
        return errors

    def error(self, name: str, schema: dict, description: str) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return {"content": {"application/json": {"schema": component.ref}}, "description": description}
