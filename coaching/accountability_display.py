"""Display values for the accountability figures on the coaching page, prepared in one pass over the
selector's result: percentages with their counts, the month each figure is from, bar sparklines (inline SVG
on a fixed 0-100 % scale) and the data of the overall Chart.js chart. Templates only print these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from coaching.selectors import METRICS, Accountability, Figures, Share

NO_DATA = "no data"
BAR_WIDTH, BAR_GAP, SPARK_HEIGHT, SPARK_PAD = 8, 2, 28, 2

METRIC_LABELS = {
    "kpi_values": "KPI values on time",
    "action_items": "Action items done on time",
    "attendance": "Session attendance",
}
EMPTY_NOTES = {
    "kpi_values": "no values due",
    "action_items": "no items due",
    "attendance": "no attendance taken",
}
METRIC_NOUNS = {  # what `done of total` counts
    "kpi_values": ("values entered on time", "values due"),
    "action_items": ("done by the due date", "items due"),
    "attendance": ("attended", "invited"),
}


def percent_text(share: Share) -> str:
    value = share.value
    return NO_DATA if value is None else f"{value * 100:.0f}%"


def month_label(month: date) -> str:
    return f"{month:%b %Y}"


@dataclass
class Bar:
    x: int
    width: int
    y: float
    height: float
    css: str  # bar, bar-empty (no data), bar-open (deadline still ahead)
    title: str


@dataclass
class FigureCell:
    metric: str
    text: str  # '80%' or 'no data'
    note: str  # '4 of 5 values due · Oct 2026'
    has_value: bool
    bars: list[Bar]
    width: int
    height: int
    description: str


def share_title(metric: str, month: date, share: Share) -> str:
    done_noun, total_noun = METRIC_NOUNS[metric]
    if share.open_until is not None:
        return (
            f"{month_label(month)}: open until {share.open_until:%-d %b %Y}; "
            f"{share.done} of {share.total} {total_noun} entered so far"
        )
    if share.total == 0:
        return f"{month_label(month)}: no data"
    return f"{month_label(month)}: {percent_text(share)} ({share.done} of {share.total} {total_noun} {done_noun})"


def figure_cell(metric: str, shares: list[Share], months: list[date]) -> FigureCell:
    """The latest month with a figure, and the bars of every month."""
    bars = []
    inner = SPARK_HEIGHT - 2 * SPARK_PAD
    for i, (month, share) in enumerate(zip(months, shares, strict=True)):
        x = i * (BAR_WIDTH + BAR_GAP)
        value = share.value
        if share.open_until is not None:
            bars.append(Bar(x, BAR_WIDTH, SPARK_PAD, inner, "bar-open", share_title(metric, month, share)))
        elif value is None:
            bars.append(
                Bar(x, BAR_WIDTH, SPARK_HEIGHT - SPARK_PAD - 1, 1, "bar-empty", share_title(metric, month, share))
            )
        else:
            height = max(round(float(value) * inner, 1), 1.0)  # a thin line for 0 %, so it is not "no data"
            bars.append(
                Bar(
                    x,
                    BAR_WIDTH,
                    round(SPARK_HEIGHT - SPARK_PAD - height, 1),
                    height,
                    "bar",
                    share_title(metric, month, share),
                )
            )
    latest = next(
        ((m, s) for m, s in zip(reversed(months), reversed(shares), strict=True) if s.value is not None), None
    )
    known = sum(1 for s in shares if s.value is not None)
    if latest is None:
        text, note = NO_DATA, EMPTY_NOTES[metric]
        description = f"{METRIC_LABELS[metric]}: no data in the last {len(months)} months."
    else:
        month, share = latest
        text = percent_text(share)
        note = f"{share.done} of {share.total} · {month_label(month)}"
        description = (
            f"{METRIC_LABELS[metric]} by month, {month_label(months[0])} to {month_label(months[-1])}: "
            + "; ".join(share_title(metric, m, s) for m, s in zip(months, shares, strict=True) if s.total)
            + f". {known} of {len(months)} months with a figure."
        )
    width = len(months) * (BAR_WIDTH + BAR_GAP) - BAR_GAP
    return FigureCell(metric, text, note, latest is not None, bars, width, SPARK_HEIGHT, description)


@dataclass
class FigureRow:
    label: str
    depth: int
    cells: list[FigureCell]


def figure_row(label: str, figures: Figures, months: list[date], depth: int = 0) -> FigureRow:
    return FigureRow(label, depth, [figure_cell(metric, getattr(figures, metric), months) for metric in METRICS])


@dataclass
class MonthLine:
    label: str
    cells: list[tuple[str, str]]  # (percentage, 'n of m') per metric


@dataclass
class AccountabilityPage:
    months: list[str]
    first_month: str
    last_month: str
    data_entry_day: int
    time_zone: str
    overall: FigureRow
    month_lines: list[MonthLine]
    chart: dict
    units: list[FigureRow]
    people: list[FigureRow]
    has_data: bool


def _count(share: Share) -> str:
    if share.open_until is not None:
        return f"open until {share.open_until:%-d %b}; {share.done} of {share.total} so far"
    return f"{share.done} of {share.total}" if share.total else ""


def accountability_page(result: Accountability) -> AccountabilityPage:
    months = result.months
    labels = [month_label(m) for m in months]
    min_depth = min((row.subject.depth for row in result.units), default=0)
    overall = result.overall
    chart = {
        "labels": labels,
        "series": [
            {
                "label": METRIC_LABELS[metric],
                "values": [
                    None if s.value is None else round(float(s.value) * 100, 1) for s in getattr(overall, metric)
                ],
                "counts": [_count(s) for s in getattr(overall, metric)],
            }
            for metric in METRICS
        ],
    }
    month_lines = [
        MonthLine(
            label,
            [(percent_text(getattr(overall, metric)[i]), _count(getattr(overall, metric)[i])) for metric in METRICS],
        )
        for i, label in enumerate(labels)
    ]
    return AccountabilityPage(
        months=labels,
        first_month=labels[0],
        last_month=labels[-1],
        data_entry_day=result.data_entry_day,
        time_zone=result.time_zone,
        overall=figure_row("Total", overall, months),
        month_lines=month_lines,
        chart=chart,
        units=[
            figure_row(row.subject.name, row.figures, months, row.subject.depth - min_depth) for row in result.units
        ],
        people=[figure_row(row.subject.display_name, row.figures, months) for row in result.people],
        has_data=overall.has_data(),
    )
