"""GET /api/v1/o/<org_slug>/scores/explain/: a stored score taken apart into its calculation (kpis/explain.py), the
same explanation the pages open under 'Why this score?'. It only reads, through the one base mixin."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.response import Response

from bsc import org_calendar
from bsc.api.base import ID_SCHEMA, OrganizationScopedMixin, id_param
from bsc.permissions import Action, can
from kpis import explain as explainer
from kpis.api import PERIOD_SCHEMA, PeriodField, period_param
from kpis.api_scores import STATUSES
from kpis.models import KpiScore

LEVEL_CHOICES = list(explainer.LEVELS)


def _decimal(max_digits: int, places: int, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=max_digits, decimal_places=places, allow_null=True, read_only=True, **kwargs
    )


class FigureSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True)
    text = serializers.CharField(read_only=True, help_text="As the page shows it.")


class MonthSerializer(serializers.Serializer):
    period = PeriodField(read_only=True)
    label = serializers.CharField(read_only=True)
    actual = serializers.CharField(read_only=True, help_text="As shown; '—' without a value.")
    target = serializers.CharField(read_only=True, help_text="As shown; '—' without a target.")


class StepSerializer(serializers.Serializer):
    step = serializers.ChoiceField(
        read_only=True,
        choices=["actual", "window", "rollup", "formula", "progress", "clamp", "status", "coverage", "items",
                 "left_out", "weights", "weighted"],
    )  # fmt: skip
    text = serializers.CharField(read_only=True, help_text="The step in words, with its numbers.")


class ChildSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=LEVEL_CHOICES, read_only=True)
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    role = serializers.CharField(read_only=True, help_text="'KPI', 'aligned objective of Sales', ...")
    unit = serializers.IntegerField(source="unit_id", read_only=True)
    weight = _decimal(6, 2)
    actual = _decimal(20, 6, help_text="A roll-up's child: its value in the period.")
    score = _decimal(9, 4)
    status = serializers.ChoiceField(choices=STATUSES, read_only=True)
    included = serializers.BooleanField(read_only=True, help_text="false: left out for missing data.")
    share = _decimal(12, 6, help_text="Its renormalised weight (0 to 1); null when left out.")
    explain = serializers.CharField(source="explain_api_url", read_only=True, help_text="Its own explanation.")
    explain_page = serializers.CharField(source="explain_url", read_only=True, help_text="The same as a page.")
    page = serializers.CharField(source="page_url", read_only=True, help_text="Its KPI page, or its unit's scorecard.")


class StoredSerializer(serializers.Serializer):
    score = _decimal(9, 4)
    status = serializers.ChoiceField(choices=STATUSES, read_only=True)
    coverage = _decimal(5, 4)
    progress = _decimal(12, 4, required=False)
    actual = _decimal(20, 6, required=False)
    target = _decimal(20, 6, required=False)


class ExplanationSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=LEVEL_CHOICES, read_only=True)
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    unit = serializers.IntegerField(source="unit_id", read_only=True)
    kind = serializers.ChoiceField(choices=org_calendar.KINDS, read_only=True)
    period = PeriodField(read_only=True, help_text="The first month of the period.")
    label = serializers.CharField(read_only=True)
    score = _decimal(9, 4, help_text="As the calculation below gives it.")
    status = serializers.ChoiceField(choices=STATUSES, read_only=True)
    coverage = _decimal(5, 4)
    progress = _decimal(12, 4, help_text="KPIs: unclamped progress.")
    actual = _decimal(20, 6, help_text="KPIs: the period's value.")
    target = _decimal(20, 6)
    stored = StoredSerializer(read_only=True, help_text="The stored score row.")
    matches = serializers.BooleanField(
        read_only=True,
        help_text="false while a change is still being worked into the stored scores, or when the period is closed "
        "and the definition changed since its review (see `note`).",
    )
    note = serializers.CharField(read_only=True)
    closed = serializers.CharField(
        read_only=True,
        help_text="When the period is closed for the unit: who closed it and when (its stored score stays as it was "
        "reviewed); empty otherwise.",
    )
    inputs = FigureSerializer(many=True, read_only=True)
    months = MonthSerializer(many=True, read_only=True, help_text="Quarter and year of a KPI: the months' values.")
    steps = StepSerializer(many=True, read_only=True)
    children = ChildSerializer(many=True, read_only=True, help_text="What the score was made from.")


@extend_schema(tags=["scores"])
class ScoreExplainApi(OrganizationScopedMixin, generics.GenericAPIView):
    """How a stored score was calculated: its inputs (values, baseline, target, band, weights, the months of a
    quarter or year and their time aggregation), each step with its numbers (progress, clamping, the renormalised
    weights, the items left out for missing data, the coverage) and the children it was made from, each with the
    link to its own explanation. A quarter or a year is named by its first month."""

    serializer_class = ExplanationSerializer
    queryset = KpiScore.objects.none()
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("level", str, enum=LEVEL_CHOICES, required=True, description="Whose score."),
            OpenApiParameter("id", ID_SCHEMA, required=True, description="The KPI's, objective's, ... id."),
            OpenApiParameter("period", PERIOD_SCHEMA, required=True, description="YYYY-MM: the period's first month."),
            OpenApiParameter(
                "kind", str, enum=list(org_calendar.KINDS), description="month (when left out), quarter or year."
            ),
        ],
        responses=ExplanationSerializer,
    )
    def get(self, request, *args, **kwargs):
        params = request.query_params
        owner_id = id_param(request, "id")  # a malformed id is named first, whatever else is missing
        level = params.get("level") or ""
        if not level:
            raise exceptions.ValidationError(
                {"level": ["Name the level: ?level=kpi, objective, perspective or scorecard."]}
            )
        if owner_id is None:
            raise exceptions.ValidationError({"id": ["Name the score's owner: ?id=<id>."]})
        period = period_param(request)
        organization = self.organization
        unit = explainer.owner_unit(organization=organization, level=level, id=owner_id)
        if unit is not None and not can(self.membership, Action.READ, unit=unit):
            raise exceptions.PermissionDenied(f"Your role may not read the scores of {unit.name}.")
        try:
            explanation = explainer.explain(
                organization=organization, level=level, id=owner_id, kind=params.get("kind") or "month", period=period
            )
        except explainer.ExplainError as error:
            if error.not_found:
                raise exceptions.NotFound(error.message) from None
            raise exceptions.ValidationError({error.field: [error.message]}) from None
        explainer.with_links(explanation, organization.slug)
        return Response(ExplanationSerializer(explanation).data)
