"""The cascade page (the unit tree with each unit's scorecard score for a period) and a roll-up KPI's
"what drives this number" section, with exact values; tenancy; a query count that does not grow with units."""

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
from kpis.outbox import scores_rebuild
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

MARCH = date(2026, 3, 1)


class CascadeRows(HTMLParser):
    """The text of each cascade row (whitespace collapsed) with its depth in the tree."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[int, str]] = []
        self._lists = 0
        self._text: list[str] | None = None
        self._spans = 0  # spans open inside the current row

    def handle_starttag(self, tag, attrs):
        if tag == "ul":
            self._lists += 1
        elif tag == "span" and self._text is not None:
            self._spans += 1
        elif tag == "span" and dict(attrs).get("class") == "cascade-row":
            self._text, self._spans = [], 0

    def handle_endtag(self, tag):
        if tag == "ul":
            self._lists -= 1
        elif tag == "span" and self._text is not None:
            if self._spans:
                self._spans -= 1
            else:
                self.rows.append((self._lists - 1, " ".join("".join(self._text).split())))
                self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def cascade_rows(response) -> list[tuple[int, str]]:
    assert response.status_code == 200
    parser = CascadeRows()
    parser.feed(response.content.decode())
    return parser.rows


def band(unit, name="Customer") -> Perspective:
    return Perspective.objects.for_organization(unit.organization_id).get(scorecard__unit=unit, name=name)


def record(kpi, value, by, period=MARCH):
    services.measurement_record(kpi=kpi, period=period, value=Decimal(value), by=by, schedule=False)


@pytest.fixture
def rolled_up(world):
    """Company TOP (sum of its children's aligned KPIs) ← Operations MID (sum) and Sales SAL; MID ← Assembly
    ASM and Paint PNT (no data). Each KPI serves its unit's Customer objective."""
    admin = world.admin_a
    with organization_scope(world.org_a):
        sales = factories.make_unit(world.org_a, "Sales", parent=world.company_a)
        paint = factories.make_unit(world.org_a, "Paint", parent=world.division_a)

        def kpi(unit, code, *, aligned_to=None, weight=1, target=None, **fields):
            objective = strategy.objective_create(perspective=band(unit), name=f"Objective of {code}")
            k = services.kpi_create(
                unit=unit, name=f"{code} volume", code=code, baseline=Decimal(0), aligned_to=aligned_to,
                weight=Decimal(weight), objective=objective, decimals=0, measurement_unit="t", **fields,
            )  # fmt: skip
            if target:
                services.target_set_year(kpi=k, fiscal_year=2026, mode="same", value=Decimal(target), by=admin)
            return k

        top = kpi(world.company_a, "TOP", source="rollup", rollup_method="sum", target=200)
        mid = kpi(world.division_a, "MID", source="rollup", rollup_method="sum", aligned_to=top, target=100)
        sal = kpi(sales, "SAL", aligned_to=top, weight=3, target=100)
        asm = kpi(world.department_a, "ASM", aligned_to=mid, target=50)
        kpi(paint, "PNT", aligned_to=mid, target=50)
        record(asm, 40, admin)
        record(sal, 50, admin)
        scores_rebuild(organization=world.org_a)
    return {"top": top, "mid": mid, "sal": sal, "asm": asm, "sales": sales, "paint": paint}


def test_the_cascade_shows_every_units_score_and_status_down_the_tree(client, world, rolled_up):
    client.force_login(world.viewer_a)

    response = client.get("/o/acme/scorecards/cascade/?kind=month&period=2026-03")

    # TOP 90 of 200 → 45 %; MID 40 of 100 → 40 %; SAL 50 %; ASM 80 %; Paint has no data.
    assert cascade_rows(response) == [
        (0, "Acme Manufacturing 45% ■ Off track 25% of the weight has data"),
        (1, "Operations 40% ■ Off track 25% of the weight has data"),
        (2, "Assembly 80% ▲ At risk 25% of the weight has data"),
        (2, "Paint — ○ No data"),
        (1, "Sales 50% ■ Off track 25% of the weight has data"),
    ]
    html = response.content.decode()
    assert f'href="/o/acme/scorecards/{world.division_a.pk}/?kind=month&amp;period=2026-03"' in html
    assert html.count("<details open>") == 1  # the top level starts open, deeper levels collapsed
    assert '<h2 class="period-label" id="period-label">Mar 2026' in html


def test_the_cascade_shows_a_quarter(client, world, rolled_up):
    client.force_login(world.viewer_a)

    rows = cascade_rows(client.get("/o/acme/scorecards/cascade/?kind=quarter&period=2026-02"))

    assert rows[0] == (0, "Acme Manufacturing 45% ■ Off track 25% of the weight has data")  # Q1: only March has data


def test_the_scorecard_index_links_to_the_cascade(client, world):
    client.force_login(world.viewer_a)

    html = client.get("/o/acme/scorecards/?period=2026-03").content.decode()

    assert 'href="/o/acme/scorecards/cascade/?period=2026-03"' in html


def test_another_organization_cannot_see_the_cascade(client, world, rolled_up):
    client.force_login(world.member_b)

    assert client.get("/o/acme/scorecards/cascade/").status_code == 404
    rows = cascade_rows(client.get("/o/globex/scorecards/cascade/?period=2026-03"))
    assert [name.split(" —")[0] for _, name in rows] == ["Globex", "Globex Sales"]


def _cascade_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/o/acme/scorecards/cascade/?kind=year&period=2026-03")
    assert response.status_code == 200
    return len(queries)


def test_the_cascade_query_count_is_the_same_for_5_and_40_units(client, world):
    client.force_login(world.viewer_a)
    with organization_scope(world.org_a):
        factories.make_unit(world.org_a, "Sales", parent=world.company_a)
        factories.make_unit(world.org_a, "Paint", parent=world.division_a)
    with_5 = _cascade_queries(client)
    assert len(cascade_rows(client.get("/o/acme/scorecards/cascade/"))) == 5

    with organization_scope(world.org_a):
        parents = [world.company_a, world.division_a, world.department_a]
        for i in range(35):
            team = factories.make_unit(world.org_a, f"Team {i:02d}", parent=parents[i % len(parents)])
            if i < 5:
                parents.append(team)  # five levels deep at most
    with_40 = _cascade_queries(client)

    assert len(cascade_rows(client.get("/o/acme/scorecards/cascade/"))) == 40
    assert with_40 == with_5


# --- What drives a roll-up's number ---------------------------------------------------------------------


def drivers(client, kpi) -> list[list[str]]:
    from tests.integration.test_scorecard_page import parse

    html = client.get(f"/o/acme/kpis/{kpi.pk}/?until=2026-12")
    return [row for row in parse(html).rows if len(row) == 5]


def test_a_rollup_kpi_page_lists_each_childs_contribution(client, world, rolled_up):
    client.force_login(world.viewer_a)

    top_rows = drivers(client, rolled_up["top"])
    mid_rows = drivers(client, rolled_up["mid"])

    assert top_rows == [
        ["Unit", "KPI", "Actual", "Weight", "Share of the number"],
        ["Operations", "MID MID volume", "40 t", "1", "44%"],  # 40 of 90
        ["Sales", "SAL SAL volume", "50 t", "3", "56%"],
    ]
    assert mid_rows == [
        ["Unit", "KPI", "Actual", "Weight", "Share of the number"],
        ["Assembly", "ASM ASM volume", "40 t", "1", "100%"],
        ["Paint", "PNT PNT volume", "—", "1", "No data"],
    ]
    html = client.get(f"/o/acme/kpis/{rolled_up['top'].pk}/?until=2026-12").content.decode()
    assert "Mar 2026: the child units' KPIs aligned to TOP, combined by sum." in html
    assert f'href="/o/acme/kpis/{rolled_up["mid"].pk}/"' in html


def test_a_weighted_average_rollup_shows_weighted_shares(client, world, rolled_up):
    client.force_login(world.viewer_a)
    with organization_scope(world.org_a):
        services.kpi_update(kpi=rolled_up["top"], rollup_method="weighted_average")
        scores_rebuild(organization=world.org_a)

    rows = drivers(client, rolled_up["top"])

    # (1 × 40 + 3 × 50) / 4 = 47.5: Operations 40 / 190, Sales 150 / 190
    assert rows[1:] == [
        ["Operations", "MID MID volume", "40 t", "1", "21%"],
        ["Sales", "SAL SAL volume", "50 t", "3", "79%"],
    ]


def test_a_manual_kpi_page_has_no_drivers_section(client, world, rolled_up):
    client.force_login(world.viewer_a)

    html = client.get(f"/o/acme/kpis/{rolled_up['asm'].pk}/").content.decode()

    assert "What drives this number" not in html


def test_another_organizations_rollup_kpi_is_not_found(client, world, rolled_up):
    client.force_login(world.member_b)

    assert client.get(f"/o/acme/kpis/{rolled_up['top'].pk}/").status_code == 404
    assert client.get(f"/o/globex/kpis/{rolled_up['top'].pk}/").status_code == 404
