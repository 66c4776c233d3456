"""Keyboard users keep their place after a save: a refused "Save all" puts focus on the first value in error
(a summary at the top links to each), a row's own Save moves on to the next KPI (or back to the row when
refused), "Mark done" on Home moves to the next item's button; the green "all have a value" banner does not
stay up while a save is refused."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from bsc import org_calendar
from bsc.tenancy import organization_scope
from coaching import services as coaching
from kpis import services
from kpis.data_entry import due_month
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def three_kpis_with_values(world):
    """Three KPIs of organization A that all have a value for the month now due."""
    month = due_month(world.org_a)
    kpis = []
    with organization_scope(world.org_a):
        for code, name in (("NPS", "Net promoter score"), ("OTD", "On-time delivery"), ("SCR", "Scrap rate")):
            kpi = services.kpi_create(unit=world.company_a, name=name, code=code, baseline=Decimal(0))
            services.measurement_record(kpi=kpi, period=month, value=Decimal(50), by=world.admin_a)
            kpis.append(kpi)
    return kpis


def value(page, kpi):
    return page.get_by_label(f"Value of {kpi.code} {kpi.name}")


def test_a_refused_save_all_puts_focus_on_the_first_value_in_error(world, open_page, three_kpis_with_values):
    nps, otd, scr = three_kpis_with_values
    for name, viewport in (("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})):
        page = open_page(viewport=viewport)
        log_in(page, world.admin_a.email)
        page.goto(reverse("data_entry", args=["acme"]))
        expect(page.locator("#entry-summary")).to_contain_text("All 3 KPIs have a value")
        value(page, otd).fill("abc")
        value(page, scr).fill("also wrong")
        page.get_by_role("button", name="Save all").press("Enter")
        page.wait_for_load_state()
        expect(value(page, otd)).to_be_focused()
        errors = page.locator("#entry-errors")
        expect(errors.get_by_role("heading")).to_have_text("Nothing was saved: fix these 2 values")
        expect(errors.get_by_role("link")).to_have_text(
            ["OTD On-time delivery: “abc” is not a number.", "SCR Scrap rate: “also wrong” is not a number."]
        )
        # One message at the top: no flash repeating the summary, no page banner (hidden until a row is saved).
        expect(page.locator(".flash")).to_have_count(0)
        expect(page.locator("#entry-summary")).to_be_hidden()
        expect(page.get_by_text("have a value")).to_have_count(0)
        expect(page.locator(f"#errors-{otd.pk}")).to_have_text("OTD: “abc” is not a number.")
        screenshot(page, f"data_entry_refused_save_all_{name}")
        errors.get_by_role("link").nth(1).press("Enter")
        expect(value(page, scr)).to_be_focused()
        if name == "phone":
            continue
        # Fixed rows saved one by one leave the summary; it goes with the last one.
        page.keyboard.type("7")
        page.get_by_role("button", name="Save SCR").press("Enter")
        expect(page.locator(f"#entry-{scr.pk} .badge-saved")).to_have_text("saved")
        expect(errors.get_by_role("heading")).to_have_text("Still to fix: this value")
        expect(errors.get_by_role("link")).to_have_text(["OTD On-time delivery: “abc” is not a number."])
        value(page, otd).fill("8")
        page.get_by_role("button", name="Save OTD").press("Enter")
        expect(page.locator(f"#entry-{otd.pk} .badge-saved")).to_have_text("saved")
        expect(errors).to_have_count(0)
        expect(page.locator("#entry-summary")).to_have_text(
            f"All 3 KPIs have a value for {due_month(world.org_a):%B %Y}."
        )


def test_a_row_save_keeps_the_keyboard_in_the_table(world, page, three_kpis_with_values):
    nps, otd, scr = three_kpis_with_values
    log_in(page, world.admin_a.email)
    page.goto(reverse("data_entry", args=["acme"]))
    value(page, nps).fill("55")
    page.get_by_role("button", name="Save NPS").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#entry-" + str(nps.pk))).to_contain_text("saved")
    expect(value(page, otd)).to_be_focused()  # saved: on to the next KPI, as Enter in a cell does

    page.keyboard.type("x")  # replaces the selected value
    page.get_by_role("button", name="Save OTD").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#errors-{otd.pk}")).to_have_text("OTD: “x” is not a number.")
    expect(value(page, otd)).to_be_focused()  # refused: back to the value to fix it
    expect(page.locator("#entry-summary")).to_have_text("1 value was not saved: see the row marked in red.")
    expect(page.get_by_text("have a value")).to_have_count(0)
    screenshot(page, "data_entry_refused_row")

    value(page, scr).fill("70")  # the last row: once saved, focus goes to "Save all"
    page.get_by_role("button", name="Save SCR").press("Enter")
    expect(page.get_by_role("button", name="Save all")).to_be_focused()
    expect(page.locator("#entry-summary")).to_have_text(f"All 3 KPIs have a value for {due_month(world.org_a):%B %Y}.")


def test_mark_done_on_home_moves_focus_to_the_next_item(world, open_page):
    today = org_calendar.today(world.org_a)
    with organization_scope(world.org_a):
        for days, title in ((1, "Call the press supplier"), (2, "Order new dies"), (3, "Book the audit")):
            coaching.action_item_create(
                organization=world.org_a, title=title, owner=world.admin_a, due_date=today + timedelta(days=days),
                created_by=world.admin_a, unit=world.company_a,
            )  # fmt: skip
    for name, viewport in (("desktop", {"width": 1280, "height": 860}), ("phone", {"width": 390, "height": 844})):
        page = open_page(viewport=viewport)
        log_in(page, world.admin_a.email)
        page.goto(reverse("org_overview", args=["acme"]))
        if name == "desktop":
            page.get_by_role("button", name="Call the press supplier").press("Enter")
            expect(page.get_by_role("button", name="Order new dies")).to_be_focused()
            page.keyboard.press("Enter")
            expect(page.get_by_role("button", name="Book the audit")).to_be_focused()
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Your open action items")).to_be_focused()
            expect(page.get_by_text("No open action items.")).to_be_visible()
        screenshot(page, f"home_after_mark_done_{name}")
