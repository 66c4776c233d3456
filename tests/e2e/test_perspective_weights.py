"""The perspective weights under the strategy map, in a real browser: an executive sets them with the keyboard
alone, a refused value is named on its field with the focus on it, and the section reads on a phone."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc.models import Perspective, Role
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def weights(world) -> list[Decimal]:
    bands = Perspective.objects.for_organization(world.org_a).filter(scorecard__unit=world.company_a)
    return [p.weight for p in bands.order_by("order", "id")]


def test_an_executive_sets_the_perspective_weights_with_the_keyboard(world, member_of_role, open_page):
    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, member_of_role(Role.EXECUTIVE).email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")
    section = page.locator("#perspective-weights")
    expect(section.get_by_role("heading", name="Perspective weights")).to_be_visible()
    financial = section.get_by_label("Financial")
    expect(financial).to_have_value("1")

    financial.fill("-2")  # the browser holds a negative weight back (min="0") ...
    financial.press("Enter")
    assert page.evaluate("document.activeElement.validity.rangeUnderflow")
    financial.fill("20000")  # ... and the server refuses a weight too large, on its field; nothing is saved
    with page.expect_navigation():
        financial.press("Enter")
    expect(section.locator(".error")).to_have_text(
        "Ensure that there are no more than 4 digits before the decimal point."
    )
    assert weights(world) == [Decimal(1)] * 4

    section.get_by_label("Financial").fill("3")
    section.get_by_label("Learning & Growth").fill("0.25")
    with page.expect_navigation():
        section.get_by_label("Learning & Growth").press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Perspective weights of Acme Manufacturing saved")
    expect(section.get_by_label("Financial")).to_have_value("3")
    assert weights(world) == [Decimal(3), Decimal(1), Decimal(1), Decimal("0.25")]
    section.scroll_into_view_if_needed()
    screenshot(page, "map_perspective_weights")


def test_the_weights_read_on_a_phone(world, open_page):
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")
    section = page.locator("#perspective-weights")
    expect(section.get_by_text("Learning & Growth")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    section.scroll_into_view_if_needed()
    screenshot(page, "map_perspective_weights_phone")
