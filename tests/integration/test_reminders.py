"""Deciding reminders: who gets which digest, when (in their own time zone), following their preferences,
never mixing organizations, and each reminder recorded once however often the tick runs."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import services as coaching
from coaching.models import (
    ActionItem,
    CoachingSession,
    Notification,
    NotificationChannel,
    NotificationPreference,
    SessionStatus,
)
from coaching.reminders import reminders_decide
from kpis import services as kpis
from kpis.models import Kpi, KpiScore, PeriodKind
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

MONDAY = datetime(2026, 3, 9, 9, 30, tzinfo=UTC)  # due month: February 2026; reminder hour 8 has passed


def notifications(org=None, **filters):
    rows = Notification.objects.for_organization(org) if org else _all()
    return list(rows.filter(**filters).order_by("dedupe_key"))


def _all():
    from bsc.tenancy import dangerously_unscoped

    with dangerously_unscoped():
        return Notification.objects.all()


@pytest.fixture
def head(world):
    return factories.hugo_head(world)


@pytest.fixture
def coach(world):
    return factories.carla_coach(world)


def make_kpi(unit, code, owner, *, created=date(2025, 6, 15), **fields) -> Kpi:
    with organization_scope(unit.organization):
        kpi = kpis.kpi_create(
            unit=unit, name=fields.pop("name", f"{code} name"), code=code, baseline=Decimal(0), owner=owner, **fields
        )
    Kpi.objects.for_organization(unit.organization).filter(pk=kpi.pk).update(
        created_at=datetime.combine(created, datetime.min.time(), tzinfo=UTC)
    )
    return kpi


def enter(kpi, by, *months: date) -> None:
    with organization_scope(kpi.organization):
        for month in months:
            kpis.measurement_record(kpi=kpi, period=month, value=Decimal(5), by=by, schedule=False)


def months(first: date, last: date) -> list[date]:
    out = []
    while first <= last:
        out.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return out


def action_item(org, owner, title, due: date, *, unit=None, status="open") -> ActionItem:
    with organization_scope(org):
        item = coaching.action_item_create(
            organization=org, title=title, owner=owner, due_date=timezone.localdate() + timedelta(days=30),
            created_by=None, unit=unit,
        )  # fmt: skip
        if status != "open":
            coaching.action_item_set_status(item=item, status=status)
    ActionItem.objects.for_organization(org).filter(pk=item.pk).update(due_date=due)
    return item


def session_at(unit, coach, when: datetime, *, participants=(), kind="monthly_review", agenda="") -> CoachingSession:
    with organization_scope(unit.organization):
        session = coaching.session_schedule(
            unit=unit, coach=coach, kind=kind, scheduled_at=timezone.now() + timedelta(days=1),
            participants=participants, agenda=agenda,
        )  # fmt: skip
    CoachingSession.objects.for_organization(unit.organization).filter(pk=session.pk).update(scheduled_at=when)
    session.scheduled_at = when
    return session


# --- The daily digest: KPI values due and overdue ---------------------------------------------------------


def test_a_kpi_owner_gets_one_digest_a_day_listing_values_due_and_overdue(world, head):
    otd = make_kpi(world.department_a, "OTD", head, name="On-time delivery")
    enter(otd, head, *months(date(2025, 5, 1), date(2025, 11, 1)))  # December, January missing, February due
    scrap = make_kpi(world.department_a, "SCRAP", head, name="Scrap rate")
    enter(scrap, head, *months(date(2025, 5, 1), date(2026, 1, 1)))  # only February due
    nps = make_kpi(world.division_a, "NPS", head, name="Net promoter score", frequency="quarterly")
    enter(nps, head, date(2025, 4, 1), date(2025, 7, 1))  # Q4 2025 missing; no quarter ends in February
    done = make_kpi(world.department_a, "DONE", head)
    enter(done, head, *months(date(2025, 5, 1), date(2026, 2, 1)))
    archived = make_kpi(world.department_a, "OLD", head)
    with organization_scope(world.org_a):
        kpis.kpi_archive(kpi=archived)
    make_kpi(world.department_a, "ADMINS", world.admin_a)  # someone else's
    make_kpi(world.department_a, "NEW", head, created=date(2026, 3, 2))  # defined this month: February due

    decision = reminders_decide(now=MONDAY)

    [digest] = notifications(world.org_a, recipient=head)
    assert digest.dedupe_key == f"daily-digest:{head.pk}:{world.org_a.pk}:2026-03-09"
    assert (digest.kind, digest.channel, digest.link) == ("daily_digest", "email", "/o/acme/data-entry/")
    assert digest.subject == "Acme Manufacturing: 3 KPI values due, 3 overdue"
    assert digest.body.startswith(
        "Hello Hugo Head,\n\n"
        "Your daily digest of Acme Manufacturing.\n\n"
        "KPI values due / overdue\n"
        "------------------------\n"
        "These KPI values are waiting for you, as their owner.\n\n"
        "Due now:\n"
        "- NEW · NEW name (Assembly): Feb 2026\n"
        "- OTD · On-time delivery (Assembly): Feb 2026\n"
        "- SCRAP · Scrap rate (Assembly): Feb 2026\n\n"
        "Overdue:\n"
        "- NPS · Net promoter score (Operations): Q4 2025\n"
        "- OTD · On-time delivery (Assembly): Dec 2025, Jan 2026\n\n"
        "Enter them here: http://127.0.0.1:8000/o/acme/data-entry/\n"
        "\n-- \nYou get this because these KPIs name you as their owner."
    )
    assert "Action items due / overdue" not in digest.body
    assert "<h2>KPI values due / overdue</h2>" in digest.html and "Action items" not in digest.html
    assert 'href="http://127.0.0.1:8000/o/acme/data-entry/?period=2025-12"' in digest.html
    assert decision.written == {"daily_digest": 2}  # Hugo's and the admin's
    assert {n.recipient for n in notifications(world.org_a)} == {head, world.admin_a}


def test_overdue_values_reach_back_twelve_months_at_most(world, head):
    make_kpi(world.department_a, "OTD", head, created=date(2020, 1, 1))
    reminders_decide(now=MONDAY)
    [digest] = notifications(world.org_a, recipient=head)
    overdue = digest.body.split("Overdue:\n")[1].split("\n")[0]
    assert overdue.endswith(": " + ", ".join(f"{m:%b %Y}" for m in months(date(2025, 2, 1), date(2026, 1, 1))))


def test_a_second_tick_records_nothing_and_the_next_day_records_again(world, head):
    make_kpi(world.department_a, "OTD", head)
    action_item(world.org_a, head, "Retrain shift B", date(2026, 3, 9))
    assert reminders_decide(now=MONDAY).written == {"daily_digest": 1}
    assert reminders_decide(now=MONDAY + timedelta(minutes=15)).total == 0
    # A new action item due today adds nothing to the day: the day's digest went out.
    action_item(world.org_a, head, "Order gloves", date(2026, 3, 9))
    assert reminders_decide(now=MONDAY + timedelta(hours=14)).total == 0  # 23:30, still Monday
    assert reminders_decide(now=MONDAY + timedelta(days=1)).written == {"daily_digest": 1}
    assert reminders_decide(now=MONDAY + timedelta(days=1, minutes=15)).total == 0
    assert [n.dedupe_key for n in notifications(world.org_a, recipient=head)] == [
        f"daily-digest:{head.pk}:{world.org_a.pk}:2026-03-09",
        f"daily-digest:{head.pk}:{world.org_a.pk}:2026-03-10",
    ]


def test_nothing_goes_out_before_the_organizations_reminder_hour(world, head):
    make_kpi(world.department_a, "OTD", head)
    world.org_a.reminder_hour = 10
    world.org_a.save()
    assert reminders_decide(now=MONDAY).total == 0  # 9:30
    assert reminders_decide(now=MONDAY + timedelta(minutes=30)).written["daily_digest"] == 1


def test_a_user_in_tokyo_gets_the_digest_at_the_reminder_hour_of_tokyo(world, head):
    from bsc.services import user_set_time_zone

    user_set_time_zone(user=head, time_zone="Asia/Tokyo")
    make_kpi(world.department_a, "OTD", head)
    make_kpi(world.department_a, "ADM", world.admin_a)  # the admin stays on the organization's UTC
    sunday_night = datetime(2026, 3, 8, 22, 30, tzinfo=UTC)  # Tokyo: Monday 07:30

    assert reminders_decide(now=sunday_night).total == 1  # the admin's Sunday digest (22:30 UTC)
    assert notifications(world.org_a, recipient=head) == []
    reminders_decide(now=sunday_night + timedelta(hours=1))  # Tokyo: Monday 08:30
    [digest] = notifications(world.org_a, recipient=head)
    assert digest.dedupe_key == f"daily-digest:{head.pk}:{world.org_a.pk}:2026-03-09"
    [admin_digest] = notifications(world.org_a, recipient=world.admin_a)
    assert admin_digest.dedupe_key.endswith(":2026-03-08")


def test_a_time_zone_postgresql_does_not_know_still_works(world, head):
    from bsc.services import user_set_time_zone

    user_set_time_zone(user=head, time_zone="America/Coyhaique")  # in zoneinfo, not in every PostgreSQL
    make_kpi(world.department_a, "OTD", head)
    reminders_decide(now=MONDAY + timedelta(hours=3))  # 12:30 UTC is 09:30 there
    assert len(notifications(world.org_a, recipient=head)) == 1


def test_members_who_may_not_enter_values_get_no_kpi_section(world, coach):
    make_kpi(world.department_a, "OTD", world.viewer_a)
    make_kpi(world.department_a, "CCH", coach)
    assert reminders_decide(now=MONDAY).total == 0
    action_item(world.org_a, coach, "Prepare the review", date(2026, 3, 10))
    reminders_decide(now=MONDAY + timedelta(minutes=15))
    [digest] = notifications(world.org_a, recipient=coach)
    assert digest.subject == "Acme Manufacturing: 1 action item due tomorrow"
    assert "KPI values" not in digest.body and "CCH" not in digest.body


def test_an_inactive_user_gets_nothing(world, head):
    make_kpi(world.department_a, "OTD", head)
    head.is_active = False
    head.save()
    assert reminders_decide(now=MONDAY).total == 0


# --- The daily digest: action items --------------------------------------------------------------------


def test_action_items_due_today_tomorrow_and_overdue_reach_their_owner_in_one_digest(world, head):
    org = world.org_a
    action_item(org, head, "Call the press supplier", date(2026, 3, 2), unit=world.department_a)
    action_item(org, head, "Retrain shift B", date(2026, 3, 9))
    action_item(org, head, "Order gloves", date(2026, 3, 10), unit=world.division_a)
    action_item(org, head, "Plan the audit", date(2026, 3, 11))  # in two days: not yet
    action_item(org, head, "Old done thing", date(2026, 3, 1), status="done")
    action_item(org, head, "Dropped thing", date(2026, 3, 1), status="dropped")
    action_item(org, world.admin_a, "Admin's own", date(2026, 3, 9))

    reminders_decide(now=MONDAY)

    [digest] = notifications(org, recipient=head)
    assert digest.dedupe_key == f"daily-digest:{head.pk}:{org.pk}:2026-03-09"
    assert digest.kind == "daily_digest"
    assert digest.subject == "Acme Manufacturing: 1 action item overdue, 1 due today, 1 due tomorrow"
    assert digest.body.startswith(
        "Hello Hugo Head,\n\n"
        "Your daily digest of Acme Manufacturing.\n\n"
        "Action items due / overdue\n"
        "--------------------------\n"
        "Your open action items:\n\n"
        "Overdue:\n"
        "- Call the press supplier (Assembly), due Mon 2 Mar 2026\n\n"
        "Due today:\n"
        "- Retrain shift B, due Mon 9 Mar 2026\n\n"
        "Due tomorrow:\n"
        "- Order gloves (Operations), due Tue 10 Mar 2026\n\n"
        "Mark them done here: http://127.0.0.1:8000/o/acme/coaching/actions/\n"
        "\n-- \nYou get this because you own these action items."
    )
    assert "KPI values due / overdue" not in digest.body and "KPI values" not in digest.html
    assert digest.link == "/o/acme/coaching/actions/"
    assert [n.subject for n in notifications(org, recipient=world.admin_a)] == [
        "Acme Manufacturing: 1 action item due today"
    ]


def test_kpi_values_and_action_items_come_in_one_digest_with_both_sections(world, head):
    org = world.org_a
    otd = make_kpi(world.department_a, "OTD", head, name="On-time delivery")
    enter(otd, head, *months(date(2025, 5, 1), date(2025, 12, 1)))  # January overdue, February due
    action_item(org, head, "Call the press supplier", date(2026, 3, 2), unit=world.department_a)
    action_item(org, head, "Retrain shift B", date(2026, 3, 9))

    decision = reminders_decide(now=MONDAY)

    assert decision.written == {"daily_digest": 1}
    [digest] = notifications(org, recipient=head)
    assert (digest.kind, digest.channel) == ("daily_digest", "email")
    assert digest.dedupe_key == f"daily-digest:{head.pk}:{org.pk}:2026-03-09"
    assert digest.subject == ("Acme Manufacturing: 1 KPI value due, 1 overdue, 1 action item overdue, 1 due today")
    assert digest.link == "/o/acme/data-entry/"
    assert digest.body.startswith(
        "Hello Hugo Head,\n\n"
        "Your daily digest of Acme Manufacturing.\n\n"
        "KPI values due / overdue\n"
        "------------------------\n"
        "These KPI values are waiting for you, as their owner.\n\n"
        "Due now:\n"
        "- OTD · On-time delivery (Assembly): Feb 2026\n\n"
        "Overdue:\n"
        "- OTD · On-time delivery (Assembly): Jan 2026\n\n"
        "Enter them here: http://127.0.0.1:8000/o/acme/data-entry/\n\n"
        "Action items due / overdue\n"
        "--------------------------\n"
        "Your open action items:\n\n"
        "Overdue:\n"
        "- Call the press supplier (Assembly), due Mon 2 Mar 2026\n\n"
        "Due today:\n"
        "- Retrain shift B, due Mon 9 Mar 2026\n\n"
        "Mark them done here: http://127.0.0.1:8000/o/acme/coaching/actions/\n"
        "\n-- \nYou get this because you own these KPIs and action items."
    )
    html = digest.html
    assert html.index("<h2>KPI values due / overdue</h2>") < html.index("<h2>Action items due / overdue</h2>")
    assert 'href="http://127.0.0.1:8000/o/acme/data-entry/?period=2026-01"' in html
    assert 'href="http://127.0.0.1:8000/o/acme/coaching/actions/"' in html
    assert reminders_decide(now=MONDAY + timedelta(minutes=15)).total == 0
    assert len(notifications(org, recipient=head)) == 1


# --- Sessions coming up --------------------------------------------------------------------------------


def test_a_session_within_a_day_reminds_the_coach_and_each_participant_once_with_an_invite(world, head, coach):
    from bsc.services import user_set_time_zone

    user_set_time_zone(user=head, time_zone="Europe/Berlin")
    now = timezone.now().replace(microsecond=0)
    session = session_at(
        world.division_a, coach, now + timedelta(hours=20), participants=[head], agenda="OTD trend\nOpen items"
    )
    session_at(world.division_a, coach, now + timedelta(hours=25))  # not yet
    cancelled = session_at(world.division_a, coach, now + timedelta(hours=2))
    CoachingSession.objects.for_organization(world.org_a).filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)

    decision = reminders_decide(now=now)

    assert decision.written["session_soon"] == 2
    reminders = {n.recipient: n for n in notifications(world.org_a, kind="session_soon")}
    assert set(reminders) == {coach, head}
    hugo = reminders[head]
    assert hugo.dedupe_key == f"session-soon:{session.pk}:{head.pk}"
    local = session.scheduled_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert hugo.subject == (
        f"Coming up: Monthly review of Operations, {local:%a} {local.day} {local:%b} {local:%H:%M} {local:%Z}"
    )
    assert "Coach: Carla Coach\nParticipants: Hugo Head\n\nAgenda:\nOTD trend\nOpen items\n" in hugo.body
    assert hugo.link == f"/o/acme/coaching/sessions/{session.pk}/"

    calendar = icalendar.Calendar.from_ical(hugo.ics)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"coaching-session-{session.pk}@127.0.0.1"
    assert event.decoded("DTSTART") == session.scheduled_at
    assert event.decoded("DTEND") == session.scheduled_at + timedelta(hours=1)
    assert str(event["SUMMARY"]) == "Monthly review · Operations"
    assert str(event["ORGANIZER"]) == "mailto:carla@acme.example.com"
    assert str(event["ATTENDEE"]) == "mailto:hugo@acme.example.com"
    assert event["ATTENDEE"].params["CN"] == "Hugo Head"

    # An hour later only the session that has come within a day is new: its coach's reminder.
    later = reminders_decide(now=now + timedelta(hours=1, minutes=5))
    assert later.written == {"session_soon": 1}
    assert len(notifications(world.org_a, kind="session_soon")) == 3


# --- Weekly coach digest --------------------------------------------------------------------------------


def test_the_weekly_coach_digest_lists_red_kpis_missing_values_and_overdue_items_per_unit(world, head, coach):
    org = world.org_a
    session_at(world.division_a, coach, MONDAY - timedelta(days=20))
    session_at(world.department_a, coach, MONDAY + timedelta(days=3))
    other = factories.add_member(org, Role.COACH).user
    session_at(world.company_a, other, MONDAY + timedelta(days=3))  # not Carla's unit

    red = make_kpi(world.division_a, "OTD", head, name="On-time delivery")
    enter(red, head, date(2026, 2, 1))
    KpiScore.objects.for_organization(org).create(
        organization=org, kpi=red, period_kind=PeriodKind.MONTH, period=date(2026, 2, 1), score=Decimal("0.42"),
        status="red",
    )  # fmt: skip
    make_kpi(world.department_a, "SCRAP", head, name="Scrap rate")  # no February value
    make_kpi(world.company_a, "REV", head)  # another coach's unit
    action_item(org, head, "Call the press supplier", date(2026, 3, 2), unit=world.department_a)
    action_item(org, head, "Not yet due", date(2026, 3, 20), unit=world.department_a)

    reminders_decide(now=MONDAY + timedelta(days=1))  # Tuesday: no weekly digest
    assert notifications(org, kind="coach_weekly") == []
    reminders_decide(now=MONDAY)

    [digest] = notifications(org, kind="coach_weekly", recipient=coach)
    assert digest.dedupe_key == f"coach-weekly:{coach.pk}:{org.pk}:2026-W11"
    assert digest.subject == "Acme Manufacturing: weekly coaching digest (2026 week 11), 2 units to look at"
    assert digest.body.split("\n\n", 2)[2].startswith(
        "Operations\n==========\n"
        "Red KPIs:\n- OTD · On-time delivery: 42%\n\n"
        "Assembly\n========\n"
        "Missing data:\n- SCRAP · Scrap rate: no value from Hugo Head\n"
        "Overdue action items:\n- Call the press supplier: Hugo Head, due 2 Mar 2026\n\n"
        "Coaching: http://127.0.0.1:8000/o/acme/coaching/\n"
    )
    assert "REV" not in digest.body
    assert [n.body.split("\n\n")[2].split("\n")[0] for n in notifications(org, recipient=other)] == [
        "Acme Manufacturing"
    ]
    assert reminders_decide(now=MONDAY + timedelta(hours=2)).written["coach_weekly"] == 0


# --- Preferences and tenancy ----------------------------------------------------------------------------


def test_with_email_off_a_reminder_goes_to_the_inbox_only(world, head, coach):
    membership = factories.membership_of(head, world.org_a)
    NotificationPreference.objects.for_organization(world.org_a).create(
        organization=world.org_a, membership=membership, email_daily_digest=False
    )
    make_kpi(world.department_a, "OTD", head)
    action_item(world.org_a, head, "Retrain shift B", date(2026, 3, 9))
    session_at(world.division_a, coach, MONDAY + timedelta(hours=3), participants=[head])

    decision = reminders_decide(now=MONDAY)

    channels = {n.kind: n.channel for n in notifications(world.org_a, recipient=head)}
    assert channels == {"daily_digest": NotificationChannel.IN_APP, "session_soon": NotificationChannel.EMAIL}
    [digest] = notifications(world.org_a, recipient=head, kind="daily_digest")
    assert "KPI values due / overdue" in digest.body and "Action items due / overdue" in digest.body
    assert digest.sent_at is None
    assert (decision.total, decision.emails) == (3, 2)  # the coach's session reminder is mailed too


def test_digests_never_mix_organizations(world, head):
    factories.add_member(world.org_b, Role.EXECUTIVE, user=head)
    make_kpi(world.department_a, "ACME1", head)
    make_kpi(world.unit_b, "GLOBEX1", head)
    action_item(world.org_a, head, "Acme thing", date(2026, 3, 9))
    action_item(world.org_b, head, "Globex thing", date(2026, 3, 9))

    reminders_decide(now=MONDAY)

    acme = notifications(world.org_a, recipient=head)
    globex = notifications(world.org_b, recipient=head)
    assert [n.kind for n in acme] == ["daily_digest"]
    assert [n.kind for n in globex] == ["daily_digest"]
    assert acme[0].dedupe_key != globex[0].dedupe_key
    acme_text = " ".join(n.subject + n.body + n.html for n in acme)
    globex_text = " ".join(n.subject + n.body + n.html for n in globex)
    assert "ACME1" in acme_text and "Acme thing" in acme_text
    assert "GLOBEX" not in acme_text and "Globex" not in acme_text
    assert "GLOBEX1" in globex_text and "Globex thing" in globex_text
    assert "ACME1" not in globex_text and "Acme" not in globex_text


def test_sending_is_queued_after_commit_only_when_there_is_mail(world, head, django_capture_on_commit_callbacks):
    make_kpi(world.department_a, "OTD", head)
    with django_capture_on_commit_callbacks() as callbacks:
        reminders_decide(now=MONDAY)
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        reminders_decide(now=MONDAY)
    assert callbacks == []


# --- Two ticks at once ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_record_each_reminder_once(world, head):
    """The second tick decides while the first has not committed yet: it waits on the unique key, then
    writes nothing."""
    make_kpi(world.department_a, "OTD", head)
    action_item(world.org_a, head, "Retrain shift B", date(2026, 3, 9))
    second = {}

    def tick():
        try:
            second["decision"] = reminders_decide(now=MONDAY, queue_sending=False)
        finally:
            connections.close_all()

    with transaction.atomic():
        first = reminders_decide(now=MONDAY, queue_sending=False)
        thread = threading.Thread(target=tick)
        thread.start()
        thread.join(timeout=1.5)
        assert thread.is_alive(), "the second tick should wait for the first one's keys"
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            assert cursor.fetchone()[0] >= 1
    thread.join(timeout=10)
    assert first.total == 1  # one digest with both sections
    assert second["decision"].total == 0
    assert len(notifications(world.org_a)) == 1
