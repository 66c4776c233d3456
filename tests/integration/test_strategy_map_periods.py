"""The strategy map for any period (issue 16, item 2): the page and the SVG export colour each objective by its
stored ObjectiveScore of the chosen month, fiscal quarter or fiscal year; the page names the period in its heading
and carries it to the SVG link; a malformed period or kind, one before the organization's data or after the month
now due is a message on the page (which shows the month now due) and a 400 from the SVG export."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.db.models import Min
from django.utils.html import escape

from bsc import org_calendar as cal
from bsc.tenancy import organization_scope
from kpis.models import ObjectiveScore, ScorecardScore
from kpis.scorecard_display import percent
from tests.map_period_data import scored_map_months

pytestmark = pytest.mark.dates
SVG = "{http://www.w3.org/2000/svg}"
COLOURS = {"green": "#1e8a4c", "amber": "#c98a00", "red": "#c0392b", "grey": "#9aa1ad"}
HOSTILE = '<script>alert(1)</script> & "Co"'


@pytest.fixture(params=[1, 4], ids=["calendar-year", "fiscal-april"])
def scored(world, request):
    """Acme's company map: 'Grow sales' red two months before the month now due, amber the month before, green in
    it; a hostile-named objective with one value (green) two months back; 'Unscored' without KPIs. The fiscal year
    starts in January, or in April (quarters and years named 'Q1 FY 2026/27')."""
    org = world.org_a
    org.fiscal_year_start_month = request.param
    org.save(update_fields=["fiscal_year_start_month"])
    return scored_map_months(world, second=HOSTILE)


def stored(world, kind: str, start) -> dict[int, str]:
    with organization_scope(world.org_a):
        return dict(
            ObjectiveScore.objects.filter(
                objective__scorecard__unit=world.company_a, period_kind=kind, period=start
            ).values_list("objective_id", "status")
        )


def map_data(response) -> dict:
    found = re.search(r'<script id="map-data" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    return json.loads(found.group(1))


def svg_statuses(svg: str) -> dict[int, str]:
    by_colour = {colour: status for status, colour in COLOURS.items()}
    cards = re.findall(r'data-objective="(\d+)"><rect [^>]*stroke="(#[0-9a-f]+)"', svg)
    return {int(objective): by_colour[colour] for objective, colour in cards}


@pytest.mark.parametrize("kind", ["month", "quarter", "year"])
def test_the_map_of_a_month_quarter_or_year_shows_its_stored_statuses(world, client, scored, kind):
    client.force_login(world.viewer_a)
    fiscal_start = world.org_a.fiscal_year_start_month
    starts = sorted({cal.window_start(kind, month, fiscal_start) for month in scored})
    seen = set()
    for start in starts:
        label = cal.period_label(kind, start, fiscal_start)
        rows = stored(world, kind, start)
        assert rows, f"the recompute stored no {kind} rows for {label}"
        # any month of the period names it; the page shows the period's first month
        asked = cal.month_shift(start, cal.KIND_STEPS[kind] - 1)
        response = client.get(f"/o/acme/map/{world.company_a.pk}/?kind={kind}&period={asked:%Y-%m}")
        assert response.status_code == 200
        data = map_data(response)
        shown = {o["id"]: o["status"] for o in data["objectives"]}
        assert shown == {o: rows.get(o, "grey") for o in shown}
        seen |= set(shown.values())
        due_label = cal.month_label(scored[-1])
        assert data["period"] == {"kind": kind, "period": f"{start:%Y-%m}", "label": label, "due_label": due_label}
        page = response.content.decode()
        assert re.search(rf"<h1>[^<]*strategy map <span [^>]*>· {re.escape(label)}</span>", page)
        assert f'.svg?kind={kind}&amp;period={start:%Y-%m}">Download SVG</a>' in page
        assert f'<option value="{kind}" selected>' in page
        svg = client.get(f"/o/acme/map/{world.company_a.pk}.svg?kind={kind}&period={start:%Y-%m}")
        assert svg.status_code == 200
        assert svg_statuses(svg.content.decode()) == shown
    assert "grey" in seen and len(seen) >= 2  # colours differ by object and period, not all one status


def test_by_default_the_map_shows_the_month_now_due(world, client, scored):
    client.force_login(world.viewer_a)
    due = scored[-1]
    response = client.get(f"/o/acme/map/{world.company_a.pk}/")
    data = map_data(response)
    assert {o["id"]: o["status"] for o in data["objectives"]} == {
        o["id"]: stored(world, "month", due).get(o["id"], "grey") for o in data["objectives"]
    }
    page = response.content.decode()
    assert f"· {cal.month_label(due)}</span>" in page
    assert "map-period-error" not in page
    svg = client.get(f"/o/acme/map/{world.company_a.pk}.svg").content.decode()
    assert f">{cal.month_label(due)}</text>" in svg


def bad_periods(world, scored):
    """Each bad query and what its message says. The organization's data begins with its first stored score (the
    targets, set for whole fiscal years, give grey rows before the first value)."""
    due = scored[-1]
    with organization_scope(world.org_a):
        first = ScorecardScore.objects.filter(period_kind="month").aggregate(first=Min("period"))["first"]
    return [
        ("kind=week", "“week” is not a kind of period: month, quarter or year."),
        ("period=2026-13", "“2026-13” is not a period; write it as YYYY-MM, e.g. 2026-03."),
        ("kind=month&period=soon", "“soon” is not a period"),
        ("kind=quarter&period=0001-01", "0001-01 is before the organization's data."),
        ("period=" + "9" * 500, "“" + "9" * 59 + "…” is not a period"),
        (f"period={cal.month_shift(due, 1):%Y-%m}", f"{cal.month_label(cal.month_shift(due, 1))} has no scores yet"),
        (f"kind=year&period={cal.month_shift(due, 24):%Y-%m}", "has no scores yet: the latest year the map can show"),
        (
            f"kind=quarter&period={cal.month_shift(first, -12):%Y-%m}",
            f"is before the organization's data, which begins in {cal.month_label(first)}.",
        ),
    ]


def test_a_bad_period_is_a_message_on_the_page_which_shows_the_month_now_due(world, client, scored):
    client.force_login(world.viewer_a)
    due_label = cal.month_label(scored[-1])
    for query, message in bad_periods(world, scored):
        response = client.get(f"/o/acme/map/{world.company_a.pk}/?{query}")
        assert response.status_code == 200, query
        page = response.content.decode()
        error = re.search(r'<div class="flash flash-error" role="alert" id="map-period-error">([^<]*)</div>', page)
        assert error and escape(message) in error.group(1), (query, error and error.group(1))
        assert error.group(1).endswith(f"Showing {due_label}, the month now due.")
        assert map_data(response)["period"]["label"] == due_label
        assert f".svg?kind=month&amp;period={scored[-1]:%Y-%m}" in page


def test_a_bad_period_is_a_400_with_a_plain_message_from_the_svg_export(world, client, scored):
    client.force_login(world.viewer_a)
    for query, message in bad_periods(world, scored):
        response = client.get(f"/o/acme/map/{world.company_a.pk}.svg?{query}")
        assert response.status_code == 400, query
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert message in response.content.decode()


def test_the_svg_carries_the_period_beside_its_title_a_legend_and_escapes_names(world, client, scored):
    client.force_login(world.viewer_a)
    fiscal_start = world.org_a.fiscal_year_start_month
    start = cal.window_start("quarter", scored[0], fiscal_start)
    label = cal.period_label("quarter", start, fiscal_start)
    svg = client.get(f"/o/acme/map/{world.company_a.pk}.svg?kind=quarter&period={start:%Y-%m}").content.decode()
    root = ET.fromstring(svg)  # still well-formed
    texts = ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]
    assert texts[:2] == ["Acme Manufacturing: strategy map", label]
    assert (
        root.find(f"{SVG}desc").text
        == f"Acme Manufacturing: strategy map · {label}: objectives coloured by their status for {label}."
    )
    legend = root.find(f"{SVG}g[@class='legend']")
    assert ["".join(t.itertext()) for t in legend.iter(f"{SVG}text")] == [
        "Status:", "● On track", "▲ At risk", "■ Off track", "○ No data",
    ]  # fmt: skip
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script" in svg
    hostile = [
        g for g in root.iter(f"{SVG}g") if g.get("class") == "objective" and HOSTILE[:8] in "".join(g.itertext())
    ]
    assert len(hostile) == 1
    name = "".join(hostile[0].find(f"{SVG}text").itertext())
    assert "".join(name.split()) == "".join(HOSTILE.split())  # the name, as text, over its wrapped lines
    shapes = [t.text for t in hostile[0].iter(f"{SVG}text") if t.get("class") == "status-shape"]
    assert shapes == ["●"]  # green in the quarter of its one value, and said with a shape too
    scores = [t.text for t in hostile[0].iter(f"{SVG}text") if t.get("class") == "score-text"]
    with organization_scope(world.org_a):
        stored_score = ObjectiveScore.objects.get(objective__name=HOSTILE, period_kind="quarter", period=start).score
    assert scores == [percent(stored_score)]  # and its score beside the shape, as the page prints it


def test_the_map_api_reads_the_statuses_of_a_period_and_refuses_a_bad_one(world, client, scored):
    """What the editor reloads after a change or a recompute: the map with the statuses of the page's period."""
    client.force_login(world.viewer_a)
    url = f"/api/v1/o/acme/scorecards/{world.company_a.scorecard.pk}/"
    fiscal_start = world.org_a.fiscal_year_start_month
    start = cal.window_start("quarter", scored[0], fiscal_start)
    answer = client.get(f"{url}?kind=quarter&period={scored[0]:%Y-%m}").json()
    rows = stored(world, "quarter", start)
    assert {o["id"]: o["status"] for o in answer["objectives"]} == {
        o["id"]: rows.get(o["id"], "grey") for o in answer["objectives"]
    }
    default = client.get(f"{url}?kind=&period=").json()  # empty is left out: the month now due
    due_rows = stored(world, "month", scored[-1])
    assert {o["id"]: o["status"] for o in default["objectives"]} == {
        o["id"]: due_rows.get(o["id"], "grey") for o in default["objectives"]
    }
    assert client.get(f"{url}?kind=week").json() == {
        "kind": ["“week” is not a kind of period: month, quarter or year."]
    }
    refused = client.get(f"{url}?period={cal.month_shift(scored[-1], 1):%Y-%m}")
    assert refused.status_code == 400 and "has no scores yet" in refused.json()["period"][0]
