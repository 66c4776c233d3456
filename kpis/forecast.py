"""Year-end forecasts of KPIs (issue 16; docs/scoring.md, "Forecast"): a least-squares line through the values of
the last periods of the KPI's frequency (12 months, 8 quarters, 5 years: HORIZONS), read at the fiscal year end (or,
for a KPI summed over the year, filling the periods without a value and added up), scored by the scoring contract
and classified on course / at risk / will miss.

Pure functions, no database: kpis/forecast_selectors.py reads the values of many KPIs in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

from bsc import org_calendar
from kpis.scoring import kpi_progress, kpi_score, status_of

VALUE_PLACES = Decimal("0.000001")  # as values are stored

ON_COURSE, AT_RISK, WILL_MISS = "on_course", "at_risk", "will_miss"
CLASSIFICATIONS = {"green": ON_COURSE, "amber": AT_RISK, "red": WILL_MISS}
LABELS = {ON_COURSE: "On course", AT_RISK: "At risk", WILL_MISS: "Will miss"}
SUM, LEVEL = "sum", "level"  # how the year's figure is made: a total of the periods, or the year-end value
PERIOD_NOUNS = {"monthly": "month", "quarterly": "quarter", "annual": "year"}

_CONTEXT = Context(prec=50, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Horizon:
    """How much of a KPI's history its forecast takes, by frequency."""

    window: int  # periods the line is fitted over, ending with the latest value
    minimum: int  # values needed: in the fiscal year (`in_year`), else in the window
    in_year: bool


HORIZONS = {
    "monthly": Horizon(window=12, minimum=6, in_year=True),
    "quarterly": Horizon(window=8, minimum=4, in_year=False),
    "annual": Horizon(window=5, minimum=3, in_year=False),
}


def first_period_used(frequency: str, fiscal_year: int, fiscal_start: int) -> date:
    """The oldest period whose value a forecast of the fiscal year can use: the start of the window of the earliest
    latest value that still gives one (kpis/forecast_selectors.py reads from there)."""
    step, horizon = org_calendar.FREQUENCY_STEPS[frequency], HORIZONS[frequency]
    year = org_calendar.fiscal_year_periods(fiscal_year, step, fiscal_start)
    earliest_latest = (
        year[horizon.minimum - 1]
        if horizon.in_year
        else org_calendar.month_shift(year[-1], -step * (horizon.window - 1))
    )
    return org_calendar.month_shift(earliest_latest, -step * (horizon.window - 1))


@dataclass(frozen=True)
class KpiRules:
    """What a forecast needs to know of a KPI (read from the row and its organization by `rules_of`)."""

    direction: str
    frequency: str
    time_aggregation: str
    green: Decimal
    amber: Decimal
    baseline: Decimal | None = None
    band_low: Decimal | None = None
    band_high: Decimal | None = None
    band_tolerance: Decimal | None = None


def rules_of(kpi, organization) -> KpiRules:
    """A KPI's forecast rules: its own thresholds where set, else the organization's."""
    return KpiRules(
        direction=kpi.direction,
        frequency=kpi.frequency,
        time_aggregation=kpi.time_aggregation,
        green=kpi.green_threshold if kpi.green_threshold is not None else organization.green_threshold,
        amber=kpi.amber_threshold if kpi.amber_threshold is not None else organization.amber_threshold,
        baseline=kpi.baseline,
        band_low=kpi.band_low,
        band_high=kpi.band_high,
        band_tolerance=kpi.band_tolerance,
    )


@dataclass(frozen=True)
class Forecast:
    """A KPI's projection to its fiscal year end, or (`reason`) why there is none."""

    fiscal_year: int
    frequency: str
    periods_with_data: int
    reason: str = ""
    aggregation: str = LEVEL
    year_end: date | None = None  # the fiscal year's last period
    fitted: tuple[date, ...] = ()  # the periods whose values the line goes through, oldest first
    slope: Decimal | None = None  # change per period
    line: tuple[tuple[date, Decimal], ...] = ()  # the dashed line: the latest value, then the line to the year end
    estimated: tuple[date, ...] = ()  # sum: the year's periods without a value, which take the line's
    actual_total: Decimal | None = None  # sum: the values entered this year
    estimated_total: Decimal | None = None  # sum: the line's values added to them
    value: Decimal | None = None  # the projected year-end value, or the projected year total for a sum
    target: Decimal | None = None  # the year-end target, or the year's total target for a sum
    progress: Decimal | None = None
    score: Decimal | None = None
    status: str | None = None
    classification: str | None = None

    @property
    def available(self) -> bool:
        return not self.reason

    @property
    def label(self) -> str:
        return LABELS.get(self.classification, "No forecast")


def _decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(VALUE_PLACES, context=_CONTEXT)


def least_squares(points: list[tuple[int, Decimal]]) -> tuple[Fraction, Fraction]:
    """The (intercept, slope) of the least-squares line through (x, y) points, exactly (two distinct x at least)."""
    n = len(points)
    xs = [Fraction(x) for x, _ in points]
    ys = [Fraction(y) for _, y in points]
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        raise ValueError("A line needs values at two different periods at least.")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return mean_y - slope * mean_x, slope


def kpi_forecast(
    *,
    rules: KpiRules,
    actuals: Mapping[date, Decimal],
    targets: Mapping[date, Decimal],
    fiscal_year: int,
    fiscal_start: int,
) -> Forecast:
    """The forecast of one KPI for a fiscal year, from its values and targets by period start (periods of its
    frequency; other keys are ignored; values of earlier years are used by the line)."""
    step = org_calendar.FREQUENCY_STEPS[rules.frequency]
    horizon = HORIZONS[rules.frequency]
    noun = PERIOD_NOUNS[rules.frequency]
    kind = org_calendar.FREQUENCY_KINDS[rules.frequency]
    label = lambda p: org_calendar.period_label(kind, p, fiscal_start)  # noqa: E731
    year = org_calendar.fiscal_year_periods(fiscal_year, step, fiscal_start)
    year_end = year[-1]
    with_data = [p for p in year if actuals.get(p) is not None]
    base = {"fiscal_year": fiscal_year, "frequency": rules.frequency, "periods_with_data": len(with_data)}
    # The line's window: the last `window` periods up to the latest value of the year or before (a gap keeps its
    # place); the latest value must lie within the `window` periods up to the year end.
    latest = max(
        (
            p
            for p, v in actuals.items()
            if v is not None and p <= year_end and org_calendar.is_period_start(p, step, fiscal_start)
        ),
        default=None,
    )
    window = [org_calendar.month_shift(latest, -step * i) for i in range(horizon.window - 1, -1, -1)] if latest else []
    fitted = [p for p in window if actuals.get(p) is not None]
    if horizon.in_year and len(with_data) < horizon.minimum:
        return Forecast(
            **base,
            reason=f"{_count(len(with_data), noun)} of this fiscal year {'have' if len(with_data) > 1 else 'has'} "
            f"a value; a forecast needs at least {horizon.minimum}.",
        )
    if latest is None:
        return Forecast(
            **base,
            reason=f"The KPI has no value up to {label(year_end)}; a forecast needs values for at least "
            f"{horizon.minimum} of the last {horizon.window} {noun}s up to the latest value.",
        )
    if len(fitted) < horizon.minimum:
        return Forecast(
            **base,
            reason=f"{len(fitted)} of the last {horizon.window} {noun}s up to the latest value ({label(latest)}) "
            f"{'have' if len(fitted) > 1 else 'has'} a value; a forecast needs at least {horizon.minimum}.",
        )
    reach = org_calendar.month_shift(year_end, -step * (horizon.window - 1))
    if latest < reach:
        return Forecast(
            **base,
            reason=f"The latest value, of {label(latest)}, is older than the last {horizon.window} {noun}s up to "
            f"the end of the fiscal year ({label(reach)} to {label(year_end)}); a forecast needs a value among them.",
        )
    # A year of one period (annual) is its own total: read as a level.
    aggregation = SUM if rules.time_aggregation == "sum" and len(year) > 1 else LEVEL
    base |= {"aggregation": aggregation, "year_end": year_end}
    if rules.direction != "band" and rules.baseline is None:
        return Forecast(**base, reason="The KPI has no baseline, so a projected value cannot be scored.")
    if rules.direction == "band":
        target = None
    elif aggregation == SUM:
        missing = [p for p in year if targets.get(p) is None]
        if missing:
            return Forecast(
                **base,
                reason=f"No target for {_periods(missing, rules.frequency, fiscal_start)}: the year's total target "
                "is incomplete.",
            )
        target = sum((targets[p] for p in year), Decimal(0))
    else:
        target = targets.get(year_end)
        if target is None:
            return Forecast(**base, reason=f"No target for {label(year_end)}, the end of the fiscal year.")

    # x is the period's place in time, from the window's first period on to the year end.
    timeline = list(window)
    while timeline[-1] < year_end:
        timeline.append(org_calendar.month_shift(timeline[-1], step))
    position = {p: i for i, p in enumerate(timeline)}
    intercept, slope = least_squares([(position[p], actuals[p]) for p in fitted])

    def on_line(period: date) -> Decimal:
        return _decimal(intercept + slope * position[period])

    line = ((latest, actuals[latest]), *((p, on_line(p)) for p in timeline if p > latest))
    if aggregation == SUM:
        estimated = tuple(p for p in year if actuals.get(p) is None)
        actual_total = sum((actuals[p] for p in with_data), Decimal(0))
        estimated_total = sum((on_line(p) for p in estimated), Decimal(0))
        value = actual_total + estimated_total
        extra = {"estimated": estimated, "actual_total": actual_total, "estimated_total": estimated_total}
    else:
        value = actuals[year_end] if actuals.get(year_end) is not None else on_line(year_end)
        extra = {}
    progress = kpi_progress(
        direction=rules.direction, baseline=rules.baseline, target=target, actual=value,
        band_low=rules.band_low, band_high=rules.band_high, band_tolerance=rules.band_tolerance,
    )  # fmt: skip
    score = kpi_score(progress)
    status = status_of(score, green=rules.green, amber=rules.amber)
    return Forecast(
        **base, **extra, fitted=tuple(fitted), slope=_decimal(slope), line=line, value=value, target=target,
        progress=progress, score=score, status=status, classification=CLASSIFICATIONS[status],
    )  # fmt: skip


# --- In words ----------------------------------------------------------------------------------------------


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else f"{noun}s"


def _count(count: int, noun: str) -> str:
    return f"No {noun}" if count == 0 else f"{count} {_plural(count, noun)}"


def _periods(periods: list[date], frequency: str, fiscal_start: int) -> str:
    kind = org_calendar.FREQUENCY_KINDS[frequency]
    labels = [org_calendar.period_label(kind, p, fiscal_start) for p in periods]
    if len(labels) > 4:  # a message, not a list: the first three and how many more
        labels = [*labels[:3], f"{len(labels) - 3} more"]
    return ", ".join(labels[:-1]) + f" and {labels[-1]}" if len(labels) > 1 else labels[0]


def _percent(value: Decimal) -> str:
    """A score as a percentage to one decimal, cut (not rounded) so it never reaches a threshold the score has not."""
    shown = (value * 100).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    return f"{shown:.0f}%" if shown == shown.to_integral_value() else f"{shown}%"


@dataclass(frozen=True)
class ForecastText:
    summary: str  # the outcome: classification, projected figure against the target
    method: str  # how the figure was made, as the KPI page shows it


def forecast_text(
    forecast: Forecast,
    *,
    fiscal_start: int,
    rules: KpiRules,
    fmt: Callable[[Decimal], str] = str,
    percent: Callable[[Decimal], str] = _percent,
) -> ForecastText:
    """The forecast in the words of the KPI page and the API; `fmt` formats a value, `percent` a score."""
    if not forecast.available:
        return ForecastText(summary=f"No forecast. {forecast.reason}", method="")
    kind = org_calendar.FREQUENCY_KINDS[forecast.frequency]
    label = lambda p: org_calendar.period_label(kind, p, fiscal_start)  # noqa: E731
    noun = PERIOD_NOUNS[forecast.frequency]
    year = org_calendar.period_label(org_calendar.YEAR, forecast.year_end, fiscal_start)
    first, last = forecast.fitted[0], forecast.fitted[-1]
    slope = forecast.slope
    trend = "flat" if slope == 0 else f"{'rising' if slope > 0 else 'falling'} by {fmt(abs(slope))} a {noun}"
    line = (
        f"a least-squares line through the {len(forecast.fitted)} values from {label(first)} to {label(last)} "
        f"(the last {HORIZONS[forecast.frequency].window} {noun}s up to the latest value; a {noun} without a value "
        f"is left out, the others keep their place in time), {trend}"
    )
    if rules.direction == "band":
        against = f"the band {fmt(rules.band_low)} to {fmt(rules.band_high)}"
    elif forecast.aggregation == SUM:
        against = f"the year's target of {fmt(forecast.target)} (the sum of its {noun}s' targets)"
    else:
        against = f"the year-end target of {fmt(forecast.target)}"
    how_far = (
        f"{percent(forecast.score)} of the way from the baseline"
        if rules.direction != "band"
        else f"a score of {percent(forecast.score)}"
    )
    outcome = (
        f"{LABELS[forecast.classification]}: "
        + (
            f"a {year} total of {fmt(forecast.value)} projected"
            if forecast.aggregation == SUM
            else f"{fmt(forecast.value)} projected for {label(forecast.year_end)}"
        )
        + f" against {against} ({how_far}: {forecast.status})."
    )
    if forecast.aggregation == SUM:
        entered = forecast.periods_with_data
        ahead = len(forecast.estimated)
        if entered:
            method = f"Method: the {entered} {_plural(entered, noun)} entered add up to {fmt(forecast.actual_total)}; "
            method += (
                f"the {ahead} {_plural(ahead, noun)} without a value each take the value of {line}, "
                f"together {fmt(forecast.estimated_total)}."
                if ahead
                else "the year is complete."
            )
        else:  # early in the year a quarterly KPI can have none yet
            method = (
                f"Method: no {noun} of {year} has a value yet; its {ahead} {noun}s each take the value of {line}, "
                f"together {fmt(forecast.estimated_total)}."
            )
    else:
        at = label(forecast.year_end)
        reading = (
            f"read at {at}" + ("." if at == year else f", the end of {year}.")  # an annual KPI's period is the year
            if forecast.line[-1][0] != forecast.line[0][0]
            else f"the year is complete, so the value of {at} is taken as it is."
        )
        method = f"Method: {line}, {reading}"
    rule = (
        f" On course when the projection scores green (at or above {percent(rules.green)}), at risk when amber "
        f"(at or above {percent(rules.amber)}), will miss when red."
    )
    return ForecastText(summary=outcome, method=method + rule)
