"""Approval in a real browser: with the organization's setting on, a department head's value waits; its approver
sees it on the KPI page, returns it with a comment, and approves the corrected value (desktop, then a phone)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc import services as bsc_services
from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import services
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]

OCT = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _on_18_november_2026(pinned_clock):
    """The module's values are for October 2026, which the KPI page lists while it is among its recent months: it
    travels to 18 Nov 2026 itself (before the world is built), whatever instant `make test-dates` pins the suite to."""
    pinned_clock.move_to(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))


def test_an_approver_returns_then_approves_a_department_heads_value(world, open_page):
    head = factories.hugo_head(world)
    approver = factories.add_member(world.org_a, Role.EXECUTIVE).user
    with organization_scope(world.org_a):
        bsc_services.organization_update(organization=world.org_a, values_need_approval=True)
        otd = services.kpi_create(
            unit=world.division_a, name="On-time delivery", code="OTD", baseline=Decimal(80), owner=approver
        )
        services.target_create(kpi=otd, period=OCT, value=Decimal(100))
        value = services.measurement_record(kpi=otd, period=OCT, value=Decimal(95), by=head)

    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, approver.email)
    page.goto(f"/o/acme/kpis/{otd.pk}/")
    expect(page.locator(".approval-note")).to_have_text("Waiting for approval: it does not count in the scores yet.")
    screenshot(page, "approval-kpi_page")
    page.get_by_label("Why return it").fill("Count the late orders of week 4")
    page.get_by_role("button", name="Return Oct 2026").click()
    expect(page.locator(".approval-note")).to_have_text("Returned by Executive: Count the late orders of week 4")

    with organization_scope(world.org_a):
        services.measurement_record(kpi=otd, period=OCT, value=Decimal(92), by=head, expected_version=value.version)
    phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, approver.email)
    phone.goto(f"/o/acme/kpis/{otd.pk}/")
    screenshot(phone, "approval-kpi_page-phone")
    phone.get_by_role("button", name="Approve Oct 2026").click()
    expect(phone.locator(".approval-note")).to_have_count(0)
    expect(phone.get_by_role("status").or_(phone.locator(".flash, .messages")).first).to_contain_text("approved")
