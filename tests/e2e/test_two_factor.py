"""Two-factor log-in in a real browser: set up an authenticator from the page's key, keep the recovery
codes, log out, log in with the password and the app's code, then with a recovery code (once)."""

from base64 import b32decode
from datetime import timedelta

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def app_code(secret_text: str) -> str:
    """What an authenticator app shows for the key typed in from the page."""
    key = b32decode(secret_text.replace(" ", ""))
    return str(totp(key)).zfill(6)


def log_out(page, name: str) -> None:
    page.get_by_text(name, exact=True).click()  # the account menu
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")


def test_two_factor_round_trip(world, page, pinned_clock):
    name = world.admin_a.display_name
    log_in(page, world.admin_a.email)
    page.get_by_text(name, exact=True).click()
    page.get_by_role("link", name="Two-factor authentication").click()
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.locator(".qr-code svg")).to_be_visible()
    secret = page.get_by_label("The secret key").inner_text()
    screenshot(page, "two_factor_setup")

    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    pinned_clock.shift(timedelta(seconds=1))
    page.get_by_label("Code", exact=True).fill(app_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("status").first).to_have_text("Two-factor authentication is on.")
    codes = page.get_by_role("list", name="Recovery codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "two_factor_recovery_codes")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "two_factor_recovery_codes_phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    log_out(page, name)
    log_in(page, world.admin_a.email)
    page.wait_for_url("**/accounts/login/verify/")
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    screenshot(page, "two_factor_login")
    pinned_clock.shift(timedelta(seconds=30))  # the app's next code
    page.get_by_label("Code", exact=True).fill(app_code(secret))
    page.keyboard.press("Enter")
    page.wait_for_url("**/o/acme/")  # their only organization
    page.get_by_text(name, exact=True).click()
    page.get_by_role("link", name="Two-factor authentication").click()
    expect(page.get_by_text("Recovery codes left: 10 of 10.")).to_be_visible()
    screenshot(page, "two_factor_on")

    log_out(page, name)
    log_in(page, world.admin_a.email)
    page.get_by_label("Code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/o/acme/")

    log_out(page, name)
    log_in(page, world.admin_a.email)
    page.get_by_label("Code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    screenshot(page, "two_factor_login_used_code")
