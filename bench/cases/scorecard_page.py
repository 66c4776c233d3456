"""The scorecard page of a unit with 100 KPIs and 24 months of values, scores and targets, through the
full middleware stack, against a bare view returning the same rows (KPIs with their 12 recent months of
actuals, targets and scores) as JSON."""

from __future__ import annotations

import json
import random
from decimal import Decimal

from django.db import connection
from django.http import JsonResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.pages import admin_client, page_get
from bench.timing import interleaved_medians
from bench.worlds import organization_with_admin, unit_with_kpis
from bsc.org_calendar import month_shift
from bsc.tenancy import organization_scope
from kpis.models import KpiScore, Measurement, Target

NAME = "scorecard_page"
TARGET = 5  # DESIGN.md section 9 (the product's goal; issue 20), query count constant
KPIS = 100
MONTHS = 24
WARMUP = 3
ROUNDS = 25
MIN_ROUNDS = 5
TIME_BUDGET_S = 25
SLUG = "bench-scorecard"


def _make_data():
    rng = random.Random(7)
    organization, admin = organization_with_admin(slug=SLUG, name="Bench Scorecard Inc.", email="bench-sc@example.com")
    unit, kpis, months = unit_with_kpis(organization, KPIS, MONTHS)
    last = months[0]
    with organization_scope(organization):
        now = timezone.now()
        measurements, targets, scores = [], [], []
        for kpi in kpis:
            for month in months:
                actual = Decimal(rng.randint(40, 120))
                score = min(actual / 100, Decimal(1))
                status = "green" if score >= Decimal("0.9") else "amber" if score >= Decimal("0.6") else "red"
                measurements.append(
                    Measurement(
                        organization=organization, kpi=kpi, period=month, value=actual, entered_by=admin, entered_at=now
                    )
                )
                targets.append(Target(organization=organization, kpi=kpi, period=month, value=Decimal(100)))
                scores.append(
                    KpiScore(
                        organization=organization,
                        kpi=kpi,
                        period_kind="month",
                        period=month,
                        actual=actual,
                        target=Decimal(100),
                        progress=actual / 100,
                        score=score,
                        status=status,
                        coverage=Decimal(1),
                    )  # fmt: skip
                )
        Measurement.objects.bulk_create(measurements, batch_size=2000)
        Target.objects.bulk_create(targets, batch_size=2000)
        KpiScore.objects.bulk_create(scores, batch_size=2000)
    return organization, admin, unit, last


def rows_json(organization, unit, last) -> JsonResponse:
    """The baseline: the same rows as JSON, straight from the database."""
    first = month_shift(last, -11)
    rows = list(
        KpiScore.objects.for_organization(organization)
        .filter(kpi__unit=unit, period_kind="month", period__gte=first, period__lte=last)
        .values("kpi_id", "kpi__code", "kpi__name", "period", "actual", "target", "score", "status")
    )
    return JsonResponse({"rows": rows})


def run() -> dict:
    organization, admin, unit, last = _make_data()
    url = reverse("scorecard_detail", args=[organization.slug, unit.pk]) + f"?kind=month&period={last:%Y-%m}"
    measured = page_get(admin_client(admin), url)

    def baseline():
        with organization_scope(organization):
            return rows_json(organization, unit, last)

    page, data = measured(), baseline()
    assert "K099" in page.content.decode(), "the page does not list every KPI"
    baseline_s, measured_s = interleaved_medians(
        baseline, measured, warmup=WARMUP, rounds=ROUNDS, min_rounds=MIN_ROUNDS, budget_s=TIME_BUDGET_S
    )
    with CaptureQueriesContext(connection) as page_queries:
        measured()
    return {
        "baseline_s": baseline_s,
        "measured_s": measured_s,
        "figures": {
            "kpis": KPIS,
            "months": MONTHS,
            "json_rows": len(json.loads(data.content)["rows"]),
            "queries": len(page_queries),
            "html_kb": round(len(page.content) / 1024, 1),
            "json_kb": round(len(data.content) / 1024, 1),
        },
    }
