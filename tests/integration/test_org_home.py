"""The organization home (bsc/project/pages.py) composes the apps: the unit tree with each unit's stored score and
status for the month now due (a word and a shape beside the colour), each unit name a link to its scorecard,
and the person's open action items. Another organization's scores never show."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bsc import org_calendar
from bsc.models import Scorecard
from bsc.tenancy import organization_scope
from kpis.models import PeriodKind, ScorecardScore
from tests import factories

pytestmark = pytest.mark.dates

ROW = re.compile(r'<li class="depth-\d">(.*?)</li>', re.S)


def store(unit, month, score, status):
    with organization_scope(unit.organization):
        scorecard = Scorecard.objects.get(unit=unit)
        ScorecardScore.objects.create(
            organization=unit.organization, scorecard=scorecard, period_kind=PeriodKind.MONTH, period=month,
            score=score, status=status, coverage=Decimal("1"),
        )  # fmt: skip


def rows(html: str) -> list[str]:
    units = html.split('<ul class="tree unit-scores"')[1].split("</ul>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in ROW.findall(units)]


def test_each_unit_shows_its_score_and_status_for_the_month_now_due_and_links_to_its_scorecard(world, client):
    due = org_calendar.due_month(world.org_a)
    store(world.company_a, due, Decimal("0.9500"), "green")
    store(world.division_a, due, Decimal("0.7000"), "amber")
    store(world.department_a, org_calendar.month_shift(due, -1), Decimal("0.2000"), "red")  # an older month
    store(world.unit_b, due, Decimal("0.1000"), "red")  # another organization
    client.force_login(world.viewer_a)

    html = client.get("/o/acme/").content.decode()

    label = org_calendar.period_label(PeriodKind.MONTH, due, world.org_a.fiscal_year_start_month)
    assert f"· scores for {label}</span>" in html
    assert rows(html) == [
        "Acme Manufacturing Score: 95% ● On track",
        "Operations Score: 70% ▲ At risk",
        "Assembly Score: — ○ No data",
    ]
    for unit in (world.company_a, world.division_a, world.department_a):
        link = f'<a class="unit-name" href="/o/acme/scorecards/{unit.pk}/?period={due:%Y-%m}">{unit.name}</a>'
        assert link in html
        assert client.get(f"/o/acme/scorecards/{unit.pk}/?period={due:%Y-%m}").status_code == 200
    assert '<span class="light light-amber">' in html
    assert "Globex" not in html


def test_the_home_query_count_does_not_grow_with_the_units(world, client):
    client.force_login(world.viewer_a)  # admins, executives and coaches land on the dashboard (test_dashboard.py)
    client.get("/o/acme/")
    with CaptureQueriesContext(connection) as small:
        client.get("/o/acme/")
    for index in range(5):
        unit = factories.make_unit(world.org_a, f"Team {index}", parent=world.department_a)
        store(unit, org_calendar.due_month(world.org_a), Decimal("0.5"), "red")
    with CaptureQueriesContext(connection) as large:
        html = client.get("/o/acme/").content.decode()
    assert html.count("■</span> Off track") == 5
    assert len(large.captured_queries) == len(small.captured_queries)
