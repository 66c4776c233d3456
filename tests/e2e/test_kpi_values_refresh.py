"""The KPI page's values table after a recompute, in a real browser: it reloads itself with the new actual
once the "Recomputing…" badge goes, but not while a recalibration is being typed in it (which would be lost)."""

from decimal import Decimal
from unittest import mock

import pytest
from playwright.sync_api import expect

from bsc.tenancy import organization_scope
from kpis import outbox, services
from tests.conftest import log_in
from tests.recompute_world import MONTHS, make_rollups

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
MARCH = MONTHS[-1]


@pytest.fixture
def rollups(world):
    rollups = make_rollups(world)
    with organization_scope(world.org_a):
        outbox.scores_rebuild(organization=world.org_a)
    return rollups


def change_march_speed(world, rollups, value: int) -> None:
    """A new value of the department's KPI, whose recompute waits (no worker runs it yet)."""
    with organization_scope(world.org_a), mock.patch("kpis.tasks.scores_recompute.delay"):
        measurement = rollups.speed.measurements.get(period=MARCH)
        services.measurement_record(
            kpi=rollups.speed,
            period=MARCH,
            value=Decimal(value),
            by=world.admin_a,
            expected_version=measurement.version,
        )


def recompute_pending(world) -> None:
    with organization_scope(world.org_a):
        outbox.scores_recompute_pending(organization=world.org_a)  # what the worker does


def test_the_values_table_reloads_itself_when_the_recompute_is_done(page, world, rollups):
    change_march_speed(world, rollups, 150)
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/kpis/{rollups.company_total.pk}/?until=2026-03")
    march = page.locator("table.kpi-values tbody tr", has_text="Mar 2026")
    expect(page.locator("#values-heading #recomputing")).to_be_visible()
    expect(march.locator("td.num").first).to_have_text("115.0")  # 95 + 20, the stored roll-up
    recompute_pending(world)
    expect(page.locator("#values-heading #recomputing")).to_have_count(0, timeout=10_000)
    expect(march.locator("td.num").first).to_have_text("170.0")  # 150 + 20, without a reload


def test_the_values_table_waits_while_a_recalibration_is_typed(page, world, rollups):
    change_march_speed(world, rollups, 150)
    log_in(page, world.admin_a.email)
    page.goto(f"/o/acme/kpis/{rollups.company_total.pk}/?until=2026-03")
    march = page.locator("table.kpi-values tbody tr", has_text="Mar 2026")
    expect(page.locator("#values-heading #recomputing")).to_be_visible()
    march.locator("summary", has_text="Recalibrate").click()
    march.get_by_label("Reason").fill("The market moved")
    recompute_pending(world)
    expect(page.locator("#values-heading #recomputing")).to_have_count(0, timeout=10_000)
    page.wait_for_timeout(500)  # time for a reload that must not come
    expect(march.locator("td.num").first).to_have_text("115.0")
    expect(march.get_by_label("Reason")).to_have_value("The market moved")  # the typing is kept
    page.reload()
    expect(march.locator("td.num").first).to_have_text("170.0")
