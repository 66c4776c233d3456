"""Services for cadences: a unit's recurring sessions, generated ahead of time as ordinary CoachingSession rows.

The rule (weekly, every two weeks, or monthly on the nth or last weekday) gives dates; each date becomes a
session at the cadence's wall-clock time in the organization's time zone, so a 09:00 Berlin session stays
at 09:00 local across daylight-saving changes (its UTC time moves). A session remembers the date it stands
for (`occurrence`), and (cadence, occurrence) is unique: generating again adds nothing, and an occurrence
that was moved or cancelled keeps its date, so it is never generated a second time.

Editing a cadence reshapes only its future occurrences nobody has touched (see `_untouched_future`); held,
cancelled, moved ones and those with notes or action items stay as they are. Permission checks are the
callers' (bsc.permissions), as in coaching.services.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from bsc import org_calendar
from bsc.models import OrgUnit, User
from bsc.org_calendar import month_shift, month_start
from bsc.validation import validated_save as _save
from coaching.models import (
    ActionItem,
    Cadence,
    CadenceFrequency,
    CoachingSession,
    SessionKind,
    SessionStatus,
    WeekOfMonth,
)
from coaching.services import _members

# How far ahead sessions exist: about two months of weekly sessions, three monthly ones.
DEFAULT_HORIZON = {
    CadenceFrequency.WEEKLY: timedelta(weeks=8),
    CadenceFrequency.BIWEEKLY: timedelta(weeks=8),
    CadenceFrequency.MONTHLY: timedelta(days=92),
}
RULE_FIELDS = ("kind", "frequency", "weekday", "week_of_month", "time_of_day", "starts_on", "ends_on", "agenda")


# --- The rule ---------------------------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, week: int) -> date:
    if week == WeekOfMonth.LAST:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))


def occurrence_dates(cadence: Cadence, start: date, end: date) -> list[date]:
    """The cadence's dates from `start` to `end` (both included), within its own start and end."""
    low = max(start, cadence.starts_on)
    high = min(end, cadence.ends_on) if cadence.ends_on else end
    if low > high or cadence.weekday is None:
        return []
    if cadence.frequency == CadenceFrequency.MONTHLY:
        dates, month = [], month_start(low)
        while month <= high:
            day = _nth_weekday(month.year, month.month, cadence.weekday, cadence.week_of_month)
            if low <= day <= high:
                dates.append(day)
            month = month_shift(month, 1)
        return dates
    step = 14 if cadence.frequency == CadenceFrequency.BIWEEKLY else 7
    # Every two weeks counts from the first matching day on or after the start, whatever day we generate on.
    anchor = cadence.starts_on + timedelta(days=(cadence.weekday - cadence.starts_on.weekday()) % 7)
    skipped = max(0, -(-(low - anchor).days // step))
    day = anchor + timedelta(days=step * skipped)
    dates = []
    while day <= high:
        dates.append(day)
        day += timedelta(days=step)
    return dates


def occurrence_time(cadence: Cadence, day: date, tz: ZoneInfo) -> datetime:
    """The session's start on `day` at the cadence's local time. A time that does not exist on the day the
    clocks go forward (02:30) is read with the offset before the change, i.e. one hour later on the wall."""
    return datetime.combine(day, cadence.time_of_day).replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True)
class Window:
    now: datetime
    first: date
    last: date


def _window(cadence: Cadence, tz: ZoneInfo, horizon: timedelta | None, now: datetime | None) -> Window:
    now = now or timezone.now()
    horizon = horizon if horizon is not None else DEFAULT_HORIZON[CadenceFrequency(cadence.frequency)]
    return Window(now, timezone.localtime(now, tz).date(), timezone.localtime(now + horizon, tz).date())


def _wanted(cadence: Cadence, window: Window, tz: ZoneInfo) -> dict[date, datetime]:
    """Upcoming dates of the cadence in the window, with their start times (none for an inactive cadence)."""
    if not cadence.active:
        return {}
    wanted = {day: occurrence_time(cadence, day, tz) for day in occurrence_dates(cadence, window.first, window.last)}
    return {day: at for day, at in wanted.items() if at > window.now}


# --- Validation -------------------------------------------------------------------------------------------


def _check(cadence: Cadence) -> None:
    """Field-named messages for what the form or the API sent; the model's constraints back them up."""
    errors: dict[str, str] = {}
    if cadence.unit_id is not None and cadence.unit.organization_id != cadence.organization_id:
        errors["unit"] = "The unit belongs to another organization."
    if cadence.kind not in SessionKind.values:
        errors["kind"] = f"{cadence.kind!r} is not a kind of session; use {', '.join(SessionKind.values)}."
    if cadence.frequency not in CadenceFrequency.values:
        errors["frequency"] = f"{cadence.frequency!r} is not a frequency; use weekly, biweekly or monthly."
    if cadence.weekday is None:
        errors["weekday"] = "Choose the weekday the sessions fall on (Monday to Sunday)."
    elif cadence.weekday not in range(7):
        errors["weekday"] = f"{cadence.weekday!r} is not a weekday; use 0 (Monday) to 6 (Sunday)."
    if cadence.frequency == CadenceFrequency.MONTHLY:
        if cadence.week_of_month is None:
            errors["week_of_month"] = "A monthly cadence needs the week of the month: 1st, 2nd, 3rd, 4th or last."
        elif cadence.week_of_month not in WeekOfMonth.values:
            errors["week_of_month"] = f"{cadence.week_of_month!r} is not a week of the month; use 1 to 4, or -1 (last)."
    else:
        cadence.week_of_month = None  # only monthly cadences use it
    if cadence.time_of_day is None:
        errors["time_of_day"] = "Give the time of day the sessions start."
    if cadence.starts_on is None:
        errors["starts_on"] = "Give the date the cadence starts on."
    elif cadence.ends_on is not None and cadence.ends_on < cadence.starts_on:
        errors["ends_on"] = (
            f"The end date {cadence.ends_on:%d %b %Y} is before the start date {cadence.starts_on:%d %b %Y}; "
            "a cadence cannot end before it starts."
        )
    if errors:
        raise ValidationError(errors)
    _members(cadence.organization_id, [cadence.coach], "coach", "the coach")


# --- Services ---------------------------------------------------------------------------------------------


@transaction.atomic
def cadence_create(
    *,
    unit: OrgUnit,
    coach: User,
    kind: str,
    frequency: str,
    weekday: int | None,
    time_of_day: time | None,
    starts_on: date | None,
    week_of_month: int | None = None,
    ends_on: date | None = None,
    participants: Iterable[User] = (),
    agenda: str = "",
    created_by: User | None = None,
) -> Cadence:
    """A new cadence; its upcoming sessions are generated at once (`cadence.generated` says how many)."""
    cadence = Cadence(
        organization_id=unit.organization_id, unit=unit, coach=coach, kind=kind, frequency=frequency,
        weekday=weekday, week_of_month=week_of_month, time_of_day=time_of_day, starts_on=starts_on,
        ends_on=ends_on, agenda=(agenda or "").strip(), created_by=created_by,
    )  # fmt: skip
    _check(cadence)
    participants = _members(cadence.organization_id, participants, "participants", "a participant")
    _save(cadence)
    cadence.participants.set(participants)
    cadence.generated = cadence_generate(cadence=cadence)
    return cadence


@transaction.atomic
def cadence_update(*, cadence: Cadence, participants: Iterable[User] | None = None, **fields) -> Cadence:
    """Change the rule, time, coach, participants or default agenda. The cadence's future occurrences that
    nobody touched follow the change (moved to the new time, removed when their date left the rule, new
    dates added); held, cancelled, moved or worked-on ones stay as they are."""
    unknown = set(fields) - {*RULE_FIELDS, "coach", "active"}
    if unknown:
        raise TypeError(f"cadence_update cannot change {', '.join(sorted(unknown))}")
    cadence = _locked(cadence)
    old_agenda = cadence.agenda
    for name, value in fields.items():
        setattr(cadence, name, value.strip() if name == "agenda" else value)
    _check(cadence)
    if participants is not None:
        participants = _members(cadence.organization_id, participants, "participants", "a participant")
    _save(cadence)
    if participants is not None:
        cadence.participants.set(participants)
    cadence.regenerated = _regenerate(cadence, old_agenda=old_agenda)
    return cadence


@transaction.atomic
def cadence_deactivate(*, cadence: Cadence) -> Cadence:
    """Stop the cadence: no more sessions are generated and its untouched upcoming ones are removed (the
    held, cancelled, moved and worked-on ones stay)."""
    return cadence_update(cadence=cadence, active=False)


@transaction.atomic
def cadence_generate(*, cadence: Cadence, horizon: timedelta | None = None, now: datetime | None = None) -> int:
    """Create the sessions of the cadence's dates from now to `horizon` ahead (8 weeks, or 92 days for a
    monthly cadence) that do not exist yet; returns how many were created. Idempotent: the unique
    (cadence, occurrence) makes a repeated or concurrent run add nothing. `now` is for tests and back-fills."""
    cadence = _locked(cadence)
    tz = org_calendar.zone(cadence.unit.organization)
    wanted = _wanted(cadence, _window(cadence, tz, horizon, now), tz)
    sessions = CoachingSession.objects.for_organization(cadence.organization_id)
    existing = set(sessions.filter(cadence=cadence, occurrence__in=wanted).values_list("occurrence", flat=True))
    rows = [
        CoachingSession(
            organization_id=cadence.organization_id,
            unit_id=cadence.unit_id,
            coach_id=cadence.coach_id,
            kind=cadence.kind,
            scheduled_at=at,
            agenda=cadence.agenda,
            cadence=cadence,
            occurrence=day,
        )  # fmt: skip
        for day, at in sorted(wanted.items())
        if day not in existing
    ]
    if not rows:
        return 0
    sessions.bulk_create(rows, ignore_conflicts=True)
    created = list(sessions.filter(cadence=cadence, occurrence__in=[r.occurrence for r in rows]).values_list("pk"))
    _add_participants([pk for (pk,) in created], list(cadence.participants.values_list("pk", flat=True)))
    return len(created)


def _locked(cadence: Cadence) -> Cadence:
    """The cadence's row, locked: generation and edits of one cadence run one after the other."""
    return (
        Cadence.objects.for_organization(cadence.organization_id)
        .select_related("unit__organization", "coach")
        .select_for_update(of=("self",))
        .get(pk=cadence.pk)
    )


def _add_participants(session_ids: list[int], user_ids: list[int]) -> None:
    through = CoachingSession.participants.through
    through.objects.bulk_create(
        [through(coachingsession_id=s, user_id=u) for s in session_ids for u in user_ids], ignore_conflicts=True
    )


def _untouched_future(cadence: Cadence, now: datetime, old_agenda: str) -> list[CoachingSession]:
    """Upcoming scheduled occurrences nobody worked on: not moved, no notes, wins, challenges or action items,
    and the agenda still the one the cadence gave them."""
    items = ActionItem.objects.for_organization(cadence.organization_id).filter(session=OuterRef("pk"))
    candidates = (
        CoachingSession.objects.for_organization(cadence.organization_id)
        .filter(cadence=cadence, status=SessionStatus.SCHEDULED, moved=False, scheduled_at__gt=now)
        .annotate(has_items=Exists(items))
    )
    return [s for s in candidates if not (s.notes or s.wins or s.challenges or s.has_items) and s.agenda == old_agenda]


def _regenerate(cadence: Cadence, *, old_agenda: str, now: datetime | None = None) -> dict[str, int]:
    tz = org_calendar.zone(cadence.unit.organization)
    window = _window(cadence, tz, None, now)
    wanted = _wanted(cadence, window, tz)
    participant_ids = list(cadence.participants.values_list("pk", flat=True))
    kept, removed = [], []
    for session in _untouched_future(cadence, window.now, old_agenda):
        if session.occurrence in wanted:
            session.scheduled_at = wanted[session.occurrence]
            session.kind, session.coach_id, session.agenda = cadence.kind, cadence.coach_id, cadence.agenda
            session.save(update_fields=["scheduled_at", "kind", "coach", "agenda"])
            kept.append(session.pk)
        else:
            removed.append(session.pk)
    if removed:
        CoachingSession.objects.for_organization(cadence.organization_id).filter(pk__in=removed).delete()
    if kept:
        CoachingSession.participants.through.objects.filter(coachingsession_id__in=kept).delete()
        _add_participants(kept, participant_ids)
    created = cadence_generate(cadence=cadence, now=now) if cadence.active else 0
    return {"updated": len(kept), "removed": len(removed), "created": created}


def cadence_generate_all(*, organization) -> int:
    """Generate ahead for every active cadence of the organization (the daily beat task)."""
    total = 0
    for cadence in Cadence.objects.for_organization(organization).filter(active=True).order_by("pk"):
        total += cadence_generate(cadence=cadence)
    return total
