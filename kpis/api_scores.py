"""Read API of the stored scores and the forecasts under /api/v1/o/<org_slug>/ (issue 16): a unit's scorecard for a
period, with each perspective, objective and KPI score, status and coverage (`scores/`), and a KPI's year-end
forecast (`kpis/<id>/forecast/`). Both only read; both go through the one base mixin."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Max, Min, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.response import Response

from bsc import org_calendar
from bsc.api.base import ID_SCHEMA, OrganizationScopedMixin, id_param
from bsc.models import OrgUnit, Scorecard
from bsc.permissions import Action, can
from kpis import selectors
from kpis.api import PERIOD_SCHEMA, PeriodField, kind_param, period_param
from kpis.forecast_display import forecast_display
from kpis.models import Kpi, ScorecardScore

STATUSES = ["green", "amber", "red", "grey"]
KIND_WORDS = {"quarter": "a fiscal quarter", "year": "a fiscal year"}


# --- Serializers (output only; they also describe the answers in the schema) ----------------------------------


def _score(max_digits: int = 9, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=max_digits, decimal_places=4, allow_null=True, read_only=True, **kwargs)


class ScoreSerializer(serializers.Serializer):
    score = _score(help_text="0 to 1; null without data.")
    status = serializers.ChoiceField(choices=STATUSES, read_only=True)
    coverage = _score(max_digits=5, help_text="Weight with data / total weight, 0 to 1.")


class KpiScoreSerializer(ScoreSerializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True)
    measurement_unit = serializers.CharField(read_only=True)
    actual = serializers.DecimalField(
        max_digits=20, decimal_places=6, allow_null=True, read_only=True,
        help_text="The period's value (a quarter or year aggregates the months by the KPI's time aggregation).",
    )  # fmt: skip
    target = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True, read_only=True)
    progress = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True, read_only=True, help_text="Unclamped: 1.5 is 50% beyond."
    )


class ObjectiveScoreSerializer(ScoreSerializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True)
    kpis = KpiScoreSerializer(many=True, read_only=True, help_text="The objective's own KPIs.")


class PerspectiveScoreSerializer(ScoreSerializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True)
    objectives = ObjectiveScoreSerializer(many=True, read_only=True)


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ScorecardScoresSerializer(ScoreSerializer):
    unit = UnitRefSerializer(read_only=True)
    scorecard = serializers.IntegerField(read_only=True, help_text="The unit's scorecard id.")
    kind = serializers.ChoiceField(choices=org_calendar.KINDS, read_only=True)
    period = PeriodField(read_only=True, help_text="The first month of the period.")
    label = serializers.CharField(read_only=True, help_text="'Mar 2026', 'Q1 2026', 'FY 2026/27'.")
    perspectives = PerspectiveScoreSerializer(many=True, read_only=True)
    unlinked_kpis = KpiScoreSerializer(many=True, read_only=True, help_text="The unit's KPIs serving no objective.")


class ForecastPointSerializer(serializers.Serializer):
    period = PeriodField(read_only=True)
    value = serializers.DecimalField(max_digits=26, decimal_places=6, read_only=True)


class ForecastSerializer(serializers.Serializer):
    kpi = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    fiscal_year = serializers.IntegerField(read_only=True, help_text="Named by the calendar year it starts in.")
    fiscal_year_label = serializers.CharField(read_only=True)
    available = serializers.BooleanField(read_only=True, help_text="false: see `reason`.")
    reason = serializers.CharField(read_only=True, help_text="Why there is no forecast (empty when there is one).")
    periods_with_data = serializers.IntegerField(read_only=True, help_text="Periods of the fiscal year with a value.")
    classification = serializers.ChoiceField(
        choices=["on_course", "at_risk", "will_miss"], allow_null=True, read_only=True,
        help_text="The projection's status: green on course, amber at risk, red will miss.",
    )  # fmt: skip
    label = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True, help_text="The outcome in words, as the KPI page says it.")
    method = serializers.CharField(read_only=True, help_text="How the figure was made, as the KPI page says it.")
    aggregation = serializers.ChoiceField(
        choices=["level", "sum"], allow_null=True, read_only=True,
        help_text="level: the value at the year end; sum: the year's total.",
    )  # fmt: skip
    year_end = PeriodField(allow_null=True, read_only=True)
    value = serializers.DecimalField(
        max_digits=26, decimal_places=6, allow_null=True, read_only=True, help_text="The projected figure."
    )
    target = serializers.DecimalField(max_digits=26, decimal_places=6, allow_null=True, read_only=True)
    progress = serializers.DecimalField(max_digits=40, decimal_places=4, allow_null=True, read_only=True)
    score = _score()
    status = serializers.ChoiceField(choices=STATUSES[:3], allow_null=True, read_only=True)
    slope = serializers.DecimalField(
        max_digits=26, decimal_places=6, allow_null=True, read_only=True, help_text="The line's change per period."
    )
    fitted = serializers.ListField(
        child=PeriodField(), read_only=True, help_text="The periods whose values the line goes through."
    )
    line = ForecastPointSerializer(
        many=True, read_only=True, help_text="The latest value, then the line's values to the year end."
    )


# --- Reading the scores --------------------------------------------------------------------------------------------


def _score_fields(row) -> dict:
    if row is None:
        return {"score": None, "status": "grey", "coverage": 0}
    return {"score": row.score, "status": row.status, "coverage": row.coverage}


def _kpi(row: selectors.KpiRow) -> dict:
    kpi, score = row.kpi, row.score
    return {
        "id": kpi.pk, "code": kpi.code, "name": kpi.name, "weight": kpi.weight,
        "measurement_unit": kpi.measurement_unit, **_score_fields(score),
        "actual": getattr(score, "actual", None), "target": getattr(score, "target", None),
        "progress": getattr(score, "progress", None),
    }  # fmt: skip


def scores_body(*, organization, unit: OrgUnit, kind: str, period: date) -> dict:
    view = selectors.scorecard_rows(organization=organization, unit=unit, kind=kind, month=period)
    perspectives = [
        {
            "id": p.perspective.pk,
            "name": p.perspective.name,
            "weight": p.perspective.weight,
            **_score_fields(p.score),
            "objectives": [
                {
                    "id": o.objective.pk,
                    "name": o.objective.name,
                    "weight": o.objective.weight,
                    **_score_fields(o.score),
                    "kpis": [_kpi(k) for k in o.kpis],
                }
                for o in p.objectives
            ],
        }  # fmt: skip
        for p in view.perspectives
    ]
    return {
        "unit": {"id": unit.pk, "name": unit.name},
        "scorecard": view.scorecard.pk,
        "kind": kind,
        "period": period,
        "label": org_calendar.period_label(kind, period, organization.fiscal_year_start_month),
        **_score_fields(view.score),
        "perspectives": perspectives,
        "unlinked_kpis": [_kpi(k) for k in view.unlinked],
    }


KIND_PARAMETER = OpenApiParameter(
    "kind", str, enum=list(org_calendar.KINDS), description="month (when left out), quarter or year."
)


@extend_schema(tags=["scores"])
class ScoresApi(OrganizationScopedMixin, generics.GenericAPIView):
    """The stored scores of a unit's scorecard for one period: the scorecard, each perspective, each objective and
    each KPI with its score, status and coverage (and a KPI's actual, target and progress). A quarter or a year
    is named by its first month (`period=2026-01&kind=quarter`). Scores are computed when data changes; a value
    saved a moment ago may still be on its way."""

    serializer_class = ScorecardScoresSerializer
    queryset = ScorecardScore.objects.none()
    pagination_class = None
    unit_reads = "scores"  # what the unit named by ?unit= is asked for, in the refusals' words

    @extend_schema(
        parameters=[
            OpenApiParameter("unit", ID_SCHEMA, required=True, description="The unit whose scorecard is read."),
            OpenApiParameter("period", PERIOD_SCHEMA, required=True, description="YYYY-MM: the period's first month."),
            KIND_PARAMETER,
        ],
        responses=ScorecardScoresSerializer,
    )
    def get(self, request, *args, **kwargs):
        organization = self.organization
        kind = kind_param(request)
        unit = self.unit()
        period = self.period(kind)
        body = scores_body(organization=organization, unit=unit, kind=kind, period=period)
        return Response(ScorecardScoresSerializer(body).data)

    def unit(self) -> OrgUnit:
        unit_id = id_param(self.request, "unit")
        if unit_id is None:
            raise exceptions.ValidationError({"unit": [f"Name the unit whose {self.unit_reads} you want: ?unit=<id>."]})
        unit = OrgUnit.objects.for_organization(self.organization).filter(pk=unit_id).first()
        if unit is None:
            raise exceptions.NotFound(f"No unit {unit_id} in this organization.")
        if not can(self.membership, Action.READ, unit=unit):
            raise exceptions.PermissionDenied(f"Your role may not read the {self.unit_reads} of {unit.name}.")
        if not Scorecard.objects.for_organization(self.organization).filter(unit=unit).exists():
            raise exceptions.NotFound(f"{unit.name} has no scorecard.")
        return unit

    def period(self, kind: str) -> date:
        period = period_param(self.request)
        fiscal_start = self.organization.fiscal_year_start_month
        start = org_calendar.window_start(kind, period, fiscal_start)
        if start != period:
            raise exceptions.ValidationError(
                {
                    "period": [
                        f"{period:%Y-%m} does not start {KIND_WORDS[kind]}: name it by its first month, "
                        f"{start:%Y-%m} for {org_calendar.period_label(kind, period, fiscal_start)}."
                    ]
                }
            )
        stored = ScorecardScore.objects.for_organization(self.organization).filter(period_kind=kind)
        found = stored.aggregate(first=Min("period"), last=Max("period"), here=Count("id", filter=Q(period=period)))
        if not found["here"]:
            label = org_calendar.period_label(kind, period, fiscal_start)
            if found["first"] is None:
                reason = "the organization has no stored scores yet."
            else:
                span = [org_calendar.period_label(kind, found[end], fiscal_start) for end in ("first", "last")]
                reason = f"the organization's data runs from {span[0]} to {span[1]}."
            raise exceptions.ValidationError({"period": [f"No scores are stored for {label}: {reason}"]})
        return period


@extend_schema(tags=["kpis"])
class KpiForecastApi(OrganizationScopedMixin, generics.RetrieveAPIView):
    """A KPI's forecast to the end of the current fiscal year (docs/scoring.md, "Forecast"): a least-squares line
    through the values of the last 12 months, 8 quarters or 5 years (by the KPI's frequency) up to the latest value,
    read at the year end (for a KPI summed over the year, the periods without a value take the line's value and the
    year is added up), classified on course / at risk / will miss by the status it would score. `available` is
    false, with the `reason`, when there are too few values: 6 months of this fiscal year, 4 of the 8 quarters or 3
    of the 5 years."""

    serializer_class = ForecastSerializer
    queryset = Kpi.objects.none()

    def get_organization_queryset(self):
        return Kpi.objects.for_organization(self.organization)

    def retrieve(self, request, *args, **kwargs):
        kpi = self.get_object()
        organization = self.organization
        display = forecast_display(kpi=kpi, organization=organization)
        f = display.forecast
        body = {
            "kpi": kpi.pk,
            "code": kpi.code,
            "fiscal_year": f.fiscal_year,
            "fiscal_year_label": org_calendar.period_label(
                org_calendar.YEAR,
                org_calendar.fiscal_year_months(f.fiscal_year, organization.fiscal_year_start_month)[0],
                organization.fiscal_year_start_month,
            ),
            "available": f.available,
            "reason": f.reason,
            "periods_with_data": f.periods_with_data,
            "classification": f.classification,
            "label": f.label,
            "summary": display.text.summary,
            "method": display.text.method,
            "aggregation": f.aggregation if f.available else None,
            "year_end": f.year_end,
            "value": f.value,
            "target": f.target,
            "progress": f.progress,
            "score": f.score,
            "status": f.status,
            "slope": f.slope,
            "fitted": list(f.fitted),
            "line": [{"period": period, "value": value} for period, value in f.line],
        }
        return Response(ForecastSerializer(body).data)
