"""The scorecard pages: the units' scores for a month, and one unit's perspectives, objectives and KPIs for a
month, quarter or year, with exact values, lights, coverage and sparklines; tenancy; a query count that does
not grow with the number of KPIs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bsc import strategy
from bsc.models import Perspective
from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import PendingRecompute
from kpis.recompute import scores_recompute

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

JAN, FEB, MARCH = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


class Cells(HTMLParser):
    """The text of each table row (cells in order) and of elements with an id, whitespace collapsed; the 'Why this
    score?' buttons and the rows of their panels are controls, not data, and are left out."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.by_id: dict[str, str] = {}
        self.polylines: list[str] = []
        self._cell: list[str] | None = None
        self._ids: list[tuple[str, int, list[str]]] = []
        self._depth = 0
        self._skip: int | None = None  # the depth of an explain control being skipped

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "polyline":
            self.polylines.append(attrs["points"])
            return
        if tag in ("circle", "line", "col", "br", "meta", "link", "input"):
            return
        classes = (attrs.get("class") or "").split()
        if self._skip is None and ("explain-toggle" in classes or "explain-row" in classes):
            self._skip = self._depth + 1
        if self._skip is not None:
            self._depth += 1
            return
        self._depth += 1
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self._cell = []
        if "id" in attrs:
            self._ids.append((attrs["id"], self._depth, []))

    def handle_endtag(self, tag):
        if self._skip is not None:
            if self._depth == self._skip:
                self._skip = None
            self._depth -= 1
            return
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if self._ids and self._ids[-1][1] == self._depth:
            name, _, text = self._ids.pop()
            self.by_id[name] = " ".join("".join(text).split())
        self._depth -= 1

    def handle_data(self, data):
        if self._skip is not None:
            return
        if self._cell is not None:
            self._cell.append(data)
        for _, _, text in self._ids:
            text.append(data)


def parse(response) -> Cells:
    assert response.status_code == 200
    cells = Cells()
    cells.feed(response.content.decode())
    return cells


@pytest.fixture
def scope_a(world):
    with organization_scope(world.org_a):
        yield


def band(unit, name="Customer") -> Perspective:
    return Perspective.objects.for_organization(unit.organization_id).get(scorecard__unit=unit, name=name)


def record(kpi, period, value, by):
    services.measurement_record(kpi=kpi, period=period, value=Decimal(value), by=by, schedule=False)


@pytest.fixture
def worked_example(world, scope_a):
    """The company's Customer objective with three KPIs (one without data) and one KPI serving no objective."""
    admin, unit = world.admin_a, world.company_a
    objective = strategy.objective_create(perspective=band(unit), name="Delight customers")
    orders = services.kpi_create(
        unit=unit, name="Orders", code="ORD", baseline=Decimal(100), weight=2, decimals=0, objective=objective
    )
    complaints = services.kpi_create(
        unit=unit, name="Complaint rate", code="CMP", baseline=Decimal(10), direction="decrease",
        measurement_unit="%", objective=objective,
    )  # fmt: skip
    nps = services.kpi_create(
        unit=unit, name="Net promoter score", code="NPS", baseline=Decimal(0), objective=objective
    )
    waste = services.kpi_create(
        unit=unit, name="Scrap", code="WASTE", baseline=Decimal(50), direction="decrease", measurement_unit="kg"
    )
    for kpi, value in ((orders, 200), (complaints, 5), (nps, 50), (waste, 40)):
        services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=Decimal(value), by=admin)
    for period, value in ((JAN, 120), (FEB, 140), (MARCH, 150)):
        record(orders, period, value, admin)
    record(complaints, MARCH, 6, admin)
    record(waste, MARCH, "45.25", admin)
    scores_recompute(organization=world.org_a, unit_ids={unit.pk}, months={JAN, FEB, MARCH})
    PendingRecompute.objects.for_organization(world.org_a).delete()  # computed above: nothing waits
    return objective


def detail_url(world, query="") -> str:
    return f"/o/acme/scorecards/{world.company_a.pk}/{query}"


ORDERS_TREND = "Last 12 months: 3 with data, from 120 to 150; low 120, high 150."
ONE_VALUE = "Last 12 months: 1 with data, from {0} to {0}; low {0}, high {0}."
HEAD = ["Objective / KPI", "Actual", "Target", "Score", "Status", "Trend"]


def test_the_month_view_shows_exact_values_lights_coverage_and_trends(client, world, worked_example):
    client.force_login(world.viewer_a)

    page = parse(client.get(detail_url(world, "?kind=month&period=2026-03")))

    assert page.by_id["scorecard-total"] == "Scorecard Mar 2026 60% ▲ At risk"
    assert page.by_id["scorecard-coverage"] == "3 of 4 KPIs reporting · 25% of the scorecard's weight has data"
    assert page.by_id["period-label"] == "Mar 2026"
    assert page.rows == [
        HEAD,
        ["Delight customers 2 of 3 KPIs reporting", "", "", "60%", "▲ At risk", ""],
        ["CMP Complaint rate", "6.0%", "5.0%", "80%", "▲ At risk", ONE_VALUE.format("6.0%")],
        ["NPS Net promoter score", "—", "50.0", "—", "○ No data", "No data in the last 12 months."],
        ["ORD Orders", "150", "200", "50%", "■ Off track", ORDERS_TREND],
        ["KPI", "Actual", "Target", "Score", "Status", "Trend"],
        ["WASTE Scrap", "45.3 kg", "40.0 kg", "47.5%", "■ Off track", ONE_VALUE.format("45.3 kg")],
    ]
    # Twelve months from April 2025: Orders has January to March (120, 140, 150), the rest one value or none.
    assert page.polylines == ["79.9,23 88.5,9.7 97,3"]
    html = client.get(detail_url(world, "?kind=month&period=2026-03")).content.decode()
    assert f'role="img" aria-label="{ORDERS_TREND}"' in html
    assert html.count('<circle cx="97" cy="13" r="2.2"/>') == 2  # complaints and scrap: a single dot each
    assert "KPIs not linked to an objective" in html


def test_the_quarter_and_year_views_aggregate_the_months(client, world, worked_example):
    client.force_login(world.viewer_a)

    quarter = parse(client.get(detail_url(world, "?kind=quarter&period=2026-03")))
    year = parse(client.get(detail_url(world, "?kind=year&period=2026-02")))

    assert quarter.by_id["period-label"] == "Q1 2026 Jan 2026 – Mar 2026"
    assert quarter.by_id["scorecard-total"] == "Scorecard Q1 2026 51.1% ■ Off track"
    assert [row[:5] for row in quarter.rows[1:5]] == [
        ["Delight customers 2 of 3 KPIs reporting", "", "", "51.1%", "■ Off track"],
        ["CMP Complaint rate", "6.0% average", "5.0% average", "80%", "▲ At risk"],
        ["NPS Net promoter score", "— average", "50.0 average", "—", "○ No data"],
        ["ORD Orders", "137 average", "200 average", "36.6%", "■ Off track"],
    ]
    assert quarter.rows[4][5] == "Last 12 quarters: 1 with data, from 137 to 137; low 137, high 137."
    assert year.by_id["period-label"] == "2026 Jan 2026 – Dec 2026"
    assert year.rows[4][:5] == ["ORD Orders", "137 average", "200 average", "36.6%", "■ Off track"]
    # the page says how a quarter or a year is made of its months, the cell's title in full
    assert "Q1 2026 figures are made from its months" in quarter.by_id["aggregation-note"]
    html = client.get(detail_url(world, "?kind=year&period=2026-02")).content.decode()
    assert 'title="Average over the year: the actual from its months with a value, the target from its monthly' in html


def test_the_period_links_step_and_switch_kinds(client, world, worked_example):
    client.force_login(world.viewer_a)

    html = client.get(detail_url(world, "?kind=quarter&period=2026-02")).content.decode()

    assert 'href="?kind=month&amp;period=2026-02"' in html
    assert 'href="?kind=quarter&amp;period=2026-02" aria-current="page"' in html
    assert 'href="?kind=year&amp;period=2026-02"' in html
    assert 'href="?kind=quarter&amp;period=2025-10" rel="prev"' in html
    assert 'href="?kind=quarter&amp;period=2026-04" rel="next"' in html


def test_perspectives_without_objectives_say_so(client, world, worked_example):
    client.force_login(world.viewer_a)

    html = client.get(detail_url(world, "?period=2026-03")).content.decode()

    assert html.count("No objectives in this perspective.") == 3


def test_the_index_shows_each_units_score_for_the_month(client, world, worked_example):
    client.force_login(world.viewer_a)

    page = parse(client.get("/o/acme/scorecards/?period=2026-03"))

    assert page.by_id["period-label"] == "Mar 2026"
    assert page.rows == [
        ["Unit", "Score", "Status", "Data coverage"],
        ["Acme Manufacturing", "60%", "▲ At risk", "25%"],
        ["Operations", "—", "○ No data", ""],
        ["Assembly", "—", "○ No data", ""],
    ]
    html = client.get("/o/acme/scorecards/?period=2026-03").content.decode()
    assert f'href="/o/acme/scorecards/{world.company_a.pk}/?period=2026-03"' in html


def test_another_organizations_unit_is_not_found(client, world):
    client.force_login(world.admin_a)

    assert client.get(f"/o/acme/scorecards/{world.unit_b.pk}/").status_code == 404
    assert client.get(f"/o/globex/scorecards/{world.unit_b.pk}/").status_code == 404


def test_a_bad_kind_or_period_falls_back_to_the_month_now_due(client, world, worked_example):
    from django.utils import timezone

    from bsc.org_calendar import month_shift

    client.force_login(world.viewer_a)
    today = timezone.localdate()
    due = month_shift(today.replace(day=1), -1)

    response = client.get(detail_url(world, "?kind=decade&period=March"))

    assert response.status_code == 200
    assert f'href="?kind=month&amp;period={month_shift(due, -1):%Y-%m}"'.encode() in response.content


def _add_kpis(world, count: int, start: int) -> None:
    admin, unit = world.admin_a, world.company_a
    objectives = [
        strategy.objective_create(perspective=band(unit, name), name=f"Objective {start + i}")
        for i, name in enumerate(["Financial", "Customer"])
    ]
    for i in range(start, start + count):
        kpi = services.kpi_create(
            unit=unit, name=f"KPI {i}", code=f"K{i:03d}", baseline=Decimal(0),
            objective=objectives[i % 3] if i % 3 < 2 else None,
        )  # fmt: skip
        services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=Decimal(100), by=admin)
        for period in (FEB, MARCH):
            record(kpi, period, 50 + i % 60, admin)
    scores_recompute(organization=world.org_a, unit_ids={unit.pk}, months={FEB, MARCH})
    PendingRecompute.objects.for_organization(world.org_a).delete()  # computed above: nothing waits


def _queries(client, world) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(detail_url(world, "?kind=quarter&period=2026-03"))
    assert response.status_code == 200
    return len(queries)


def test_the_query_count_is_the_same_for_10_and_100_kpis(client, world, scope_a):
    client.force_login(world.viewer_a)
    _add_kpis(world, 10, 0)
    with_10 = _queries(client, world)
    assert parse(client.get(detail_url(world, "?kind=quarter&period=2026-03"))).rows.count(HEAD) == 2

    _add_kpis(world, 90, 10)
    with_100 = _queries(client, world)

    html = client.get(detail_url(world, "?kind=quarter&period=2026-03")).content.decode()
    assert html.count('class="kpi-row"') == 100
    assert with_10 == with_100
