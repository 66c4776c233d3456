"""The cascade page in a real browser: a viewer opens the scorecards, follows the link to the cascade,
expands a unit and reads each unit's score; then opens a roll-up KPI and sees what drives its number."""

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in, screenshot
from tests.integration.test_cascade_pages import rolled_up  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_viewer_walks_down_the_cascade_to_a_rollups_drivers(page, world, rolled_up):  # noqa: F811
    log_in(page, world.viewer_a.email)
    page.goto("/o/acme/scorecards/?period=2026-03")
    page.get_by_role("link", name="cascade").click()
    expect(page.get_by_role("heading", name="Scorecard cascade")).to_be_visible()
    expect(page.locator("#period-label")).to_contain_text("Mar 2026")

    operations = page.locator(f'li[data-unit="{world.division_a.pk}"]')
    expect(operations.locator(".cascade-row").first).to_contain_text("40%")
    assessment = page.locator(f'li[data-unit="{world.department_a.pk}"] .cascade-row')
    expect(assessment).to_be_hidden()
    operations.locator("summary").first.click(position={"x": 6, "y": 12})  # the marker, not the link
    expect(assessment).to_contain_text("Assembly")
    expect(assessment).to_contain_text("80%")
    expect(assessment).to_contain_text("At risk")
    screenshot(page, "scorecard_cascade")

    page.goto(f"/o/acme/kpis/{rolled_up['top'].pk}/?until=2026-12")
    drivers = page.locator("#drivers")
    expect(drivers.get_by_role("heading", name="What drives this number")).to_be_visible()
    expect(drivers.get_by_role("row").nth(1)).to_contain_text("Operations")
    expect(drivers.get_by_role("row").nth(1)).to_contain_text("44%")
