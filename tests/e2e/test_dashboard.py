"""An executive's dashboard in a real browser: they land on it after log-in, read the score and its trend, fold the
heat map's tree with the keyboard, switch to the quarter, and follow a red cell to that unit's scorecard; at
1280x800 and 390x844 (the heat map scrolls inside its box, the page never sideways)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc import org_calendar
from bsc.models import Role
from bsc.tenancy import organization_scope
from tests import factories
from tests.conftest import log_in, screenshot
from tests.integration.test_dashboard import store_card, store_perspective

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]
D = Decimal


@pytest.fixture
def executive(world):
    due = org_calendar.due_month(world.org_a)
    fiscal_start = world.org_a.fiscal_year_start_month
    quarter = org_calendar.window_start("quarter", due, fiscal_start)
    teams = [factories.make_unit(world.org_a, name, parent=world.department_a) for name in ("Line 1", "Line 2")]
    with organization_scope(world.org_a):
        for back in range(12):  # the company's monthly trend, sliding from green into amber
            score = D(80 + back * 3 // 2) / 100
            store_card(world.company_a, "month", org_calendar.month_shift(due, -back), score,
                       "green" if score >= D("0.9") else "amber", "0.9")  # fmt: skip
        store_card(world.division_a, "month", due, D("0.5200"), "red", "0.75")
        store_card(world.division_a, "month", org_calendar.month_shift(due, -1), D("0.7000"), "amber")
        store_card(world.department_a, "month", due, D("0.9300"), "green")
        store_card(teams[0], "month", due, D("0.6500"), "amber", "0.5")
        for unit, scores in (
            (world.company_a, ("0.9100", "0.8000", "0.6000", "0.9500")),
            (world.division_a, ("0.4500", "0.7000", "0.3000", None)),
            (world.department_a, ("0.9300", "0.9600", "0.9000", "0.9100")),
            (teams[0], ("0.6500", None, "0.7500", None)),
        ):
            for name, score in zip(
                ("Financial", "Customer", "Internal Process", "Learning & Growth"), scores, strict=True
            ):
                if score is not None:
                    status = "green" if D(score) >= D("0.9") else "amber" if D(score) >= D("0.6") else "red"
                    store_perspective(unit, name, "month", due, D(score), status)
        store_card(world.company_a, "quarter", quarter, D("0.8200"), "amber")
        store_card(world.division_a, "quarter", quarter, D("0.5500"), "red")
        store_perspective(world.division_a, "Financial", "quarter", quarter, D("0.5000"), "red")
    return factories.add_member(world.org_a, Role.EXECUTIVE).user


def test_an_executive_reads_the_dashboard_changes_the_period_and_drills_into_a_red_unit(world, open_page, executive):
    due = org_calendar.due_month(world.org_a)
    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, executive.email)
    page.wait_for_url("**/o/acme/")  # the home of an executive is the dashboard
    expect(page.locator("#dash-score")).to_contain_text("80% ▲ At risk")
    expect(page.locator("#dash-trend")).to_have_attribute("data-rendered", "true")
    heat = page.locator("#heatmap")
    expect(heat).to_have_attribute("data-ready", "true")
    # Below the first level the tree starts folded; a unit's button opens it, with the keyboard too.
    expect(heat.get_by_role("link", name="Line 1", exact=True)).to_be_hidden()
    expect(heat.get_by_role("link", name="Assembly", exact=True)).to_be_hidden()
    for name in ("Operations", "Assembly"):
        toggle = heat.get_by_role("button", name=f"Show or hide the units below {name}")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(heat.get_by_role("link", name="Line 1", exact=True)).to_be_visible()
    screenshot(page, "dashboard_desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > 391)"
        ".filter((e) => !e.closest('.heat-wrap')).slice(0, 5).map((e) => e.tagName + '.' + e.className)"
    )
    assert width <= 390, f"the dashboard scrolls sideways on a phone ({width}px wide): {wide}"
    screenshot(page, "dashboard_phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("navigation", name="Period").get_by_role("link", name="Quarter").click()
    page.wait_for_url("**kind=quarter**")
    row = heat.locator(f'tr[data-unit="{world.division_a.pk}"]')
    expect(row.locator("td").first).to_contain_text("55%")
    expect(row.locator("td").nth(1)).to_contain_text("50% ■ Off track 100% data")
    screenshot(page, "dashboard_quarter")

    page.get_by_role("navigation", name="Period").get_by_role("link", name="Month").click()
    page.wait_for_url(f"**kind=month&period={due:%Y-%m}")  # the quarter's latest month due, not its first
    red = heat.locator(f'tr[data-unit="{world.division_a.pk}"] a.heat-red').first
    expect(red).to_contain_text("Off track")
    red.click()
    page.wait_for_url(f"**/o/acme/scorecards/{world.division_a.pk}/?kind=month&period={due:%Y-%m}")
    expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
