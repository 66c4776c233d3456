"""Services for coaching sessions and action items: every change goes through here (pages, API, tests).

Permission checks are the callers' (bsc.permissions); these functions keep the invariants: same
organization everywhere, no upcoming session in the past, no action item due before it was created.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bsc import org_calendar
from bsc.models import Initiative, Membership, Objective, Organization, OrgUnit, User
from bsc.org_calendar import due_month
from bsc.permissions import may_own_action_items
from bsc.validation import validated_save as _save
from coaching.models import (
    ActionItem,
    ActionItemStatus,
    CoachingSession,
    SessionAttendance,
    SessionKpiSnapshot,
    SessionStatus,
)
from kpis.models import Kpi, KpiScore, Measurement, PeriodKind, Target

SESSION_TEXT_FIELDS = ("agenda", "notes", "wins", "challenges")


def _members(organization_id: int, users: Iterable[User], field: str, noun: str) -> list[User]:
    users = [user for user in users if user is not None]
    member_ids = set(
        Membership.objects.for_organization(organization_id).filter(user__in=users).values_list("user_id", flat=True)
    )
    strangers = [user.display_name for user in users if user.pk not in member_ids]
    if strangers:
        raise ValidationError(
            {field: f"{', '.join(strangers)} is not a member of this organization, so cannot be {noun}."}
        )
    return users


def _same_organization(organization_id: int, **objects) -> None:
    for field, obj in objects.items():
        if obj is not None and obj.organization_id != organization_id:
            raise ValidationError({field: f"The {field} belongs to another organization."})


# --- Sessions ------------------------------------------------------------------------------------------


@transaction.atomic
def session_schedule(
    *,
    unit: OrgUnit,
    coach: User,
    kind: str,
    scheduled_at: datetime,
    participants: Iterable[User] = (),
    agenda: str = "",
) -> CoachingSession:
    """An upcoming session of the unit; refused for a time already past."""
    organization_id = unit.organization_id
    _members(organization_id, [coach], "coach", "the coach")
    participants = _members(organization_id, participants, "participants", "a participant")
    if scheduled_at <= timezone.now():
        local = timezone.localtime(scheduled_at, org_calendar.zone(unit.organization))
        raise ValidationError(
            {"scheduled_at": f"{local:%d %b %Y %H:%M} is in the past; an upcoming session needs a future time."}
        )
    session = CoachingSession(
        organization_id=organization_id, unit=unit, coach=coach, kind=kind, scheduled_at=scheduled_at,
        agenda=agenda.strip(),
    )  # fmt: skip
    _save(session)
    session.participants.set(participants)
    return session


@transaction.atomic
def session_update(*, session: CoachingSession, participants: Iterable[User] | None = None, **texts) -> CoachingSession:
    """Change the agenda, notes, wins and challenges (and the participants); the earlier texts stay in
    the session's history."""
    unknown = set(texts) - set(SESSION_TEXT_FIELDS)
    if unknown:
        raise TypeError(f"session_update cannot change {', '.join(sorted(unknown))}")
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError("A cancelled session cannot be changed.")
    for name, value in texts.items():
        setattr(session, name, (value or "").strip())
    _save(session)
    if participants is not None:
        session.participants.set(_members(session.organization_id, participants, "participants", "a participant"))
        _attendance_follow_participants(session)
    return session


# Holding a session earlier than this before its time needs a confirmation: it is probably the wrong session,
# and the snapshot would capture values as they stand days ahead of the meeting.
EARLY_HOLD = timedelta(days=1)


def session_hold_early_warning(session: CoachingSession) -> str:
    """Why holding the session now needs a confirmation (it is more than EARLY_HOLD before its time), or ''."""
    ahead = session.scheduled_at - timezone.now()
    if ahead <= EARLY_HOLD:
        return ""
    local = timezone.localtime(session.scheduled_at, org_calendar.zone(session.unit.organization))
    days = round(ahead / timedelta(days=1))
    return (
        f"This session is scheduled for {local:%a %-d %b %Y, %H:%M}, {days} day{'s' if days != 1 else ''} from now. "
        "Holding it now captures the KPI values as they stand today."
    )


@transaction.atomic
def session_hold(
    *,
    session: CoachingSession,
    kpis: Iterable[Kpi] | None = None,
    attendees: Iterable[User] | None = None,
    confirm_early: bool = False,
) -> CoachingSession:
    """Mark the session held now and capture the value, target, score and status of the active KPIs of the
    unit and of the units below it (or of the chosen ones) for the month now due. `attendees` (some of the
    participants) records who came; None records no attendance, so the session stays out of the attendance
    figures. More than a day before its time the hold is refused unless `confirm_early`."""
    session = (
        CoachingSession.objects.for_organization(session.organization_id)
        .select_for_update(of=("self",))
        .select_related("unit", "unit__organization")
        .get(pk=session.pk)
    )
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError(f"This session is already {session.get_status_display().lower()}.")
    warning = session_hold_early_warning(session)
    if warning and not confirm_early:
        raise ValidationError({"confirm_early": ValidationError(f"{warning} Confirm to hold it early.", code="early")})
    organization = session.unit.organization
    if kpis is None:
        kpis = Kpi.objects.for_organization(organization).filter(
            unit__path__startswith=session.unit.path, archived_at__isnull=True
        )
    kpis = list(kpis)
    _same_organization(session.organization_id, **{f"kpi {kpi.code}": kpi for kpi in kpis})
    session.status = SessionStatus.HELD
    session.held_at = timezone.now()
    _save(session)
    _snapshot(session, organization, kpis)
    if attendees is not None:
        _attendance_write(session, attendees)
    return session


@transaction.atomic
def session_attendance_set(*, session: CoachingSession, attendees: Iterable[User]) -> CoachingSession:
    """Correct who attended a held session (any of its participants)."""
    session = CoachingSession.objects.for_organization(session.organization_id).select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.HELD:
        raise ValidationError(
            {"attendees": f"Attendance is taken for held sessions; this one is {session.get_status_display().lower()}."}
        )
    _attendance_write(session, attendees)
    return session


def _attendance_write(session: CoachingSession, attendees: Iterable[User]) -> None:
    """One row per participant, attended or not; anyone who was not a participant is refused by name."""
    participants = list(session.participants.all())
    invited = {user.pk for user in participants}
    attendees = [user for user in attendees if user is not None]
    strangers = [user.display_name for user in attendees if user.pk not in invited]
    if strangers:
        raise ValidationError(
            {
                "attendees": f"{', '.join(strangers)} is not a participant of this session; add them as a participant first."
            }
        )
    came = {user.pk for user in attendees}
    rows = SessionAttendance.objects.for_organization(session.organization_id)
    rows.filter(session=session).delete()
    rows.bulk_create(
        SessionAttendance(organization_id=session.organization_id, session=session, user=user, attended=user.pk in came)
        for user in participants
    )


def _attendance_follow_participants(session: CoachingSession) -> None:
    """After the participants of a held session changed: removed ones leave its attendance, added ones are
    recorded as absent until someone ticks them (only when attendance was taken at all)."""
    rows = SessionAttendance.objects.for_organization(session.organization_id).filter(session=session)
    taken = {row.user_id: row.attended for row in rows}
    if not taken:
        return
    _attendance_write(session, [user for user in session.participants.all() if taken.get(user.pk)])


def _snapshot(session: CoachingSession, organization: Organization, kpis: list[Kpi]) -> None:
    period = due_month(organization)
    org_id = organization.pk
    scores = {
        s.kpi_id: s
        for s in KpiScore.objects.for_organization(org_id).filter(
            kpi__in=kpis, period_kind=PeriodKind.MONTH, period=period
        )
    }
    # Without a stored score yet, the raw value and target still say what was discussed.
    values = dict(
        Measurement.objects.for_organization(org_id).filter(kpi__in=kpis, period=period).values_list("kpi_id", "value")
    )
    targets = dict(
        Target.objects.for_organization(org_id).filter(kpi__in=kpis, period=period).values_list("kpi_id", "value")
    )
    rows = []
    for kpi in kpis:
        score = scores.get(kpi.pk)
        rows.append(
            SessionKpiSnapshot(
                organization_id=org_id,
                session=session,
                kpi=kpi,
                period=period,
                actual=score.actual if score and score.actual is not None else values.get(kpi.pk),
                target=score.target if score and score.target is not None else targets.get(kpi.pk),
                score=score.score if score else None,
                status=score.status if score else "grey",
            )
        )
    SessionKpiSnapshot.objects.for_organization(org_id).bulk_create(rows)


@transaction.atomic
def session_move(*, session: CoachingSession, scheduled_at: datetime) -> CoachingSession:
    """Move an upcoming session to another (future) time. A cadence's occurrence keeps the date it stands
    for and is marked moved, so regenerating the cadence neither recreates nor re-times it."""
    session = CoachingSession.objects.for_organization(session.organization_id).select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError(
            f"This session is already {session.get_status_display().lower()}; only a scheduled session can be moved."
        )
    if scheduled_at <= timezone.now():
        local = timezone.localtime(scheduled_at, org_calendar.zone(session.unit.organization))
        raise ValidationError({"scheduled_at": f"{local:%d %b %Y %H:%M} is in the past; choose a future time."})
    session.scheduled_at = scheduled_at
    session.moved = session.cadence_id is not None
    _save(session)
    return session


@transaction.atomic
def session_cancel(*, session: CoachingSession) -> CoachingSession:
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError(f"This session is already {session.get_status_display().lower()}.")
    session.status = SessionStatus.CANCELLED
    _save(session)
    return session


# --- Action items ----------------------------------------------------------------------------------------


def _check_links(item: ActionItem) -> None:
    org_id = item.organization_id
    _same_organization(
        org_id, unit=item.unit, session=item.session, kpi=item.kpi, objective=item.objective,
        initiative=item.initiative,
    )  # fmt: skip
    _members(org_id, [item.owner], "owner", "the owner")


def _check_owner_role(item: ActionItem) -> None:
    """A new owner must be someone who may mark the item done (bsc.permissions: not a viewer)."""
    membership = Membership.objects.for_organization(item.organization_id).filter(user=item.owner_id).first()
    if membership is not None and not may_own_action_items(membership):
        raise ValidationError(
            {"owner": f"{item.owner.display_name} is a {membership.get_role_display().lower()} here and cannot own "
             "an action item; choose a member who may mark it done."}
        )  # fmt: skip


def due_date_problem(organization: Organization, due_date: date) -> str | None:
    """Why a new action item cannot be due then (before today in the organization's time zone), or None."""
    today = org_calendar.today(organization)
    if due_date < today:
        return f"The due date {due_date:%d %b %Y} is before today ({today:%d %b %Y}); choose today or later."
    return None


@transaction.atomic
def action_item_create(
    *,
    organization: Organization,
    title: str,
    owner: User,
    due_date: date,
    created_by: User | None,
    unit: OrgUnit | None = None,
    session: CoachingSession | None = None,
    kpi: Kpi | None = None,
    objective: Objective | None = None,
    initiative: Initiative | None = None,
) -> ActionItem:
    problem = due_date_problem(organization, due_date)
    if problem:
        raise ValidationError({"due_date": problem})
    if unit is None and session is not None:
        unit = session.unit
    if unit is None and kpi is not None:
        unit = kpi.unit
    item = ActionItem(
        organization=organization, title=(title or "").strip(), owner=owner, due_date=due_date,
        created_by=created_by, unit=unit, session=session, kpi=kpi, objective=objective, initiative=initiative,
    )  # fmt: skip
    _check_links(item)
    _check_owner_role(item)
    _save(item)
    return item


@transaction.atomic
def action_item_update(*, item: ActionItem, **fields) -> ActionItem:
    """Change the title, owner, due date or links (not the status: see action_item_set_status)."""
    allowed = {"title", "owner", "due_date", "unit", "kpi", "objective", "initiative"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"action_item_update cannot change {', '.join(sorted(unknown))}")
    if "due_date" in fields and fields["due_date"] != item.due_date:
        created = timezone.localtime(item.created_at, org_calendar.zone(item.organization)).date()
        if fields["due_date"] < created:
            raise ValidationError(
                {"due_date": f"The due date {fields['due_date']:%d %b %Y} is before the item was created "
                 f"({created:%d %b %Y})."}
            )  # fmt: skip
    owner_changed = "owner" in fields and getattr(fields["owner"], "pk", None) != item.owner_id
    for name, value in fields.items():
        setattr(item, name, (value or "").strip() if name == "title" else value)
    _check_links(item)
    if owner_changed:
        _check_owner_role(item)
    _save(item)
    return item


@transaction.atomic
def action_item_set_status(*, item: ActionItem, status: str) -> ActionItem:
    """Done records when; reopening (or dropping) clears it."""
    if status not in ActionItemStatus.values:
        raise ValidationError({"status": f"{status!r} is not a status; use open, done or dropped."})
    if status == item.status:
        return item
    item.status = status
    item.completed_at = timezone.now() if status == ActionItemStatus.DONE else None
    _save(item)
    return item
