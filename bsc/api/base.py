"""The one door of the API: every view under /api/v1/o/<org_slug>/ takes its organization from the URL once,
runs inside that organization's tenancy scope and finds objects only within it; plus the exception handler
that turns a service's ValidationError into a 400 naming the fields."""

from __future__ import annotations

import contextlib
import re

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, permissions, status, views
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.settings import api_settings

from bsc.access import membership_for
from bsc.models import Membership, Organization, PersonalToken
from bsc.permissions import Action, can, two_factor_satisfied
from bsc.strategy import StaleMapError
from bsc.tenancy import organization_scope
from bsc.two_factor import session_verified


class OrganizationScopedMixin:
    """For API views under /api/v1/o/<org_slug>/ (like PostHog's TeamAndOrgViewSetMixin).

    After authentication it sets `self.membership` and `self.organization` (404 for an unknown slug and for an
    organization the caller does not belong to: the two look the same), keeps the organization's scope active
    for the rest of the request, and answers 403 to a write by a role the matrix does not allow, before
    anything changes. Querysets and object lookups go through `get_queryset`, always filtered by the
    organization, so an object is never found by its id alone: subclasses override `get_organization_queryset`,
    never `get_queryset`.
    """

    # The matrix row a write needs; the strictest unless a view names its own.
    write_action: Action = Action.MANAGE_ORGANIZATION
    organization: Organization
    membership: Membership

    def dispatch(self, request, *args, **kwargs):
        # The scope entered in initial() is left when the request ends, whatever happened in between.
        with contextlib.ExitStack() as self._scopes:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, IsAuthenticated, throttles
        self.membership = membership_for(request.user, kwargs["org_slug"])
        self.check_two_factor(request)
        self.organization = self.membership.organization
        self._scopes.enter_context(organization_scope(self.organization))
        if request.method not in permissions.SAFE_METHODS:
            self.check_write_permission()

    def check_two_factor(self, request) -> None:
        """A session (the browser's) follows the pages' rule; a personal token passes (scripts)."""
        verified = isinstance(request.auth, PersonalToken) or session_verified(request._request)
        if not two_factor_satisfied(self.membership, verified=verified):
            raise exceptions.PermissionDenied(
                f"{self.membership.organization.name} requires two-factor authentication: log in with your "
                "second factor (or set it up under Account → Two-factor authentication), or use a personal API token."
            )

    def check_write_permission(self) -> None:
        if not can(self.membership, self.write_action):
            role = self.membership.get_role_display().lower()
            raise exceptions.PermissionDenied(f"Your role ({role}) does not allow this: {self.write_action.value}.")

    def get_organization_queryset(self) -> QuerySet:
        """The organization's rows; override to use a selector. `queryset` on the view is only an empty
        `Model.objects.none()` naming the model for the router and the schema."""
        return self.queryset.model.objects.for_organization(self.organization)

    def get_queryset(self) -> QuerySet:
        # The explicit filter keeps the guarantee even if an override forgets the organization.
        return self.get_organization_queryset().filter(organization=self.organization)

    def get_serializer_context(self) -> dict:
        # Serializers resolve related ids within this organization (None while the schema is generated).
        return {**super().get_serializer_context(), "organization": getattr(self, "organization", None)}


_ID = re.compile(r"[0-9]{1,19}")  # ASCII digits, at most a bigint's length: str.isdigit() also takes "²" and "１２"
MAX_ID = 2**63 - 1  # PostgreSQL's bigint
ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": MAX_ID}


def is_id(text: str) -> bool:
    """Whether a text the caller sent can be a row's id."""
    return _ID.fullmatch(text) is not None and int(text) <= MAX_ID


def id_param(request, name: str) -> int | None:
    """A query parameter naming a row by its id (`?unit=12`); None when left out, a 400 naming it when not an id."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if not is_id(value):
        raise exceptions.ValidationError({name: ["A valid integer is required."]})
    return int(value)


def id_filter(name: str, description: str) -> OpenApiParameter:
    """The schema of a query parameter read with `id_param`."""
    return OpenApiParameter(name, ID_SCHEMA, description=description)


def flag_param(request, name: str) -> bool | None:
    """A query parameter that is `true` or `false`; None when left out, a 400 naming it otherwise."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise exceptions.ValidationError({name: [f"“{value}” is neither true nor false."]})
    return value == "true"


def exception_handler(exc, context):
    """DRF's handler, and a Django ValidationError (from a service) as a 400 keyed by field, with errors
    that belong to no field under `non_field_errors` as a serializer reports them. A stale map edit is a 409
    with the map's current version, so the editor can reload it."""
    if isinstance(exc, StaleMapError):
        return Response(
            {"detail": exc.messages[0], "code": "stale", "version": exc.current_version},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        detail = get_error_detail(exc)
        if isinstance(detail, dict):
            detail = {
                (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): errors
                for field, errors in detail.items()
            }
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
        exc = exceptions.ValidationError(detail)
    return views.exception_handler(exc, context)
