"""The period a strategy map is coloured for: a month, fiscal quarter or fiscal year, chosen with the scorecard
pages' parameters (`?kind=quarter&period=2026-01`, any month of the period names it), checked against the
organization's data (not before its first stored score, not after the month now due). The default is the month
now due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bsc import org_calendar as cal
from bsc.selectors import score_months

KIND_CHOICES = ((cal.MONTH, "Month"), (cal.QUARTER, "Quarter"), (cal.YEAR, "Year"))
KIND_NOUNS = {cal.MONTH: "month", cal.QUARTER: "quarter", cal.YEAR: "year"}


class PeriodRefused(ValueError):
    """A kind or period the map cannot show; `field` names the parameter at fault ("kind" or "period")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class MapPeriod:
    kind: str
    start: date  # the period's first month
    label: str  # 'Mar 2026', 'Q1 2026', 'FY 2026/27'
    span: str  # 'Jan 2026 – Mar 2026' for a quarter or a year, '' for a month

    @property
    def query(self) -> str:
        """The URL parameters that name this period (the page's links and the SVG download carry them)."""
        return f"kind={self.kind}&period={self.start:%Y-%m}"


@dataclass(frozen=True)
class PeriodLink:
    label: str
    query: str


@dataclass(frozen=True)
class MapPeriodChoice:
    """What the map page shows: the period, the message when the one asked for was refused, the range a period
    may be chosen in (months, for the form's month field), and links to the previous and next period."""

    period: MapPeriod
    error: str
    first: date | None
    last: date
    previous: PeriodLink | None
    next: PeriodLink | None


def _period(kind: str, month: date, fiscal_start: int) -> MapPeriod:
    start = cal.window_start(kind, month, fiscal_start)
    return MapPeriod(kind, start, cal.period_label(kind, start, fiscal_start), cal.period_span(kind, start))


def map_period_default(organization) -> MapPeriod:
    """The month now due."""
    return _period(cal.MONTH, cal.due_month(organization), organization.fiscal_year_start_month)


def _checked(organization, kind: str | None, text: str | None, months: tuple[date, date] | None) -> MapPeriod:
    """The period named by the parameters, or PeriodRefused with what is wrong with them."""
    fiscal_start = organization.fiscal_year_start_month
    try:
        kind = cal.parse_kind(kind or cal.MONTH)
    except ValueError as error:
        raise PeriodRefused("kind", str(error)) from None
    due = cal.due_month(organization)
    try:
        month = due if text is None else cal.parse_period(text)
    except ValueError as error:
        raise PeriodRefused("period", str(error)) from None
    if month.year < 1000:  # no organization's data, and fiscal arithmetic would leave the calendar
        raise PeriodRefused("period", f"{text.strip()} is before the organization's data.")
    period = _period(kind, month, fiscal_start)
    latest = _period(kind, due, fiscal_start)
    if period.start > latest.start:
        where = "the month now due" if kind == cal.MONTH else f"the {KIND_NOUNS[kind]} of the month now due"
        raise PeriodRefused(
            "period",
            f"{period.label} has no scores yet: the latest {KIND_NOUNS[kind]} the map can show is {latest.label}, "
            f"{where} ({cal.month_label(due)}).",
        )
    last_month = cal.period_last_month(period.start, cal.KIND_STEPS[kind])
    if months is not None and last_month < months[0]:
        raise PeriodRefused(
            "period", f"{period.label} is before the organization's data, which begins in {cal.month_label(months[0])}."
        )
    return period


def map_period_choose(organization, *, kind: str | None, period: str | None) -> MapPeriodChoice:
    """The period the parameters name (both missing: the month now due). A malformed kind or period, a period
    before the organization's data or after the month now due gives the month now due and a message saying
    why. One query (the range of stored scores)."""
    months = score_months(organization=organization)
    error = ""
    if kind is None and period is None:
        chosen = map_period_default(organization)
    else:
        try:
            chosen = _checked(organization, kind, period, months)
        except ValueError as refused:
            chosen = map_period_default(organization)
            error = f"{refused} Showing {chosen.label}, the month now due."
    fiscal_start = organization.fiscal_year_start_month
    step = cal.KIND_STEPS[chosen.kind]
    before = _period(chosen.kind, cal.month_shift(chosen.start, -step), fiscal_start)
    after = _period(chosen.kind, cal.month_shift(chosen.start, step), fiscal_start)
    due = cal.due_month(organization)
    has_before = months is not None and cal.period_last_month(before.start, step) >= months[0]
    return MapPeriodChoice(
        period=chosen,
        error=error,
        first=months[0] if months else None,
        last=due,
        previous=PeriodLink(before.label, before.query) if has_before else None,
        next=PeriodLink(after.label, after.query)
        if after.start <= _period(chosen.kind, due, fiscal_start).start
        else None,
    )


def map_period_parse(organization, *, kind: str | None, period: str | None) -> MapPeriod:
    """The period the SVG export or the API was asked for (both missing: the month now due); PeriodRefused with a
    message for a malformed kind or period, one before the organization's data or after the month now due."""
    if kind is None and period is None:
        return map_period_default(organization)
    return _checked(organization, kind, period, score_months(organization=organization))
