"""Read API of the executive dashboard under /api/v1/o/<org_slug>/dashboard/ (issue 16): every figure of the dashboard
page of a unit for a period but the heat map (at `heat-map/`), read by the page's own function
(bsc.project.dashboard.dashboard_figures) and the "Likely to miss" panel's selector, so page and API cannot disagree.
It lives in the project layer because it composes kpis and coaching, as the page does."""

from __future__ import annotations

from datetime import date

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from bsc import org_calendar
from bsc.api.base import ID_SCHEMA, id_param
from bsc.models import OrgUnit
from bsc.permissions import Action, can
from bsc.project.dashboard import (
    LIKELY_TO_MISS_SHOWN,
    dashboard_figures,
    figure,
    no_dashboard,
    outside_data,
    top_unit,
)
from kpis.api import PERIOD_SCHEMA, PeriodField, kind_param
from kpis.api_scores import KIND_PARAMETER, STATUSES, ScoresApi, ScoreSerializer, UnitRefSerializer
from kpis.dashboard import Mover, Score, likely_to_miss
from kpis.scorecard_display import light

# --- Serializers (output only; they also describe the answer in the schema) ----------------------------------


def _decimal(max_digits: int = 9, places: int = 4, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=max_digits, decimal_places=places, read_only=True, **kwargs)


class KpiRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class TrendPointSerializer(ScoreSerializer):
    period = PeriodField(read_only=True, help_text="A month.")
    label = serializers.CharField(read_only=True, help_text="'Mar 2026'.")


class UnitEntrySerializer(serializers.Serializer):
    unit = UnitRefSerializer(read_only=True)
    depth = serializers.IntegerField(read_only=True, help_text="0 for the asked unit, 1 for its children.")
    has_children = serializers.BooleanField(
        read_only=True, help_text="true: ask with ?unit=<its id> for the units below it."
    )
    entered = serializers.IntegerField(read_only=True, help_text="Values entered for the period.")
    due = serializers.IntegerField(read_only=True, help_text="Values due for the period (0: nothing due).")


class DataEnteredSerializer(serializers.Serializer):
    entered = serializers.IntegerField(read_only=True, help_text="Values entered for the period in the whole subtree.")
    due = serializers.IntegerField(read_only=True, help_text="Values due for the period in the whole subtree.")
    short_units = serializers.IntegerField(read_only=True, help_text="Units with fewer values entered than due.")
    units = UnitEntrySerializer(many=True, read_only=True, help_text="The unit and its children, as the page lists.")


class OffTrackSerializer(ScoreSerializer):
    objective = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    perspective = serializers.CharField(read_only=True, help_text="The perspective's name.")
    unit = UnitRefSerializer(read_only=True)
    owner = serializers.IntegerField(allow_null=True, read_only=True, help_text="The owner's user id.")
    owner_name = serializers.CharField(read_only=True, help_text="Empty without an owner.")
    open_action_items = serializers.IntegerField(
        allow_null=True, read_only=True,
        help_text="Open action items on the objective or one of its KPIs that the caller may see; null when the "
        "caller's role reads no coaching.",
    )  # fmt: skip
    last_discussed = serializers.DateTimeField(
        allow_null=True, read_only=True,
        help_text="When the latest held session of the objective's unit that discussed it was held (its KPI "
        "snapshot holds one of the objective's KPIs, or an action item on them was created in it); null when none "
        "or when the caller's role reads no coaching.",
    )  # fmt: skip


class OffTrackListSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True, help_text="Objectives off track in the whole subtree.")
    results = OffTrackSerializer(many=True, read_only=True, help_text="The worst first, at most 25.")


class RedKpiSerializer(serializers.Serializer):
    kpi = KpiRefSerializer(read_only=True)
    unit = UnitRefSerializer(read_only=True)
    score = _decimal(allow_null=True, help_text="0 to 1.")
    status = serializers.ChoiceField(choices=STATUSES, read_only=True, help_text="red.")
    cause = serializers.CharField(
        read_only=True, help_text="The comment entered with the period's value; may be empty."
    )


class RedKpiListSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True, help_text="Red KPIs without an open action item in the subtree.")
    results = RedKpiSerializer(many=True, read_only=True, help_text="The worst first, at most 25.")


class MoverSerializer(serializers.Serializer):
    unit = UnitRefSerializer(read_only=True, help_text="The unit (a KPI's own unit for a KPI).")
    kpi = KpiRefSerializer(allow_null=True, read_only=True, help_text="null for a unit.")
    before = _decimal(help_text="The score in the previous period, 0 to 1.")
    after = _decimal(help_text="The score in the period, 0 to 1.")
    change = _decimal(help_text="after − before: 0.05 is 5 percentage points up.")


class MoversSerializer(serializers.Serializer):
    previous = PeriodField(read_only=True, help_text="The previous period of the same kind.")
    previous_label = serializers.CharField(read_only=True)
    units_up = MoverSerializer(many=True, read_only=True, help_text="At most 5, the biggest rise first.")
    units_down = MoverSerializer(many=True, read_only=True, help_text="At most 5, the biggest fall first.")
    kpis_up = MoverSerializer(many=True, read_only=True)
    kpis_down = MoverSerializer(many=True, read_only=True)


class LikelyToMissSerializer(serializers.Serializer):
    kpi = KpiRefSerializer(read_only=True)
    unit = UnitRefSerializer(read_only=True)
    measurement_unit = serializers.CharField(read_only=True)
    aggregation = serializers.ChoiceField(
        choices=["level", "sum"], read_only=True, help_text="level: the value at the year end; sum: the year's total."
    )
    value = _decimal(max_digits=26, places=6, allow_null=True, help_text="The projected figure.")
    target = _decimal(max_digits=26, places=6, allow_null=True)
    progress = _decimal(max_digits=40, allow_null=True)
    status = serializers.ChoiceField(
        choices=STATUSES, read_only=True, help_text="The status the projection would score: red for a miss."
    )


class LikelyToMissListSerializer(serializers.Serializer):
    fiscal_year_label = serializers.CharField(read_only=True, help_text="The current fiscal year: 'FY 2026/27'.")
    count = serializers.IntegerField(read_only=True, help_text="KPIs of the subtree forecast to miss the year.")
    results = LikelyToMissSerializer(
        many=True, read_only=True, help_text=f"The worst first, at most {LIKELY_TO_MISS_SHOWN} (as the page)."
    )


class DashboardSerializer(serializers.Serializer):
    unit = UnitRefSerializer(read_only=True)
    kind = serializers.ChoiceField(choices=org_calendar.KINDS, read_only=True)
    period = PeriodField(read_only=True, help_text="The first month of the period.")
    label = serializers.CharField(read_only=True, help_text="'Mar 2026', 'Q1 2026', 'FY 2026/27'.")
    scorecard = ScoreSerializer(read_only=True, help_text="The unit's scorecard score (grey, null, 0 when none).")
    trend = TrendPointSerializer(
        many=True, read_only=True,
        help_text="The unit's monthly scorecard score over the 12 months ending with the period's last month (or the "
        "month now due, when earlier), oldest first.",
    )  # fmt: skip
    data_entered = DataEnteredSerializer(read_only=True)
    objectives_off_track = OffTrackListSerializer(read_only=True)
    red_kpis_without_action = RedKpiListSerializer(read_only=True)
    movers = MoversSerializer(read_only=True)
    likely_to_miss = LikelyToMissListSerializer(read_only=True)


# --- Reading the figures -------------------------------------------------------------------------------------------


def _unit(unit: OrgUnit) -> dict:
    return {"id": unit.pk, "name": unit.name}


def _kpi(kpi) -> dict:
    return {"id": kpi.pk, "code": kpi.code, "name": kpi.name}


def _stored(score: Score | None) -> dict:
    """A stored score as the page shows it: grey without a figure."""
    status = light(getattr(figure(score), "status", None)).status
    if score is None:
        return {"score": None, "status": status, "coverage": 0}
    return {"score": score.score, "status": status, "coverage": score.coverage}


def _movers(movers: list[Mover]) -> list[dict]:
    return [
        {"unit": _unit(m.unit), "kpi": None if m.kpi is None else _kpi(m.kpi), "before": m.before, "after": m.after,
         "change": m.change}
        for m in movers
    ]  # fmt: skip


def dashboard_body(*, organization, membership, unit: OrgUnit, kind: str, period: date) -> dict:
    figures = dashboard_figures(organization=organization, membership=membership, unit=unit, kind=kind, month=period)
    board = figures.board
    fiscal_start = organization.fiscal_year_start_month
    coaching = figures.may_read_coaching
    likely = likely_to_miss(organization=organization, unit=unit)
    year = org_calendar.fiscal_year_months(org_calendar.current_fiscal_year(organization), fiscal_start)[0]
    return {
        "unit": _unit(unit),
        "kind": kind,
        "period": board.period,
        "label": org_calendar.period_label(kind, board.period, fiscal_start),
        "scorecard": _stored(board.card),
        "trend": [
            {"period": month, "label": org_calendar.period_label(org_calendar.MONTH, month, fiscal_start), **_stored(s)}
            for month, s in board.trend
        ],
        "data_entered": {
            "entered": board.entered,
            "due": board.due,
            "short_units": board.short_units,
            "units": [
                {
                    "unit": _unit(row.unit),
                    "depth": row.depth,
                    "has_children": row.has_children,
                    "entered": row.entered,
                    "due": row.due,
                }
                for row in board.rows
            ],
        },  # fmt: skip
        "objectives_off_track": {
            "count": board.red_total,
            "results": [
                {
                    "objective": red.objective.pk,
                    "name": red.objective.name,
                    "perspective": red.objective.perspective.name,
                    "unit": _unit(red.objective.scorecard.unit),
                    "owner": red.objective.owner_id,
                    "owner_name": red.objective.owner.display_name if red.objective.owner else "",
                    **_stored(red.score),
                    "open_action_items": red.open_items if coaching else None,
                    "last_discussed": red.last_session if coaching else None,
                }
                for red in figures.off_track
            ],
        },
        "red_kpis_without_action": {
            "count": figures.red_kpis_total,
            "results": [
                {
                    "kpi": _kpi(red.kpi),
                    "unit": _unit(red.kpi.unit),
                    "score": red.score,
                    "status": "red",
                    "cause": red.cause,
                }
                for red in figures.red_kpis
            ],
        },  # fmt: skip
        "movers": {
            "previous": board.previous,
            "previous_label": org_calendar.period_label(kind, board.previous, fiscal_start),
            "units_up": _movers(board.units_up),
            "units_down": _movers(board.units_down),
            "kpis_up": _movers(board.kpis_up),
            "kpis_down": _movers(board.kpis_down),
        },
        "likely_to_miss": {
            "fiscal_year_label": org_calendar.period_label(org_calendar.YEAR, year, fiscal_start),
            "count": len(likely),
            "results": [
                {
                    "kpi": _kpi(kpi),
                    "unit": _unit(kpi.unit),
                    "measurement_unit": kpi.measurement_unit,
                    "aggregation": forecast.aggregation,
                    "value": forecast.value,
                    "target": forecast.target,
                    "progress": forecast.progress,
                    "status": forecast.status,
                }
                for kpi, forecast in likely[:LIKELY_TO_MISS_SHOWN]
            ],
        },  # fmt: skip
    }


@extend_schema(tags=["scores"])
class DashboardApi(ScoresApi):
    """Every figure of a unit's dashboard page for one period: the scorecard's score, status and coverage, its
    12-month trend, the data entered (the subtree's totals and the unit's and its children's counts), the objectives
    off track with their owner (and, for a role that reads coaching, their open action items and when a session
    last discussed them), the red KPIs without an action with their cause, the biggest movers since the previous
    period (units and KPIs, up and down) and the KPIs forecast to miss the current fiscal year. The heat map is at
    `heat-map/` with the same parameters. A quarter or a year is named by its first month
    (`period=2026-01&kind=quarter`); scores are stored when data changes, so every figure is the page's."""

    serializer_class = DashboardSerializer
    unit_reads = "dashboard"

    @extend_schema(
        operation_id="dashboard_retrieve",
        parameters=[
            OpenApiParameter(
                "unit", ID_SCHEMA, description="The unit whose dashboard is read; the top unit when left out."
            ),
            OpenApiParameter(
                "period",
                PERIOD_SCHEMA,
                description="YYYY-MM: the period's first month; when left out, the period holding the month now due.",
            ),  # fmt: skip
            KIND_PARAMETER,
        ],
        responses=DashboardSerializer,
    )
    def get(self, request, *args, **kwargs):
        kind = kind_param(request)
        unit = self.unit()
        period = self.period(kind)
        body = dashboard_body(
            organization=self.organization, membership=self.membership, unit=unit, kind=kind, period=period
        )
        return Response(DashboardSerializer(body).data)

    def unit(self) -> OrgUnit:
        organization = self.organization
        unit_id = id_param(self.request, "unit")
        if unit_id is None:
            unit = top_unit(organization)
        else:
            unit = OrgUnit.objects.for_organization(organization).filter(pk=unit_id).first()
            if unit is None:
                raise exceptions.NotFound(f"No unit {unit_id} in this organization.")
        if not can(self.membership, Action.READ, unit=unit):
            raise exceptions.PermissionDenied(f"Your role may not read the dashboard of {unit.name}.")
        if missing := no_dashboard(organization, unit):
            raise exceptions.NotFound(missing)
        return unit

    def period(self, kind: str) -> date:
        """A period given is checked as `scores/` checks it; left out, the one holding the month now due, refused
        with the page's note when it lies outside the organization's data."""
        if self.request.query_params.get("period"):
            return super().period(kind)
        organization = self.organization
        due = org_calendar.due_month(organization)
        period = org_calendar.window_start(kind, due, organization.fiscal_year_start_month)
        if note := outside_data(organization, kind, period):
            raise exceptions.ValidationError({"period": [f"{note} Name a period: ?period=YYYY-MM."]})
        return period
