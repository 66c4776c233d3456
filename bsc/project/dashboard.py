"""The executive dashboard (issue 16), composed in the project layer: the stored scores of a unit and the units
below it from kpis (kpis/dashboard.py), the follow-up of red objectives from coaching and the year-end forecasts.
It is the organization home of admins, executives and coaches (bsc.permissions.sees_dashboard_first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from bsc import org_calendar
from bsc.access import get_org_unit_for_member, member_view
from bsc.models import Membership, Objective, Organization, OrgUnit, Scorecard
from bsc.permissions import Action, can_on_some, may_own_action_items
from coaching.selectors import action_item_open_for_user, objective_follow_up
from kpis.dashboard import (
    ROW_DEPTH,
    Dashboard,
    HeatRow,
    RedKpi,
    Score,
    dashboard,
    heat_rows,
    likely_to_miss,
    red_without_action,
    stored_span,
)
from kpis.forecast import SUM
from kpis.models import PeriodKind
from kpis.scorecard_display import light, number, percent, period_nav, share_percent
from kpis.services import parse_period

LIKELY_TO_MISS_SHOWN = 10
KIND_WORDS = {PeriodKind.MONTH: "month", PeriodKind.QUARTER: "quarter", PeriodKind.YEAR: "year"}


# A heat-map cell's markup, made once per cell with format_html (which escapes every value): the heat map of a
# 1,000-unit organization has 6,000 cells, and a template loop with a dozen lookups per cell was most of the page's
# time (bench/cases/dashboard.py). The template prints these as they are.
CELL = '<a class="heat heat-{}" href="{}"><b>{}</b> <span aria-hidden="true">{}</span> <span class="heat-word">{}</span>{}</a>'
COVERAGE = " <small>{} data</small>"
ABSENT = format_html('<span class="heat heat-none">{}</span>', "Not on this scorecard")


def _cell(score: Score | None, href: str, *, absent: bool = False) -> SafeString:
    """A cell: the score, the status as shape and word on its colour, and the share of the weight with data."""
    if absent:
        return ABSENT
    scored = score is not None and score.score is not None
    lit = light(score.status if scored else None)
    coverage = format_html(COVERAGE, share_percent(score.coverage)) if scored else ""
    return format_html(CELL, lit.status, href, percent(score.score if scored else None), lit.shape, lit.label, coverage)


def _period_choice(request) -> tuple[str, date, list[str]]:
    """The kind and month asked for, and what was wrong with the request (the page then shows the month now
    due, or the month, saying so)."""
    organization = request.organization
    problems = []
    kind = request.GET.get("kind") or PeriodKind.MONTH
    if kind not in PeriodKind.values:
        problems.append(f"“{kind[:40]}” is not a kind of period: month, quarter or year. Showing the month.")
        kind = PeriodKind.MONTH
    month = org_calendar.due_month(organization)
    if request.GET.get("period"):
        try:
            month = parse_period(request.GET["period"])
        except ValidationError as error:
            due = org_calendar.period_label(PeriodKind.MONTH, month, organization.fiscal_year_start_month)
            problems.append(f"{error.message_dict['period'][0]} Showing {due}, the month now due.")
    return kind, month, problems


def outside_data(organization, kind: str, period: date) -> str:
    """A note when the period holds no stored scores because it lies outside the organization's data (the page
    shows it; the API refuses the period with it)."""
    first, last = stored_span(organization=organization, kind=kind)
    fiscal_start = organization.fiscal_year_start_month
    label = org_calendar.period_label(kind, period, fiscal_start)
    if first is None:
        return f"No scores are stored yet for any {KIND_WORDS[kind]}: they appear once KPI values are entered."
    if first <= period <= last:
        return ""
    span = " to ".join(org_calendar.period_label(kind, end, fiscal_start) for end in (first, last))
    return f"{label} is outside this organization's data: its stored scores run from {span}."


def top_unit(organization) -> OrgUnit:
    unit = OrgUnit.objects.for_organization(organization).filter(parent__isnull=True).order_by("path").first()
    if unit is None:
        raise Http404("This organization has no units yet.")
    return unit


def no_dashboard(organization, unit: OrgUnit) -> str:
    """Why the unit has no dashboard (the page's 404 and the API's), or "" when it has one."""
    if Scorecard.objects.for_organization(organization).filter(unit=unit).exists():
        return ""
    return f"{unit.name} has no scorecard, so it has no dashboard."


@dataclass
class OffTrack:
    """An objective off track (red) with its follow-up: the open action items and the last session that discussed
    it, among those the member may see (the page and the API leave both out for a member who reads no coaching)."""

    objective: Objective
    score: Score
    open_items: int
    last_session: datetime | None


@dataclass
class DashboardFigures:
    """Every figure of the dashboard but the heat map's cells and the year-end forecasts (read after the page):
    what the page shows and the API answers (bsc/project/api_dashboard.py), read once for both."""

    board: Dashboard
    off_track: list[OffTrack]
    red_kpis: list[RedKpi]  # red, without an open action item, worst first
    red_kpis_total: int
    may_read_coaching: bool


def dashboard_figures(
    *, organization: Organization, membership: Membership, unit: OrgUnit, kind: str, month: date
) -> DashboardFigures:
    """The dashboard of `unit` for the window of `kind` containing `month`, with coaching's follow-up of the red
    objectives and the red KPIs without an action. A fixed number of queries whatever the number of units."""
    board = dashboard(organization=organization, unit=unit, kind=kind, month=month)
    follow_up = objective_follow_up(
        organization=organization, membership=membership, objective_ids=[o.pk for o, _ in board.red_objectives]
    )
    off_track = [
        OffTrack(objective, score, follow_up[objective.pk].open_items, follow_up[objective.pk].last_session)
        for objective, score in board.red_objectives
    ]
    reds, total = red_without_action(organization=organization, unit=unit, kind=kind, period=board.period)
    return DashboardFigures(board, off_track, reds, total, can_on_some(membership, Action.READ_COACHING))


def figure(score: Score | None) -> Score | None:
    """A stored score that has a figure; None when no row is stored or the row has no data (grey, "No data")."""
    return score if score is not None and score.score is not None else None


def render_dashboard(request, unit: OrgUnit | None = None):
    organization = request.organization
    membership = request.membership
    top = top_unit(organization)
    unit = unit or top
    kind, month, problems = _period_choice(request)
    if missing := no_dashboard(organization, unit):
        context = {"unit": unit, "message": missing}
        return render(request, "project/dashboard_missing.html", context, status=404)
    figures = dashboard_figures(organization=organization, membership=membership, unit=unit, kind=kind, month=month)
    board = figures.board
    outside = outside_data(organization, kind, board.period)
    if outside:
        problems.append(outside)
    fiscal_start = organization.fiscal_year_start_month
    query = f"?kind={kind}&period={board.period:%Y-%m}"
    slug = organization.slug
    scorecard_url = reverse("scorecard_detail", args=[slug, 0]).removesuffix("0/")
    dashboard_url = reverse("dashboard_unit", args=[slug, 0]).removesuffix("0/")
    kpi_url = reverse("kpi_detail", args=[slug, 0]).removesuffix("0/")
    # The organization's dashboard is the home of admins, executives and coaches: their own open items stay on it.
    mine = unit.pk == top.pk and may_own_action_items(membership)
    context = {
        "board": board,
        "unit": unit,
        "is_top": unit.pk == top.pk,
        "problems": problems,
        "nav": period_nav(kind, board.period, fiscal_start, org_calendar.due_month(organization)),
        "label": org_calendar.period_label(kind, board.period, fiscal_start),
        "previous_label": org_calendar.period_label(kind, board.previous, fiscal_start),
        "card_score": percent(getattr(board.card, "score", None)),
        "card_light": light(getattr(figure(board.card), "status", None)),
        "card_coverage": share_percent(board.card.coverage) if figure(board.card) else "",
        "trend": (trend := _trend(board, fiscal_start)),
        "trend_points": list(zip(trend["labels"], trend["texts"], strict=True)),
        "columns": board.columns,
        "rows": _heat_rows(board.rows, scorecard_url, dashboard_url, query, top_id=unit.pk),
        "completeness": _completeness(board),
        "red": [
            {
                "objective": red.objective,
                "unit": red.objective.scorecard.unit,
                "href": f"{scorecard_url}{red.objective.scorecard.unit_id}/{query}",
                "score": percent(red.score.score),
                "light": light(red.score.status),
                "open_items": red.open_items,
                "last_session": red.last_session,
            }
            for red in figures.off_track
        ],
        "red_more": board.red_total - len(board.red_objectives),
        **_red_kpis(figures, kpi_url),
        "may_read_coaching": figures.may_read_coaching,
        "movers": _movers(board, scorecard_url, kpi_url, query),
        "likely_url": reverse("dashboard_likely", args=[slug, unit.pk]),
        "fiscal_year_label": org_calendar.period_label(
            PeriodKind.YEAR, org_calendar.fiscal_year_months(
                org_calendar.current_fiscal_year(organization), fiscal_start)[0], fiscal_start),
        "show_my_actions": mine,
        "my_actions": action_item_open_for_user(organization=organization, user=request.user) if mine else [],
    }  # fmt: skip
    return render(request, "project/dashboard.html", context)


def _red_kpis(figures: DashboardFigures, kpi_url: str) -> dict:
    """The red KPIs without an open action item (issue 17), worst first."""
    total = figures.red_kpis_total
    rows = [
        {"kpi": red.kpi, "href": f"{kpi_url}{red.kpi.pk}/", "score": percent(red.score), "light": light("red"),
         "cause": red.cause}
        for red in figures.red_kpis
    ]  # fmt: skip
    return {"red_kpis": rows, "red_kpis_total": total, "red_kpis_more": total - len(rows)}


def _trend(board: Dashboard, fiscal_start: int) -> dict:
    return {
        "labels": [org_calendar.period_label(PeriodKind.MONTH, m, fiscal_start) for m, _ in board.trend],
        "scores": [None if figure(s) is None else float(s.score * 100) for _, s in board.trend],
        "statuses": [light(getattr(figure(s), "status", None)).status for _, s in board.trend],
        "texts": [percent(None if s is None else s.score) for _, s in board.trend],
    }


def _heat_rows(
    rows_in: list[HeatRow], scorecard_url: str, dashboard_url: str, query: str, *, top_id: int
) -> list[dict]:
    """Display values of heat-map rows; `top_id` is the dashboard's unit (unfolding a row asks for its children's rows
    with the columns of that dashboard)."""
    rows = []
    for row in rows_in:
        unit_id = row.unit.pk
        href = f"{scorecard_url}{unit_id}/{query}"
        rows.append(
            {
                "id": unit_id,
                "name": row.unit.name,
                "depth": min(row.depth, 8),
                "parent": row.parent_id or "",
                "has_children": row.has_children,
                "open": row.depth < ROW_DEPTH,  # its children are on the page; deeper ones load when unfolded
                "dashboard": f"{dashboard_url}{unit_id}/{query}",
                "rows": f"{dashboard_url}{top_id}/rows/{unit_id}/{query}",
                "card": _cell(row.card, href),
                "cells": [
                    _cell(score, href, absent=absent) for score, absent in zip(row.cells, row.absent, strict=True)
                ],
                "entry": _entry(row.entered, row.due),
            }
        )
    return rows


def _entry(entered: int, due: int) -> dict:
    if not due:
        return {"text": "Nothing due", "css": "entry entry-none"}
    css = "entry entry-full" if entered >= due else "entry entry-short"
    return {"text": f"{entered} of {due}", "css": css}


def _completeness(board: Dashboard) -> dict:
    return {
        "entered": board.entered,
        "due": board.due,
        "share": share_percent(board.entered / board.due) if board.due else "",
        "short_units": board.short_units,
    }


def _movers(board: Dashboard, scorecard_url: str, kpi_url: str, query: str) -> dict:
    def lines(movers) -> list[dict]:
        return [
            {
                "name": m.name,
                "unit": m.unit.name,
                "href": f"{kpi_url}{m.kpi.pk}/" if m.kpi is not None else f"{scorecard_url}{m.unit.pk}/{query}",
                "before": percent(m.before),
                "after": percent(m.after),
                "change": _points(m.change),
            }
            for m in movers
        ]

    return {
        "units_up": lines(board.units_up),
        "units_down": lines(board.units_down),
        "kpis_up": lines(board.kpis_up),
        "kpis_down": lines(board.kpis_down),
    }


def _points(change) -> str:
    """A change of score in percentage points: +12.5 pts, −3 pts (the sign always shown)."""
    text = percent(abs(change)).removesuffix("%")
    return f"{'+' if change > 0 else '−'}{text} pts"


@require_GET
@member_view
def organization_dashboard(request):
    return render_dashboard(request)


@require_GET
@member_view
def unit_dashboard(request, unit_id: int):
    return render_dashboard(request, get_org_unit_for_member(request, unit_id))


@require_GET
@member_view
def dashboard_rows(request, unit_id: int, parent_id: int):
    """The heat-map rows of a unit's children on the dashboard of `unit_id`: what unfolding a row loads (htmx or a
    plain GET; static/js/dashboard.js inserts them under the row)."""
    organization = request.organization
    unit = get_org_unit_for_member(request, unit_id)
    parent = get_org_unit_for_member(request, parent_id)
    if not parent.path.startswith(unit.path):
        raise Http404(f"{parent.name} is not below {unit.name}.")
    kind, month, _problems = _period_choice(request)
    columns, rows = heat_rows(organization=organization, unit=unit, parent=parent, kind=kind, month=month)
    slug = organization.slug
    query = f"?kind={kind}&period={org_calendar.window_start(kind, month, organization.fiscal_year_start_month):%Y-%m}"
    context = {
        "rows": _heat_rows(
            rows,
            reverse("scorecard_detail", args=[slug, 0]).removesuffix("0/"),
            reverse("dashboard_unit", args=[slug, 0]).removesuffix("0/"),
            query,
            top_id=unit.pk,
        )
    }
    return render(request, "project/includes/heat_rows.html", context)


@require_GET
@member_view
def dashboard_likely(request, unit_id: int):
    """The dashboard's "Likely to miss" panel, loaded after the page (htmx) since it forecasts every KPI of the
    subtree; a full page without htmx."""
    organization = request.organization
    unit = get_org_unit_for_member(request, unit_id)
    likely = likely_to_miss(organization=organization, unit=unit)
    fiscal_start = organization.fiscal_year_start_month
    kpi_url = reverse("kpi_detail", args=[organization.slug, 0]).removesuffix("0/")
    year = org_calendar.fiscal_year_months(org_calendar.current_fiscal_year(organization), fiscal_start)[0]
    context = {
        "unit": unit,
        "is_top": unit.pk == top_unit(organization).pk,
        "dashboard_url": reverse("dashboard_unit", args=[organization.slug, unit.pk]),
        "fiscal_year_label": org_calendar.period_label(PeriodKind.YEAR, year, fiscal_start),
        "likely": [
            {
                "kpi": kpi,
                "href": f"{kpi_url}{kpi.pk}/",
                "projected": number(forecast.value, kpi.decimals, kpi.measurement_unit),
                "target": number(forecast.target, kpi.decimals, kpi.measurement_unit),
                "sum": forecast.aggregation == SUM,
            }
            for kpi, forecast in likely[:LIKELY_TO_MISS_SHOWN]
        ],
        "likely_more": max(0, len(likely) - LIKELY_TO_MISS_SHOWN),
    }
    template = "project/dashboard_likely.html"
    return render(request, f"{template}#likely" if request.htmx else template, context)
