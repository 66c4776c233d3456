"""API of the monthly close (issue 17) under /api/v1/o/<org_slug>/period-closes/: the closes (reopened ones included,
the history), the checklist shown before closing, closing a month for a unit and its sub-units (executives and
admins) and reopening it with a reason (admins). Every write is one call to kpis.period_close."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bsc.api.base import ID_SCHEMA, OrganizationScopedMixin, id_filter, id_param
from bsc.api.serializers import OrganizationRelatedField
from bsc.models import OrgUnit
from bsc.permissions import may_close_periods, may_reopen_periods
from kpis import period_close
from kpis.api import PERIOD_SCHEMA, PeriodField, period_param
from kpis.models import PeriodClose


class PeriodCloseSerializer(serializers.ModelSerializer):
    unit = OrganizationRelatedField(
        queryset_for=lambda org: OrgUnit.objects.for_organization(org),
        help_text="The unit closed, with every unit below it (the root unit: the whole organization).",
    )
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    month = PeriodField(help_text="The month closed, YYYY-MM.")
    closed_by = serializers.CharField(source="closed_by.display_name", read_only=True, allow_null=True, default=None)
    reopened_by = serializers.CharField(
        source="reopened_by.display_name", read_only=True, allow_null=True, default=None
    )
    is_closed = serializers.SerializerMethodField(help_text="False once reopened (the close is kept as history).")

    class Meta:
        model = PeriodClose
        fields = [
            "id", "unit", "unit_name", "month", "is_closed", "closed_by", "closed_at", "reopened_by", "reopened_at",
            "reopen_reason",
        ]  # fmt: skip
        read_only_fields = ["closed_at", "reopened_at", "reopen_reason"]

    def get_is_closed(self, close: PeriodClose) -> bool:
        return close.reopened_at is None

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["month"] = f"{instance.month:%Y-%m}"
        return data


class PeriodReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, max_length=period_close.MAX_REASON, help_text="Why the month is reopened (required)."
    )


class ChecklistUnitSerializer(serializers.Serializer):
    unit = serializers.IntegerField(source="unit.pk")
    unit_name = serializers.CharField(source="unit.name")
    due = serializers.IntegerField(help_text="Entered KPIs whose period ends with the month.")
    with_value = serializers.IntegerField()
    missing = serializers.ListField(child=serializers.CharField(), help_text="Codes of the KPIs without a value.")
    reds_without_cause = serializers.ListField(
        child=serializers.CharField(),
        help_text="Codes of the KPIs whose value is red (or amber, when the organization asks ambers for a cause) and "
        "carries no comment.",
    )
    complete = serializers.BooleanField()


UNIT_PARAM = OpenApiParameter("unit", ID_SCHEMA, required=True, description="The unit (with the units below it).")
MONTH_PARAM = OpenApiParameter("period", PERIOD_SCHEMA, required=True, description="The month, YYYY-MM.")


@extend_schema(tags=["period-closes"])
class PeriodCloseViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Closed months. POST closes a month for a unit and every unit below it (executives and admins): from then on
    its values and targets refuse every change, naming who closed it and when, and its scores stay as they are.
    `reopen/` reopens it with a reason (admins); the close is kept, with who reopened it, when and why. Readable by
    every member; `?unit=` lists the closes over a unit and below it."""

    serializer_class = PeriodCloseSerializer
    queryset = PeriodClose.objects.none()
    lookup_value_converter = "int"

    def check_write_permission(self) -> None:
        allowed = may_reopen_periods if self.action == "reopen" else may_close_periods
        if not allowed(self.membership):
            role = self.membership.get_role_display().lower()
            what = "reopen a closed month" if self.action == "reopen" else "close a month"
            raise exceptions.PermissionDenied(f"Your role ({role}) does not allow this: {what}.")

    def _unit(self) -> OrgUnit | None:
        unit_id = id_param(self.request, "unit")
        if unit_id is None:
            return None
        unit = OrgUnit.objects.for_organization(self.organization).filter(pk=unit_id).first()
        if unit is None:
            raise exceptions.ValidationError({"unit": [f"Unit {unit_id} does not exist."]})
        return unit

    def get_organization_queryset(self):
        unit = self._unit() if self.action == "list" else None
        return period_close.period_close_list(organization=self.organization, unit=unit)

    @extend_schema(parameters=[id_filter("unit", "Closes over this unit (its own and its ancestors') and below it.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        close = period_close.period_close(unit=data["unit"], month=data["month"], by=self.request.user)
        serializer.instance = self.get_queryset().get(pk=close.pk)

    @extend_schema(request=PeriodReopenSerializer, responses=PeriodCloseSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, *args, **kwargs):
        close = self.get_object()
        serializer = PeriodReopenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        period_close.period_reopen(close=close, reason=serializer.validated_data["reason"], by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=close.pk)).data, status=status.HTTP_200_OK)

    @extend_schema(parameters=[UNIT_PARAM, MONTH_PARAM], responses=ChecklistUnitSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def checklist(self, request, *args, **kwargs):
        """The close checklist of a month for a unit and every unit below it: per unit, its KPIs with and without a
        value, and its red values without a cause."""
        unit = self._unit()
        if unit is None:
            raise exceptions.ValidationError({"unit": ["Name the unit: ?unit=<id>."]})
        rows = period_close.close_checklist(unit=unit, month=period_param(request))
        return Response(ChecklistUnitSerializer(rows, many=True).data)
