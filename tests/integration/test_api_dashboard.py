"""The dashboard's read API (`dashboard/`, bsc/project/api_dashboard.py): every figure is the dashboard page's for the
same unit and period (the page's own function, bsc.project.dashboard.dashboard_figures, and the "Likely to miss"
selector): the scorecard's score with its trend, the data entered, the objectives off track with their follow-up as
the caller's role may read it, the red KPIs without an action, the movers and the KPIs forecast to miss the year;
bad input is a 400 or 404 naming what is wrong; the query count does not grow with the number of units."""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from bsc import org_calendar
from bsc.models import Role, Scorecard
from bsc.project.dashboard import dashboard_figures, figure
from bsc.tenancy import organization_scope
from kpis.dashboard import likely_to_miss
from kpis.models import ScorecardScore
from kpis.scorecard_display import percent
from tests import factories
from tests.integration.test_api_scores import scored  # noqa: F401 (the fixture: 18 Nov 2026, scores rebuilt)
from tests.integration.test_dashboard import _grow, red_objective_followed_up, store_card, text

pytestmark = pytest.mark.dates
API = "/api/v1/o/acme/dashboard/"
D = Decimal


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def four(value) -> str | None:
    """A score as the API writes it: a decimal string with four places."""
    return None if value is None else f"{value:.4f}"


def page_of(world, user, query: str) -> str:
    client = APIClient()
    client.force_login(user)
    return client.get(f"/o/acme/dashboard/{query}").content.decode()


def section(html: str, marker: str) -> str:
    return text(html.split(marker)[1].split("</table>")[0].split("</div>")[0])


def test_every_figure_is_the_pages_for_a_month(world, scored):  # noqa: F811
    response = client_for(world.admin_a).get(API, {"unit": world.company_a.pk, "period": "2026-06"})
    assert response.status_code == 200, response.json()
    body = response.json()
    org = world.org_a
    with organization_scope(org):
        figures = dashboard_figures(
            organization=org, membership=world.membership(world.admin_a), unit=world.company_a, kind="month",
            month=date(2026, 6, 1),
        )  # fmt: skip
        likely = likely_to_miss(organization=org, unit=world.company_a)
        card = ScorecardScore.objects.get(scorecard__unit=world.company_a, period_kind="month", period="2026-06-01")
    board = figures.board
    assert (body["unit"], body["kind"], body["period"], body["label"]) == (
        {"id": world.company_a.pk, "name": "Acme Manufacturing"}, "month", "2026-06", "Jun 2026"
    )  # fmt: skip
    assert body["scorecard"] == {"score": four(card.score), "status": card.status, "coverage": four(card.coverage)}

    html = page_of(world, world.admin_a, "?period=2026-06")
    assert percent(card.score) in section(html, 'id="dash-score"')
    # the trend: the page's 12 months, each with the figure the page prints
    assert [point["period"] for point in body["trend"]] == [f"{m:%Y-%m}" for m, _ in board.trend]
    assert body["trend"][0]["label"] == "Jul 2025" and body["trend"][-1]["label"] == "Jun 2026"
    figures_list = section(html, 'class="trend-list"')
    for point, (_month, stored) in zip(body["trend"], board.trend, strict=True):
        assert point["score"] == four(getattr(figure(stored), "score", None))
        assert f"{point['label']}: {percent(None if point['score'] is None else D(point['score']))}" in figures_list
    assert body["trend"][0] == {"period": "2025-07", "label": "Jul 2025", "score": None, "status": "grey",
                                "coverage": "0.0000"}  # fmt: skip
    assert body["trend"][-1]["score"] == four(card.score)

    # data entered: the subtree's totals and the unit's and its children's counts, as the page says them
    entered = body["data_entered"]
    assert (entered["entered"], entered["due"], entered["short_units"]) == (board.entered, board.due, board.short_units)
    assert [(u["unit"]["name"], u["entered"], u["due"]) for u in entered["units"]] == [
        (row.unit.name, row.entered, row.due) for row in board.rows
    ]
    assert [u["unit"]["name"] for u in entered["units"]] == ["Acme Manufacturing", "Operations"]

    # red KPIs without an action: OTD, 55 from 50 towards 80 (0.1667), no comment entered with its value
    reds = body["red_kpis_without_action"]
    assert reds["count"] == figures.red_kpis_total == 1
    assert reds["results"] == [
        {"kpi": {"id": scored["on_time"].pk, "code": "OTD", "name": "On time"},
         "unit": {"id": world.company_a.pk, "name": "Acme Manufacturing"}, "score": "0.1667", "status": "red",
         "cause": ""}
    ]  # fmt: skip
    assert "OTD On time Acme Manufacturing 16.6% ■ Off track Cause missing" in section(html, 'id="red-kpis"')

    # movers since May, by the page's figures (KPIs: SAL 100 → 105 of 120, OTD 56 → 55 towards 80)
    movers = body["movers"]
    assert (movers["previous"], movers["previous_label"]) == ("2026-05", "May 2026")
    for name in ("units_up", "units_down", "kpis_up", "kpis_down"):
        expected = [
            (m.unit.pk, None if m.kpi is None else m.kpi.code, four(m.before), four(m.after), four(m.change))
            for m in getattr(board, name)
        ]
        got = [
            (m["unit"]["id"], m["kpi"] and m["kpi"]["code"], m["before"], m["after"], m["change"]) for m in movers[name]
        ]
        assert got == expected, name
        for line in movers[name]:
            shown = section(html, f'id="{name.replace("_", "-")}">')
            assert f"{percent(D(line['before']))} → {percent(D(line['after']))}" in shown
    assert [m["kpi"]["code"] for m in movers["kpis_up"]] == ["SAL"]
    assert [m["kpi"]["code"] for m in movers["kpis_down"]] == ["OTD"]

    # likely to miss the year: OTD, 60, 59 … 55 projected to 49 against 80 (the page's panel says the same)
    assert body["likely_to_miss"]["count"] == len(likely) == 1
    assert body["likely_to_miss"]["fiscal_year_label"] == "2026"
    [miss] = body["likely_to_miss"]["results"]
    assert (miss["kpi"]["code"], miss["value"], miss["target"], miss["aggregation"], miss["status"]) == (
        "OTD", "49.000000", "80.000000", "level", "red"
    )  # fmt: skip
    assert body["objectives_off_track"] == {"count": 0, "results": []}  # Grow sales is amber (0.6389)


@pytest.mark.parametrize(("kind", "period", "label"), [("quarter", "2026-04", "Q2 2026"), ("year", "2026-01", "2026")])
def test_a_quarter_and_a_year_are_their_stored_rows(world, scored, kind, period, label):  # noqa: F811
    response = client_for(world.viewer_a).get(API, {"unit": world.company_a.pk, "period": period, "kind": kind})
    assert response.status_code == 200, response.json()
    body = response.json()
    org = world.org_a
    with organization_scope(org):
        card = ScorecardScore.objects.get(scorecard__unit=world.company_a, period_kind=kind, period=f"{period}-01")
        figures = dashboard_figures(
            organization=org, membership=world.membership(world.viewer_a), unit=world.company_a, kind=kind,
            month=date.fromisoformat(f"{period}-01"),
        )  # fmt: skip
    assert (body["kind"], body["period"], body["label"]) == (kind, period, label)
    assert body["scorecard"] == {"score": four(card.score), "status": card.status, "coverage": four(card.coverage)}
    assert body["red_kpis_without_action"]["count"] == figures.red_kpis_total
    assert [r["kpi"]["code"] for r in body["red_kpis_without_action"]["results"]] == [
        r.kpi.code for r in figures.red_kpis
    ]
    assert (body["data_entered"]["entered"], body["data_entered"]["due"]) == (
        figures.board.entered, figures.board.due
    )  # fmt: skip
    # the trend is monthly whatever the kind: the 12 months ending with the period's last month
    last = "2026-06" if kind == "quarter" else "2026-10"  # a year reaches past the month now due (Oct 2026)
    assert body["trend"][-1]["period"] == last and len(body["trend"]) == 12
    html = page_of(world, world.viewer_a, f"?kind={kind}&period={period}")
    assert percent(card.score) in section(html, 'id="dash-score"')


def test_left_out_the_unit_is_the_top_one_and_the_period_the_one_now_due(world, scored):  # noqa: F811
    body = client_for(world.admin_a).get(API).json()
    assert body["unit"]["name"] == "Acme Manufacturing"
    assert (body["kind"], body["period"]) == ("month", "2026-10")  # 18 Nov 2026: October is due
    body = client_for(world.admin_a).get(API, {"kind": "quarter"}).json()
    assert (body["kind"], body["period"], body["label"]) == ("quarter", "2026-10", "Q4 2026")


@pytest.mark.parametrize(
    ("query", "status", "answer"),
    [
        ({"unit": "x1"}, 400, {"unit": ["A valid integer is required."]}),
        ({"period": "2026-6"}, 400, {"period": ["“2026-6” is not a period; write it as YYYY-MM, e.g. 2026-03."]}),
        ({"period": "2026-13"}, 400, {"period": ["“2026-13” is not a period; write it as YYYY-MM, e.g. 2026-03."]}),
        ({"kind": "decade"}, 400, {"kind": ["“decade” is not a kind of period: month, quarter or year."]}),
        (
            {"period": "2026-05", "kind": "quarter"}, 400,
            {"period": ["2026-05 does not start a fiscal quarter: name it by its first month, 2026-04 for Q2 2026."]},
        ),
        (
            {"period": "2019-01"}, 400,
            {"period": ["No scores are stored for Jan 2019: the organization's data runs from Jan 2026 to Dec 2026."]},
        ),
        ({"unit": "GLOBEX"}, 404, {"detail": "No unit {GLOBEX} in this organization."}),
        ({"unit": "999999999"}, 404, {"detail": "No unit 999999999 in this organization."}),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_what_is_wrong(world, scored, query, status, answer):  # noqa: F811
    units = {"GLOBEX": str(world.unit_b.pk)}
    query = {name: units.get(value, value) for name, value in query.items()}
    response = client_for(world.admin_a).get(API, query)
    assert response.status_code == status
    expected = {k: (v.replace("{GLOBEX}", units["GLOBEX"]) if isinstance(v, str) else v) for k, v in answer.items()}
    assert response.json() == expected


def test_a_unit_without_a_scorecard_has_no_dashboard(world, scored):  # noqa: F811
    with organization_scope(world.org_a):
        Scorecard.objects.filter(unit=world.department_a).delete()
    response = client_for(world.admin_a).get(API, {"unit": world.department_a.pk, "period": "2026-06"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Assembly has no scorecard, so it has no dashboard."}


def test_a_default_period_outside_the_data_is_named_with_the_pages_note(world):
    due = org_calendar.due_month(world.org_a)
    before = org_calendar.month_shift(due, -2)
    with organization_scope(world.org_a):
        store_card(world.company_a, "month", before, D("0.5"), "amber")
    response = client_for(world.admin_a).get(API)
    assert response.status_code == 400
    label = org_calendar.period_label("month", due, world.org_a.fiscal_year_start_month)
    span = org_calendar.period_label("month", before, world.org_a.fiscal_year_start_month)
    assert response.json() == {
        "period": [
            f"{label} is outside this organization's data: its stored scores run from {span} to {span}. "
            "Name a period: ?period=YYYY-MM."
        ]
    }


def test_another_organization_is_not_found(world, scored):  # noqa: F811
    response = client_for(world.member_b).get(API, {"unit": world.company_a.pk, "period": "2026-06"})
    assert response.status_code == 404
    assert b"On time" not in response.content
    assert client_for(world.member_b).get(API).status_code == 404


@pytest.fixture
def off_track(world, as_committed):
    """A red objective of Operations in the month now due, owned by Acme's admin, with a KPI discussed in a session
    a coach held and two open action items on that KPI."""
    due = org_calendar.due_month(world.org_a)
    coach = factories.add_member(world.org_a, Role.COACH).user
    other_coach = factories.add_member(world.org_a, Role.COACH).user
    with as_committed(), organization_scope(world.org_a):
        store_card(world.company_a, "month", due, D("0.9500"), "green", "0.75")
        objective, session = red_objective_followed_up(world, coach)
    return {"objective": objective, "held_at": session.held_at, "coach": coach, "other_coach": other_coach}


def _off_track_row(html: str) -> str:
    return section(html, 'id="red-objectives"').split("Cut waste", 1)[1]


@pytest.mark.parametrize("who", ["admin", "coach", "other_coach", "viewer"])
def test_each_role_sees_the_follow_up_the_page_shows_it(world, off_track, who):
    user = {"admin": world.admin_a, "viewer": world.viewer_a}.get(who) or off_track[who]
    response = client_for(user).get(API)
    assert response.status_code == 200, response.json()
    [red] = response.json()["objectives_off_track"]["results"]
    assert response.json()["objectives_off_track"]["count"] == 1
    objective = off_track["objective"]
    assert {k: red[k] for k in ("objective", "name", "perspective", "unit", "owner", "owner_name", "score", "status")} == {
        "objective": objective.pk, "name": "Cut waste", "perspective": "Financial",
        "unit": {"id": world.division_a.pk, "name": "Operations"}, "owner": world.admin_a.pk,
        "owner_name": world.admin_a.display_name, "score": "0.3000", "status": "red",
    }  # fmt: skip
    row = _off_track_row(page_of(world, user, ""))
    held = timezone.localtime(off_track["held_at"]).date()
    if who == "viewer":  # reads no coaching: the page has no such columns
        assert (red["open_action_items"], red["last_discussed"]) == (None, None)
        assert row.endswith("Admin of acme")
        return
    last = red["last_discussed"] and datetime.fromisoformat(red["last_discussed"])
    if who == "other_coach":  # a coach reads the sessions they coach
        assert (red["open_action_items"], last) == (2, None)
        assert row.endswith("Admin of acme 2 Not yet")
    else:
        assert (red["open_action_items"], last) == (2, off_track["held_at"])
        assert row.endswith(f"Admin of acme 2 {held:%-d %b %Y}")


def test_the_query_count_is_the_same_at_20_and_200_units(world, client):
    client = client_for(world.admin_a)
    _grow(world, 20)
    client.get(API)
    with CaptureQueriesContext(connection) as small:
        body = client.get(API).json()
    assert (body["data_entered"]["entered"], body["data_entered"]["due"]) == (0, 17)  # each team's KPI
    _grow(world, 200)
    with CaptureQueriesContext(connection) as large:
        body = client.get(API).json()
    assert body["data_entered"]["due"] == 197
    assert len(body["data_entered"]["units"]) == 2  # the unit and its child, as on the page
    assert len(large.captured_queries) == len(small.captured_queries), [q["sql"][:120] for q in large.captured_queries]
    assert re.match(r"\d{4}-\d{2}", body["period"])
