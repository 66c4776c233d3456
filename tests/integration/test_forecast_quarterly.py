"""Quarterly and annual KPIs get a year-end forecast by the monthly method with their own window (8 quarters, at
least 4 values; 5 years, at least 3), read from their stored quarter and year scores: on the KPI page, in the API and
in the dashboard's "Likely to miss" panel. The forecasts read the current fiscal year, so these tests happen on a
fixed day (18 Nov 2026) whatever BSC_TEST_NOW says."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from bsc.tenancy import organization_scope
from kpis import services
from kpis.forecast_selectors import kpi_forecasts
from kpis.recompute import scores_recompute_full
from tests.integration.test_api_scores import API, client_for

pytestmark = pytest.mark.dates
D = Decimal


@pytest.fixture
def on_the_day():
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        yield


def quarter_starts(first: date, count: int) -> list[date]:
    return [
        date(first.year + (first.month - 1 + 3 * i) // 12, (first.month - 1 + 3 * i) % 12 + 1, 1) for i in range(count)
    ]


def record(kpi, admin, values: dict[date, int]):
    for period, value in values.items():
        services.measurement_record(kpi=kpi, period=period, value=D(value), by=admin, schedule=False)


@pytest.fixture
def quarterly(world, on_the_day):
    """Acme's company unit: customer satisfaction measured each quarter, 78, 76, ..., 66 from Q1 2025 to Q3 2026
    (a point a quarter less each), baseline 60, target 80 each quarter of 2026; an annual engagement survey, 2022..2025
    at 70, 72, 74, 76, target 2026 80 from 60; a monthly KPI beside them. Stored scores rebuilt."""
    admin = world.admin_a
    with organization_scope(world.org_a):
        csat = services.kpi_create(
            unit=world.company_a, name="Customer satisfaction", code="CSAT", baseline=D(60), frequency="quarterly"
        )
        services.target_set_year(kpi=csat, fiscal_year=2026, mode="same", value=D(80), by=admin)
        record(csat, admin, dict(zip(quarter_starts(date(2025, 1, 1), 7), range(78, 65, -2), strict=True)))
        survey = services.kpi_create(
            unit=world.company_a, name="Engagement", code="ENG", baseline=D(60), frequency="annual"
        )
        services.target_set_year(kpi=survey, fiscal_year=2026, mode="same", value=D(80), by=admin)
        record(survey, admin, {date(2022 + i, 1, 1): 70 + 2 * i for i in range(4)})
        monthly = services.kpi_create(unit=world.company_a, name="On time", code="OTD", baseline=D(50))
        services.target_set_year(kpi=monthly, fiscal_year=2026, mode="same", value=D(80), by=admin)
        record(monthly, admin, {date(2026, m, 1): 60 + m for m in range(1, 8)})
        scores_recompute_full(organization=world.org_a)
    return {"csat": csat, "survey": survey, "monthly": monthly}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_a_quarterly_kpi_has_its_forecast_on_its_page(world, client, quarterly):
    client.force_login(world.viewer_a)
    page = client.get(f"/o/acme/kpis/{quarterly['csat'].pk}/").content.decode()
    section = text(page.split('id="forecast"')[1].split("</section>")[0])
    # 78 - 2x from Q1 2025 (position 1 of Q4 2024..Q3 2026): Q4 2026 (position 8) is 64; (64 - 60) / 20 = 0.2, red
    assert "Will miss: 64.0 projected for Q4 2026 against the year-end target of 80.0" in section
    assert (
        "Method: a least-squares line through the 7 values from Q1 2025 to Q3 2026 (the last 8 quarters up to the "
        "latest value; a quarter without a value is left out, the others keep their place in time), falling by 2.0 a "
        "quarter, read at Q4 2026, the end of 2026." in section
    )
    assert '"labels": ["Q3 2026", "Q4 2026"]' in page and '"values": [66.0, 64.0]' in page  # the dashed line


def test_the_api_gives_the_forecast_of_quarterly_and_annual_kpis(world, quarterly):
    body = client_for(world.viewer_a).get(API + f"kpis/{quarterly['csat'].pk}/forecast/").json()
    assert (body["available"], body["classification"], body["aggregation"]) == (True, "will_miss", "level")
    assert (body["value"], body["target"], body["slope"], body["year_end"]) == (
        "64.000000", "80.000000", "-2.000000", "2026-10",
    )  # fmt: skip
    assert body["fitted"] == ["2025-01", "2025-04", "2025-07", "2025-10", "2026-01", "2026-04", "2026-07"]
    assert body["line"] == [{"period": "2026-07", "value": "66.000000"}, {"period": "2026-10", "value": "64.000000"}]
    # 70, 72, 74, 76 (2022..2025) -> 2026 at 78; (78 - 60) / 20 = 0.9: green
    survey = client_for(world.viewer_a).get(API + f"kpis/{quarterly['survey'].pk}/forecast/").json()
    assert (survey["classification"], survey["value"], survey["year_end"]) == ("on_course", "78.000000", "2026-01")
    assert survey["method"].startswith(
        "Method: a least-squares line through the 4 values from 2022 to 2025 (the last 5"
    )


def test_the_dashboard_lists_a_quarterly_kpi_likely_to_miss(world, client, quarterly):
    client.force_login(world.viewer_a)
    panel = client.get(f"/o/acme/dashboard/{world.company_a.pk}/likely/", headers={"HX-Request": "true"})
    listed = [
        text(item) for item in re.findall(r"<li>(.*?)</li>", panel.content.decode().split('id="likely">')[1], re.S)
    ]
    assert listed == ["CSAT Customer satisfaction Acme Manufacturing · year end projected 64.0 against 80.0"]


def test_forecasts_of_all_frequencies_take_one_query(world, quarterly, django_assert_num_queries):
    kpis = [quarterly["csat"], quarterly["survey"], quarterly["monthly"]]
    with organization_scope(world.org_a), django_assert_num_queries(1):
        forecasts = kpi_forecasts(organization=world.org_a, kpis=kpis)
    # OTD: 61..67 Jan..Jul, Dec on the line at 72; (72 - 50) / 30 = 0.7333: amber
    assert [(forecasts[k.pk].classification, forecasts[k.pk].value) for k in kpis] == [
        ("will_miss", D(64)), ("on_course", D(78)), ("at_risk", D(72)),
    ]  # fmt: skip


def test_a_fiscal_year_starting_in_april_reads_its_own_quarters(world, on_the_day):
    """FY 2026/27 (April): quarters start in Apr, Jul, Oct and Jan; the year ends with Q4, starting in Jan 2027."""
    world.org_a.fiscal_year_start_month = 4
    world.org_a.save(update_fields=["fiscal_year_start_month"])
    admin = world.admin_a
    with organization_scope(world.org_a):
        kpi = services.kpi_create(
            unit=world.company_a, name="Audit findings closed", code="AUD", baseline=D(40), frequency="quarterly"
        )
        services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=D(70), by=admin)
        # Jul 2025 (Q2 FY 2025/26) .. Oct 2026 (Q3 FY 2026/27): 50, 52, ..., 60 -> Jan 2027 at 62: 0.7333, amber
        record(kpi, admin, dict(zip(quarter_starts(date(2025, 7, 1), 6), range(50, 61, 2), strict=True)))
        scores_recompute_full(organization=world.org_a)
    body = client_for(world.viewer_a).get(API + f"kpis/{kpi.pk}/forecast/").json()
    assert (body["fiscal_year_label"], body["year_end"], body["value"], body["classification"]) == (
        "FY 2026/27", "2027-01", "62.000000", "at_risk",
    )  # fmt: skip
    assert body["summary"].startswith("At risk: 62.0 projected for Q4 FY 2026/27 against the year-end target of 70.0")
