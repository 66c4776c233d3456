"""The report of KPIs to review: no data for three periods, or not linked to any objective."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from bsc import strategy
from bsc.models import Perspective
from bsc.org_calendar import month_shift
from bsc.tenancy import organization_scope
from kpis import services

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates


def test_it_lists_kpis_without_recent_data_or_objective_with_the_reasons(world, client):
    today = timezone.localdate()
    last_month = month_shift(date(today.year, today.month, 1), -1)
    with organization_scope(world.org_a):
        band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        objective = strategy.objective_create(perspective=band, name="Delight customers")
        fresh = services.kpi_create(unit=world.company_a, name="Fresh", code="FRESH", baseline=0, objective=objective)
        services.measurement_record(kpi=fresh, period=last_month, value=Decimal(1), by=world.admin_a, schedule=False)
        stale = services.kpi_create(unit=world.company_a, name="Stale", code="STALE", baseline=0, objective=objective)
        services.measurement_record(
            kpi=stale, period=month_shift(last_month, -5), value=Decimal(1), by=world.admin_a, schedule=False
        )
        orphan = services.kpi_create(unit=world.company_a, name="Orphan", code="ORPHAN", baseline=0)
        services.measurement_record(kpi=orphan, period=last_month, value=Decimal(1), by=world.admin_a, schedule=False)
        services.kpi_create(unit=world.company_a, name="Never", code="NEVER", baseline=0)
    client.force_login(world.viewer_a)
    response = client.get("/o/acme/kpis/review/")
    assert response.status_code == 200
    rows = [(row["kpi"].code, row["reasons"], row["last_period"]) for row in response.context["rows"]]
    assert rows == [
        ("NEVER", ["no data for its last three periods", "not linked to any objective"], None),
        ("ORPHAN", ["not linked to any objective"], last_month),
        ("STALE", ["no data for its last three periods"], month_shift(last_month, -5)),
    ]
    assert "No data for its last three periods; not linked to any objective" in response.content.decode()


def test_another_organization_cannot_see_the_report(world, client):
    client.force_login(world.member_b)
    assert client.get("/o/acme/kpis/review/").status_code == 404


def test_the_kpi_list_links_to_the_review_report(world, client):
    client.force_login(world.viewer_a)
    assert 'href="/o/acme/kpis/review/"' in client.get("/o/acme/kpis/").content.decode()
