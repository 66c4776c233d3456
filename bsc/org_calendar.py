"""The organization's calendar, in one place: the clock, today and the month now due in the organization's
time zone, month arithmetic, fiscal quarters and years, and the one format of period labels.

Periods are the first day of a month. A fiscal year is named by the calendar year in which it starts: with
an April start, FY2026 runs from April 2026 to March 2027. SQL that needs the same arithmetic takes its
fragments from the `sql_` functions below (tests/integration/test_org_calendar_sql.py checks them against PostgreSQL).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone

from bsc.validation import echo

MONTH, QUARTER, YEAR = "month", "quarter", "year"
KINDS = (MONTH, QUARTER, YEAR)
KIND_STEPS = {MONTH: 1, QUARTER: 3, YEAR: 12}
FREQUENCY_STEPS = {"monthly": 1, "quarterly": 3, "annual": 12}
FREQUENCY_KINDS = {"monthly": MONTH, "quarterly": QUARTER, "annual": YEAR}
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- The clock and the organization's today ----------------------------------------------------------


def now() -> datetime:
    """The current instant (UTC). Every 'now' of the product comes from here or from `timezone.now()`, which
    the tests pin (tests/clock.py)."""
    return timezone.now()


def zone(organization) -> ZoneInfo:
    return ZoneInfo(organization.time_zone)


def local_now(organization, at: datetime | None = None) -> datetime:
    """The instant `at` (default now) on the organization's wall clock."""
    return timezone.localtime(at or now(), zone(organization))


def today(organization, at: datetime | None = None) -> date:
    """Today in the organization's time zone."""
    return local_now(organization, at).date()


def this_month(organization, at: datetime | None = None) -> date:
    """The first day of the current month in the organization's time zone."""
    return today(organization, at).replace(day=1)


def due_month(organization, at: datetime | None = None) -> date:
    """The month now due for data entry: the one before the current month, in the organization's zone."""
    return month_shift(this_month(organization, at), -1)


def current_fiscal_year(organization, at: datetime | None = None) -> int:
    """The fiscal year containing today in the organization's time zone."""
    return fiscal_year_of(today(organization, at), organization.fiscal_year_start_month)


def local_midnight(day: date, organization) -> datetime:
    """The instant the organization's `day` begins (aware)."""
    return datetime.combine(day, time(), zone(organization))


# --- Months ----------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_shift(month: date, months: int) -> date:
    """The first day of the month `months` after (or before, when negative) the month of `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_label(month: date) -> str:
    """'Mar 2026' (English month names, whatever the locale)."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


# --- Fiscal periods --------------------------------------------------------------------------------------


def _check_start_month(fiscal_start: int) -> None:
    if not 1 <= fiscal_start <= 12:
        raise ValueError(f"fiscal_start must be between 1 and 12, not {fiscal_start}.")


def fiscal_year_of(day: date, fiscal_start: int) -> int:
    """The fiscal year containing `day`, named by the calendar year it starts in."""
    _check_start_month(fiscal_start)
    return day.year if day.month >= fiscal_start else day.year - 1


def fiscal_year_months(fiscal_year: int, fiscal_start: int) -> list[date]:
    """The first day of each of the twelve months of a fiscal year, in order."""
    _check_start_month(fiscal_start)
    return [month_shift(date(fiscal_year, fiscal_start, 1), i) for i in range(12)]


def fiscal_year_end(fiscal_year: int, fiscal_start: int) -> date:
    """The first day of the fiscal year's last month."""
    return month_shift(date(fiscal_year, fiscal_start, 1), 11)


def fiscal_quarter_of(day: date, fiscal_start: int) -> tuple[int, int]:
    """The (fiscal year, quarter 1-4) that contain a date."""
    return fiscal_year_of(day, fiscal_start), (day.month - fiscal_start) % 12 // 3 + 1


def quarter_months(fiscal_year: int, quarter: int, fiscal_start: int) -> list[date]:
    """The first day of each of the three months of quarter 1-4 of a fiscal year."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1, 2, 3 or 4, not {quarter}.")
    return fiscal_year_months(fiscal_year, fiscal_start)[(quarter - 1) * 3 : quarter * 3]


def _check_kind(kind: str) -> None:
    if kind not in KIND_STEPS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")


def window_months(kind: str, day: date, fiscal_start: int) -> tuple[date, ...]:
    """The months of the month, fiscal quarter or fiscal year (`kind`) that contains `day`."""
    _check_kind(kind)
    if kind == MONTH:
        return (month_start(day),)
    fiscal_year, quarter = fiscal_quarter_of(day, fiscal_start)
    if kind == QUARTER:
        return tuple(quarter_months(fiscal_year, quarter, fiscal_start))
    return tuple(fiscal_year_months(fiscal_year, fiscal_start))


def window_start(kind: str, day: date, fiscal_start: int) -> date:
    """The first month of the month, fiscal quarter or fiscal year containing `day`."""
    return window_months(kind, day, fiscal_start)[0]


def is_period_start(month: date, step: int, fiscal_start: int) -> bool:
    """Whether a period of `step` months (1, 3 or 12) starts in `month`."""
    return (month.month - fiscal_start) % 12 % step == 0


def period_last_month(start: date, step: int) -> date:
    """The last month of the period of `step` months (1, 3 or 12) starting in `start`: when its value is due."""
    return month_shift(start, step - 1)


def period_ending_in(month: date, step: int, fiscal_start: int) -> date | None:
    """The start of the period of `step` months that ends with `month`, or None when none ends then (a
    quarterly or annual value is entered once its period is over)."""
    if (month.month - fiscal_start) % 12 % step != step - 1:
        return None
    return month_shift(month, -(step - 1))


def fiscal_year_periods(fiscal_year: int, step: int, fiscal_start: int) -> list[date]:
    """The starts of a fiscal year's periods of `step` months."""
    return fiscal_year_months(fiscal_year, fiscal_start)[::step]


def period_label(kind: str, day: date, fiscal_start: int) -> str:
    """The one format of a period's name: 'Mar 2026'; 'Q1 2026' and '2026' when the fiscal year is the
    calendar year, 'Q1 FY 2026/27' and 'FY 2026/27' when it is not (named by the calendar years it spans).
    `day` is any day of the period."""
    _check_kind(kind)
    if kind == MONTH:
        return month_label(day)
    fiscal_year, quarter = fiscal_quarter_of(day, fiscal_start)
    year = f"{fiscal_year}" if fiscal_start == 1 else f"FY {fiscal_year}/{(fiscal_year + 1) % 100:02d}"
    return year if kind == YEAR else f"Q{quarter} {year}"


def period_span(kind: str, start: date) -> str:
    """'Jan 2026 – Mar 2026' for a quarter or a year; empty for a month (its label says it all)."""
    _check_kind(kind)
    if kind == MONTH:
        return ""
    return f"{month_label(start)} – {month_label(period_last_month(start, KIND_STEPS[kind]))}"


# --- Periods people type (URL parameters, imports) ------------------------------------------------------


def parse_period(text: str | None) -> date:
    """'2026-03' or '2026-03-01' → the first day of that month; anything else raises ValueError with a message
    that quotes what was typed (kpis.services.parse_period turns it into a form's ValidationError)."""
    text = (text or "").strip()
    try:
        if len(text) == 7:
            return datetime.strptime(text, "%Y-%m").date()
        parsed = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"“{echo(text)}” is not a period; write it as YYYY-MM, e.g. 2026-03.") from None
    if parsed.day != 1:
        raise ValueError(f"“{echo(text)}” is not the first day of a month; write the period as YYYY-MM.")
    return parsed


def parse_kind(text: str | None) -> str:
    """'month', 'quarter' or 'year'; anything else raises ValueError with a message."""
    if text not in KIND_STEPS:
        raise ValueError(f"“{echo(str(text or ''))}” is not a kind of period: month, quarter or year.")
    return text


# --- The same arithmetic for SQL -------------------------------------------------------------------------
# Fragments for statements executed with parameters (a literal % is written %%). Arguments are SQL
# expressions: a date column or parameter for a month, integers for the fiscal start and the step.


def sql_due_month(local_now: str) -> str:
    """The month now due, from a local timestamp (see `due_month`)."""
    return f"(date_trunc('month', {local_now}) - interval '1 month')::date"


def sql_period_ends_in(month: str, step: str, fiscal_start: str) -> str:
    """True when a period of `step` months ends with `month` (see `period_ending_in`)."""
    return f"((extract(month FROM {month})::int - {fiscal_start} + 12) %% 12) %% {step} = {step} - 1"


def sql_is_period_start(month: str, step: str, fiscal_start: str) -> str:
    """True when a period of `step` months starts in `month` (see `is_period_start`)."""
    return f"((extract(month FROM {month})::int - {fiscal_start} + 12) %% 12) %% {step} = 0"


def sql_period_ending_in(month: str, step: str) -> str:
    """The start of the period of `step` months ending with `month` (valid where `sql_period_ends_in`)."""
    return f"({month} - make_interval(months => {step} - 1))::date"


def sql_frequency_step(frequency: str) -> str:
    """A KPI frequency column's step in months (see FREQUENCY_STEPS)."""
    cases = " ".join(f"WHEN '{name}' THEN {step}" for name, step in FREQUENCY_STEPS.items())
    return f"CASE {frequency} {cases} END"
