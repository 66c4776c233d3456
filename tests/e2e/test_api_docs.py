"""The API's documentation pages work under the Content-Security-Policy (no inline script or style of ours)."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_shows_the_api_under_the_policy(world, page):
    log_in(page, world.admin_a.email)
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name=re.compile("^Balanced Scorecard API"))).to_be_visible()
    expect(page.locator(".opblock-tag-section", has_text="measurements").first).to_be_visible()  # from the schema


# Redoc's "powered by" logo comes from its own site, which the policy keeps out (the docs work offline).
@pytest.mark.allow_console_errors(r"cdn\.redoc\.ly/redoc/logo-mini\.svg")
def test_redoc_shows_the_api_under_the_policy(world, page):
    log_in(page, world.admin_a.email)
    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name="Balanced Scorecard API", level=1)).to_be_visible(timeout=30_000)
    expect(page.locator("[data-section-id^='tag/measurements']").first).to_be_attached()
