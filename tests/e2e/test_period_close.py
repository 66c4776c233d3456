"""The monthly close in a real browser: an executive follows the scorecard's link to the close page, reads the
checklist and closes October; the data-entry page then shows October's value read-only with who closed it; an
admin reopens it with a reason, on a phone. At 1280x800 and 390x844."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import expect

from bsc.tenancy import organization_scope
from kpis import services
from kpis.recompute import scores_recompute_full
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
OCT = date(2026, 10, 1)


@pytest.fixture
def october(world):
    """Assembly's on-time delivery with October's target and a red value without a cause; Operations' audit score
    without a value."""
    with time_machine.travel(NOW, tick=True):
        executive = factories.make_user("eve@acme.test", full_name="Eve Exec")
        factories.add_member(world.org_a, "executive", user=executive)
        with organization_scope(world.org_a):
            otd = services.kpi_create(
                unit=world.department_a, name="On-time delivery", code="OTD", baseline=Decimal(80)
            )
            services.kpi_create(unit=world.division_a, name="Audit score", code="AUD", baseline=Decimal(0))
            services.target_create(kpi=otd, period=OCT, value=Decimal(100))
            services.measurement_record(kpi=otd, period=OCT, value=Decimal(85), by=world.admin_a, comment="")
        scores_recompute_full(organization=world.org_a)
        yield executive


def test_an_executive_closes_october_and_an_admin_reopens_it(world, october, open_page):
    with time_machine.travel(NOW, tick=True):
        page = open_page(viewport={"width": 1280, "height": 800})
        log_in(page, october.email)
        page.goto(f"/o/acme/scorecards/{world.company_a.pk}/?period=2026-10")
        page.get_by_role("link", name="Close Oct 2026").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Close Oct 2026 · Acme Manufacturing")
        expect(page.locator("#checklist-summary")).to_have_text(
            "2 KPI values due: 1 without a value, 1 red without a cause."
        )
        rows = page.locator("#checklist tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(1)).to_contain_text("AUD")
        expect(rows.nth(2)).to_contain_text("OTD")
        screenshot(page, "period_close-checklist")
        page.get_by_role("button", name="Close Oct 2026 for Acme Manufacturing").click()
        expect(page.locator("#close-state")).to_have_text(
            "Oct 2026 is closed for Acme Manufacturing: closed by Eve Exec on 18 Nov 2026."
        )
        expect(page.locator("#close-list")).to_contain_text("Oct 2026 · Acme Manufacturing: closed by Eve Exec")
        expect(page.get_by_role("button", name="Reopen")).to_have_count(0)  # executives close, admins reopen
        screenshot(page, "period_close-closed")

        page.goto("/o/acme/data-entry/?period=2026-10")
        row = page.locator("tbody.entry-row", has_text="OTD")
        expect(row.locator(".closed-note")).to_have_text("Closed by Eve Exec on 18 Nov 2026")
        expect(row.get_by_role("textbox", name="Value of OTD On-time delivery", exact=True)).not_to_be_editable()
        expect(row.get_by_role("button", name="Save OTD")).to_have_count(0)
        screenshot(page, "period_close-data_entry")

        phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        log_in(phone, world.admin_a.email)
        phone.goto(f"/o/acme/close/{world.company_a.pk}/?period=2026-10")
        phone.get_by_role("button", name="Reopen").click()  # the reason is required: the browser asks for it
        expect(phone.locator("#close-state")).to_contain_text("is closed")
        phone.get_by_label("Reason to reopen Oct 2026").fill("A late supplier invoice changes OTD")
        screenshot(phone, "period_close-reopen-phone")
        phone.get_by_role("button", name="Reopen").click()
        expect(phone.locator("#close-state")).to_have_text("Oct 2026 is open for Acme Manufacturing.")
        expect(phone.locator("#close-list")).to_contain_text(
            "reopened by Admin of acme on 18 Nov 2026: “A late supplier invoice changes OTD”"
        )
        screenshot(phone, "period_close-reopened-phone")
