"""The scorecard pages: every unit's scorecard score for a month, and one unit's scorecard (perspectives,
objectives, KPIs) for a month, fiscal quarter or fiscal year, read from the stored scores; and the
"Recomputing…" badge those pages poll while a change is being worked into the scores."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from bsc.access import get_org_unit_for_member, member_view
from bsc.org_calendar import due_month, month_shift
from bsc.permissions import may_close_periods
from bsc.selectors import org_unit_tree
from kpis import period_close, selectors
from kpis.explain import attach_scorecard_links
from kpis.models import PeriodKind
from kpis.scorecard_display import (
    cascade_display,
    light,
    percent,
    period_label,
    period_nav,
    recomputing_badge,
    scorecard_display,
    share_percent,
)
from kpis.selectors import scorecard_rows, unit_scores, units_recomputing
from kpis.services import parse_period


def _chosen_month(request) -> date:
    """?period=YYYY-MM, or the month now due when missing or not a period."""
    try:
        return parse_period(request.GET["period"])
    except (KeyError, ValidationError):
        return due_month(request.organization)


@require_GET
@member_view
def scorecard_index(request):
    organization = request.organization
    month = _chosen_month(request)
    scores = unit_scores(organization=organization, month=month)
    recomputing = units_recomputing(organization=organization)
    rows = []
    for unit in org_unit_tree(organization=organization):
        stored = scores.get(unit.pk)
        score, status, coverage = (
            (None, "grey", None) if stored is None else (stored.score, stored.status, stored.coverage)
        )
        rows.append(
            {
                "unit": unit,
                "score": percent(score),
                "light": light(status),
                "coverage": share_percent(coverage) if score is not None else "",
                "recomputing": unit.pk in recomputing,
            }
        )
    context = {
        "rows": rows,
        "month": month,
        "label": period_label(PeriodKind.MONTH, month, organization.fiscal_year_start_month),
        "previous": f"?period={month_shift(month, -1):%Y-%m}",
        "previous_label": f"{month_shift(month, -1):%b %Y}",
        "next": f"?period={month_shift(month, 1):%Y-%m}",
        "next_label": f"{month_shift(month, 1):%b %Y}",
        "recomputing": recomputing_badge(organization=organization, pending=bool(recomputing)),
    }
    return render(request, "kpis/scorecard_index.html", context)


@require_GET
@member_view
def scorecard_detail(request, unit_id: int):
    unit = get_org_unit_for_member(request, unit_id)
    organization = request.organization
    kind = request.GET.get("kind", PeriodKind.MONTH)
    if kind not in PeriodKind.values:
        kind = PeriodKind.MONTH
    month = _chosen_month(request)
    view = scorecard_rows(organization=organization, unit=unit, kind=kind, month=month)
    card = scorecard_display(view, kind=kind)
    attach_scorecard_links(
        card, view, slug=organization.slug, kind=kind, month=month, fiscal_start=organization.fiscal_year_start_month
    )
    context = {
        "unit": unit,
        "kind": kind,
        "card": card,
        "kpi_url": reverse("kpi_detail", args=[organization.slug, 0]).removesuffix("0/"),  # + id + "/" per row
        "nav": period_nav(kind, month, organization.fiscal_year_start_month, due_month(organization)),
        "month": month,
        "can_close": may_close_periods(request.membership),
        "month_close": (close := period_close.unit_month_close(unit, month) if kind == PeriodKind.MONTH else None),
        "closed_note": period_close.closed_note(close) if close else "",
        "recomputing": recomputing_badge(
            organization=organization,
            unit=unit,
            pending=selectors.scores_recomputing(organization=organization, unit=unit),
        ),
    }
    return render(request, "kpis/scorecard_detail.html", context)


@require_GET
@member_view
def scorecard_cascade(request):
    """The unit tree with each unit's scorecard score and status for a month, quarter or year."""
    organization = request.organization
    kind = request.GET.get("kind", PeriodKind.MONTH)
    if kind not in PeriodKind.values:
        kind = PeriodKind.MONTH
    month = _chosen_month(request)
    nodes = selectors.scorecard_cascade(organization=organization, kind=kind, month=month)
    recomputing = units_recomputing(organization=organization)
    context = {
        "kind": kind,
        "month": month,
        "tree": cascade_display(nodes),
        "nav": period_nav(kind, month, organization.fiscal_year_start_month, due_month(organization)),
        "recomputing_units": recomputing,
        "recomputing": recomputing_badge(organization=organization, pending=bool(recomputing)),
    }
    return render(request, "kpis/scorecard_cascade.html", context)


@require_GET
@member_view
def scores_recomputing(request, unit_id: int | None = None):
    """What a page's "Recomputing…" badge asks every 2 s: the badge again while the outbox holds requests
    for the unit's scores (or the organization's, without a unit); once they are done, nothing (the badge
    goes) and a `scoresRecomputed` event, on which the page reloads its scores."""
    organization = request.organization
    unit = get_org_unit_for_member(request, unit_id) if unit_id is not None else None
    if selectors.scores_recomputing(organization=organization, unit=unit):
        badge = recomputing_badge(organization=organization, unit=unit, pending=True)
        return render(request, "kpis/includes/recomputing.html", {"recomputing": badge})
    return trigger_client_event(HttpResponse(""), "scoresRecomputed")
