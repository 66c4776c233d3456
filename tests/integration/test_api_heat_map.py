"""The heat map's read API (`heat-map/`, kpis/api_heat_map.py): its cells are the stored PerspectiveScore rows of the
period (the dashboard's selector), rows follow the tree with their depth and parent and come in pages; another
organization's unit is a 404, a malformed period or one without stored scores a 400 naming it; its query count does
not grow with the number of units."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bsc import org_calendar
from bsc.models import OrgUnit, Perspective
from bsc.tenancy import organization_scope
from kpis.models import PerspectiveScore
from tests import factories
from tests.integration.test_dashboard import store_card, store_perspective

pytestmark = pytest.mark.dates
API = "/api/v1/o/acme/heat-map/"
D = Decimal


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def scored(world):
    """Stored scores of Acme for the month now due (company and Operations) and its fiscal quarter (company)."""
    due = org_calendar.due_month(world.org_a)
    quarter = org_calendar.window_start("quarter", due, world.org_a.fiscal_year_start_month)
    with organization_scope(world.org_a):
        store_card(world.company_a, "month", due, D("0.9500"), "green", "0.75")
        store_card(world.division_a, "month", due, D("0.5500"), "red", "0.5")
        store_perspective(world.company_a, "Financial", "month", due, D("0.9990"), "green", "0.5")
        store_perspective(world.company_a, "Customer", "month", due, D("0.7000"), "amber")
        store_perspective(world.division_a, "Financial", "month", due, D("0.4000"), "red", "0.6667")
        store_card(world.company_a, "quarter", quarter, D("0.6100"), "amber")
        store_perspective(world.company_a, "Financial", "quarter", quarter, D("0.2000"), "red")
    with organization_scope(world.org_b):
        store_card(world.unit_b, "month", due, D("0.1234"), "red")
    return {"due": due, "quarter": quarter}


def cell_of(row: dict, name: str) -> dict:
    return next(cell for cell in row["cells"] if cell["perspective"] == name)


def test_the_cells_are_the_stored_perspective_scores(world, scored):
    due = scored["due"]
    response = client_for(world.viewer_a).get(API, {"unit": world.company_a.pk, "period": f"{due:%Y-%m}"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["unit"] == {"id": world.company_a.pk, "name": "Acme Manufacturing"}
    assert (body["kind"], body["period"], body["label"]) == ("month", f"{due:%Y-%m}", f"{due:%b %Y}")
    assert body["columns"] == ["Financial", "Customer", "Internal Process", "Learning & Growth"]
    assert body["count"] == 3 and body["next"] is None
    rows = body["results"]
    assert [(r["unit"]["name"], r["depth"], r["parent"], r["has_children"]) for r in rows] == [
        ("Acme Manufacturing", 0, None, True),
        ("Operations", 1, world.company_a.pk, True),
        ("Assembly", 2, world.division_a.pk, False),
    ]
    with organization_scope(world.org_a):
        stored = {
            (p.perspective.scorecard.unit_id, p.perspective.name): p
            for p in PerspectiveScore.objects.filter(period_kind="month", period=due).select_related(
                "perspective__scorecard"
            )
        }
    assert len(stored) == 3
    for row in rows:
        for cell in row["cells"]:
            found = stored.get((row["unit"]["id"], cell["perspective"]))
            if found is None:
                assert (cell["stored"], cell["score"], cell["status"]) == (False, None, "grey")
            else:
                assert cell["stored"] is True
                assert (cell["score"], cell["status"], cell["coverage"]) == (
                    str(found.score), found.status, str(found.coverage)
                )  # fmt: skip
    assert cell_of(rows[1], "Financial") == {
        "perspective": "Financial", "on_scorecard": True, "stored": True, "score": "0.4000", "status": "red",
        "coverage": "0.6667",
    }  # fmt: skip
    assert rows[0]["scorecard"] == {"score": "0.9500", "status": "green", "coverage": "0.7500"}
    assert rows[2]["scorecard"] is None
    assert "Globex" not in response.content.decode()


def test_the_quarter_reads_the_quarters_rows(world, scored):
    quarter = scored["quarter"]
    response = client_for(world.admin_a).get(
        API, {"unit": world.company_a.pk, "period": f"{quarter:%Y-%m}", "kind": "quarter"}
    )
    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    assert cell_of(rows[0], "Financial")["score"] == "0.2000" and cell_of(rows[0], "Financial")["status"] == "red"
    assert rows[0]["scorecard"]["status"] == "amber"
    assert rows[1]["scorecard"] is None


def test_a_perspective_missing_from_a_units_scorecard_is_said(world, scored):
    with organization_scope(world.org_a):
        Perspective.objects.filter(scorecard__unit=world.division_a, name="Customer").delete()
    response = client_for(world.admin_a).get(API, {"unit": world.company_a.pk, "period": f"{scored['due']:%Y-%m}"})
    rows = response.json()["results"]
    assert cell_of(rows[1], "Customer") == {
        "perspective": "Customer", "on_scorecard": False, "stored": False, "score": None, "status": "grey",
        "coverage": "0.0000",
    }  # fmt: skip
    assert cell_of(rows[0], "Customer")["on_scorecard"] is True


def test_the_rows_come_in_pages_in_tree_order(world, scored):
    response = client_for(world.admin_a).get(
        API, {"unit": world.company_a.pk, "period": f"{scored['due']:%Y-%m}", "limit": 2, "offset": 1}
    )
    body = response.json()
    assert body["count"] == 3
    assert [r["unit"]["name"] for r in body["results"]] == ["Operations", "Assembly"]
    assert body["previous"] is not None and body["next"] is None
    too_many = client_for(world.admin_a).get(
        API, {"unit": world.company_a.pk, "period": f"{scored['due']:%Y-%m}", "limit": 501}
    )
    assert too_many.status_code == 400
    assert too_many.json() == {"limit": ["limit must be a whole number from 1 to 500."]}


def test_a_sub_unit_heads_its_own_heat_map(world, scored):
    response = client_for(world.admin_a).get(API, {"unit": world.division_a.pk, "period": f"{scored['due']:%Y-%m}"})
    rows = response.json()["results"]
    assert [(r["unit"]["name"], r["depth"], r["parent"]) for r in rows] == [
        ("Operations", 0, None),
        ("Assembly", 1, world.division_a.pk),
    ]


def test_bad_input_is_named(world, scored):
    client = client_for(world.admin_a)
    due = f"{scored['due']:%Y-%m}"
    foreign = client.get(API, {"unit": world.unit_b.pk, "period": due})
    assert foreign.status_code == 404
    assert foreign.json() == {"detail": f"No unit {world.unit_b.pk} in this organization."}

    malformed = client.get(API, {"unit": world.company_a.pk, "period": "2026-13"})
    assert malformed.status_code == 400
    assert list(malformed.json()) == ["period"]

    missing = client.get(API, {"unit": world.company_a.pk})
    assert missing.json() == {"period": ["Name the period: ?period=YYYY-MM, e.g. 2026-03."]}

    long_ago = client.get(API, {"unit": world.company_a.pk, "period": "2001-01"})
    assert long_ago.status_code == 400
    label = org_calendar.period_label("month", scored["due"], world.org_a.fiscal_year_start_month)
    assert long_ago.json() == {
        "period": [f"No scores are stored for Jan 2001: the organization's data runs from {label} to {label}."]
    }
    bad_kind = client.get(API, {"unit": world.company_a.pk, "period": due, "kind": "week"})
    assert bad_kind.json() == {"kind": ["“week” is not a kind of period: month, quarter or year."]}
    no_unit = client.get(API, {"period": due})
    assert no_unit.json() == {"unit": ["Name the unit whose scores you want: ?unit=<id>."]}


def test_without_stored_scores_the_period_is_a_400(world):
    due = org_calendar.due_month(world.org_a)
    response = client_for(world.admin_a).get(API, {"unit": world.company_a.pk, "period": f"{due:%Y-%m}"})
    assert response.status_code == 400
    assert response.json() == {
        "period": [f"No scores are stored for {due:%b %Y}: the organization has no stored scores yet."]
    }


def _grow(world, count: int) -> None:
    due = org_calendar.due_month(world.org_a)
    existing = OrgUnit.objects.for_organization(world.org_a).count()
    with organization_scope(world.org_a):
        for index in range(existing, count):
            parent = world.division_a if index % 2 else world.department_a
            unit = factories.make_unit(world.org_a, f"Team {index:03}", parent=parent)
            store_card(unit, "month", due, D(index % 10) / 10, ["red", "amber", "green"][index % 3])
            store_perspective(unit, "Customer", "month", due, D("0.5"), "amber")


def test_the_query_count_is_the_same_at_20_and_200_units(world, scored):
    client = client_for(world.admin_a)
    query = {"unit": world.company_a.pk, "period": f"{scored['due']:%Y-%m}", "limit": 500}
    _grow(world, 20)
    client.get(API, query)
    with CaptureQueriesContext(connection) as small:
        body = client.get(API, query).json()
    assert body["count"] == 20 and len(body["results"]) == 20
    _grow(world, 200)
    with CaptureQueriesContext(connection) as large:
        body = client.get(API, query).json()
    assert body["count"] == 200 and len(body["results"]) == 200
    assert cell_of(body["results"][-1], "Customer")["status"] == "amber"
    assert len(large.captured_queries) == len(small.captured_queries), [q["sql"][:120] for q in large.captured_queries]
