"""The review pack's heat map (coaching/review_pack_content.py) is the dashboard's (kpis/dashboard.py) at a fixed depth:
the same units in the same order, the same columns in the same order and the same cells (stored scores with status
and coverage, "—" without one, blank where a unit has no perspective of that name), in a month, a quarter and a
year; units further down are counted, not shown; and its query count does not grow with the number of units."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bsc import org_calendar, strategy
from bsc.models import OrgUnit, Scorecard
from bsc.tenancy import organization_scope
from coaching.review_pack_content import HEAT_MAP_LEVELS, subunit_heat_map
from kpis.dashboard import heat_map
from kpis.scorecard_display import percent, share_percent
from tests import factories
from tests.integration.test_dashboard import store_card, store_perspective

pytestmark = pytest.mark.dates
D = Decimal
CLASSIC = ["Financial", "Customer", "Internal Process", "Learning & Growth"]


def add_perspective(unit, name):
    strategy.perspective_create(scorecard=Scorecard.objects.get(unit=unit), name=name)


@pytest.fixture
def tree(world):
    """Acme with a team under Assembly (three levels below the company), perspectives only sub-units use
    ("Zero waste" by Operations and Assembly, "Apprentices" by Assembly, "Night shifts" by the team alone) and
    stored scores in the month now due, its fiscal quarter and its fiscal year."""
    org = world.org_a
    due = org_calendar.due_month(org)
    periods = {
        kind: org_calendar.window_start(kind, due, org.fiscal_year_start_month) for kind in org_calendar.KIND_STEPS
    }
    team = factories.make_unit(org, "Line 1", parent=world.department_a)
    with organization_scope(org):
        add_perspective(world.division_a, "Zero waste")
        add_perspective(world.department_a, "Apprentices")
        add_perspective(world.department_a, "Zero waste")
        add_perspective(team, "Night shifts")
        for kind, period in periods.items():
            store_card(world.company_a, kind, period, D("0.9500"), "green", "0.75")
            store_card(world.division_a, kind, period, D("0.5500"), "red", "0.5")
            store_perspective(world.division_a, "Financial", kind, period, D("0.4000"), "red", "0.6667")
            store_perspective(world.division_a, "Zero waste", kind, period, D("0.8000"), "amber")
            store_perspective(world.department_a, "Apprentices", kind, period, None, "grey", "0")
            store_perspective(team, "Night shifts", kind, period, D("1"), "green")
    return periods


def pack_heat(world, kind, period):
    with organization_scope(world.org_a):
        return subunit_heat_map(organization=world.org_a, unit=world.company_a, kind=kind, period=period)


def shown(cell) -> str:
    return "absent" if cell.absent else f"{cell.score} {cell.light.status} {cell.coverage}".strip()


@pytest.mark.parametrize("kind", ["month", "quarter", "year"])
def test_the_packs_heat_map_is_the_dashboards_two_levels_deep(world, tree, kind):
    heat = pack_heat(world, kind, tree[kind])

    # A perspective only sub-units use comes at its usual place, the one more units use first (the dashboard's
    # rule); the team's own one is not a column, as the team is not shown.
    assert heat.columns == [*CLASSIC, "Zero waste", "Apprentices"]
    assert [(line.name, line.depth) for line in heat.lines] == [("Operations", 1), ("Assembly", 2)]
    assert heat.left_out == 1  # Line 1
    operations, assembly = heat.lines
    assert shown(operations.card) == "55% red 50%"
    assert [shown(cell) for cell in operations.cells] == [
        "40% red 66%", "— grey", "— grey", "— grey", "80% amber 100%", "absent",
    ]  # fmt: skip
    assert shown(assembly.card) == "— grey"
    assert [shown(cell) for cell in assembly.cells] == ["— grey"] * 4 + ["— grey", "— grey"]

    with organization_scope(world.org_a), CaptureQueriesContext(connection) as read:
        period, columns, rows = heat_map(organization=world.org_a, unit=world.company_a, kind=kind, month=tree[kind])
    assert len(read.captured_queries) == 5  # the pack's three, and the data-entry counts the pack does not show
    assert period == tree[kind]
    assert columns == [*heat.columns, "Night shifts"]  # the dashboard unfolds down to the team
    dashboard_rows = [row for row in rows if 0 < row.depth <= HEAT_MAP_LEVELS]
    assert [row.unit.name for row in dashboard_rows] == [line.name for line in heat.lines]
    for row, line in zip(dashboard_rows, heat.lines, strict=True):
        for score, absent, cell in zip(row.cells[:-1], row.absent[:-1], line.cells, strict=True):
            if absent:
                assert cell.absent
            elif score is None:
                assert (cell.score, cell.light.status, cell.coverage) == ("—", "grey", "")
            else:
                coverage = share_percent(score.coverage) if score.score is not None else ""
                assert (cell.score, cell.light.status, cell.coverage) == (percent(score.score), score.status, coverage)


def test_the_query_count_is_the_same_at_20_and_200_units(world, tree):
    due = tree["month"]

    def grow(count):
        with organization_scope(world.org_a):
            for index in range(OrgUnit.objects.count(), count):
                parent = world.division_a if index % 2 else world.company_a
                unit = factories.make_unit(world.org_a, f"Team {index:03}", parent=parent)
                store_perspective(unit, "Customer", "month", due, D("0.5"), "amber")

    grow(20)
    with CaptureQueriesContext(connection) as small:
        heat = pack_heat(world, "month", due)
    assert len(heat.lines) == 18  # all but the company and Line 1
    grow(200)
    with CaptureQueriesContext(connection) as large:
        heat = pack_heat(world, "month", due)
    assert len(heat.lines) == 198 and heat.left_out == 1
    assert shown(heat.lines[-1].cells[1]) == "50% amber 100%"
    assert len(large.captured_queries) == len(small.captured_queries) == 3, [
        q["sql"][:120] for q in large.captured_queries
    ]
