"""The layout: a member of two organizations switches between them; the pages read on a phone."""

import pytest
from playwright.sync_api import expect

from bsc.models import Role
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_member_of_two_organizations_switches_between_them(world, page):
    factories.add_member(world.org_b, Role.VIEWER, user=world.admin_a)
    log_in(page, world.admin_a.email)
    assert page.locator(".card h2").all_inner_texts() == ["Acme Manufacturing", "Globex"]
    page.get_by_role("link", name="Globex").click()
    expect(page.get_by_role("heading", name="Globex", exact=True)).to_be_visible()
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").count() == 0  # viewer there
    page.locator("details.orgswitch summary").click()
    page.locator("details.orgswitch").get_by_role("link", name="Acme Manufacturing").click()
    expect(page.get_by_role("heading", name="Acme Manufacturing")).to_be_visible()
    assert page.locator("details.orgswitch summary").inner_text() == "Acme Manufacturing (Admin)"
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")).to_be_visible()


def test_the_main_pages_fit_a_phone_screen(world, open_page):
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(page, world.admin_a.email)
    page.goto(f"/o/{world.org_a.slug}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px wide)"
    expect(page.get_by_role("link", name="Data entry")).to_be_visible()
    screenshot(page, "phone_org_overview")


@pytest.mark.allow_console_errors(r"status of 404 \(Not Found\) \(http://[^)]*/o/globex/:")  # the page under test
def test_an_unknown_page_shows_the_404_page_within_the_layout(world, page):
    log_in(page, world.admin_a.email)
    page.goto(f"/o/{world.org_b.slug}/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert "Globex" not in page.content()
    screenshot(page, "not_found")


def test_a_viewer_walks_the_navigation_without_a_dead_end(world, open_page):
    for name, viewport in (("desktop", {"width": 1280, "height": 860}), ("phone", {"width": 390, "height": 844})):
        page = open_page(viewport=viewport)
        log_in(page, world.viewer_a.email)
        page.goto(f"/o/{world.org_a.slug}/")
        nav = page.get_by_role("navigation", name="Main").get_by_role("link")
        assert nav.all_inner_texts() == ["Home", "Dashboard", "Strategy map", "Scorecards", "KPIs"]
        for label, href in [(link.inner_text(), link.get_attribute("href")) for link in nav.all()]:
            response = page.goto(href)
            assert response.status == 200, label
            assert (
                page.get_by_role("navigation", name="Main")
                .get_by_role("link", name=label)
                .get_attribute("aria-current")
                == "page"
            ), label
        screenshot(page, f"viewer_navigation_{name}")
