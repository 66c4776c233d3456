"""API for KPIs, targets and measurements under /api/v1/o/<org_slug>/, with a bulk upsert of measurements.

Every write is one call to kpis.services. KPI definitions and targets need the strategy row of the matrix;
measurements are checked against each KPI's unit and owner (department heads: their units, or KPIs they
own). A measurement saved against an older `version` is refused with 409 and the current value.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bsc import org_calendar
from bsc.api.base import ID_SCHEMA, OrganizationScopedMixin, flag_param, id_filter, id_param, is_id
from bsc.api.serializers import ApiModelSerializer, OrganizationRelatedField, PlainDecimalField, TextField
from bsc.models import Objective, OrgUnit, User
from bsc.permissions import Action, can, can_on_some
from kpis import approval, causes, selectors, services
from kpis.models import Kpi, Measurement, Target, TargetRecalibration

BULK_LIMIT = 1000


def _members(organization) -> QuerySet[User]:
    return User.objects.filter(memberships__organization=organization)


# --- Fields and serializers ------------------------------------------------------------------------------


PERIOD = re.compile(r"[1-9][0-9]{3}-(0[1-9]|1[0-2])")  # ASCII digits: strptime alone also takes "٢٠٢٦-03"


def parse_period(text: str) -> date:
    """A period the API was sent, exactly as the schema's pattern has it (YYYY-MM); a 400's message otherwise."""
    if not PERIOD.fullmatch(text):
        raise DjangoValidationError({"period": f"“{text}” is not a period; write it as YYYY-MM, e.g. 2026-03."})
    return services.parse_period(text)


def period_param(request) -> date:
    """The `?period=YYYY-MM` a read endpoint needs; a 400 naming it when left out or malformed."""
    text = request.query_params.get("period")
    if not text:
        raise exceptions.ValidationError({"period": ["Name the period: ?period=YYYY-MM, e.g. 2026-03."]})
    try:
        return parse_period(text)
    except DjangoValidationError as error:
        raise exceptions.ValidationError({"period": error.message_dict["period"]}) from None


def kind_param(request) -> str:
    """The `?kind=` of period (month when left out); a 400 naming it when it is not month, quarter or year."""
    kind = request.query_params.get("kind") or org_calendar.MONTH
    if kind not in org_calendar.KINDS:
        raise exceptions.ValidationError({"kind": [f"“{kind[:40]}” is not a kind of period: month, quarter or year."]})
    return kind


PERIOD_SCHEMA = {"type": "string", "pattern": f"^{PERIOD.pattern}$", "example": "2026-03"}


@extend_schema_field(PERIOD_SCHEMA)
class PeriodField(serializers.CharField):
    """A period as YYYY-MM (the first day of that month is stored)."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data) -> date:
        try:
            return parse_period(super().to_internal_value(data))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict["period"]) from None

    def to_representation(self, value: date) -> str:
        return f"{value:%Y-%m}"


class KpiSerializer(ApiModelSerializer):
    unit = OrganizationRelatedField(queryset_for=lambda organization: OrgUnit.objects.for_organization(organization))
    objective = OrganizationRelatedField(
        queryset_for=lambda organization: Objective.objects.for_organization(organization).select_related("scorecard"),
        allow_null=True,
        required=False,
        help_text="An objective on the KPI's own unit's map.",
    )
    owner = OrganizationRelatedField(
        queryset_for=_members, allow_null=True, required=False, help_text="The member who enters its values."
    )
    approver = OrganizationRelatedField(
        queryset_for=_members,
        allow_null=True,
        required=False,
        help_text="The member who accepts the values department heads enter, when the organization asks for approval "
        "(null: the owner): an admin, an executive or a department head of the KPI's unit or a unit above it.",
    )
    aligned_to = OrganizationRelatedField(
        queryset_for=lambda organization: Kpi.objects.for_organization(organization),
        allow_null=True,
        required=False,
        help_text="The parent unit's KPI this one contributes to.",
    )
    archived = serializers.SerializerMethodField()

    class Meta:
        model = Kpi
        fields = [
            "id", "unit", "objective", "name", "code", "description", "measurement_unit", "decimals", "direction",
            "frequency", "baseline", "band_low", "band_high", "band_tolerance", "green_threshold",
            "amber_threshold", "weight", "owner", "approver", "source", "formula", "rollup_method", "aligned_to",
            "time_aggregation", "archived",
        ]  # fmt: skip
        validators = []  # the service reports the model's own messages (one code per organization)

    def get_archived(self, kpi: Kpi) -> bool:
        return kpi.archived_at is not None

    def validate_unit(self, unit: OrgUnit) -> OrgUnit:
        if self.instance is not None and unit.pk != self.instance.unit_id:
            raise serializers.ValidationError("A KPI stays with its unit; create a KPI on the other unit instead.")
        return unit


class RecalibrationSerializer(serializers.ModelSerializer):
    changed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = TargetRecalibration
        fields = ["old_value", "new_value", "reason", "changed_by", "changed_by_name", "changed_at"]
        read_only_fields = fields

    def get_changed_by_name(self, recalibration: TargetRecalibration) -> str:
        return recalibration.changed_by.display_name if recalibration.changed_by else ""


class TargetSerializer(ApiModelSerializer):
    kpi = OrganizationRelatedField(queryset_for=lambda organization: Kpi.objects.for_organization(organization))
    period = PeriodField(help_text="YYYY-MM; it must start a period of the KPI's frequency.")
    recalibrations = RecalibrationSerializer(many=True, read_only=True, help_text="Changes, newest first.")

    class Meta:
        model = Target
        fields = ["id", "kpi", "period", "value", "original_value", "recalibrations"]
        read_only_fields = ["original_value"]
        validators = []


class TargetRecalibrateSerializer(serializers.Serializer):
    whole_on_patch = True  # bsc.api.schema: the PATCH needs both fields
    value = PlainDecimalField(max_digits=20, decimal_places=6)
    reason = TextField(max_length=500, help_text="Why the target changes; shown next to it.")


@extend_schema_field(OpenApiTypes.DATE)
class DueDateField(serializers.Field):
    """An action item's due date, YYYY-MM-DD, read as the data-entry page reads it (kpis.causes.parse_due_date)."""

    def to_internal_value(self, data) -> date:
        try:
            return causes.parse_due_date(data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def to_representation(self, value: date) -> str:
        return value.isoformat()


COMMENT_HELP = (
    "A red value's cause (an amber one's too when the organization asks): required then, as on the data-entry page."
)
COMMENT_ERRORS = {"max_length": causes.COMMENT_TOO_LONG}
APPROVAL_HELP = (
    "approved: it counts in the scores. While the organization asks for approval, a department head's value is "
    "submitted until the KPI's approver approves it (`approve/`) or returns it with a comment (`return/`)."
)


class RedActionFields(serializers.Serializer):
    """The action item a red value names (kpis/causes.py): a new one (`action_owner`, `action_due_date`, optionally
    `action_title`) or an open one of the KPI, or of its unit, linked (`action_item`). Needed when the value is new or
    changed and scores red (amber too when the organization asks); ignored otherwise."""

    action_item = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, write_only=True,
        help_text="A red value: the id of an open action item of the KPI (or of its unit) to link, instead of a new one.",
    )  # fmt: skip
    action_title = TextField(
        required=False, allow_blank=True, default="", write_only=True,
        help_text="A red value's new action item: its title (default: “Bring <code> <name> back on target”).",
    )  # fmt: skip
    action_owner = serializers.IntegerField(
        required=False, allow_null=True, write_only=True,
        help_text="A red value's new action item: its owner's user id, a member who may own action items of the KPI's unit.",
    )  # fmt: skip
    action_due_date = DueDateField(
        required=False, allow_null=True, write_only=True,
        help_text="A red value's new action item: its due date (YYYY-MM-DD), today or later.",
    )  # fmt: skip


def action_plan(data: dict) -> causes.ActionPlan:
    """The action item the validated `data` names (RedActionFields)."""
    return causes.ActionPlan(
        title=data.get("action_title") or "", owner_id=data.get("action_owner"), due_date=data.get("action_due_date"),
        link_id=data.get("action_item"),
    )  # fmt: skip


class MeasurementSerializer(RedActionFields, ApiModelSerializer):
    kpi = OrganizationRelatedField(
        queryset_for=lambda organization: Kpi.objects.for_organization(organization).select_related("organization")
    )
    kpi_code = serializers.CharField(source="kpi.code", read_only=True)
    period = PeriodField(help_text="YYYY-MM; it must start a period of the KPI's frequency.")
    comment = TextField(
        required=False, allow_blank=True, max_length=2000, default="", help_text=COMMENT_HELP,
        error_messages=COMMENT_ERRORS,
    )  # fmt: skip
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="In: the version you saw (leave out when the period had no value). Out: the new version.",
    )
    entered_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Measurement
        fields = [
            "id", "kpi", "kpi_code", "period", "value", "comment", "version", "entered_by", "entered_by_name",
            "entered_at", "approval", "reviewed_by", "reviewed_at", "return_comment", "action_item", "action_title",
            "action_owner", "action_due_date",
        ]  # fmt: skip
        read_only_fields = ["entered_by", "entered_at", "approval", "reviewed_by", "reviewed_at", "return_comment"]
        extra_kwargs = {
            "approval": {"help_text": APPROVAL_HELP},
            "reviewed_by": {
                "help_text": "Who approved or returned the value (null: nobody yet, or approved as entered)."
            },
            "reviewed_at": {"help_text": "When it was approved or returned."},
            "return_comment": {"help_text": "Why it was returned, when it was."},
        }
        validators = []

    def get_entered_by_name(self, measurement: Measurement) -> str:
        return measurement.entered_by.display_name if measurement.entered_by else ""


class MeasurementReturnSerializer(serializers.Serializer):
    return_comment = TextField(
        max_length=approval.MAX_COMMENT, help_text="Why the value is returned; the person who entered it reads it."
    )


class MeasurementChangeSerializer(RedActionFields):
    whole_on_patch = True  # bsc.api.schema: the PATCH needs the value and the version
    value = PlainDecimalField(max_digits=20, decimal_places=6)
    comment = TextField(
        required=False, allow_blank=True, max_length=2000, help_text=COMMENT_HELP, error_messages=COMMENT_ERRORS
    )
    version = serializers.IntegerField(min_value=1, help_text="The version you saw; an older one is refused (409).")


class StaleSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["stale"])
    current = MeasurementSerializer(allow_null=True, help_text="The value saved now (null: it was removed).")


@extend_schema_field({"anyOf": [ID_SCHEMA, {"type": "string", "minLength": 1}]})
class KpiRefField(TextField):
    """A KPI named by its id (a number, or its digits as text) or by its code; read as the text sent."""

    def to_internal_value(self, data) -> str:
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        return super().to_internal_value(data)


class BulkItemSerializer(RedActionFields):
    kpi = KpiRefField(help_text="The KPI's id or its code.")
    period = PeriodField(help_text="YYYY-MM; it must start a period of the KPI's frequency.")
    value = PlainDecimalField(max_digits=20, decimal_places=6)
    comment = TextField(
        required=False, allow_blank=True, max_length=2000, default="", help_text=COMMENT_HELP,
        error_messages=COMMENT_ERRORS,
    )  # fmt: skip
    version = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="The version you saw; leave out for a new value."
    )


BULK_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "index": {"type": "integer", "description": "The item's position in the list, from 0."},
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
        "required": ["index", "errors"],
    },
}


# --- Views -----------------------------------------------------------------------------------------------


def _period_param(request, name: str) -> date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return parse_period(value)
    except DjangoValidationError as error:
        raise exceptions.ValidationError({name: error.message_dict["period"]}) from None


KPI_FILTER = id_filter("kpi", "Only this KPI's rows.")


@extend_schema(tags=["kpis"])
class KpiViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """KPI definitions. Create one on a unit, change it (it stays on its unit), archive it with DELETE (its
    values and targets are kept; `restore` brings it back). Writes need the admin or executive role."""

    serializer_class = KpiSerializer
    queryset = Kpi.objects.none()
    lookup_value_converter = "int"
    write_action = Action.EDIT_STRATEGY
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_organization_queryset(self):
        if self.action != "list":
            return Kpi.objects.for_organization(self.organization).select_related("unit", "objective", "owner")
        archived = flag_param(self.request, "archived") or False
        kpis = selectors.kpi_list(organization=self.organization, archived=archived)
        unit_id = id_param(self.request, "unit")
        return (kpis if unit_id is None else kpis.filter(unit_id=unit_id)).order_by("unit__path", "code", "id")

    @extend_schema(
        parameters=[
            id_filter("unit", "Only this unit's KPIs."),
            OpenApiParameter("archived", OpenApiTypes.BOOL, description="true: the archived KPIs instead."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        unit, name, code = data.pop("unit"), data.pop("name"), data.pop("code")
        serializer.instance = services.kpi_create(unit=unit, name=name, code=code, **data)

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "unit"}
        serializer.instance = services.kpi_update(kpi=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.kpi_archive(kpi=instance)

    @extend_schema(request=None, responses=KpiSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        """Bring an archived KPI back."""
        kpi = services.kpi_restore(kpi=self.get_object())
        return Response(KpiSerializer(kpi, context=self.get_serializer_context()).data)


@extend_schema(tags=["targets"])
class TargetViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Targets per KPI and period. POST sets a period that has none; PATCH with `value` and `reason`
    recalibrates it, keeping the original value, who changed it, when and why. Writes need the admin or
    executive role."""

    serializer_class = TargetSerializer
    queryset = Target.objects.none()
    lookup_value_converter = "int"
    write_action = Action.EDIT_STRATEGY
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_organization_queryset(self):
        recalibrations = TargetRecalibration.objects.for_organization(self.organization).select_related("changed_by")
        targets = Target.objects.for_organization(self.organization).prefetch_related(
            Prefetch("recalibrations", queryset=recalibrations.order_by("-changed_at", "-id"))
        )
        kpi_id = id_param(self.request, "kpi")
        return (targets if kpi_id is None else targets.filter(kpi_id=kpi_id)).order_by("kpi_id", "period")

    @extend_schema(parameters=[KPI_FILTER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        target = services.target_create(kpi=data["kpi"], period=data["period"], value=data["value"])
        serializer.instance = self.get_queryset().get(pk=target.pk)

    @extend_schema(request=TargetRecalibrateSerializer, responses=TargetSerializer)
    def partial_update(self, request, *args, **kwargs):
        target = self.get_object()
        serializer = TargetRecalibrateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.target_recalibrate(target=target, value=data["value"], reason=data["reason"], by=request.user)
        return Response(
            TargetSerializer(self.get_queryset().get(pk=target.pk), context=self.get_serializer_context()).data
        )


STALE_RESPONSE = OpenApiResponse(StaleSerializer, description="The value changed since you loaded it.")


@extend_schema(tags=["measurements"])
class MeasurementViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """KPI values per period. POST enters a value (send the `version` you saw when the period had one),
    PATCH changes it with the `version` you saw; an older version is refused with 409 and the current
    value. `bulk/` saves a list at once, all or nothing. Admins and executives may enter any KPI's values,
    department heads those of their units and the KPIs they own."""

    serializer_class = MeasurementSerializer
    queryset = Measurement.objects.none()
    lookup_value_converter = "int"
    write_action = Action.ENTER_MEASUREMENTS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def check_write_permission(self) -> None:
        # Department heads may enter some KPIs' values: their writes are checked per KPI below.
        if not can_on_some(self.membership, Action.ENTER_MEASUREMENTS):
            super().check_write_permission()

    def may_enter(self, kpi: Kpi) -> bool:
        return can(self.membership, Action.ENTER_MEASUREMENTS, unit=kpi.unit_id, owner_id=kpi.owner_id)

    def not_yours(self, kpi: Kpi) -> str:
        return f"You may not enter values for {kpi.code}: it is not in your units."

    def check_kpi(self, kpi: Kpi) -> None:
        if not self.may_enter(kpi):
            raise exceptions.PermissionDenied(self.not_yours(kpi))

    def get_organization_queryset(self):
        measurements = Measurement.objects.for_organization(self.organization).select_related(
            "kpi__organization", "entered_by"
        )
        kpi_id = id_param(self.request, "kpi")
        if kpi_id is not None:
            measurements = measurements.filter(kpi_id=kpi_id)
        start, end = _period_param(self.request, "period_from"), _period_param(self.request, "period_to")
        if start:
            measurements = measurements.filter(period__gte=start)
        if end:
            measurements = measurements.filter(period__lte=end)
        return measurements.order_by("kpi_id", "period")

    def output(self, measurement: Measurement, code: int = status.HTTP_200_OK) -> Response:
        return Response(MeasurementSerializer(measurement, context=self.get_serializer_context()).data, status=code)

    def record(
        self, *, kpi: Kpi, period: date, value, comment: str, version: int | None, code: int, data: dict
    ) -> Response:
        """One value through `measurements_record`, so that a red value asks for its cause and action item as the
        data-entry page and the bulk upsert do."""
        item = services.MeasurementInput(
            kpi=kpi, period=period, value=value, comment=comment, expected_version=version, action=action_plan(data)
        )
        try:
            [result] = services.measurements_record(items=[item], by=self.request.user, organization=self.organization)
        except services.MeasurementsRefused as refusal:
            error = refusal.item_causes.get(0)
            if not isinstance(error, services.StaleMeasurementError) or error.version_missing:
                # the caller's mistake, not a conflict: a 400 naming the fields
                raise exceptions.ValidationError(refusal.item_errors[0]) from None
            current = None if error.current is None else self.get_queryset().get(pk=error.current.pk)
            body = {
                "detail": error.message_dict["value"][0],
                "code": "stale",
                "current": None if current is None else MeasurementSerializer(current).data,
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        return self.output(self.get_queryset().get(pk=result.measurement.pk), code)

    @extend_schema(
        parameters=[
            KPI_FILTER,
            OpenApiParameter("period_from", PERIOD_SCHEMA, description="From this period on (YYYY-MM)."),
            OpenApiParameter("period_to", PERIOD_SCHEMA, description="Up to this period (YYYY-MM)."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={201: MeasurementSerializer, 409: STALE_RESPONSE})
    def create(self, request, *args, **kwargs):
        serializer = MeasurementSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.check_kpi(data["kpi"])
        return self.record(
            kpi=data["kpi"], period=data["period"], value=data["value"], comment=data.get("comment", ""),
            version=data.get("version"), code=status.HTTP_201_CREATED, data=data,
        )  # fmt: skip

    @extend_schema(request=MeasurementChangeSerializer, responses={200: MeasurementSerializer, 409: STALE_RESPONSE})
    def partial_update(self, request, *args, **kwargs):
        measurement = self.get_object()
        self.check_kpi(measurement.kpi)
        serializer = MeasurementChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return self.record(
            kpi=measurement.kpi, period=measurement.period, value=data["value"],
            comment=data.get("comment", measurement.comment), version=data["version"], code=status.HTTP_200_OK,
            data=data,
        )  # fmt: skip

    def reviewed(self, measurement: Measurement) -> Response:
        return self.output(self.get_queryset().get(pk=measurement.pk))

    @extend_schema(request=None, responses=MeasurementSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """Approve a submitted value: it counts in the scores from now on. For the KPI's approver (its owner unless
        another is named) or an admin; nobody approves a value they entered."""
        measurement = self.get_object()
        approval.measurement_approve(measurement=measurement, by=request.user, membership=self.membership)
        return self.reviewed(measurement)

    @extend_schema(request=MeasurementReturnSerializer, responses=MeasurementSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_value(self, request, *args, **kwargs):
        """Return a submitted value to the person who entered it, with a comment saying why (required). The same
        people as `approve/` may."""
        measurement = self.get_object()
        serializer = MeasurementReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approval.measurement_return(
            measurement=measurement, comment=serializer.validated_data["return_comment"], by=request.user,
            membership=self.membership,
        )  # fmt: skip
        return self.reviewed(measurement)

    @extend_schema(
        request=BulkItemSerializer(many=True),
        responses={
            200: MeasurementSerializer(many=True),
            400: OpenApiResponse(BULK_ERRORS, description="Every failing item with its errors; nothing saved."),
        },
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def bulk(self, request, *args, **kwargs):
        """Save a list of values at once: every item is checked first (number, KPI id or code, period and the
        KPI's frequency, your permission, the version you saw, and for a red value its cause in `comment` and its
        action item, as on the data-entry page); if any fails, the answer lists each failing item with its errors and
        nothing is saved. Otherwise all are saved, and the red values' action items created or linked, in one
        transaction."""
        items = request.data
        if not isinstance(items, list) or not items:
            raise exceptions.ValidationError({"non_field_errors": ["Send a non-empty list of measurements."]})
        if len(items) > BULK_LIMIT:
            raise exceptions.ValidationError(
                {"non_field_errors": [f"Send at most {BULK_LIMIT} measurements at once; split the list."]}
            )
        inputs, refused = self.bulk_inputs(items)
        try:
            results = services.measurements_record(
                items=inputs, by=request.user, organization=self.organization, refused=refused
            )
        except services.MeasurementsRefused as error:
            return Response(error.as_list(), status=status.HTTP_400_BAD_REQUEST)
        saved = [result.measurement for result in results]
        rows = {m.pk: m for m in self.get_queryset().filter(pk__in=[m.pk for m in saved])}
        return Response(MeasurementSerializer([rows[m.pk] for m in saved], many=True).data)

    def bulk_inputs(self, items: list) -> tuple[list[services.MeasurementInput | None], dict[int, dict]]:
        """The items read by the serializer, with their KPI named by id or code and your permission checked:
        the inputs of `measurements_record`, and the errors of the items refused here, by position."""
        refused, valid = {}, []
        for index, item in enumerate(items):
            serializer = BulkItemSerializer(data=item)
            if serializer.is_valid():
                valid.append((index, serializer.validated_data))
            else:
                refused[index] = serializer.errors
        kpis = self.bulk_kpis([data["kpi"] for _, data in valid])
        inputs: list[services.MeasurementInput | None] = [None] * len(items)
        for index, data in valid:
            kpi = kpis.get(data["kpi"])
            if kpi is None:
                refused[index] = {"kpi": [f"Unknown KPI “{data['kpi']}”: give its id or code."]}
            elif not self.may_enter(kpi):
                refused[index] = {"kpi": [self.not_yours(kpi)]}
            else:
                inputs[index] = services.MeasurementInput(
                    kpi=kpi, period=data["period"], value=data["value"], comment=data["comment"],
                    expected_version=data.get("version"), action=action_plan(data),
                )  # fmt: skip
        return inputs, refused

    def bulk_kpis(self, refs: list[str]) -> dict[str, Kpi]:
        """The KPIs the items name, by the text the caller sent (an id or a code), in one query."""
        ids = {int(ref) for ref in refs if is_id(ref)}
        codes = {ref for ref in refs if not is_id(ref)}
        found = Kpi.objects.for_organization(self.organization).select_related("organization", "unit")
        found = found.filter(Q(pk__in=ids) | Q(code__in=codes))
        by_ref: dict[str, Kpi] = {}
        for kpi in found:
            by_ref.setdefault(kpi.code, kpi)
            by_ref[str(kpi.pk)] = kpi
        return {ref: by_ref[ref] for ref in refs if ref in by_ref}
