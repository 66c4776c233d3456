"""Opening 'Why this score?' on the scorecard score of a unit with 100 KPIs and 24 months of values (the fragment
the page loads with htmx), against the scorecard page itself (issue 17: at most 1x). The stored scores come from
the real full recompute, so the explanation is the one a user would read."""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.pages import admin_client, page_get
from bench.timing import interleaved_medians
from bench.worlds import organization_with_admin, unit_with_kpis
from bsc.models import Scorecard
from bsc.tenancy import organization_scope
from kpis.models import Measurement, Target
from kpis.recompute import scores_recompute_full

NAME = "score_explain"
TARGET = 1
KPIS = 100
MONTHS = 24
SLUG = "bench-explain"


def _make_data():
    rng = random.Random(17)
    organization, admin = organization_with_admin(
        slug=SLUG, name="Bench Explain Inc.", email="bench-explain@example.com"
    )
    unit, kpis, months = unit_with_kpis(organization, KPIS, MONTHS)
    last = months[0]
    with organization_scope(organization):
        now = timezone.now()
        Measurement.objects.bulk_create(
            (Measurement(organization=organization, kpi=k, period=m, value=Decimal(rng.randint(40, 120)),
                         entered_by=admin, entered_at=now) for k in kpis for m in months),
            batch_size=2000,
        )  # fmt: skip
        Target.objects.bulk_create(
            (Target(organization=organization, kpi=k, period=m, value=Decimal(100)) for k in kpis for m in months),
            batch_size=2000,
        )
        scores_recompute_full(organization=organization)
        scorecard = Scorecard.objects.get(unit=unit)
    return organization, admin, unit, scorecard, last


def run() -> dict:
    organization, admin, unit, scorecard, last = _make_data()
    client = admin_client(admin)
    page_url = reverse("scorecard_detail", args=[organization.slug, unit.pk]) + f"?kind=month&period={last:%Y-%m}"
    explain_url = (
        reverse("score_explain", args=[organization.slug])
        + f"?level=scorecard&id={scorecard.pk}&kind=month&period={last:%Y-%m}"
    )
    page = page_get(client, page_url)
    explanation = page_get(client, explain_url, headers={"HX-Request": "true"})

    assert "Weights renormalised" in explanation().content.decode() or "Score = (" in explanation().content.decode()
    baseline_s, measured_s = interleaved_medians(page, explanation, warmup=3, rounds=25, min_rounds=5, budget_s=25)
    with CaptureQueriesContext(connection) as queries:
        explanation()
    return {
        "baseline_s": baseline_s,
        "measured_s": measured_s,
        "figures": {"kpis": KPIS, "months": MONTHS, "explain_queries": len(queries)},
    }
