"""Display values for the scorecard pages, prepared in Python in one pass over the selector's rows: formatted
numbers (with each KPI's decimals), score percentages, status lights (shape and words, never colour alone),
coverage sentences and sparkline points. Templates only print these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from bsc.org_calendar import KIND_STEPS, month_shift, period_label, period_span, window_months, window_start
from bsc.statuses import STATUS_LABELS, STATUS_SHAPES
from kpis.models import PeriodKind
from kpis.selectors import CascadeNode, Contribution, KpiRow, ScorecardView

KIND_NOUNS = {PeriodKind.MONTH: "months", PeriodKind.QUARTER: "quarters", PeriodKind.YEAR: "years"}
SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 100, 26, 3
MISSING = "—"


@dataclass
class Light:
    status: str
    label: str
    shape: str
    css: str


def light(status: str | None) -> Light:
    status = status if status in STATUS_LABELS else "grey"
    return Light(status, STATUS_LABELS[status], STATUS_SHAPES[status], f"light light-{status}")


def number(value: Decimal | None, decimals: int, unit: str = "") -> str:
    """1234.5 with 1 decimal and unit EUR → '1,234.5 EUR'; '%' sticks to the number."""
    if value is None:
        return MISSING
    text = f"{value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP):,.{decimals}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # no "-0.0"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _cut(value: Decimal, places: int) -> Decimal:
    """`value` cut (not rounded) to `places` decimals, without a negative zero."""
    shown = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    return abs(shown) if shown == 0 else shown


def percent(value: Decimal | None) -> str:
    """A score as a percentage to one decimal, cut rather than rounded so the figure never reaches a threshold
    the score has not: 0.8996 is '89.9%' with its amber light under a 90% green threshold (thresholds have at
    most one decimal as percentages, so the cut figure and the light always agree). A whole figure drops its
    '.0' (0.9004 is '90%'); never '-0%'."""
    if value is None:
        return MISSING
    shown = _cut(Decimal(value) * 100, 1)
    return f"{shown:.0f}%" if shown == shown.to_integral_value() else f"{shown}%"


def share_percent(value: Decimal | None) -> str:
    """A coverage or a share as a whole percentage, cut: 99.96% of the weight with data is '99%', not '100%'."""
    return MISSING if value is None else f"{_cut(Decimal(value) * 100, 0)}%"


def rounded_percent(value: Decimal) -> str:
    """A part of a whole, to the nearest whole percent (no threshold depends on it): 55.5% is '56%'."""
    shown = (Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{abs(shown) if shown == 0 else shown}%"


def threshold_percent(value: Decimal) -> str:
    """A threshold as the organization typed it: 0.9 is '90%', 0.875 is '87.5%'."""
    return f"{(Decimal(value) * 100).normalize():f}%"


def progress_note(progress: Decimal | None, score: Decimal | None) -> str:
    """The unclamped progress in words, when it is not the score: a value worse than the baseline, or one
    past the target (1.5 is 'target passed: 150% of the way')."""
    if progress is None or score is None or progress == score:
        return ""
    if progress < 0:
        return "worse than the baseline"
    if progress > 1:
        return f"target passed: {percent(progress)} of the way"
    return ""


def plural(count: int, singular: str, many: str | None = None) -> str:
    return singular if count == 1 else (many or singular + "s")


@dataclass
class Sparkline:
    width: int
    height: int
    lines: list[str]  # polyline `points`, one per run of consecutive values
    dots: list[tuple[str, str]]  # (cx, cy) of single values between gaps, and of the latest value
    description: str


def sparkline(values: list[Decimal | None], *, decimals: int, unit: str, noun: str) -> Sparkline:
    """Points of a small SVG line over the windows, oldest first; missing windows leave gaps."""
    known = [v for v in values if v is not None]
    count = len(values)
    if not known:
        return Sparkline(SPARK_WIDTH, SPARK_HEIGHT, [], [], f"No data in the last {count} {noun}.")
    low, high = min(known), max(known)
    inner_w, inner_h = SPARK_WIDTH - 2 * SPARK_PAD, SPARK_HEIGHT - 2 * SPARK_PAD
    step = inner_w / (count - 1) if count > 1 else 0

    def point(i: int, v: Decimal) -> tuple[float, float]:
        y = inner_h / 2 if high == low else float((high - v) / (high - low)) * inner_h
        return round(SPARK_PAD + i * step, 1), round(SPARK_PAD + y, 1)

    lines, dots, run = [], [], []
    for i, v in enumerate([*values, None]):
        if v is not None:
            run.append(point(i, v))
            continue
        if len(run) > 1:
            lines.append(" ".join(f"{x:g},{y:g}" for x, y in run))
        elif run:
            dots.append(run[0])
        run = []
    last_index = max(i for i, v in enumerate(values) if v is not None)
    latest = point(last_index, values[last_index])
    if latest not in dots:
        dots.append(latest)
    description = (
        f"Last {count} {noun}: {len(known)} with data, from {number(known[0], decimals, unit)} "
        f"to {number(known[-1], decimals, unit)}; low {number(low, decimals, unit)}, high {number(high, decimals, unit)}."
    )
    return Sparkline(SPARK_WIDTH, SPARK_HEIGHT, lines, [(f"{x:g}", f"{y:g}") for x, y in dots], description)


@dataclass
class KpiLine:
    pk: int
    code: str
    name: str
    actual: str
    target: str
    score: str
    progress_note: str  # the unclamped progress when it differs from the score (e.g. 150% of the way)
    light: Light
    spark: Sparkline
    reporting: bool
    aggregation: str = ""  # quarter and year views: how the months make the figure ("total", "average", ...)
    aggregation_title: str = ""


@dataclass
class ScoreLine:
    name: str
    score: str
    light: Light
    coverage: str
    kpis: list[KpiLine] = field(default_factory=list)
    children: list[ScoreLine] = field(default_factory=list)


@dataclass
class ScorecardDisplay:
    unit_name: str
    score: str
    light: Light
    coverage: str
    perspectives: list[ScoreLine]
    unlinked: list[KpiLine]
    kpi_count: int
    aggregated: bool = False  # a quarter or year view: actuals and targets are aggregates of months


# How a quarter or a year figure is made from the months (the KPI's time aggregation), in the cell's words.
AGGREGATION_WORDS = {
    "sum": ("total", "Total"),
    "average": ("average", "Average"),
    "last": ("latest", "Latest month's value"),
    "min": ("lowest", "Lowest month"),
    "max": ("highest", "Highest month"),
}


def kpi_line(row: KpiRow, noun: str, kind: str = PeriodKind.MONTH) -> KpiLine:
    """A KPI's line as the scorecard shows it (also the review pack's lines of sub-units' KPIs)."""
    kpi, s = row.kpi, row.score
    unit = kpi.measurement_unit
    actual = s.actual if s else None
    score = s.score if s else None
    progress = s.progress if s else None
    note = progress_note(progress, score)
    return KpiLine(
        pk=kpi.pk,
        code=kpi.code,
        name=kpi.name,
        actual=number(actual, kpi.decimals, unit),
        target=number(s.target if s else None, kpi.decimals, unit),
        score=percent(score),
        progress_note=note,
        light=light(s.status if s else None),
        spark=sparkline(row.trend, decimals=kpi.decimals, unit=unit, noun=noun),
        reporting=score is not None,
        **_aggregation(kpi, kind),
    )


def _aggregation(kpi, kind: str) -> dict[str, str]:
    if kind == PeriodKind.MONTH or kpi.frequency != "monthly":
        return {}
    word, title = AGGREGATION_WORDS.get(kpi.time_aggregation, ("", ""))
    period = "quarter" if kind == PeriodKind.QUARTER else "year"
    return {
        "aggregation": word,
        "aggregation_title": f"{title} over the {period}: the actual from its months with a value, the target "
        f"from its monthly targets",
    }


def _objective_coverage(kpis: list[KpiLine], aligned: int) -> str:
    """What an objective's score rests on: its KPIs, or, with none of its own, the sub-units' objectives aligned
    to it."""
    if kpis or not aligned:
        return _reporting(kpis) if kpis else "No KPIs and no aligned objectives: not scored"
    return f"No KPIs of its own: scored from {aligned} aligned {plural(aligned, 'objective')} of sub-units"


def _reporting(lines: list[KpiLine]) -> str:
    if not lines:
        return "No KPIs"
    return f"{sum(1 for line in lines if line.reporting)} of {len(lines)} {plural(len(lines), 'KPI')} reporting"


def scorecard_display(view: ScorecardView, *, kind: str) -> ScorecardDisplay:
    noun = KIND_NOUNS[kind]
    every_kpi: list[KpiLine] = []
    perspectives = []
    for p in view.perspectives:
        objectives = []
        for o in p.objectives:
            kpis = [kpi_line(row, noun, kind) for row in o.kpis]
            every_kpi.extend(kpis)
            aligned = getattr(o.objective, "aligned_count", 0)
            objectives.append(
                ScoreLine(o.objective.name, percent(getattr(o.score, "score", None)),
                          light(getattr(o.score, "status", None)), _objective_coverage(kpis, aligned), kpis=kpis)
            )  # fmt: skip
        scored = sum(1 for o in p.objectives if o.score is not None and o.score.score is not None)
        coverage = f"{scored} of {len(objectives)} {plural(len(objectives), 'objective')} scored" if objectives else ""
        perspectives.append(
            ScoreLine(p.perspective.name, percent(getattr(p.score, "score", None)),
                      light(getattr(p.score, "status", None)), coverage, children=objectives)
        )  # fmt: skip
    unlinked = [kpi_line(row, noun, kind) for row in view.unlinked]
    every_kpi.extend(unlinked)
    card = view.score
    coverage = _reporting(every_kpi)
    if card is not None and card.score is not None:
        coverage += f" · {share_percent(card.coverage)} of the scorecard's weight has data"
    return ScorecardDisplay(
        unit_name=view.scorecard.unit.name,
        score=percent(getattr(card, "score", None)),
        light=light(getattr(card, "status", None)),
        coverage=coverage,
        perspectives=perspectives,
        unlinked=unlinked,
        kpi_count=len(every_kpi),
        aggregated=kind != PeriodKind.MONTH,
    )


@dataclass
class PeriodLink:
    label: str
    query: str
    current: bool = False


@dataclass
class PeriodNav:
    label: str
    span: str
    kinds: list[PeriodLink]
    previous: PeriodLink
    next: PeriodLink


def period_nav(kind: str, month: date, fiscal_start: int, due: date | None = None) -> PeriodNav:
    """Links to the same month as a month, quarter or year, and to the previous and next window. A quarter or a
    year reached by its previous/next links (or a dashboard's) is named by its first month; from there "Month" opens
    the window's latest month that has fallen due (`due`, the month now due), the one people look at, rather than
    the window's first. A month the person chose keeps its place."""
    start = window_start(kind, month, fiscal_start)
    step = KIND_STEPS[kind]
    as_month = month
    if kind != PeriodKind.MONTH and month == start:
        months = window_months(kind, month, fiscal_start)
        as_month = months[-1] if due is None or due > months[-1] else max(due, months[0])
    kinds = [
        PeriodLink(
            label, f"?kind={value}&period={(as_month if value == PeriodKind.MONTH else month):%Y-%m}", value == kind
        )
        for value, label in PeriodKind.choices
    ]
    before, after = month_shift(start, -step), month_shift(start, step)
    return PeriodNav(
        label=period_label(kind, start, fiscal_start),
        span=period_span(kind, start),
        kinds=kinds,
        previous=PeriodLink(period_label(kind, before, fiscal_start), f"?kind={kind}&period={before:%Y-%m}"),
        next=PeriodLink(period_label(kind, after, fiscal_start), f"?kind={kind}&period={after:%Y-%m}"),
    )


@dataclass
class CascadeLine:
    unit_id: int
    name: str
    score: str
    light: Light
    coverage: str
    open: bool  # the top two levels start expanded
    children: list[CascadeLine] = field(default_factory=list)


def cascade_display(nodes: list[CascadeNode]) -> list[CascadeLine]:
    """The cascade tree's lines: each unit's scorecard score, light and data coverage."""

    def line(node: CascadeNode) -> CascadeLine:
        s = node.score
        score = getattr(s, "score", None)
        return CascadeLine(
            unit_id=node.unit.pk,
            name=node.unit.name,
            score=percent(score),
            light=light(getattr(s, "status", None)),
            coverage=f"{share_percent(s.coverage)} of the weight has data" if score is not None else "",
            open=node.unit.depth < 1,
            children=[line(child) for child in node.children],
        )

    return [line(node) for node in nodes]


@dataclass
class ContributionLine:
    kpi_id: int
    unit_name: str
    code: str
    name: str
    actual: str
    weight: str
    share: str  # the child's part of the roll-up's value, or "Sets the value" for min / max


def contribution_lines(kpi, contributions: list[Contribution]) -> list[ContributionLine]:
    """What drives a roll-up KPI's number: each aligned child's actual, weight and share of the result."""
    present = [c for c in contributions if c.actual is not None]
    method = kpi.rollup_method
    weighted = method == "weighted_average"
    total = sum((c.actual * (c.kpi.weight if weighted else 1) for c in present), Decimal(0))
    extreme = (min if method == "min" else max)((c.actual for c in present), default=None)

    def share(c: Contribution) -> str:
        """The child's part of the roll-up's value: a / Σa for a sum or an average, w·a / Σw·a for a
        weighted average; for min or max the child that sets the value."""
        if c.actual is None:
            return "No data"
        if method in ("min", "max"):
            return "Sets the value" if c.actual == extreme else ""
        if not total:
            return MISSING
        return rounded_percent(c.actual * (c.kpi.weight if weighted else 1) / total)

    return [
        ContributionLine(
            kpi_id=c.kpi.pk,
            unit_name=c.kpi.unit.name,
            code=c.kpi.code,
            name=c.kpi.name,
            actual=number(c.actual, c.kpi.decimals, c.kpi.measurement_unit),
            weight=f"{c.kpi.weight.normalize():f}",
            share=share(c),
        )
        for c in contributions
    ]


@dataclass
class Recomputing:
    """The "Recomputing…" badge of a page: shown while the outbox holds requests for its scores; it polls
    `url` every 2 s (kpis/includes/recomputing.html)."""

    pending: bool
    url: str


def recomputing_badge(*, organization, pending: bool, unit=None) -> Recomputing:
    from django.urls import reverse

    if unit is None:
        return Recomputing(pending, reverse("scores_recomputing", args=[organization.slug]))
    return Recomputing(pending, reverse("scores_recomputing_unit", args=[organization.slug, unit.pk]))
