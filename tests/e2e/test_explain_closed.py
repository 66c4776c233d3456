"""'Why this score?' of a closed month in a real browser: after October is closed and the KPI's baseline lowered, the
explanation heads the score as reviewed and says plainly that the definition changed since (desktop and phone)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc.tenancy import organization_scope
from kpis import period_close, services
from kpis.models import Kpi
from kpis.recompute import scores_recompute_full
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OCT = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _on_18_november_2026(pinned_clock):
    pinned_clock.move_to(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))


def test_the_explanation_of_a_closed_month_shows_the_score_as_reviewed(world, open_page):
    with organization_scope(world.org_a):
        otd = services.kpi_create(unit=world.department_a, name="On-time delivery", code="OTD", baseline=Decimal(80))
        services.target_create(kpi=otd, period=OCT, value=Decimal(100))
        services.measurement_record(kpi=otd, period=OCT, value=Decimal(90), by=world.admin_a, schedule=False)
    scores_recompute_full(organization=world.org_a)
    with organization_scope(world.org_a):
        period_close.period_close(unit=world.division_a, month=OCT, by=world.admin_a)
        services.kpi_update(kpi=Kpi.objects.get(pk=otd.pk), baseline=Decimal(70))
    scores_recompute_full(organization=world.org_a)

    address = f"/o/acme/scores/explain/?level=kpi&id={otd.pk}&kind=month&period=2026-10"
    for name, viewport in (("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})):
        page = open_page(viewport=viewport, **({"is_mobile": True, "has_touch": True} if name == "phone" else {}))
        log_in(page, world.viewer_a.email)
        page.goto(address)
        expect(page.locator(".explain-result")).to_contain_text("Score as reviewed 50%")
        expect(page.locator(".explain-note")).to_contain_text("Oct 2026 was closed for Operations (closed by")
        expect(page.locator(".explain-note")).to_contain_text("The definition has changed since")
        screenshot(page, f"explain-closed-{name}")
