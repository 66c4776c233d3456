"""'Why this score?' in a real browser: a viewer opens a KPI's and an objective's calculation in place on the
scorecard page with the keyboard, reads the steps, follows a child to its own calculation, and opens a month's
calculation on the KPI page; on a desktop and on a phone."""

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in, screenshot
from tests.explain_world import make_explain_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def scored(world):
    return make_explain_world(world)


def open_explanation(page, row_text: str, rows: str = "tr.kpi-row, tr.objective-row"):
    """Press the row's 'Why this score?' with the keyboard; the panel opens under the row."""
    row = page.locator(rows).filter(has=page.locator("th", has_text=row_text)).first
    button = row.get_by_role("button", name="Why this score?")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    panel = page.locator(f"#{button.get_attribute('aria-controls')}")
    expect(panel).to_be_visible()
    expect(panel.locator(".explanation")).to_be_visible()
    return button, panel


def test_a_viewer_opens_why_this_score_on_the_scorecard_and_follows_a_child(world, scored, page):
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/scorecards/{world.department_a.pk}/?kind=quarter&period=2026-01")
    button, panel = open_explanation(page, "SUMK name")
    steps = panel.locator(".explain-steps li")
    expect(steps.first).to_have_text(
        "Actual for Q1 2026 = the total of the 2 of its 3 months with a value: 30.0 + 45.0 = 75.0."
    )
    expect(steps.nth(2)).to_have_text(
        "Progress = (actual − baseline) / (target − baseline) = (75.0 − 0.0) / (120.0 − 0.0) = 62.5%."
    )
    expect(panel.locator(".explain-months tbody tr")).to_have_count(3)
    screenshot(page, "explain_scorecard_kpi_1280")

    # the objective: its KPIs with their renormalised shares, then one of them opened in place
    _, objective = open_explanation(page, "Assemble well")
    expect(objective.locator(".explain-children tbody tr")).to_have_count(5)
    expect(objective.locator("[data-step=coverage]")).to_contain_text("Coverage = weight with data / total weight")
    screenshot(page, "explain_scorecard_objective_1280")
    objective.get_by_role("link", name="SPD · SPD").click()
    expect(objective.locator(".explain-title")).to_contain_text("SPD · SPD")
    expect(objective.locator("[data-step=window]").first).to_contain_text("Actual for Q1 2026 = the average of")

    # closing hides the panel again
    button.focus()
    page.keyboard.press("Enter")
    expect(panel).to_be_hidden()


def test_a_viewer_opens_a_months_calculation_on_the_kpi_page(world, scored, page):
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/kpis/{scored.weighted.pk}/?until=2026-03")
    _, panel = open_explanation(page, "Mar 2026", rows=".kpi-values tbody tr")
    expect(panel.locator("[data-step=rollup]")).to_have_text(
        "Actual = the weighted average of the 1 aligned KPI of sub-units with a value: (3 × 90.0) / (3) = 90.0. "
        "1 without a value is left out."
    )
    expect(panel.locator(".explain-children tbody tr.left-out")).to_contain_text("left out: no data")
    screenshot(page, "explain_kpi_page_1280")
    panel.get_by_role("link", name="MN · MN name").click()
    expect(panel.locator(".explain-title")).to_contain_text("MN · MN name")


def test_why_this_score_reads_on_a_phone(world, scored, open_page):
    page = open_page(viewport=PHONE)
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/scorecards/{world.company_a.pk}/?period=2026-01")
    button = page.locator("#scorecard-total").locator("xpath=..").get_by_role("button", name="Why this score?")
    button.click()
    panel = page.locator("#explain-" + button.get_attribute("aria-controls").removeprefix("explain-"))
    expect(panel.locator(".explain-children")).to_be_visible()
    _, objective = open_explanation(page, "Grow")
    expect(objective.locator("[data-step=left_out]")).to_contain_text("Left out for missing data: NONE · NONE name")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
    screenshot(page, "explain_scorecard_390")
