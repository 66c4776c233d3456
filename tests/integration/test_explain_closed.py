"""The explainer of a closed month (kpis/explain.py, docs/scoring.md): the stored score stays as it was reviewed while
the KPI's definition may change afterwards; the explanation then says so plainly (who closed the month and when, the
score reviewed, that the definition changed since and what today's calculation gives) instead of "a change is still
being worked in". And while values need approval, the explanation reads approved values only, as the scores do."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape as html_escape

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from bsc import services as bsc_services
from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import explain, period_close, services
from kpis.models import Kpi
from kpis.recompute import scores_recompute_full
from tests import factories

pytestmark = pytest.mark.dates

SEP, OCT = date(2026, 9, 1), date(2026, 10, 1)
CLOSED = "Oct 2026 was closed for Operations (closed by Eve Exec on 18 Nov 2026)"
AS_REVIEWED = (
    f"{CLOSED}. The score shown is the one reviewed then, 50% (Off track), and it stays as it was while the month is "
    "closed. The definition has changed since (the KPI's baseline, band or thresholds, or what a roll-up or formula "
    "is made from). The steps below are today's calculation, which gives 66.6% (At risk); an admin who "
    "reopens the month brings the score up to date."
)


@pytest.fixture(autouse=True)
def _on_18_november_2026(pinned_clock):
    """Written for 18 Nov 2026 (September and October are over; October is closed that day)."""
    pinned_clock.move_to(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))


@pytest.fixture
def eve(world):
    return factories.add_member(
        world.org_a, Role.EXECUTIVE, user=factories.make_user("eve@acme.test", full_name="Eve Exec")
    ).user


@pytest.fixture
def otd(world, as_committed):
    """Assembly's OTD (baseline 80, target 100): September 95, October 90 (50%), scored."""
    with organization_scope(world.org_a), as_committed():
        kpi = services.kpi_create(unit=world.department_a, name="On-time delivery", code="OTD", baseline=Decimal(80))
        for month, value in ((SEP, 95), (OCT, 90)):
            services.target_create(kpi=kpi, period=month, value=Decimal(100))
            services.measurement_record(kpi=kpi, period=month, value=Decimal(value), by=world.admin_a, schedule=False)
    scores_recompute_full(organization=world.org_a)
    return kpi


def explained(world, kpi, period=OCT):
    with organization_scope(world.org_a):
        return explain.explain(organization=world.org_a, level="kpi", id=kpi.pk, kind="month", period=period)


def close_october_then_lower_the_baseline(world, otd, eve):
    with organization_scope(world.org_a):
        period_close.period_close(unit=world.division_a, month=OCT, by=eve)
        services.kpi_update(kpi=Kpi.objects.get(pk=otd.pk), baseline=Decimal(70))  # October would be 20 / 30 = 67%
    scores_recompute_full(organization=world.org_a)


def test_a_closed_month_whose_definition_is_unchanged_is_explained_as_it_was_reviewed(world, otd, eve):
    with organization_scope(world.org_a):
        period_close.period_close(unit=world.division_a, month=OCT, by=eve)
    x = explained(world, otd)
    assert (x.score, x.matches, x.note, x.closed) == (Decimal("0.5000"), True, "", CLOSED)
    assert explained(world, otd, SEP).closed == ""  # September is open


def test_a_definition_changed_after_the_close_is_said_plainly_with_the_score_reviewed(world, otd, eve):
    close_october_then_lower_the_baseline(world, otd, eve)
    x = explained(world, otd)
    assert (x.stored["score"], x.score, x.matches) == (Decimal("0.5000"), Decimal("0.6667"), False)
    assert (x.closed, x.note) == (CLOSED, AS_REVIEWED)
    september = explained(world, otd, SEP)  # open: rescored with the new baseline, nothing to say
    assert (september.score, september.matches, september.closed) == (Decimal("0.8333"), True, "")


def test_the_page_and_the_api_show_the_score_as_reviewed(world, otd, eve):
    close_october_then_lower_the_baseline(world, otd, eve)
    client = Client()
    client.force_login(world.viewer_a)
    page = client.get(reverse("score_explain", args=["acme"]), {"level": "kpi", "id": otd.pk, "period": "2026-10"})
    html = page.content.decode()
    assert 'Score as reviewed <strong class="explain-score">50%</strong>' in html
    assert html_escape(AS_REVIEWED) in html
    api = APIClient()
    api.force_login(world.viewer_a)
    body = api.get("/api/v1/o/acme/scores/explain/", {"level": "kpi", "id": otd.pk, "period": "2026-10"}).json()
    assert (body["score"], body["stored"]["score"], body["matches"]) == ("0.6667", "0.5000", False)
    assert (body["closed"], body["note"]) == (CLOSED, AS_REVIEWED)


def test_while_values_need_approval_the_explanation_reads_approved_values_only(world, otd, as_committed):
    head = factories.hugo_head(world)  # head of Operations, above Assembly
    with organization_scope(world.org_a), as_committed():
        bsc_services.organization_update(organization=world.org_a, values_need_approval=True)
        services.measurement_record(
            kpi=Kpi.objects.get(pk=otd.pk), period=SEP, value=Decimal(99), by=head, expected_version=1
        )  # submitted: not in the score until approved
    scores_recompute_full(organization=world.org_a)
    x = explained(world, otd, SEP)
    assert x.matches, x.note
    assert (x.actual, x.stored["actual"]) == (None, None)
