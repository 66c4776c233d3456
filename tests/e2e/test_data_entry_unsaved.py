"""Leaving the data-entry page with values typed but not saved asks first, and only then (issue 15, item 14):
not after a row's save or "Save all", and again after a refused "Save all"."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from bsc.tenancy import organization_scope
from kpis import services
from kpis.data_entry import due_month
from tests.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_kpis(world):
    month = due_month(world.org_a)
    with organization_scope(world.org_a):
        otd = services.kpi_create(unit=world.company_a, name="On-time delivery", code="OTD", baseline=Decimal(0))
        scr = services.kpi_create(unit=world.company_a, name="Scrap rate", code="SCR", baseline=Decimal(0))
        services.measurement_record(kpi=otd, period=month, value=Decimal("50.5"), by=world.admin_a, schedule=False)
    return otd, scr


def test_leaving_data_entry_with_unsaved_values_asks_first(world, page, two_kpis):
    otd, scr = two_kpis
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # for a beforeunload dialog: stay on the page

    page.on("dialog", on_dialog)
    entry_url = reverse("data_entry", args=["acme"])
    home = page.locator("nav.mainnav").get_by_role("link", name="Dashboard")  # an admin's home
    log_in(page, world.admin_a.email)

    page.goto(entry_url)  # nothing typed: leaving asks nothing
    home.click()
    page.wait_for_url(f"**{reverse('org_overview', args=['acme'])}")
    assert dialogs == []

    page.goto(entry_url)
    page.get_by_label("Value of SCR Scrap rate").click()
    page.keyboard.type("7")
    with page.expect_event("dialog"):
        home.click(no_wait_after=True)
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(re.compile(re.escape(entry_url) + "$"))  # stayed, with the value still typed
    expect(page.get_by_label("Value of SCR Scrap rate")).to_have_value("7")

    page.get_by_role("button", name="Save SCR").click()  # the row's own save (htmx): nothing left unsaved
    expect(page.locator(f"#entry-{scr.pk} .badge-saved")).to_have_text("saved")
    home.click()
    page.wait_for_url(f"**{reverse('org_overview', args=['acme'])}")
    assert dialogs == ["beforeunload"]

    page.goto(entry_url)  # a comment counts too; "Save all" leaves the page without asking
    page.get_by_label("Comment on OTD On-time delivery").click()
    page.keyboard.type("Late trucks")
    page.get_by_role("button", name="Save all").click()
    expect(page.get_by_role("status")).to_contain_text("Saved 1 value")
    assert dialogs == ["beforeunload"]

    page.get_by_label("Value of OTD On-time delivery").click()  # a refused "Save all" is still unsaved
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("abc")
    page.get_by_role("button", name="Save all").click()
    expect(page.locator("#entry-errors")).to_be_visible()
    with page.expect_event("dialog"):
        home.click(no_wait_after=True)
    assert dialogs == ["beforeunload", "beforeunload"]
