"""API for coaching sessions, action items and cadences under /api/v1/o/<org_slug>/.

Every write is one call to coaching.services or coaching.cadences (they validate; a refusal is a 400 naming
the field). Permissions follow the matrix (DESIGN.md section 8): sessions and cadences are written by admins
and by the coach they belong to, read by executives and by department heads for their units; action items
are written by admins, executives and coaches, by department heads for their units, and their status also
by their owner. A role that may never write is refused (403) before anything is read from the body.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bsc import org_calendar
from bsc.api.base import ID_SCHEMA, OrganizationScopedMixin, flag_param, id_filter, id_param
from bsc.api.serializers import (
    ApiModelSerializer,
    LocalTimeField,
    OffsetDateTimeField,
    OrganizationRelatedField,
    TextField,
)
from bsc.models import Initiative, Objective, OrgUnit, User
from bsc.permissions import Action, can, can_on_some, visible_action_items
from coaching import cadences, selectors, services
from coaching.models import (
    ActionItem,
    ActionItemStatus,
    Cadence,
    CadenceFrequency,
    CoachingSession,
    SessionKind,
    SessionStatus,
)
from kpis.api import PeriodField
from kpis.api_scores import STATUSES
from kpis.models import Kpi


def _members(organization) -> QuerySet[User]:
    return User.objects.filter(memberships__organization=organization)


def _units(organization) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.for_organization(organization)


def _forbid(message: str):
    raise exceptions.PermissionDenied(message)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # the schema's full-date: fromisoformat also takes "20270310"


def _date_param(request, name: str) -> date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise exceptions.ValidationError({name: [f"“{value}” is not a date; use YYYY-MM-DD."]}) from None


def _choice_param(request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value and value not in choices:
        raise exceptions.ValidationError({name: [f"“{value}” is not one of {', '.join(choices)}."]})
    return value or None


class CoachingScopedMixin(OrganizationScopedMixin):
    """Writes are checked per object (the coach, the unit, the owner); roles that may never do the view's
    write are refused at once."""

    def check_write_permission(self) -> None:
        if not can_on_some(self.membership, self.write_action):
            role = self.membership.get_role_display().lower()
            _forbid(f"Your role ({role}) does not allow this: {self.write_action.value}.")


# --- Sessions ---------------------------------------------------------------------------------------------


class SessionSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    coach_name = serializers.CharField(source="coach.display_name", read_only=True)
    participants = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = CoachingSession
        fields = [
            "id", "unit", "unit_name", "kind", "coach", "coach_name", "participants", "scheduled_at", "held_at",
            "status", "agenda", "notes", "wins", "challenges", "cadence", "occurrence", "moved", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class SessionSnapshotSerializer(serializers.Serializer):
    """A KPI's figures as they stood when the session was held (the session page's "KPIs discussed")."""

    kpi = serializers.IntegerField(source="kpi_id", read_only=True)
    code = serializers.CharField(source="kpi.code", read_only=True)
    name = serializers.CharField(source="kpi.name", read_only=True)
    unit = serializers.IntegerField(source="kpi.unit_id", read_only=True, help_text="The KPI's unit.")
    unit_name = serializers.CharField(source="kpi.unit.name", read_only=True)
    sub_unit = serializers.BooleanField(
        read_only=True, help_text="true: the KPI belongs to a unit below the session's (the page names it)."
    )
    period = PeriodField(read_only=True, help_text="The month whose values were captured.")
    actual = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True, read_only=True)
    target = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True, read_only=True)
    score = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, read_only=True, help_text="0 to 1; null without data."
    )
    status = serializers.ChoiceField(choices=STATUSES, read_only=True)


class SessionDetailSerializer(SessionSerializer):
    snapshots = SessionSnapshotSerializer(
        many=True, read_only=True, source="snapshot_rows",
        help_text="Read only. For a held session, its KPI snapshot: red first, then amber, green and no data; within "
        "a status the session's unit's own KPIs first, then by unit and code. Empty until the session is held.",
    )  # fmt: skip

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "snapshots"]
        read_only_fields = fields


class SessionCreateSerializer(serializers.Serializer):
    unit = OrganizationRelatedField(queryset_for=_units)
    kind = serializers.ChoiceField(choices=SessionKind.choices)
    scheduled_at = OffsetDateTimeField(help_text="A future time.")
    coach = OrganizationRelatedField(
        queryset_for=_members, required=False, help_text="A member; defaults to you. Only admins name another."
    )
    participants = OrganizationRelatedField(queryset_for=_members, many=True, required=False)
    agenda = TextField(required=False, allow_blank=True, max_length=4000, default="")


class SessionChangeSerializer(serializers.Serializer):
    agenda = TextField(required=False, allow_blank=True, max_length=4000)
    notes = TextField(required=False, allow_blank=True, max_length=20000, help_text="Markdown.")
    wins = TextField(required=False, allow_blank=True, max_length=4000, help_text="Markdown.")
    challenges = TextField(required=False, allow_blank=True, max_length=4000, help_text="Markdown.")
    participants = OrganizationRelatedField(queryset_for=_members, many=True, required=False)
    scheduled_at = OffsetDateTimeField(
        required=False, help_text="Moves a scheduled session (a cadence's occurrence keeps its date)."
    )


class SessionHoldSerializer(serializers.Serializer):
    kpis = OrganizationRelatedField(
        queryset_for=lambda organization: Kpi.objects.for_organization(organization),
        many=True,
        required=False,
        help_text="The KPIs discussed; by default the active KPIs of the unit and of the units below it.",
    )
    confirm_early = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Hold a session more than a day before its scheduled time; without it such a hold is refused.",
    )


SESSION_FILTERS = [
    id_filter("unit", "Only this unit's sessions."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=SessionStatus.values),
    id_filter("cadence", "Only the sessions of this cadence."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Starting on or after this day (local)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Starting on or before this day (local)."),
]


@extend_schema(tags=["coaching sessions"])
class SessionViewSet(CoachingScopedMixin, viewsets.GenericViewSet):
    """Coaching sessions. Admins see all, executives all (read only), department heads their units'
    (read only), coaches their own. Schedule one with POST, change its texts or participants or move it
    with PATCH, then `hold` (capturing the KPI values discussed) or `cancel` it."""

    serializer_class = SessionSerializer
    queryset = CoachingSession.objects.none()
    lookup_value_converter = "int"
    write_action = Action.WRITE_COACHING

    def get_organization_queryset(self):
        if self.action != "list":
            return CoachingSession.objects.for_organization(self.organization).select_related(
                "unit__organization", "coach", "cadence"
            )
        sessions = selectors.session_list(organization=self.organization, membership=self.membership)
        tz = org_calendar.zone(self.organization)
        unit_id, cadence_id = id_param(self.request, "unit"), id_param(self.request, "cadence")
        state = _choice_param(self.request, "status", SessionStatus.values)
        start, end = _date_param(self.request, "date_from"), _date_param(self.request, "date_to")
        if unit_id is not None:
            sessions = sessions.filter(unit_id=unit_id)
        if cadence_id is not None:
            sessions = sessions.filter(cadence_id=cadence_id)
        if state:
            sessions = sessions.filter(status=state)
        if start:
            sessions = sessions.filter(scheduled_at__gte=datetime.combine(start, time(0), tzinfo=tz))
        if end:
            sessions = sessions.filter(scheduled_at__lt=datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz))
        return sessions.order_by("scheduled_at", "id")

    def get_object(self) -> CoachingSession:
        session = super().get_object()
        write = self.request.method not in ("GET", "HEAD", "OPTIONS")
        action_needed = Action.WRITE_COACHING if write else Action.READ_COACHING
        if not can(self.membership, action_needed, unit=session.unit_id, coach_id=session.coach_id):
            _forbid(f"You may not {action_needed.value} of this session.")
        return session

    def output(self, session: CoachingSession, code: int = status.HTTP_200_OK) -> Response:
        """The session with its snapshot rows, ordered as its page shows them."""
        fresh = self.get_organization_queryset().prefetch_related("participants").get(pk=session.pk)
        fresh.snapshot_rows = list(selectors.session_snapshot_list(session=fresh))
        for snapshot in fresh.snapshot_rows:
            snapshot.sub_unit = snapshot.kpi.unit_id != fresh.unit_id
        return Response(SessionDetailSerializer(fresh).data, status=code)

    @extend_schema(parameters=SESSION_FILTERS)
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SessionSerializer(page, many=True).data)

    @extend_schema(responses=SessionDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        return self.output(self.get_object())

    @extend_schema(request=SessionCreateSerializer, responses={201: SessionDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = SessionCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        coach = data.get("coach") or request.user
        if not can(self.membership, Action.WRITE_COACHING, unit=data["unit"], coach_id=coach.pk):
            _forbid("Coaches schedule their own sessions; only admins name another coach.")
        session = services.session_schedule(
            unit=data["unit"], coach=coach, kind=data["kind"], scheduled_at=data["scheduled_at"],
            participants=data.get("participants", []), agenda=data["agenda"],
        )  # fmt: skip
        return self.output(session, status.HTTP_201_CREATED)

    @extend_schema(request=SessionChangeSerializer, responses=SessionDetailSerializer)
    @transaction.atomic
    def partial_update(self, request, *args, **kwargs):
        session = self.get_object()
        serializer = SessionChangeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        scheduled_at = data.pop("scheduled_at", None)
        if data:
            session = services.session_update(session=session, **data)
        if scheduled_at is not None:
            session = services.session_move(session=session, scheduled_at=scheduled_at)
        return self.output(session)

    @extend_schema(request=SessionHoldSerializer, responses=SessionDetailSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, *args, **kwargs):
        """Mark the session held now and capture the KPI values discussed. More than a day before its time the
        hold needs `confirm_early`."""
        session = self.get_object()
        serializer = SessionHoldSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return self.output(
            services.session_hold(session=session, kpis=data.get("kpis"), confirm_early=data["confirm_early"])
        )

    @extend_schema(request=None, responses=SessionDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        """Cancel a scheduled session (a cadence's occurrence stays cancelled when the cadence regenerates)."""
        return self.output(services.session_cancel(session=self.get_object()))


# --- Action items -----------------------------------------------------------------------------------------


class ActionItemSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id", "title", "owner", "owner_name", "unit", "due_date", "status", "overdue", "completed_at",
            "created_at", "created_by", "session", "kpi", "objective", "initiative",
        ]  # fmt: skip
        read_only_fields = fields

    def get_overdue(self, item: ActionItem) -> bool:
        return item.is_overdue(self.context["today"])


def _linked(model):
    return lambda organization: model.objects.for_organization(organization)


class ActionItemWriteSerializer(serializers.Serializer):
    title = TextField(max_length=200)
    owner = OrganizationRelatedField(
        queryset_for=_members, help_text="A member of the organization who may own an action item (not a viewer)."
    )
    due_date = serializers.DateField()
    unit = OrganizationRelatedField(
        queryset_for=_units, required=False, allow_null=True, help_text="Defaults to the session's or KPI's unit."
    )
    session = OrganizationRelatedField(queryset_for=_linked(CoachingSession), required=False, allow_null=True)
    kpi = OrganizationRelatedField(queryset_for=_linked(Kpi), required=False, allow_null=True)
    objective = OrganizationRelatedField(queryset_for=_linked(Objective), required=False, allow_null=True)
    initiative = OrganizationRelatedField(queryset_for=_linked(Initiative), required=False, allow_null=True)


class ActionItemChangeSerializer(ActionItemWriteSerializer):
    session = None  # an item stays with the session it was created in


class ActionItemStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ActionItemStatus.choices)


ACTION_ITEM_FILTERS = [
    OpenApiParameter(
        "owner", {"anyOf": [{"type": "string", "enum": ["me"]}, ID_SCHEMA]}, description="A member's user id, or `me`."
    ),
    OpenApiParameter("status", OpenApiTypes.STR, enum=ActionItemStatus.values),
    OpenApiParameter("overdue", OpenApiTypes.BOOL, description="true: only open items past their due date."),
    id_filter("unit", "Only this unit's items."),
    id_filter("session", "Only the items of this session."),
]


@extend_schema(tags=["action items"])
class ActionItemViewSet(CoachingScopedMixin, viewsets.GenericViewSet):
    """Action items. Admins, executives and coaches see and change all; department heads those of their
    units (and see their own anywhere); everyone sees the items they own. `status` sets open, done or
    dropped: department heads may do that for their units' items and for their own."""

    serializer_class = ActionItemSerializer
    queryset = ActionItem.objects.none()
    lookup_value_converter = "int"
    write_action = Action.WRITE_ACTION_ITEMS

    def get_organization_queryset(self):
        items = selectors.action_item_list(organization=self.organization)
        if self.action != "list":
            return items
        membership = self.membership
        # Department heads: their units' items and their own; anyone else: their own.
        items = visible_action_items(membership).apply(items)
        owner = self.request.query_params.get("owner")
        if owner == "me":
            items = items.filter(owner=self.request.user)
        elif owner:
            items = items.filter(owner=id_param(self.request, "owner"))
        state = _choice_param(self.request, "status", ActionItemStatus.values)
        if state:
            items = items.filter(status=state)
        overdue = flag_param(self.request, "overdue")
        today = self.today()
        if overdue is True:
            items = items.filter(status=ActionItemStatus.OPEN, due_date__lt=today)
        elif overdue is False:
            items = items.exclude(status=ActionItemStatus.OPEN, due_date__lt=today)
        for name in ("unit", "session"):
            value = id_param(self.request, name)
            if value is not None:
                items = items.filter(**{f"{name}_id": value})
        return items.order_by("due_date", "id")

    def check_write_permission(self) -> None:
        if self.action == "set_status":
            if not can_on_some(self.membership, Action.UPDATE_ACTION_ITEM_STATUS):
                _forbid(f"Your role ({self.membership.get_role_display().lower()}) may not change action items.")
            return
        super().check_write_permission()

    def today(self) -> date:
        return org_calendar.today(self.organization)

    def get_object(self) -> ActionItem:
        item = super().get_object()
        may_read = item.owner_id == self.membership.user_id or can(
            self.membership, Action.WRITE_ACTION_ITEMS, unit=item.unit_id
        )
        if not may_read:
            _forbid("You may not see this action item: it is not in your units.")
        return item

    def output(self, item: ActionItem, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.action_item_list(organization=self.organization).get(pk=item.pk)
        return Response(ActionItemSerializer(fresh, context={"today": self.today()}).data, status=code)

    def require_unit(self, unit_id: int | None) -> None:
        if not can(self.membership, Action.WRITE_ACTION_ITEMS, unit=unit_id):
            _forbid("You may create and change action items only in your units.")

    @extend_schema(parameters=ACTION_ITEM_FILTERS)
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ActionItemSerializer(page, many=True, context={"today": self.today()}).data)

    def retrieve(self, request, *args, **kwargs):
        return self.output(self.get_object())

    @extend_schema(request=ActionItemWriteSerializer, responses={201: ActionItemSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ActionItemWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The unit the service will give the item: the one named, else the session's, else the KPI's.
        unit_id = next(
            (x for x in (getattr(data.get("unit"), "pk", None), getattr(data.get("session"), "unit_id", None),
                         getattr(data.get("kpi"), "unit_id", None)) if x is not None),
            None,
        )  # fmt: skip
        self.require_unit(unit_id)
        item = services.action_item_create(organization=self.organization, created_by=request.user, **data)
        return self.output(item, status.HTTP_201_CREATED)

    @extend_schema(request=ActionItemChangeSerializer, responses=ActionItemSerializer)
    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        self.require_unit(item.unit_id)
        serializer = ActionItemChangeSerializer(data=request.data, context=self.get_serializer_context(), partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("unit") is not None and data["unit"].pk != item.unit_id:
            self.require_unit(data["unit"].pk)
        return self.output(services.action_item_update(item=item, **data))

    @extend_schema(request=ActionItemStatusSerializer, responses=ActionItemSerializer)
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request, *args, **kwargs):
        """Set the status: open, done (records when) or dropped."""
        item = self.get_object()
        if not can(self.membership, Action.UPDATE_ACTION_ITEM_STATUS, unit=item.unit_id, owner_id=item.owner_id):
            _forbid("You may change the status of your own items and of your units' items only.")
        serializer = ActionItemStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.output(services.action_item_set_status(item=item, status=serializer.validated_data["status"]))


# --- Cadences ---------------------------------------------------------------------------------------------


class CadenceSerializer(ApiModelSerializer):
    unit = OrganizationRelatedField(queryset_for=_units)
    coach = OrganizationRelatedField(
        queryset_for=_members, required=False, help_text="A member; defaults to you. Only admins name another."
    )
    participants = OrganizationRelatedField(queryset_for=_members, many=True, required=False)
    kind = serializers.ChoiceField(
        choices=SessionKind.choices, default=SessionKind.MONTHLY_REVIEW, help_text="Monthly review when left out."
    )
    frequency = serializers.ChoiceField(choices=CadenceFrequency.choices)
    weekday = serializers.IntegerField(
        required=False, allow_null=True, help_text="0 (Monday) to 6 (Sunday); required, the service says so."
    )
    week_of_month = serializers.IntegerField(
        required=False, allow_null=True, help_text="Monthly cadences: 1 to 4, or -1 for the last such weekday."
    )
    time_of_day = LocalTimeField(help_text="Local time in the organization's time zone: HH:MM, seconds optional.")
    rule = serializers.CharField(source="rule_text", read_only=True)

    class Meta:
        model = Cadence
        fields = [
            "id", "unit", "kind", "coach", "participants", "frequency", "weekday", "week_of_month", "time_of_day",
            "starts_on", "ends_on", "agenda", "active", "rule", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_at"]
        validators = []

    def validate_unit(self, unit: OrgUnit) -> OrgUnit:
        if self.instance is not None and unit.pk != self.instance.unit_id:
            raise serializers.ValidationError("A cadence stays with its unit; set up a new one on the other unit.")
        return unit


class GenerateSerializer(serializers.Serializer):
    horizon_days = serializers.IntegerField(
        min_value=1, max_value=366, required=False, help_text="How far ahead; by default 56 days (92 for monthly)."
    )


@extend_schema(tags=["cadences"])
class CadenceViewSet(CoachingScopedMixin, viewsets.ModelViewSet):
    """Cadences: a unit's recurring sessions, generated ahead of time (at once on creation, then daily).
    PATCH reshapes only the upcoming sessions nobody touched; DELETE stops the cadence (its untouched upcoming
    sessions go, the rest stay); `generate` tops it up now. Admins and the cadence's coach write; executives
    and the unit's department heads read."""

    serializer_class = CadenceSerializer
    queryset = Cadence.objects.none()
    lookup_value_converter = "int"
    write_action = Action.WRITE_COACHING
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_organization_queryset(self):
        if self.action != "list":
            return Cadence.objects.for_organization(self.organization).select_related("unit__organization", "coach")
        rows = selectors.cadence_list(organization=self.organization, membership=self.membership)
        unit_id = id_param(self.request, "unit")
        return (rows if unit_id is None else rows.filter(unit_id=unit_id)).order_by("id")

    def get_object(self) -> Cadence:
        cadence = super().get_object()
        write = self.request.method not in ("GET", "HEAD", "OPTIONS")
        needed = Action.WRITE_COACHING if write else Action.READ_COACHING
        if not can(self.membership, needed, unit=cadence.unit_id, coach_id=cadence.coach_id):
            _forbid(f"You may not {needed.value} of this cadence.")
        return cadence

    def require_coach(self, unit, coach: User) -> None:
        if not can(self.membership, Action.WRITE_COACHING, unit=unit, coach_id=coach.pk):
            _forbid("Coaches set up cadences they coach themselves; only admins name another coach.")

    @extend_schema(parameters=[id_filter("unit", "Only this unit's cadences.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("active", None)
        data.setdefault("weekday", None)  # the service names it when missing
        coach = data.pop("coach", None) or self.request.user
        self.require_coach(data["unit"], coach)
        serializer.instance = cadences.cadence_create(coach=coach, created_by=self.request.user, **data)

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "unit"}
        if "coach" in data:
            self.require_coach(serializer.instance.unit_id, data["coach"])
        participants = data.pop("participants", None)
        serializer.instance = cadences.cadence_update(cadence=serializer.instance, participants=participants, **data)

    def perform_destroy(self, instance):
        cadences.cadence_deactivate(cadence=instance)

    @extend_schema(
        request=GenerateSerializer,
        responses=inline_serializer("GenerateResult", {"created": serializers.IntegerField()}),
    )
    @action(detail=True, methods=["post"])
    def generate(self, request, *args, **kwargs):
        """Create the cadence's missing upcoming sessions now (idempotent)."""
        cadence = self.get_object()
        serializer = GenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        days = serializer.validated_data.get("horizon_days")
        created = cadences.cadence_generate(cadence=cadence, horizon=timedelta(days=days) if days else None)
        return Response({"created": created})
