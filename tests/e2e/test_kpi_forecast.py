"""A member reads a KPI's year-end forecast on its page: a dashed line on the chart from the latest value to the year
end, and the classification and the method under it; at desktop and phone sizes. The forecast reads the current
fiscal year, so the test happens on a fixed day (18 Nov 2026, fiscal year = calendar year)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import expect

from bsc.tenancy import organization_scope
from kpis import outbox, services
from tests.conftest import SCREENSHOTS, log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

D = Decimal


@pytest.fixture
def on_course_day():
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        yield


def drawn_forecast(page, kpi) -> list[dict]:
    """The KPI page's chart, once drawn: its forecast datasets with their dash and their points by period label."""
    page.goto(f"/o/acme/kpis/{kpi.pk}/")
    page.wait_for_function("document.getElementById('kpi-chart').dataset.rendered === 'true'")
    return page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById('kpi-chart'));
            const labels = chart.data.labels;
            return chart.data.datasets.filter((d) => d.forecast).map((d) => ({
                label: d.label, dash: d.borderDash,
                points: d.data.map((v, i) => [labels[i], v]).filter(([, v]) => v !== null),
            }));
        }"""
    )


def test_the_kpi_page_draws_the_forecast_and_says_how_it_was_made(world, open_page, on_course_day):
    with organization_scope(world.org_a):
        kpi = services.kpi_create(
            unit=world.company_a, name="On-time delivery", code="OTD", baseline=D(50), measurement_unit="%"
        )
        services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=D(80), by=world.admin_a)
        for month in range(1, 11):  # 60, 61, ..., 69: one point a month, Dec on the line at 71
            services.measurement_record(
                kpi=kpi, period=date(2026, month, 1), value=D(59 + month), by=world.admin_a, schedule=False
            )
        outbox.scores_rebuild(organization=world.org_a)

    for name, viewport in (
        ("kpi_forecast", {"width": 1280, "height": 800}),
        ("kpi_forecast_phone", {"width": 390, "height": 844}),
    ):
        page = open_page(viewport=viewport)
        log_in(page, world.viewer_a.email)
        forecast = drawn_forecast(page, kpi)
        assert forecast == [
            {
                "label": "Forecast: at risk",
                "dash": [4, 4],
                "points": [["Oct 2026", 69], ["Nov 2026", 70], ["Dec 2026", 71]],
            }
        ]
        section = page.locator("#forecast")
        expect(section.get_by_role("heading")).to_have_text("Forecast to the year end ▲ At risk")
        expect(section.locator(".forecast-summary")).to_have_text(
            "At risk: 71.0% projected for Dec 2026 against the year-end target of 80.0% "
            "(70% of the way from the baseline: amber)."
        )
        expect(section.locator(".forecast-method")).to_contain_text(
            "Method: a least-squares line through the 10 values from Jan 2026 to Oct 2026 (the last 12 months up to "
            "the latest value; a month without a value is left out, the others keep their place in time), rising by "
            "1.0% a month, read at Dec 2026, the end of 2026."
        )
        screenshot(page, name)
        page.locator(".kpi-chart-section").screenshot(path=str(SCREENSHOTS / f"{name}_chart.png"))  # looked at closely


def test_a_kpi_with_too_few_values_says_why_there_is_no_forecast(world, page, on_course_day):
    with organization_scope(world.org_a):
        kpi = services.kpi_create(unit=world.company_a, name="Net promoter score", code="NPS", baseline=D(0))
        services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=D(50), by=world.admin_a)
        for month in (9, 10):
            services.measurement_record(kpi=kpi, period=date(2026, month, 1), value=D(20), by=world.admin_a)
        outbox.scores_rebuild(organization=world.org_a)
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/kpis/{kpi.pk}/")
    page.wait_for_function("document.getElementById('kpi-chart').dataset.rendered === 'true'")
    assert (
        page.evaluate("Chart.getChart(document.getElementById('kpi-chart')).data.datasets.some((d) => d.forecast)")
        is False
    )
    expect(page.locator("#forecast .forecast-summary")).to_have_text(
        "No forecast. 2 months of this fiscal year have a value; a forecast needs at least 6."
    )


def test_a_quarterly_kpi_page_draws_its_forecast_over_its_quarters(world, open_page, on_course_day):
    with organization_scope(world.org_a):
        kpi = services.kpi_create(
            unit=world.company_a, name="Customer satisfaction", code="CSAT", baseline=D(60), frequency="quarterly"
        )
        services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=D(80), by=world.admin_a)
        for i, value in enumerate(range(78, 65, -2)):  # Q1 2025 .. Q3 2026: a point a quarter less each
            services.measurement_record(
                kpi=kpi, period=date(2025 + i // 4, 3 * (i % 4) + 1, 1), value=D(value), by=world.admin_a,
                schedule=False,
            )  # fmt: skip
        outbox.scores_rebuild(organization=world.org_a)

    for name, viewport in (
        ("kpi_forecast_quarterly", {"width": 1280, "height": 800}),
        ("kpi_forecast_quarterly_phone", {"width": 390, "height": 844}),
    ):
        page = open_page(viewport=viewport)
        log_in(page, world.viewer_a.email)
        forecast = drawn_forecast(page, kpi)
        assert forecast == [
            {"label": "Forecast: will miss", "dash": [4, 4], "points": [["Q3 2026", 66], ["Q4 2026", 64]]}
        ]
        section = page.locator("#forecast")
        expect(section.get_by_role("heading")).to_have_text("Forecast to the year end ■ Will miss")
        expect(section.locator(".forecast-summary")).to_have_text(
            "Will miss: 64.0 projected for Q4 2026 against the year-end target of 80.0 "
            "(20% of the way from the baseline: red)."
        )
        expect(section.locator(".forecast-method")).to_contain_text(
            "(the last 8 quarters up to the latest value; a quarter without a value is left out"
        )
        screenshot(page, name)
        page.locator(".kpi-chart-section").screenshot(path=str(SCREENSHOTS / f"{name}_chart.png"))


def test_a_projection_beyond_the_values_widens_the_axis_and_the_zones_follow(world, page, on_course_day):
    with organization_scope(world.org_a):
        kpi = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=D(0))
        services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=D(100), by=world.admin_a)
        for month in range(5, 11):  # 20, 40, ..., 120 from May to October: December on the line at 160
            services.measurement_record(
                kpi=kpi, period=date(2026, month, 1), value=D(20 * (month - 4)), by=world.admin_a, schedule=False
            )
        outbox.scores_rebuild(organization=world.org_a)
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/kpis/{kpi.pk}/")
    page.wait_for_function("document.getElementById('kpi-chart').dataset.rendered === 'true'")
    drawn = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById('kpi-chart'));
            const zones = chart.data.datasets.filter((d) => d.zone).flatMap((d) => d.data.filter((v) => v !== null));
            const forecast = chart.data.datasets.find((d) => d.forecast).data.filter((v) => v !== null);
            return {max: chart.options.scales.y.max, top: Math.max(...zones), end: forecast[forecast.length - 1],
                    server: JSON.parse(document.getElementById('kpi-chart-data').textContent).yMax};
        }"""
    )
    assert drawn["end"] == 160  # the year end on the line
    assert drawn["server"] < 160 < drawn["max"]  # above the server's limit, inside the drawn axis
    assert drawn["top"] == drawn["max"]  # the green zone's open top follows the axis
