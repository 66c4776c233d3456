"""A score being recomputed in a real browser: right after a change the company's scorecard (and the cascade)
say "Recomputing…" instead of passing the old numbers off as fresh; once the recompute is done the badge
goes and the new score appears without a reload."""

from decimal import Decimal
from unittest import mock

import pytest
from playwright.sync_api import expect

from bsc.tenancy import organization_scope
from kpis import outbox, services
from kpis.models import KpiScore
from tests.conftest import log_in, screenshot
from tests.recompute_world import MONTHS, make_rollups

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
MARCH = MONTHS[-1]


def test_the_scorecard_says_recomputing_until_the_new_score_is_in(page, world):
    rollups = make_rollups(world)
    with organization_scope(world.org_a):
        outbox.scores_rebuild(organization=world.org_a)
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/scorecards/{world.company_a.pk}/?period=2026-03")
    total = page.locator("#scorecard-total")
    before = total.locator(".total-score").inner_text()
    expect(page.get_by_text("Recomputing…")).to_have_count(0)

    with organization_scope(world.org_a), mock.patch("kpis.tasks.scores_recompute.delay"):  # no worker runs it yet
        measurement = rollups.speed.measurements.get(period=MARCH)
        services.measurement_record(
            kpi=rollups.speed, period=MARCH, value=Decimal(150), by=world.admin_a, expected_version=measurement.version
        )
    page.reload()
    badge = total.locator("#recomputing")
    expect(badge).to_have_text(
        "Recomputing…: the scores shown may be out of date; they refresh by themselves in a moment."
    )
    expect(badge).to_have_attribute(
        "title", "A recent change is being worked into these scores; they refresh by themselves in a moment."
    )
    expect(total.locator(".total-score")).to_have_text(before)  # the stored score, shown as not yet fresh
    screenshot(page, "scorecard_recomputing")
    page.goto("/o/acme/scorecards/cascade/?period=2026-03")
    expect(page.locator(".recomputing-note #recomputing")).to_be_visible()
    expect(page.locator(".cascade-row .badge-mark")).to_have_count(3)  # company, division, department
    screenshot(page, "cascade_recomputing")
    page.goto("/o/acme/scorecards/?period=2026-03")
    expect(page.locator(".scorecard-index .badge-mark")).to_have_count(3)
    screenshot(page, "scorecard_index_recomputing")
    page.goto(f"/o/acme/kpis/{rollups.company_total.pk}/?until=2026-03")
    expect(page.locator("#values-heading #recomputing")).to_be_visible()
    screenshot(page, "kpi_recomputing")
    page.goto(f"/o/acme/map/{world.division_a.pk}/")
    expect(page.locator("h1 #recomputing")).to_be_visible()
    screenshot(page, "strategy_map_recomputing")
    page.goto(f"/o/acme/scorecards/{world.company_a.pk}/?period=2026-03")

    with organization_scope(world.org_a):
        outbox.scores_recompute_pending(organization=world.org_a)  # what the worker does
        company = KpiScore.objects.get(kpi=rollups.company_total, period_kind="month", period=MARCH)
    assert company.actual == Decimal(150 + 20)
    expect(badge).to_have_count(0, timeout=10_000)  # the next poll finds nothing waiting
    expect(total.locator(".total-score")).not_to_have_text(before)
    row = page.locator("tr.kpi-row").filter(has=page.locator(".kpi-code", has_text="CO"))
    expect(row).to_contain_text("170")  # the company's roll-up KPI, reloaded with the region
    screenshot(page, "scorecard_recomputed")

    page.goto("/o/acme/scorecards/cascade/?period=2026-03")
    expect(page.get_by_text("Recomputing…")).to_have_count(0)
