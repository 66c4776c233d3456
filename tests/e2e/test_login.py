"""A real browser logs in: a member of one organization lands on its home."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc import org_calendar
from tests.conftest import log_in, screenshot
from tests.integration.test_org_home import store as store_score

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_member_of_one_organization_lands_on_its_home_with_each_units_score(world, page):
    due = org_calendar.due_month(world.org_a)
    store_score(world.company_a, due, Decimal("0.95"), "green")
    store_score(world.division_a, due, Decimal("0.7"), "amber")
    log_in(page, world.viewer_a.email)  # admins, executives and coaches land on the dashboard (test_dashboard.py)
    page.wait_for_url("**/o/acme/")  # not the organization picker: there is nothing to pick
    expect(page.get_by_role("heading", name="Acme Manufacturing")).to_be_visible()
    units = page.locator(".tree.unit-scores li")
    assert page.locator(".tree .unit-name").all_inner_texts() == ["Acme Manufacturing", "Operations", "Assembly"]
    assert [" ".join(text.split()) for text in units.locator(".unit-score").all_inner_texts()] == [
        "Score: 95% ● On track",
        "Score: 70% ▲ At risk",
        "Score: — ○ No data",
    ]
    screenshot(page, "org_overview")
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the organization home scrolls sideways on a phone ({width}px wide)"
    screenshot(page, "org_overview_phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="Operations", exact=True).click()
    page.wait_for_url(f"**/o/acme/scorecards/{world.division_a.pk}/?period={due:%Y-%m}")
    expect(page.get_by_role("heading", name="Operations").first).to_be_visible()

    page.get_by_role("link", name="Scorecard", exact=True).click()  # the brand: every organization of the person
    expect(page.get_by_role("heading", name=f"Welcome, {world.viewer_a.display_name}")).to_be_visible()
    card = page.locator(".card", has_text="Acme Manufacturing")
    expect(card.get_by_text("Your role: Viewer")).to_be_visible()
    assert page.get_by_text("Globex").count() == 0
    screenshot(page, "home")


def test_a_wrong_password_gets_a_generic_message(world, page):
    log_in(page, world.admin_a.email, password="wrong-password")
    assert page.get_by_role("alert").inner_text().startswith("That email and password do not match an account.")
