"""The consistency checklist in a real browser: an executive opens it, reads the rules with their counts, follows
the item of a KPI without an owner to the KPI's form, names an owner and finds the item gone; at 1280x800 and on
a phone (390x844)."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import expect

from bsc import strategy
from bsc.models import Perspective
from bsc.tenancy import organization_scope
from kpis import services
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def unfinished(world):
    """Assembly: an objective nothing measures and a KPI with no owner, target or value; Operations' roll-up whose
    target is not what Assembly's targets add up to."""
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        executive = factories.add_member(world.org_a, "executive").user
        admin = world.admin_a
        with organization_scope(world.org_a):
            band = Perspective.objects.get(scorecard__unit=world.department_a, name="Customer")
            strategy.objective_create(perspective=band, name="Delight customers")
            services.kpi_create(unit=world.department_a, name="Scrap rate", code="SCR", baseline=Decimal(0))
            total = services.kpi_create(
                unit=world.division_a,
                name="Output",
                code="OUT",
                source="rollup",
                rollup_method="sum",
                owner=admin,
                baseline=Decimal(0),
            )
            for code, value in (("A1", 100), ("A2", 60)):
                part = services.kpi_create(
                    unit=world.department_a, name=f"Line {code}", code=code, aligned_to=total, owner=admin,
                    baseline=Decimal(0),
                )  # fmt: skip
                services.target_set_year(kpi=part, fiscal_year=2026, mode="same", value=Decimal(value), by=admin)
            services.target_set_year(kpi=total, fiscal_year=2026, mode="same", value=Decimal(150), by=admin)
        yield executive


def test_an_executive_follows_an_item_to_where_it_is_fixed(unfinished, open_page):
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        page = open_page(viewport={"width": 1280, "height": 800})
        log_in(page, unfinished.email)
        page.goto("/o/acme/checks/")
        expect(page.get_by_role("heading", name="Consistency checks", level=1)).to_be_visible()
        owners = page.locator("#rule-kpis_without_owner")
        expect(owners.get_by_role("heading")).to_have_text("KPIs without an owner 1")
        expect(page.locator("#rule-rollup_targets .checks-message")).to_have_text(
            "OUT · Output: its aligned KPIs' targets add up to 160, not its target of 150 (Jan 2026); 12 periods do "
            "not match: Jan 2026, Feb 2026, Mar 2026 and 9 more."
        )
        expect(page.locator("#checks-total")).to_have_text("7 items to look at.")
        screenshot(page, "checks_desktop")

        owners.get_by_role("link", name="Edit the KPI").click()
        expect(page).to_have_url(re.compile(r"/o/acme/kpis/[0-9]+/edit/$"))
        expect(page.get_by_label("Owner")).to_be_visible()
        page.get_by_label("Owner").select_option(label=f"Executive ({unfinished.email})")
        with page.expect_navigation():  # the save's answer, before the next page is asked for
            page.get_by_role("button", name="Save KPI").click()

        page.goto("/o/acme/checks/")
        expect(owners.get_by_role("heading")).to_have_text("KPIs without an owner 0")
        expect(owners.locator(".empty")).to_have_text("None.")
        expect(page.locator("#checks-total")).to_have_text("6 items to look at.")


def test_the_checklist_reads_on_a_phone(unfinished, open_page):
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        page = open_page(viewport={"width": 390, "height": 844})
        log_in(page, unfinished.email)
        page.goto("/o/acme/checks/")
        expect(page.locator("#checks-total")).to_have_text("7 items to look at.")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways ({width}px)"
        screenshot(page, "checks_phone")
