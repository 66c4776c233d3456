"""The month calendar of coaching sessions and the per-member .ics feed (parsed back with icalendar)."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import calendar_feed, services
from coaching.digests import session_uid
from coaching.models import CalendarFeed, CoachingSession
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org, **kwargs})


@pytest.fixture
def coach(world):
    return factories.carla_coach(world)


@pytest.fixture
def head(world):
    return factories.hugo_head(world)


def session_at(unit, coach, when: datetime, *, kind="monthly_review", participants=()):
    """A session at any time, past ones too (scheduled a minute ahead, then moved in the database)."""
    with organization_scope(unit.organization):
        session = services.session_schedule(
            unit=unit, coach=coach, kind=kind, scheduled_at=timezone.now() + timedelta(minutes=1),
            participants=participants,
        )  # fmt: skip
    CoachingSession.objects.for_organization(unit.organization).filter(pk=session.pk).update(scheduled_at=when)
    session.scheduled_at = when
    return session


def month_of(day) -> str:
    return f"{day:%Y-%m}"


# --- The month calendar ------------------------------------------------------------------------------------


def cell(html: str, day) -> str:
    return html.split(f'data-date="{day:%Y-%m-%d}"')[1].split("</td>")[0]


def test_the_calendar_lists_sessions_per_day_marks_today_and_strikes_cancelled_ones(client, world, coach):
    today = timezone.localdate()
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    review = session_at(world.division_a, coach, noon + timedelta(hours=2))
    cancelled = session_at(world.department_a, coach, noon + timedelta(hours=4), kind="workshop")
    with organization_scope(world.org_a):
        services.session_cancel(session=cancelled)
    client.force_login(coach)
    response = client.get(url("coaching_calendar"))
    html = response.content.decode()
    assert response.status_code == 200
    weeks = response.context["weeks"]
    assert all(len(week) == 7 for week in weeks) and weeks[0][0].day.weekday() == 0
    assert [d.day for w in weeks for d in w if d.is_today] == [today]
    today_cell = cell(html, today)
    assert 'class=" today" aria-current="date"' in html.split(f'data-date="{today:%Y-%m-%d}"')[0][-60:]
    review_link = url("coaching_session", pk=review.pk)
    assert f'<a href="{review_link}"><span class="cal-time">14:00</span> Monthly review · Operations</a>' in today_cell
    assert (
        f'<a href="{url("coaching_session", pk=cancelled.pk)}"><s><span class="cal-time">16:00</span> Workshop · '
        'Assembly</s><span class="visually-hidden"> (cancelled)</span></a>'
    ) in today_cell
    assert today_cell.index("14:00") < today_cell.index("16:00")


def test_the_calendar_moves_between_months_and_shows_local_times(client, world, coach):
    world.org_a.time_zone = "Europe/Berlin"
    world.org_a.save()
    when = datetime(2031, 3, 31, 22, 30, tzinfo=UTC)  # 1 April 00:30 in Berlin
    session = session_at(world.division_a, coach, when)
    client.force_login(coach)
    response = client.get(url("coaching_calendar") + "?month=2031-04")
    html = response.content.decode()
    assert '<h2 id="month-h">April 2031</h2>' in html
    assert '<a href="?month=2031-03" rel="prev">‹ March 2031</a>' in html
    assert '<a href="?month=2031-05" rel="next">May 2031 ›</a>' in html
    first = cell(html, datetime(2031, 4, 1).date())
    assert url("coaching_session", pk=session.pk) in first and '<span class="cal-time">00:30</span>' in first
    assert url("coaching_session", pk=session.pk) not in cell(html, datetime(2031, 3, 31).date())


def test_a_malformed_month_says_what_to_write(client, world, coach):
    client.force_login(coach)
    response = client.get(url("coaching_calendar") + "?month=2031-13", follow=True)
    assert f"“2031-13” is not a month; use YYYY-MM, e.g. {timezone.localdate():%Y-%m}." in response.content.decode()


def test_the_calendar_shows_only_what_the_member_may_read(client, world, coach, head, member_of_role):
    when = timezone.now() + timedelta(days=1)
    mine = session_at(world.division_a, coach, when)
    other_coach = factories.add_member(world.org_a, Role.COACH).user
    elsewhere = session_at(world.company_a, other_coach, when)
    theirs = session_at(world.unit_b, world.member_b, when)
    month = f"?month={timezone.localtime(when):%Y-%m}"

    def shown(user):
        client.force_login(user)
        weeks = client.get(url("coaching_calendar") + month).context["weeks"]
        return {s.pk for week in weeks for day in week for s in day.sessions}

    assert shown(coach) == {mine.pk}
    assert shown(head) == {mine.pk}
    assert shown(other_coach) == {elsewhere.pk}
    assert shown(member_of_role(Role.EXECUTIVE)) == {mine.pk, elsewhere.pk}
    assert shown(world.admin_a) == {mine.pk, elsewhere.pk}
    assert theirs.pk not in shown(world.admin_a)
    client.force_login(world.viewer_a)
    response = client.get(url("coaching_calendar"))
    assert response.status_code == 403 and "month-calendar" not in response.content.decode()


# --- The .ics feed -----------------------------------------------------------------------------------------


def feed_url(client, org="acme") -> str:
    html = client.get(url("coaching_calendar", org=org)).content.decode()
    return html.split('id="feed-url" value="')[1].split('"')[0]


def parse(response) -> list[icalendar.Event]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    return list(calendar.walk("VEVENT"))


def test_a_member_gets_a_feed_link_and_the_feed_lists_their_sessions(client, world, coach, head):
    now = timezone.now().replace(microsecond=0)
    as_participant = session_at(world.division_a, coach, now + timedelta(days=3), participants=[head])
    recent = session_at(world.division_a, coach, now - timedelta(days=30), participants=[head], kind="check_in")
    cancelled = session_at(world.department_a, coach, now + timedelta(days=10), participants=[head])
    with organization_scope(world.org_a):
        services.session_cancel(session=cancelled)
    session_at(world.division_a, coach, now - timedelta(days=120), participants=[head])  # too old
    session_at(world.division_a, coach, now + timedelta(days=200), participants=[head])  # too far ahead
    session_at(world.division_a, coach, now + timedelta(days=4))  # Hugo does not take part
    client.force_login(head)
    response = client.post(url("coaching_calendar_feed_reset"), follow=True)
    assert "Subscription link created: add it to your calendar program." in response.content.decode()
    link = feed_url(client)
    assert link.startswith("http://testserver/calendar/") and link.endswith(".ics")
    client.logout()  # calendar programs have no session
    events = parse(client.get(link.removeprefix("http://testserver")))
    assert [str(e["uid"]) for e in events] == [session_uid(s.pk) for s in (recent, as_participant, cancelled)]
    first = events[1]
    assert first.decoded("dtstart") == as_participant.scheduled_at
    assert first.decoded("dtstart").tzinfo is not None and first["dtstart"].to_ical().endswith(b"Z")
    assert str(first["summary"]) == "Monthly review · Operations"
    assert str(events[0]["summary"]) == "Check-in · Operations"
    assert [str(e["status"]) for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert first.decoded("duration") == timedelta(hours=1)
    assert str(first["url"]) == f"http://testserver{url('coaching_session', pk=as_participant.pk)}"


def test_the_uids_stay_the_same_when_a_session_moves(client, world, coach):
    session = session_at(world.division_a, coach, timezone.now() + timedelta(days=2))
    with organization_scope(world.org_a):
        feed = calendar_feed.calendar_feed_reset(organization=world.org_a, user=coach)
    link = reverse("calendar_feed", args=[calendar_feed.feed_token(feed)])
    before = parse(client.get(link))
    with organization_scope(world.org_a):
        services.session_move(session=session, scheduled_at=timezone.now().replace(microsecond=0) + timedelta(days=5))
    after = parse(client.get(link))
    assert [str(e["uid"]) for e in before] == [str(e["uid"]) for e in after]
    assert after[0].decoded("dtstart") - before[0].decoded("dtstart") > timedelta(days=2)


def test_a_wrong_or_reset_link_answers_404(client, world, coach):
    session_at(world.division_a, coach, timezone.now() + timedelta(days=2))
    client.force_login(coach)
    client.post(url("coaching_calendar_feed_reset"))
    old = feed_url(client).removeprefix("http://testserver")
    assert client.get(old).status_code == 200
    feed_id = old.split("/")[-1].split("-")[0]
    for wrong in (f"/calendar/{feed_id}-{'0' * 40}.ics", f"/calendar/{feed_id}.ics", "/calendar/x-y.ics"):
        assert client.get(wrong).status_code == 404, wrong
    response = client.post(url("coaching_calendar_feed_reset"), follow=True)
    assert "New subscription link created; the old link no longer works." in response.content.decode()
    new = feed_url(client).removeprefix("http://testserver")
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert CalendarFeed.objects.for_organization(world.org_a).get(user=coach).version == 2


def test_a_former_member_s_feed_answers_404(client, world, coach):
    with organization_scope(world.org_a):
        feed = calendar_feed.calendar_feed_reset(organization=world.org_a, user=coach)
    link = reverse("calendar_feed", args=[calendar_feed.feed_token(feed)])
    assert client.get(link).status_code == 200
    with organization_scope(world.org_a):
        factories.membership_of(coach, world.org_a).delete()
    assert client.get(link).status_code == 404


def test_a_feed_holds_only_its_own_organizations_sessions(client, world, coach):
    factories.add_member(world.org_b, Role.COACH, user=coach)
    ours = session_at(world.division_a, coach, timezone.now() + timedelta(days=2))
    session_at(world.unit_b, coach, timezone.now() + timedelta(days=2))
    with organization_scope(world.org_a):
        feed = calendar_feed.calendar_feed_reset(organization=world.org_a, user=coach)
    events = parse(client.get(reverse("calendar_feed", args=[calendar_feed.feed_token(feed)])))
    assert [str(e["uid"]) for e in events] == [session_uid(ours.pk)]
