"""The top bar's organization and account menus (issue 15, item 14): they overlap, so opening one closes the
other; Escape or a click elsewhere closes them, and Escape gives the focus back to the menu's button."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_organization_and_account_menus_are_never_open_together(world, open_page):
    factories.add_member(world.org_b, "viewer", user=world.admin_a)
    for name, viewport in (("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})):
        page = open_page(viewport=viewport)
        log_in(page, world.admin_a.email)
        page.goto(reverse("org_overview", args=["acme"]))
        orgs, account = page.locator("details.orgswitch"), page.locator("details.account")
        orgs.locator("summary").click()
        expect(orgs).to_have_attribute("open", "")
        account.locator("summary").click()
        expect(account).to_have_attribute("open", "")
        expect(orgs).not_to_have_attribute("open", "")  # opening one closed the other
        screenshot(page, f"top_menus_account_open_{name}")
        page.keyboard.press("Escape")
        expect(account).not_to_have_attribute("open", "")
        expect(account.locator("summary")).to_be_focused()
        orgs.locator("summary").focus()
        page.keyboard.press("Enter")
        expect(orgs).to_have_attribute("open", "")
        page.get_by_role("heading", level=1).click()  # a click elsewhere closes it
        expect(orgs).not_to_have_attribute("open", "")
        page.close()
