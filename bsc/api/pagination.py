"""The API's one pagination: `limit` (1 to MAX_LIMIT, 100 by default) and `offset`, each checked before the
query runs, so a page never exceeds MAX_LIMIT and a bad value is a 400 naming the parameter, not a 500."""

from __future__ import annotations

import re

from rest_framework import exceptions, pagination

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1  # an OpenAPI int32, far beyond any list here; PostgreSQL refuses past a bigint

_DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII only: int() alone would take "+5", "1_0" and "５"


def _whole_number(request, name: str, *, low: int, high: int, default: int) -> int:
    text = request.query_params.get(name, "")
    if text == "":
        return default
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise exceptions.ValidationError({name: [f"{name} must be a whole number from {low} to {high}."]})
    return int(text)


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return _whole_number(request, self.limit_query_param, low=1, high=MAX_LIMIT, default=DEFAULT_LIMIT)

    def get_offset(self, request) -> int:
        return _whole_number(request, self.offset_query_param, low=0, high=MAX_OFFSET, default=0)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        bounds = {
            self.limit_query_param: (
                {"minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                f"How many results per page: 1 to {MAX_LIMIT}, {DEFAULT_LIMIT} when left out.",
            ),
            self.offset_query_param: (
                {"minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                "How many results to skip (0 when left out).",
            ),
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            schema, description = bounds[parameter["name"]]
            parameter["schema"] |= schema
            parameter["description"] = description
        return parameters
