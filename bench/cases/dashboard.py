"""The executive dashboard (/o/<slug>/dashboard/) of an organization with 1,000 units (a tree 7 levels deep, four
perspectives each, stored scores for the month now due and the month before, a 12-month trend at the top, two KPIs
per unit), through the full middleware stack, against a bare view returning the heat-map rows of every unit as JSON.

The page reads every unit's scores (movers, data entered, red objectives, the forecast's misses over the whole
tree) but renders the heat map's top two levels; a deeper row loads when its parent is unfolded. The baseline stays
the JSON of all 1,000 rows; the figures also give one unfolding (the 3 children of a unit) and the "Likely to miss"
panel the page loads after it (a forecast of each of the 2,000 KPIs) against the same baseline."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from django.db import connection
from django.http import JsonResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.pages import admin_client, bare_view, page_get
from bench.timing import interleaved_medians
from bench.worlds import organization_with_admin, unit_tree
from bsc import org_calendar
from bsc.models import Objective, Organization, OrgUnit, Perspective, User
from bsc.tenancy import organization_scope
from kpis.models import Kpi, KpiScore, ObjectiveScore, PerspectiveScore, ScorecardScore

NAME = "dashboard"
TARGET = 5  # the page may cost at most 5x the bare JSON of its rows (DESIGN.md section 9, issue 16)
UNITS = 1_000
KPIS_PER_UNIT = 2
WARMUP = 2
ROUNDS = 15
MIN_ROUNDS = 5
TIME_BUDGET_S = 30
SLUG = "bench-dashboard"
STATUSES = ("green", "amber", "red", "grey")


def _status(score: Decimal) -> str:
    return "green" if score >= Decimal("0.9") else "amber" if score >= Decimal("0.6") else "red"


def _make_organization() -> tuple[Organization, User]:
    """1,000 units in bulk inserts (ids from the table's sequence, so paths are known up front), each with its
    scorecard, the four classic perspectives, an objective, two KPIs and stored scores."""
    organization, admin = organization_with_admin(
        slug=SLUG, name="Bench Dashboard Inc.", email="bench-dash@example.com"
    )
    units, scorecards = unit_tree(organization, admin, UNITS)
    root = units[0]
    due = org_calendar.due_month(organization)
    months = [org_calendar.month_shift(due, -back) for back in range(12)]
    with organization_scope(organization):
        perspectives = list(Perspective.objects.for_organization(organization))
        customer = {p.scorecard_id: p for p in perspectives if p.name == "Customer"}
        objectives = Objective.objects.bulk_create(
            [
                Objective(organization=organization, scorecard=scorecards[u.pk],
                          perspective=customer[scorecards[u.pk].pk], name=f"Delight customers {u.name}", owner=admin)
                for u in units
            ],
            batch_size=1000,
        )  # fmt: skip
        kpis = Kpi.objects.bulk_create(
            [
                Kpi(organization=organization, unit=u, objective=objectives[i], name=f"KPI {n} of {u.name}",
                    code=f"K{i:04d}-{n}", baseline=Decimal(0))
                for i, u in enumerate(units)
                for n in range(KPIS_PER_UNIT)
            ],
            batch_size=1000,
        )  # fmt: skip

        def score(seed: int, month: date) -> Decimal:
            return Decimal((seed * 37 + month.month * 11) % 100) / 100

        cards = []
        for i, u in enumerate(units):
            for month in months if u.pk == root.pk else months[:2]:
                s = score(i, month)
                cards.append(ScorecardScore(organization=organization, scorecard=scorecards[u.pk], period_kind="month",
                                            period=month, score=s, status=_status(s), coverage=Decimal("0.75")))  # fmt: skip
        ScorecardScore.objects.bulk_create(cards, batch_size=2000)
        PerspectiveScore.objects.bulk_create(
            [
                PerspectiveScore(organization=organization, perspective=p, period_kind="month", period=due,
                                 score=score(p.pk, due), status=_status(score(p.pk, due)), coverage=Decimal("1"))
                for p in perspectives
            ],
            batch_size=2000,
        )  # fmt: skip
        ObjectiveScore.objects.bulk_create(
            [
                ObjectiveScore(organization=organization, objective=o, period_kind="month", period=due,
                               score=score(o.pk, due), status=_status(score(o.pk, due)), coverage=Decimal("1"))
                for o in objectives
            ],
            batch_size=2000,
        )  # fmt: skip
        KpiScore.objects.bulk_create(
            [
                KpiScore(organization=organization, kpi=k, period_kind="month", period=month,
                         score=score(k.pk, month), status=_status(score(k.pk, month)), coverage=Decimal("1"))
                for k in kpis
                for month in months[:2]
            ],
            batch_size=2000,
        )  # fmt: skip
    with connection.cursor() as cursor:
        # Statistics, as autovacuum gathers them soon after such inserts in production: without them the planner
        # guesses row counts of the freshly filled tables and joins the units' paths in nested loops.
        cursor.execute("ANALYZE")
    return organization, admin


def heat_map_json(request, organization: Organization) -> JsonResponse:
    """The baseline: a bare view returning the same rows as JSON (each unit with its scorecard score, and each
    perspective score of the month)."""
    due = org_calendar.due_month(organization)
    with organization_scope(organization):
        units = list(OrgUnit.objects.for_organization(organization).values("id", "name", "depth", "parent_id"))
        cards = list(
            ScorecardScore.objects.for_organization(organization)
            .filter(period_kind="month", period=due)
            .values("scorecard__unit_id", "score", "status", "coverage")
        )
        cells = list(
            PerspectiveScore.objects.for_organization(organization)
            .filter(period_kind="month", period=due)
            .values("perspective__scorecard__unit_id", "perspective__name", "score", "status", "coverage")
        )
    return JsonResponse({"units": units, "cards": cards, "cells": cells})


def run() -> dict:
    organization, admin = _make_organization()
    client = admin_client(admin)
    measured = page_get(client, reverse("dashboard", args=[organization.slug]))
    baseline = bare_view(heat_map_json, "/heat-map.json", admin, organization)

    page, data = measured(), baseline()
    html = page.content.decode()
    # The page's heat map holds the top unit and its children; every deeper row loads when its parent is unfolded.
    assert html.count("<tr data-unit=") == 4 and html.count('class="heat heat-') == 4 * 5, "a heat-map row is missing"
    assert "values due" in html and "Biggest movers" in html
    baseline_s, measured_s = interleaved_medians(
        baseline, measured, warmup=WARMUP, rounds=ROUNDS, min_rounds=MIN_ROUNDS, budget_s=TIME_BUDGET_S
    )
    top = OrgUnit.objects.for_organization(organization).get(parent__isnull=True)
    child = OrgUnit.objects.for_organization(organization).filter(parent=top).order_by("path").first()
    rows_url = reverse("dashboard_rows", args=[organization.slug, top.pk, child.pk])

    def unfold():
        response = client.get(rows_url)
        assert response.status_code == 200 and response.content.count(b"<tr data-unit=") == 3
        return response

    rows_baseline_s, rows_s = interleaved_medians(baseline, unfold, warmup=1, rounds=7, min_rounds=3, budget_s=10)
    likely_url = reverse("dashboard_likely", args=[organization.slug, top.pk])

    def likely():  # the panel the page loads after it: forecasts of every KPI
        response = client.get(likely_url, headers={"HX-Request": "true"})
        assert response.status_code == 200, response.status_code
        return response

    likely_baseline_s, likely_s = interleaved_medians(baseline, likely, warmup=1, rounds=7, min_rounds=3, budget_s=10)
    with CaptureQueriesContext(connection) as page_queries:
        measured()
    with CaptureQueriesContext(connection) as baseline_queries:
        baseline()
    return {
        "baseline_s": baseline_s,
        "measured_s": measured_s,
        "figures": {
            "units": OrgUnit.objects.for_organization(organization).count(),
            "kpis": Kpi.objects.for_organization(organization).count(),
            "queries": len(page_queries),
            "unfold_ratio": round(rows_s / rows_baseline_s, 2),
            "unfold_ms": round(rows_s * 1000, 1),
            "likely_panel_ratio": round(likely_s / likely_baseline_s, 2),
            "likely_panel_ms": round(likely_s * 1000, 1),
            "most_repeated_query": Counter(q["sql"] for q in page_queries.captured_queries).most_common(1)[0][1],
            "baseline_queries": len(baseline_queries),
            "html_kb": round(len(page.content) / 1024, 1),
            "json_kb": round(len(data.content) / 1024, 1),
        },
    }
