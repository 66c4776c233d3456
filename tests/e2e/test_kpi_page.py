"""An executive, in a real browser, defines a KPI, sets a year of targets as a ramp and reads the KPI page:
the chart is drawn and the table lists the targets."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc.models import Role
from bsc.org_calendar import month_shift, this_month
from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import Kpi, KpiScore, Target
from tests import factories
from tests.conftest import log_in, screenshot, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]


def test_an_executive_creates_a_kpi_and_sets_a_ramp_of_targets(world, page, celery_worker_process):
    erin = factories.add_member(
        world.org_a, Role.EXECUTIVE, user=factories.make_user("erin@acme.example.com", full_name="Erin Exec")
    ).user
    with organization_scope(world.org_a):
        services.kpi_create(unit=world.company_a, name="Revenue", code="REV", baseline=Decimal(100))
    log_in(page, erin.email)
    page.goto("/o/acme/kpis/")
    page.get_by_role("link", name="New KPI").click()
    page.get_by_label("Unit").select_option(label="\u00a0\u00a0\u00a0Operations")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="New KPI in Operations")).to_be_visible()
    # Only for band and formula KPIs: hidden by the form's script once the page has loaded.
    expect(page.get_by_label("Band: low bound")).to_be_hidden()
    expect(page.get_by_label("Formula")).to_be_hidden()
    page.get_by_label("Name", exact=True).fill("On-time delivery")
    page.get_by_label("Code").fill("OTD")
    page.get_by_label("Description").fill("Share of orders delivered on the promised day.")
    page.get_by_label("Measurement unit").fill("%")
    page.get_by_label("Baseline").fill("80")
    page.get_by_label("Owner").select_option(label=f"Erin Exec ({erin.email})")
    page.get_by_label("Contributes to (parent unit's KPI)").select_option(label="REV · Revenue")
    page.get_by_label("Direction").select_option("band")
    expect(page.get_by_label("Band: low bound")).to_be_visible()
    page.get_by_label("Direction").select_option("increase")
    screenshot(page, "kpi_form")
    page.get_by_role("button", name="Create KPI").click()

    assert page.get_by_role("status").inner_text() == "KPI OTD “On-time delivery” created in Operations."
    kpi = Kpi.objects.for_organization(world.org_a).get(code="OTD")
    assert (kpi.unit_id, kpi.baseline, kpi.owner_id, kpi.aligned_to.code) == (world.division_a.pk, 80, erin.pk, "REV")

    # The calendar year (= fiscal year here) whose first three months are over, so they can hold values.
    year = month_shift(this_month(world.org_a), -3).year
    page.get_by_label("Fiscal year").fill(str(year))
    page.get_by_label("A straight ramp from the baseline to a year-end value").check()
    page.get_by_label("Year-end target").fill("92")
    page.get_by_role("button", name="Set targets").click()
    expect(page.get_by_role("status")).to_have_text(f"Targets for fiscal year {year} set: 12 periods.")
    targets = Target.objects.for_organization(world.org_a).filter(kpi=kpi)
    assert [t.value for t in targets] == [Decimal(81 + i) for i in range(12)]

    # A few months of values, as the department would have entered them, then the page again.
    with organization_scope(world.org_a):
        for i, value in enumerate((80, 83, 84)):
            month = month_shift(date(year, 1, 1), i)
            services.measurement_record(kpi=kpi, period=month, value=Decimal(value), by=erin, comment=f"m{i}")
    scores = KpiScore.objects.for_organization(world.org_a).filter(kpi=kpi, period_kind="month", actual__isnull=False)
    wait_for(lambda: scores.count() == 3, message="the worker to score the three months")
    page.reload()
    canvas = page.locator("#kpi-chart")
    canvas.wait_for()
    page.wait_for_function("document.getElementById('kpi-chart').dataset.rendered === 'true'")
    painted = page.evaluate(
        """() => {
            const c = document.getElementById('kpi-chart');
            const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) n++;
            return {n, width: c.width, height: c.height};
        }"""
    )
    assert painted["width"] > 300 and painted["height"] > 200
    assert painted["n"] > painted["width"] * painted["height"] * 0.2  # zones, lines and axes are drawn
    table = page.locator("table.kpi-values")

    def row(label: str):
        """The row of a period, by its header cell alone (the "Entered" column also holds dates)."""
        return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True))

    assert row(f"Dec {year}").inner_text().split("\t")[:3] == [f"Dec {year}", "—", "92.0%"]
    jan = row(f"Jan {year}")
    assert "80.0%" in jan.inner_text() and "81.0%" in jan.inner_text() and "m0" in jan.inner_text()
    # 80 against a ramp from 80 to 81: no progress yet (red); 84 against 83 is past the target (green)
    assert "Off track" in jan.inner_text()
    assert "On track" in row(f"Mar {year}").inner_text()
    assert row(f"Dec {year - 1}").count() == 0  # months with nothing are left out
    screenshot(page, "kpi_detail")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="KPIs").click()
    expect(page.get_by_role("link", name="On-time delivery")).to_be_visible()
    screenshot(page, "kpi_index")
