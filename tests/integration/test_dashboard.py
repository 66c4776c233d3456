"""The executive dashboard (issue 16, bsc/project/dashboard.py): its heat-map cells are the stored perspective and
scorecard scores of the period with their coverage; the period switch reads the quarter's and year's rows; red
objectives come with their owner, open action items and the last session of their unit that discussed them; bad
periods and units are answered with a message (another organization's unit is a 404); it is the home of admins,
executives and coaches; and its query count does not grow with the number of units."""

import html as html_lib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bsc import org_calendar, strategy
from bsc.models import OrgUnit, Perspective, Role, Scorecard
from bsc.tenancy import organization_scope
from coaching import services as coaching
from kpis import services
from kpis.models import ObjectiveScore, PerspectiveScore, ScorecardScore
from tests import factories

pytestmark = pytest.mark.dates
D = Decimal


def store_card(unit, kind, period, score, status, coverage="1"):
    scorecard = Scorecard.objects.get(unit=unit)
    ScorecardScore.objects.create(
        organization=unit.organization, scorecard=scorecard, period_kind=kind, period=period,
        score=score, status=status, coverage=D(coverage),
    )  # fmt: skip


def store_perspective(unit, name, kind, period, score, status, coverage="1"):
    perspective = Perspective.objects.get(scorecard__unit=unit, name=name)
    PerspectiveScore.objects.create(
        organization=unit.organization, perspective=perspective, period_kind=kind, period=period,
        score=score, status=status, coverage=D(coverage),
    )  # fmt: skip


def text(html: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


def heat_rows(html: str) -> dict[str, list[str]]:
    """Unit name → its cells' text, from the page's heat map or from the rows an unfolding loads."""
    body = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else html
    rows = {}
    for row in re.findall(r"<tr [^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows[text(re.search(r"<a [^>]*>(.*?)</a>", cells[0]).group(1))] = [text(c) for c in cells[1:]]
    return rows


def heat_columns(html: str) -> list[str]:
    head = html.split('<table class="heatmap" id="heatmap">')[1].split("</thead>")[0]
    return [text(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


@pytest.fixture
def scored(world):
    """Stored scores of Acme for the month now due and the month before it, and for its fiscal quarter."""
    due = org_calendar.due_month(world.org_a)
    before = org_calendar.month_shift(due, -1)
    quarter = org_calendar.window_start("quarter", due, world.org_a.fiscal_year_start_month)
    with organization_scope(world.org_a):
        store_card(world.company_a, "month", due, D("0.9500"), "green", "0.75")
        store_card(world.company_a, "month", before, D("0.9000"), "green")
        store_card(world.division_a, "month", due, D("0.5500"), "red", "0.5")
        store_card(world.division_a, "month", before, D("0.8000"), "amber")
        store_perspective(world.company_a, "Financial", "month", due, D("0.9990"), "green", "0.5")
        store_perspective(world.company_a, "Customer", "month", due, D("0.7000"), "amber")
        store_perspective(world.division_a, "Financial", "month", due, D("0.4000"), "red", "0.6667")
        store_card(world.company_a, "quarter", quarter, D("0.6100"), "amber")
        store_perspective(world.company_a, "Financial", "quarter", quarter, D("0.2000"), "red")
    with organization_scope(world.org_b):
        store_card(world.unit_b, "month", due, D("0.1234"), "red")
    return {"due": due, "before": before, "quarter": quarter}


def test_heat_map_cells_are_the_stored_scores_with_status_and_coverage(world, client, scored):
    client.force_login(world.viewer_a)
    response = client.get("/o/acme/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert heat_columns(html) == [
        "Unit", "Scorecard", "Financial", "Customer", "Internal Process", "Learning & Growth", "Data entered"
    ]  # fmt: skip
    rows = heat_rows(html)
    assert rows["Acme Manufacturing"][:3] == [
        "95% ● On track 75% data",
        "99.9% ● On track 50% data",
        "70% ▲ At risk 100% data",
    ]
    assert rows["Operations"][:3] == ["55% ■ Off track 50% data", "40% ■ Off track 66% data", "— ○ No data"]
    assert list(rows) == ["Acme Manufacturing", "Operations"]  # the unit and its children; deeper rows on unfolding
    below = client.get(f"/o/acme/dashboard/{world.company_a.pk}/rows/{world.division_a.pk}/").content.decode()
    assert heat_rows(below) == {"Assembly": ["— ○ No data", "— ○ No data", "— ○ No data", "— ○ No data",
                                             "— ○ No data", "Nothing due"]}  # fmt: skip
    assert f'data-rows="/o/acme/dashboard/{world.company_a.pk}/rows/{world.division_a.pk}/?kind=month' in html
    due = scored["due"]
    red_cell = (
        f'<a class="heat heat-red" href="/o/acme/scorecards/{world.division_a.pk}/?kind=month&amp;period={due:%Y-%m}">'
    )
    assert red_cell in html
    assert "Globex" not in html and "12.3%" not in html
    assert 'id="dash-score"' in html and "95%" in text(html.split('id="dash-score"')[1].split("</p>")[0])


def test_the_period_switch_reads_the_quarter(world, client, scored):
    client.force_login(world.admin_a)
    html = client.get(f"/o/acme/dashboard/?kind=quarter&period={scored['due']:%Y-%m}").content.decode()
    rows = heat_rows(html)
    assert rows["Acme Manufacturing"][:2] == ["61% ▲ At risk 100% data", "20% ■ Off track 100% data"]
    assert rows["Operations"][0] == "— ○ No data"
    label = org_calendar.period_label("quarter", scored["quarter"], world.org_a.fiscal_year_start_month)
    assert f"<title>Dashboard · Acme Manufacturing · {label} · Scorecard</title>" in html
    assert '<a href="?kind=quarter&amp;period=' in html or '<a href="?kind=quarter&period=' in html


def test_movers_compare_with_the_previous_period(world, client, scored):
    client.force_login(world.admin_a)
    html = client.get("/o/acme/dashboard/").content.decode()
    up = text(html.split('id="units-up">')[1].split("</div>")[0])
    down = text(html.split('id="units-down">')[1].split("</div>")[0])
    assert up == "Units up Acme Manufacturing 90% → 95% +5 pts"
    assert down == "Units down Operations 80% → 55% −25 pts"


def test_a_unit_dashboard_shows_the_unit_and_the_units_below_it(world, client, scored):
    client.force_login(world.admin_a)
    html = client.get(f"/o/acme/dashboard/{world.division_a.pk}/").content.decode()
    assert list(heat_rows(html)) == ["Operations", "Assembly"]
    assert "55%" in text(html.split('id="dash-score"')[1].split("</p>")[0])


def red_objective_followed_up(world, coach):
    """'Cut waste', an objective of Operations owned by Acme's admin, red in the month now due, whose KPI a session
    `coach` held discussed, with two open action items on that KPI (call it in the organization's scope).
    (objective, held session)"""
    due = org_calendar.due_month(world.org_a)
    financial = Perspective.objects.get(scorecard__unit=world.division_a, name="Financial")
    objective = strategy.objective_create(perspective=financial, name="Cut waste")
    objective.owner = world.admin_a
    objective.save()
    kpi = services.kpi_create(unit=world.division_a, name="Scrap", code="SCR", baseline=D(0), objective=objective)
    ObjectiveScore.objects.create(
        organization=world.org_a, objective=objective, period_kind="month", period=due,
        score=D("0.3000"), status="red", coverage=D("1"),
    )  # fmt: skip
    session = coaching.session_schedule(
        unit=world.division_a, coach=coach, kind="monthly_review", scheduled_at=timezone.now() + timedelta(hours=2)
    )
    coaching.session_hold(session=session, kpis=[kpi])
    for title in ("Sort the scrap", "Train the night shift"):
        coaching.action_item_create(
            organization=world.org_a, title=title, owner=world.admin_a, due_date=due + timedelta(days=60),
            created_by=world.admin_a, unit=world.division_a, kpi=kpi,
        )  # fmt: skip
    session.refresh_from_db()
    return objective, session


def test_red_objectives_with_owner_open_items_and_the_last_session_that_discussed_them(world, client, as_committed):
    coach = factories.add_member(world.org_a, Role.COACH).user
    with as_committed(), organization_scope(world.org_a):
        objective, session = red_objective_followed_up(world, coach)
        held = timezone.localtime(session.held_at).date()
    client.force_login(world.admin_a)
    html = client.get("/o/acme/dashboard/").content.decode()
    table = html.split('id="red-objectives"')[1].split("</table>")[0]
    assert text(table).endswith(f"Cut waste Financial Operations 30% ■ Off track Admin of acme 2 {held:%-d %b %Y}")
    client.force_login(world.viewer_a)  # a viewer reads no coaching: no action items, no sessions
    html = client.get("/o/acme/dashboard/").content.decode()
    assert "Open actions" not in html and "Cut waste" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?period=2026-13", "“2026-13” is not a period; write it as YYYY-MM, e.g. 2026-03. Showing"),
        ("?kind=decade", "“decade” is not a kind of period: month, quarter or year. Showing the month."),
        ("?period=1999-01", "Jan 1999 is outside this organization's data: its stored scores run from"),
    ],
)
def test_a_bad_period_is_named_and_the_page_still_answers(world, client, scored, query, message):
    client.force_login(world.admin_a)
    response = client.get("/o/acme/dashboard/" + query)
    assert response.status_code == 200
    assert message in text(response.content.decode())


def test_another_organizations_unit_is_a_404_and_a_unit_without_scorecard_says_so(world, client):
    client.force_login(world.admin_a)
    assert client.get(f"/o/acme/dashboard/{world.unit_b.pk}/").status_code == 404
    assert client.get(f"/o/acme/dashboard/{world.company_a.pk}/rows/{world.unit_b.pk}/").status_code == 404
    # rows of a unit that is not below the dashboard's unit
    assert client.get(f"/o/acme/dashboard/{world.department_a.pk}/rows/{world.division_a.pk}/").status_code == 404
    assert client.get("/o/globex/dashboard/").status_code == 404
    with organization_scope(world.org_a):
        Scorecard.objects.filter(unit=world.department_a).delete()
    response = client.get(f"/o/acme/dashboard/{world.department_a.pk}/")
    assert response.status_code == 404
    assert "Assembly has no scorecard, so it has no dashboard." in response.content.decode()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EXECUTIVE, Role.COACH, Role.DEPARTMENT_HEAD, Role.VIEWER])
def test_the_dashboard_is_the_home_of_admins_executives_and_coaches(world, client, member_of_role, role):
    client.force_login(member_of_role(role))
    home = client.get("/o/acme/").content.decode()
    dashboard_first = role in (Role.ADMIN, Role.EXECUTIVE, Role.COACH)
    assert ('id="heatmap"' in home) is dashboard_first
    assert ('class="tree unit-scores"' in home) is not dashboard_first
    # everyone may read it: the navigation has it (as the home of those who land on it)
    assert ('<a href="/o/acme/dashboard/"' in home) is not dashboard_first
    assert ('<a href="/o/acme/" aria-current="page">Dashboard</a>' in home) is dashboard_first
    assert client.get("/o/acme/dashboard/").status_code == 200


def _grow(world, count: int) -> None:
    """Units under the division until the organization has `count` units below it, each with a scorecard score
    and a perspective score for the month now due and the month before."""
    due = org_calendar.due_month(world.org_a)
    existing = OrgUnit.objects.for_organization(world.org_a).count()
    with organization_scope(world.org_a):
        for index in range(existing, count):
            parent = world.division_a if index % 2 else world.department_a
            unit = factories.make_unit(world.org_a, f"Team {index:03}", parent=parent)
            store_card(unit, "month", due, D(index % 10) / 10, ["red", "amber", "green"][index % 3])
            store_card(unit, "month", org_calendar.month_shift(due, -1), D("0.5"), "amber")
            store_perspective(unit, "Customer", "month", due, D("0.5"), "amber")
            services.kpi_create(unit=unit, name=f"KPI {index}", code=f"K{index:03}", baseline=D(0))


def test_the_query_count_is_the_same_at_20_and_200_units(world, client):
    client.force_login(world.admin_a)
    rows_url = f"/o/acme/dashboard/{world.company_a.pk}/rows/{world.division_a.pk}/"
    _grow(world, 20)
    client.get("/o/acme/dashboard/")
    with CaptureQueriesContext(connection) as small:
        html = client.get("/o/acme/dashboard/").content.decode()
    with CaptureQueriesContext(connection) as small_rows:
        below = client.get(rows_url).content.decode()
    assert "Data entered for" in html and "<strong>0 of 17</strong> values due" in html  # each team's KPI
    assert len(heat_rows(below)) == 10  # Assembly and the nine teams under Operations
    _grow(world, 200)
    with CaptureQueriesContext(connection) as large:
        html = client.get("/o/acme/dashboard/").content.decode()
    with CaptureQueriesContext(connection) as large_rows:
        below = client.get(rows_url).content.decode()
    assert "<strong>0 of 197</strong> values due" in html
    assert len(heat_rows(below)) == 100
    assert len(large.captured_queries) == len(small.captured_queries), [q["sql"][:120] for q in large.captured_queries]
    assert len(large_rows.captured_queries) == len(small_rows.captured_queries)
