"""Read API of the dashboard's heat map under /api/v1/o/<org_slug>/heat-map/ (issue 16): a unit and the units below
it (rows, depth first as on the dashboard) against perspectives (columns, by name), each cell the stored
perspective score of the period with its status and coverage. The rows are the dashboard's (kpis.dashboard), the
unit and the period are checked as `scores/` checks them; a page holds at most 500 rows (limit/offset)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from bsc import org_calendar
from bsc.api.base import ID_SCHEMA
from bsc.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, LimitOffsetPagination
from kpis import dashboard
from kpis.api import PERIOD_SCHEMA, PeriodField, kind_param
from kpis.api_scores import KIND_PARAMETER, ScoresApi, ScoreSerializer, UnitRefSerializer

# --- Serializers (output only; they also describe the answer in the schema) ----------------------------------


class HeatCellSerializer(ScoreSerializer):
    perspective = serializers.CharField(read_only=True, help_text="The column: a perspective's name.")
    on_scorecard = serializers.BooleanField(
        read_only=True, help_text="false: the unit's scorecard has no perspective of this name (score null, grey)."
    )
    stored = serializers.BooleanField(
        read_only=True, help_text="false: no score is stored for the period (score null, grey, coverage 0)."
    )


class HeatRowSerializer(serializers.Serializer):
    unit = UnitRefSerializer(read_only=True)
    depth = serializers.IntegerField(read_only=True, help_text="Levels below the asked unit (0 for itself).")
    parent = serializers.IntegerField(
        allow_null=True, read_only=True, help_text="The parent unit's id; null for the asked unit."
    )
    has_children = serializers.BooleanField(read_only=True)
    scorecard = ScoreSerializer(
        allow_null=True, read_only=True, help_text="The unit's scorecard score; null when none is stored."
    )
    cells = HeatCellSerializer(many=True, read_only=True, help_text="One per column, in the columns' order.")


class HeatMapSerializer(serializers.Serializer):
    unit = UnitRefSerializer(read_only=True)
    kind = serializers.ChoiceField(choices=org_calendar.KINDS, read_only=True)
    period = PeriodField(read_only=True, help_text="The first month of the period.")
    label = serializers.CharField(read_only=True, help_text="'Mar 2026', 'Q1 2026', 'FY 2026/27'.")
    columns = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Perspective names: the unit's own in its order, then the others by their usual place.",
    )  # fmt: skip
    count = serializers.IntegerField(read_only=True, help_text="Rows in the whole subtree.")
    next = serializers.URLField(allow_null=True, read_only=True)
    previous = serializers.URLField(allow_null=True, read_only=True)
    results = HeatRowSerializer(many=True, read_only=True, help_text="This page's rows, depth first.")


def _cell(name: str, stored, absent: bool) -> dict:
    if stored is None:
        return {"perspective": name, "on_scorecard": not absent, "stored": False, "score": None, "status": "grey",
                "coverage": 0}  # fmt: skip
    return {"perspective": name, "on_scorecard": True, "stored": True, "score": stored.score,
            "status": stored.status, "coverage": stored.coverage}  # fmt: skip


def _row(row: dashboard.HeatRow, columns: list[str]) -> dict:
    card = row.card
    return {
        "unit": {"id": row.unit.pk, "name": row.unit.name},
        "depth": row.depth,
        "parent": row.parent_id,
        "has_children": row.has_children,
        "scorecard": None if card is None else {"score": card.score, "status": card.status, "coverage": card.coverage},
        "cells": [_cell(name, cell, absent) for name, cell, absent in zip(columns, row.cells, row.absent, strict=True)],
    }


@extend_schema(tags=["scores"])
class HeatMapApi(ScoresApi):
    """The dashboard's heat map for a unit and one period: a row per unit of its subtree (depth first, siblings by
    name, with its depth and parent), a cell per perspective name with the stored score, status and coverage. A
    quarter or a year is named by its first month (`period=2026-01&kind=quarter`). Rows come in pages of `limit`
    (at most 500) in tree order; the whole subtree is read in a fixed number of queries however many units."""

    serializer_class = HeatMapSerializer
    pagination_class = LimitOffsetPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("unit", ID_SCHEMA, required=True, description="The unit at the top of the heat map."),
            OpenApiParameter("period", PERIOD_SCHEMA, required=True, description="YYYY-MM: the period's first month."),
            KIND_PARAMETER,
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                description=f"How many rows per page: 1 to {MAX_LIMIT}, {DEFAULT_LIMIT} when left out.",
            ),
            OpenApiParameter(
                "offset",
                {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                description="How many rows to skip (0 when left out).",
            ),
        ],
        responses=HeatMapSerializer,
    )
    def get(self, request, *args, **kwargs):
        organization = self.organization
        kind = kind_param(request)
        unit = self.unit()
        period = self.period(kind)
        period, columns, rows = dashboard.heat_map(organization=organization, unit=unit, kind=kind, month=period)
        paginator = self.paginator
        page = paginator.paginate_queryset(rows, request, view=self)
        body = {
            "unit": {"id": unit.pk, "name": unit.name},
            "kind": kind,
            "period": period,
            "label": org_calendar.period_label(kind, period, organization.fiscal_year_start_month),
            "columns": columns,
            "count": paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": [_row(row, columns) for row in page],
        }
        return Response(HeatMapSerializer(body).data)
