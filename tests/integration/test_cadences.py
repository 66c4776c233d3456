"""Cadences: the sessions they generate (weekly, every two weeks, monthly; across daylight-saving changes;
idempotent), moved and cancelled occurrences that survive regeneration, edits that reshape only untouched
future sessions, bad input, the beat task, and the cadence pages with who may do what."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bsc.models import Organization, Role
from bsc.tenancy import organization_scope
from coaching import cadences, services
from coaching.models import ActionItem, Cadence, CoachingSession, SessionStatus
from coaching.tasks import cadences_generate_organization
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

BERLIN = ZoneInfo("Europe/Berlin")


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org, **kwargs})


@pytest.fixture
def coach(world):
    return factories.carla_coach(world)


@pytest.fixture
def head(world):
    return factories.hugo_head(world)


@pytest.fixture
def berlin(world):
    Organization.objects.filter(pk=world.org_a.pk).update(time_zone="Europe/Berlin")
    world.org_a.refresh_from_db()
    world.division_a.organization.refresh_from_db()
    return world.org_a


def make(unit, coach, **fields):
    values = {
        "kind": "check_in", "frequency": "weekly", "weekday": 0, "time_of_day": time(9, 0),
        "starts_on": timezone.localdate(), "participants": [],
    } | fields  # fmt: skip
    with organization_scope(unit.organization):
        return cadences.cadence_create(unit=unit, coach=coach, **values)


def sessions(cadence, **filters):
    return list(
        CoachingSession.objects.for_organization(cadence.organization_id)
        .filter(cadence=cadence, **filters)
        .order_by("occurrence")
    )


def generate(cadence, now, horizon=None):
    with organization_scope(cadence.organization_id):
        return cadences.cadence_generate(cadence=cadence, now=now, horizon=horizon)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- The rule --------------------------------------------------------------------------------------------


def test_a_weekly_cadence_generates_each_week_at_its_local_time(world, coach):
    cadence = make(world.division_a, coach, weekday=0, starts_on=date(2031, 1, 1))  # a Wednesday
    assert generate(cadence, utc(2031, 1, 1, 12), timedelta(weeks=3)) == 3
    assert [(s.occurrence, s.scheduled_at) for s in sessions(cadence)] == [
        (date(2031, 1, 6), utc(2031, 1, 6, 9)),
        (date(2031, 1, 13), utc(2031, 1, 13, 9)),
        (date(2031, 1, 20), utc(2031, 1, 20, 9)),
    ]
    session = sessions(cadence)[0]
    assert (session.kind, session.coach, session.unit, session.status) == (
        "check_in",
        coach,
        world.division_a,
        "scheduled",
    )


def test_every_two_weeks_counts_from_the_start_whatever_the_day_it_is_generated(world, coach):
    cadence = make(world.division_a, coach, frequency="biweekly", weekday=3, starts_on=date(2031, 1, 1))
    generate(cadence, utc(2031, 1, 10, 12), timedelta(weeks=4))  # first Thursday is 2 Jan; 9 Jan is past
    assert [s.occurrence for s in sessions(cadence)] == [date(2031, 1, 16), date(2031, 1, 30)]
    generate(cadence, utc(2031, 1, 20, 12), timedelta(weeks=4))
    assert [s.occurrence for s in sessions(cadence)] == [date(2031, 1, 16), date(2031, 1, 30), date(2031, 2, 13)]


@pytest.mark.parametrize(
    "week,expected",
    [
        (2, [date(2031, 1, 14), date(2031, 2, 11), date(2031, 3, 11)]),  # 2nd Tuesday
        (-1, [date(2031, 1, 28), date(2031, 2, 25), date(2031, 3, 25)]),  # last Tuesday
        (4, [date(2031, 1, 28), date(2031, 2, 25), date(2031, 3, 25)]),  # 4th Tuesday
        (1, [date(2031, 2, 4), date(2031, 3, 4)]),  # 1st Tuesday (7 Jan is before the start)
    ],
)
def test_a_monthly_cadence_takes_the_nth_or_last_weekday(world, coach, week, expected):
    cadence = make(
        world.division_a, coach, frequency="monthly", weekday=1, week_of_month=week, starts_on=date(2031, 1, 10),
        kind="monthly_review",
    )  # fmt: skip
    generate(cadence, utc(2031, 1, 1), timedelta(days=89))  # to 31 March
    assert [s.occurrence for s in sessions(cadence)] == expected


def test_the_end_date_stops_the_series(world, coach):
    cadence = make(world.division_a, coach, starts_on=date(2031, 1, 1), ends_on=date(2031, 1, 13))
    generate(cadence, utc(2031, 1, 1), timedelta(weeks=8))
    assert [s.occurrence for s in sessions(cadence)] == [date(2031, 1, 6), date(2031, 1, 13)]


def test_a_berlin_session_stays_at_nine_local_across_both_daylight_saving_changes(world, berlin, coach):
    cadence = make(world.division_a, coach, weekday=0, starts_on=date(2030, 3, 18))
    generate(cadence, utc(2030, 3, 17, 12), timedelta(days=22))  # clocks go forward on Sunday 31 March 2030
    spring = sessions(cadence)
    assert [s.scheduled_at for s in spring] == [
        utc(2030, 3, 18, 8), utc(2030, 3, 25, 8), utc(2030, 4, 1, 7), utc(2030, 4, 8, 7)
    ]  # fmt: skip
    assert {s.scheduled_at.astimezone(BERLIN).time() for s in spring} == {time(9, 0)}
    generate(cadence, utc(2030, 10, 20, 12), timedelta(days=10))  # and back on Sunday 27 October 2030
    autumn = sessions(cadence, occurrence__gte=date(2030, 10, 21))
    assert [s.scheduled_at for s in autumn] == [utc(2030, 10, 21, 7), utc(2030, 10, 28, 8)]
    assert {s.scheduled_at.astimezone(BERLIN).time() for s in autumn} == {time(9, 0)}


def test_a_time_missing_on_the_spring_forward_day_moves_an_hour_later(world, berlin, coach):
    cadence = make(world.division_a, coach, weekday=6, time_of_day=time(2, 30), starts_on=date(2030, 3, 31))
    generate(cadence, utc(2030, 3, 30), timedelta(days=2))
    assert sessions(cadence)[0].scheduled_at.astimezone(BERLIN).time() == time(3, 30)


def test_generating_again_adds_nothing(world, coach):
    cadence = make(world.division_a, coach, starts_on=date(2031, 1, 1))
    assert generate(cadence, utc(2031, 1, 1), timedelta(weeks=4)) == 4
    assert generate(cadence, utc(2031, 1, 1), timedelta(weeks=4)) == 0
    assert generate(cadence, utc(2031, 1, 2), timedelta(weeks=5)) == 1
    assert len(sessions(cadence)) == 5


def test_creating_a_cadence_generates_its_upcoming_sessions_with_participants(world, coach, head):
    tomorrow = timezone.localdate() + timedelta(days=1)
    cadence = make(world.division_a, coach, weekday=tomorrow.weekday(), participants=[head], agenda="KPIs, open items")
    assert cadence.generated == 8
    generated = sessions(cadence)
    assert [s.occurrence for s in generated] == [tomorrow + timedelta(weeks=i) for i in range(8)]
    assert all(list(s.participants.all()) == [head] and s.agenda == "KPIs, open items" for s in generated)


# --- Moving and cancelling one occurrence -------------------------------------------------------------------


def test_a_moved_and_a_cancelled_occurrence_survive_regeneration(world, coach):
    tomorrow = timezone.localdate() + timedelta(days=1)
    cadence = make(world.division_a, coach, weekday=tomorrow.weekday())
    first, second = sessions(cadence)[:2]
    new_time = second.scheduled_at + timedelta(days=1, hours=3)
    with organization_scope(world.org_a):
        services.session_move(session=second, scheduled_at=new_time)
        services.session_cancel(session=first)
        assert cadences.cadence_generate(cadence=cadence) == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == SessionStatus.CANCELLED
    assert (second.scheduled_at, second.moved, second.occurrence) == (new_time, True, tomorrow + timedelta(weeks=1))
    assert len(sessions(cadence)) == 8
    assert len(sessions(cadence, occurrence=tomorrow)) == 1


def test_moving_into_the_past_or_a_held_session_is_refused(world, coach):
    cadence = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    session = sessions(cadence)[0]
    with pytest.raises(ValidationError) as caught, organization_scope(world.org_a):
        services.session_move(session=session, scheduled_at=utc(2020, 1, 6, 9))
    assert caught.value.message_dict == {"scheduled_at": ["06 Jan 2020 09:00 is in the past; choose a future time."]}
    with organization_scope(world.org_a):  # tomorrow's session: held early, whatever the hour now
        services.session_hold(session=session, confirm_early=True)
    with pytest.raises(ValidationError) as caught, organization_scope(world.org_a):
        services.session_move(session=session, scheduled_at=timezone.now() + timedelta(days=3))
    assert caught.value.messages == ["This session is already held; only a scheduled session can be moved."]


# --- Editing a cadence --------------------------------------------------------------------------------------


def test_an_edit_reshapes_only_the_untouched_future_sessions(world, coach, head):
    start = timezone.localdate() + timedelta(days=1)
    cadence = make(world.division_a, coach, weekday=start.weekday(), agenda="Standard")
    s = sessions(cadence)
    with organization_scope(world.org_a):
        services.session_hold(session=s[0], confirm_early=True)  # tomorrow's: held early, whatever the hour now
        services.session_cancel(session=s[1])
        services.session_move(session=s[2], scheduled_at=s[2].scheduled_at + timedelta(hours=2))
        services.session_update(session=s[3], notes="Prepared")
        services.action_item_create(
            organization=world.org_a, title="Bring the figures", owner=head, due_date=start, created_by=coach,
            session=s[4],
        )  # fmt: skip
        services.session_update(session=s[5], agenda="Special agenda")
    touched = {x.pk: (x.occurrence, x.status, x.moved) for x in sessions(cadence)[:6]}
    new_day = start + timedelta(days=1)
    with organization_scope(world.org_a):
        cadence = cadences.cadence_update(
            cadence=cadence, weekday=new_day.weekday(), time_of_day=time(10, 30), agenda="New", participants=[head]
        )
    # Two untouched sessions (the 7th and 8th week) left the rule; eight new-day sessions came.
    assert cadence.regenerated == {"updated": 0, "removed": 2, "created": 8}
    now_sessions = sessions(cadence)
    kept = {x.pk: (x.occurrence, x.status, x.moved) for x in now_sessions if x.pk in touched}
    assert kept == touched
    new = [x for x in now_sessions if x.pk not in touched]
    assert [x.occurrence for x in new] == [new_day + timedelta(weeks=i) for i in range(8)]
    assert {(timezone.localtime(x.scheduled_at).time(), x.agenda) for x in new} == {(time(10, 30), "New")}
    assert all(list(x.participants.all()) == [head] for x in new)


def test_an_edit_of_the_time_only_moves_untouched_sessions_in_place(world, coach):
    start = timezone.localdate() + timedelta(days=1)
    cadence = make(world.division_a, coach, weekday=start.weekday())
    ids = [x.pk for x in sessions(cadence)]
    with organization_scope(world.org_a):
        services.session_cancel(session=sessions(cadence)[0])
        cadence = cadences.cadence_update(cadence=cadence, time_of_day=time(15, 0), kind="workshop")
    assert cadence.regenerated == {"updated": 7, "removed": 0, "created": 0}
    after = sessions(cadence)
    assert [x.pk for x in after] == ids
    assert [(timezone.localtime(x.scheduled_at).hour, x.kind) for x in after[1:]] == [(15, "workshop")] * 7
    assert (timezone.localtime(after[0].scheduled_at).hour, after[0].kind) == (9, "check_in")


def test_deactivating_removes_untouched_upcoming_sessions_and_stops_generation(world, coach):
    cadence = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    with organization_scope(world.org_a):
        services.session_update(session=sessions(cadence)[0], notes="Keep me")
        cadence = cadences.cadence_deactivate(cadence=cadence)
        assert cadences.cadence_generate(cadence=cadence) == 0
    assert cadence.active is False
    assert [x.notes for x in sessions(cadence)] == ["Keep me"]


# --- Bad input ----------------------------------------------------------------------------------------------


def test_a_cadence_without_a_weekday_is_refused_with_a_clear_message(world, coach):
    with pytest.raises(ValidationError) as caught:
        make(world.division_a, coach, weekday=None)
    assert caught.value.message_dict == {"weekday": ["Choose the weekday the sessions fall on (Monday to Sunday)."]}
    assert Cadence.objects.for_organization(world.org_a).count() == 0


def test_a_monthly_cadence_needs_its_week(world, coach):
    with pytest.raises(ValidationError) as caught:
        make(world.division_a, coach, frequency="monthly", week_of_month=None)
    assert caught.value.message_dict == {
        "week_of_month": ["A monthly cadence needs the week of the month: 1st, 2nd, 3rd, 4th or last."]
    }


def test_a_participant_from_another_organization_is_refused(world, coach):
    with pytest.raises(ValidationError) as caught:
        make(world.division_a, coach, participants=[world.member_b])
    assert caught.value.message_dict == {
        "participants": ["Admin of globex is not a member of this organization, so cannot be a participant."]
    }
    assert Cadence.objects.for_organization(world.org_a).count() == 0
    assert CoachingSession.objects.for_organization(world.org_a).count() == 0


def test_an_end_before_the_start_is_refused(world, coach):
    with pytest.raises(ValidationError) as caught:
        make(world.division_a, coach, starts_on=date(2031, 3, 1), ends_on=date(2031, 2, 1))
    assert caught.value.message_dict == {
        "ends_on": [
            "The end date 01 Feb 2031 is before the start date 01 Mar 2031; a cadence cannot end before it starts."
        ]
    }


def test_a_refused_edit_changes_nothing(world, coach):
    cadence = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    before = [(x.pk, x.scheduled_at) for x in sessions(cadence)]
    with pytest.raises(ValidationError), organization_scope(world.org_a):
        cadences.cadence_update(cadence=cadence, time_of_day=time(7, 0), ends_on=date(2000, 1, 1))
    cadence.refresh_from_db()
    assert (cadence.time_of_day, cadence.ends_on) == (time(9, 0), None)
    assert [(x.pk, x.scheduled_at) for x in sessions(cadence)] == before


# --- The beat task ------------------------------------------------------------------------------------------


def test_the_daily_beat_task_tops_up_every_active_cadence_of_every_organization(world, coach):
    ours = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    theirs = make(world.unit_b, world.member_b, frequency="monthly", week_of_month=-1)
    stopped = make(world.department_a, coach)
    with organization_scope(world.org_a):
        cadences.cadence_deactivate(cadence=stopped)
    expected = len(sessions(ours)) - 1 + len(sessions(theirs))
    CoachingSession.objects.for_organization(world.org_a).filter(pk__in=[x.pk for x in sessions(ours)[1:]]).delete()
    CoachingSession.objects.for_organization(world.org_b).filter(cadence=theirs).delete()

    def top_up() -> int:  # what the beat task's fan-out runs, one task per organization
        return sum(cadences_generate_organization(organization_id=org.pk) for org in (world.org_a, world.org_b))

    assert top_up() == expected
    assert top_up() == 0
    assert len(sessions(stopped)) == 0
    entry = settings.CELERY_BEAT_SCHEDULE["cadences-generate-ahead"]
    assert entry["task"] == "coaching.tasks.cadences_generate_ahead"


# --- Pages --------------------------------------------------------------------------------------------------


def cadence_form(world, **extra):
    day = timezone.localdate() + timedelta(days=1)
    return {
        "unit": world.division_a.pk, "kind": "monthly_review", "frequency": "weekly", "weekday": day.weekday(),
        "week_of_month": "", "time_of_day": "09:00", "starts_on": str(timezone.localdate()), "ends_on": "",
        "agenda": "KPIs",
    } | extra  # fmt: skip


def test_a_coach_creates_a_cadence_on_the_page(client, world, coach, head):
    client.force_login(coach)
    response = client.post(url("coaching_cadence_create"), cadence_form(world, participants=[head.pk]))
    cadence = Cadence.objects.for_organization(world.org_a).get()
    assert response.status_code == 302 and response.url == url("coaching_cadence", pk=cadence.pk)
    assert (cadence.coach, cadence.unit, cadence.frequency) == (coach, world.division_a, "weekly")
    assert len(sessions(cadence)) == 8
    html = client.get(response.url).content.decode()
    assert "Cadence created: Weekly on " in html and "8 upcoming sessions generated." in html


def test_the_page_shows_the_services_message_for_a_missing_weekday(client, world, coach):
    client.force_login(coach)
    response = client.post(url("coaching_cadence_create"), cadence_form(world, weekday=""))
    assert response.status_code == 200
    assert "Choose the weekday the sessions fall on (Monday to Sunday)." in response.content.decode()
    assert Cadence.objects.for_organization(world.org_a).count() == 0


@pytest.mark.parametrize("role", [Role.DEPARTMENT_HEAD, Role.EXECUTIVE, Role.VIEWER])
def test_other_roles_may_not_create_cadences(client, world, member_of_role, role):
    client.force_login(member_of_role(role))
    assert client.post(url("coaching_cadence_create"), cadence_form(world)).status_code == 403
    assert Cadence.objects.for_organization(world.org_a).count() == 0


def test_the_coach_edits_the_cadence_on_its_page(client, world, coach):
    cadence = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    client.force_login(coach)
    form = cadence_form(world, time_of_day="11:15", kind="check_in")
    form.pop("unit")
    response = client.post(url("coaching_cadence", pk=cadence.pk), form)
    assert response.status_code == 302
    assert {timezone.localtime(x.scheduled_at).time() for x in sessions(cadence)} == {time(11, 15)}


def test_another_coach_may_not_edit_or_stop_the_cadence(client, world, coach):
    cadence = make(world.division_a, coach)
    client.force_login(factories.add_member(world.org_a, Role.COACH).user)
    assert client.get(url("coaching_cadence", pk=cadence.pk)).status_code == 403
    assert (
        client.post(url("coaching_cadence", pk=cadence.pk), cadence_form(world, time_of_day="07:00")).status_code == 403
    )
    assert client.post(url("coaching_cadence_deactivate", pk=cadence.pk)).status_code == 403
    cadence.refresh_from_db()
    assert (cadence.time_of_day, cadence.active) == (time(9, 0), True)


def test_a_department_head_reads_the_cadence_of_their_unit_without_the_form(client, world, coach, head):
    cadence = make(world.division_a, coach)
    client.force_login(head)
    response = client.get(url("coaching_cadence", pk=cadence.pk))
    assert response.status_code == 200 and response.context["form"] is None
    assert client.post(url("coaching_cadence_deactivate", pk=cadence.pk)).status_code == 403
    listed = client.get(url("coaching_cadences")).context["cadences"]
    assert [c.pk for c in listed] == [cadence.pk]


def test_the_coach_stops_the_cadence(client, world, coach):
    cadence = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    client.force_login(coach)
    response = client.post(url("coaching_cadence_deactivate", pk=cadence.pk), follow=True)
    assert "Cadence stopped; 8 untouched upcoming sessions removed." in response.content.decode()
    assert sessions(cadence) == []


def test_a_cadence_of_another_organization_is_not_found(client, world):
    theirs = make(world.unit_b, world.member_b)
    client.force_login(world.admin_a)
    for name in ("coaching_cadence", "coaching_cadence_deactivate", "coaching_cadence_activate"):
        assert client.post(url(name, pk=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.active


def test_the_session_page_says_part_of_which_cadence_and_the_coach_moves_it(client, world, berlin, coach):
    cadence = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    session = sessions(cadence)[0]
    client.force_login(coach)
    html = client.get(url("coaching_session", pk=session.pk)).content.decode()
    assert f'Part of <a href="{url("coaching_cadence", pk=cadence.pk)}">Check-in of Operations</a>' in html
    assert "Move this occurrence" in html and "Cancel this occurrence" in html
    new = (timezone.localtime(session.scheduled_at, BERLIN) + timedelta(days=1)).replace(hour=16, minute=45)
    response = client.post(
        url("coaching_session_move", pk=session.pk), {"scheduled_at": new.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.scheduled_at == new and session.moved


def test_another_coach_may_not_move_a_session(client, world, coach):
    cadence = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    session = sessions(cadence)[0]
    client.force_login(factories.add_member(world.org_a, Role.COACH).user)
    when = (timezone.localtime(session.scheduled_at) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url("coaching_session_move", pk=session.pk), {"scheduled_at": when}).status_code == 403
    session.refresh_from_db()
    assert not session.moved


def test_moving_a_session_of_another_organization_is_not_found(client, world):
    theirs = sessions(make(world.unit_b, world.member_b, weekday=(timezone.localdate() + timedelta(days=1)).weekday()))[
        0
    ]
    client.force_login(world.admin_a)
    when = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url("coaching_session_move", pk=theirs.pk), {"scheduled_at": when}).status_code == 404


def test_action_items_keep_their_session_when_the_cadence_is_edited(world, coach, head):
    cadence = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    last = sessions(cadence)[-1]
    with organization_scope(world.org_a):
        item = services.action_item_create(
            organization=world.org_a, title="Prepare", owner=head, due_date=timezone.localdate(), created_by=coach,
            session=last,
        )  # fmt: skip
        cadences.cadence_update(cadence=cadence, ends_on=timezone.localdate() + timedelta(days=8))
    item.refresh_from_db()
    assert item.session_id == last.pk
    assert ActionItem.objects.for_organization(world.org_a).get().session_id == last.pk
    assert len(sessions(cadence)) == 3  # two within the new end date, and the one with an action item


def test_a_refused_edit_on_the_page_shows_the_reason_and_changes_nothing(client, world, coach):
    cadence = make(world.division_a, coach, weekday=(timezone.localdate() + timedelta(days=1)).weekday())
    client.force_login(coach)
    form = cadence_form(world, frequency="monthly", week_of_month="", time_of_day="18:00")
    form.pop("unit")
    response = client.post(url("coaching_cadence", pk=cadence.pk), form)
    assert response.status_code == 200
    assert "A monthly cadence needs the week of the month: 1st, 2nd, 3rd, 4th or last." in response.content.decode()
    cadence.refresh_from_db()
    assert (cadence.frequency, cadence.time_of_day) == ("weekly", time(9, 0))
