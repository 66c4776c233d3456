"""A real browser logs in and sees the home page."""

import pytest

from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_member_logs_in_and_sees_their_organizations(world, page):
    log_in(page, world.admin_a.email)
    assert page.get_by_role("heading", name=f"Welcome, {world.admin_a.display_name}").is_visible()
    card = page.locator(".card", has_text="Acme Manufacturing")
    assert card.get_by_text("Your role: Admin").is_visible()
    assert page.get_by_text("Globex").count() == 0
    screenshot(page, "home")
    card.get_by_role("link", name="Acme Manufacturing").click()
    assert page.get_by_role("heading", name="Acme Manufacturing").is_visible()
    assert page.locator(".tree .unit-name").all_inner_texts() == ["Acme Manufacturing", "Operations", "Assembly"]
    screenshot(page, "org_overview")


def test_a_wrong_password_gets_a_generic_message(world, page):
    log_in(page, world.admin_a.email, password="wrong-password")
    assert page.get_by_role("alert").inner_text().startswith("That email and password do not match an account.")
