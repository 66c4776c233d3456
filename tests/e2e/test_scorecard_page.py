"""The scorecard pages in a real browser: a viewer opens the units' scorecards, then the company's, and
switches from month to quarter to year, reading the stored scores of a year of seeded values."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc import strategy
from bsc.models import Perspective
from bsc.org_calendar import month_shift
from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import PendingRecompute
from kpis.recompute import scores_recompute
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]

MONTHS = [month_shift(date(2025, 4, 1), i) for i in range(12)]  # April 2025 to March 2026


def band(unit, name: str) -> Perspective:
    return Perspective.objects.get(scorecard__unit=unit, name=name)


@pytest.fixture
def seeded(world):
    admin = world.admin_a
    with organization_scope(world.org_a):
        customers = strategy.objective_create(perspective=band(world.company_a, "Customer"), name="Delight customers")
        output = strategy.objective_create(perspective=band(world.company_a, "Internal Process"), name="Grow output")
        orders = services.kpi_create(
            unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100), decimals=0, objective=customers
        )
        complaints = services.kpi_create(
            unit=world.company_a, name="Complaint rate", code="CMP", baseline=Decimal(10), direction="decrease",
            measurement_unit="%", objective=customers,
        )  # fmt: skip
        shipped = services.kpi_create(
            unit=world.company_a, name="Units shipped", code="SHIP", baseline=Decimal(0), decimals=0,
            time_aggregation="sum", objective=output,
        )  # fmt: skip
        nps = services.kpi_create(unit=world.company_a, name="Net promoter score", code="NPS", baseline=Decimal(0))
        on_time = services.kpi_create(
            unit=world.division_a, name="On-time delivery", code="OTD", baseline=Decimal(80), measurement_unit="%",
            objective=strategy.objective_create(perspective=band(world.division_a, "Customer"), name="Ship on time"),
        )  # fmt: skip
        for year in (2025, 2026):
            for kpi, value in ((orders, 250), (complaints, 5), (shipped, 100), (nps, 50), (on_time, 98)):
                services.target_set_year(kpi=kpi, fiscal_year=year, mode="same", value=Decimal(value), by=admin)
        for i, month in enumerate(MONTHS):
            for kpi, value in ((orders, 100 + 10 * i), (complaints, Decimal(9) - Decimal("0.25") * i),
                               (shipped, 90 + 5 * i)):  # fmt: skip
                services.measurement_record(kpi=kpi, period=month, value=Decimal(value), by=admin, schedule=False)
        services.measurement_record(kpi=on_time, period=MONTHS[-1], value=Decimal(95), by=admin, schedule=False)
        scores_recompute(
            organization=world.org_a, unit_ids={world.company_a.pk, world.division_a.pk}, months=set(MONTHS)
        )
        PendingRecompute.objects.for_organization(world.org_a).delete()  # computed above: nothing waits


# A cell's text without its 'Why this score?' button (a control, not data).
CELL_TEXT = """cells => cells.map(cell => {
    let text = cell.innerText;
    for (const button of cell.querySelectorAll(".explain-toggle")) text = text.replace(button.innerText, "");
    return text;
})"""


def cells(page, code: str) -> list[str]:
    row = page.locator("tr.kpi-row", has=page.locator(".kpi-code", has_text=code))
    return [" ".join(text.split()) for text in row.locator("th, td").evaluate_all(CELL_TEXT)][:5]


def objective_cells(page, name: str) -> list[str]:
    row = page.locator("tr.objective-row", has_text=name)
    return [" ".join(text.split()) for text in row.locator("td").evaluate_all(CELL_TEXT)][2:4]


def test_a_viewer_reads_the_scorecard_by_month_quarter_and_year(world, seeded, page):
    log_in(page, world.viewer_a.email)
    page.goto("/o/acme/scorecards/?period=2026-03")
    expect(page.locator("#period-label")).to_have_text("Mar 2026")
    index_rows = page.locator(".scorecard-index tbody tr")
    expect(index_rows).to_have_count(3)
    expect(index_rows.nth(0)).to_contain_text("87%")
    expect(index_rows.nth(0)).to_contain_text("At risk")
    expect(index_rows.nth(1)).to_contain_text("83.3%")
    expect(index_rows.nth(2)).to_contain_text("No data")
    screenshot(page, "scorecard_index")

    page.get_by_role("link", name="Acme Manufacturing").click()
    expect(page.locator("#period-label")).to_contain_text("Mar 2026")
    expect(page.locator("#scorecard-total")).to_have_text("Scorecard Mar 2026 87% ▲ At risk")
    assert cells(page, "ORD") == ["ORD Orders", "210", "250", "73.3%", "▲ At risk"]
    assert cells(page, "CMP") == ["CMP Complaint rate", "6.3%", "5.0%", "75%", "▲ At risk"]
    assert cells(page, "SHIP") == [
        "SHIP Units shipped",
        "145",
        "100",
        "100% target passed: 145% of the way",
        "● On track",
    ]
    assert cells(page, "NPS") == ["NPS Net promoter score", "—", "50.0", "—", "○ No data"]
    assert objective_cells(page, "Delight customers") == ["74.1%", "▲ At risk"]
    expect(page.locator("tr.kpi-row svg.spark polyline")).to_have_count(3)  # twelve months of ORD, CMP and SHIP
    screenshot(page, "scorecard_detail")

    page.get_by_role("link", name="Quarter", exact=True).click()
    expect(page.locator("#period-label")).to_contain_text("Q1 2026")
    expect(page.locator("#scorecard-total")).to_have_text("Scorecard Q1 2026 84.1% ▲ At risk")
    assert cells(page, "ORD") == ["ORD Orders", "200 average", "250 average", "66.6%", "▲ At risk"]
    assert cells(page, "CMP") == ["CMP Complaint rate", "6.5% average", "5.0% average", "70%", "▲ At risk"]
    assert cells(page, "SHIP") == [
        "SHIP Units shipped",
        "420 total",
        "300 total",
        "100% target passed: 140% of the way",
        "● On track",
    ]
    assert objective_cells(page, "Delight customers") == ["68.3%", "▲ At risk"]
    screenshot(page, "scorecard_detail_quarter")

    page.get_by_role("link", name="Year", exact=True).click()
    expect(page.locator("#period-label")).to_contain_text("2026")
    expect(page.locator("#scorecard-total")).to_have_text("Scorecard 2026 51.6% ■ Off track")
    assert cells(page, "SHIP") == ["SHIP Units shipped", "420 total", "1,200 total", "35%", "■ Off track"]
    assert objective_cells(page, "Grow output") == ["35%", "■ Off track"]

    page.get_by_role("link", name="2025", exact=False).first.click()  # the previous year
    expect(page.locator("#scorecard-total")).to_contain_text("Scorecard 2025")
    assert cells(page, "ORD")[1:3] == ["140 average", "250 average"]  # April to December 2025: 100 … 180, averaged


def test_the_scorecard_prints_black_on_white_without_navigation_and_with_separate_columns(world, seeded, page):
    """Printing (print media): no navigation bar, menus, period tabs or buttons; status still in words and
    shapes; the actual and target figures keep a clear gap between them. Saves a PDF and a screenshot."""
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/scorecards/{world.company_a.pk}/?period=2026-03")
    page.emulate_media(media="print")

    for hidden in (".topbar", ".mainnav", "details.account", ".period-nav .tabs", ".export-links", ".button"):
        assert not page.locator(hidden).first.is_visible(), hidden
    expect(page.locator("h1")).to_have_text("Acme Manufacturing")
    expect(page.locator("#period-label")).to_be_visible()
    status = page.locator("tr.kpi-row", has=page.locator(".kpi-code", has_text="ORD")).locator(".light")
    expect(status).to_have_text("▲ At risk")
    assert status.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") in (
        "rgb(255, 255, 255)",
        "rgba(0, 0, 0, 0)",
    )
    # The printed figures: the right edge of each actual's text stays well clear of the left edge of its target's.
    gaps = page.evaluate(
        """() => [...document.querySelectorAll("tr.kpi-row")].map((row) => {
            const text = (cell) => { const r = document.createRange(); r.selectNodeContents(cell); return r.getBoundingClientRect(); };
            const [actual, target] = [row.cells[1], row.cells[2]].map(text);
            return target.left - actual.right;
        })"""
    )
    assert gaps and min(gaps) >= 24, gaps
    page.pdf(path=str(screenshot(page, "scorecard_print").with_suffix(".pdf")), format="A4")
