"""The monthly data-entry page: which KPI values a member must enter for a month (with last period's value,
the target and the status a value would give), and saving one row or every row at once, all or nothing,
through `kpis.services.measurements_record`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby

from bsc import org_calendar
from bsc.models import Membership, Organization, OrgUnit, User
from bsc.org_calendar import due_month, month_shift, period_label
from bsc.permissions import Action, can, can_on_some, scope
from kpis import causes, period_close, services
from kpis.forms_data_entry import RowInput
from kpis.models import Frequency, Kpi, Measurement, Source, Target
from kpis.scorecard_display import Light, light, number, percent

STEPS = org_calendar.FREQUENCY_STEPS
KINDS = org_calendar.FREQUENCY_KINDS
ACTION_DUE_DAYS = 30  # a new action item's suggested due date, from today
CANNOT_CLEAR = "Enter a number; a saved value cannot be cleared here."


def entry_period(kpi: Kpi, month: date, fiscal_start: int) -> date | None:
    """The KPI's period that ends with `month` (the month itself for monthly KPIs; the fiscal quarter or
    year for the others, entered once it is over), or None when none ends then."""
    return org_calendar.period_ending_in(month, STEPS[kpi.frequency], fiscal_start)


def plain(value: Decimal | None, separator: str = ".") -> str:
    """A stored Decimal as typed into a cell: 100.000000 → '100', 12.500000 → '12.5' (or '12,5')."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text.replace(".", separator) if separator != "." else text


@dataclass
class EntryRow:
    """One KPI's line on the page: what is stored and, after a POST, what was typed."""

    kpi: Kpi
    period: date
    period_note: str  # '' for monthly KPIs, 'Q1 2026' or '2026' for the others
    previous: Decimal | None
    target: Decimal | None
    measurement: Measurement | None
    organization: Organization
    value_text: str = ""
    value: Decimal | None = None
    comment: str = ""
    version: int | None = None
    status: str = "grey"
    score: Decimal | None = None
    errors: list[str] = field(default_factory=list)
    saved: bool = False
    action: causes.ActionPlan = field(default_factory=causes.ActionPlan)
    open_items: list = field(default_factory=list)  # the KPI's open action items (kpis.causes.open_action_items)
    owners: list[User] = field(default_factory=list)  # who may own its action item
    default_owner_id: int | None = None
    default_due: date | None = None
    action_shown: str = ""  # after a preview: the status the page shows action item fields for ('' for none)
    closed_note: str = ""  # 'closed by X on D' when the period is closed (kpis/period_close.py): read-only

    @property
    def missing(self) -> bool:
        return self.measurement is None

    @property
    def light(self) -> Light:
        return light(self.status)

    @property
    def score_text(self) -> str:
        return percent(self.score) if self.score is not None else ""

    @property
    def cause_asked(self) -> bool:
        """The value's status asks for a cause (red, or amber when the organization says so: kpis/causes.py)."""
        return self.value is not None and causes.cause_asked(self.organization, self.status)

    @property
    def needs_comment(self) -> bool:
        return self.cause_asked and not self.comment

    @property
    def needs_action(self) -> bool:
        """The typed value is new or changed and asks for a cause: it needs an action item too."""
        stored = self.measurement.value if self.measurement else None
        return self.cause_asked and self.value != stored

    @property
    def action_kept(self) -> bool:
        """A preview leaves the action item's fields alone when the page already shows them for this status (or
        shows none and none are needed): swapping them would lose what the person is typing there."""
        return self.action_shown == (self.status if self.needs_action else "")

    @property
    def cause_note(self) -> str:
        return causes.cause_message(self.status)

    @property
    def action_title(self) -> str:
        return self.action.title

    @property
    def title_placeholder(self) -> str:
        return causes.default_title(self.kpi)

    @property
    def action_owner_id(self) -> int | None:
        return self.action.owner_id if self.action.given else self.default_owner_id

    @property
    def action_due(self) -> date | None:
        return self.action.due_date if self.action.given else self.default_due

    @property
    def status_note(self) -> str:
        if self.kpi.direction != "band" and self.target is None:
            return "No target for this period"
        return ""

    @property
    def stored(self) -> causes.Stored:
        """The period's target and value as loaded (before what was typed): what a save compares with."""
        m = self.measurement
        return causes.Stored(self.target, *((m.value, m.comment, m.version) if m else (None, None, None)))

    @property
    def stored_text(self) -> str:
        """The saved value as a plain number ('' when none): the page tells unsaved edits from it."""
        return plain(self.measurement.value) if self.measurement else ""

    @property
    def stored_comment(self) -> str:
        return self.measurement.comment if self.measurement else ""

    @property
    def previous_text(self) -> str:
        return number(self.previous, self.kpi.decimals, self.kpi.measurement_unit)

    @property
    def target_text(self) -> str:
        return number(self.target, self.kpi.decimals, self.kpi.measurement_unit)

    def evaluate(self, value: Decimal | None) -> None:
        """The status `value` would give against this period's target (section 5 of DESIGN.md)."""
        self.score, self.status = causes.value_status(
            self.kpi, value=value, target=self.target, organization=self.organization
        )

    def take(self, entered: RowInput) -> None:
        """Show what the person typed (and why it is refused) instead of the stored value."""
        self.value_text, self.value, self.comment = entered.value_text, entered.value, entered.comment
        self.version = entered.version
        self.action, self.action_shown = entered.action, entered.action_shown
        self.errors = list(entered.errors)
        self.evaluate(entered.value)


def _action_choices(rows: list[EntryRow], organization: Organization, user: User | None) -> None:
    """Each row's open action items, possible owners (the person, else the unit's head, first chosen) and
    suggested due date: four queries whatever the number of rows."""
    if not rows:
        return
    kpis = [row.kpi for row in rows]
    items = causes.open_action_items(organization=organization, kpis=kpis)
    owners = causes.owner_choices(organization=organization, units=[kpi.unit for kpi in kpis])
    due = org_calendar.today(organization) + timedelta(days=ACTION_DUE_DAYS)
    for row in rows:
        row.open_items = items.get(row.kpi.pk, [])
        row.owners = owners.get(row.kpi.unit_id, [])
        ids = [owner.pk for owner in row.owners]
        for candidate in (getattr(user, "pk", None), row.kpi.unit.head_id, row.kpi.owner_id):
            if candidate in ids:
                row.default_owner_id = candidate
                break
        row.default_due = due


def _rows_for(
    kpis: list[Kpi],
    month: date,
    organization: Organization,
    separator: str = ".",
    user: User | None = None,
    shown: bool = True,
) -> list[EntryRow]:
    """Rows for the KPIs with a period ending in `month`: six queries whatever their number (two without what only
    the page shows, `shown=False`: see `entry_rows_show`). Stored values are shown as the person types them, with
    their decimal `separator`."""
    fiscal_start = organization.fiscal_year_start_month
    due = [(kpi, period) for kpi in kpis if (period := entry_period(kpi, month, fiscal_start)) is not None]
    if not due:
        return []
    periods = {period for _, period in due} | {month_shift(p, -STEPS[k.frequency]) for k, p in due}
    ids = [kpi.pk for kpi, _ in due]
    measurements = {
        (m.kpi_id, m.period): m
        for m in Measurement.objects.for_organization(organization)
        .filter(kpi_id__in=ids, period__in=periods)
        .select_related("entered_by")
    }
    targets = dict(
        ((kpi_id, period), value)
        for kpi_id, period, value in Target.objects.for_organization(organization)
        .filter(kpi_id__in=ids, period__in=periods)
        .values_list("kpi_id", "period", "value")
    )
    rows = []
    for kpi, period in due:
        current = measurements.get((kpi.pk, period))
        previous = measurements.get((kpi.pk, month_shift(period, -STEPS[kpi.frequency])))
        row = EntryRow(
            kpi=kpi,
            period=period,
            period_note="" if kpi.frequency == Frequency.MONTHLY else period_label(KINDS[kpi.frequency], period, fiscal_start),
            previous=previous.value if previous else None,
            target=targets.get((kpi.pk, period)),
            measurement=current,
            organization=organization,
            value_text=plain(current.value, separator) if current else "",
            value=current.value if current else None,
            comment=current.comment if current else "",
            version=current.version if current else None,
        )  # fmt: skip
        row.evaluate(row.value)
        rows.append(row)
    if shown:
        entry_rows_show(rows, organization=organization, user=user)
    return rows


def entry_rows_show(rows: list[EntryRow], *, organization: Organization, user: User | None) -> None:
    """What only the page shows of its rows: a closed period's "closed by X on D" note (the row is read-only) and the
    action item choices, in four queries. "Save all" builds its rows without them and adds them only when it shows
    the page again (a refusal); the save itself checks the close (kpis/period_close.py)."""
    closed = period_close.closed_notes([(row.kpi, row.period) for row in rows])
    for row in rows:
        row.closed_note = closed.get((row.kpi.pk, row.period), "")
    _action_choices(rows, organization, user)


def entry_kpis(*, membership: Membership) -> list[Kpi]:
    """The active manual KPIs this member enters values for: all of them for admins and executives; for a
    department head those of their units and the units below, and the KPIs they own."""
    kpis = (
        Kpi.objects.for_organization(membership.organization_id)
        .filter(archived_at__isnull=True, source=Source.MANUAL)
        .select_related("unit", "owner")
        .order_by("unit__path", "code")
    )
    allowed = scope(membership, Action.ENTER_MEASUREMENTS)
    if allowed.everything:
        return list(kpis)
    kpis = allowed.apply(kpis, unit="unit_id", owner="owner_id")
    return [k for k in kpis if can(membership, Action.ENTER_MEASUREMENTS, unit=k.unit_id, owner_id=k.owner_id)]


def entry_rows(*, membership: Membership, month: date, separator: str = ".", shown: bool = True) -> list[EntryRow]:
    kpis = entry_kpis(membership=membership)
    return _rows_for(kpis, month, membership.organization, separator, membership.user, shown=shown)


def entry_row(*, kpi: Kpi, month: date, organization: Organization, user: User | None = None) -> EntryRow | None:
    rows = _rows_for([kpi], month, organization, user=user)
    return rows[0] if rows else None


@dataclass
class EntryPage:
    month: date
    label: str
    rows: list[EntryRow]  # the rows shown (after the unit filter)
    units: list[OrgUnit]  # the units with rows, for the filter
    unit: OrgUnit | None
    may_enter: bool
    next_open: bool  # the next month has begun: values for it may be entered

    @property
    def previous(self) -> date:
        return month_shift(self.month, -1)

    @property
    def next(self) -> date:
        return month_shift(self.month, 1)

    @property
    def groups(self) -> list[tuple[OrgUnit, list[EntryRow]]]:
        return [(unit, list(rows)) for unit, rows in groupby(self.rows, key=lambda r: r.kpi.unit)]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def missing(self) -> int:
        return sum(1 for row in self.rows if row.missing)

    @property
    def failed(self) -> list[EntryRow]:
        """The rows a save just refused (they carry their messages)."""
        return [row for row in self.rows if row.errors]

    @property
    def summary(self) -> str:
        noun = "KPI" if self.total == 1 else "KPIs"
        if failed := len(self.failed):
            values, rows = ("value was", "row") if failed == 1 else ("values were", "rows")
            return f"{failed} {values} not saved: see the {rows} marked in red."
        if self.missing == 0:
            if self.total == 1:
                return f"The KPI has a value for {self.label}."
            return f"All {self.total} {noun} have a value for {self.label}."
        needs = "needs" if self.missing == 1 else "need"
        return f"{self.missing} of {self.total} {noun} still {needs} a value for {self.label}."


def data_entry_page(
    *,
    membership: Membership,
    month: date,
    unit: OrgUnit | None = None,
    rows: list[EntryRow] | None = None,
    separator: str = ".",
) -> EntryPage:
    """The page for a month, optionally limited to a unit and the units below it. `rows` are rows already
    built for this member and month (after a POST, carrying what was typed); otherwise stored values are shown
    with the decimal `separator`."""
    if rows is None:
        rows = entry_rows(membership=membership, month=month, separator=separator)
    units = list({row.kpi.unit_id: row.kpi.unit for row in rows}.values())
    if unit is not None and unit not in units:
        units.append(unit)
    if unit is not None:
        rows = [row for row in rows if row.kpi.unit.path.startswith(unit.path)]
    may_enter = can_on_some(membership, Action.ENTER_MEASUREMENTS)
    next_open = month_shift(month, 1) <= month_shift(due_month(membership.organization), 1)
    return EntryPage(month, f"{month:%B %Y}", rows, units, unit, may_enter, next_open)


class EntryRefused(Exception):
    """Some rows are invalid; nothing was written. The rows carry their messages."""

    def __init__(self, rows: list[EntryRow]):
        super().__init__("Some values were refused.")
        self.rows = [row for row in rows if row.errors]


def data_entry_save(*, organization: Organization, rows: list[EntryRow], by, require_value: bool) -> int:
    """Record the typed values of `rows` (each after `take`) through `services.measurements_record`, all or
    nothing: when any row is refused, nothing is written and every refused row carries its message. Empty
    cells are skipped unless `require_value`. Returns the number of values that changed."""
    for row in rows:
        if row.errors:
            continue
        if row.value is None:
            if require_value:
                row.errors.append("Enter a number.")
            elif row.measurement is not None:
                row.errors.append(CANNOT_CLEAR)
    items = [
        None
        if row.errors or row.value is None
        else services.MeasurementInput(
            kpi=row.kpi,
            period=row.period,
            value=row.value,
            comment=row.comment,
            expected_version=row.version,
            action=row.action,
        )  # fmt: skip
        for row in rows
    ]
    refused = {index: {"value": row.errors} for index, row in enumerate(rows) if row.errors}
    stored = {(row.kpi.pk, row.period): row.stored for row in rows}  # as the rows were just read
    try:
        results = services.measurements_record(
            items=items, by=by, organization=organization, refused=refused, stored=stored
        )
    except services.MeasurementsRefused as refusal:
        for index, error in refusal.item_causes.items():
            row = rows[index]
            if isinstance(error, services.StaleMeasurementError):
                row.errors.append(error.changed_message)  # no version here means the person saw no value
                row.measurement = error.current  # the newer value; saving again overwrites it knowingly
                row.version = error.current.version if error.current else None
            else:
                row.errors.extend(error.messages)
        for index, messages in refusal.item_errors.items():  # the service's checks before saving
            if index not in refusal.item_causes and index not in refused:
                rows[index].errors.extend(m for field in messages.values() for m in field)
        raise EntryRefused(rows) from None
    changed = [
        (row, result.measurement) for row, result in zip(rows, results, strict=True) if result and result.changed
    ]
    for row, measurement in changed:
        row.measurement, row.version, row.saved = measurement, measurement.version, True
        row.comment = measurement.comment
    return len(changed)
