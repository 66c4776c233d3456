"""The evidence of a map's cause-effect links stored by the Celery task after scores change (kpis/link_evidence.py):
from the objectives' stored monthly scores, idempotent, published after a recompute that wrote scores; the table
page per map and the API, scoped to the organization. Fixed day: 18 Nov 2026 (the 24 months end in Oct 2026)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from rest_framework.test import APIClient

from bsc import strategy
from bsc.models import Perspective
from bsc.org_calendar import month_shift
from bsc.tenancy import organization_scope
from kpis import services, tasks
from kpis.models import LinkEvidence, ObjectiveScore
from tests.unit.test_link_evidence import CAUSE

MONTHS = [month_shift(date(2024, 11, 1), i) for i in range(24)]


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def linked(world):
    """Company map: Skills -> Margin (Margin's score follows Skills' one month later) and Rework -> Margin (Rework
    has no scores)."""
    with organization_scope(world.org_a):

        def objective(band, name):
            perspective = Perspective.objects.get(scorecard__unit=world.company_a, name=band)
            return strategy.objective_create(perspective=perspective, name=name)

        skills, rework = objective("Learning & Growth", "Skills"), objective("Internal Process", "Rework")
        margin = objective("Financial", "Margin")
        strong = strategy.link_create(source=skills, target=margin)
        empty = strategy.link_create(source=rework, target=margin)
        rows = [(skills, month, value) for month, value in zip(MONTHS, CAUSE[1:], strict=True)]
        rows += [(margin, month, 0.3 + 0.5 * value) for month, value in zip(MONTHS, CAUSE[:-1], strict=True)]
        ObjectiveScore.objects.bulk_create(
            ObjectiveScore(
                organization=world.org_a,
                objective=objective_,
                period_kind="month",
                period=month,
                score=Decimal(f"{value:.4f}"),
                status="green",
            )  # fmt: skip
            for objective_, month, value in rows
        )
        yield world, strong, empty


def test_the_task_stores_each_links_evidence(linked):
    world, strong, empty = linked
    assert tasks.link_evidence_refresh(organization_id=world.org_a.pk) == 2
    with organization_scope(world.org_a):
        found = LinkEvidence.objects.get(link=strong)
        assert (found.best_lag, found.rho, found.pairs, found.window_end) == (
            1,
            Decimal("1.0000"),
            22,
            date(2026, 10, 1),
        )
        assert [(entry["lag"], entry["pairs"]) for entry in found.lags] == [(0, 23), (1, 22), (2, 21), (3, 20)]
        none = LinkEvidence.objects.get(link=empty)
        assert (none.best_lag, none.rho, none.pairs) == (None, None, 0)
        assert tasks.link_evidence_refresh(organization_id=world.org_a.pk) == 2  # again: the same rows
        assert LinkEvidence.objects.count() == 2
        assert LinkEvidence.objects.get(link=strong).rho == Decimal("1.0000")


def test_a_recompute_that_wrote_scores_publishes_the_evidence_task(world):
    with organization_scope(world.org_a):
        kpi = services.kpi_create(unit=world.company_a, name="Sales", code="SAL", baseline=Decimal(0))
        services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=Decimal(10), by=world.admin_a)
    with (
        mock.patch("kpis.tasks.scores_recompute.delay"),
        mock.patch("kpis.tasks.link_evidence_refresh.delay") as refresh,
    ):
        with organization_scope(world.org_a):
            services.measurement_record(kpi=kpi, period=date(2026, 10, 1), value=Decimal(8), by=world.admin_a)
        assert tasks.scores_recompute(organization_id=world.org_a.pk) > 0
        refresh.assert_called_once_with(organization_id=world.org_a.pk)
        refresh.reset_mock()
        assert tasks.scores_recompute(organization_id=world.org_a.pk) == 0  # nothing left: nothing to publish
        refresh.assert_not_called()


def test_the_table_reads_the_stored_evidence_with_its_caution(linked, client):
    world, strong, empty = linked
    client.force_login(world.viewer_a)
    page = client.get(f"/o/acme/map/{world.company_a.pk}/evidence/").content.decode()
    assert "Not computed yet: the evidence is computed after the scores next change (and every night)." in page
    tasks.link_evidence_refresh(organization_id=world.org_a.pk)
    page = client.get(f"/o/acme/map/{world.company_a.pk}/evidence/").content.decode()
    assert "Strong: the effect moved with the cause 1 month later (rho +1.00, 22 paired months)." in page
    assert "No data to compare: the two objectives have 0 paired monthly changes at most" in page
    assert "Correlation is not proof of cause" in page
    client.force_login(world.member_b)
    assert client.get(f"/o/acme/map/{world.company_a.pk}/evidence/").status_code == 404


def test_the_api_answers_a_links_evidence_and_404_for_another_organization(linked):
    world, strong, empty = linked
    tasks.link_evidence_refresh(organization_id=world.org_a.pk)
    client = APIClient()
    client.force_login(world.viewer_a)
    body = client.get(f"/api/v1/o/acme/links/{strong.pk}/evidence/").json()
    assert {key: body[key] for key in ("computed", "best_lag", "rho", "pairs", "strength", "window_end")} == {
        "computed": True, "best_lag": 1, "rho": "1.0000", "pairs": 22, "strength": "strong", "window_end": "2026-10",
    }  # fmt: skip
    assert body["source"] == {"id": strong.source_id, "name": "Skills"}
    none = client.get(f"/api/v1/o/acme/links/{empty.pk}/evidence/").json()
    assert (none["strength"], none["rho"], none["best_lag"]) == ("none", None, None)
    assert none["summary"].startswith("No data to compare")
    client.force_login(world.member_b)
    assert client.get(f"/api/v1/o/acme/links/{strong.pk}/evidence/").status_code == 404


def test_the_api_answers_the_evidence_of_every_link_of_a_map(linked):
    world, strong, empty = linked
    tasks.link_evidence_refresh(organization_id=world.org_a.pk)
    client = APIClient()
    client.force_login(world.viewer_a)
    body = client.get(f"/api/v1/o/acme/links/evidence/?unit={world.company_a.pk}").json()
    assert body["unit"] == {"id": world.company_a.pk, "name": "Acme Manufacturing"}
    one = client.get(f"/api/v1/o/acme/links/{strong.pk}/evidence/").json()
    by_link = {entry["link"]: entry for entry in body["links"]}
    assert set(by_link) == {strong.pk, empty.pk} and by_link[strong.pk] == one  # as the one-link route answers it
    assert by_link[empty.pk]["strength"] == "none"
    division = client.get(f"/api/v1/o/acme/links/evidence/?unit={world.division_a.pk}").json()
    assert division["links"] == []  # a map without arrows
    missing = client.get("/api/v1/o/acme/links/evidence/")
    assert missing.status_code == 400
    assert missing.json() == {"unit": ["Name the unit whose map's evidence you want: ?unit=<id>."]}
    assert client.get("/api/v1/o/acme/links/evidence/?unit=abc").status_code == 400
    client.force_login(world.member_b)
    assert client.get(f"/api/v1/o/acme/links/evidence/?unit={world.company_a.pk}").status_code == 404
    assert client.get(f"/api/v1/o/globex/links/evidence/?unit={world.company_a.pk}").status_code == 404


def test_the_refresh_reads_the_same_number_of_queries_whatever_the_number_of_links(linked):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kpis.link_evidence import link_evidence_refresh

    world, strong, empty = linked
    with organization_scope(world.org_a):
        with CaptureQueriesContext(connection) as few:
            link_evidence_refresh(organization=world.org_a)
        perspective = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        margin = strong.target
        for n in range(4):
            source = strategy.objective_create(perspective=perspective, name=f"Driver {n}")
            strategy.link_create(source=source, target=margin)
        with CaptureQueriesContext(connection) as many:
            assert link_evidence_refresh(organization=world.org_a) == 6
    assert len(many) == len(few)
