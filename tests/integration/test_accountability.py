"""Accountability figures on the coaching page: worked numbers per unit, person and month (KPI values on
time, action items done on time, session attendance), who sees which units, tenancy, query counts, and
taking attendance when a session is held."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bsc.models import Role
from bsc.org_calendar import month_shift
from bsc.tenancy import organization_scope
from coaching import services as coaching
from coaching.models import ActionItem, CoachingSession, SessionAttendance, SessionStatus
from coaching.selectors import accountability
from kpis import services as kpis
from kpis.models import Measurement
from tests import accountability_data, factories
from tests.accountability_data import BERLIN, at

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

# Early November 2026 in Berlin: October is the month now due, its values open until the 10th.
NOW = datetime(2026, 11, 5, 12, 0, tzinfo=BERLIN)
LAST = NOW.date().replace(day=1) - timedelta(days=1)


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org, **kwargs})


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def shares(figures, metric: str) -> dict[str, tuple]:
    """The months with anything to count: 'Sep 2026': (done, total), or ('open until 2026-11-10', done, total)."""
    out = {}
    for i, share in enumerate(getattr(figures, metric)):
        if share.total:
            month = f"{month_shift(LAST.replace(day=1), i - 11):%b %Y}"
            out[month] = (share.done, share.total) if share.open_until is None else (
                f"open until {share.open_until}", share.done, share.total
            )  # fmt: skip
    return out


def rows_by_name(result) -> tuple[dict, dict]:
    units = {row.subject.name: row.figures for row in result.units}
    people = {row.subject.display_name: row.figures for row in result.people}
    return units, people


@pytest.fixture
def example(world):
    return accountability_data.build(world, LAST.replace(day=1))


def figures_for(world, user, now=NOW):
    return accountability(organization=world.org_a, membership=world.membership(user), now=now)


# --- Worked numbers ---------------------------------------------------------------------------------------


def test_the_window_is_the_twelve_months_ending_with_the_month_now_due(world, example):
    result = figures_for(world, world.admin_a)
    assert [f"{m:%b %Y}" for m in result.months] == [
        "Nov 2025", "Dec 2025", "Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026",
        "Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026",
    ]  # fmt: skip
    assert (result.data_entry_day, result.time_zone) == (10, "Europe/Berlin")


def test_kpi_values_on_time_per_unit_person_and_month(world, example):
    result = figures_for(world, world.admin_a)
    units, people = rows_by_name(result)
    assert list(units) == ["Operations", "Assembly"]  # tree order; the company has nothing due
    open_oct = "open until 2026-11-10"
    assert shares(units["Assembly"], "kpi_values") == {
        "Jun 2026": (0, 2),  # M1 and the June quarter of Q never entered
        "Jul 2026": (1, 2),  # M1 on time though corrected later; X (archived in August) never entered
        "Aug 2026": (1, 1),  # entered 10 Sep 23:30 in Berlin: on time
        "Sep 2026": (1, 2),  # M1 entered 11 Oct 00:30 in Berlin (still the 10th in UTC): late; Q on time
        "Oct 2026": (open_oct, 1, 1),
    }
    assert shares(units["Operations"], "kpi_values") == {
        "Aug 2026": (1, 1), "Sep 2026": (1, 1), "Oct 2026": (open_oct, 0, 1),
    }  # fmt: skip
    assert shares(people["Hugo Head"], "kpi_values") == {
        "Jun 2026": (0, 2), "Jul 2026": (1, 1), "Aug 2026": (1, 1), "Sep 2026": (1, 2), "Oct 2026": (open_oct, 1, 1),
    }  # fmt: skip
    assert shares(people["Admin of acme"], "kpi_values") == {
        "Aug 2026": (1, 1), "Sep 2026": (1, 1), "Oct 2026": (open_oct, 0, 1),
    }  # fmt: skip
    assert shares(result.overall, "kpi_values") == {
        "Jun 2026": (0, 2), "Jul 2026": (1, 2), "Aug 2026": (2, 2), "Sep 2026": (2, 3), "Oct 2026": (open_oct, 1, 2),
    }  # fmt: skip
    assert [share.value for share in units["Assembly"].kpi_values[7:]] == [
        Decimal(0), Decimal("0.5"), Decimal(1), Decimal("0.5"), None,
    ]  # fmt: skip


def test_a_month_is_decided_once_its_data_entry_day_is_over(world, example):
    still_open = figures_for(world, world.admin_a, now=datetime(2026, 11, 10, 23, 59, tzinfo=BERLIN))
    decided = figures_for(world, world.admin_a, now=datetime(2026, 11, 11, 0, 0, tzinfo=BERLIN))
    assert still_open.overall.kpi_values[11].open_until is not None
    units, _ = rows_by_name(decided)
    assert shares(units["Assembly"], "kpi_values")["Oct 2026"] == (1, 1)
    assert shares(units["Operations"], "kpi_values")["Oct 2026"] == (0, 1)  # never entered: late
    assert decided.overall.kpi_values[11].value == Decimal("0.5")


def test_the_data_entry_day_is_the_organizations_setting(world, example):
    world.org_a.data_entry_day = 11
    world.org_a.save(update_fields=["data_entry_day"])
    units, _ = rows_by_name(figures_for(world, world.admin_a))
    assert shares(units["Assembly"], "kpi_values")["Sep 2026"] == (2, 2)  # the 11th 00:30 is now on time


def test_action_items_done_by_their_due_date(world, example):
    result = figures_for(world, world.admin_a)
    units, people = rows_by_name(result)
    # September: done on the due day at 23:30 Berlin (on time), done at 00:30 the day after (late, though
    # still the due day in UTC), one still open (late); the dropped one is left out.
    assert shares(units["Assembly"], "action_items") == {"Aug 2026": (1, 1), "Sep 2026": (1, 3)}
    assert shares(units["Operations"], "action_items") == {}
    assert shares(people["Hugo Head"], "action_items") == {"Sep 2026": (1, 3)}
    assert shares(people["Admin of acme"], "action_items") == {"Aug 2026": (1, 2)}  # with the item of no unit
    assert shares(result.overall, "action_items") == {"Aug 2026": (1, 2), "Sep 2026": (1, 3)}


def test_session_attendance_of_held_sessions(world, example):
    result = figures_for(world, world.admin_a)
    units, people = rows_by_name(result)
    # Held 30 Sep 23:30 Berlin (2 of 3 came) and 1 Oct 00:30 Berlin (1 of 2); Operations' session was held
    # without taking attendance; the cancelled and the scheduled one do not count.
    assert shares(units["Assembly"], "attendance") == {"Sep 2026": (2, 3), "Oct 2026": (1, 2)}
    assert shares(units["Operations"], "attendance") == {}
    assert shares(people["Hugo Head"], "attendance") == {"Sep 2026": (1, 1), "Oct 2026": (1, 1)}
    assert shares(people["Admin of acme"], "attendance") == {"Sep 2026": (1, 1)}
    assert shares(people["Petra Planner"], "attendance") == {"Sep 2026": (0, 1), "Oct 2026": (0, 1)}
    assert people["Petra Planner"].attendance[11].value == Decimal(0)
    assert shares(result.overall, "attendance") == {"Sep 2026": (2, 3), "Oct 2026": (1, 2)}


def test_people_are_listed_by_name(world, example):
    result = figures_for(world, world.admin_a)
    assert [row.subject.display_name for row in result.people] == ["Admin of acme", "Hugo Head", "Petra Planner"]


# --- Who sees which units ----------------------------------------------------------------------------------


def test_a_coach_sees_the_units_of_their_sessions_only(world, example):
    carla = factories.add_member(world.org_a, Role.COACH).user
    with organization_scope(world.org_a):
        coaching.session_schedule(
            unit=world.department_a, coach=carla, kind="check_in", scheduled_at=timezone.now() + timedelta(days=2)
        )
    result = figures_for(world, carla)
    units, people = rows_by_name(result)
    assert list(units) == ["Assembly"]
    assert shares(people["Admin of acme"], "action_items") == {"Aug 2026": (1, 1)}  # not the item of no unit
    assert shares(people["Admin of acme"], "kpi_values") == {}  # M2 is the division's
    assert shares(result.overall, "kpi_values") == shares(units["Assembly"], "kpi_values")


def test_a_department_head_sees_their_units_and_those_below(world, example, member_of_role):
    with organization_scope(world.org_a):
        ActionItem.objects.create(
            organization=world.org_a, title="Company item", owner=world.admin_a, unit=world.company_a,
            due_date=LAST.replace(day=3), status="done", completed_at=at(LAST.replace(day=2)),
        )  # fmt: skip
    head = member_of_role(Role.DEPARTMENT_HEAD)  # scoped to the division
    units, _ = rows_by_name(figures_for(world, head))
    assert list(units) == ["Operations", "Assembly"]
    hugo_units, _ = rows_by_name(figures_for(world, example.hugo))  # scoped to the department
    assert list(hugo_units) == ["Assembly"]
    admin_units, _ = rows_by_name(figures_for(world, world.admin_a))
    assert list(admin_units) == ["Acme Manufacturing", "Operations", "Assembly"]
    executive_units, _ = rows_by_name(figures_for(world, member_of_role(Role.EXECUTIVE)))
    assert list(executive_units) == list(admin_units)


def test_a_viewer_sees_no_figures(world, example, client):
    assert figures_for(world, world.viewer_a).units == []
    client.force_login(world.viewer_a)
    response = client.get(url("coaching_index"))
    assert response.status_code == 403
    assert b"Accountability" not in response.content


def test_a_coach_without_sessions_gets_an_empty_state_not_zero_percent(world, example, client):
    carla = factories.add_member(world.org_a, Role.COACH).user
    client.force_login(carla)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("coaching_index"))
    assert not any("GROUPING SETS" in q["sql"] for q in queries.captured_queries)
    assert response.context["figures"].has_data is False
    page = response.content.decode()
    assert "No data yet: no KPI values, action items or held sessions with attendance" in page
    assert "0%" not in page


# --- Tenancy ---------------------------------------------------------------------------------------------


def _globex_history(world):
    """Organization B: a KPI never entered on time, an overdue item, a session nobody attended."""
    with organization_scope(world.org_b):
        kpi = kpis.kpi_create(
            unit=world.unit_b, name="Globex KPI", code="GLX", baseline=Decimal(0), owner=world.member_b
        )
        kpi.__class__.objects.for_organization(world.org_b).filter(pk=kpi.pk).update(
            created_at=at(LAST.replace(month=1))
        )
        Measurement.objects.create(
            organization=world.org_b, kpi=kpi, period=month_shift(LAST, -1), value=1,
            entered_by=world.member_b, entered_at=NOW,
        )  # fmt: skip
        ActionItem.objects.create(
            organization=world.org_b, title="Globex item", owner=world.member_b, unit=world.unit_b,
            due_date=LAST.replace(day=5),
        )  # fmt: skip
        session = coaching.session_schedule(
            unit=world.unit_b, coach=world.member_b, kind="check_in", scheduled_at=timezone.now() + timedelta(days=1),
            participants=[world.member_b],
        )  # fmt: skip
        coaching.session_hold(session=session, attendees=[])
        CoachingSession.objects.for_organization(world.org_b).filter(pk=session.pk).update(
            held_at=at(LAST.replace(day=8))
        )


def test_figures_never_include_another_organizations_rows(world, example, client):
    _globex_history(world)
    result = figures_for(world, world.admin_a)
    assert shares(result.overall, "kpi_values")["Sep 2026"] == (2, 3)
    assert shares(result.overall, "action_items") == {"Aug 2026": (1, 2), "Sep 2026": (1, 3)}
    assert shares(result.overall, "attendance") == {"Sep 2026": (2, 3), "Oct 2026": (1, 2)}
    assert world.member_b.pk not in {row.subject.pk for row in result.people}
    globex = accountability(organization=world.org_b, membership=world.membership(world.member_b, world.org_b), now=NOW)
    assert [row.subject.name for row in globex.units] == ["Globex Sales"]
    assert shares(globex.overall, "action_items") == {"Oct 2026": (0, 1)}
    assert shares(globex.overall, "attendance") == {"Oct 2026": (0, 1)}
    client.force_login(world.admin_a)
    assert b"Globex" not in client.get(url("coaching_index")).content


# --- The page --------------------------------------------------------------------------------------------


@pytest.fixture
def live_example(world):
    """The worked example around today's month now due (the page uses the real clock)."""
    last = month_shift(timezone.localtime(timezone.now(), BERLIN).date().replace(day=1), -1)
    return accountability_data.build(world, last), last


def _row(page: str, table_id: str, label: str) -> str:
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return table.split(f">{label}</th>", 1)[1].split("</tr>", 1)[0]


def test_the_coaching_page_shows_the_figures_per_unit_and_person(world, live_example, client):
    _, last = live_example
    client.force_login(world.admin_a)
    response = client.get(url("coaching_index"))
    page = response.content.decode()
    previous = month_shift(last, -1)
    first = month_shift(last, -11)
    assert f'Accountability <span class="muted">· {first:%b %Y} – {last:%b %Y}</span>' in page
    assert "first entered by day 10 of the following month\n    (Europe/Berlin)" in page
    assembly = _row(page, "accountability-units", "Assembly")
    assert (
        '<span class="figure-value">33%</span><span class="muted figure-note">1 of 3 · ' + f"{previous:%b %Y}"
        in assembly
    )
    assert (
        '<span class="figure-value">50%</span><span class="muted figure-note">1 of 2 · ' + f"{last:%b %Y}" in assembly
    )
    operations = _row(page, "accountability-units", "Operations")
    assert operations.count('<span class="figure-value no-data">no data</span>') == 2  # action items, attendance
    petra = _row(page, "accountability-people", "Petra Planner")
    assert '<span class="figure-value no-data">no data</span>' in petra  # owns no KPI
    assert '<span class="figure-value">0%</span><span class="muted figure-note">0 of 1 · ' + f"{last:%b %Y}" in petra
    assert f"<title>{previous:%b %Y}: 67% (2 of 3 invited attended)</title>" in assembly
    assert page.count('<svg class="sparkbars"') == 3 * (2 + 1 + 3)  # 2 unit rows and the total, 3 people
    assert 'id="accountability-chart-data"' in page
    chart = response.context["figures"].chart
    assert chart["labels"][-1] == f"{last:%b %Y}"
    assert chart["series"][2]["values"][-2:] == [66.7, 50.0]


def test_the_page_query_count_does_not_grow_with_the_units(world, client):
    last = month_shift(timezone.localdate().replace(day=1), -1)  # the page uses the real clock

    def page_queries(count: int) -> int:
        for _ in range(count - len(units)):
            unit = factories.make_unit(world.org_a, f"Team {len(units) + 1}", parent=world.division_a)
            units.append(unit)
            with organization_scope(world.org_a):
                kpi = kpis.kpi_create(
                    unit=unit, name=f"KPI {len(units)}", code=f"T{len(units)}", baseline=Decimal(0), owner=world.admin_a
                )
                kpi.__class__.objects.for_organization(world.org_a).filter(pk=kpi.pk).update(
                    created_at=at(month_shift(last, -3))
                )
                Measurement.objects.create(
                    organization=world.org_a, kpi=kpi, period=month_shift(last, -1), value=1,
                    entered_by=world.admin_a, entered_at=at(last.replace(day=2)),
                )  # fmt: skip
                ActionItem.objects.create(
                    organization=world.org_a, title="Item", owner=world.admin_a, unit=unit, due_date=last.replace(day=9),
                )  # fmt: skip
                session = coaching.session_schedule(
                    unit=unit, coach=world.admin_a, kind="check_in", participants=[world.admin_a, world.viewer_a],
                    scheduled_at=timezone.now() + timedelta(days=1),
                )  # fmt: skip
                coaching.session_hold(session=session, attendees=[world.admin_a])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("coaching_index"))
        assert len(response.context["figures"].units) == count
        return len(queries.captured_queries)

    units: list = []
    client.force_login(world.admin_a)
    few = page_queries(3)
    many = page_queries(30)
    assert few == many
    membership = world.membership(world.admin_a)
    with CaptureQueriesContext(connection) as queries:
        accountability(organization=world.org_a, membership=membership)
    assert len(queries.captured_queries) == 5  # three figure queries, the units, the people


# --- Taking attendance -------------------------------------------------------------------------------------


@pytest.fixture
def scheduled(world):
    hugo = factories.add_member(
        world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a],
        user=factories.make_user("hugo@acme.example.com", full_name="Hugo Head"),
    ).user  # fmt: skip
    with organization_scope(world.org_a):
        session = coaching.session_schedule(
            unit=world.division_a, coach=world.admin_a, kind="monthly_review",
            scheduled_at=timezone.now() + timedelta(days=1), participants=[hugo, world.viewer_a],
        )  # fmt: skip
    return session, hugo


def attendance_of(session) -> dict[str, bool]:
    rows = SessionAttendance.objects.for_organization(session.organization_id).filter(session=session)
    return {row.user.display_name: row.attended for row in rows.select_related("user")}


def test_holding_a_session_records_who_attended(world, scheduled, client):
    session, hugo = scheduled
    client.force_login(world.admin_a)
    page = client.get(url("coaching_session", pk=session.pk)).content.decode()
    assert page.count('name="attendees"') == 2 and page.count("checked") == 2  # every participant ticked
    response = client.post(url("coaching_session_hold", pk=session.pk), {"attendance": "taken", "attendees": [hugo.pk]})
    assert flashes(response) == ["Session held; the values of 0 KPIs were captured."]
    assert attendance_of(session) == {"Hugo Head": True, "Viewer": False}
    page = client.get(url("coaching_session", pk=session.pk)).content.decode()
    assert "1 of 2 attended" in page
    assert 'Hugo Head <span class="muted">· attended</span>' in page
    assert 'Viewer <span class="muted">· absent</span>' in page


def test_holding_without_the_attendance_form_records_none(world, scheduled, client):
    session, _ = scheduled
    client.force_login(world.admin_a)
    client.post(url("coaching_session_hold", pk=session.pk))
    assert attendance_of(session) == {}
    page = client.get(url("coaching_session", pk=session.pk)).content.decode()
    assert "not taken when the session was held" in page
    assert "Record who attended" in page


def test_an_attendee_who_was_not_invited_is_refused_and_nothing_is_held(world, scheduled):
    session, _ = scheduled
    with pytest.raises(ValidationError) as caught:
        coaching.session_hold(session=session, attendees=[world.admin_a])
    assert caught.value.message_dict == {
        "attendees": ["Admin of acme is not a participant of this session; add them as a participant first."]
    }
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED
    assert attendance_of(session) == {}


def test_the_hold_form_refuses_someone_else_by_id(world, scheduled, client):
    session, _ = scheduled
    client.force_login(world.admin_a)
    response = client.post(
        url("coaching_session_hold", pk=session.pk), {"attendance": "taken", "attendees": [world.member_b.pk]}
    )
    assert flashes(response) == [
        f"The session was not held: Select a valid choice. {world.member_b.pk} is not one of the available choices."
    ]
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_attendance_of_a_held_session_can_be_corrected(world, scheduled, client):
    session, hugo = scheduled
    coaching.session_hold(session=session, attendees=[hugo])
    client.force_login(world.admin_a)
    page = client.get(url("coaching_session", pk=session.pk)).content.decode()
    assert "Correct the attendance" in page
    response = client.post(
        url("coaching_session_attendance", pk=session.pk), {"attendees": [hugo.pk, world.viewer_a.pk]}
    )
    assert flashes(response) == ["Attendance saved: 2 of 2 attended."]
    assert attendance_of(session) == {"Hugo Head": True, "Viewer": True}


def test_attendance_is_only_taken_for_held_sessions(world, scheduled, client):
    session, hugo = scheduled
    client.force_login(world.admin_a)
    response = client.post(url("coaching_session_attendance", pk=session.pk), {"attendees": [hugo.pk]})
    assert flashes(response) == [
        "Attendance was not saved: Attendance is taken for held sessions; this one is scheduled."
    ]
    assert attendance_of(session) == {}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COACH, Role.DEPARTMENT_HEAD, Role.EXECUTIVE])
def test_only_the_sessions_writers_may_correct_attendance(world, scheduled, client, member_of_role, role):
    session, hugo = scheduled
    coaching.session_hold(session=session, attendees=[hugo])
    client.force_login(member_of_role(role))
    response = client.post(url("coaching_session_attendance", pk=session.pk), {"attendees": []})
    assert response.status_code == 403
    assert attendance_of(session) == {"Hugo Head": True, "Viewer": False}


def test_another_organizations_session_is_not_found(world, client):
    with organization_scope(world.org_b):
        session = coaching.session_schedule(
            unit=world.unit_b, coach=world.member_b, kind="check_in", scheduled_at=timezone.now() + timedelta(days=1),
            participants=[world.member_b],
        )  # fmt: skip
        coaching.session_hold(session=session, attendees=[world.member_b])
    client.force_login(world.admin_a)
    response = client.post(url("coaching_session_attendance", pk=session.pk), {"attendees": []})
    assert response.status_code == 404
    assert attendance_of(session) == {"Admin of globex": True}


def test_changing_the_participants_of_a_held_session_follows_in_its_attendance(world, scheduled):
    session, hugo = scheduled
    session = coaching.session_hold(session=session, attendees=[hugo, world.viewer_a])
    coaching.session_update(session=session, participants=[hugo, world.admin_a])
    assert attendance_of(session) == {"Hugo Head": True, "Admin of acme": False}
