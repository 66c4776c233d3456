"""Issue 16's acceptance as one flow: an executive prepares the monthly review. They open the dashboard, step back a
month, follow a red heat-map cell into that unit's scorecard and on to a KPI whose chart draws its forecast line,
then ask for the review pack of the month on the Review packs page; a real Celery worker makes it, they download
the PDF, and its pages are saved as PNGs (tests/screenshots/monthly_review_pack-*.png) to be looked at as the board
would. The forecast reads the current fiscal year, so the flow happens on a fixed day (18 Nov 2026, fiscal year =
calendar year; the worker starts on that day too) whatever BSC_TEST_NOW says."""

import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect

from bsc import strategy
from bsc.models import Perspective, Role
from bsc.tenancy import organization_scope
from kpis import services
from kpis.recompute import scores_recompute_full
from tests import factories
from tests.conftest import SCREENSHOTS, log_in, screenshot
from tests.integration.test_review_packs import pdf_pages

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = Decimal
SEPTEMBER = date(2026, 9, 1)


@pytest.fixture
def review_day():
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        yield


def objective(unit, band: str, name: str, owner):
    perspective = Perspective.objects.get(scorecard__unit=unit, name=band)
    return strategy.objective_create(perspective=perspective, name=name, owner=owner, x=60, y=40)


def monthly(kpi, values, *, by) -> None:
    """Values from January 2026 on, one a month; a target of 100 for every month of the year."""
    services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=D(100), by=by)
    for month, value in enumerate(values, start=1):
        services.measurement_record(kpi=kpi, period=date(2026, month, 1), value=D(value), by=by, schedule=False)


@pytest.fixture
def review_world(world, review_day):
    """Acme from January to October 2026: revenue green at the top, on-time delivery in Operations sliding into the
    red (it will miss the year), Assembly's scrap rate amber. Stored scores rebuilt."""
    admin = world.admin_a
    with organization_scope(world.org_a):
        revenue = services.kpi_create(
            unit=world.company_a, name="Revenue index", code="REV", baseline=D(0), owner=admin,
            objective=objective(world.company_a, "Financial", "Grow revenue", admin),
        )  # fmt: skip
        monthly(revenue, [88, 89, 90, 91, 92, 93, 94, 95, 96, 97], by=admin)
        on_time = services.kpi_create(
            unit=world.division_a, name="On-time delivery", code="OTD", baseline=D(0), owner=admin,
            measurement_unit="%", objective=objective(world.division_a, "Internal Process", "Deliver on time", admin),
        )  # fmt: skip
        monthly(on_time, [70, 67, 64, 61, 58, 55, 52, 49, 46, 43], by=admin)
        quality = services.kpi_create(
            unit=world.department_a, name="First-pass yield", code="FPY", baseline=D(0), owner=admin,
            objective=objective(world.department_a, "Internal Process", "Build it right", admin),
        )  # fmt: skip
        monthly(quality, [75, 76, 74, 75, 77, 76, 75, 74, 76, 75], by=admin)
        scores_recompute_full(organization=world.org_a)
    return {"on_time": on_time}


def pdf_to_pngs(data: bytes, name: str) -> list[Path]:
    """The PDF's pages as tests/screenshots/<name>-<n>.png at 60 dpi (pdftoppm numbers them itself)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-", str(SCREENSHOTS / name)], input=data, check=True)
    return sorted(SCREENSHOTS.glob(f"{name}-*.png"))


def test_an_executive_prepares_the_monthly_review(world, review_world, open_page, celery_worker_process):
    executive = factories.add_member(world.org_a, Role.EXECUTIVE).user
    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, executive.email)
    page.wait_for_url("**/o/acme/")  # an executive's home is the dashboard
    expect(page.locator("#period-label")).to_contain_text("Oct 2026")
    heat = page.locator("#heatmap")
    expect(heat).to_have_attribute("data-ready", "true")
    screenshot(page, "monthly_review_dashboard")

    # One month back: September, the month the review looks at.
    page.get_by_role("navigation", name="Period").locator("a[rel=prev]").click()
    page.wait_for_url("**period=2026-09**")
    expect(page.locator("#period-label")).to_contain_text("Sep 2026")
    expect(heat).to_have_attribute("data-ready", "true")
    operations = heat.locator(f'tr[data-unit="{world.division_a.pk}"]')
    red = operations.locator("a.heat-red").first
    expect(red).to_contain_text("Off track")
    screenshot(page, "monthly_review_dashboard_september")

    red.click()
    page.wait_for_url(f"**/o/acme/scorecards/{world.division_a.pk}/?kind=month&period=2026-09")
    expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
    screenshot(page, "monthly_review_scorecard")

    page.get_by_role("link", name="On-time delivery", exact=True).first.click()
    page.wait_for_url(f"**/o/acme/kpis/{review_world['on_time'].pk}/**")
    page.wait_for_function("document.getElementById('kpi-chart').dataset.rendered === 'true'")
    forecast = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById('kpi-chart'));
            return chart.data.datasets.filter((d) => d.forecast).map((d) => ({label: d.label, dash: d.borderDash}));
        }"""
    )
    assert forecast == [{"label": "Forecast: will miss", "dash": [4, 4]}]
    expect(page.locator("#forecast").get_by_role("heading")).to_contain_text("Will miss")
    screenshot(page, "monthly_review_kpi")

    page.get_by_role("link", name="Coaching", exact=True).first.click()
    page.get_by_role("link", name="Review packs").click()
    page.get_by_label("Unit").select_option(label="Acme Manufacturing")
    page.get_by_label("Period", exact=True).select_option("month")
    page.get_by_label("Starting with").fill(f"{SEPTEMBER:%Y-%m}")
    page.get_by_role("button", name="Make the pack").click()
    page.get_by_text("The review pack of Acme Manufacturing, Sep 2026 is being made").wait_for()
    row = page.locator("#pack-table tbody tr").first
    pdf = row.get_by_role("link", name="PDF")
    pdf.wait_for(timeout=90_000)  # the progress bar gives way to the links when the worker is done
    assert "Ready" in row.inner_text()
    screenshot(page, "monthly_review_packs")
    with page.expect_download() as download:
        pdf.click()
    assert download.value.suggested_filename == "review-pack-acme-manufacturing-month-2026-09.pdf"
    data = Path(download.value.path()).read_bytes()
    pages = pdf_pages(data)
    assert pages >= 3
    saved = pdf_to_pngs(data, "monthly_review_pack")
    assert len(saved) == pages
