"""The set-based recompute scores KPIs in SQL; hypothesis checks that it follows kpis.scoring (the contract,
with its worked-number unit tests) on random KPIs, and that PostgreSQL rounds half-even as Python does."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bsc.tenancy import organization_scope
from kpis import scoring, services
from kpis.models import KpiScore
from kpis.recompute import scores_recompute
from tests import factories

MONTH = date(2026, 3, 1)
_slugs = itertools.count(1)
amounts = st.decimals(min_value=-10_000, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)


@pytest.mark.django_db
@settings(max_examples=200, deadline=None)
@given(value=st.decimals(min_value=-1000, max_value=1000, places=8, allow_nan=False, allow_infinity=False))
def test_postgres_rounds_half_even_like_python(value):
    with connection.cursor() as cursor:
        cursor.execute("SELECT kpis_round_half_even(%s, 4), kpis_round_half_even(%s, 4)", [value, value / 2])
        rounded, halved = cursor.fetchone()
    assert rounded == value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
    assert halved == (value / 2).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


@pytest.mark.parametrize(("value", "expected"), [("0.12345", "0.1234"), ("0.12355", "0.1236"), ("-2.50005", "-2.5000")])
def test_exact_halves_round_to_the_even_digit(db, value, expected):
    with connection.cursor() as cursor:
        cursor.execute("SELECT kpis_round_half_even(%s, 4)", [Decimal(value)])
        assert cursor.fetchone()[0] == Decimal(expected)


@pytest.mark.parametrize(
    ("direction", "actual", "expected"),
    [("decrease", "0", (1, "green")), ("decrease", "1", (0, "red")), ("decrease", "-0.5", (1, "green")),
     ("increase", "0", (1, "green")), ("increase", "-1", (0, "red")), ("increase", "3", (1, "green"))],
)  # fmt: skip
def test_a_target_equal_to_the_baseline_is_scored_in_sql_by_the_kpis_direction(db, direction, actual, expected):
    organization = factories.make_organization("flat")
    with organization_scope(organization):
        kpi = services.kpi_create(
            unit=factories.root_unit(organization), name="Lost-time accidents", code="LTA", direction=direction,
            baseline=Decimal(0),
        )  # fmt: skip
        services.target_create(kpi=kpi, period=MONTH, value=Decimal(0))
        admin = organization.memberships.get().user
        services.measurement_record(kpi=kpi, period=MONTH, value=Decimal(actual), by=admin, schedule=False)
        scores_recompute(organization=organization, kpi_ids={kpi.pk}, months={MONTH})
        stored = KpiScore.objects.get(kpi=kpi, period_kind="month")
    python = scoring.kpi_progress(direction=direction, baseline=Decimal(0), target=Decimal(0), actual=Decimal(actual))
    assert (stored.progress, stored.score, stored.status) == (expected[0], expected[0], expected[1])
    assert stored.progress == python


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    direction=st.sampled_from(["increase", "decrease", "band"]),
    baseline=amounts,
    target=amounts,
    actual=amounts,
    band=st.tuples(amounts, amounts, st.decimals(min_value=0, max_value=500, places=2)),
    green=st.sampled_from([None, Decimal("0.95")]),
    flat=st.sampled_from([None, Decimal("-0.01"), Decimal(0), Decimal("0.01")]),
)
def test_stored_kpi_scores_follow_the_scoring_contract(direction, baseline, target, actual, band, green, flat):
    if flat is not None:  # the target equals the baseline ("zero accidents"): 1 when met in the KPI's direction
        target, actual = baseline, baseline + flat  # just below, at or just above the target
    low, high, tolerance = min(band[:2]), max(band[:2]), band[2]
    with transaction.atomic():
        organization = factories.make_organization(f"sql{next(_slugs)}")
        with organization_scope(organization):
            kpi = services.kpi_create(
                unit=factories.root_unit(organization), name="Random", code="R", direction=direction,
                baseline=baseline, band_low=low, band_high=high, band_tolerance=tolerance,
                green_threshold=green, amber_threshold=Decimal("0.5") if green else None,
            )  # fmt: skip
            services.target_create(kpi=kpi, period=MONTH, value=target)
            admin = organization.memberships.get().user
            services.measurement_record(kpi=kpi, period=MONTH, value=actual, by=admin, schedule=False)
            scores_recompute(organization=organization, kpi_ids={kpi.pk}, months={MONTH})
            stored = KpiScore.objects.for_organization(organization).get(kpi=kpi, period_kind="month")
        progress = scoring.kpi_progress(
            direction=direction, baseline=baseline, target=target, actual=actual,
            band_low=low, band_high=high, band_tolerance=tolerance,
        )  # fmt: skip
        progress = max(min(progress, Decimal(99999999)), Decimal(-99999999))
        score = scoring.kpi_score(progress)
        assert (stored.actual, stored.target) == (actual, target)
        assert (stored.progress, stored.score) == (progress, score)
        assert stored.status == scoring.status_of(
            score,
            green=green or organization.green_threshold,
            amber=Decimal("0.5") if green else organization.amber_threshold,
        )
        assert stored.coverage == 1
        transaction.set_rollback(True)
