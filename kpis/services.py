"""KPI services: definitions, targets and recalibrations, measurements. Every write goes through here and
notes the score recompute it needs in the recompute outbox, in the same transaction."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, DecimalException, InvalidOperation

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bsc import org_calendar
from bsc.models import Membership, Organization, OrgUnit, User
from bsc.tenancy import organization_scope
from bsc.validation import conflict_error, echo
from bsc.validation import validated_save as _save
from kpis import approval, outbox, period_close
from kpis import formula as formulas
from kpis.causes import ActionPlan, Stored, action_record, explanation_problems, needs_action, stored_for
from kpis.models import Direction, Frequency, Kpi, Measurement, Source, Target, TargetRecalibration

KPI_FIELDS = {
    "name", "code", "description", "measurement_unit", "decimals", "direction", "frequency", "baseline",
    "band_low", "band_high", "band_tolerance", "green_threshold", "amber_threshold", "weight", "owner",
    "source", "formula", "rollup_method", "aligned_to", "time_aggregation", "objective", "approver",
}  # fmt: skip


class StaleMeasurementError(ValidationError):
    """The value is not the one the caller saw: it changed (or was removed) since, or the period has a value
    and the caller gave no version. Carries the current value, and `changed_message`, what a person who
    loaded a page should read (the data-entry page shows it whatever the case)."""

    def __init__(self, current: Measurement | None, *, by: User, expected_version: int | None):
        self.current = current
        self.changed_message = _changed_message(current, by)
        self.version_missing = expected_version is None and current is not None
        if self.version_missing:
            message = {
                "version": f"This period already has a value (version {current.version}); "
                "send its version to change it."
            }
        else:
            message = {"value": self.changed_message}
        super().__init__(message, code="stale")


def _changed_message(current: Measurement | None, by: User) -> str:
    """Name who changed the value only when it was someone else."""
    if current is None:
        return "This value was removed since you loaded the page; check it and save again."
    shown = f"{current.value.normalize():f}"
    if current.entered_by_id is not None and current.entered_by_id != by.pk:
        return (
            f"{current.entered_by.display_name} changed this value since you loaded the page (now {shown}); "
            "check it and save again."
        )
    return f"This value was changed since you loaded the page (now {shown}); check it and save again."


def error_messages(error: ValidationError) -> dict[str, list[str]]:
    """A refusal as field → messages (the per-item shape of the bulk API; `__all__` reads non_field_errors)."""
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): v for k, v in error.message_dict.items()}
    return {"non_field_errors": error.messages}


def not_manual_message(kpi: Kpi) -> str:
    """Why a formula or roll-up KPI takes no value: one wording for entry, the bulk API and imports."""
    return f"{kpi.code} is {kpi.get_source_display().lower()}; it takes no entered values."


def archived_message(kpi: Kpi) -> str:
    return f"{kpi.code} is archived; restore it to enter values."


def _schedule_recompute(kpi: Kpi, periods: list[date]) -> None:
    """Note the KPI-periods in the recompute outbox, in this transaction; one task per organization goes
    out when it commits (kpis/outbox.py)."""
    outbox.scores_recompute_request(organization_id=kpi.organization_id, changes=[(kpi.pk, p) for p in periods])


def _schedule_definition(kpi: Kpi, unit_ids: set[int] = frozenset()) -> None:
    """A KPI was created, edited, archived or restored: like a map change, its unit (and `unit_ids`) and
    what depends on them are recomputed in every period with data, in this transaction's outbox. Its own rows
    (grey where it has no data, none once archived), its objective's coverage and its roll-up's depend on the
    definition in every period, not only where it has values (docs/recompute.md)."""
    outbox.scores_recompute_request_units(organization_id=kpi.organization_id, unit_ids={kpi.unit_id, *unit_ids})


# --- Periods -----------------------------------------------------------------------------------------


def parse_period(text: str) -> date:
    """'2026-03' or '2026-03-01' → the first day of that month; anything else is refused (the parsing is the
    organization calendar's, bsc.org_calendar.parse_period, which pages of the core use too)."""
    try:
        return org_calendar.parse_period(text)
    except ValueError as error:
        raise ValidationError({"period": str(error)}) from None


def _check_frequency(kpi: Kpi, period: date, organization: Organization) -> None:
    """A period must start a month that fits the KPI's frequency."""
    if period.day != 1:
        raise ValidationError({"period": "A period starts on the first day of a month."})
    step = org_calendar.FREQUENCY_STEPS[kpi.frequency]
    starts = org_calendar.is_period_start(period, step, organization.fiscal_year_start_month)
    if kpi.frequency == Frequency.QUARTERLY and not starts:
        raise ValidationError(
            {"period": f"{kpi.code} is quarterly: its periods start in the first month of a fiscal quarter."}
        )
    if kpi.frequency == Frequency.ANNUAL and not starts:
        raise ValidationError(
            {"period": f"{kpi.code} is annual: its period starts in the first month of the fiscal year."}
        )


def _label(kpi: Kpi, period: date, organization: Organization) -> str:
    kind = org_calendar.FREQUENCY_KINDS[kpi.frequency]
    return org_calendar.period_label(kind, period, organization.fiscal_year_start_month)


def check_period(kpi: Kpi, period: date, organization: Organization) -> None:
    """A measurement's period must start a month that fits the KPI's frequency, and not lie in the future:
    it may start in the organization's current month at the latest (month-end actuals are often entered
    early; a quarter or a year under way may be entered too). The import checks the same in SQL."""
    _check_frequency(kpi, period, organization)
    latest = org_calendar.this_month(organization)
    if period > latest:
        fiscal_start = organization.fiscal_year_start_month
        current = org_calendar.window_start(org_calendar.FREQUENCY_KINDS[kpi.frequency], latest, fiscal_start)
        raise ValidationError(
            {"period": f"{_label(kpi, period, organization)} is in the future: values can be entered up to "
             f"{_label(kpi, current, organization)}."}
        )  # fmt: skip


FIRST_TARGET_PERIOD = date(2000, 1, 1)
TARGET_YEARS_AHEAD = 10


def target_period_range(organization: Organization) -> tuple[date, date]:
    """The first and last months a target may be set for: from January 2000 to the end of the fiscal year
    ten years after the current one."""
    last_year = org_calendar.current_fiscal_year(organization) + TARGET_YEARS_AHEAD
    return FIRST_TARGET_PERIOD, org_calendar.fiscal_year_end(last_year, organization.fiscal_year_start_month)


def _target_range_problem(label: str, period: date, organization: Organization) -> str | None:
    first, last = target_period_range(organization)
    if first <= period <= last:
        return None
    where = "too early" if period < first else "too far ahead"
    return (
        f"{label} is {where}: targets can be set for periods from {org_calendar.month_label(first)} "
        f"to {org_calendar.month_label(last)}."
    )


def check_target_period(kpi: Kpi, period: date, organization: Organization) -> None:
    """A target's period must fit the KPI's frequency and lie in the range of `target_period_range`."""
    _check_frequency(kpi, period, organization)
    problem = _target_range_problem(_label(kpi, period, organization), period, organization)
    if problem:
        raise ValidationError({"period": problem})


# The stored form of a value (numeric(20, 6)), and the longest text read as one: more characters than any
# stored value needs (with a sign, a point and thousands separators) are refused before Decimal() reads them.
_VALUE = Measurement._meta.get_field("value")
WHOLE_DIGITS, DECIMAL_PLACES = _VALUE.max_digits - _VALUE.decimal_places, _VALUE.decimal_places
MAX_NUMBER_CHARS = 40
_DIGITS = re.compile(r"[-+]?[0-9.,]+")
# A thousands separator is read only where it cannot be mistaken for the decimal one: in groups of three
# before the decimal separator ('1,234.5' with '.', '1.234,5' with ','); '12,345' alone stays refused.
_GROUPED = {
    ".": re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+"),
    ",": re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+"),
}


def _too_many_digits(text: object) -> str:
    return (
        f"“{echo(text)}” has too many digits: a value has at most {WHOLE_DIGITS} before the decimal point "
        f"and {DECIMAL_PLACES} after."
    )


def parse_number(text, *, field: str = "value", decimal_separator: str = ".") -> Decimal:
    """A number as people type it: '1234.5', '1,234.5', '1 234,5' or '1.234,5' (with ',' as separator), '-3'.
    Refuses the rest."""
    if isinstance(text, int | Decimal):
        return Decimal(text)
    raw = str(text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not raw:
        raise ValidationError({field: "Enter a number."})
    if len(raw) > MAX_NUMBER_CHARS:  # a million digits would take Decimal() and every later step a while
        digits = _DIGITS.fullmatch(raw)
        raise ValidationError({field: _too_many_digits(text) if digits else f"“{echo(text)}” is not a number."})
    other = "," if decimal_separator == "." else "."
    if other in raw:
        if not _GROUPED[decimal_separator].fullmatch(raw):
            raise ValidationError(
                {field: f"“{echo(text)}” uses '{other}' but your decimal separator is '{decimal_separator}'."}
            )
        raw = raw.replace(other, "")
    if decimal_separator == ",":
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError({field: f"“{echo(text)}” is not a number."}) from None
    except DecimalException:  # an exponent beyond what Decimal holds: '1e999999999999999999'
        raise ValidationError({field: _too_many_digits(text)}) from None
    if not value.is_finite():
        raise ValidationError({field: f"“{echo(text)}” is not a number."})
    if value.adjusted() >= WHOLE_DIGITS or value.as_tuple().exponent < -MAX_NUMBER_CHARS:  # 1e14, 1e-99999
        raise ValidationError({field: _too_many_digits(text)})
    return value


# --- KPI definitions ---------------------------------------------------------------------------------


def _check_definition(kpi: Kpi) -> None:
    errors: dict[str, str] = {}
    if kpi.objective_id and kpi.objective.scorecard.unit_id != kpi.unit_id:
        errors["objective"] = "The objective must be on the KPI's own unit's map."
    if (
        kpi.owner_id
        and not Membership.objects.for_organization(kpi.organization_id).filter(user_id=kpi.owner_id).exists()
    ):
        errors["owner"] = "The owner must be a member of the organization."
    approver_problem = approval.approver_problem(kpi)
    if approver_problem:
        errors["approver"] = approver_problem
    if kpi.direction in (Direction.INCREASE, Direction.DECREASE) and kpi.baseline is None:
        errors["baseline"] = "An increase or decrease KPI needs a baseline (the value progress starts from)."
    if kpi.aligned_to_id:
        parent = kpi.aligned_to
        if parent.organization_id != kpi.organization_id or parent.unit_id != kpi.unit.parent_id:
            errors["aligned_to"] = "A KPI can only contribute to a KPI of its parent unit."
    if kpi.source == Source.ROLLUP and not kpi.rollup_method:
        errors["rollup_method"] = "Choose how the child units' values are combined."
    if kpi.source == Source.FORMULA:
        errors.update(_formula_errors(kpi))
    if errors:
        raise ValidationError(errors)


def _formula_errors(kpi: Kpi) -> dict[str, str]:
    try:
        parsed = formulas.parse(kpi.formula)
        others = Kpi.objects.for_organization(kpi.organization_id).exclude(pk=kpi.pk)
        formulas.check_codes(parsed, set(others.values_list("code", flat=True)), own_code=kpi.code)
        formulas.check_constant_division(parsed)
        graph = {
            code: formulas.parse(text).codes
            for code, text in others.filter(source=Source.FORMULA).values_list("code", "formula")
        }
        formulas.check_no_cycle(graph, code=kpi.code, new_codes=parsed.codes)
    except formulas.FormulaError as error:
        return {"formula": str(error)}
    return {}


@transaction.atomic
def kpi_create(*, unit: OrgUnit, name: str, code: str, **fields) -> Kpi:
    unknown = set(fields) - KPI_FIELDS
    if unknown:
        raise ValidationError(f"Unknown KPI fields: {', '.join(sorted(unknown))}.")
    kpi = Kpi(organization_id=unit.organization_id, unit=unit, name=(name or "").strip(), code=(code or "").strip())
    for field, value in fields.items():
        setattr(kpi, field, value)
    with organization_scope(unit.organization_id):
        _check_definition(kpi)
    _save(kpi)
    _schedule_definition(kpi)
    return kpi


@transaction.atomic
def kpi_update(*, kpi: Kpi, **fields) -> Kpi:
    unknown = set(fields) - KPI_FIELDS
    if unknown:
        raise ValidationError(f"Unknown KPI fields: {', '.join(sorted(unknown))}.")
    if "frequency" in fields:
        _check_frequency_change(kpi, fields["frequency"])
    code, aligned_to_id = kpi.code, kpi.aligned_to_id
    for field, value in fields.items():
        setattr(kpi, field, value.strip() if field in {"name", "code"} and isinstance(value, str) else value)
    with organization_scope(kpi.organization_id):
        _check_definition(kpi)
    _save(kpi)
    _schedule_definition(kpi, _units_fed_before(kpi, code, aligned_to_id))
    return kpi


def _units_fed_before(kpi: Kpi, code: str, aligned_to_id: int | None) -> set[int]:
    """The units of what the KPI fed before an edit and may no longer feed: the roll-up it was aligned to, and
    the formulas referring to its old code (what it feeds now is found from its new definition)."""
    kpis = Kpi.objects.for_organization(kpi.organization_id)
    units = set()
    if aligned_to_id is not None and aligned_to_id != kpi.aligned_to_id:
        units.update(kpis.filter(pk=aligned_to_id).values_list("unit_id", flat=True))
    if code != kpi.code:
        formula_kpis = kpis.filter(source=Source.FORMULA).values_list("unit_id", "formula")
        units.update(unit_id for unit_id, text in formula_kpis if code in formulas.parse(text).codes)
    return units


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _check_frequency_change(kpi: Kpi, frequency: str) -> None:
    """A KPI's values and targets are stored per period of its frequency: a new frequency would reread them
    as other periods (a quarter's value as its first month's, monthly values hidden from an annual KPI), so
    the frequency changes only while the KPI holds none. The KPI row is locked so that no value arrives
    meanwhile."""
    stored = (
        Kpi.objects.for_organization(kpi.organization_id)
        .select_for_update(of=("self",))
        .filter(pk=kpi.pk)
        .values_list("frequency", flat=True)
        .first()
    )
    if stored is None or stored == frequency:
        return
    values = Measurement.objects.for_organization(kpi.organization_id).filter(kpi_id=kpi.pk).count()
    targets = Target.objects.for_organization(kpi.organization_id).filter(kpi_id=kpi.pk).count()
    if not values and not targets:
        return
    held = [_counted(values, f"{stored} value")] if values else []
    held += [_counted(targets, "target")] if targets else []
    raise ValidationError(
        {"frequency": f"{kpi.code} holds {' and '.join(held)}; its frequency cannot change while it has them. "
         "Archive it and create a new KPI with the new frequency."}
    )  # fmt: skip


@transaction.atomic
def kpi_archive(*, kpi: Kpi) -> Kpi:
    """Archive a KPI: it leaves the scores it fed, which are recomputed."""
    kpi.archived_at = timezone.now()
    kpi.save(update_fields=["archived_at"])
    _schedule_definition(kpi)
    return kpi


@transaction.atomic
def kpi_restore(*, kpi: Kpi) -> Kpi:
    kpi.archived_at = None
    kpi.save(update_fields=["archived_at"])
    _schedule_definition(kpi)
    return kpi


# --- Targets -----------------------------------------------------------------------------------------


def kpi_periods(kpi: Kpi, fiscal_year: int, organization: Organization) -> list[date]:
    """The periods of one fiscal year (named by the calendar year it starts in) at the KPI's frequency."""
    return org_calendar.fiscal_year_periods(
        fiscal_year, org_calendar.FREQUENCY_STEPS[kpi.frequency], organization.fiscal_year_start_month
    )


@transaction.atomic
def target_set_year(
    *,
    kpi: Kpi,
    fiscal_year: int,
    mode: str,
    by: User,
    value: Decimal | None = None,
    year_end: Decimal | None = None,
    values: list[Decimal] | None = None,
    reason: str = "",
) -> list[Target]:
    """Set a fiscal year's targets at once: the same value every period ("same"), a straight ramp from the
    baseline to a year-end value ("ramp"), or one value per period ("values"). Existing targets that change
    are recalibrated (the original is kept) and need a reason."""
    organization = kpi.organization
    periods = kpi_periods(kpi, fiscal_year, organization)
    if mode == "same":
        if value is None:
            raise ValidationError({"value": "Enter the target value."})
        planned = [value] * len(periods)
    elif mode == "ramp":
        if year_end is None:
            raise ValidationError({"year_end": "Enter the year-end value."})
        if kpi.baseline is None:
            raise ValidationError({"year_end": "A ramp starts from the baseline; set the KPI's baseline first."})
        step = (year_end - kpi.baseline) / len(periods)
        planned = [(kpi.baseline + step * (i + 1)).quantize(Decimal("0.000001")) for i in range(len(periods))]
    elif mode == "values":
        if not values or len(values) != len(periods):
            raise ValidationError({"values": f"Paste exactly {len(periods)} values, one per period, in order."})
        planned = list(values)
    else:
        raise ValidationError({"mode": f"Unknown way to set targets: {mode!r}."})
    fiscal_start = organization.fiscal_year_start_month
    for period in (periods[0], periods[-1]):
        problem = _target_range_problem(
            org_calendar.period_label(org_calendar.YEAR, period, fiscal_start), period, organization
        )
        if problem:
            raise ValidationError({"fiscal_year": problem})
    existing = {
        t.period: t for t in Target.objects.for_organization(kpi.organization_id).filter(kpi=kpi, period__in=periods)
    }
    period_close.period_check_open(kpi=kpi, periods=[p for p, a in zip(periods, planned, strict=True) if a != getattr(existing.get(p), "value", None)])  # fmt: skip
    results = []
    for period, amount in zip(periods, planned, strict=True):
        target = existing.get(period)
        if target is None:
            target = Target(organization_id=kpi.organization_id, kpi=kpi, period=period, value=amount)
            _save(target)
        elif target.value != amount:
            if not reason.strip():
                raise ValidationError({"reason": "Some periods already have targets: say why they change."})
            target = _recalibrate(target, amount, reason, by)
        results.append(target)
    _schedule_recompute(kpi, periods)
    return results


@transaction.atomic
def target_create(*, kpi: Kpi, period: date, value: Decimal) -> Target:
    """Set the target of one period that has none yet (a changed target is a recalibration)."""
    check_target_period(kpi, period, kpi.organization)
    period_close.period_check_open(kpi=kpi, periods=[period])
    if Target.objects.for_organization(kpi.organization_id).filter(kpi=kpi, period=period).exists():
        raise ValidationError(
            {"period": f"{kpi.code} already has a target for {period:%Y-%m}; recalibrate it to change it."}
        )
    target = Target(organization_id=kpi.organization_id, kpi=kpi, period=period, value=value)
    _save(target)
    _schedule_recompute(kpi, [period])
    return target


def _recalibrate(target: Target, value: Decimal, reason: str, by: User) -> Target:
    TargetRecalibration.objects.for_organization(target.organization_id).create(
        organization_id=target.organization_id,
        target=target,
        old_value=target.value,
        new_value=value,
        reason=reason.strip(),
        changed_by=by,
    )
    if target.original_value is None:
        target.original_value = target.value
    target.value = value
    with pghistory.context(user=by.pk, reason=reason.strip()):
        target.save(update_fields=["value", "original_value"])
    return target


@transaction.atomic
def target_recalibrate(*, target: Target, value: Decimal, reason: str, by: User) -> Target:
    """Change one period's target, keeping the original value, who changed it, when and why."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the target changes; the reason is shown next to it."})
    if len(reason) > 500:
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    target = (
        Target.objects.for_organization(target.organization_id)
        .select_for_update(of=("self",))
        .order_by()
        .get(pk=target.pk)
    )
    if target.value == value:
        raise ValidationError({"value": "That is already the target."})
    period_close.period_check_open(kpi=target.kpi, periods=[target.period])
    target = _recalibrate(target, value, reason, by)
    _schedule_recompute(target.kpi, [target.period])
    return target


# --- Measurements ------------------------------------------------------------------------------------


@transaction.atomic
def measurement_record(
    *,
    kpi: Kpi,
    period: date,
    value: Decimal,
    by: User,
    comment: str = "",
    expected_version: int | None = None,
    schedule: bool = True,
) -> Measurement:
    """Enter or change a KPI's value for a period. `expected_version` is the version the person saw
    (None: they saw no value); a save against anything else is refused with the newer value."""
    organization = kpi.organization
    current = _values_locked(organization, [(kpi, period)]).get((kpi.pk, period))
    changing = [(kpi, period)] if _changes(current, value, comment) else []  # a value saved unchanged is no write
    closed = period_close.periods_check_open(organization=organization, pairs=changing).get((kpi.pk, period))
    with pghistory.context(user=by.pk):
        measurement = _value_write(
            kpi=kpi, period=period, value=value, comment=comment, expected_version=expected_version, by=by,
            organization=organization, current=current, closed=closed,
        )  # fmt: skip
    if schedule and changing:
        _schedule_recompute(kpi, [period])
    return measurement


def _values_locked(
    organization: Organization, pairs: Sequence[tuple[Kpi, date]]
) -> dict[tuple[int, date], Measurement]:
    """The stored values of these (KPI, period) pairs, locked until the transaction ends, in one query. Rows are
    locked in id order (two bulk saves over the same values wait for one another rather than deadlock); with several
    periods, the values of every named KPI in every named period are locked."""
    if not pairs:
        return {}
    rows = (
        Measurement.objects.for_organization(organization)
        .select_for_update(of=("self",))
        .select_related("entered_by")
        .filter(kpi_id__in={kpi.pk for kpi, _ in pairs}, period__in={period for _, period in pairs})
        .order_by("pk")
    )
    return {(row.kpi_id, row.period): row for row in rows}


def _changes(current: Measurement | None, value: Decimal, comment: str) -> bool:
    """Whether saving `value` and `comment` writes anything (the same value and comment again does not)."""
    return current is None or current.value != value or current.comment != (comment or "")


def _value_write(
    *,
    kpi: Kpi,
    period: date,
    value: Decimal,
    comment: str,
    expected_version: int | None,
    by: User,
    organization: Organization,
    current: Measurement | None,
    closed: ValidationError | None,
    savepoint: bool = True,
    entry_approval: str | None = None,
) -> Measurement:
    """Check one value against its period, its KPI and what is stored (`current`, locked by the caller; `closed`, the
    monthly close's refusal of the period, from `period_close.periods_check_open`) and save it; returns `current` when
    nothing changes. Raises ValidationError. `savepoint=False`: the caller's transaction is all or nothing, a
    constraint that fires ends it (bsc/validation.py). `entry_approval`: the state a value `by` enters starts in
    (kpis/approval.entry_approval), when the caller worked it out once for many values."""
    check_period(kpi, period, organization)
    if kpi.source != Source.MANUAL:
        raise ValidationError({"value": not_manual_message(kpi)})
    if kpi.archived_at is not None:
        raise ValidationError({"value": archived_message(kpi)})
    seen = None if current is None else current.version
    if seen != expected_version:
        raise StaleMeasurementError(current, by=by, expected_version=expected_version)
    if not _changes(current, value, comment):
        return current
    if closed is not None:
        raise closed
    measurement = current or Measurement(kpi=kpi, period=period)
    measurement.organization, measurement.kpi = organization, kpi  # rows in memory: the save looks neither up again
    measurement.value = value
    measurement.comment = (comment or "").strip()
    measurement.entered_by = by
    measurement.entered_at = timezone.now()
    measurement.version = 1 if current is None else current.version + 1
    approval.measurement_mark_entered(  # submitted for approval, or approved
        measurement, entry_approval or approval.entry_approval(organization, by)
    )
    if savepoint:
        _save(measurement)
    else:  # the row is locked, or was absent under the lock: the unique (KPI, period) constraint backs a race
        _save(measurement, validate_constraints=False, savepoint=False)
    return measurement


@dataclass(frozen=True)
class MeasurementInput:
    """One value for `measurements_record`: what `measurement_record` takes."""

    kpi: Kpi
    period: date
    value: Decimal
    comment: str = ""  # the cause, when the value is red (kpis/causes.py)
    expected_version: int | None = None  # the version the person saw; None: they saw no value
    action: ActionPlan | None = None  # the action item a red value names (new or linked)
    cause_missing: bool = False  # the import's explicit choice: a red value taken without its cause


@dataclass(frozen=True)
class MeasurementResult:
    measurement: Measurement
    changed: bool  # False: that value and comment were stored already (nothing written, nothing to recompute)


MEASUREMENTS_REFUSED = "Some values were refused; nothing was saved."


class MeasurementsRefused(ValidationError):
    """`measurements_record` wrote nothing. `item_errors` maps the index of every refused item to its messages
    by field (`error_messages`); `item_causes` keeps the service's own errors (a StaleMeasurementError carries
    the current value)."""

    def __init__(self, item_errors: Mapping[int, dict[str, list[str]]], item_causes: Mapping[int, ValidationError]):
        super().__init__(MEASUREMENTS_REFUSED, code="refused")
        self.item_errors = dict(sorted(item_errors.items()))
        self.item_causes = dict(item_causes)

    def as_list(self) -> list[dict]:
        """[{"index": 0, "errors": {"value": ["..."]}}, ...] in the items' order."""
        return [{"index": index, "errors": errors} for index, errors in self.item_errors.items()]


def _item_problems(
    item: MeasurementInput,
    organization: Organization,
    seen: dict[tuple[int, date], int],
    index: int,
    stored: Stored,
    by: User,
) -> dict[str, list[str]]:
    """What can be told of an item before anything is written: its period, its KPI's source, the cause and action
    item a red value needs (kpis/causes.py, as the page asks), and whether an earlier item already gives the same KPI
    and period a value."""
    kpi, period = item.kpi, item.period
    errors: dict[str, list[str]] = {}
    try:
        check_period(kpi, period, organization)
    except ValidationError as error:
        errors.update(error_messages(error))
    if kpi.source != Source.MANUAL:
        errors["value"] = [not_manual_message(kpi)]
    if not errors and stored.version == item.expected_version:  # else measurement_record refuses the version
        explained = explanation_problems(
            organization=organization, kpi=kpi, value=item.value, comment=item.comment, stored=stored,
            action=item.action, by=by, cause_missing=item.cause_missing,
        )  # fmt: skip
        errors.update(explained)
    key = (kpi.pk, period)
    if key in seen:
        errors.setdefault("period", []).append(f"Item {seen[key]} already gives {kpi.code} a value for {period:%Y-%m}.")
    seen.setdefault(key, index)
    return errors


def measurements_record(
    *,
    items: Sequence[MeasurementInput | None],
    by: User,
    organization: Organization,
    refused: Mapping[int, dict[str, list[str]]] | None = None,
    stored: Mapping[tuple[int, date], Stored] | None = None,
) -> list[MeasurementResult | None]:
    """Record many values, all or nothing. `items[i]` is None when there is nothing to record at position i;
    `refused` holds the errors the caller found at its edge (a number it could not read, a KPI the person may
    not enter), by position; `stored`, the targets and values of the items' periods as the caller just read them
    (`causes.stored_for`; read here when not given). Every other item is checked and recorded as `measurement_record` does (period,
    source, archived, the version seen, the monthly close) in one transaction; when any item is refused, nothing is
    written and one MeasurementsRefused lists every refused item. Otherwise one score recompute is requested for the
    values that changed, and the result at each position says what was stored. The values are locked and the
    monthly close checked once for the whole request, and the writes share its transaction (no savepoint each):
    a fixed number of queries and one write per value."""
    if any(item is not None and item.kpi.organization_id != organization.pk for item in items):
        raise ValueError("measurements_record: every KPI must belong to the organization.")
    errors: dict[int, dict[str, list[str]]] = {index: dict(messages) for index, messages in (refused or {}).items()}
    seen: dict[tuple[int, date], int] = {}
    checked = []
    if stored is None:
        stored = stored_for(
            organization, [(item.kpi, item.period) for index, item in enumerate(items) if item and index not in errors]
        )
    for index, item in enumerate(items):
        if item is None or index in errors:
            continue
        problems = _item_problems(item, organization, seen, index, stored[(item.kpi.pk, item.period)], by)
        if problems:
            errors[index] = problems
        else:
            checked.append((index, item))
    results: list[MeasurementResult | None] = [None] * len(items)
    refusals: dict[int, ValidationError] = {}
    writing = None  # the item being written, should the database refuse it
    try:
        with transaction.atomic(), pghistory.context(user=by.pk):
            # Each item is checked again while it is saved; a refused one rolls everything back, so the caller
            # learns every problem and nothing is half-saved.
            current = _values_locked(organization, [(item.kpi, item.period) for _, item in checked])
            changing = [
                (item.kpi, item.period)
                for _, item in checked
                if _changes(current.get((item.kpi.pk, item.period)), item.value, item.comment)
            ]
            closed = period_close.periods_check_open(organization=organization, pairs=changing)
            entry_state = approval.entry_approval(organization, by) if changing else None
            for index, item in checked:
                writing, key = index, (item.kpi.pk, item.period)
                try:
                    measurement = _value_write(
                        kpi=item.kpi, period=item.period, value=item.value, comment=item.comment,
                        expected_version=item.expected_version, by=by, organization=organization,
                        current=current.get(key), closed=closed.get(key), savepoint=False,
                        entry_approval=entry_state,
                    )  # fmt: skip
                    changed = measurement.version != item.expected_version
                    if changed and needs_action(
                        organization=organization, kpi=item.kpi, value=item.value, stored=stored[key],
                        cause_missing=item.cause_missing,
                    ):  # fmt: skip
                        action_record(organization=organization, kpi=item.kpi, action=item.action, by=by)
                except ValidationError as error:
                    errors[index], refusals[index] = error_messages(error), error
                else:
                    results[index] = MeasurementResult(measurement, changed=changed)
            writing = None
            if errors:
                raise MeasurementsRefused(errors, refusals)  # leaving the block rolls back what was recorded
            changes = [(r.measurement.kpi_id, r.measurement.period) for r in results if r is not None and r.changed]
            if changes:
                outbox.scores_recompute_request(organization_id=organization.pk, changes=changes)
    except IntegrityError as error:  # another save wrote the same value meanwhile: the transaction is rolled back
        if writing is None:
            raise
        refusal = conflict_error(error)
        errors[writing], refusals[writing] = error_messages(refusal), refusal
        raise MeasurementsRefused(errors, refusals) from None
    return results


def kpi_alignments_release(*, unit: OrgUnit) -> int:
    """The unit's KPIs no longer feed their old parent's roll-ups (after a move, DESIGN.md: a KPI is aligned
    to a roll-up of the parent unit). Returns how many KPIs were aligned."""
    return (
        Kpi.objects.for_organization(unit.organization_id)
        .filter(unit=unit, aligned_to__isnull=False)
        .update(aligned_to=None)
    )


def scores_schedule_rebuild(*, organization_id: int) -> None:
    """After a change to what every stored score depends on (the organization's thresholds or fiscal year
    start): rebuild the organization's scores, through the recompute outbox (pages show "Recomputing…"
    until it is done)."""
    outbox.scores_rebuild_request(organization_id=organization_id)


def scores_schedule_units(*, organization_id: int, unit_ids: list[int]) -> None:
    """After a change to what units score with (objectives, perspectives, their weights or alignment):
    recompute those units and their ancestors in every period with data, through the recompute outbox (one
    task per organization for everything the transaction changed; pages show "Recomputing…" meanwhile)."""
    outbox.scores_recompute_request_units(organization_id=organization_id, unit_ids=unit_ids)
