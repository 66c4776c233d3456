"""The monthly close (issue 17): an executive or admin closes a month for a unit and every unit below it (the
root unit: the whole organization) after a checklist; an admin may reopen it with a reason. The rule lives here:

- a KPI's value or target for a period is locked when every month of that period (one for a monthly KPI, three
  for a quarterly one, twelve for an annual one) is closed for the KPI's unit, by a close of the unit or of an
  ancestor that is not reopened. `period_check_open` is the one guard the services call (`periods_check_open`
  for all the values of a request at once); the import's preview and write ask `staged_closes_sql`, the same
  rule in SQL over its staged rows;
- a stored score of a unit's KPI, objective, perspective or scorecard is frozen for a window (month, fiscal
  quarter, fiscal year) when every month of the window is closed for that unit: the recompute leaves it as it
  was (kpis/recompute.py reads `FROZEN_WINDOWS_SQL`); a reopen asks for the unit's scores to be recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from bsc import org_calendar
from bsc.models import Organization, OrgUnit, User
from kpis import causes, outbox
from kpis.models import Kpi, KpiScore, Measurement, PeriodClose, Source

MAX_REASON = 500


# --- The rule ---------------------------------------------------------------------------------------------


def _ancestor_ids(unit: OrgUnit) -> list[int]:
    """The unit and its ancestors, from its materialized path of ids ("/1/5/12/")."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]


def closes_over(unit: OrgUnit, months: list[date]) -> dict[date, PeriodClose]:
    """The closes (not reopened) that lock these months for the unit, its own or an ancestor's: the latest one per
    month."""
    closes = (
        PeriodClose.objects.for_organization(unit.organization_id)
        .filter(unit_id__in=_ancestor_ids(unit), month__in=months, reopened_at__isnull=True)
        .select_related("closed_by", "unit")
        .order_by("closed_at")
    )
    return {close.month: close for close in closes}


def _period_months(kpi: Kpi, period: date) -> list[date]:
    step = org_calendar.FREQUENCY_STEPS[kpi.frequency]
    return [org_calendar.month_shift(period, i) for i in range(step)]


def kpi_period_closes(kpi: Kpi, periods: list[date]) -> dict[date, PeriodClose]:
    """Of the KPI's periods, those locked, each with its close (the latest of its months'): one query."""
    months = {period: _period_months(kpi, period) for period in periods}
    found = closes_over(kpi.unit, sorted({m for ms in months.values() for m in ms}))
    return {
        period: max((found[m] for m in ms), key=lambda close: close.closed_at)
        for period, ms in months.items()
        if all(m in found for m in ms)
    }


def closed_note(close: PeriodClose) -> str:
    """'closed by Eve Exec on 5 Apr 2026' (the day in the organization's zone)."""
    who = close.closed_by.display_name if close.closed_by else "a former member"
    day = org_calendar.local_now(close.organization, at=close.closed_at).date()
    return f"closed by {who} on {day.day} {org_calendar.month_label(day)}"


def closed_notes(pairs: list[tuple[Kpi, date]]) -> dict[tuple[int, date], str]:
    """For pages listing many KPI periods (data entry): the locked ones, each with its "closed by X on D" note,
    in one query."""
    if not pairs:
        return {}
    months = {(kpi.pk, period): _period_months(kpi, period) for kpi, period in pairs}
    closes = (
        PeriodClose.objects.for_organization(pairs[0][0].organization_id)
        .filter(month__in={m for ms in months.values() for m in ms}, reopened_at__isnull=True)
        .select_related("closed_by", "unit", "organization")
        .order_by("closed_at")
    )
    by_month: dict[date, list[PeriodClose]] = {}
    for close in closes:
        by_month.setdefault(close.month, []).append(close)
    notes = {}
    for kpi, period in pairs:
        ancestors = set(_ancestor_ids(kpi.unit))
        found = [[c for c in by_month.get(m, []) if c.unit_id in ancestors] for m in months[(kpi.pk, period)]]
        if all(found):
            notes[(kpi.pk, period)] = closed_note(max((c for cs in found for c in cs), key=lambda c: c.closed_at))
    return notes


def closed_message(kpi: Kpi, period: date, close: PeriodClose, organization: Organization | None = None) -> str:
    """Why a write to the KPI's period is refused. `organization` is the KPI's, when the caller holds it (else it is
    read from the KPI)."""
    fiscal_start = (organization or kpi.organization).fiscal_year_start_month
    label = org_calendar.period_label(org_calendar.FREQUENCY_KINDS[kpi.frequency], period, fiscal_start)
    return (
        f"{label} is closed for {close.unit.name} ({closed_note(close)}): {kpi.code}'s values and targets of that "
        "period cannot change. An admin can reopen it."
    )


def period_check_open(*, kpi: Kpi, periods: Iterable[date]) -> None:
    """The guard of every write to a measurement or a target: refused, naming who closed the period and when,
    when one of these periods of the KPI is closed for its unit (the earliest one is named)."""
    periods = set(periods)
    if not periods:
        return
    refusals = periods_check_open(organization=kpi.organization, pairs=[(kpi, period) for period in periods])
    if refusals:
        raise refusals[min(refusals)]


def periods_check_open(
    *, organization: Organization, pairs: Iterable[tuple[Kpi, date]]
) -> dict[tuple[int, date], ValidationError]:
    """`period_check_open` for every (KPI, period) a request writes at once (the bulk API, a data-entry page): the
    same shared locks on the KPIs' units and the units above them, and the same refusal for each closed period, in
    two queries whatever their number (three when a KPI's unit is not in memory). Returns the refusals by (KPI id,
    period); empty when every period is open."""
    wanted = {(kpi.pk, period): (kpi, period) for kpi, period in pairs}
    if not wanted:
        return {}
    kpis = list({kpi.pk: kpi for kpi, _ in wanted.values()}.values())
    _units_in_memory(organization, kpis)
    ancestors = {kpi.pk: set(_ancestor_ids(kpi.unit)) for kpi in kpis}
    unit_ids = sorted(set().union(*ancestors.values()))
    _hold_units(organization.pk, unit_ids)
    months = {key: _period_months(kpi, period) for key, (kpi, period) in wanted.items()}
    closes = (
        PeriodClose.objects.for_organization(organization)
        .filter(unit_id__in=unit_ids, month__in={m for ms in months.values() for m in ms}, reopened_at__isnull=True)
        .select_related("closed_by", "unit")
        .order_by("closed_at")
    )
    by_month: dict[date, list[PeriodClose]] = {}
    for close in closes:
        close.organization = organization  # its "closed on" day is in the organization's zone
        by_month.setdefault(close.month, []).append(close)
    refusals = {}
    for key, (kpi, period) in sorted(wanted.items(), key=lambda item: item[0]):
        found = [[c for c in by_month.get(m, []) if c.unit_id in ancestors[kpi.pk]] for m in months[key]]
        if all(found):  # every month of the period is closed over the KPI's unit: the latest close is named
            close = max((c for cs in found for c in cs), key=lambda c: c.closed_at)
            message = closed_message(kpi, period, close, organization)
            refusals[key] = ValidationError({"period": message}, code="closed")
    return refusals


def _units_in_memory(organization: Organization, kpis: list[Kpi]) -> None:
    """Load the units of the KPIs that do not carry theirs, in one query (none when they all do)."""
    unit_field = Kpi._meta.get_field("unit")
    missing = [kpi for kpi in kpis if not unit_field.is_cached(kpi)]
    if missing:
        units = OrgUnit.objects.for_organization(organization).in_bulk({kpi.unit_id for kpi in missing})
        for kpi in missing:
            kpi.unit = units[kpi.unit_id]


def _hold_units(organization_id: int, unit_ids: list[int] | None) -> None:
    """A write takes a shared lock on its unit and the units above it (None: every unit) until it commits; closing
    a month locks the closed unit exclusively first. So a close waits for the writes under way below it, and a
    write that waited for a close sees it: no value slips into a month as it closes."""
    where = "" if unit_ids is None else "AND id = ANY(%s)"
    params = [organization_id] + ([] if unit_ids is None else [unit_ids])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM bsc_orgunit WHERE organization_id = %s {where} ORDER BY id FOR SHARE", params)


def _any_closed(organization_id: int) -> bool:
    return PeriodClose.objects.for_organization(organization_id).filter(reopened_at__isnull=True).exists()


def staged_closes_sql(rows: str, where: str = "", org: str = "%(org)s") -> str:
    """The rule in SQL, for rows staged by an import (`rows`: a table or CTE with seq, kpi_id, period): each row whose
    period is closed for its KPI's unit (every month of it has a close, not reopened, of the unit or a unit above it),
    as (seq, kpi_id, period, close_id) with the latest of those closes. `org` is the organization's placeholder
    (positional under pghistory's context, which prepends its own %s); `where` filters `s`."""
    return f"""
SELECT s.seq, s.kpi_id, s.period, (array_agg(c.id ORDER BY c.closed_at DESC))[1] AS close_id
FROM {rows} s
JOIN kpis_kpi k ON k.id = s.kpi_id
JOIN bsc_orgunit u ON u.id = k.unit_id
CROSS JOIN LATERAL generate_series(
    s.period, s.period + make_interval(months => {org_calendar.sql_frequency_step("k.frequency")} - 1),
    interval '1 month') AS m(month)
LEFT JOIN LATERAL (
    SELECT c.id, c.closed_at FROM kpis_periodclose c JOIN bsc_orgunit cu ON cu.id = c.unit_id
    WHERE c.organization_id = {org} AND c.reopened_at IS NULL AND c.month = m.month::date
        AND u.path LIKE cu.path || '%%'
    ORDER BY c.closed_at DESC LIMIT 1
) c ON true
{where}
GROUP BY s.seq, s.kpi_id, s.period
HAVING count(c.id) = count(*)
"""


def closed_in_staging(cursor, organization: Organization) -> str:
    """Why the import's staged rows cannot be written, naming the rows in closed periods (and who closed them
    when), or '' when none is."""
    _hold_units(organization.pk, None)
    if not _any_closed(organization.pk):
        return ""
    cursor.execute(staged_closes_sql("import_staging", org="%s") + "ORDER BY s.seq LIMIT 11", [organization.pk])
    rows = cursor.fetchall()
    if not rows:
        return ""
    kpis = Kpi.objects.for_organization(organization).in_bulk({kpi_id for _, kpi_id, _, _ in rows})
    closes = (
        PeriodClose.objects.for_organization(organization)
        .select_related("closed_by", "organization")
        .in_bulk({close_id for *_, close_id in rows})
    )
    named = [
        f"{kpis[kpi_id].code} {period:%Y-%m} ({closed_note(closes[close_id])})"
        for _, kpi_id, period, close_id in rows[:10]
    ]
    more = " and more" if len(rows) > 10 else ""
    return (
        f"Some rows are for closed periods: {', '.join(named)}{more}; so nothing was imported. An admin can reopen a "
        "period; or remove those rows and upload the file again."
    )


# The windows of a recompute pass (rc_win, rc_win_month) whose every month is closed for a unit: that unit's stored
# scores of the window stay as they are (kpis/recompute.py).
FROZEN_WINDOWS_SQL = """
CREATE TEMP TABLE rc_frozen ON COMMIT DROP AS
SELECT u.id AS unit_id, w.kind, w.start
FROM rc_win_month w
JOIN kpis_periodclose c ON c.organization_id = %(org)s AND c.reopened_at IS NULL AND c.month = w.month
JOIN bsc_orgunit cu ON cu.id = c.unit_id
JOIN bsc_orgunit u ON u.organization_id = %(org)s AND u.path LIKE cu.path || '%%'
GROUP BY u.id, w.kind, w.start
HAVING count(DISTINCT w.month) = (SELECT count(*) FROM rc_win_month x WHERE x.kind = w.kind AND x.start = w.start)
"""


def frozen_windows(cursor, organization_id: int) -> bool:
    """Fill rc_frozen for the pass's windows; False (and an empty table) when nothing is closed."""
    if not _any_closed(organization_id):
        cursor.execute("CREATE TEMP TABLE rc_frozen (unit_id bigint, kind varchar(7), start date) ON COMMIT DROP")
        return False
    cursor.execute(FROZEN_WINDOWS_SQL, {"org": organization_id})
    cursor.execute("SELECT EXISTS (SELECT 1 FROM rc_frozen)")
    found = cursor.fetchone()[0]
    if found:
        cursor.execute("CREATE INDEX ON rc_frozen (unit_id, kind, start); ANALYZE rc_frozen")
    return found


# --- The checklist ----------------------------------------------------------------------------------------


@dataclass
class UnitChecklist:
    """What the close checklist shows for one unit: its KPIs due in the month (manual ones, which someone enters),
    those without a value, and the red values without a cause (an empty comment); the amber ones too when the
    organization asks ambers for a cause (amber_requires_cause), as data entry does."""

    unit: OrgUnit
    due: int = 0
    missing: list[str] = field(default_factory=list)
    reds_without_cause: list[str] = field(default_factory=list)

    @property
    def with_value(self) -> int:
        return self.due - len(self.missing)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.reds_without_cause


def subtree(unit: OrgUnit):
    return OrgUnit.objects.for_organization(unit.organization_id).filter(path__startswith=unit.path)


def close_checklist(*, unit: OrgUnit, month: date) -> list[UnitChecklist]:
    """Per unit of the subtree, in tree order: the month's completeness and its reds without a cause. A KPI is due
    in the month when its period ends with it (every month for monthly KPIs, the quarter's or year's last month for
    the others), and its value is the one of that period. A red value needs its cause; an amber one too when the
    organization asks for it (kpis/causes.py's rule)."""
    organization = unit.organization
    fiscal_start = organization.fiscal_year_start_month
    units = list(subtree(unit))
    rows = {u.pk: UnitChecklist(u) for u in units}
    kpis = (
        Kpi.objects.for_organization(organization)
        .filter(unit_id__in=rows, archived_at__isnull=True, source=Source.MANUAL)
        .order_by("unit__path", "code")
    )
    due = []
    for kpi in kpis:
        period = org_calendar.period_ending_in(month, org_calendar.FREQUENCY_STEPS[kpi.frequency], fiscal_start)
        if period is not None:
            due.append((kpi, period))
    values = {
        (m.kpi_id, m.period): m
        for m in Measurement.objects.for_organization(organization).filter(
            kpi_id__in=[k.pk for k, _ in due], period__in={p for _, p in due}
        )
    }
    asked = ["red"] + (["amber"] if causes.cause_asked(organization, "amber") else [])
    red = set(
        KpiScore.objects.for_organization(organization)
        .filter(kpi_id__in=[k.pk for k, _ in due], status__in=asked)
        .filter(period__in={p for _, p in due})
        .values_list("kpi_id", "period_kind", "period")
    )
    for kpi, period in due:
        row = rows[kpi.unit_id]
        row.due += 1
        value = values.get((kpi.pk, period))
        if value is None:
            row.missing.append(kpi.code)
            continue
        kind = org_calendar.FREQUENCY_KINDS[kpi.frequency]
        if (kpi.pk, kind, period) in red and not value.comment.strip():
            row.reds_without_cause.append(kpi.code)
    return [rows[u.pk] for u in units]


# --- Reads ------------------------------------------------------------------------------------------------


def period_close_list(*, organization: Organization, unit: OrgUnit | None = None):
    """The organization's closes, newest month first, reopened ones included (the history); with `unit`, the
    closes that lock it (its own and its ancestors') and those of units below it."""
    closes = PeriodClose.objects.for_organization(organization).select_related(
        "unit", "closed_by", "reopened_by", "organization"
    )
    if unit is not None:
        closes = closes.filter(Q(unit_id__in=_ancestor_ids(unit)) | Q(unit__path__startswith=unit.path))
    return closes.order_by("-month", "-closed_at")


def unit_month_close(unit: OrgUnit, month: date) -> PeriodClose | None:
    """The close that locks this month for the unit, if any (for the pages' "closed by X on D" note)."""
    return closes_over(unit, [month]).get(month)


def closed_months(unit: OrgUnit, months: list[date]) -> dict[date, PeriodClose]:
    """Of these months, those closed for the unit, with their close."""
    return closes_over(unit, months)


# --- Writes -----------------------------------------------------------------------------------------------


@transaction.atomic
def period_close(*, unit: OrgUnit, month: date, by: User) -> PeriodClose:
    """Close a month for the unit and every unit below it. Refused for a month that has not begun, and for one
    already closed over the unit (by its own close or an ancestor's)."""
    organization = unit.organization
    if month.day != 1:
        raise ValidationError({"month": "A month starts on its first day."})
    if month > org_calendar.this_month(organization):
        raise ValidationError({"month": f"{org_calendar.month_label(month)} has not begun; it cannot be closed yet."})
    OrgUnit.objects.for_organization(unit.organization_id).select_for_update().filter(pk=unit.pk).first()
    existing = closes_over(unit, [month]).get(month)
    if existing is not None:
        raise ValidationError(
            {"month": f"{org_calendar.month_label(month)} is already closed for {existing.unit.name} "
             f"({closed_note(existing)})."}
        )  # fmt: skip
    close = PeriodClose(organization=organization, unit=unit, month=month, closed_by=by, closed_at=timezone.now())
    try:
        with transaction.atomic():
            close.save()
    except IntegrityError:  # closed at the same moment by someone else
        raise ValidationError(
            {"month": f"{org_calendar.month_label(month)} is already closed for {unit.name}."}
        ) from None
    return close


@transaction.atomic
def period_reopen(*, close: PeriodClose, reason: str, by: User) -> PeriodClose:
    """Reopen a closed month (an admin, with a reason): its values and targets take changes again, and the scores
    of its unit and the units below it are recomputed (what changed while it was closed, a KPI's definition for
    instance, shows then). The close is kept, with who reopened it, when and why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the month is reopened; the reason is kept with its history."})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"Keep the reason under {MAX_REASON} characters."})
    claimed = (
        PeriodClose.objects.for_organization(close.organization_id)
        .filter(pk=close.pk, reopened_at__isnull=True)
        .update(reopened_by=by, reopened_at=timezone.now(), reopen_reason=reason)
    )
    if not claimed:
        raise ValidationError({"reason": "This month was reopened already."})
    close.refresh_from_db()
    unit_ids = list(subtree(close.unit).values_list("pk", flat=True))
    outbox.scores_recompute_request_units(organization_id=close.organization_id, unit_ids=unit_ids)
    return close
