"""Reads shared by the coaching pages and the API, always for one organization, with related rows loaded."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from bsc import org_calendar
from bsc.models import Membership, Organization, OrgUnit, User
from bsc.org_calendar import due_month, month_shift
from bsc.permissions import Action, action_item_owner_roles, scope
from bsc.tenancy import organization_scope
from coaching.models import (
    ActionItem,
    ActionItemStatus,
    Cadence,
    CoachingSession,
    Notification,
    SessionKpiSnapshot,
    SessionStatus,
)
from kpis.dashboard import red_without_action
from kpis.models import PeriodKind


def _readable(rows: QuerySet, membership: Membership) -> QuerySet:
    """Coaching rows (sessions, cadences) this member may read: admins and executives all, department heads
    those of their units, coaches their own, viewers none."""
    return scope(membership, Action.READ_COACHING).apply(rows)


def session_list(*, organization: Organization, membership: Membership) -> QuerySet[CoachingSession]:
    """The sessions this member may read: admins and executives all, department heads those of their
    units, coaches their own, viewers none."""
    sessions = (
        CoachingSession.objects.for_organization(organization)
        .select_related("unit", "coach", "cadence")
        .prefetch_related("participants")
    )
    return _readable(sessions, membership)


def cadence_list(*, organization: Organization, membership: Membership) -> QuerySet[Cadence]:
    """The cadences this member may read (as for sessions), with the upcoming session of each."""
    cadences = (
        Cadence.objects.for_organization(organization)
        .select_related("unit", "coach")
        .prefetch_related("participants")
        .order_by("-active", "unit__path", "kind", "id")
    )
    return _readable(cadences, membership)


def cadence_sessions(*, cadence: Cadence) -> QuerySet[CoachingSession]:
    return (
        CoachingSession.objects.for_organization(cadence.organization_id)
        .filter(cadence=cadence)
        .select_related("unit", "coach")
        .order_by("scheduled_at", "id")
    )


@dataclass
class CalendarDay:
    day: date
    in_month: bool
    is_today: bool
    sessions: list[CoachingSession] = field(default_factory=list)


def session_calendar_month(
    *, organization: Organization, membership: Membership, month: date, today: date
) -> list[list[CalendarDay]]:
    """The month as weeks (Monday first, with the days of the neighbouring months that fill the first and
    last week), each day with the sessions this member may read, by local start time."""
    tz = org_calendar.zone(organization)
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=6 - last.weekday())
    days = {start + timedelta(days=i): None for i in range((end - start).days + 1)}
    grid = {d: CalendarDay(d, d.month == first.month, d == today) for d in days}
    sessions = session_list(organization=organization, membership=membership).filter(
        scheduled_at__gte=datetime.combine(start, time(0), tzinfo=tz),
        scheduled_at__lt=datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz),
    )
    for session in sessions.order_by("scheduled_at", "id"):
        grid[timezone.localtime(session.scheduled_at, tz).date()].sessions.append(session)
    ordered = list(grid.values())
    return [ordered[i : i + 7] for i in range(0, len(ordered), 7)]


def session_upcoming_and_recent(*, organization: Organization, membership: Membership, recent: int = 20):
    sessions = session_list(organization=organization, membership=membership)
    now = timezone.now()
    upcoming = sessions.filter(status=SessionStatus.SCHEDULED, scheduled_at__gte=now).order_by("scheduled_at")
    past = sessions.filter(Q(scheduled_at__lt=now) | ~Q(status=SessionStatus.SCHEDULED)).order_by("-scheduled_at")
    return list(upcoming), list(past[:recent])


def session_previous(*, session: CoachingSession) -> CoachingSession | None:
    """The unit's last session before this one that was not cancelled."""
    return (
        CoachingSession.objects.for_organization(session.organization_id)
        .filter(unit=session.unit_id, scheduled_at__lt=session.scheduled_at)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("-scheduled_at", "-id")
        .first()
    )


# The agenda's order of the KPIs discussed: what needs attention first.
SNAPSHOT_STATUS_ORDER = ("red", "amber", "green", "grey")


def session_snapshot_list(*, session: CoachingSession) -> QuerySet[SessionKpiSnapshot]:
    """The KPI values captured when the session was held (its unit's and its sub-units'), red first, then
    amber, green and no data; within a status the unit's own KPIs first, then by unit and code."""
    rank = Case(
        *(When(status=status, then=Value(i)) for i, status in enumerate(SNAPSHOT_STATUS_ORDER)),
        default=Value(len(SNAPSHOT_STATUS_ORDER)),
        output_field=IntegerField(),
    )
    return (
        SessionKpiSnapshot.objects.for_organization(session.organization_id)
        .filter(session=session)
        .select_related("kpi", "kpi__unit")
        .order_by(rank, "kpi__unit__path", "kpi__code")
    )


def action_item_owner_list(*, organization: Organization) -> QuerySet[User]:
    """The members who may own an action item (choices for its owner): every role but viewers."""
    return User.objects.filter(
        memberships__organization=organization, memberships__role__in=[r.value for r in action_item_owner_roles()]
    ).order_by("full_name", "email")


def action_item_list(*, organization: Organization) -> QuerySet[ActionItem]:
    return ActionItem.objects.for_organization(organization).select_related(
        "owner", "unit", "session", "kpi", "objective", "initiative"
    )


def action_item_open_for_user(*, organization: Organization, user: User) -> list[ActionItem]:
    """The user's open items by due date, each with `.overdue` (in the organization's time zone) and its unit: what
    the "Your open action items" list shows, on the organization overview and the dashboard (with the unit only: the
    five other joins of action_item_list made the query several times slower to build and plan)."""
    today = org_calendar.today(organization)
    items = list(
        ActionItem.objects.for_organization(organization)
        .filter(owner=user, status=ActionItemStatus.OPEN)
        .select_related("unit")
    )
    for item in items:
        item.overdue = item.is_overdue(today)
    return items


@dataclass
class BoardGroup:
    label: str
    items: list[ActionItem] = field(default_factory=list)
    overdue: int = 0


def action_item_board(
    *,
    organization: Organization,
    group_by: str,
    today: date,
    show_closed: bool = False,
    only_units: set[int] | None = None,
    or_owner: User | None = None,
) -> list[BoardGroup]:
    """Action items grouped by owner or by unit (by due date), with overdue counts; `only_units` limits
    them to those units' items (and `or_owner`'s own) for department heads."""
    items = action_item_list(organization=organization)
    if only_units is not None:
        items = items.filter(Q(unit__in=only_units) | Q(owner=or_owner))
    if not show_closed:
        items = items.filter(status=ActionItemStatus.OPEN)
    groups: dict[object, BoardGroup] = {}
    for item in items.order_by("due_date", "id"):
        if group_by == "unit":
            key, label = item.unit_id, item.unit.name if item.unit else "No unit"
        else:
            key, label = item.owner_id, item.owner.display_name
        group = groups.setdefault(key, BoardGroup(label))
        item.overdue = item.is_overdue(today)
        group.items.append(item)
        group.overdue += item.overdue
    return sorted(groups.values(), key=lambda g: g.label.lower())


# --- Accountability figures ------------------------------------------------------------------------------
#
# Three shares per month over the 12 complete months ending with the month now due, per unit, per person
# and overall, for the units the member may follow (docs/accountability.md has the rules):
# - KPI values on time: of the values due for a month (active manual KPIs whose period ends with it and that
#   existed during it), those first entered by the organization's data-entry day of the following month,
#   in its time zone. A month whose deadline is still ahead is open: no figure yet.
# - Action items done on time: of the items due in the month (dropped ones left out), those done with a
#   completion date (organization's time zone) on or before the due date.
# - Attendance: of the participants invited to the sessions held in the month (where attendance was
#   taken), those who attended.
# Each is one GROUP BY GROUPING SETS query for every unit, person and the total at once.

ACCOUNTABILITY_MONTHS = 12


@dataclass(frozen=True)
class Share:
    """`done` of `total` for one month; `open_until` is the deadline of a month not decided yet."""

    done: int = 0
    total: int = 0
    open_until: date | None = None

    @property
    def value(self) -> Decimal | None:
        if self.total == 0 or self.open_until is not None:
            return None
        return Decimal(self.done) / Decimal(self.total)


METRICS = ("kpi_values", "action_items", "attendance")


@dataclass
class Figures:
    """The three monthly shares of one unit, one person or everything, oldest month first."""

    kpi_values: list[Share]
    action_items: list[Share]
    attendance: list[Share]

    @classmethod
    def empty(cls, months: int) -> Figures:
        return cls(*([Share()] * months for _ in METRICS))

    def has_data(self) -> bool:
        return any(share.total for metric in METRICS for share in getattr(self, metric))


@dataclass
class AccountabilityRow:
    subject: OrgUnit | User
    figures: Figures


@dataclass
class Accountability:
    months: list[date]
    data_entry_day: int
    time_zone: str
    overall: Figures
    units: list[AccountabilityRow]
    people: list[AccountabilityRow]


def accountability_unit_scope(*, organization: Organization, membership: Membership) -> set[int] | None:
    """The units whose figures the member sees: None for every unit (admins and executives), the units of
    their sessions for coaches, their units and those below for department heads, none for viewers."""
    with organization_scope(organization):
        readable = scope(membership, Action.READ_COACHING)
    if readable.coach_id is not None:
        return set(
            CoachingSession.objects.for_organization(organization)
            .filter(coach=readable.coach_id)
            .order_by()
            .values_list("unit_id", flat=True)
            .distinct()
        )
    return readable.only_units


def accountability(
    *, organization: Organization, membership: Membership, now: datetime | None = None
) -> Accountability:
    """The accountability figures the member may see, month by month (`now` fixes the clock for tests): three
    figure queries, the units and the people, and up to two for the member's units, whatever their number."""
    now = now or org_calendar.now()
    zone = org_calendar.zone(organization)
    last = org_calendar.due_month(organization, now)
    months = [month_shift(last, i - ACCOUNTABILITY_MONTHS + 1) for i in range(ACCOUNTABILITY_MONTHS)]
    units = accountability_unit_scope(organization=organization, membership=membership)
    params = {
        "org": organization.pk,
        "tz": organization.time_zone,
        "first": months[0],
        "end": month_shift(last, 1),
        "start_at": org_calendar.local_midnight(months[0], organization),
        "end_at": org_calendar.local_midnight(month_shift(last, 1), organization),
        "now": now,
        "day": organization.data_entry_day,
        "fiscal": organization.fiscal_year_start_month,
        "all_units": units is None,
        "units": sorted(units or ()),
    }
    overall = Figures.empty(len(months))
    by_unit: dict[int, Figures] = {}
    by_person: dict[int, Figures] = {}
    index = {month: i for i, month in enumerate(months)}
    if units is None or units:
        with connection.cursor() as cursor:
            for metric, sql in (
                ("kpi_values", _KPI_VALUES_SQL),
                ("action_items", _ACTION_ITEMS_SQL),
                ("attendance", _ATTENDANCE_SQL),
            ):
                cursor.execute(sql, params)
                for unit_id, person_id, month, not_by_unit, not_by_person, total, done, deadline in cursor.fetchall():
                    open_until = deadline.astimezone(zone).date() - timedelta(days=1) if deadline > now else None
                    share = Share(done=done, total=total, open_until=open_until)
                    if not_by_unit and not_by_person:
                        target = overall
                    elif not not_by_unit:
                        if unit_id is None:
                            continue  # action items without a unit count for their owner only
                        target = by_unit.setdefault(unit_id, Figures.empty(len(months)))
                    else:
                        if person_id is None:
                            continue  # KPIs without an owner count for their unit only
                        target = by_person.setdefault(person_id, Figures.empty(len(months)))
                    getattr(target, metric)[index[month]] = share
    unit_rows = [
        AccountabilityRow(unit, by_unit[unit.pk])
        for unit in OrgUnit.objects.for_organization(organization).filter(pk__in=by_unit).order_by("path")
    ]
    people = sorted(User.objects.filter(pk__in=by_person), key=lambda u: (u.display_name.lower(), u.pk))
    return Accountability(
        months=months,
        data_entry_day=organization.data_entry_day,
        time_zone=organization.time_zone,
        overall=overall,
        units=unit_rows,
        people=[AccountabilityRow(user, by_person[user.pk]) for user in people],
    )


# Every query returns (unit_id, person_id, month, GROUPING(unit), GROUPING(person), total, done, deadline):
# rows grouped by unit and month, by person and month, and by month alone. `deadline` is when the month's
# figure is decided (the data-entry deadline for KPI values; the month's end for the others).
_GROUPING = """
    GROUP BY GROUPING SETS ((x.unit_id, x.month), (x.person_id, x.month), (x.month))
"""

_KPI_VALUES_SQL = (
    f"""
WITH months AS (
    SELECT m::date AS month FROM generate_series(%(first)s::date, %(end)s::date - 1, interval '1 month') AS m
),
expected AS (
    SELECT k.id AS kpi_id, k.unit_id, k.owner_id AS person_id, months.month,
           {org_calendar.sql_period_ending_in("months.month", "s.step")} AS period,
           ((months.month + make_interval(months => 1, days => %(day)s))::timestamp AT TIME ZONE %(tz)s) AS deadline,
           ((months.month + interval '1 month')::timestamp AT TIME ZONE %(tz)s) AS month_end,
           k.created_at, k.archived_at
    FROM kpis_kpi k
    CROSS JOIN LATERAL (
        SELECT {org_calendar.sql_frequency_step("k.frequency")} AS step
    ) s
    JOIN months ON {org_calendar.sql_period_ends_in("months.month", "s.step", "%(fiscal)s")}
    WHERE k.organization_id = %(org)s AND k.source = 'manual'
      AND (%(all_units)s OR k.unit_id = ANY(%(units)s::bigint[]))
),
-- A value counts from its first entry (its audit history keeps it): later corrections do not make it late.
first_entries AS (
    SELECT ev.pgh_obj_id AS measurement_id, min(ev.entered_at) AS at
    FROM kpis_measurementevent ev
    WHERE ev.organization_id = %(org)s AND ev.period >= %(first)s::date - interval '11 months' AND ev.period < %(end)s
    GROUP BY ev.pgh_obj_id
),
x AS (
    SELECT e.unit_id, e.person_id, e.month, e.deadline,
           LEAST(ms.entered_at, first_entries.at) < e.deadline AS on_time
    FROM expected e
    LEFT JOIN kpis_measurement ms
           ON ms.organization_id = %(org)s AND ms.kpi_id = e.kpi_id AND ms.period = e.period
    LEFT JOIN first_entries ON first_entries.measurement_id = ms.id
    WHERE e.created_at < e.month_end AND (e.archived_at IS NULL OR e.archived_at >= e.deadline)
)
SELECT x.unit_id, x.person_id, x.month, GROUPING(x.unit_id), GROUPING(x.person_id),
       count(*), count(*) FILTER (WHERE x.on_time), max(x.deadline)
FROM x
"""
    + _GROUPING
)

_ACTION_ITEMS_SQL = (
    """
SELECT x.unit_id, x.person_id, x.month, GROUPING(x.unit_id), GROUPING(x.person_id),
       count(*), count(*) FILTER (WHERE x.on_time),
       ((x.month + interval '1 month')::timestamp AT TIME ZONE %(tz)s)
FROM (
    SELECT a.unit_id, a.owner_id AS person_id, date_trunc('month', a.due_date)::date AS month,
           a.status = 'done' AND (a.completed_at AT TIME ZONE %(tz)s)::date <= a.due_date AS on_time
    FROM coaching_actionitem a
    WHERE a.organization_id = %(org)s AND a.status <> 'dropped'
      AND a.due_date >= %(first)s AND a.due_date < %(end)s
      AND (%(all_units)s OR a.unit_id = ANY(%(units)s::bigint[]))
) x
"""
    + _GROUPING
)

_ATTENDANCE_SQL = (
    """
SELECT x.unit_id, x.person_id, x.month, GROUPING(x.unit_id), GROUPING(x.person_id),
       count(*), count(*) FILTER (WHERE x.attended),
       ((x.month + interval '1 month')::timestamp AT TIME ZONE %(tz)s)
FROM (
    SELECT s.unit_id, a.user_id AS person_id, a.attended,
           date_trunc('month', s.held_at AT TIME ZONE %(tz)s)::date AS month
    FROM coaching_sessionattendance a
    JOIN coaching_coachingsession s ON s.id = a.session_id AND s.organization_id = %(org)s
    WHERE a.organization_id = %(org)s AND s.status = 'held'
      AND s.held_at >= %(start_at)s AND s.held_at < %(end_at)s
      AND (%(all_units)s OR s.unit_id = ANY(%(units)s::bigint[]))
) x
"""
    + _GROUPING
)


# --- Notifications ---------------------------------------------------------------------------------------


def notification_list(*, organization: Organization, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's inbox in one organization, newest first."""
    notifications = Notification.objects.for_organization(organization).filter(recipient=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def notification_unread_count(*, organization: Organization, user: User) -> int:
    return notification_list(organization=organization, user=user, unread_only=True).count()


def membership_unread_notifications(*, user: User) -> dict:
    """The unread notifications of the membership's user in its organization, as an annotation of the person's
    memberships (bsc.events.membership_annotations): the layout's inbox badge comes with the access check's query."""
    unread = (
        Notification.objects.filter(
            organization=OuterRef("organization_id"), recipient=OuterRef("user_id"), read_at__isnull=True
        )
        .order_by()
        .values("recipient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return {"unread_notifications": Coalesce(Subquery(unread), 0)}


# --- The dashboard's follow-up of red objectives ---------------------------------------------------------------


@dataclass
class ObjectiveFollowUp:
    open_items: int = 0
    last_session: datetime | None = None  # held_at of the latest session of the objective's unit that discussed it


def objective_follow_up(
    *, organization: Organization, membership: Membership, objective_ids: list[int]
) -> dict[int, ObjectiveFollowUp]:
    """For each objective: the open action items on it or on a KPI serving it (those the member may see), and the
    latest held session of the objective's own unit that discussed it: its KPI snapshot holds one of the
    objective's KPIs, or an action item on the objective or one of its KPIs was created in it (docs/dashboard.md).
    Sessions the member may not read are left out. Three queries, whatever the number of objectives."""
    from django.db.models import Count, F, Max
    from django.db.models.functions import Coalesce

    from bsc.permissions import visible_action_items

    result = {pk: ObjectiveFollowUp() for pk in objective_ids}
    if not objective_ids:
        return result
    on_objective = Coalesce("objective_id", "kpi__objective_id")
    items = (
        visible_action_items(membership)
        .apply(ActionItem.objects.for_organization(organization))
        .filter(Q(objective_id__in=objective_ids) | Q(kpi__objective_id__in=objective_ids))
    )
    for pk, count in (
        items.filter(status=ActionItemStatus.OPEN)
        .annotate(target=on_objective)
        .values_list("target")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if pk in result:
            result[pk].open_items = count
    readable = scope(membership, Action.READ_COACHING)
    held = {"session__status": SessionStatus.HELD}
    snapshots = (
        readable.apply(SessionKpiSnapshot.objects.for_organization(organization), unit="session__unit", coach="session__coach")
        .filter(kpi__objective_id__in=objective_ids, session__unit=F("kpi__objective__scorecard__unit"), **held)
        .values_list("kpi__objective_id")
        .annotate(last=Max("session__held_at"))
        .order_by()
    )  # fmt: skip
    created = (
        readable.apply(ActionItem.objects.for_organization(organization), unit="session__unit", coach="session__coach")
        .filter(Q(objective_id__in=objective_ids) | Q(kpi__objective_id__in=objective_ids), **held)
        .annotate(target=on_objective)
        .filter(session__unit=Coalesce(F("objective__scorecard__unit"), F("kpi__objective__scorecard__unit")))
        .values_list("target")
        .annotate(last=Max("session__held_at"))
        .order_by()
    )  # fmt: skip
    for pk, last in [*snapshots, *created]:
        if pk in result and last is not None and (result[pk].last_session is None or last > result[pk].last_session):
            result[pk].last_session = last
    return result


def session_red_kpis(*, session: CoachingSession) -> list:
    """On the agenda of an upcoming session (issue 17): the KPIs of its unit and the units below it that are red in
    the month now due, those without an open action item first, worst first (kpis.dashboard.red_without_action)."""
    if session.status != SessionStatus.SCHEDULED:
        return []
    organization = session.unit.organization
    reds, _total = red_without_action(
        organization=organization, unit=session.unit, kind=PeriodKind.MONTH, period=due_month(organization),
        limit=50, with_actioned=True,
    )  # fmt: skip
    return reds
