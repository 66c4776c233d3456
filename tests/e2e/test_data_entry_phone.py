"""Data entry on a phone: each KPI is a card with its name, last value, target, status and inputs together, and
the page does not scroll sideways; a value typed there is saved with the row's own Save; the whole page is filled
with the keyboard alone, a refused value fixed without leaving it."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import services
from kpis.data_entry import due_month
from kpis.models import Measurement
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def two_kpis_of_a_department_head(world):
    head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a]).user
    month = due_month(world.org_a)
    with organization_scope(world.org_a):
        otd = services.kpi_create(
            unit=world.division_a, name="On-time delivery to the customer's requested date", code="OTD",
            baseline=Decimal(80), measurement_unit="%",
        )  # fmt: skip
        scr = services.kpi_create(unit=world.department_a, name="Scrap rate", code="SCR", baseline=Decimal(10))
        services.target_create(kpi=otd, period=month, value=Decimal(100))
        services.target_create(kpi=scr, period=month, value=Decimal(5))
    return head, otd, scr


def box_within(box, width):
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def test_a_department_head_enters_a_value_on_a_phone(world, open_page, two_kpis_of_a_department_head):
    head, otd, scr = two_kpis_of_a_department_head
    page = open_page(viewport=PHONE, is_mobile=True)
    log_in(page, head.email)
    page.goto(reverse("data_entry", args=["acme"]))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the data-entry page scrolls sideways on a phone ({width}px wide)"

    row = page.locator(f"#entry-{otd.pk}")
    name, target = row.locator(".kpi-name"), row.locator("td[data-label='Target']")
    value = page.get_by_label("Value of OTD On-time delivery to the customer's requested date")
    for part in (name, target, value, row.get_by_label("Comment on OTD"), row.get_by_role("button", name="Save OTD")):
        assert box_within(part.bounding_box(), PHONE["width"]), part
    assert name.bounding_box()["y"] < target.bounding_box()["y"] < value.bounding_box()["y"]  # heading, then numbers
    expect(target).to_have_text("100.0%")
    screenshot(page, "data_entry_phone")

    value.press_sequentially("96")  # typed, as on the phone keyboard: the status follows
    expect(row.locator(f"#status-{otd.pk}")).to_contain_text("At risk")
    row.get_by_role("button", name="Save OTD").click()
    expect(page.locator(f"#entry-{otd.pk}")).to_contain_text("saved")
    assert [m.value for m in Measurement.objects.for_organization(world.org_a).filter(kpi=otd)] == [Decimal(96)]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "data_entry_phone_saved")


FOCUSED_NAME = """() => {
  const el = document.activeElement;
  return el ? (el.getAttribute('aria-label') || el.innerText || el.value || el.tagName).trim() : '';
}"""


def tab_to(page, name: str, limit: int = 60) -> None:
    """Press Tab until the focused element is named `name` (its aria-label or its text)."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_NAME)
        if focused == name:
            return
        seen.append(focused)
    raise AssertionError(f"{name!r} not reached with {limit} Tabs; focus went through {seen}")


def test_a_department_head_fills_the_page_on_a_phone_with_the_keyboard_only(
    world, open_page, two_kpis_of_a_department_head
):
    head, otd, scr = two_kpis_of_a_department_head
    page = open_page(viewport=PHONE, is_mobile=True)
    log_in(page, head.email)
    page.goto(reverse("data_entry", args=["acme"]))
    otd_label = "Value of OTD On-time delivery to the customer's requested date"

    tab_to(page, otd_label)
    page.keyboard.type("96")
    tab_to(page, "Value of SCR Scrap rate")
    page.keyboard.type("4,5,1")  # a typing slip: not a number in any mode
    tab_to(page, "Save all")
    with page.expect_navigation():  # the page the save answers, its stylesheets loaded, before it is read
        page.keyboard.press("Enter")

    errors = page.locator("#entry-errors")
    expect(errors.get_by_role("heading")).to_have_text("Nothing was saved: fix this value")
    expect(page.get_by_label("Value of SCR Scrap rate")).to_be_focused()  # the refused value, not the top
    screenshot(page, "data_entry_keyboard_phone_refused")
    assert not Measurement.objects.for_organization(world.org_a).exists()  # all or nothing

    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("4.5")
    tab_to(page, "Save all")
    with page.expect_navigation():  # the page the save answers, its stylesheets loaded, before it is read
        page.keyboard.press("Enter")

    expect(page.locator(".flash")).to_contain_text("Saved 2 values")
    saved = {m.kpi_id: m.value for m in Measurement.objects.for_organization(world.org_a)}
    assert saved == {otd.pk: Decimal(96), scr.pk: Decimal("4.5")}
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "data_entry_keyboard_phone_saved")
