"""A worked example of accountability data for organization A (Europe/Berlin, data-entry day 10), placed
relative to `last`, the month now due (L); the expected figures are written next to each row.

KPI values (department Assembly unless noted):
- M1 (owner Hugo, from L-4): L-4 never entered (late); L-3 entered on the 5th, corrected after the
  deadline (on time: the first entry counts); L-2 entered the 10th at 23:30 Berlin (on time); L-1 entered
  the 11th at 00:30 Berlin, still the 10th in UTC (late); L entered the 3rd (on time, or open until the 10th).
- Q (quarterly, owner Hugo): of the last two quarters ending by L-1, the earlier never entered (late), the
  later entered on the 9th (on time); with L = October those end in June (L-4) and September (L-1).
- X (no owner, created in L-3, archived on the 20th of L-2): L-3 missing (late); not due afterwards.
- R (roll-up) and an archived-before-creation-month KPI: never due.
- M2 (division Operations, owner Admin, created on the 15th of L-2): L-2 and L-1 on time; L missing.
Action items: Assembly L-1: Hugo done on the due day 23:30 Berlin (on time), Hugo done the day after at
00:30 Berlin (late), Hugo open (late); Admin dropped (left out). Assembly L-2: Admin done early (on time).
No unit L-2: Admin open (late, counts for Admin only). Hugo due this month and Admin due in L-12: outside the
window.
Sessions: Assembly held on the last day of L-1 at 23:30 Berlin with Hugo, Admin, Petra invited and Hugo and
Admin attending; Assembly held on the 1st of L at 00:30 Berlin (still L-1 in UTC) with Hugo and Petra
invited and Hugo attending; Operations held in L-2 without attendance taken; a cancelled and a scheduled
session of Assembly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from bsc.models import Role, User
from bsc.org_calendar import month_shift
from bsc.tenancy import organization_scope
from coaching import services as coaching
from coaching.models import ActionItem, CoachingSession, SessionStatus
from kpis import services as kpis
from kpis.models import Kpi, Measurement
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


@dataclass
class Example:
    hugo: User
    petra: User
    kpis: dict[str, Kpi]


def _kpi(unit, code, *, created: datetime, **fields) -> Kpi:
    kpi = kpis.kpi_create(unit=unit, name=f"KPI {code}", code=code, baseline=Decimal(0), **fields)
    Kpi.objects.for_organization(unit.organization).filter(pk=kpi.pk).update(created_at=created)
    kpi.refresh_from_db()
    return kpi


def _value(kpi: Kpi, period: date, entered: datetime, by: User) -> Measurement:
    with organization_scope(kpi.organization):
        return Measurement.objects.create(
            organization=kpi.organization, kpi=kpi, period=period, value=Decimal(1), entered_by=by, entered_at=entered
        )


def _item(world, title, owner, due: date, *, unit="department", status="open", completed: datetime | None = None):
    with organization_scope(world.org_a):
        return ActionItem.objects.create(
            organization=world.org_a, title=title, owner=owner, due_date=due, status=status,
            completed_at=completed, unit=getattr(world, f"{unit}_a") if unit else None,
        )  # fmt: skip


def _held(world, unit, participants, attendees, held: datetime, coach: User | None = None) -> CoachingSession:
    with organization_scope(world.org_a):
        session = coaching.session_schedule(
            unit=unit, coach=coach or world.admin_a, kind="monthly_review",
            scheduled_at=timezone.now() + timedelta(days=1), participants=participants,
        )  # fmt: skip
        coaching.session_hold(session=session, attendees=attendees)
        CoachingSession.objects.for_organization(world.org_a).filter(pk=session.pk).update(
            held_at=held, scheduled_at=held
        )
    return session


def build(world, last: date, *, coach: User | None = None) -> Example:
    """Organization A's worked example around the month now due `last`; `coach` holds the sessions."""
    org = world.org_a
    org.time_zone = "Europe/Berlin"
    org.save(update_fields=["time_zone"])
    world.org_a.refresh_from_db()
    hugo = factories.add_member(
        org, Role.DEPARTMENT_HEAD, units=[world.department_a],
        user=factories.make_user("hugo@acme.example.com", full_name="Hugo Head"),
    ).user  # fmt: skip
    petra = factories.add_member(
        org, Role.VIEWER, user=factories.make_user("petra@acme.example.com", full_name="Petra Planner")
    ).user
    admin = world.admin_a
    m = {i: month_shift(last, -i) for i in range(0, 13)}  # m[1] is L-1
    dept, division = world.department_a, world.division_a

    # KPI values
    m1 = _kpi(dept, "M1", owner=hugo, created=at(m[4], 9))
    _value(m1, m[3], at(month_shift(m[3], 1).replace(day=5)), hugo)
    kpis.measurement_record(
        kpi=m1, period=m[3], value=Decimal(2), by=hugo, expected_version=1, schedule=False
    )  # a correction after the deadline
    _value(m1, m[2], at(month_shift(m[2], 1).replace(day=10), 23, 30), hugo)
    _value(m1, m[1], at(month_shift(m[1], 1).replace(day=11), 0, 30), hugo)
    _value(m1, m[0], at(month_shift(m[0], 1).replace(day=3)), hugo)
    # With the fiscal year starting in January, quarters end in March, June, September and December.
    q_end = month_shift(m[1], -(m[1].month % 3))  # the last quarter end up to L-1
    q = _kpi(dept, "Q", owner=hugo, frequency="quarterly", created=at(month_shift(q_end, -5), 9))
    _value(q, month_shift(q_end, -2), at(month_shift(q_end, 1).replace(day=9)), hugo)
    x = _kpi(dept, "X", created=at(m[3], 9))
    Kpi.objects.for_organization(org).filter(pk=x.pk).update(archived_at=at(m[2].replace(day=20)))
    _kpi(dept, "R", source="rollup", rollup_method="sum", created=at(m[12], 9))
    gone = _kpi(dept, "GONE", owner=hugo, created=at(m[12], 9))
    Kpi.objects.for_organization(org).filter(pk=gone.pk).update(archived_at=at(m[12].replace(day=2)))
    m2 = _kpi(division, "M2", owner=admin, created=at(m[2].replace(day=15), 9))
    _value(m2, m[2], at(month_shift(m[2], 1).replace(day=2)), admin)
    _value(m2, m[1], at(month_shift(m[1], 1).replace(day=1)), admin)

    # Action items
    due = m[1].replace(day=15)
    _item(world, "On the due day", hugo, due, status="done", completed=at(due, 23, 30))
    late_due = m[1].replace(day=20)
    _item(world, "A day late", hugo, late_due, status="done", completed=at(late_due + timedelta(days=1), 0, 30))
    _item(world, "Still open", hugo, m[1].replace(day=28))
    _item(world, "Dropped", admin, m[1].replace(day=10), status="dropped")
    _item(world, "Early", admin, m[2].replace(day=5), status="done", completed=at(m[2].replace(day=1)))
    _item(world, "No unit", admin, m[2].replace(day=10), unit=None)
    _item(world, "This month", hugo, month_shift(last, 1).replace(day=10))
    _item(world, "Too old", admin, m[12].replace(day=28), status="done", completed=at(m[12].replace(day=1)))

    # Sessions and attendance
    last_day = month_shift(m[1], 1) - timedelta(days=1)
    _held(world, dept, [hugo, admin, petra], [hugo, admin], at(last_day, 23, 30), coach)
    _held(world, dept, [hugo, petra], [hugo], at(m[0], 0, 30), coach)
    _held(world, division, [hugo, admin], None, at(m[2].replace(day=12)), coach)
    with organization_scope(org):
        cancelled = coaching.session_schedule(
            unit=dept, coach=coach or admin, kind="check_in", scheduled_at=timezone.now() + timedelta(days=3),
            participants=[hugo],
        )  # fmt: skip
        coaching.session_cancel(session=cancelled)
        coaching.session_schedule(
            unit=dept, coach=coach or admin, kind="check_in", scheduled_at=timezone.now() + timedelta(days=4),
            participants=[hugo],
        )  # fmt: skip
    assert CoachingSession.objects.for_organization(org).filter(status=SessionStatus.HELD).count() == 3
    return Example(hugo, petra, {"M1": m1, "Q": q, "X": x, "M2": m2})
